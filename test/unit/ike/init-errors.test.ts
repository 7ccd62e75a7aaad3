import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

test('wrong PSK: AUTHENTICATION_FAILED at both ends, nothing installed', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig({ psk: 'not the right secret' }));
  h.step(); // IKE_SA_INIT -->
  h.step(); // <-- IKE_SA_INIT
  // IKE_AUTH { IDi, N(INITIAL_CONTACT), IDr, AUTH, SA, TSi, TSr } -->
  h.step();
  assert.equal(h.r.engine.allSas().length, 0, 'responder forgot the SA');
  assert.equal(h.r.events['auth-failed']?.[0]?.side, 'local');
  // <-- IKE_AUTH { N(AUTHENTICATION_FAILED) }
  const s = h.step();
  assert.deepEqual(s.names, ['N(AUTH_FAILED)']);
  assert.equal(h.i.events['auth-failed']?.[0]?.side, 'remote');
  assert.equal(h.i.engine.allSas().length, 0);
  assert.equal(h.i.installer.calls.length, 0);
  assert.equal(h.r.installer.calls.length, 0);
  const peer = h.i.engine.snapshot().peers[0]!;
  assert.equal(peer.state, 'waiting', 'a reconnect is scheduled');
  assert.match(peer.lastError ?? '', /AUTHENTICATION_FAILED/);
  assert.ok(peer.retryInMs! >= 20_000 && peer.retryInMs! <= 40_000, `30 s +/- 10 s, got ${peer.retryInMs}`);
});

test('responder AUTH that does not verify: the initiator fails it locally', () => {
  const h = new TwoParty();
  // The responder presents an identity the initiator does not expect.
  h.r.engine.addPeer(responderConfig({ localId: 'impostor.example' }));
  h.i.engine.addPeer(initiatorConfig());
  h.step(); // IKE_SA_INIT -->
  h.step(); // <-- IKE_SA_INIT
  h.step(); // IKE_AUTH -->
  h.step(); // <-- IKE_AUTH { IDr(impostor), AUTH }
  assert.equal(h.i.events['auth-failed']?.[0]?.side, 'local');
  assert.match(h.i.events['auth-failed']?.[0]?.detail ?? '', /identity/);
  assert.equal(h.i.engine.allSas().length, 0);
  assert.equal(h.r.engine.allSas()[0]?.state, 'established');
  // INFORMATIONAL { N(AUTHENTICATION_FAILED) } -->
  const s = h.step();
  assert.deepEqual(s.names, ['N(AUTH_FAILED)']);
  assert.equal(s.message!.messageId, 2);
  assert.equal(h.r.engine.allSas().length, 0, 'the responder drops the SA too');
  assert.equal(h.r.events['auth-failed']?.[0]?.side, 'remote');
  assert.equal(h.r.installer.list().length, 0);
});

test('no common proposal: NO_PROPOSAL_CHOSEN, the responder keeps no state', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ ikeProposals: ['aes256gcm16-prfsha384-ecp256'] }));
  h.i.engine.addPeer(initiatorConfig({ ikeProposals: ['chacha20poly1305-prfsha256-x25519'] }));
  h.step(); // IKE_SA_INIT -->
  assert.equal(h.r.engine.allSas().length, 0);
  assert.equal(h.r.engine.counters['no-proposal-chosen'], 1);
  // <-- IKE_SA_INIT { N(NO_PROPOSAL_CHOSEN) }
  const s = h.step();
  assert.deepEqual(s.names, ['N(NO_PROP)']);
  assert.equal(s.message!.spiR, 0n);
  assert.equal(h.i.engine.allSas().length, 0);
  assert.equal(h.i.events['ike-down'], undefined, 'never up, so no ike-down');
  assert.match(h.i.engine.snapshot().peers[0]!.lastError ?? '', /NO_PROPOSAL_CHOSEN/);
});

test('INVALID_KE_PAYLOAD: the initiator retries with the group the responder asks for', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ ikeProposals: ['aes128gcm16-prfsha256-ecp256'] }));
  h.i.engine.addPeer(initiatorConfig({ ikeProposals: ['aes128gcm16-prfsha256-x25519-ecp256'] }));
  // IKE_SA_INIT { SA, KE(31), Ni, ... } -->
  let s = h.step();
  assert.equal(s.message!.payloads.find((p) => p.type === 34 && p.group === 31) !== undefined, true);
  // <-- IKE_SA_INIT { N(INVALID_KE_PAYLOAD(19)) }
  s = h.step();
  assert.deepEqual(s.names, ['N(INVAL_KE)']);
  const n = s.message!.payloads[0]!;
  assert.ok(n.type === 41);
  assert.deepEqual([...n.data], [0, 19]);
  // IKE_SA_INIT { SA, KE(19), Ni, ... } -->   (message ID 0 again)
  s = h.step();
  assert.equal(s.message!.messageId, 0);
  const ke = s.message!.payloads.find((p) => p.type === 34);
  assert.ok(ke && ke.type === 34 && ke.group === 19 && ke.data.length === 64);
  h.settle();
  const [sa] = h.i.engine.allSas();
  assert.equal(sa?.state, 'established');
  assert.equal(sa?.describeSuite(), 'aes128gcm16-prfsha256-ecp256');
  assert.equal(h.i.engine.counters['invalid-ke-retry'], 1);
});

