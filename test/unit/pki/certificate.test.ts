/**
 * The check of a peer's certificate against the site CA: signature, validity period (leaf and
 * CA), basicConstraints CA, the identity in subjectAltName or as the subject DN; credentials
 * (key matches certificate, JSON without key material); malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { createCa, issueCertificate } from '../../../src/engine/pki/create.js';
import { PkiError, loadCredential, parseCertificates, subjectDer, summarize, trustStore, verifyPeerCertificate } from '../../../src/engine/pki/index.js';
import { NOT_AFTER, NOT_BEFORE, testPki } from './fixtures.js';

const NOW = Date.UTC(2026, 5, 1);

test('a certificate of the site CA verifies and names its identities (FQDN, e-mail, IPv4, IPv6); others do not', async () => {
  const pki = await testPki();
  const ca = pki.ca;
  const p = await issueCertificate({
    ca,
    identities: [
      { type: 'fqdn', value: 'spoke1.example' },
      { type: 'user-fqdn', value: 'ops@spoke1.example' },
      { type: 'ipv4', value: '192.0.2.7' },
      { type: 'ipv6', value: '2001:db8::7' },
    ],
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const c = loadCredential(p.certPem, p.keyPem);
  for (const id of [
    { type: 'fqdn', value: 'SPOKE1.example' },
    { type: 'user-fqdn', value: 'ops@spoke1.example' },
    { type: 'ipv4', value: '192.0.2.7' },
    { type: 'ipv6', value: '2001:db8::7' },
  ] as const) {
    const r = verifyPeerCertificate(c.der, [], pki.trust, NOW, { id });
    assert.ok(r.ok, `${id.type} ${id.value}: ${!r.ok && r.reason}`);
  }
  for (const id of [
    { type: 'fqdn', value: 'spoke2.example' },
    { type: 'user-fqdn', value: 'root@spoke1.example' },
    { type: 'ipv4', value: '192.0.2.8' },
    { type: 'key-id', value: 'spoke1' },
  ] as const) {
    const r = verifyPeerCertificate(c.der, [], pki.trust, NOW, { id });
    assert.equal(r.ok, false, `${id.type} ${id.value}`);
    assert.match((r as { reason: string }).reason, /does not name the identity/);
  }
  // ID_DER_ASN1_DN: the subject's DER, octet for octet.
  assert.ok(verifyPeerCertificate(c.der, [], pki.trust, NOW, { id: undefined, dnDer: subjectDer(c.cert) }).ok);
  const other = await pki.node('spoke2.example');
  assert.equal(verifyPeerCertificate(c.der, [], pki.trust, NOW, { id: undefined, dnDer: subjectDer(other.cert) }).ok, false);
  const s = summarize(c.cert);
  assert.equal(s.subject, 'CN=spoke1.example');
  assert.equal(s.ca, false);
  assert.match(s.fingerprint, /^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('refused: another CA, expired, not yet valid, expired CA, unparsable; the reasons say which', async () => {
  const pki = await testPki();
  const other = await testPki('ed25519', 'other');
  const good = await pki.node('spoke1.example');
  const foreign = await other.node('spoke1.example');
  const reason = (r: ReturnType<typeof verifyPeerCertificate>) => (r.ok ? 'ok' : r.reason);
  assert.match(reason(verifyPeerCertificate(foreign.der, [], pki.trust, NOW)), /CN=spoke1.example \(issuer CN=Test CA other ed25519\) is not signed by the site CA/);
  // Presenting the foreign CA as an "intermediate" does not help: it does not chain to the site CA.
  assert.equal(verifyPeerCertificate(foreign.der, [new Uint8Array(parseCertificates(other.ca.certPem)[0]!.raw)], pki.trust, NOW).ok, false);
  assert.match(reason(verifyPeerCertificate(good.der, [], pki.trust, Date.UTC(2030, 0, 2))), /expired on 2030-01-01T00:00:00.000Z/);
  assert.match(reason(verifyPeerCertificate(good.der, [], pki.trust, Date.UTC(2024, 0, 1))), /not valid before 2025-01-01/);
  // A CA that expired before its node certificate did.
  const shortCa = await createCa({ commonName: 'Short CA', notBefore: NOT_BEFORE, notAfter: new Date(Date.UTC(2026, 0, 1)) });
  const node = await issueCertificate({ ca: shortCa, identities: [{ type: 'fqdn', value: 'x.example' }], notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  const shortTrust = trustStore(parseCertificates(shortCa.certPem));
  assert.match(reason(verifyPeerCertificate(loadCredential(node.certPem, node.keyPem).der, [], shortTrust, NOW)), /site CA: certificate CN=Short CA expired/);
  assert.match(reason(verifyPeerCertificate(Uint8Array.of(0x30, 0x03, 1, 2, 3), [], pki.trust, NOW)), /does not parse/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => verifyPeerCertificate(b, [b], pki.trust, NOW).ok === false),
    { numRuns: 500 },
  );
});

test('a node certificate is no trust anchor; a key of another certificate is refused; keys never print', async () => {
  const pki = await testPki();
  const node = await issueCertificate({ ca: pki.ca, identities: [{ type: 'fqdn', value: 'a.example' }], notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  const node2 = await issueCertificate({ ca: pki.ca, identities: [{ type: 'fqdn', value: 'b.example' }], notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  assert.throws(() => trustStore(parseCertificates(node.certPem)), /is not a CA certificate/);
  assert.throws(() => loadCredential(node.certPem, node2.keyPem), /the private key does not belong to the certificate/);
  assert.throws(() => loadCredential(node.certPem, 'not a key'), (e: Error) => e instanceof PkiError && /private key does not parse/.test(e.message));
  assert.throws(() => parseCertificates('no pem here'), /no PEM certificate/);
  const cred = loadCredential(node.certPem, node.keyPem);
  const keyBody = node.keyPem.split('\n')[1]!;
  for (const text of [JSON.stringify(cred), inspect(cred, { depth: 5 }), String(cred.key)]) {
    assert.doesNotMatch(text, /PRIVATE KEY/);
    assert.ok(!text.includes(keyBody.slice(0, 24)), 'no key material');
  }
  assert.match(JSON.stringify(cred), /"certificate":"[0-9A-F:]+"/);
});

test('verified paths are cached per trust store; validity and identity are checked at every use', async () => {
  const pki = await testPki();
  const other = await testPki('ed25519', 'other');
  const c = await pki.node('cached.example');
  assert.ok(verifyPeerCertificate(c.der, [], pki.trust, NOW).ok);
  assert.ok(verifyPeerCertificate(c.der, [], pki.trust, NOW, { id: { type: 'fqdn', value: 'cached.example' } }).ok, 'hit');
  assert.equal(verifyPeerCertificate(c.der, [], pki.trust, NOW, { id: { type: 'fqdn', value: 'other.example' } }).ok, false, 'identity on a hit');
  assert.equal(verifyPeerCertificate(c.der, [], pki.trust, Date.UTC(2031, 0, 1)).ok, false, 'expiry on a hit');
  assert.equal(verifyPeerCertificate(c.der, [], other.trust, NOW).ok, false, 'another trust store checks afresh');
  // The same CA file loaded again is a new trust store: still trusted.
  assert.ok(verifyPeerCertificate(c.der, [], trustStore(parseCertificates(pki.ca.certPem)), NOW).ok);
});
