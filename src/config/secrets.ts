/**
 * Password hashing for user passwords (libsodium crypto_pwhash_str, Argon2id) and the masking
 * rule for every secret. Plain secrets (pre-shared keys) are stored as given because the engine
 * needs them; they are never printed either.
 */
import { createRequire } from 'node:module';

/** The part of sodium-native used here (the package ships no types; typed locally to stay out of global declarations). */
interface SodiumPwhash {
  crypto_pwhash_STRBYTES: number;
  crypto_pwhash_OPSLIMIT_INTERACTIVE: number;
  crypto_pwhash_MEMLIMIT_INTERACTIVE: number;
  crypto_pwhash_str(out: Buffer, password: Buffer, opslimit: number, memlimit: number): void;
  crypto_pwhash_str_verify(hash: Buffer, password: Buffer): boolean;
  crypto_pwhash_str_verify_async(hash: Buffer, password: Buffer): Promise<boolean>;
}
const sodium = createRequire(import.meta.url)('sodium-native') as SodiumPwhash;

/** What listings show instead of a set secret. */
export const SECRET_MASK = '*';

/** The shape of a crypto_pwhash_str result: accepted as an already hashed password (replay of readconfig --with-secrets). */
const PWHASH_RE = /^\$argon2id?\$v=19\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$/;

export function isPasswordHash(s: string): boolean {
  return PWHASH_RE.test(s);
}

/** Hashes a password with crypto_pwhash_str (interactive limits). */
export function hashPassword(password: string): string {
  const out = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  sodium.crypto_pwhash_str(
    out,
    Buffer.from(password, 'utf8'),
    sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
    sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
  );
  const end = out.indexOf(0);
  return out.subarray(0, end < 0 ? out.length : end).toString('ascii');
}

/** Checks a password against a stored hash; false for an empty or malformed hash. */
export function verifyPassword(hash: string, password: string): boolean {
  if (!isPasswordHash(hash)) return false;
  const h = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  h.write(hash, 'ascii');
  return sodium.crypto_pwhash_str_verify(h, Buffer.from(password, 'utf8'));
}

/**
 * verifyPassword on libuv's thread pool: Argon2id takes ~100 ms of CPU, which must not stall
 * the daemon's event loop (packets, other sessions) while an SSH client tries a password.
 */
export async function verifyPasswordAsync(hash: string, password: string): Promise<boolean> {
  if (!isPasswordHash(hash) || password === '') return false;
  const h = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  h.write(hash, 'ascii');
  try {
    return (await sodium.crypto_pwhash_str_verify_async(h, Buffer.from(password, 'utf8'))) === true;
  } catch {
    // libsodium reports a mismatch as an error status.
    return false;
  }
}

/** A secret as listings show it: `*` when set, empty when not. */
export function maskSecret(value: string): string {
  return value === '' ? '' : SECRET_MASK;
}
