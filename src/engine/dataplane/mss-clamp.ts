/**
 * TCP MSS clamping: lowers the MSS option (RFC 9293 3.7.1, kind 2 length 4) of SYN
 * segments so that full-sized segments fit the tunnel, and updates the TCP checksum
 * incrementally (RFC 1624). Only SYN segments are touched; the option walk stays inside
 * the TCP header and stops at any malformed option.
 */
import { checksumAdjust, readU16, writeU16 } from './checksum.js';
import { IPPROTO, IPV4_MIN_HEADER_LENGTH, IPV6_HEADER_LENGTH, TCP_FLAG, TCP_MIN_HEADER_LENGTH, type ParsedPacket } from './ip-packet.js';

const TCPOPT_END = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_MSS_LENGTH = 4;

export type MssClampResult = 'clamped' | 'unchanged' | 'not-syn' | 'no-mss-option' | 'malformed-options';

/** The MSS that makes a TCP segment fit `mtu` for the given IP version (no IP/TCP options assumed). */
export function mssForMtu(mtu: number, version: 4 | 6): number {
  return mtu - (version === 6 ? IPV6_HEADER_LENGTH : IPV4_MIN_HEADER_LENGTH) - TCP_MIN_HEADER_LENGTH;
}

/**
 * Lowers the MSS option of a TCP SYN (or SYN-ACK) in `buf` to at most `maxMss`.
 * A SYN without an MSS option is left alone (adding one would change the length).
 */
export function clampMss(buf: Uint8Array, p: ParsedPacket, maxMss: number): MssClampResult {
  if (p.protocol !== IPPROTO.tcp || !p.hasL4 || (p.tcpFlags & TCP_FLAG.syn) === 0) return 'not-syn';
  const tcp = p.l4Offset;
  const headerLen = (buf[tcp + 12]! >>> 4) * 4;
  const end = tcp + headerLen;
  let i = tcp + TCP_MIN_HEADER_LENGTH;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_END) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 'malformed-options';
    const len = buf[i + 1]!;
    if (len < 2 || i + len > end) return 'malformed-options';
    if (kind === TCPOPT_MSS) {
      if (len !== TCPOPT_MSS_LENGTH) return 'malformed-options';
      const old = readU16(buf, i + 2);
      if (old <= maxMss) return 'unchanged';
      writeU16(buf, i + 2, maxMss);
      // The option may start at an odd offset from the TCP header; the one's-complement sum
      // is byte-order independent, so an odd-aligned word enters it byte-swapped.
      const odd = ((i + 2 - tcp) & 1) === 1;
      const sw = (v: number): number => ((v & 0xff) << 8) | (v >>> 8);
      const field = tcp + 16;
      writeU16(buf, field, checksumAdjust(readU16(buf, field), odd ? sw(old) : old, odd ? sw(maxMss) : maxMss));
      return 'clamped';
    }
    i += len;
  }
  return 'no-mss-option';
}
