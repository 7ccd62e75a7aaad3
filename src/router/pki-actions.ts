/**
 * /Other/PKI: `do Create-CA` and `do Issue` make the site CA and node certificates in the
 * config directory's pki/ (as `meshgate pki ca|issue` does): keys mode 0600, never printed.
 * Create-CA refuses to replace an existing CA (every node certificate would have to be
 * issued again: `meshgate pki ca --force` does that on purpose).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MeshgateError } from '../errors.js';
import { parseIdentity } from '../engine/ike/peer-config.js';
import { parseCertificates, summarize } from '../engine/pki/certificate.js';
import { loadPemPair, savePemPair } from '../engine/pki/files.js';
import type { KeyAlgorithm } from '../engine/pki/create.js';
import type { OutputBlock } from '../shell/session-api.js';
import type { ActionHandler } from './router.js';

export class PkiActionError extends MeshgateError {
  static override readonly name = 'PkiActionError';
}

function summaryBlock(title: string, certPem: string): OutputBlock {
  const s = summarize(parseCertificates(certPem)[0]!);
  return {
    kind: 'keyvalue',
    title,
    pairs: [
      ['Subject', s.subject],
      ['Issuer', s.issuer],
      ['Valid', `${s.notBefore} .. ${s.notAfter}`],
      ['Alt-Names', s.altNames || '-'],
      ['Key', s.key],
      ['Fingerprint', s.fingerprint],
    ],
  };
}

/** The handlers of pki.create-ca and pki.issue for a config directory. */
export function pkiActions(configDir: string): Record<'pki.create-ca' | 'pki.issue', ActionHandler> {
  const dir = join(configDir, 'pki');
  return {
    'pki.create-ca': async (args) => {
      const crt = join(dir, 'ca.crt');
      if (existsSync(crt) || existsSync(join(dir, 'ca.key'))) throw new PkiActionError(`${crt} exists: a new CA invalidates every node certificate (meshgate pki ca --force replaces it)`);
      const { createCa } = await import('../engine/pki/create.js');
      const pair = await createCa({ commonName: args['name']!, ...(args['algorithm'] ? { algorithm: args['algorithm'] as KeyAlgorithm } : {}) });
      savePemPair(pair, crt, join(dir, 'ca.key'));
      return [summaryBlock(`site CA created: pki/ca.crt (key pki/ca.key, mode 0600)`, pair.certPem)];
    },
    'pki.issue': async (args) => {
      const base = args['file'] || 'node';
      let id;
      try {
        id = parseIdentity(args['identity']!, 'identity');
      } catch (e) {
        throw new PkiActionError((e as Error).message);
      }
      if (!existsSync(join(dir, 'ca.crt'))) throw new PkiActionError('no site CA in pki/ (do /Other/PKI/Create-CA first)');
      const { issueCertificate } = await import('../engine/pki/create.js');
      let pair;
      try {
        pair = await issueCertificate({ ca: loadPemPair(join(dir, 'ca.crt'), join(dir, 'ca.key')), identities: [id] });
      } catch (e) {
        throw new PkiActionError((e as Error).message);
      }
      savePemPair(pair, join(dir, `${base}.crt`), join(dir, `${base}.key`));
      return [summaryBlock(`node certificate issued: pki/${base}.crt (key pki/${base}.key, mode 0600)`, pair.certPem)];
    },
  };
}
