/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) header parsing, TTL handling and ICMP/ICMPv6 message
 * generation for the forwarding path.
 *
 * Parsing fills a reusable {@link ParsedPacket} (no allocation per packet) and returns
 * 'ok' or a drop reason; it never throws on any input and never reads outside
 * buf[offset .. offset+length). Addresses are not copied: the parsed packet holds their
 * offsets in the buffer.
 *
 *  IPv4 header                              IPv6 header
 *  0       4       8              16      31  0   4       12      16      24      31
 *  |Ver|IHL|  TOS  |  Total Length  |         |Ver| TC |      Flow Label          |
 *  | Identification |Flg| Frag Off  |         | Payload Length| NextHdr | HopLimit |
 *  |  TTL  | Proto |  Hdr Checksum  |         |      Source Address (16)         |
 *  |        Source Address          |         |    Destination Address (16)      |
 *  |      Destination Address       |
 */
import { checksumAdjust, finishChecksum, internetChecksum, readU16, sumWords, writeU16, writeU32 } from './checksum.js';

// ---- Specification constants ---------------------------------------------------------

export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;
export const IPV6_HEADER_LENGTH = 40;
export const ICMP_HEADER_LENGTH = 8;
export const TCP_MIN_HEADER_LENGTH = 20;
export const UDP_HEADER_LENGTH = 8;
/** RFC 1812 4.3.2.3: an ICMP error datagram is at most 576 bytes. */
export const ICMPV4_ERROR_MAX_LENGTH = 576;
/** RFC 4443 2.4(c): an ICMPv6 error must not exceed the minimum IPv6 MTU. */
export const ICMPV6_ERROR_MAX_LENGTH = 1280;
export const IPV6_MIN_MTU = 1280;
export const IPV4_MIN_MTU = 68;

export const IPPROTO = {
  hopByHop: 0,
  icmp: 1,
  tcp: 6,
  udp: 17,
  routing: 43,
  fragment: 44,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  noNextHeader: 59,
  destinationOptions: 60,
  mobility: 135,
  hip: 139,
  shim6: 140,
} as const;

export const ICMPV4 = {
  echoReply: 0,
  destinationUnreachable: 3,
  sourceQuench: 4,
  redirect: 5,
  echoRequest: 8,
  timeExceeded: 11,
  parameterProblem: 12,
  /** Destination unreachable codes. */
  codeNetUnreachable: 0,
  codeHostUnreachable: 1,
  codeFragmentationNeeded: 4,
  codeAdminProhibited: 13,
} as const;

export const ICMPV6 = {
  destinationUnreachable: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  parameterProblem: 4,
  echoRequest: 128,
  echoReply: 129,
  /** Destination unreachable codes. */
  codeNoRoute: 0,
  codeAdminProhibited: 1,
  codeAddressUnreachable: 3,
} as const;

export const TCP_FLAG = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 } as const;

// ---- Implementation constants ---------------------------------------------------------

/** IPv6 extension headers walked at most before the packet is dropped. */
export const IPV6_MAX_EXTENSION_HEADERS = 8;
/** TTL / hop limit of packets the router originates. */
export const ORIGINATED_TTL = 64;

// ---- Parsing ---------------------------------------------------------------------------

export type ParseResult =
  | 'ok'
  | 'empty'
  | 'bad-version'
  | 'truncated-header'
  | 'bad-header-length'
  | 'bad-total-length'
  | 'bad-extension-header'
  | 'too-many-extension-headers';

