/**
 * PEM files of the PKI: certificates 0644, private keys 0600 (written with that mode and
 * re-chmodded, so an existing file with looser rights is tightened). Paths are resolved
 * against a base directory (the config directory) unless absolute.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { loadCredential, parseCertificates, PkiError, trustStore, type Credential, type TrustStore } from './certificate.js';
import type { PemPair } from './create.js';

export function resolvePath(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}

function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Writes a certificate (0644) and its key (0600). */
export function savePemPair(pair: PemPair, certPath: string, keyPath: string): void {
  writeAtomic(keyPath, pair.keyPem, 0o600);
  writeAtomic(certPath, pair.certPem, 0o644);
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PkiError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function loadPemPair(certPath: string, keyPath: string): PemPair {
  return { certPem: read(certPath, 'certificate'), keyPem: read(keyPath, 'private key') };
}

export function loadCredentialFiles(certPath: string, keyPath: string): Credential {
  const p = loadPemPair(certPath, keyPath);
  return loadCredential(p.certPem, p.keyPem);
}

export function loadTrustFile(caPath: string): TrustStore {
  return trustStore(parseCertificates(read(caPath, 'CA certificate')));
}
