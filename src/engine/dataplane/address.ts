/**
 * IP addresses and prefixes as bytes (4 for IPv4, 16 for IPv6). Text parsing and printing
 * are for configuration and show commands, not for the packet path.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface Prefix {
  readonly family: IpFamily;
  /** Address bytes with every bit past `length` cleared. */
  readonly bytes: Uint8Array;
  readonly length: number;
}

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses '10.0.0.1' or '2001:db8::1' into 4 or 16 bytes; undefined when not an address. */
export function parseAddress(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return undefined; // zone ids have no place in routes
  let head = text;
  let v4Tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    v4Tail = parseAddress(text.slice(lastColon + 1));
    if (!v4Tail || v4Tail.length !== 4) return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const out = new Uint8Array(16);
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const lw = left ? left.split(':') : [];
  const rw = right !== undefined && right !== '' ? right.split(':') : [];
  const words = right === undefined ? lw : [...lw, ...new Array<string>(8 - lw.length - rw.length).fill('0'), ...rw];
  if (words.length !== 8) return undefined;
  for (let i = 0; i < 8; i++) {
    const w = parseInt(words[i]!, 16);
    out[i * 2] = w >>> 8;
    out[i * 2 + 1] = w & 0xff;
  }
  if (v4Tail) out.set(v4Tail, 12);
  return out;
}

/** Prints 4 bytes dotted, 16 bytes as RFC 5952 text (longest zero run compressed). */
export function formatAddress(bytes: Uint8Array, offset = 0, length: number = bytes.length - offset): string {
  if (length === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  if (length !== 16) return `<${length}-byte address>`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Clears every bit of `bytes` past `length` (in place) and returns it. */
export function maskInPlace(bytes: Uint8Array, length: number): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = length - i * 8;
    if (bitsHere >= 8) continue;
    bytes[i] = bitsHere <= 0 ? 0 : bytes[i]! & (0xff << (8 - bitsHere));
  }
  return bytes;
}

/** Makes a prefix from address bytes and a length (host bits are cleared); undefined when invalid. */
export function makePrefix(address: Uint8Array, length: number): Prefix | undefined {
  if (address.length !== 4 && address.length !== 16) return undefined;
  const family: IpFamily = address.length === 4 ? 4 : 6;
  if (!Number.isInteger(length) || length < 0 || length > familyBits(family)) return undefined;
  return { family, length, bytes: maskInPlace(new Uint8Array(address), length) };
}

/** Parses '10.1.0.0/16' or '2001:db8::/32'; a bare address is a host prefix. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const lenText = slash < 0 ? String(addr.length * 8) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  return makePrefix(addr, Number(lenText));
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.bytes)}/${p.length}`;
}

/** Whether address bytes at buf[offset ..] (of the prefix's family) fall inside the prefix. */
export function prefixContains(p: Prefix, buf: Uint8Array, offset = 0): boolean {
  const full = p.length >>> 3;
  for (let i = 0; i < full; i++) if (buf[offset + i] !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = 0xff << (8 - rest);
  return (buf[offset + full]! & mask) === p.bytes[full];
}