/** The fields of one parsed packet. Reused across packets: copy what must be kept. */
export class ParsedPacket {
  /** 4 or 6; 0 before a successful parse. */
  version: 0 | 4 | 6 = 0;
  /** Where the IP header starts in the buffer. */
  offset = 0;
  /** IPv4: IHL * 4. IPv6: 40 plus the extension headers walked (i.e. l4Offset - offset). */
  headerLength = 0;
  /** Bytes of the packet per its header (<= the bytes given); trailing bytes are ignored. */
  totalLength = 0;
  /** IPv4 protocol, or the IPv6 upper-layer next header after the extension headers. */
  protocol = 0;
  /** TTL or hop limit. */
  ttl = 0;
  /** 4 or 16. */
  addressLength = 0;
  srcOffset = 0;
  dstOffset = 0;
  /** Absolute offset of the transport header and its length up to totalLength. */
  l4Offset = 0;
  l4Length = 0;
  /** A fragment other than the first: no transport header here. */
  isLaterFragment = false;
  /** Any fragment (IPv4 MF or offset, IPv6 fragment header). */
  isFragment = false;
  /** IPv4 DF bit (IPv6: always true, routers never fragment). */
  dontFragment = false;
  /** True when a complete TCP/UDP header or ICMP header was found and the fields below are set. */
  hasL4 = false;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  /** ICMP/ICMPv6 type and code (-1 when not ICMP). */
  icmpType = -1;
  icmpCode = -1;
  /** Echo identifier for echo request/reply (else 0). */
  icmpId = 0;

  reset(): void {
    this.version = 0;
    this.offset = this.headerLength = this.totalLength = this.protocol = this.ttl = 0;
    this.addressLength = this.srcOffset = this.dstOffset = this.l4Offset = this.l4Length = 0;
    this.isLaterFragment = this.isFragment = this.dontFragment = this.hasL4 = false;
    this.srcPort = this.dstPort = this.tcpFlags = this.icmpId = 0;
    this.icmpType = this.icmpCode = -1;
  }
}

/**
 * Parses the IP packet in buf[offset .. offset+length) into `out`. Returns 'ok' or the
 * reason to drop it. Never throws, never reads outside the given range.
 */
export function parsePacket(buf: Uint8Array, offset: number, length: number, out: ParsedPacket): ParseResult {
  out.reset();
  if (offset < 0 || length <= 0 || offset + length > buf.length) return 'empty';
  const version = buf[offset]! >>> 4;
  if (version === 4) return parseIpv4(buf, offset, length, out);
  if (version === 6) return parseIpv6(buf, offset, length, out);
  return 'bad-version';
}

function parseIpv4(buf: Uint8Array, off: number, length: number, out: ParsedPacket): ParseResult {
  if (length < IPV4_MIN_HEADER_LENGTH) return 'truncated-header';
  const ihl = (buf[off]! & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER_LENGTH) return 'bad-header-length';
  if (ihl > length) return 'truncated-header';
  const total = readU16(buf, off + 2);
  if (total < ihl || total > length) return 'bad-total-length';
  const flagsFrag = readU16(buf, off + 6);
  const fragOffset = flagsFrag & 0x1fff;
  const moreFragments = (flagsFrag & 0x2000) !== 0;
  out.version = 4;
  out.offset = off;
  out.headerLength = ihl;
  out.totalLength = total;
  out.ttl = buf[off + 8]!;
  out.protocol = buf[off + 9]!;
  out.addressLength = 4;
  out.srcOffset = off + 12;
  out.dstOffset = off + 16;
  out.l4Offset = off + ihl;
  out.l4Length = total - ihl;
  out.dontFragment = (flagsFrag & 0x4000) !== 0;
  out.isFragment = moreFragments || fragOffset !== 0;
  out.isLaterFragment = fragOffset !== 0;
  if (!out.isLaterFragment) parseTransport(buf, out);
  return 'ok';
}

