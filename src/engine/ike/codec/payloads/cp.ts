/**
 * Configuration payload (RFC 7296 section 3.15).
 *
 * Payload:    | CFG Type (1) | RESERVED (3) | <Configuration Attributes> ~
 * Attribute (section 3.15.1): |R| Attribute Type (15) | Length (2) | Value ~
 *
 * The R bit is reserved: written as zero, ignored on receipt.
 */
import { PayloadType } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type { CfgAttribute, CpPayload, DecodeFailureReason } from '../types.js';
import { checkBodyLength, checkU16, checkU8, concat, copy, byteView } from './bytes.js';

export const CP_FIXED_LENGTH = 4;
export const CP_ATTRIBUTE_HEADER_LENGTH = 4;

export function decodeCp(body: Uint8Array): CpPayload | DecodeFailureReason {
  if (body.length < CP_FIXED_LENGTH) return 'cp-malformed';
  const dv = byteView(body);
  const attributes: CfgAttribute[] = [];
  let off = CP_FIXED_LENGTH;
  while (off < body.length) {
    if (off + CP_ATTRIBUTE_HEADER_LENGTH > body.length) return 'cp-malformed';
    const type = dv.getUint16(off) & 0x7fff;
    const length = dv.getUint16(off + 2);
    if (off + CP_ATTRIBUTE_HEADER_LENGTH + length > body.length) return 'cp-malformed';
    attributes.push({ type, value: copy(body.subarray(off + CP_ATTRIBUTE_HEADER_LENGTH, off + CP_ATTRIBUTE_HEADER_LENGTH + length)) });
    off += CP_ATTRIBUTE_HEADER_LENGTH + length;
  }
  return { type: PayloadType.CP, cfgType: dv.getUint8(0), attributes };
}

export function encodeCp(p: CpPayload): Uint8Array {
  const T = PayloadType.CP;
  checkU8(p.cfgType, 'CFG type', T);
  const parts: Uint8Array[] = [Uint8Array.of(p.cfgType, 0, 0, 0)];
  for (const a of p.attributes) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) throw new IkeEncodeError(`CP attribute type ${a.type}`, T);
    checkU16(a.value.length, 'CP attribute length', T);
    const out = new Uint8Array(CP_ATTRIBUTE_HEADER_LENGTH + a.value.length);
    const dv = byteView(out);
    dv.setUint16(0, a.type);
    dv.setUint16(2, a.value.length);
    out.set(a.value, CP_ATTRIBUTE_HEADER_LENGTH);
    parts.push(out);
  }
  const body = concat(parts);
  checkBodyLength(body.length, T);
  return body;
}
