/**
 * meshgate <-> strongSwan (Debian's charon 5.9.8) with X.509 certificates from one site CA:
 * a static tunnel in both roles with Ed25519 (RFC 8420; charon's curve25519 plugin), ECDSA
 * P-256 and RSA 3072 keys (RFC 7427 AUTH method 14 both ways), real pings across, and a
 * certificate of another CA refused in both directions.
 *
 * The certificates are made by meshgate's own PKI code (src/engine/pki/create.ts), so charon
 * also checks that they are well-formed X.509. meshgate reads them from absolute paths set in
 * /Setup/VPN/IKEv2/Certificates; charon from its swanctl x509ca/x509/private directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/netns.js';
import { createCa, issueCertificate, type KeyAlgorithm, type PemPair } from '../../src/engine/pki/create.js';
import { savePemPair } from '../../src/engine/pki/files.js';
import { CHACHA, agreedSas, parseCharonSas, pingCount, pings, withInterop } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';
const AUTH_OF: Record<KeyAlgorithm, string> = { ed25519: 'EdDSA', 'ecdsa-p256': 'ECDSA', 'ecdsa-p384': 'ECDSA', 'rsa-3072': 'RSA' };
/** How charon names the key of an accepted signature in its log. */
const CHARON_KEY: Record<KeyAlgorithm, RegExp> = { ed25519: /ED25519/, 'ecdsa-p256': /ECDSA/, 'ecdsa-p384': /ECDSA/, 'rsa-3072': /RSA/ };

interface Pki {
  dir: string;
  ca: PemPair;
  mg: PemPair;
  charon: PemPair;
}

async function makePki(algorithm: KeyAlgorithm, name: string): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cert-'));
  const ca = await createCa({ commonName: `Interop CA ${name}`, algorithm });
  const mg = await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'mg.test' }] });
  const charon = await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'charon.test' }] });
  savePemPair(ca, join(dir, 'ca.crt'), join(dir, 'ca.key'));
  savePemPair(mg, join(dir, 'mg.crt'), join(dir, 'mg.key'));
  return { dir, ca, mg, charon };
}

/** meshgate's Auth profile SS signs with its certificate and expects one from charon. */
function certCommands(p: Pki, algorithm: KeyAlgorithm, trustDir = p.dir): string[] {
  return [
    'cd /Setup/VPN/IKEv2/Certificates',
    `set CA-Certificate ${join(trustDir, 'ca.crt')}`,
    `set Own-Certificate ${join(p.dir, 'mg.crt')}`,
    `set Own-Key ${join(p.dir, 'mg.key')}`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
    `set SS {Local-Auth} ${AUTH_OF[algorithm]} {Remote-Auth} ${AUTH_OF[algorithm]}`,
  ];
}

function charonCerts(p: Pki, trust: Pki = p) {
  return { certs: { caPem: trust.ca.certPem, certPem: p.charon.certPem, keyPem: p.charon.keyPem } };
}

async function tunnel(t: { skip(msg?: string): void }, role: 'initiator' | 'responder', algorithm: KeyAlgorithm): Promise<void> {
  const p = await makePki(algorithm, 'site');
  try {
    await withInterop(t, { role, suite: CHACHA, extra: certCommands(p, algorithm), charon: charonCerts(p) }, async ({ lab, topo, charon, mg }) => {
      await agreedSas(mg, charon);
      const ike = (await mg.ikeSas()).find((r) => r['Peer'] === 'charon')!;
      assert.equal(ike['Remote-ID'], 'fqdn:charon.test');
      const log = readFileSync(charon.logFile, 'utf8');
      // charon verified meshgate's signature with the key of the certificate meshgate sent.
      assert.match(log, /received end entity cert "CN=mg.test"/, log.split('\n').slice(-40).join('\n'));
      assert.match(log, /authentication of 'mg.test' with [^\n]*successful/);
      assert.match(log, CHARON_KEY[algorithm]);
      // charon signed with RFC 7427 (its AUTH method 14 names the algorithm).
      assert.match(log, /authentication of 'charon.test' \(myself\) with [^\n]*successful/);
      assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'host behind meshgate -> behind charon');
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 5), 5, '5 of 5 pings host -> charon side');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 5, BEHIND_CHARON), 5, '5 of 5 pings charon side -> host');
      // No private key in what the shell shows.
      const shown = (await mg.sh('ls /Setup/VPN/IKEv2/Certificates; show vpn; show ike')).out;
      assert.doesNotMatch(shown, /PRIVATE KEY|BEGIN/);
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
}

