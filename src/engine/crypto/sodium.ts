/**
 * The few libsodium calls meshgate uses, typed. sodium-native ships no type
 * declarations; loading it through createRequire keeps the types local to this module
 * instead of declaring an ambient module for the whole project.
 */
import { createRequire } from 'node:module';

export interface SodiumNative {
  readonly crypto_aead_chacha20poly1305_ietf_KEYBYTES: number;
  readonly crypto_aead_chacha20poly1305_ietf_NPUBBYTES: number;
  readonly crypto_aead_chacha20poly1305_ietf_ABYTES: number;
  /** c = m.length + ABYTES bytes; returns the bytes written. c may be m (in place). */
  crypto_aead_chacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** m = c.length - ABYTES bytes; throws when the tag does not verify. */
  crypto_aead_chacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  readonly crypto_scalarmult_BYTES: number;
  readonly crypto_scalarmult_SCALARBYTES: number;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  /** Throws when the result is all zero (a low-order peer point). */
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  readonly randombytes_SEEDBYTES: number;
  randombytes_buf(buf: Uint8Array): void;
  randombytes_buf_deterministic(buf: Uint8Array, seed: Uint8Array): void;
  sodium_memzero(buf: Uint8Array): void;
}

export const sodium = createRequire(import.meta.url)('sodium-native') as SodiumNative;
