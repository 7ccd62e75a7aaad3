/**
 * The certificate files of a config directory (/Setup/VPN/IKEv2/Certificates), read when a
 * configuration is mapped to the engine and cached by path, size and mtime: a commit that
 * does not touch them reads nothing, and `meshgate pki issue --force` takes effect at the
 * next commit. Errors name the file, never a key's content.
 */
import { statSync } from 'node:fs';
import type { Credential, TrustStore } from '../engine/pki/certificate.js';
import { loadCredentialFiles, loadTrustFile, resolvePath } from '../engine/pki/files.js';
import { PkiError } from '../engine/pki/certificate.js';

export interface CertificateFiles {
  credential(certFile: string, keyFile: string): Credential;
  trust(caFile: string): TrustStore;
}

const caches = new Map<string, CertificateFiles>();

function stamp(path: string, what: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch (e) {
    throw new PkiError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The (cached) certificate files of a config directory. */
export function certificateFiles(configDir: string): CertificateFiles {
  let f = caches.get(configDir);
  if (f) return f;
  const creds = new Map<string, { stamp: string; value: Credential }>();
  const trusts = new Map<string, { stamp: string; value: TrustStore }>();
  f = {
    credential(certFile, keyFile) {
      const cp = resolvePath(configDir, certFile);
      const kp = resolvePath(configDir, keyFile);
      const key = `${cp}\n${kp}`;
      const st = `${stamp(cp, 'certificate')}|${stamp(kp, 'private key')}`;
      const hit = creds.get(key);
      if (hit?.stamp === st) return hit.value;
      let value: Credential;
      try {
        value = loadCredentialFiles(cp, kp);
      } catch (e) {
        throw new PkiError(`${certFile} / ${keyFile}: ${(e as Error).message}`);
      }
      creds.set(key, { stamp: st, value });
      return value;
    },
    trust(caFile) {
      const p = resolvePath(configDir, caFile);
      const st = stamp(p, 'CA certificate');
      const hit = trusts.get(p);
      if (hit?.stamp === st) return hit.value;
      let value: TrustStore;
      try {
        value = loadTrustFile(p);
      } catch (e) {
        throw new PkiError(`${caFile}: ${(e as Error).message}`);
      }
      trusts.set(p, { stamp: st, value });
      return value;
    },
  };
  caches.set(configDir, f);
  return f;
}
