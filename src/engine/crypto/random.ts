/**
 * Where the engine's random bytes come from (nonces, SPIs, DH private keys). Production
 * uses libsodium's CSPRNG; tests inject a deterministic source so exchanges replay exactly.
 */
import { sodium } from './sodium.js';
import { CryptoError } from './errors.js';

export interface Random {
  /** Fills `out` with random bytes. */
  fill(out: Uint8Array): void;
  /** Returns `length` fresh random bytes. */
  bytes(length: number): Uint8Array;
}

/** libsodium's randombytes_buf (getrandom(2) on Linux). */
export class SodiumRandom implements Random {
  fill(out: Uint8Array): void {
    if (out.length > 0) sodium.randombytes_buf(out);
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.fill(out);
    return out;
  }
}

/** The process-wide default source. */
export const defaultRandom: Random = new SodiumRandom();

/**
 * A reproducible stream for tests: block i is randombytes_buf_deterministic(seed', 64)
 * where seed' is the 32-byte seed with its last 4 bytes xored with the block counter.
 * NOT for production use.
 */
export class DeterministicRandom implements Random {
  private readonly seed: Uint8Array;
  private readonly block = new Uint8Array(64);
  private readonly blockSeed = new Uint8Array(32);
  private counter = 0;
  private used = 64;

  constructor(seed: Uint8Array | number) {
    this.seed = new Uint8Array(32);
    if (typeof seed === 'number') {
      new DataView(this.seed.buffer).setUint32(0, seed >>> 0);
    } else {
      if (seed.length !== 32) throw new CryptoError(`DeterministicRandom: seed must be 32 bytes, got ${seed.length}`);
      this.seed.set(seed);
    }
  }

  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) {
      if (this.used === this.block.length) this.refill();
      out[i] = this.block[this.used++]!;
    }
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.fill(out);
    return out;
  }

  private refill(): void {
    this.blockSeed.set(this.seed);
    const view = new DataView(this.blockSeed.buffer);
    view.setUint32(28, (view.getUint32(28) ^ this.counter++) >>> 0);
    sodium.randombytes_buf_deterministic(this.block, this.blockSeed);
    this.used = 0;
  }
}

/**
 * Hands out exactly the byte strings it was given, in order; throws once they are used up
 * or when a request's length does not match. For known-answer tests (a DH private key
 * from an RFC).
 */
export class ScriptedRandom implements Random {
  private readonly queue: Uint8Array[];

  constructor(...chunks: Uint8Array[]) {
    this.queue = chunks.map((c) => Uint8Array.from(c));
  }

  get remaining(): number {
    return this.queue.length;
  }

  fill(out: Uint8Array): void {
    const next = this.queue.shift();
    if (next === undefined) throw new CryptoError('ScriptedRandom: no scripted bytes left');
    if (next.length !== out.length) {
      throw new CryptoError(`ScriptedRandom: asked for ${out.length} bytes, next chunk has ${next.length}`);
    }
    out.set(next);
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.fill(out);
    return out;
  }
}
