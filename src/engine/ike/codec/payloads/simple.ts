/**
 * The payloads with a small fixed part followed by opaque data:
 *
 * KE (RFC 7296 section 3.4):      | DH Group Num (2) | RESERVED (2) | Key Exchange Data ~
 * IDi/IDr (section 3.5):          | ID Type (1) | RESERVED (3) | Identification Data ~
 * CERT (section 3.6):             | Cert Encoding (1) | Certificate Data ~
 * CERTREQ (section 3.7):          | Cert Encoding (1) | Certification Authority ~
 * AUTH (section 3.8):             | Auth Method (1) | RESERVED (3) | Authentication Data ~
 * Nonce (section 3.9):            | Nonce Data (16..256) ~
 * V (section 3.12):               | Vendor ID ~
 * EAP (section 3.16):             | EAP Message ~ (kept opaque; meshgate refuses EAP)
 *
 * Reserved fields are written as zero and ignored on receipt (section 3.2).
 */
import { IdType, NONCE_MAX_LENGTH, NONCE_MIN_LENGTH, PayloadType } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type {
  AuthPayload,
  CertPayload,
  CertReqPayload,
  DecodeFailureReason,
  EapPayload,
  IdPayload,
  KePayload,
  NoncePayload,
  VendorIdPayload,
} from '../types.js';
import { byteView, checkBodyLength, checkU16, checkU8, copy, type ByteView } from './bytes.js';

export const KE_FIXED_LENGTH = 4;
export const ID_FIXED_LENGTH = 4;
export const CERT_FIXED_LENGTH = 1;
export const AUTH_FIXED_LENGTH = 4;

export function decodeKe(body: Uint8Array): KePayload | DecodeFailureReason {
  // A KE payload without key exchange data has no meaning for any group.
  if (body.length <= KE_FIXED_LENGTH) return 'ke-malformed';
  return { type: PayloadType.KE, group: byteView(body).getUint16(0), data: copy(body.subarray(KE_FIXED_LENGTH)) };
}

export function encodeKe(p: KePayload): Uint8Array {
  checkU16(p.group, 'DH group', PayloadType.KE);
  if (p.data.length === 0) throw new IkeEncodeError('KE payload without key exchange data', PayloadType.KE);
  return fixedThenData(KE_FIXED_LENGTH, p.data, PayloadType.KE, (dv) => dv.setUint16(0, p.group));
}

/** The lengths an ID type fixes (section 3.5); other types are variable, at least 1 octet. */
function idDataLengthValid(idType: number, length: number): boolean {
  switch (idType) {
    case IdType.ID_IPV4_ADDR:
      return length === 4;
    case IdType.ID_IPV6_ADDR:
      return length === 16;
    case IdType.ID_NULL:
      return length === 0;
    default:
      return length > 0;
  }
}

export function decodeId(type: typeof PayloadType.IDi | typeof PayloadType.IDr, body: Uint8Array): IdPayload | DecodeFailureReason {
  if (body.length < ID_FIXED_LENGTH) return 'id-malformed';
  const idType = body[0]!;
  const data = copy(body.subarray(ID_FIXED_LENGTH));
  if (!idDataLengthValid(idType, data.length)) return 'id-malformed';
  return { type, idType, data };
}

export function encodeId(p: IdPayload): Uint8Array {
  checkU8(p.idType, 'ID type', p.type);
  if (!idDataLengthValid(p.idType, p.data.length)) throw new IkeEncodeError(`ID type ${p.idType} with ${p.data.length} octets`, p.type);
  return fixedThenData(ID_FIXED_LENGTH, p.data, p.type, (dv) => dv.setUint8(0, p.idType));
}

export function decodeCert(body: Uint8Array): CertPayload | DecodeFailureReason {
  if (body.length <= CERT_FIXED_LENGTH) return 'cert-malformed';
  return { type: PayloadType.CERT, encoding: body[0]!, data: copy(body.subarray(CERT_FIXED_LENGTH)) };
}

export function encodeCert(p: CertPayload): Uint8Array {
  checkU8(p.encoding, 'certificate encoding', PayloadType.CERT);
  if (p.data.length === 0) throw new IkeEncodeError('CERT payload without data', PayloadType.CERT);
  return fixedThenData(CERT_FIXED_LENGTH, p.data, PayloadType.CERT, (dv) => dv.setUint8(0, p.encoding));
}

/** CERTREQ may be empty after the encoding (section 3.7: "any CA"). */
export function decodeCertReq(body: Uint8Array): CertReqPayload | DecodeFailureReason {
  if (body.length < CERT_FIXED_LENGTH) return 'cert-malformed';
  return { type: PayloadType.CERTREQ, encoding: body[0]!, data: copy(body.subarray(CERT_FIXED_LENGTH)) };
}

export function encodeCertReq(p: CertReqPayload): Uint8Array {
  checkU8(p.encoding, 'certificate encoding', PayloadType.CERTREQ);
  return fixedThenData(CERT_FIXED_LENGTH, p.data, PayloadType.CERTREQ, (dv) => dv.setUint8(0, p.encoding));
}

export function decodeAuth(body: Uint8Array): AuthPayload | DecodeFailureReason {
  if (body.length <= AUTH_FIXED_LENGTH) return 'auth-malformed';
  return { type: PayloadType.AUTH, method: body[0]!, data: copy(body.subarray(AUTH_FIXED_LENGTH)) };
}

export function encodeAuth(p: AuthPayload): Uint8Array {
  checkU8(p.method, 'auth method', PayloadType.AUTH);
  if (p.data.length === 0) throw new IkeEncodeError('AUTH payload without data', PayloadType.AUTH);
  return fixedThenData(AUTH_FIXED_LENGTH, p.data, PayloadType.AUTH, (dv) => dv.setUint8(0, p.method));
}

export const nonceLengthValid = (n: number): boolean => n >= NONCE_MIN_LENGTH && n <= NONCE_MAX_LENGTH;

export function decodeNonce(body: Uint8Array): NoncePayload | DecodeFailureReason {
  if (!nonceLengthValid(body.length)) return 'nonce-length-invalid';
  return { type: PayloadType.Nonce, data: copy(body) };
}

export function encodeNonce(p: NoncePayload): Uint8Array {
  if (!nonceLengthValid(p.data.length)) throw new IkeEncodeError(`nonce of ${p.data.length} octets`, PayloadType.Nonce);
  return p.data;
}

export function decodeVendorId(body: Uint8Array): VendorIdPayload {
  return { type: PayloadType.V, data: copy(body) };
}

export function encodeVendorId(p: VendorIdPayload): Uint8Array {
  checkBodyLength(p.data.length, PayloadType.V);
  return p.data;
}

export function decodeEap(body: Uint8Array): EapPayload {
  return { type: PayloadType.EAP, data: copy(body) };
}

export function encodeEap(p: EapPayload): Uint8Array {
  checkBodyLength(p.data.length, PayloadType.EAP);
  return p.data;
}

function fixedThenData(fixed: number, data: Uint8Array, payloadType: number, writeFixed: (dv: ByteView) => void): Uint8Array {
  checkBodyLength(fixed + data.length, payloadType);
  const out = new Uint8Array(fixed + data.length);
  writeFixed(byteView(out));
  out.set(data, fixed);
  return out;
}
