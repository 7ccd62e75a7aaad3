/**
 * Diffie-Hellman for IKEv2: group 31 Curve25519 (RFC 8031) through libsodium, group 19
 * P-256 (RFC 5903) through node:crypto.
 */
import { createECDH, type ECDH } from 'node:crypto';
import type { DhKeyPair } from './types.js';
import { CryptoError } from './errors.js';
import { DhGroup } from './ids.js';
import { defaultRandom, type Random } from './random.js';
import { sodium } from './sodium.js';

/** RFC 8031 section 2: the KE data is the 32-octet u-coordinate. */
export const CURVE25519_PUBLIC_LENGTH = 32;
/** RFC 5903 section 7: the KE data is x || y, each 32 octets, no point-format octet. */
export const ECP_256_PUBLIC_LENGTH = 64;
/** Octets of the shared secret of both groups (RFC 8031 section 2.2, RFC 5903 section 7 as corrected: x only). */
export const DH_SHARED_LENGTH = 32;

/** Returns the KE data length for a group, or throws a CryptoError for an unsupported group. */
export function dhPublicValueLength(group: number): number {
  switch (group) {
    case DhGroup.CURVE25519:
      return CURVE25519_PUBLIC_LENGTH;
    case DhGroup.ECP_256:
      return ECP_256_PUBLIC_LENGTH;
    default:
      throw new CryptoError(`Diffie-Hellman group ${group} is not supported`);
  }
}

/** True for the group numbers this module can instantiate. */
export function isSupportedDhGroup(group: number): boolean {
  return group === DhGroup.CURVE25519 || group === DhGroup.ECP_256;
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/**
 * Group 31, Curve25519 (RFC 8031). The private key is 32 random octets (X25519 clamps).
 * computeShared rejects a peer value of the wrong length and an all-zero shared secret
 * (RFC 8031 section 2.3: low-order points).
 */
export class X25519KeyPair implements DhKeyPair {
  readonly group = DhGroup.CURVE25519;
  readonly publicValue: Uint8Array;
  private readonly privateKey = new Uint8Array(32);

  constructor(random: Random = defaultRandom) {
    random.fill(this.privateKey);
    this.publicValue = new Uint8Array(CURVE25519_PUBLIC_LENGTH);
    sodium.crypto_scalarmult_base(this.publicValue, this.privateKey);
  }

  computeShared(peerPublic: Uint8Array): Uint8Array {
    if (peerPublic.length !== CURVE25519_PUBLIC_LENGTH) {
      throw new CryptoError(`Curve25519: public value must be ${CURVE25519_PUBLIC_LENGTH} bytes, got ${peerPublic.length}`);
    }
    const shared = new Uint8Array(DH_SHARED_LENGTH);
    try {
      sodium.crypto_scalarmult(shared, this.privateKey, peerPublic);
    } catch {
      throw new CryptoError('Curve25519: the peer public value gives an all-zero shared secret');
    }
    if (isAllZero(shared)) throw new CryptoError('Curve25519: the peer public value gives an all-zero shared secret');
    return shared;
  }

  /** Overwrites the private key. */
  destroy(): void {
    sodium.sodium_memzero(this.privateKey);
  }
}

// NIST P-256 domain parameters (FIPS 186-4 D.1.2.3): y^2 = x^3 - 3x + b over GF(p), order n.
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** Private keys drawn outside [1, n-1] are redrawn; 2^-32 per draw, so this is ample. */
const P256_MAX_DRAWS = 8;

function bigFrom(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** True when x || y (64 octets) is a point on P-256 with both coordinates in [0, p). */
export function isValidP256Point(xy: Uint8Array): boolean {
  if (xy.length !== ECP_256_PUBLIC_LENGTH) return false;
  const x = bigFrom(xy.subarray(0, 32));
  const y = bigFrom(xy.subarray(32, 64));
  if (x >= P256_P || y >= P256_P) return false;
  const lhs = (y * y) % P256_P;
  const rhs = (((x * x) % P256_P) * x - 3n * x + P256_B) % P256_P;
  return lhs === (rhs + P256_P) % P256_P;
}

/**
 * Group 19, 256-bit random ECP group (RFC 5903). The KE data is x || y (64 octets);
 * the shared secret is the x-coordinate of the common point (32 octets). Peer values are
 * validated (length, coordinate range, on the curve; the cofactor is 1) before use.
 */
export class P256KeyPair implements DhKeyPair {
  readonly group = DhGroup.ECP_256;
  readonly publicValue: Uint8Array;
  private readonly ecdh: ECDH;

  constructor(random: Random = defaultRandom) {
    this.ecdh = createECDH('prime256v1');
    const candidate = new Uint8Array(32);
    let draws = 0;
    for (;;) {
      random.fill(candidate);
      const k = bigFrom(candidate);
      if (k > 0n && k < P256_N) break;
      if (++draws >= P256_MAX_DRAWS) throw new CryptoError('P-256: could not draw a private key in range');
    }
    this.ecdh.setPrivateKey(candidate);
    candidate.fill(0);
    const uncompressed = this.ecdh.getPublicKey();
    this.publicValue = Uint8Array.from(uncompressed.subarray(1));
  }

  computeShared(peerPublic: Uint8Array): Uint8Array {
    if (!isValidP256Point(peerPublic)) throw new CryptoError('P-256: the peer public value is not a valid curve point');
    const encoded = new Uint8Array(1 + ECP_256_PUBLIC_LENGTH);
    encoded[0] = 0x04;
    encoded.set(peerPublic, 1);
    let secret: Buffer;
    try {
      secret = this.ecdh.computeSecret(encoded);
    } catch (cause) {
      throw new CryptoError('P-256: the peer public value was rejected', { cause });
    }
    return Uint8Array.from(secret);
  }
}

/** Creates a fresh key pair for a group number (31 or 19). */
export function createDhKeyPair(group: number, random: Random = defaultRandom): DhKeyPair {
  switch (group) {
    case DhGroup.CURVE25519:
      return new X25519KeyPair(random);
    case DhGroup.ECP_256:
      return new P256KeyPair(random);
    default:
      throw new CryptoError(`Diffie-Hellman group ${group} is not supported`);
  }
}
