/**
 * Certificates for tests: a site CA and node certificates per key algorithm, created once per
 * process with the real creation code (src/engine/pki/create.ts). Validity 2025-2030, so that
 * a FakeClock (wall time 2026-01-01) sees them valid; expired ones end in 2025.
 */
import { createCa, issueCertificate, type KeyAlgorithm, type PemPair } from '../../../src/engine/pki/create.js';
import { loadCredential, parseCertificates, trustStore, type Credential, type TrustStore } from '../../../src/engine/pki/index.js';
import type { Identity } from '../../../src/engine/ike/peer-config.js';

export const NOT_BEFORE = new Date(Date.UTC(2025, 0, 1));
export const NOT_AFTER = new Date(Date.UTC(2030, 0, 1));

export interface TestPki {
  ca: PemPair;
  trust: TrustStore;
  node(id: string | Identity, opts?: { notBefore?: Date; notAfter?: Date; algorithm?: KeyAlgorithm }): Promise<Credential>;
}

const cache = new Map<string, Promise<TestPki>>();

function asIdentity(id: string | Identity): Identity {
  if (typeof id !== 'string') return id;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(id)) return { type: 'ipv4', value: id };
  return id.includes('@') ? { type: 'user-fqdn', value: id } : { type: 'fqdn', value: id };
}

/** A CA of the algorithm (one per name), and a factory of node credentials signed by it. */
export function testPki(algorithm: KeyAlgorithm = 'ed25519', name = 'main'): Promise<TestPki> {
  const key = `${algorithm}/${name}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const ca = await createCa({ commonName: `Test CA ${name} ${algorithm}`, algorithm, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
      const trust = trustStore(parseCertificates(ca.certPem));
      const nodes = new Map<string, Promise<Credential>>();
      return {
        ca,
        trust,
        node: (id, opts = {}) => {
          const k = JSON.stringify([id, opts.notBefore, opts.notAfter, opts.algorithm]);
          let n = nodes.get(k);
          if (!n) {
            n = issueCertificate({ ca, identities: [asIdentity(id)], notBefore: opts.notBefore ?? NOT_BEFORE, notAfter: opts.notAfter ?? NOT_AFTER, algorithm: opts.algorithm ?? algorithm }).then((pair) => loadCredential(pair.certPem, pair.keyPem));
            nodes.set(k, n);
          }
          return n;
        },
      };
    })();
    cache.set(key, p);
  }
  return p;
}