function parseIpv6(buf: Uint8Array, off: number, length: number, out: ParsedPacket): ParseResult {
  if (length < IPV6_HEADER_LENGTH) return 'truncated-header';
  const payload = readU16(buf, off + 4);
  const total = IPV6_HEADER_LENGTH + payload;
  // A jumbogram (payload length 0 with a hop-by-hop option) is not supported: treated as too short.
  if (total > length) return 'bad-total-length';
  let next = buf[off + 6]!;
  let pos = off + IPV6_HEADER_LENGTH;
  const end = off + total;
  let later = false;
  let fragment = false;
  let walked = 0;
  for (;;) {
    if (
      next !== IPPROTO.hopByHop &&
      next !== IPPROTO.routing &&
      next !== IPPROTO.fragment &&
      next !== IPPROTO.destinationOptions &&
      next !== IPPROTO.ah &&
      next !== IPPROTO.mobility &&
      next !== IPPROTO.hip &&
      next !== IPPROTO.shim6
    )
      break;
    if (++walked > IPV6_MAX_EXTENSION_HEADERS) return 'too-many-extension-headers';
    if (next === IPPROTO.hopByHop && walked !== 1) return 'bad-extension-header';
    if (pos + 8 > end) return 'bad-extension-header';
    let len: number;
    if (next === IPPROTO.fragment) {
      len = 8;
      fragment = true;
      const fo = readU16(buf, pos + 2) >>> 3;
      if (fo !== 0) later = true;
    } else if (next === IPPROTO.ah) {
      len = (buf[pos + 1]! + 2) * 4; // RFC 4302: payload length in 4-byte units minus 2
    } else {
      len = (buf[pos + 1]! + 1) * 8;
    }
    if (pos + len > end) return 'bad-extension-header';
    next = buf[pos]!;
    pos += len;
    if (later) break; // what follows a non-first fragment's header is not a transport header
  }
  out.version = 6;
  out.offset = off;
  out.headerLength = pos - off;
  out.totalLength = total;
  out.ttl = buf[off + 7]!;
  out.protocol = next;
  out.addressLength = 16;
  out.srcOffset = off + 8;
  out.dstOffset = off + 24;
  out.l4Offset = pos;
  out.l4Length = end - pos;
  out.dontFragment = true;
  out.isFragment = fragment;
  out.isLaterFragment = later;
  if (!later) parseTransport(buf, out);
  return 'ok';
}

function parseTransport(buf: Uint8Array, out: ParsedPacket): void {
  const p = out.l4Offset;
  const n = out.l4Length;
  const proto = out.protocol;
  if (proto === IPPROTO.tcp) {
    if (n < TCP_MIN_HEADER_LENGTH) return;
    const dataOffset = (buf[p + 12]! >>> 4) * 4;
    if (dataOffset < TCP_MIN_HEADER_LENGTH || dataOffset > n) return;
    out.srcPort = readU16(buf, p);
    out.dstPort = readU16(buf, p + 2);
    out.tcpFlags = buf[p + 13]!;
    out.hasL4 = true;
  } else if (proto === IPPROTO.udp) {
    if (n < UDP_HEADER_LENGTH) return;
    out.srcPort = readU16(buf, p);
    out.dstPort = readU16(buf, p + 2);
    out.hasL4 = true;
  } else if ((proto === IPPROTO.icmp && out.version === 4) || (proto === IPPROTO.icmpv6 && out.version === 6)) {
    if (n < ICMP_HEADER_LENGTH) return;
    const type = buf[p]!;
    out.icmpType = type;
    out.icmpCode = buf[p + 1]!;
    if (isEchoType(out.version, type)) out.icmpId = readU16(buf, p + 4);
    out.hasL4 = true;
  }
}

function isEchoType(version: 4 | 6, type: number): boolean {
  return version === 4
    ? type === ICMPV4.echoRequest || type === ICMPV4.echoReply
    : type === ICMPV6.echoRequest || type === ICMPV6.echoReply;
}

/** Convenience for slow paths and tests: a fresh ParsedPacket, or undefined when malformed. */
export function parseIp(packet: Uint8Array): ParsedPacket | undefined {
  const p = new ParsedPacket();
  return parsePacket(packet, 0, packet.length, p) === 'ok' ? p : undefined;
}

// ---- Checksums -------------------------------------------------------------------------