for (const algorithm of ['ed25519', 'ecdsa-p256', 'rsa-3072'] as const) {
  test(`certificates ${algorithm}: meshgate initiator -> strongSwan responder, ping both ways`, { timeout: 90_000 }, (t) => tunnel(t, 'initiator', algorithm));
  test(`certificates ${algorithm}: strongSwan initiator -> meshgate responder, ping both ways`, { timeout: 90_000 }, (t) => tunnel(t, 'responder', algorithm));
}

test('certificates: meshgate\'s certificate from another CA is refused by charon; meshgate shows why and installs nothing', { timeout: 90_000 }, async (t) => {
  const site = await makePki('ed25519', 'site');
  const other = await makePki('ed25519', 'other');
  try {
    // meshgate signs with a certificate of "other" but trusts the site CA, as charon does.
    const cmds = certCommands(other, 'ed25519', site.dir);
    await withInterop(t, { role: 'initiator', suite: CHACHA, establish: false, extra: cmds, charon: charonCerts(site) }, async ({ charon, mg }) => {
      let vpn: Record<string, string> | undefined;
      const failed = await waitFor(async () => {
        vpn = await mg.vpn('charon');
        return /AUTHENTICATION_FAILED/.test(vpn?.['Last-Error'] ?? '');
      }, 20_000, 300);
      assert.ok(failed, `show vpn names the refusal: ${JSON.stringify(vpn)}`);
      assert.notEqual(vpn?.['State'], 'UP');
      assert.equal((await mg.childSas()).length, 0);
      assert.equal(parseCharonSas(charon.listSas()).ike.filter((s) => s.state === 'ESTABLISHED').length, 0);
      const log = readFileSync(charon.logFile, 'utf8');
      assert.match(log, /no trusted [A-Z0-9]+ public key found for 'mg.test'|certificate status is not available|no issuer certificate found for "CN=mg.test"/, log.split('\n').slice(-30).join('\n'));
      assert.match(log, /generating IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]/);
    });
  } finally {
    rmSync(site.dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  }
});

test('certificates: charon\'s certificate from another CA is refused by meshgate with AUTHENTICATION_FAILED', { timeout: 90_000 }, async (t) => {
  const site = await makePki('ed25519', 'site');
  const other = await makePki('ed25519', 'other');
  try {
    await withInterop(t, { role: 'responder', suite: CHACHA, establish: false, extra: certCommands(site, 'ed25519'), charon: charonCerts(other, site) }, async ({ charon, mg }) => {
      let out = '';
      try {
        out = charon.initiate(6);
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? '') + String((err as Error).message);
      }
      assert.doesNotMatch(out, /initiate completed successfully/, out);
      const log = readFileSync(charon.logFile, 'utf8');
      assert.match(log, /parsed IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]|received AUTHENTICATION_FAILED notify error/, log.split('\n').slice(-20).join('\n'));
      assert.equal((await mg.childSas()).length, 0, 'meshgate installed no child SA');
      assert.notEqual((await mg.vpn('charon'))?.['State'], 'UP');
      const ev = (await mg.sh('show log')).out;
      assert.match(ev, /not signed by the site CA/, ev.split('\n').slice(-15).join('\n'));
    });
  } finally {
    rmSync(site.dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  }
});

test('certificates: charon identified by its subject DN (ID_DER_ASN1_DN, strongSwan\'s default) is matched against its certificate', { timeout: 90_000 }, async (t) => {
  const p = await makePki('ecdsa-p256', 'site');
  try {
    const extra = [...certCommands(p, 'ecdsa-p256'), 'set SS {Remote-ID} ""'];
    await withInterop(t, { role: 'responder', suite: CHACHA, extra, charon: { ...charonCerts(p), localId: '"CN=charon.test"' } }, async ({ lab, topo, charon, mg }) => {
      const log = readFileSync(charon.logFile, 'utf8');
      assert.match(log, /authentication of 'CN=charon.test' \(myself\) with [^\n]*successful/, log.split('\n').slice(-30).join('\n'));
      assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'traffic across');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3);
      assert.equal((await mg.childSas()).filter((c) => c['Peer'] === 'charon').length, 1);
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});
