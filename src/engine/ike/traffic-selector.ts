/**
 * Traffic selectors (RFC 7296 section 3.13.1) and narrowing (section 2.9): a responder
 * answers with the intersection of what the initiator proposed and what its own policy
 * allows, or TS_UNACCEPTABLE when that intersection is empty.
 */
import ipaddr from 'ipaddr.js';
import { TsType } from './constants.js';
import type { TrafficSelector as WireTs } from './codec/types.js';

/** A traffic selector with textual addresses (the codec's TrafficSelector carries octets). */
export interface TrafficSelector {
  family: 4 | 6;
  /** IP protocol number, 0 = any. */
  ipProtocol: number;
  startPort: number;
  endPort: number;
  startAddress: string;
  endAddress: string;
}

export function tsToWire(ts: TrafficSelector): WireTs {
  return {
    tsType: ts.family === 4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE,
    ipProtocol: ts.ipProtocol,
    startPort: ts.startPort,
    endPort: ts.endPort,
    startAddress: Uint8Array.from(ipaddr.parse(ts.startAddress).toByteArray()),
    endAddress: Uint8Array.from(ipaddr.parse(ts.endAddress).toByteArray()),
  };
}

/** Undefined for selector types or address lengths meshgate does not handle. */
export function tsFromWire(w: WireTs): TrafficSelector | undefined {
  const family = w.tsType === TsType.TS_IPV4_ADDR_RANGE ? 4 : w.tsType === TsType.TS_IPV6_ADDR_RANGE ? 6 : undefined;
  const n = family === 4 ? 4 : 16;
  if (family === undefined || w.startAddress.length !== n || w.endAddress.length !== n) return undefined;
  const text = (b: Uint8Array) => {
    const a = ipaddr.fromByteArray([...b]);
    return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
  };
  return { family, ipProtocol: w.ipProtocol, startPort: w.startPort, endPort: w.endPort, startAddress: text(w.startAddress), endAddress: text(w.endAddress) };
}
import { IkeConfigError } from './errors.js';

function toBigInt(address: string): { family: 4 | 6; value: bigint } {
  const a = ipaddr.parse(address);
  let v = 0n;
  for (const b of a.toByteArray()) v = (v << 8n) | BigInt(b);
  return { family: a.kind() === 'ipv4' ? 4 : 6, value: v };
}

function fromBigInt(family: 4 | 6, value: bigint): string {
  const n = family === 4 ? 4 : 16;
  const bytes: number[] = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  const a = ipaddr.fromByteArray(bytes);
  return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
}

/** '10.1.0.0/16' (or a bare address) as a selector for all protocols and ports. */
export function tsFromCidr(cidr: string): TrafficSelector {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  let bits: number;
  try {
    if (cidr.includes('/')) [addr, bits] = ipaddr.parseCIDR(cidr);
    else {
      addr = ipaddr.parse(cidr);
      bits = addr.kind() === 'ipv4' ? 32 : 128;
    }
  } catch {
    throw new IkeConfigError('traffic selector', `'${cidr}' is not an address or a prefix`);
  }
  const family: 4 | 6 = addr.kind() === 'ipv4' ? 4 : 6;
  const width = BigInt(family === 4 ? 32 : 128);
  const { value } = toBigInt(addr.toString());
  const hostBits = width - BigInt(bits);
  const mask = (1n << hostBits) - 1n;
  const start = value & ~mask & ((1n << width) - 1n);
  return {
    family,
    ipProtocol: 0,
    startPort: 0,
    endPort: 65535,
    startAddress: fromBigInt(family, start),
    endAddress: fromBigInt(family, start | mask),
  };
}

/** The prefix text when the range is exactly one prefix, else 'a-b'; ports/proto appended when narrowed. */
export function tsToString(ts: TrafficSelector): string {
  const s = toBigInt(ts.startAddress).value;
  const e = toBigInt(ts.endAddress).value;
  const width = ts.family === 4 ? 32 : 128;
  let text = `${ts.startAddress}-${ts.endAddress}`;
  const size = e - s + 1n;
  if (size > 0n && (size & (size - 1n)) === 0n && (s & (size - 1n)) === 0n) {
    const hostBits = size.toString(2).length - 1;
    text = `${ts.startAddress}/${width - hostBits}`;
  }
  if (ts.ipProtocol !== 0) text += ` proto ${ts.ipProtocol}`;
  if (ts.startPort !== 0 || ts.endPort !== 65535) text += ` port ${ts.startPort}-${ts.endPort}`;
  return text;
}

/** The intersection of two selectors, or undefined when they do not overlap. */
export function intersectTs(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  if (a.family !== b.family) return undefined;
  if (a.ipProtocol !== 0 && b.ipProtocol !== 0 && a.ipProtocol !== b.ipProtocol) return undefined;
  const startPort = Math.max(a.startPort, b.startPort);
  const endPort = Math.min(a.endPort, b.endPort);
  if (startPort > endPort) return undefined;
  const as = toBigInt(a.startAddress).value;
  const ae = toBigInt(a.endAddress).value;
  const bs = toBigInt(b.startAddress).value;
  const be = toBigInt(b.endAddress).value;
  const s = as > bs ? as : bs;
  const e = ae < be ? ae : be;
  if (s > e) return undefined;
  return {
    family: a.family,
    ipProtocol: a.ipProtocol !== 0 ? a.ipProtocol : b.ipProtocol,
    startPort,
    endPort,
    startAddress: fromBigInt(a.family, s),
    endAddress: fromBigInt(a.family, e),
  };
}

/**
 * Narrowing (RFC 7296 section 2.9): every non-empty intersection of an offered selector
 * with an allowed one, duplicates removed. An empty result means TS_UNACCEPTABLE.
 */
export function narrowTs(offered: readonly TrafficSelector[], allowed: readonly TrafficSelector[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const o of offered) {
    for (const a of allowed) {
      const x = intersectTs(o, a);
      if (x && !out.some((y) => tsEquals(x, y))) out.push(x);
    }
  }
  return out;
}

export function tsEquals(a: TrafficSelector, b: TrafficSelector): boolean {
  return (
    a.family === b.family &&
    a.ipProtocol === b.ipProtocol &&
    a.startPort === b.startPort &&
    a.endPort === b.endPort &&
    toBigInt(a.startAddress).value === toBigInt(b.startAddress).value &&
    toBigInt(a.endAddress).value === toBigInt(b.endAddress).value
  );
}

/** True when every selector of `inner` lies within some selector of `outer`. */
export function tsSubset(inner: readonly TrafficSelector[], outer: readonly TrafficSelector[]): boolean {
  return inner.every((i) => outer.some((o) => {
    const x = intersectTs(i, o);
    return x !== undefined && tsEquals(x, i);
  }));
}