/** Computes the IPv4 header checksum (with the checksum field taken as zero). */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number, headerLength: number): number {
  const stored = readU16(buf, off + 10);
  // sum of the header minus the stored checksum word = header with the field zeroed
  let sum = sumWords(buf, off, headerLength) - stored;
  if (sum < 0) sum += 0xffff;
  return finishChecksum(sum);
}

/** True when the stored IPv4 header checksum is correct. */
export function verifyIpv4HeaderChecksum(buf: Uint8Array, off: number, headerLength: number): boolean {
  return internetChecksum(buf, off, headerLength) === 0;
}

/** Writes a fresh IPv4 header checksum. */
export function writeIpv4HeaderChecksum(buf: Uint8Array, off: number, headerLength: number): void {
  writeU16(buf, off + 10, 0);
  writeU16(buf, off + 10, internetChecksum(buf, off, headerLength));
}

/** The unfolded sum of the IPv4/IPv6 pseudo-header for an upper-layer checksum. */
export function pseudoHeaderSum(p: ParsedPacket, buf: Uint8Array, upperLength: number, protocol = p.protocol): number {
  let sum = sumWords(buf, p.srcOffset, p.addressLength);
  sum = sumWords(buf, p.dstOffset, p.addressLength, sum);
  // IPv4: zero, protocol, TCP/UDP length (16). IPv6: length (32), zero (24), next header.
  sum += protocol + (upperLength & 0xffff) + Math.floor(upperLength / 0x10000);
  return sum;
}

/**
 * Computes the transport checksum (TCP, UDP, ICMPv6 with pseudo-header; ICMPv4 without)
 * of the parsed packet, taking its checksum field as zero. Undefined for other protocols.
 */
export function transportChecksum(buf: Uint8Array, p: ParsedPacket): number | undefined {
  const field = checksumFieldOffset(p);
  if (field < 0 || field + 2 > p.l4Offset + p.l4Length) return undefined;
  const stored = readU16(buf, field);
  const initial = p.protocol === IPPROTO.icmp ? 0 : pseudoHeaderSum(p, buf, p.l4Length);
  let sum = sumWords(buf, p.l4Offset, p.l4Length, initial) - stored;
  if (sum < 0) sum += 0xffff;
  const c = finishChecksum(sum);
  // UDP transmits a computed zero as all ones (RFC 768).
  return p.protocol === IPPROTO.udp && c === 0 ? 0xffff : c;
}

/** Absolute offset of the transport checksum field, or -1. */
export function checksumFieldOffset(p: ParsedPacket): number {
  if (p.isLaterFragment) return -1;
  switch (p.protocol) {
    case IPPROTO.tcp:
      return p.l4Offset + 16;
    case IPPROTO.udp:
      return p.l4Offset + 6;
    case IPPROTO.icmp:
      return p.version === 4 ? p.l4Offset + 2 : -1;
    case IPPROTO.icmpv6:
      return p.version === 6 ? p.l4Offset + 2 : -1;
    default:
      return -1;
  }
}

// ---- TTL -------------------------------------------------------------------------------

/**
 * Decrements the TTL / hop limit of a forwarded packet in place; the IPv4 header checksum
 * is updated incrementally (RFC 1624). Returns false (and changes nothing) when the packet
 * must not be forwarded because its TTL is 1 or 0: the caller sends time exceeded.
 */
export function decrementTtl(buf: Uint8Array, p: ParsedPacket): boolean {
  if (p.ttl <= 1) return false;
  const off = p.offset;
  if (p.version === 4) {
    const oldWord = readU16(buf, off + 8); // TTL | protocol
    buf[off + 8] = p.ttl - 1;
    const newWord = readU16(buf, off + 8);
    writeU16(buf, off + 10, checksumAdjust(readU16(buf, off + 10), oldWord, newWord));
  } else {
    buf[off + 7] = p.ttl - 1;
  }
  p.ttl--;
  return true;
}

// ---- Building packets ------------------------------------------------------------------

let ipv4Id = 1;

