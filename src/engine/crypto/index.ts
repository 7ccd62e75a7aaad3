/** The crypto module's public surface. IKE and ESP import from here or from types.ts. */
export type { Aead, Prf, DhKeyPair } from './types.js';
export * from './ids.js';
export { CryptoError } from './errors.js';
export {
  AEAD_ICV_LENGTH,
  AEAD_IV_LENGTH,
  AEAD_NONCE_LENGTH,
  AEAD_SALT_LENGTH,
  AesGcm16Aead,
  ChaCha20Poly1305Aead,
  aeadKeyMaterialLength,
  createAead,
  isSupportedEncr,
} from './aead.js';
export { HmacPrf, PRF_PLUS_MAX_BLOCKS, createPrf, isSupportedPrf, prfPlus } from './prf.js';
export {
  CURVE25519_PUBLIC_LENGTH,
  DH_SHARED_LENGTH,
  ECP_256_PUBLIC_LENGTH,
  P256KeyPair,
  X25519KeyPair,
  createDhKeyPair,
  dhPublicValueLength,
  isSupportedDhGroup,
  isValidP256Point,
} from './dh.js';
export {
  IKE_SPI_LENGTH,
  childSaKeymat,
  deriveChildSaKeys,
  deriveIkeSaKeys,
  deriveRekeySkeyseed,
  deriveSkeyseed,
  ikeSaKeymat,
  type ChildSaDirectionKeys,
  type ChildSaKeyLengths,
  type ChildSaKeys,
  type IkeSaKeyLengths,
  type IkeSaKeys,
} from './key-derivation.js';
export { DeterministicRandom, ScriptedRandom, SodiumRandom, defaultRandom, type Random } from './random.js';
