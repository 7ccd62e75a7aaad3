/**
 * A peer config with role 'initiator' also answers its own gateway: when the peer deletes the
 * IKE SA and builds a new one itself (charon's break-before-make reauthentication), the new
 * IKE_SA_INIT is accepted instead of dropped, and the tunnel is back at once. When the peer
 * deletes and does not rebuild, this end reconnects after a short delay (not the 30 s backoff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_DELETE_RECONNECT_MS } from '../../../src/engine/ike/ike-engine.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

const I_ADDR = '198.51.100.10';

function peerState(h: TwoParty, side: 'i' | 'r') {
  return h[side].engine.snapshot().peers[0]!;
}

test('initiator role: the peer reauthenticates break-before-make (DELETE, then a new IKE_SA_INIT); accepted at once', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: [I_ADDR] }));
  h.net.queue.length = 0; // the peer's own first attempt is lost: meshgate builds the tunnel
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  const sa = h.i.engine.sasOf('hub')[0]!;
  assert.equal(sa.initiator, true);
  assert.equal(sa.state, 'established');
  const peerSa = h.r.engine.sasOf('spoke1')[0]!;
  // The peer deletes the IKE SA ...
  peerSa.queueIkeDelete('deleted-locally');
  h.settle();
  assert.equal(sa.alive, false);
  assert.equal(sa.destroyReason, 'deleted-by-peer');
  assert.equal(peerState(h, 'i').state, 'waiting', 'meshgate schedules its own reconnect');
  assert.ok(peerState(h, 'i').retryInMs! <= PEER_DELETE_RECONNECT_MS, `short reconnect delay: ${peerState(h, 'i').retryInMs}`);
  // ... and initiates a new one right away.
  assert.equal(h.r.engine.connect('spoke1'), true);
  h.settle();
  const sas = h.i.engine.sasOf('hub');
  assert.equal(sas.length, 1);
  const fresh = sas[0]!;
  assert.equal(fresh.state, 'established');
  assert.equal(fresh.initiator, false, 'meshgate answered the peer as responder');
  assert.equal(fresh.config?.name, 'hub');
  assert.equal(h.i.engine.counters['drop-no-responder-config'], undefined);
  assert.equal(peerState(h, 'i').state, 'up');
  assert.equal(peerState(h, 'i').retryInMs, undefined, 'the reconnect timer is cancelled');
  assert.equal([...fresh.children.values()].filter((c) => c.state === 'installed').length, 1, 'the child came up with it');
  // Nothing more happens: no second SA from meshgate's timer.
  for (let k = 0; k < 60; k++) {
    h.clock.advance(1_000);
    h.settle();
  }
  assert.equal(h.i.engine.allSas().length, 1);
  assert.equal(h.r.engine.allSas().length, 1);
  assert.equal(h.i.engine.counters['duplicate-sa'], undefined);
});

test('initiator role: a peer that deletes and does not come back is reconnected after the short delay', () => {
  const h = new TwoParty();
  h.establish(initiatorConfig(), responderConfig());
  const peerSa = h.r.engine.sasOf('spoke1')[0]!;
  peerSa.queueIkeDelete('deleted-locally');
  h.settle();
  assert.equal(h.i.engine.allSas().length, 0);
  h.clock.advance(PEER_DELETE_RECONNECT_MS - 1);
  assert.equal(h.inFlight, 0, 'nothing before the delay');
  h.clock.advance(1);
  assert.equal(h.inFlight, 1, 'IKE_SA_INIT after the delay');
  h.settle();
  assert.equal(peerState(h, 'i').state, 'up');
  assert.equal(h.i.engine.counters['reconnect-after-peer-delete'], 1);
});

test('initiator role: IKE_SA_INIT from an address that is not its gateway is dropped; a wrong identity from the gateway fails IKE_AUTH', () => {
  const h = new TwoParty();
  // The "responder" here only initiates towards meshgate (role both); meshgate's peer points elsewhere.
  h.i.engine.addPeer(initiatorConfig({ remoteGateways: ['203.0.113.77'] }));
  h.net.queue.length = 0; // meshgate's own attempt towards 203.0.113.77 goes nowhere
  h.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: [I_ADDR] }));
  h.settle();
  assert.equal(h.i.engine.counters['drop-no-responder-config'], 1);
  assert.equal(h.i.engine.allSas().filter((s) => !s.initiator).length, 0);

  const h2 = new TwoParty();
  h2.i.engine.addPeer(initiatorConfig());
  h2.net.queue.length = 0; // meshgate's own attempt is lost
  h2.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: [I_ADDR], localId: 'impostor.example' }));
  h2.settle();
  assert.equal(h2.i.engine.allSas().filter((s) => !s.initiator && s.state === 'established').length, 0, 'identity hub.example expected, impostor.example refused');
  assert.equal(h2.r.engine.snapshot().peers[0]!.state === 'up', false);
});
