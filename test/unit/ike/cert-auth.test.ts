/**
 * Certificate authentication between two meshgate engines (RFC 7296 2.15, RFC 7427, RFC 8420):
 * the payloads of each message, every key type, and the refusals (wrong CA, expired,
 * identity mismatch) on either side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthMethod, PayloadType } from '../../../src/engine/ike/constants.js';
import { first } from '../../../src/engine/ike/message.js';
import { decodeSignatureAuth } from '../../../src/engine/crypto/signature.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';
import { testPki } from '../pki/fixtures.js';
import type { PeerConfigInput } from '../../../src/engine/ike/peer-config.js';

async function certConfigs(algorithm: 'ed25519' | 'ecdsa-p256' | 'rsa-3072' = 'ed25519'): Promise<{ i: PeerConfigInput; r: PeerConfigInput }> {
  const pki = await testPki(algorithm);
  const spoke = await pki.node('spoke1.example');
  const hub = await pki.node('hub.example');
  const i = initiatorConfig({ authMethod: 'cert', credential: spoke, trust: pki.trust });
  const r = responderConfig({ authMethod: 'cert', credential: hub, trust: pki.trust });
  delete i.psk;
  delete r.psk;
  return { i, r };
}

const SCHEME_OF = { ed25519: 'ed25519', 'ecdsa-p256': 'ecdsa-sha256', 'rsa-3072': 'rsa-pkcs1-sha256' } as const;

for (const algorithm of ['ed25519', 'ecdsa-p256', 'rsa-3072'] as const) {
  test(`certificates (${algorithm}): CERT, CERTREQ, AUTH method 14 and SIGNATURE_HASH_ALGORITHMS, message by message`, async () => {
    const { i, r } = await certConfigs(algorithm);
    const h = new TwoParty();
    h.r.engine.addPeer(r);
    h.i.engine.addPeer(i);
    let s = h.step();
    assert.ok(s.names.includes('N(HASH_ALG)'), s.names.join(' '));
    s = h.step();
    assert.ok(s.names.includes('N(HASH_ALG)'));
    assert.ok(s.names.includes('CERTREQ'), 'the responder asks for a certificate of its CA');
    const certreq = first(s.message!, PayloadType.CERTREQ)!;
    assert.equal(certreq.encoding, 4);
    assert.deepEqual(certreq.data, (await testPki(algorithm)).trust.keyIds[0]);
    s = h.step();
    assert.deepEqual(s.names, ['IDi', 'N(INIT_CONTACT)', 'CERT', 'CERTREQ', 'IDr', 'AUTH', 'SA', 'TSi', 'TSr']);
    const auth = first(s.message!, PayloadType.AUTH)!;
    assert.equal(auth.method, AuthMethod.DIGITAL_SIGNATURE);
    const d = decodeSignatureAuth(auth.data);
    assert.ok(d.ok);
    assert.equal(d.alg.scheme, SCHEME_OF[algorithm]);
    s = h.step();
    assert.deepEqual(s.names, ['IDr', 'CERT', 'AUTH', 'SA', 'TSi', 'TSr']);
    const isa = h.i.engine.sasOf('hub')[0]!;
    const rsa = h.r.engine.sasOf('spoke1')[0]!;
    assert.equal(isa.state, 'established');
    assert.equal(rsa.state, 'established');
    assert.equal(rsa.remoteIdentity?.value, 'spoke1.example');
    assert.equal(h.i.installer.list().length, 2);
    assert.equal(h.r.installer.list().length, 2);
  });
}

test('mixed: the initiator signs, the responder answers with a PSK (Local-Auth / Remote-Auth)', async () => {
  const pki = await testPki();
  const spoke = await pki.node('spoke1.example');
  {
    const h = new TwoParty();
    h.r.engine.addPeer(responderConfig({ authMethod: 'psk', remoteAuthMethod: 'cert', trust: pki.trust }));
    h.i.engine.addPeer(initiatorConfig({ authMethod: 'cert', remoteAuthMethod: 'psk', credential: spoke }));
    h.settle();
    assert.equal(h.i.engine.sasOf('hub')[0]?.state, 'established');
    assert.equal(h.r.engine.sasOf('spoke1')[0]?.state, 'established');
  }
});

test('a PSK where a certificate is expected is refused (AUTHENTICATION_FAILED)', async () => {
  const pki = await testPki();
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ remoteAuthMethod: 'cert', trust: pki.trust }));
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  assert.equal(h.i.engine.sasOf('hub').length, 0);
  assert.equal(h.r.engine.allSas().length, 0);
  assert.equal(h.r.engine.counters['auth-method-mismatch'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /signature is required/);
  assert.equal(h.i.events['auth-failed']![0]!.side, 'remote');
});

test('initiator certificate from another CA: the responder answers AUTHENTICATION_FAILED, counted, with the reason', async () => {
  const { i, r } = await certConfigs();
  const other = await testPki('ed25519', 'other');
  i.credential = await other.node('spoke1.example');
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.step();
  h.step();
  h.step(); // IKE_AUTH request
  const s = h.step(); // the answer
  assert.deepEqual(s.names, ['N(AUTH_FAILED)']);
  assert.equal(h.r.engine.counters['auth-cert-untrusted'], 1);
  const detail = h.r.events['auth-failed']![0]!.detail;
  assert.match(detail, /not signed by the site CA/);
  assert.doesNotMatch(detail, /PRIVATE KEY/);
  assert.equal(h.r.engine.allSas().length, 0);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
  assert.match(h.i.engine.snapshot().peers[0]!.lastError ?? '', /AUTHENTICATION_FAILED/);
});

test('responder certificate from another CA: the initiator refuses it and tells the responder', async () => {
  const { i, r } = await certConfigs();
  const other = await testPki('ed25519', 'other');
  r.credential = await other.node('hub.example');
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.i.engine.counters['auth-cert-untrusted'], 1);
  assert.match(h.i.engine.snapshot().peers[0]!.lastError ?? '', /responder certificate authentication failed: .*not signed by the site CA/);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
  // The responder got INFORMATIONAL { N(AUTHENTICATION_FAILED) } and forgot the SA.
  assert.equal(h.r.engine.allSas().filter((s) => s.state === 'established').length, 0);
});

test('an expired certificate is refused with its end date', async () => {
  const { i, r } = await certConfigs();
  const pki = await testPki();
  i.credential = await pki.node('spoke1.example', { notBefore: new Date(Date.UTC(2024, 0, 1)), notAfter: new Date(Date.UTC(2025, 5, 1)) });
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.r.engine.counters['auth-cert-expired'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /expired on 2025-06-01/);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
});

test('identity mismatch: a certificate for spoke2 presented as spoke1 is refused; Remote-Cert-ID-Check off accepts it', async () => {
  const { i, r } = await certConfigs();
  const pki = await testPki();
  i.credential = await pki.node('spoke2.example');
  let h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.r.engine.counters['auth-cert-id-mismatch'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /does not name the identity fqdn:spoke1.example/);

  h = new TwoParty();
  h.r.engine.addPeer({ ...r, remoteCertIdCheck: false });
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.r.engine.sasOf('spoke1')[0]?.state, 'established');
});

test('a signature by another key than the certificate\'s does not verify', async () => {
  const { i, r } = await certConfigs('ecdsa-p256');
  const pki = await testPki('ecdsa-p256');
  const other = await pki.node('other.example');
  i.credential = { ...i.credential!, key: other.key };
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.r.engine.counters['auth-failed'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /signature of CN=spoke1.example does not verify/);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
});

test('garbage in the CERT payload: AUTHENTICATION_FAILED, counted, no exception on the receive path', async () => {
  const { i, r } = await certConfigs();
  i.credential = { ...i.credential!, der: Uint8Array.of(0x30, 0x82, 0xff, 0xff, 1, 2, 3) };
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.i.engine.addPeer(i);
  h.settle();
  assert.equal(h.r.engine.counters['auth-cert-untrusted'], 1);
  assert.match(h.r.events['auth-failed']![0]!.detail, /peer certificate does not parse/);
  assert.equal(h.r.engine.counters['drop-internal-error'], undefined);
  assert.equal(h.r.engine.counters['task-error'], undefined);
  assert.equal(h.i.engine.sasOf('hub').length, 0);
});

test('the responder\'s CERTREQ lists each trusted CA once, across its responder configs', async () => {
  const { i, r } = await certConfigs();
  const other = await testPki('ed25519', 'other');
  const h = new TwoParty();
  h.r.engine.addPeer(r);
  h.r.engine.addPeer({ ...r, name: 'spoke2', remoteId: 'spoke2.example' });
  h.r.engine.addPeer({ ...r, name: 'spoke3', remoteId: 'spoke3.example', trust: other.trust });
  h.r.engine.addPeer(responderConfig({ name: 'pskonly', remoteId: 'psk.example' }));
  h.i.engine.addPeer(i);
  h.step();
  const s = h.step();
  const certreq = first(s.message!, PayloadType.CERTREQ)!;
  assert.equal(certreq.data.length, 40, 'two SHA-1 key ids');
  assert.deepEqual(certreq.data.subarray(0, 20), (await testPki()).trust.keyIds[0]);
  assert.deepEqual(certreq.data.subarray(20), other.trust.keyIds[0]);
  h.settle();
  assert.equal(h.r.engine.sasOf('spoke1')[0]?.state, 'established');
});
