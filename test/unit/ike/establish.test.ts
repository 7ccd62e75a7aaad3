import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

test('establish with PSK, one message at a time', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  const [isa] = h.i.engine.sasOf('hub');
  assert.ok(isa);
  assert.equal(isa.state, 'connecting');

  // IKE_SA_INIT { SA, KE, Ni, N(NATD_S_IP) forced, N(MESHGATE_NATD_SOURCE = 51728) true hash, N(NATD_D_IP), V } -->
  let s = h.step();
  assert.equal(s.to, h.r);
  assert.deepEqual(s.names, ['SA', 'KE', 'Nonce', 'N(NATD_S_IP)', 'N(51728)', 'N(NATD_D_IP)', 'V']);
  const [rsa] = h.r.engine.allSas();
  assert.ok(rsa);
  assert.equal(rsa.state, 'connecting');

  // <-- IKE_SA_INIT { SA, KE, Nr, N(NATD_S_IP), N(NATD_D_IP), V }
  s = h.step();
  assert.equal(s.to, h.i);
  assert.deepEqual(s.names, ['SA', 'KE', 'Nonce', 'N(NATD_S_IP)', 'N(NATD_D_IP)', 'V']);
  assert.equal(isa.spiR, rsa.spiR);
  assert.equal(isa.natLocal, false);
  assert.equal(isa.peerIsMeshgate, true);

  // IKE_AUTH { IDi, N(INITIAL_CONTACT), IDr, AUTH, SA, TSi, TSr } -->
  s = h.step();
  assert.equal(s.to, h.r);
  assert.deepEqual(s.names, ['IDi', 'N(INIT_CONTACT)', 'IDr', 'AUTH', 'SA', 'TSi', 'TSr']);
  assert.equal(rsa.state, 'established');
  assert.equal(h.r.installer.list().length, 2);

  // <-- IKE_AUTH { IDr, AUTH, SA, TSi, TSr }
  s = h.step();
  assert.equal(s.to, h.i);
  assert.deepEqual(s.names, ['IDr', 'AUTH', 'SA', 'TSi', 'TSr']);
  assert.equal(isa.state, 'established');
  assert.equal(h.inFlight, 0);

  // Both ends installed the same pair of SAs, crosswise, with the same keys.
  const iIn = h.i.installer.list('in')[0]!;
  const iOut = h.i.installer.list('out')[0]!;
  const rIn = h.r.installer.list('in')[0]!;
  const rOut = h.r.installer.list('out')[0]!;
  assert.equal(iIn.spi, rOut.spi);
  assert.equal(iOut.spi, rIn.spi);
  assert.deepEqual(iIn.keyMaterial, rOut.keyMaterial);
  assert.deepEqual(iOut.keyMaterial, rIn.keyMaterial);
  assert.notDeepEqual(iIn.keyMaterial, iOut.keyMaterial);
  assert.equal(iOut.encrId, 28);
  assert.deepEqual(iOut.localTs.map((t) => t.startAddress), ['10.1.0.0']);
  assert.equal(h.i.events['ike-up']?.length, 1);
  assert.equal(h.r.events['ike-up']?.length, 1);
  assert.equal(h.i.events['child-up']?.length, 1);
  const snap = h.i.engine.snapshot();
  assert.equal(snap.peers[0]!.state, 'up');
  assert.equal(snap.peers[0]!.proposal, 'chacha20poly1305-prfsha256-x25519 / chacha20poly1305');
  assert.deepEqual(snap.peers[0]!.remoteNetworks, ['10.0.0.0/16']);
});
