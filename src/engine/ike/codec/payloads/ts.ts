/**
 * Traffic Selector payloads TSi/TSr (RFC 7296 section 3.13).
 *
 * Payload:   | Number of TSs (1) | RESERVED (3) | <Traffic Selectors> ~
 * Selector (section 3.13.1):
 *  |   TS Type     |IP Protocol ID*|       Selector Length         |
 *  |           Start Port*         |           End Port*           |
 *  ~                         Starting Address*                     ~
 *  ~                         Ending Address*                       ~
 *
 * Port and address order is not checked here (ICMP type/code and the OPAQUE port range
 * 65535-0 are legal); narrowing is the negotiator's business.
 */
import { PayloadType, TsType } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type { DecodeFailureReason, TrafficSelector, TsPayload } from '../types.js';
import { checkBodyLength, checkU16, checkU8, concat, copy, byteView } from './bytes.js';

export const TS_FIXED_LENGTH = 4;
export const TS_SELECTOR_HEADER_LENGTH = 8;
/** Selector Length of each type: 8 + 2 * address length. */
export const TS_IPV4_SELECTOR_LENGTH = 16;
export const TS_IPV6_SELECTOR_LENGTH = 40;

/** The address length of a TS type, or undefined for types meshgate does not know. */
export function tsAddressLength(tsType: number): number | undefined {
  if (tsType === TsType.TS_IPV4_ADDR_RANGE) return 4;
  if (tsType === TsType.TS_IPV6_ADDR_RANGE) return 16;
  return undefined;
}

export function decodeTs(type: typeof PayloadType.TSi | typeof PayloadType.TSr, body: Uint8Array): TsPayload | DecodeFailureReason {
  if (body.length < TS_FIXED_LENGTH) return 'ts-malformed';
  const dv = byteView(body);
  const count = dv.getUint8(0);
  if (count === 0) return 'ts-malformed';
  const selectors: TrafficSelector[] = [];
  let off = TS_FIXED_LENGTH;
  for (let i = 0; i < count; i++) {
    if (off + TS_SELECTOR_HEADER_LENGTH > body.length) return 'ts-malformed';
    const tsType = dv.getUint8(off);
    const addressLength = tsAddressLength(tsType);
    const length = dv.getUint16(off + 2);
    if (addressLength === undefined || length !== TS_SELECTOR_HEADER_LENGTH + 2 * addressLength) return 'ts-malformed';
    if (off + length > body.length) return 'ts-malformed';
    const a = off + TS_SELECTOR_HEADER_LENGTH;
    selectors.push({
      tsType,
      ipProtocol: dv.getUint8(off + 1),
      startPort: dv.getUint16(off + 4),
      endPort: dv.getUint16(off + 6),
      startAddress: copy(body.subarray(a, a + addressLength)),
      endAddress: copy(body.subarray(a + addressLength, a + 2 * addressLength)),
    });
    off += length;
  }
  if (off !== body.length) return 'ts-malformed';
  return { type, selectors };
}

export function encodeTs(p: TsPayload): Uint8Array {
  const T = p.type;
  if (p.selectors.length === 0 || p.selectors.length > 0xff) throw new IkeEncodeError(`${p.selectors.length} traffic selectors`, T);
  const parts: Uint8Array[] = [Uint8Array.of(p.selectors.length, 0, 0, 0)];
  for (const s of p.selectors) {
    const addressLength = tsAddressLength(s.tsType);
    if (addressLength === undefined) throw new IkeEncodeError(`TS type ${s.tsType}`, T);
    if (s.startAddress.length !== addressLength || s.endAddress.length !== addressLength) {
      throw new IkeEncodeError(`TS type ${s.tsType} with addresses of ${s.startAddress.length}/${s.endAddress.length} octets`, T);
    }
    checkU8(s.ipProtocol, 'IP protocol', T);
    checkU16(s.startPort, 'start port', T);
    checkU16(s.endPort, 'end port', T);
    const out = new Uint8Array(TS_SELECTOR_HEADER_LENGTH + 2 * addressLength);
    const dv = byteView(out);
    dv.setUint8(0, s.tsType);
    dv.setUint8(1, s.ipProtocol);
    dv.setUint16(2, out.length);
    dv.setUint16(4, s.startPort);
    dv.setUint16(6, s.endPort);
    out.set(s.startAddress, TS_SELECTOR_HEADER_LENGTH);
    out.set(s.endAddress, TS_SELECTOR_HEADER_LENGTH + addressLength);
    parts.push(out);
  }
  const body = concat(parts);
  checkBodyLength(body.length, T);
  return body;
}
