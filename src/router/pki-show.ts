/**
 * `show certificates`: the site CA and the own certificates the configuration names
 * (/Setup/VPN/IKEv2/Certificates and the Auth profiles' Local-Certificate), with subject,
 * issuer, validity, key type, SHA-256 fingerprint and a status (ok, expired, not issued by
 * the site CA, key missing or not matching). Private keys are read only to check that they
 * match; nothing of them is shown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { peerSettings, type ConfigData } from '../config/index.js';
import { loadCredential, parseCertificates, summarize, trustStore, verifyPeerCertificate, type TrustStore } from '../engine/pki/certificate.js';
import { resolvePath } from '../engine/pki/files.js';
import type { Cell, OutputBlock } from '../shell/session-api.js';
import type { ShowProvider } from './router.js';

const V = '/Setup/VPN/IKEv2/Certificates';

export function certificateShow(configDir: string, config: () => Readonly<ConfigData>, now: () => Date): ShowProvider {
  return {
    help: 'Certificates in use: site CA and own certificates (subject, issuer, validity, fingerprint; never a private key)',
    run: (): OutputBlock[] => {
      const c = config();
      const rows: Cell[][] = [];
      const t = now().getTime();
      const caFile = c.values[`${V}/CA-Certificate`] || 'pki/ca.crt';
      let trust: TrustStore | undefined;
      const caPath = resolvePath(configDir, caFile);
      if (!existsSync(caPath)) rows.push(['CA', caFile, '-', '-', '-', '-', 'missing (meshgate pki ca)', '-']);
      else {
        try {
          const cas = parseCertificates(readFileSync(caPath, 'utf8'));
          trust = trustStore(cas);
          for (const ca of cas) {
            const s = summarize(ca);
            const status = t > Date.parse(s.notAfter) ? 'expired' : t < Date.parse(s.notBefore) ? 'not yet valid' : 'ok';
            rows.push(['CA', caFile, s.subject, s.issuer, s.notAfter.slice(0, 10), s.key, status, s.fingerprint]);
          }
        } catch (e) {
          rows.push(['CA', caFile, '-', '-', '-', '-', `error: ${(e as Error).message}`, '-']);
        }
      }
      const own = new Map<string, string>();
      own.set(c.values[`${V}/Own-Certificate`] || 'pki/node.crt', c.values[`${V}/Own-Key`] || 'pki/node.key');
      for (const p of peerSettings(c)) {
        const f = p.auth.localCertificate;
        if (f && p.auth.localAuth !== 'PSK') own.set(f, f.replace(/\.(crt|pem|cer)$/i, '') + '.key');
      }
      for (const [certFile, keyFile] of own) {
        const cp = resolvePath(configDir, certFile);
        if (!existsSync(cp)) {
          rows.push(['own', certFile, '-', '-', '-', '-', 'missing (meshgate pki issue)', '-']);
          continue;
        }
        try {
          const cert = parseCertificates(readFileSync(cp, 'utf8'))[0]!;
          const s = summarize(cert);
          let status = 'ok';
          const kp = resolvePath(configDir, keyFile);
          if (!existsSync(kp)) status = `key ${keyFile} missing`;
          else {
            try {
              loadCredential(readFileSync(cp, 'utf8'), readFileSync(kp, 'utf8'));
            } catch (e) {
              status = `key ${keyFile}: ${(e as Error).message}`;
            }
          }
          if (status === 'ok' && trust) {
            const v = verifyPeerCertificate(new Uint8Array(cert.raw), [], trust, t);
            if (!v.ok) status = v.reason.includes('not signed') ? 'not issued by the site CA' : v.reason;
          }
          rows.push(['own', certFile, s.subject, s.issuer, s.notAfter.slice(0, 10), s.key, status, s.fingerprint]);
        } catch (e) {
          rows.push(['own', certFile, '-', '-', '-', '-', `error: ${(e as Error).message}`, '-']);
        }
      }
      return [{ kind: 'table', title: 'Certificates', columns: ['Use', 'File', 'Subject', 'Issuer', 'Valid-Until', 'Key', 'Status', 'Fingerprint'], rows }];
    },
  };
}
