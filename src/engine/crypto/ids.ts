/**
 * IANA numbers of the cryptographic transforms meshgate implements, from the
 * "Internet Key Exchange Version 2 (IKEv2) Parameters" registry (RFC 7296 section 3.3.2).
 * Only the values that this module knows how to instantiate are listed; the IKE codec
 * keeps its own, wider table of wire constants.
 */

/** Transform type 1, encryption algorithms. */
export const EncrId = {
  /** RFC 4106 (ESP), RFC 5282 (IKEv2): AES-GCM with a 16-octet ICV. Key length attribute 128/192/256. */
  ENCR_AES_GCM_16: 20,
  /** RFC 7634: ChaCha20-Poly1305. No key length attribute. */
  ENCR_CHACHA20_POLY1305: 28,
} as const;
export type EncrId = (typeof EncrId)[keyof typeof EncrId];

/** Transform type 2, pseudo-random functions. */
export const PrfId = {
  /** RFC 2104 with SHA-1. Legacy; kept for the CAVP IKEv2 KDF vectors and old peers. */
  PRF_HMAC_SHA1: 2,
  /** RFC 4868. */
  PRF_HMAC_SHA2_256: 5,
  /** RFC 4868. */
  PRF_HMAC_SHA2_384: 6,
  /** RFC 4868. */
  PRF_HMAC_SHA2_512: 7,
} as const;
export type PrfId = (typeof PrfId)[keyof typeof PrfId];

/** Transform type 4, key exchange methods (Diffie-Hellman groups). */
export const DhGroup = {
  /** RFC 5903: 256-bit random ECP group (NIST P-256). KE data x || y, 64 octets. */
  ECP_256: 19,
  /** RFC 8031: Curve25519. KE data is the 32-octet u-coordinate. */
  CURVE25519: 31,
} as const;
export type DhGroup = (typeof DhGroup)[keyof typeof DhGroup];

/** Transform attribute type 14, Key Length in bits (RFC 7296 section 3.3.5). */
export const ATTRIBUTE_KEY_LENGTH = 14;