/** Writes a 20-byte IPv4 header at buf[off] (checksum included). */
export function writeIpv4Header(
  buf: Uint8Array,
  off: number,
  totalLength: number,
  protocol: number,
  src: Uint8Array,
  dst: Uint8Array,
  ttl = ORIGINATED_TTL,
  dontFragment = false,
): void {
  buf[off] = 0x45;
  buf[off + 1] = 0;
  writeU16(buf, off + 2, totalLength);
  writeU16(buf, off + 4, ipv4Id);
  ipv4Id = (ipv4Id + 1) & 0xffff;
  writeU16(buf, off + 6, dontFragment ? 0x4000 : 0);
  buf[off + 8] = ttl;
  buf[off + 9] = protocol;
  buf.set(src.subarray(0, 4), off + 12);
  buf.set(dst.subarray(0, 4), off + 16);
  writeIpv4HeaderChecksum(buf, off, IPV4_MIN_HEADER_LENGTH);
}

/** Writes a 40-byte IPv6 header at buf[off]. */
export function writeIpv6Header(
  buf: Uint8Array,
  off: number,
  payloadLength: number,
  nextHeader: number,
  src: Uint8Array,
  dst: Uint8Array,
  hopLimit = ORIGINATED_TTL,
): void {
  writeU32(buf, off, 0x60000000);
  writeU16(buf, off + 4, payloadLength);
  buf[off + 6] = nextHeader;
  buf[off + 7] = hopLimit;
  buf.set(src.subarray(0, 16), off + 8);
  buf.set(dst.subarray(0, 16), off + 24);
}

/**
 * Builds an ICMP (IPv4) or ICMPv6 (IPv6) message: IP header, 4 bytes type/code/checksum,
 * the 4-byte `rest` word, then `body`. Checksums are computed.
 */
export function buildIcmp(
  src: Uint8Array,
  dst: Uint8Array,
  type: number,
  code: number,
  rest: number,
  body: Uint8Array,
  ttl = ORIGINATED_TTL,
): Uint8Array {
  const v6 = src.length === 16;
  const ipLen = v6 ? IPV6_HEADER_LENGTH : IPV4_MIN_HEADER_LENGTH;
  const icmpLen = ICMP_HEADER_LENGTH + body.length;
  const out = new Uint8Array(ipLen + icmpLen);
  if (v6) writeIpv6Header(out, 0, icmpLen, IPPROTO.icmpv6, src, dst, ttl);
  else writeIpv4Header(out, 0, ipLen + icmpLen, IPPROTO.icmp, src, dst, ttl);
  out[ipLen] = type;
  out[ipLen + 1] = code;
  writeU32(out, ipLen + 4, rest >>> 0);
  out.set(body, ipLen + ICMP_HEADER_LENGTH);
  let initial = 0;
  if (v6) {
    initial = sumWords(out, 8, 32) + IPPROTO.icmpv6 + (icmpLen & 0xffff) + Math.floor(icmpLen / 0x10000);
  }
  writeU16(out, ipLen + 2, internetChecksum(out, ipLen, icmpLen, initial));
  return out;
}

export interface EchoOptions {
  src: Uint8Array;
  dst: Uint8Array;
  id: number;
  seq: number;
  /** Echo data; default: `size` bytes of a counting pattern (default size 56, as ping). */
  data?: Uint8Array;
  size?: number;
  ttl?: number;
}

/** An ICMP / ICMPv6 echo request (family from the address length). */
export function buildEchoRequest(o: EchoOptions): Uint8Array {
  const data = o.data ?? patternData(o.size ?? 56);
  const type = o.src.length === 16 ? ICMPV6.echoRequest : ICMPV4.echoRequest;
  return buildIcmp(o.src, o.dst, type, 0, (((o.id & 0xffff) << 16) | (o.seq & 0xffff)) >>> 0, data, o.ttl);
}

function patternData(size: number): Uint8Array {
  const d = new Uint8Array(Math.max(0, size));
  for (let i = 0; i < d.length; i++) d[i] = i & 0xff;
  return d;
}

