/**
 * Dispatch from a payload type to its body codec. "Known" means the codec can decode the
 * payload; every other type is skipped when non-critical and refused when critical
 * (RFC 7296 section 2.5). SK is handled by the message codec, not here.
 */
import { PayloadType } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type { DecodeFailureReason, Payload } from '../types.js';
import { decodeCp, encodeCp } from './cp.js';
import { decodeDelete, decodeNotify, encodeDelete, encodeNotify } from './notify.js';
import { decodeSa, encodeSa } from './sa.js';
import {
  decodeAuth,
  decodeCert,
  decodeCertReq,
  decodeEap,
  decodeId,
  decodeKe,
  decodeNonce,
  decodeVendorId,
  encodeAuth,
  encodeCert,
  encodeCertReq,
  encodeEap,
  encodeId,
  encodeKe,
  encodeNonce,
  encodeVendorId,
} from './simple.js';
import { decodeTs, encodeTs } from './ts.js';

const KNOWN: ReadonlySet<number> = new Set([
  PayloadType.SA,
  PayloadType.KE,
  PayloadType.IDi,
  PayloadType.IDr,
  PayloadType.CERT,
  PayloadType.CERTREQ,
  PayloadType.AUTH,
  PayloadType.Nonce,
  PayloadType.N,
  PayloadType.D,
  PayloadType.V,
  PayloadType.TSi,
  PayloadType.TSr,
  PayloadType.CP,
  PayloadType.EAP,
]);

/** Whether the codec decodes this payload type (SK excluded: see the message codec). */
export const isKnownPayloadType = (type: number): boolean => KNOWN.has(type);

/** Decodes the body (after the 4-octet generic header) of a known payload type. */
export function decodePayloadBody(type: number, body: Uint8Array): Payload | DecodeFailureReason {
  switch (type) {
    case PayloadType.SA:
      return decodeSa(body);
    case PayloadType.KE:
      return decodeKe(body);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return decodeId(type, body);
    case PayloadType.CERT:
      return decodeCert(body);
    case PayloadType.CERTREQ:
      return decodeCertReq(body);
    case PayloadType.AUTH:
      return decodeAuth(body);
    case PayloadType.Nonce:
      return decodeNonce(body);
    case PayloadType.N:
      return decodeNotify(body);
    case PayloadType.D:
      return decodeDelete(body);
    case PayloadType.V:
      return decodeVendorId(body);
    case PayloadType.TSi:
    case PayloadType.TSr:
      return decodeTs(type, body);
    case PayloadType.CP:
      return decodeCp(body);
    case PayloadType.EAP:
      return decodeEap(body);
    default:
      return 'payload-length-invalid';
  }
}

/** Encodes a payload's body; throws IkeEncodeError for values that cannot go on the wire. */
export function encodePayloadBody(p: Payload): Uint8Array {
  switch (p.type) {
    case PayloadType.SA:
      return encodeSa(p);
    case PayloadType.KE:
      return encodeKe(p);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return encodeId(p);
    case PayloadType.CERT:
      return encodeCert(p);
    case PayloadType.CERTREQ:
      return encodeCertReq(p);
    case PayloadType.AUTH:
      return encodeAuth(p);
    case PayloadType.Nonce:
      return encodeNonce(p);
    case PayloadType.N:
      return encodeNotify(p);
    case PayloadType.D:
      return encodeDelete(p);
    case PayloadType.V:
      return encodeVendorId(p);
    case PayloadType.TSi:
    case PayloadType.TSr:
      return encodeTs(p);
    case PayloadType.CP:
      return encodeCp(p);
    case PayloadType.EAP:
      return encodeEap(p);
    default: {
      const type = (p as { type: unknown }).type;
      throw new IkeEncodeError(`payload type ${String(type)} cannot be encoded`);
    }
  }
}
