/**
 * IKEv2 pseudo-random functions (RFC 7296 section 2.13) and prf+.
 */
import { createHmac } from 'node:crypto';
import type { Prf } from './types.js';
import { CryptoError } from './errors.js';
import { PrfId } from './ids.js';

/** prf+ may run at most 255 iterations: the counter is one octet (RFC 7296 section 2.13). */
export const PRF_PLUS_MAX_BLOCKS = 255;

type HmacHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** HMAC as an IKEv2 PRF. The output length is the hash length. */
export class HmacPrf implements Prf {
  constructor(
    readonly name: string,
    private readonly hash: HmacHash,
    readonly length: number,
  ) {}

  compute(key: Uint8Array, data: Uint8Array): Uint8Array {
    const digest = createHmac(this.hash, key).update(data).digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
  }
}

/** Instantiates the PRF for an IANA PRF transform id. */
export function createPrf(prfId: number): Prf {
  switch (prfId) {
    case PrfId.PRF_HMAC_SHA2_256:
      return new HmacPrf('prf-hmac-sha2-256', 'sha256', 32);
    case PrfId.PRF_HMAC_SHA2_384:
      return new HmacPrf('prf-hmac-sha2-384', 'sha384', 48);
    case PrfId.PRF_HMAC_SHA2_512:
      return new HmacPrf('prf-hmac-sha2-512', 'sha512', 64);
    case PrfId.PRF_HMAC_SHA1:
      return new HmacPrf('prf-hmac-sha1', 'sha1', 20);
    default:
      throw new CryptoError(`PRF transform ${prfId} is not supported`);
  }
}

/** True for the PRF transform ids this module can instantiate. */
export function isSupportedPrf(prfId: number): boolean {
  return (
    prfId === PrfId.PRF_HMAC_SHA2_256 ||
    prfId === PrfId.PRF_HMAC_SHA2_384 ||
    prfId === PrfId.PRF_HMAC_SHA2_512 ||
    prfId === PrfId.PRF_HMAC_SHA1
  );
}

/**
 * prf+ (RFC 7296 section 2.13):
 *
 *   prf+ (K,S) = T1 | T2 | T3 | T4 | ...
 *   T1 = prf (K, S | 0x01)
 *   T2 = prf (K, T1 | S | 0x02)
 *   ...
 *
 * Returns the first `length` octets. Throws a CryptoError beyond 255 blocks.
 */
export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new CryptoError(`prf+: invalid length ${length}`);
  const blocks = Math.ceil(length / prf.length);
  if (blocks > PRF_PLUS_MAX_BLOCKS) {
    throw new CryptoError(`prf+: ${length} bytes need ${blocks} blocks of ${prf.length}, more than ${PRF_PLUS_MAX_BLOCKS}`);
  }
  const out = new Uint8Array(blocks * prf.length);
  const input = new Uint8Array(prf.length + seed.length + 1);
  let previous = 0; // length of T(n-1) at the start of `input`
  for (let n = 1; n <= blocks; n++) {
    input.set(seed, previous);
    input[previous + seed.length] = n;
    const t = prf.compute(key, input.subarray(0, previous + seed.length + 1));
    out.set(t, (n - 1) * prf.length);
    input.set(t, 0);
    previous = t.length;
  }
  input.fill(0);
  const result = out.slice(0, length);
  out.fill(0);
  return result;
}
