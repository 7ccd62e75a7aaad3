/**
 * The cryptographic seams shared by IKE (SK payload, key derivation) and ESP.
 * Implementations live beside this file; IKE and ESP depend only on these interfaces.
 */

/**
 * An AEAD transform as IKEv2 and ESP use it (RFC 4106/5282 AES-GCM-16, RFC 7634
 * ChaCha20-Poly1305): a key followed by a 4-byte salt from the key material, an
 * 8-byte explicit IV carried in the packet, nonce = salt || IV, a 16-byte ICV.
 */
export interface Aead {
  /** 'chacha20-poly1305' | 'aes128-gcm16' | 'aes256-gcm16' ... */
  readonly name: string;
  /** Bytes of key material the transform consumes: cipher key plus 4-byte salt. */
  readonly keyMaterialLength: number;
  /** Explicit IV length carried in each packet (8). */
  readonly ivLength: number;
  /** ICV (tag) length (16). */
  readonly icvLength: number;
  /**
   * Encrypts `plaintext` and writes ciphertext followed by the ICV into `out` at `outOffset`.
   * `out` may be the same buffer as `plaintext` (in place). Returns the bytes written
   * (plaintext.length + icvLength).
   */
  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset?: number): number;
  /**
   * Checks and decrypts `ciphertextAndIcv` into `out` at `outOffset`. Returns the plaintext
   * length, or -1 when authentication fails (nothing in `out` may then be trusted).
   */
  open(iv: Uint8Array, aad: Uint8Array, ciphertextAndIcv: Uint8Array, out: Uint8Array, outOffset?: number): number;
}

/** A pseudo-random function of IKEv2 (RFC 7296 section 2.13), e.g. HMAC-SHA2-256. */
export interface Prf {
  readonly name: string;
  /** Output length in bytes (also the preferred key length). */
  readonly length: number;
  compute(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/** One side of a Diffie-Hellman exchange for a group (31 = Curve25519, 19 = P-256). */
export interface DhKeyPair {
  readonly group: number;
  /** The KE payload's key exchange data in the RFC's encoding for the group. */
  readonly publicValue: Uint8Array;
  /** The shared secret g^ir; throws a CryptoError for an invalid peer value. */
  computeShared(peerPublic: Uint8Array): Uint8Array;
}
