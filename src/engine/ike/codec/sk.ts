/**
 * The Encrypted and Authenticated payload SK (RFC 7296 section 3.14) with an AEAD transform
 * (RFC 5282 for AES-GCM/CCM, RFC 7634 for ChaCha20-Poly1305):
 *
 *  | Next Payload  |C|  RESERVED   |         Payload Length        |
 *  |                     Initialization Vector (8)                 |
 *  ~             Ciphertext of [ IKE payloads | Padding | Pad Length ]  ~
 *  ~                    Integrity Checksum Data (ICV)              ~
 *
 * Next Payload names the first payload inside. The AAD is the message from the first octet
 * of the IKE header through the last octet of the SK generic header (RFC 5282 section 5.1),
 * so the header's Length must already be final when sealing. The Aead is keyed (SK_ei/SK_er
 * plus salt) by the caller; this module never sees key material.
 */
import type { Aead } from '../../crypto/types.js';
import { NotifyType } from '../constants.js';
import { decodeChain, GENERIC_PAYLOAD_HEADER_LENGTH } from './chain.js';
import { IkeEncodeError } from './errors.js';
import type { DecodeFailure, DecodeResult, Message } from './types.js';

/** The octet after the plaintext payloads that says how much padding precedes it. */
export const SK_PAD_LENGTH_FIELD = 1;

/** How encodeMessage() protects Message.encrypted. */
export interface SkProtection {
  /** The keyed outbound AEAD (SK_ei for the original initiator, SK_er for the responder). */
  aead: Aead;
  /**
   * The next explicit IV, aead.ivLength octets. It must never repeat under one key (RFC 5282
   * section 3): a per-SA 64-bit counter is the usual choice.
   */
  nextIv(): Uint8Array;
  /** Octets of padding before Pad Length (0..255, default 0: AEAD ciphers need no alignment). */
  padLength?: number;
}

/** Octets the SK payload occupies around `innerLength` octets of payloads. */
export function skPayloadLength(aead: Aead, innerLength: number, padLength: number): number {
  return GENERIC_PAYLOAD_HEADER_LENGTH + aead.ivLength + innerLength + padLength + SK_PAD_LENGTH_FIELD + aead.icvLength;
}

/**
 * Seals the SK payload in place. `out` already holds the header (with its final Length), the
 * plaintext payloads and the SK generic header at `skOffset`; `inner` is the encoded inner chain.
 */
export function sealSk(out: Uint8Array, skOffset: number, inner: Uint8Array, protection: SkProtection): void {
  const { aead } = protection;
  const padLength = protection.padLength ?? 0;
  const iv = protection.nextIv();
  if (iv.length !== aead.ivLength) throw new IkeEncodeError(`IV of ${iv.length} octets, ${aead.name} needs ${aead.ivLength}`);
  const plaintext = new Uint8Array(inner.length + padLength + SK_PAD_LENGTH_FIELD);
  plaintext.set(inner, 0);
  plaintext[plaintext.length - 1] = padLength;
  const ivOffset = skOffset + GENERIC_PAYLOAD_HEADER_LENGTH;
  out.set(iv, ivOffset);
  const aad = out.subarray(0, ivOffset);
  const written = aead.seal(iv, aad, plaintext, out, ivOffset + aead.ivLength);
  if (written !== plaintext.length + aead.icvLength) throw new IkeEncodeError(`${aead.name} sealed ${written} octets, expected ${plaintext.length + aead.icvLength}`);
}

/** After the ICV verified, a malformed inner chain is the peer's syntax error (section 2.21.2). */
function authenticatedFailure(f: DecodeFailure): DecodeFailure {
  return f.notify ? f : { ...f, notify: { notifyType: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } };
}

/**
 * Verifies and decrypts the SK payload of a decoded message and decodes the payloads inside
 * with the same strictness as the outer chain. Returns a new message with `encrypted` set and
 * `sealed` removed. Never throws (an Aead that throws is counted as 'sk-auth-failed').
 */
export function openMessage(message: Message, aead: Aead): DecodeResult<Message> {
  const sealed = message.sealed;
  if (!sealed) return { ok: false, reason: 'sk-missing' };
  const raw = sealed.raw;
  const ivOffset = sealed.skOffset + GENERIC_PAYLOAD_HEADER_LENGTH;
  const body = raw.subarray(ivOffset);
  if (body.length < aead.ivLength + SK_PAD_LENGTH_FIELD + aead.icvLength) {
    return { ok: false, reason: 'sk-truncated', offset: sealed.skOffset };
  }
  const iv = body.subarray(0, aead.ivLength);
  const ciphertext = body.subarray(aead.ivLength);
  const plaintext = new Uint8Array(ciphertext.length - aead.icvLength);
  let n: number;
  try {
    n = aead.open(iv, raw.subarray(0, ivOffset), ciphertext, plaintext, 0);
  } catch {
    n = -1;
  }
  if (n < 0 || n !== plaintext.length) return { ok: false, reason: 'sk-auth-failed', offset: sealed.skOffset };
  const padLength = plaintext[n - 1]!;
  if (padLength + SK_PAD_LENGTH_FIELD > n) {
    return authenticatedFailure({ ok: false, reason: 'sk-padding-invalid', offset: sealed.skOffset });
  }
  const innerEnd = n - SK_PAD_LENGTH_FIELD - padLength;
  const chain = decodeChain(plaintext, 0, innerEnd, sealed.firstPayload, false);
  if ('ok' in chain) return authenticatedFailure(chain);
  const { sealed: _consumed, ...rest } = message;
  const opened: Message = { ...rest, encrypted: chain.payloads };
  const skipped = [...(message.skipped ?? []), ...chain.skipped];
  if (skipped.length > 0) opened.skipped = skipped;
  else delete opened.skipped;
  return { ok: true, message: opened };
}