/**
 * Turns a parsed echo request in place into its echo reply: swaps source and destination,
 * sets the reply type, resets TTL, updates the checksums incrementally. Returns false (and
 * leaves the packet alone) when it is not a well-formed echo request.
 */
export function echoReplyInPlace(buf: Uint8Array, p: ParsedPacket): boolean {
  if (!p.hasL4 || p.isFragment) return false;
  const v6 = p.version === 6;
  if (p.icmpType !== (v6 ? ICMPV6.echoRequest : ICMPV4.echoRequest)) return false;
  const n = p.addressLength;
  for (let i = 0; i < n; i++) {
    const t = buf[p.srcOffset + i]!;
    buf[p.srcOffset + i] = buf[p.dstOffset + i]!;
    buf[p.dstOffset + i] = t;
  }
  // Swapping the addresses leaves both the IPv4 header sum and the ICMPv6 pseudo-header sum unchanged.
  const typeWordOld = readU16(buf, p.l4Offset);
  buf[p.l4Offset] = v6 ? ICMPV6.echoReply : ICMPV4.echoReply;
  const typeWordNew = readU16(buf, p.l4Offset);
  writeU16(buf, p.l4Offset + 2, checksumAdjust(readU16(buf, p.l4Offset + 2), typeWordOld, typeWordNew));
  p.icmpType = buf[p.l4Offset]!;
  if (v6) buf[p.offset + 7] = ORIGINATED_TTL;
  else {
    const oldWord = readU16(buf, p.offset + 8);
    buf[p.offset + 8] = ORIGINATED_TTL;
    writeU16(buf, p.offset + 10, checksumAdjust(readU16(buf, p.offset + 10), oldWord, readU16(buf, p.offset + 8)));
  }
  p.ttl = ORIGINATED_TTL;
  return true;
}

/** A fresh echo reply to a parsed echo request (the request is left untouched). */
export function buildEchoReply(buf: Uint8Array, p: ParsedPacket): Uint8Array | undefined {
  const copy = buf.slice(p.offset, p.offset + p.totalLength);
  const q = new ParsedPacket();
  if (parsePacket(copy, 0, copy.length, q) !== 'ok') return undefined;
  return echoReplyInPlace(copy, q) ? copy : undefined;
}

export type IcmpErrorKind =
  /** No route to the destination network. */
  | 'net-unreachable'
  /** The route exists but the host does not answer / address unreachable. */
  | 'host-unreachable'
  /** A filter or policy forbids it (route of kind reject). */
  | 'admin-prohibited'
  /** IPv4 DF packet larger than the next-hop MTU (type 3 code 4) / ICMPv6 packet too big. */
  | 'packet-too-big'
  /** TTL / hop limit exceeded in transit. */
  | 'time-exceeded';

/**
 * Builds the ICMP error that answers the offending packet `p` in `buf`, sent from the
 * router's address `from` (same family) back to the packet's source. `mtu` is the next-hop
 * MTU for 'packet-too-big'.
 *
 * Returns undefined where the RFCs forbid an error (RFC 1812 4.3.2.7, RFC 4443 2.4(e)):
 * the offending packet is itself an ICMP error, a non-first fragment, sourced from an
 * unspecified, loopback, multicast or broadcast address, or sent to a multicast (IPv4:
 * also limited broadcast) address (IPv6 allows packet-too-big to multicast). Rate limiting
 * is the caller's job.
 */
