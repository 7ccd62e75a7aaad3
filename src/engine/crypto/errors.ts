import { MeshgateError } from '../../errors.js';

/**
 * A cryptographic operation could not be carried out: an unknown or unsupported
 * transform, key material of the wrong length, an invalid Diffie-Hellman public value
 * (off the curve, or a low-order point giving an all-zero secret), a prf+ request beyond
 * 255 blocks. Never thrown for a failed AEAD authentication: Aead.open returns -1.
 */
export class CryptoError extends MeshgateError {
  static override readonly name: string = 'CryptoError';
}
