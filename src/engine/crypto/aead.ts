/**
 * AEAD transforms for IKEv2's SK payload and for ESP: ChaCha20-Poly1305 (RFC 7634)
 * through libsodium, AES-GCM with a 16-octet ICV (RFC 4106, RFC 5282) through node:crypto.
 *
 * Both follow the same layout (RFC 4106 section 8.1, RFC 7634 section 2):
 *
 *   key material = cipher key || 4-octet salt
 *   nonce (12)   = salt || 8-octet explicit IV carried in the packet
 *   output       = ciphertext || 16-octet ICV
 *
 * The 12-byte nonce buffer is allocated once per instance; seal/open only copy the IV
 * into it. An instance is therefore not reentrant, which is fine on one event loop.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { Aead } from './types.js';
import { CryptoError } from './errors.js';
import { EncrId } from './ids.js';
import { sodium } from './sodium.js';

/** Octets of salt at the end of the key material (RFC 4106 section 8.1, RFC 7634 section 2). */
export const AEAD_SALT_LENGTH = 4;
/** Octets of explicit IV in each packet. */
export const AEAD_IV_LENGTH = 8;
/** Octets of ICV (tag). */
export const AEAD_ICV_LENGTH = 16;
/** Octets of the full nonce: salt || IV. */
export const AEAD_NONCE_LENGTH = AEAD_SALT_LENGTH + AEAD_IV_LENGTH;
/** ChaCha20 key octets. */
export const CHACHA20_KEY_LENGTH = 32;

function checkIv(iv: Uint8Array): void {
  if (iv.length !== AEAD_IV_LENGTH) throw new CryptoError(`AEAD IV must be ${AEAD_IV_LENGTH} bytes, got ${iv.length}`);
}

function outWindow(out: Uint8Array, outOffset: number, length: number, what: string): Uint8Array {
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + length > out.length) {
    throw new CryptoError(`${what}: output buffer of ${out.length} bytes cannot take ${length} bytes at offset ${outOffset}`);
  }
  return out.subarray(outOffset, outOffset + length);
}

/**
 * ENCR_CHACHA20_POLY1305 (RFC 7634): the RFC 8439 AEAD with nonce = salt || IV.
 * In-place operation is supported when the plaintext (or ciphertext) starts exactly at
 * `out[outOffset]`.
 */
export class ChaCha20Poly1305Aead implements Aead {
  readonly name = 'chacha20-poly1305';
  readonly keyMaterialLength = CHACHA20_KEY_LENGTH + AEAD_SALT_LENGTH;
  readonly ivLength = AEAD_IV_LENGTH;
  readonly icvLength = AEAD_ICV_LENGTH;
  private readonly key: Uint8Array;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LENGTH);

  constructor(keyMaterial: Uint8Array) {
    if (keyMaterial.length !== this.keyMaterialLength) {
      throw new CryptoError(`${this.name}: key material must be ${this.keyMaterialLength} bytes, got ${keyMaterial.length}`);
    }
    this.key = keyMaterial.slice(0, CHACHA20_KEY_LENGTH);
    this.nonce.set(keyMaterial.subarray(CHACHA20_KEY_LENGTH), 0);
  }

  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkIv(iv);
    const c = outWindow(out, outOffset, plaintext.length + AEAD_ICV_LENGTH, this.name);
    this.nonce.set(iv, AEAD_SALT_LENGTH);
    return sodium.crypto_aead_chacha20poly1305_ietf_encrypt(c, plaintext, aad, null, this.nonce, this.key);
  }

  open(iv: Uint8Array, aad: Uint8Array, ciphertextAndIcv: Uint8Array, out: Uint8Array, outOffset = 0): number {
    if (iv.length !== AEAD_IV_LENGTH || ciphertextAndIcv.length < AEAD_ICV_LENGTH) return -1;
    const m = outWindow(out, outOffset, ciphertextAndIcv.length - AEAD_ICV_LENGTH, this.name);
    this.nonce.set(iv, AEAD_SALT_LENGTH);
    try {
      return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(m, null, ciphertextAndIcv, aad, this.nonce, this.key);
    } catch {
      // sodium-native throws on a tag mismatch; libsodium verifies before it decrypts,
      // so `out` is untouched.
      return -1;
    }
  }

  /** Overwrites the key copy held by this instance. */
  destroy(): void {
    sodium.sodium_memzero(this.key);
    sodium.sodium_memzero(this.nonce);
  }
}

/**
 * ENCR_AES_GCM_16 (RFC 4106 for ESP, RFC 5282 for IKEv2) with a 128, 192 or 256-bit key.
 * node:crypto needs a cipher object per operation; the key is imported once as a KeyObject.
 */