export function buildIcmpError(
  buf: Uint8Array,
  p: ParsedPacket,
  kind: IcmpErrorKind,
  from: Uint8Array,
  mtu = 0,
): Uint8Array | undefined {
  const v6 = p.version === 6;
  if (p.version === 0 || from.length !== p.addressLength) return undefined;
  if (p.isLaterFragment) return undefined;
  if (p.hasL4 && p.icmpType >= 0 && isIcmpError(p.version, p.icmpType)) return undefined;
  if (p.protocol === (v6 ? IPPROTO.icmpv6 : IPPROTO.icmp) && !p.hasL4) return undefined; // cannot tell: be safe
  if (!isValidErrorSource(buf, p.srcOffset, p.addressLength)) return undefined;
  const dstMulticast = v6 ? buf[p.dstOffset] === 0xff : isIpv4MulticastOrBroadcast(buf, p.dstOffset);
  if (dstMulticast && !(v6 && kind === 'packet-too-big')) return undefined;

  const maxLen = v6 ? ICMPV6_ERROR_MAX_LENGTH : ICMPV4_ERROR_MAX_LENGTH;
  const ipLen = v6 ? IPV6_HEADER_LENGTH : IPV4_MIN_HEADER_LENGTH;
  const quoteLen = Math.min(p.totalLength, maxLen - ipLen - ICMP_HEADER_LENGTH);
  const quote = buf.subarray(p.offset, p.offset + quoteLen);
  const src = from;
  const dst = buf.subarray(p.srcOffset, p.srcOffset + p.addressLength);
  let type: number;
  let code = 0;
  let rest = 0;
  switch (kind) {
    case 'net-unreachable':
      type = v6 ? ICMPV6.destinationUnreachable : ICMPV4.destinationUnreachable;
      code = v6 ? ICMPV6.codeNoRoute : ICMPV4.codeNetUnreachable;
      break;
    case 'host-unreachable':
      type = v6 ? ICMPV6.destinationUnreachable : ICMPV4.destinationUnreachable;
      code = v6 ? ICMPV6.codeAddressUnreachable : ICMPV4.codeHostUnreachable;
      break;
    case 'admin-prohibited':
      type = v6 ? ICMPV6.destinationUnreachable : ICMPV4.destinationUnreachable;
      code = v6 ? ICMPV6.codeAdminProhibited : ICMPV4.codeAdminProhibited;
      break;
    case 'packet-too-big':
      if (v6) {
        type = ICMPV6.packetTooBig;
        rest = Math.max(mtu, IPV6_MIN_MTU);
      } else {
        type = ICMPV4.destinationUnreachable;
        code = ICMPV4.codeFragmentationNeeded;
        rest = Math.max(Math.min(mtu, 0xffff), IPV4_MIN_MTU); // RFC 1191: next-hop MTU in the low 16 bits
      }
      break;
    case 'time-exceeded':
      type = v6 ? ICMPV6.timeExceeded : ICMPV4.timeExceeded;
      break;
  }
  return buildIcmp(src, dst, type, code, rest, quote);
}

function isIcmpError(version: 4 | 6, type: number): boolean {
  if (version === 6) return type < 128;
  return (
    type === ICMPV4.destinationUnreachable ||
    type === ICMPV4.sourceQuench ||
    type === ICMPV4.redirect ||
    type === ICMPV4.timeExceeded ||
    type === ICMPV4.parameterProblem
  );
}

function isIpv4MulticastOrBroadcast(buf: Uint8Array, off: number): boolean {
  const a = buf[off]!;
  if (a >= 224) return true; // 224/4 multicast, 240/4 reserved and 255.255.255.255
  return false;
}

function isValidErrorSource(buf: Uint8Array, off: number, len: number): boolean {
  if (len === 4) {
    const a = buf[off]!;
    if (a === 0 || a === 127 || a >= 224) return false;
    return true;
  }
  if (buf[off] === 0xff) return false; // multicast
  let zeroPrefix = true;
  for (let i = 0; i < 15; i++)
    if (buf[off + i] !== 0) {
      zeroPrefix = false;
      break;
    }
  if (zeroPrefix && (buf[off + 15] === 0 || buf[off + 15] === 1)) return false; // :: and ::1
  return true;
}

/** True when the parsed packet is an ICMP/ICMPv6 echo request. */
export function isEchoRequest(p: ParsedPacket): boolean {
  return p.hasL4 && p.icmpType === (p.version === 6 ? ICMPV6.echoRequest : ICMPV4.echoRequest);
}
