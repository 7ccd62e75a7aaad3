/**
 * The payload chain (RFC 7296 section 3.2): each payload starts with a generic header
 *
 *  | Next Payload  |C|  RESERVED   |         Payload Length        |
 *
 * and names the type of the payload after it; the IKE header (or the SK payload, for the
 * encrypted part) names the first. Decoding walks the chain with every length checked before
 * it is read; encoding fills in Next Payload and Payload Length.
 */
import { NotifyType, PayloadType } from '../constants.js';
import { IkeEncodeError } from './errors.js';
import { byteView } from './payloads/bytes.js';
import { decodePayloadBody, encodePayloadBody, isKnownPayloadType } from './payloads/index.js';
import type { DecodeFailure, Payload } from './types.js';

export const GENERIC_PAYLOAD_HEADER_LENGTH = 4;
/** The critical bit in the second octet of the generic payload header. */
export const CRITICAL_FLAG = 0x80;
/**
 * Most payloads one chain may hold. No legitimate IKEv2 message comes close (a large IKE_AUTH
 * has a dozen); the cap bounds the work a hostile datagram can cause.
 */
export const MAX_PAYLOADS = 128;

export interface DecodedChain {
  payloads: Payload[];
  skipped: number[];
  /** Present when the chain ends in an SK payload. */
  sk?: { firstPayload: number; offset: number };
}

/**
 * Decodes the chain in bytes[start, end) whose first payload has type `first`.
 * `allowSk`: whether an SK payload may end the chain (false inside SK). Never throws.
 */
export function decodeChain(bytes: Uint8Array, start: number, end: number, first: number, allowSk: boolean): DecodedChain | DecodeFailure {
  const dv = byteView(bytes);
  const payloads: Payload[] = [];
  const skipped: number[] = [];
  let next = first;
  let off = start;
  let count = 0;
  while (next !== PayloadType.NONE) {
    if (++count > MAX_PAYLOADS) return { ok: false, reason: 'too-many-payloads', offset: off };
    if (off + GENERIC_PAYLOAD_HEADER_LENGTH > end) return { ok: false, reason: 'payload-truncated', payloadType: next, offset: off };
    const following = dv.getUint8(off);
    const critical = (dv.getUint8(off + 1) & CRITICAL_FLAG) !== 0;
    const length = dv.getUint16(off + 2);
    if (length < GENERIC_PAYLOAD_HEADER_LENGTH) return { ok: false, reason: 'payload-length-invalid', payloadType: next, offset: off };
    if (off + length > end) return { ok: false, reason: 'payload-truncated', payloadType: next, offset: off };
    if (next === PayloadType.SK) {
      if (!allowSk) return { ok: false, reason: 'sk-nested', payloadType: next, offset: off };
      // Section 3.14: the Encrypted payload, if any, MUST be the last payload in the message.
      if (off + length !== end) return { ok: false, reason: 'sk-not-last', payloadType: next, offset: off };
      return { payloads, skipped, sk: { firstPayload: following, offset: off } };
    }
    const body = bytes.subarray(off + GENERIC_PAYLOAD_HEADER_LENGTH, off + length);
    if (isKnownPayloadType(next)) {
      // Section 3.2: for payloads we understand the critical bit is ignored.
      const payload = decodePayloadBody(next, body);
      if (typeof payload === 'string') return { ok: false, reason: payload, payloadType: next, offset: off };
      payloads.push(payload);
    } else if (critical) {
      // Section 2.5: reject the message; the notify's data is the one-octet payload type.
      return {
        ok: false,
        reason: 'unsupported-critical-payload',
        payloadType: next,
        offset: off,
        notify: { notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, data: Uint8Array.of(next) },
      };
    } else {
      skipped.push(next);
    }
    off += length;
    next = following;
  }
  if (off !== end) return { ok: false, reason: 'chain-length-mismatch', offset: off };
  return { payloads, skipped };
}

/** Encoded payloads ready to be laid out: bodies plus their types. */
export interface EncodedChain {
  types: number[];
  bodies: Uint8Array[];
  /** Octets the chain occupies, generic headers included. */
  length: number;
}

export function encodeBodies(payloads: readonly Payload[]): EncodedChain {
  const types: number[] = [];
  const bodies: Uint8Array[] = [];
  let length = 0;
  for (const p of payloads) {
    const body = encodePayloadBody(p);
    types.push(p.type);
    bodies.push(body);
    length += GENERIC_PAYLOAD_HEADER_LENGTH + body.length;
  }
  return { types, bodies, length };
}

/**
 * Writes an encoded chain at `offset` of `out`; the last payload's Next Payload is `after`
 * (0, or SK when the encrypted payload follows). Returns the offset after the chain.
 */
export function writeChain(out: Uint8Array, offset: number, chain: EncodedChain, after: number): number {
  const dv = byteView(out);
  let off = offset;
  for (let i = 0; i < chain.bodies.length; i++) {
    const body = chain.bodies[i]!;
    const length = GENERIC_PAYLOAD_HEADER_LENGTH + body.length;
    if (length > 0xffff) throw new IkeEncodeError(`payload of ${length} octets`, chain.types[i]);
    dv.setUint8(off, i + 1 < chain.types.length ? chain.types[i + 1]! : after);
    dv.setUint8(off + 1, 0);
    dv.setUint16(off + 2, length);
    out.set(body, off + GENERIC_PAYLOAD_HEADER_LENGTH);
    off += length;
  }
  return off;
}
