/**
 * Packet builders for the data plane tests. They compute checksums with their own naive
 * implementation (byte pairs summed, folded with a loop) so that the module under test is
 * checked against something it does not share code with.
 */

export function naiveChecksum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function v4(text: string): number[] {
  return text.split('.').map(Number);
}

/** Expands an IPv6 text address with at most one '::' (tests only use simple forms). */
export function v6(text: string): number[] {
  const [l, r] = text.split('::') as [string, string | undefined];
  const lw = l ? l.split(':') : [];
  const rw = r ? r.split(':') : [];
  const words = r === undefined ? lw : [...lw, ...Array(8 - lw.length - rw.length).fill('0'), ...rw];
  return words.flatMap((w) => [parseInt(w, 16) >> 8, parseInt(w, 16) & 0xff]);
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export interface IpOpts {
  src: number[];
  dst: number[];
  ttl?: number;
  /** IPv4 flags+fragment offset word. */
  fragWord?: number;
  /** IPv6 extension headers: [nextHeaderTypeOfThisExt, bodyBytes] where body excludes nh/len. */
  ext6?: { type: number; body: number[] }[];
}

/** IPv4 or IPv6 packet around an upper-layer payload whose checksum (if any) is filled by `fill`. */
export function ipPacket(o: IpOpts, protocol: number, l4: number[], fill?: (l4: number[], pseudo: number[]) => void): Uint8Array {
  if (o.src.length === 4) {
    const pseudo = [...o.src, ...o.dst, 0, protocol, ...u16(l4.length)];
    fill?.(l4, pseudo);
    const total = 20 + l4.length;
    const h = [0x45, 0, ...u16(total), 0x12, 0x34, ...u16(o.fragWord ?? 0x4000), o.ttl ?? 64, protocol, 0, 0, ...o.src, ...o.dst];
    const c = naiveChecksum(h);
    h[10] = c >> 8;
    h[11] = c & 0xff;
    return Uint8Array.from([...h, ...l4]);
  }
  const pseudo = [...o.src, ...o.dst, ...u32(l4.length), 0, 0, 0, protocol];
  fill?.(l4, pseudo);
  const exts = o.ext6 ?? [];
  const extBytes: number[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : protocol;
    const e = exts[i]!;
    if (e.type === 44) extBytes.push(next, 0, ...e.body);
    else if (e.type === 51) extBytes.push(next, (e.body.length + 2) / 4 - 2, ...e.body);
    else extBytes.push(next, (e.body.length + 2) / 8 - 1, ...e.body);
  }
  const first = exts.length > 0 ? exts[0]!.type : protocol;
  const h = [0x60, 0, 0, 0, ...u16(extBytes.length + l4.length), first, o.ttl ?? 64, ...o.src, ...o.dst];
  return Uint8Array.from([...h, ...extBytes, ...l4]);
}

function fillAt(offset: number) {
  return (l4: number[], pseudo: number[]) => {
    l4[offset] = 0;
    l4[offset + 1] = 0;
    const c = naiveChecksum([...pseudo, ...l4]);
    l4[offset] = c >> 8;
    l4[offset + 1] = c & 0xff;
  };
}

export function udpPacket(o: IpOpts, sport: number, dport: number, payload: number[] = [1, 2, 3]): Uint8Array {
  const l4 = [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
  return ipPacket(o, 17, l4, fillAt(6));
}

export function tcpPacket(o: IpOpts, sport: number, dport: number, flags: number, options: number[] = [], payload: number[] = []): Uint8Array {
  const pad = (4 - (options.length % 4)) % 4;
  const opts = [...options, ...Array(pad).fill(0)];
  const doff = (20 + opts.length) / 4;
  const l4 = [...u16(sport), ...u16(dport), ...u32(1000), ...u32(0), doff << 4, flags, ...u16(65535), 0, 0, 0, 0, ...opts, ...payload];
  return ipPacket(o, 6, l4, fillAt(16));
}

export function icmpEcho(o: IpOpts, type: number, id: number, seq: number, data: number[] = [9, 8, 7, 6]): Uint8Array {
  const l4 = [type, 0, 0, 0, ...u16(id), ...u16(seq), ...data];
  const v6 = o.src.length === 16;
  return ipPacket(o, v6 ? 58 : 1, l4, (b, pseudo) => {
    const c = naiveChecksum(v6 ? [...pseudo, ...b] : b);
    b[2] = c >> 8;
    b[3] = c & 0xff;
  });
}

/** True when the upper-layer checksum of the packet verifies with the naive implementation. */
export function l4ChecksumOk(pkt: Uint8Array, l4Offset: number, protocol: number): boolean {
  const b = [...pkt];
  const l4 = b.slice(l4Offset);
  if (pkt[0]! >> 4 === 4) {
    if (protocol === 1) return naiveChecksum(l4) === 0;
    return naiveChecksum([...b.slice(12, 20), 0, protocol, ...u16(l4.length), ...l4]) === 0;
  }
  return naiveChecksum([...b.slice(8, 40), ...u32(l4.length), 0, 0, 0, protocol, ...l4]) === 0;
}

export function ipv4HeaderOk(pkt: Uint8Array): boolean {
  return naiveChecksum([...pkt.subarray(0, (pkt[0]! & 15) * 4)]) === 0;
}