test('COOKIE: under half-open load the responder demands a cookie; the initiator retries with it', () => {
  const h = new TwoParty({ cookieThreshold: 0 });
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  // IKE_SA_INIT { SA, KE, Ni, N(NATD_S_IP), N(NATD_D_IP), V } -->
  h.step();
  assert.equal(h.r.engine.allSas().length, 0, 'no state before the cookie comes back');
  assert.equal(h.r.engine.counters['cookie-demanded'], 1);
  // <-- IKE_SA_INIT { N(COOKIE) }   (stateless: not traced by an SA, check what arrives)
  assert.equal(h.inFlight, 1);
  h.step();
  assert.equal(h.i.engine.counters['cookie-retry'], 1);
  // IKE_SA_INIT { N(COOKIE), SA, KE, Ni, N(NATD_S_IP), N(NATD_D_IP), V } -->
  const s = h.step();
  assert.deepEqual(s.names, ['N(COOKIE)', 'SA', 'KE', 'Nonce', 'N(NATD_S_IP)', 'N(51728)', 'N(NATD_D_IP)', 'V']);
  assert.equal(h.r.engine.counters['cookie-accepted'], 1);
  h.settle();
  assert.equal(h.i.engine.allSas()[0]?.state, 'established');
});

test('a forged cookie is refused again', () => {
  const h = new TwoParty({ cookieThreshold: 0 });
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  h.step(); // IKE_SA_INIT -->
  const cookieAnswer = h.net.queue[0]!;
  // Flip a bit of the cookie value on its way back.
  cookieAnswer.data[cookieAnswer.data.length - 1]! ^= 1;
  h.step(); // <-- N(COOKIE) (tampered)
  h.step(); // IKE_SA_INIT { N(COOKIE'), ... } -->
  assert.equal(h.r.engine.counters['cookie-invalid'], 1);
  assert.equal(h.r.engine.allSas().length, 0);
});

test('TS narrowing: the responder answers with the intersection; disjoint selectors get TS_UNACCEPTABLE', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ remoteTs: ['10.1.2.0/24'] }));
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  const sa = h.i.engine.allSas()[0]!;
  const child = [...sa.children.values()][0]!;
  assert.deepEqual(child.localTs.map((t) => `${t.startAddress}-${t.endAddress}`), ['10.1.2.0-10.1.2.255']);

  const h2 = new TwoParty();
  h2.r.engine.addPeer(responderConfig({ remoteTs: ['172.16.0.0/12'] }));
  h2.i.engine.addPeer(initiatorConfig());
  h2.step();
  h2.step();
  h2.step();
  const s = h2.step(); // <-- IKE_AUTH { IDr, AUTH, N(TS_UNACCEPTABLE) }
  assert.deepEqual(s.names, ['IDr', 'AUTH', 'N(TS_UNACCEPT)']);
  const isa = h2.i.engine.allSas()[0]!;
  assert.equal(isa.state, 'established', 'the IKE SA stays up');
  assert.equal(isa.children.size, 0);
  assert.match(isa.lastError ?? '', /TS_UNACCEPTABLE/);
  assert.equal(h2.i.installer.calls.length, 0);
});

test('asymmetric pre-shared keys (LCOS Local-/Remote-Password): each side proves its own', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ psk: 'the hub proves with this', remotePsk: 'the spoke proves with that' }));
  h.i.engine.addPeer(initiatorConfig({ psk: 'the spoke proves with that', remotePsk: 'the hub proves with this' }));
  h.settle();
  assert.equal(h.i.engine.allSas()[0]?.state, 'established');
  const h2 = new TwoParty();
  h2.r.engine.addPeer(responderConfig({ psk: 'the hub proves with this', remotePsk: 'the spoke proves with that' }));
  h2.i.engine.addPeer(initiatorConfig({ psk: 'the spoke proves with that' })); // expects the hub to use the same key
  h2.settle();
  assert.equal(h2.i.events['auth-failed']?.[0]?.side, 'local', 'the hub AUTH does not verify with the spoke key');
  assert.equal(h2.r.events['auth-failed']?.[0]?.side, 'remote');
});

test('half-open limit: beyond it IKE_SA_INIT is dropped and counted; an expired half-open SA frees its slot', () => {
  const h = new TwoParty({ maxHalfOpen: 1, halfOpenTimeoutMs: 10_000 });
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig({ name: 'a' }));
  h.step(); // IKE_SA_INIT (a) -->
  h.net.drop(); // its answer is lost: a half-open SA stays at the responder
  h.i.engine.addPeer(initiatorConfig({ name: 'b', localId: 'spoke2.example' }));
  h.step(); // IKE_SA_INIT (b) -->
  assert.equal(h.r.engine.counters['drop-half-open-limit'], 1);
  assert.equal(h.r.engine.allSas().length, 1);
  h.clock.advance(10_000);
  assert.equal(h.r.engine.counters['half-open-expired'], 1);
  assert.equal(h.r.engine.allSas().length, 0);
});

test('the COOKIE threshold follows a live setting (Negotiation-Control): raised, no cookie; lowered to 0, cookies again', () => {
  const h = new TwoParty({ cookieThreshold: 0 });
  h.r.engine.setCookieThreshold(100);
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  assert.equal(h.r.engine.counters['cookie-demanded'], undefined);
  assert.equal(h.i.engine.allSas()[0]?.state, 'established');
  h.r.engine.setCookieThreshold(0);
  h.i.engine.removePeer('hub');
  h.settle();
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  assert.equal(h.r.engine.counters['cookie-demanded'], 1);
});