export class AesGcm16Aead implements Aead {
  readonly name: string;
  readonly keyMaterialLength: number;
  readonly ivLength = AEAD_IV_LENGTH;
  readonly icvLength = AEAD_ICV_LENGTH;
  private readonly algorithm: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  private readonly key: KeyObject;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LENGTH);

  constructor(keyBits: number, keyMaterial: Uint8Array) {
    if (keyBits !== 128 && keyBits !== 192 && keyBits !== 256) {
      throw new CryptoError(`AES-GCM-16: key length ${keyBits} bits is not 128, 192 or 256`);
    }
    this.name = `aes${keyBits}-gcm16`;
    this.algorithm = `aes-${keyBits}-gcm`;
    const keyLength = keyBits / 8;
    this.keyMaterialLength = keyLength + AEAD_SALT_LENGTH;
    if (keyMaterial.length !== this.keyMaterialLength) {
      throw new CryptoError(`${this.name}: key material must be ${this.keyMaterialLength} bytes, got ${keyMaterial.length}`);
    }
    this.key = createSecretKey(keyMaterial.subarray(0, keyLength));
    this.nonce.set(keyMaterial.subarray(keyLength), 0);
  }

  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkIv(iv);
    const dest = outWindow(out, outOffset, plaintext.length + AEAD_ICV_LENGTH, this.name);
    this.nonce.set(iv, AEAD_SALT_LENGTH);
    const cipher = createCipheriv(this.algorithm, this.key, this.nonce, { authTagLength: AEAD_ICV_LENGTH });
    cipher.setAAD(aad);
    // update() reads all of `plaintext` before we write, so in-place use is safe.
    const ciphertext = cipher.update(plaintext);
    const rest = cipher.final();
    dest.set(ciphertext, 0);
    if (rest.length > 0) dest.set(rest, ciphertext.length);
    dest.set(cipher.getAuthTag(), plaintext.length);
    return dest.length;
  }

  open(iv: Uint8Array, aad: Uint8Array, ciphertextAndIcv: Uint8Array, out: Uint8Array, outOffset = 0): number {
    if (iv.length !== AEAD_IV_LENGTH || ciphertextAndIcv.length < AEAD_ICV_LENGTH) return -1;
    const length = ciphertextAndIcv.length - AEAD_ICV_LENGTH;
    const dest = outWindow(out, outOffset, length, this.name);
    this.nonce.set(iv, AEAD_SALT_LENGTH);
    const decipher = createDecipheriv(this.algorithm, this.key, this.nonce, { authTagLength: AEAD_ICV_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(ciphertextAndIcv.subarray(length));
    const plaintext = decipher.update(ciphertextAndIcv.subarray(0, length));
    try {
      decipher.final();
    } catch {
      return -1; // nothing was written to `out`
    }
    dest.set(plaintext, 0);
    return length;
  }
}

/**
 * The key material length (key plus salt) of an AEAD transform, for key derivation.
 * `keyBits` is the Key Length attribute (required for AES-GCM, absent or 256 for ChaCha20).
 */
export function aeadKeyMaterialLength(encrId: number, keyBits?: number): number {
  switch (encrId) {
    case EncrId.ENCR_CHACHA20_POLY1305:
      if (keyBits !== undefined && keyBits !== 256) {
        throw new CryptoError(`ENCR_CHACHA20_POLY1305 takes no key length other than 256, got ${keyBits}`);
      }
      return CHACHA20_KEY_LENGTH + AEAD_SALT_LENGTH;
    case EncrId.ENCR_AES_GCM_16:
      if (keyBits !== 128 && keyBits !== 192 && keyBits !== 256) {
        throw new CryptoError(`ENCR_AES_GCM_16 needs a key length of 128, 192 or 256 bits, got ${String(keyBits)}`);
      }
      return keyBits / 8 + AEAD_SALT_LENGTH;
    default:
      throw new CryptoError(`encryption transform ${encrId} is not supported`);
  }
}

/** Instantiates the AEAD for an IANA encryption transform id. */
export function createAead(encrId: number, keyBits: number | undefined, keyMaterial: Uint8Array): Aead {
  aeadKeyMaterialLength(encrId, keyBits); // validates id and key length
  if (encrId === EncrId.ENCR_CHACHA20_POLY1305) return new ChaCha20Poly1305Aead(keyMaterial);
  return new AesGcm16Aead(keyBits!, keyMaterial);
}

/** True for the encryption transform ids this module can instantiate. */
export function isSupportedEncr(encrId: number): boolean {
  return encrId === EncrId.ENCR_CHACHA20_POLY1305 || encrId === EncrId.ENCR_AES_GCM_16;
}
