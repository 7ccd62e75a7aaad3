/**
 * IKEv2 key derivation: RFC 7296 sections 2.14 (IKE SA), 2.17 (child SA KEYMAT) and
 * 2.18 (rekeyed IKE SA). Plain functions over a Prf; nothing here holds state.
 */
import type { Prf } from './types.js';
import { CryptoError } from './errors.js';
import { prfPlus } from './prf.js';

/** IKE SA SPIs are 8 octets (RFC 7296 section 3.1). */
export const IKE_SPI_LENGTH = 8;

function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 section 2.14). */
export function deriveSkeyseed(prf: Prf, ni: Uint8Array, nr: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return prf.compute(concat(ni, nr), sharedSecret);
}

/**
 * SKEYSEED for a rekeyed IKE SA (RFC 7296 section 2.18):
 * SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), computed with the OLD SA's PRF.
 */
export function deriveRekeySkeyseed(
  oldPrf: Prf,
  oldSkD: Uint8Array,
  sharedSecret: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
): Uint8Array {
  return oldPrf.compute(oldSkD, concat(sharedSecret, ni, nr));
}

export interface IkeSaKeyLengths {
  /** Octets of the encryption key material per direction (for an AEAD: key + salt, Aead.keyMaterialLength). */
  readonly encrKeyLength: number;
  /** Octets of the integrity key per direction; 0 for AEAD transforms (RFC 5282 section 7). */
  readonly integKeyLength?: number;
  /** Octets of SK_d, SK_pi, SK_pr; defaults to the PRF's output length (its preferred key length). */
  readonly prfKeyLength?: number;
}

export interface IkeSaKeys {
  readonly skD: Uint8Array;
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skPi: Uint8Array;
  readonly skPr: Uint8Array;
}

/**
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
 * (RFC 7296 section 2.14). For AEAD transforms SK_ai and SK_ar are empty.
 */
export function deriveIkeSaKeys(
  prf: Prf,
  skeyseed: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
  lengths: IkeSaKeyLengths,
): IkeSaKeys {
  if (spiI.length !== IKE_SPI_LENGTH || spiR.length !== IKE_SPI_LENGTH) {
    throw new CryptoError(`IKE SPIs must be ${IKE_SPI_LENGTH} bytes, got ${spiI.length} and ${spiR.length}`);
  }
  const p = lengths.prfKeyLength ?? prf.length;
  const a = lengths.integKeyLength ?? 0;
  const e = lengths.encrKeyLength;
  const keymat = prfPlus(prf, skeyseed, concat(ni, nr, spiI, spiR), 3 * p + 2 * a + 2 * e);
  let offset = 0;
  const take = (n: number): Uint8Array => keymat.slice(offset, (offset += n));
  const keys: IkeSaKeys = {
    skD: take(p),
    skAi: take(a),
    skAr: take(a),
    skEi: take(e),
    skEr: take(e),
    skPi: take(p),
    skPr: take(p),
  };
  keymat.fill(0);
  return keys;
}

export interface ChildSaKeyLengths {
  /** Octets of encryption key material per direction (for an AEAD: key + salt). */
  readonly encrKeyLength: number;
  /** Octets of integrity key per direction; 0 for AEAD transforms. */
  readonly integKeyLength?: number;
}

export interface ChildSaDirectionKeys {
  readonly encr: Uint8Array;
  readonly integ: Uint8Array;
}

export interface ChildSaKeys {
  /** Keys of the SA carrying traffic from the initiator to the responder (taken first). */
  readonly initiatorToResponder: ChildSaDirectionKeys;
  /** Keys of the SA carrying traffic from the responder to the initiator. */
  readonly responderToInitiator: ChildSaDirectionKeys;
}

/**
 * Child SA KEYMAT (RFC 7296 section 2.17):
 *
 *   KEYMAT = prf+(SK_d, Ni | Nr)                  without PFS
 *   KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)     with PFS (a KE payload in CREATE_CHILD_SA)
 *
 * Keys are taken for the initiator-to-responder direction first, encryption key before
 * integrity key, then the same for the other direction. Ni and Nr are the nonces of the
 * exchange that created the child SA (IKE_SA_INIT's for the first one).
 */
export function deriveChildSaKeys(
  prf: Prf,
  skD: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  lengths: ChildSaKeyLengths,
  pfsSharedSecret?: Uint8Array,
): ChildSaKeys {
  const e = lengths.encrKeyLength;
  const a = lengths.integKeyLength ?? 0;
  const seed = pfsSharedSecret === undefined ? concat(ni, nr) : concat(pfsSharedSecret, ni, nr);
  const keymat = prfPlus(prf, skD, seed, 2 * (e + a));
  seed.fill(0);
  let offset = 0;
  const take = (n: number): Uint8Array => keymat.slice(offset, (offset += n));
  const initiatorToResponder = { encr: take(e), integ: take(a) };
  const responderToInitiator = { encr: take(e), integ: take(a) };
  keymat.fill(0);
  return { initiatorToResponder, responderToInitiator };
}

/** prf+ over the child SA seed, for callers that need the raw KEYMAT (tests, odd transforms). */
export function childSaKeymat(
  prf: Prf,
  skD: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  length: number,
  pfsSharedSecret?: Uint8Array,
): Uint8Array {
  const seed = pfsSharedSecret === undefined ? concat(ni, nr) : concat(pfsSharedSecret, ni, nr);
  return prfPlus(prf, skD, seed, length);
}

/** prf+ over the IKE SA seed, for callers that need the raw key stream (tests, odd transforms). */
export function ikeSaKeymat(
  prf: Prf,
  skeyseed: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
  length: number,
): Uint8Array {
  return prfPlus(prf, skeyseed, concat(ni, nr, spiI, spiR), length);
}
