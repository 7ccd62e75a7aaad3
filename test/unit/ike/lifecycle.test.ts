import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';
import type { IkeSa } from '../../../src/engine/ike/ike-sa.js';
import { tsToString } from '../../../src/engine/ike/traffic-selector.js';

function childOf(sa: IkeSa) {
  const c = [...sa.children.values()].filter((x) => x.state === 'installed');
  assert.equal(c.length, 1, `one installed child on IKE SA ${sa.ikeId}`);
  return c[0]!;
}

test('child rekey: make before break, then DELETE of the old child', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const old = childOf(sa);
  const oldPeer = childOf(peer);
  h.i.installer.calls.length = 0;
  h.r.installer.calls.length = 0;
  sa.queueChildRekey(old);
  assert.equal(old.state, 'rekeying');

  // CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } -->
  let s = h.step();
  assert.deepEqual(s.names, ['N(REKEY_SA)', 'SA', 'Nonce', 'TSi', 'TSr']);
  assert.equal(oldPeer.state, 'rekeyed');
  assert.deepEqual(h.r.installer.calls.map((c) => c.op), ['install', 'install'], 'new pair installed, old still there');
  // <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr }
  s = h.step();
  assert.deepEqual(s.names, ['SA', 'Nonce', 'TSi', 'TSr']);
  assert.equal(old.state, 'deleting');
  assert.equal(h.i.events['child-rekeyed']?.length, 1);
  const fresh = old.replacedBy!;
  assert.equal(fresh.state, 'installed');
  assert.ok(h.i.installer.has(fresh.spiIn, 'in') && h.i.installer.has(old.spiIn, 'in'), 'both inbound SAs during the switch');
  // INFORMATIONAL { D(ESP, old SPIi) } -->
  s = h.step();
  assert.deepEqual(s.names, ['D']);
  assert.equal(oldPeer.state, 'deleted');
  assert.equal(h.r.installer.has(oldPeer.spiIn, 'in'), false);
  // <-- INFORMATIONAL { D(ESP, old SPIr) }
  s = h.step();
  assert.deepEqual(s.names, ['D']);
  assert.equal(old.state, 'deleted');
  assert.equal(h.i.installer.has(old.spiIn, 'in'), false);
  assert.equal(h.i.installer.has(fresh.spiIn, 'in'), true);
  assert.equal(sa.children.size, 1);
  assert.equal(peer.children.size, 1);
  assert.equal(h.i.events['child-down'], undefined, 'a rekey is not a child going down');
  // The new keys are fresh and match crosswise.
  const pIn = h.r.installer.list('in')[0]!;
  const iOut = h.i.installer.list('out')[0]!;
  assert.equal(pIn.spi, iOut.spi);
  assert.deepEqual(pIn.keyMaterial, iOut.keyMaterial);
});

test('child rekey with PFS carries KE payloads', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ espProposals: ['aes256gcm16-x25519'] }), responderConfig({ espProposals: ['aes256gcm16-x25519'] }));
  sa.queueChildRekey(childOf(sa));
  // CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, KEi, TSi, TSr } -->
  assert.deepEqual(h.step().names, ['N(REKEY_SA)', 'SA', 'Nonce', 'KE', 'TSi', 'TSr']);
  // <-- CREATE_CHILD_SA { SA, Nr, KEr, TSi, TSr }
  assert.deepEqual(h.step().names, ['SA', 'Nonce', 'KE', 'TSi', 'TSr']);
  h.settle();
  assert.equal(childOf(sa).suite?.dh, 31);
  assert.equal(h.i.installer.list('in')[0]!.keyBits, 256);
});

test('IKE rekey: children move to the new IKE SA, the old one is deleted', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const child = childOf(sa);
  sa.queueIkeRekey();
  assert.equal(sa.state, 'rekeying');
  // CREATE_CHILD_SA { SA, Ni, KEi } -->
  let s = h.step();
  assert.deepEqual(s.names, ['SA', 'Nonce', 'KE']);
  assert.equal(peer.state, 'rekeyed');
  const peerNew = peer.replacedBy!;
  assert.equal(peerNew.state, 'established');
  // <-- CREATE_CHILD_SA { SA, Nr, KEr }
  s = h.step();
  assert.deepEqual(s.names, ['SA', 'Nonce', 'KE']);
  assert.equal(sa.state, 'deleting');
  const fresh = sa.replacedBy!;
  assert.equal(fresh.state, 'established');
  assert.equal(fresh.children.get(child.childId), child, 'the child moved');
  assert.equal(sa.children.size, 0);
  assert.equal(fresh.spiI, peerNew.spiI);
  assert.equal(fresh.spiR, peerNew.spiR);
  assert.notEqual(fresh.spiI, sa.spiI);
  // INFORMATIONAL { D(IKE) } -->   (on the old SA)
  s = h.step();
  assert.deepEqual(s.names, ['D']);
  assert.equal(peer.state, 'destroyed');
  // <-- INFORMATIONAL { }
  h.step();
  assert.equal(sa.state, 'destroyed');
  assert.equal(h.i.events['ike-down'], undefined, 'a rekey is not the tunnel going down');
  assert.equal(h.i.events['ike-rekeyed']?.length, 1);
  assert.equal(h.r.events['ike-rekeyed']?.length, 1);
  assert.equal(h.i.installer.calls.filter((c) => c.op === 'remove').length, 0, 'ESP untouched');
  // The new SA works: a DPD-style exchange and a child rekey run on it.
  fresh.queueChildRekey(child);
  h.settle();
  assert.equal(childOf(fresh).spiIn !== child.spiIn, true);
  assert.equal(fresh.rekeys, 1);
  const snap = h.i.engine.snapshot();
  assert.equal(snap.peers.length, 1);
  assert.equal(snap.peers[0]!.rekeys, 1);
  assert.equal(snap.peers[0]!.ikeId, fresh.ikeId);
});

test('delete from the initiator: INFORMATIONAL { D(IKE) }, both ends down, ESP removed', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  h.i.engine.disconnect('hub');
  // INFORMATIONAL { D(IKE) } -->
  assert.deepEqual(h.step().names, ['D']);
  assert.equal(peer.state, 'destroyed');
  assert.equal(h.r.installer.list().length, 0);
  // <-- INFORMATIONAL { }
  assert.deepEqual(h.step().names, []);
  assert.equal(sa.state, 'destroyed');
  assert.equal(h.i.installer.list().length, 0);
  assert.equal(h.i.events['ike-down']?.[0]?.reason, 'deleted-locally');
  assert.equal(h.r.events['ike-down']?.[0]?.reason, 'deleted-by-peer');
  assert.equal(h.i.engine.snapshot().peers[0]!.state, 'down', 'no reconnect after a local disconnect');
});

test('delete from the responder: the initiator reconnects after 5 s (the peer gets the first chance to rebuild)', () => {
  const h = new TwoParty();
  const { sa } = h.establish();
  h.r.engine.disconnect('spoke1');
  h.settle();
  assert.equal(sa.state, 'destroyed');
  assert.equal(h.i.events['ike-down']?.[0]?.reason, 'deleted-by-peer');
  const retry = h.i.events['peer-retry']?.[0];
  assert.ok(retry && retry.retryInMs === 5_000, JSON.stringify(retry));
  h.clock.advance(retry.retryInMs);
  h.settle();
  assert.equal(h.i.engine.sasOf('hub')[0]?.state, 'established');
});

test('child delete from either side', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  peer.queueChildDelete(childOf(peer), 'deleted-locally');
  // INFORMATIONAL { D(ESP) } <--
  assert.deepEqual(h.step().names, ['D']);
  assert.equal(sa.children.size, 0);
  assert.equal(h.i.events['child-down']?.[0]?.reason, 'deleted-by-peer');
  // --> INFORMATIONAL { D(ESP) }
  assert.deepEqual(h.step().names, ['D']);
  assert.equal(peer.children.size, 0);
  assert.equal(sa.state, 'established', 'the IKE SA stays');
  assert.equal(h.i.installer.list().length + h.r.installer.list().length, 0);
  // A static tunnel of ours must carry traffic: the initiator negotiates a new child.
  h.clock.advance(5_000);
  // CREATE_CHILD_SA { SA, Ni, TSi, TSr } -->
  assert.deepEqual(h.step().names, ['SA', 'Nonce', 'TSi', 'TSr']);
  h.settle();
  assert.equal(sa.children.size, 1);
  assert.equal(peer.children.size, 1);
  assert.equal(h.i.engine.counters['child-recreated'], 1);
  // A child deleted on purpose here is not recreated.
  sa.queueChildDelete(childOf(sa), 'deleted-locally');
  h.settle();
  h.clock.advance(10_000);
  assert.equal(h.inFlight, 0);
  assert.equal(sa.children.size, 0);
});

test('DPD: a silent peer is declared dead after the retries', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ dpdIntervalMs: 10_000, dpdRetries: 2 }));
  // Nothing reaches the responder any more.
  h.clock.advance(10_000);
  assert.equal(h.inFlight, 1, 'liveness check sent');
  const sent = h.i.sent[h.i.sent.length - 1]!;
  assert.equal(sent.exchangeType, 37);
  assert.deepEqual(sent.payloads, []);
  h.net.drop();
  h.clock.advance(5_000); // retransmit 1 (DPD retransmits every 5 s)
  h.net.drop();
  h.clock.advance(5_000); // retransmit 2
  h.net.drop();
  h.clock.advance(4_999);
  assert.equal(sa.state, 'established');
  h.clock.advance(1); // timeout: 10 s + (2 + 1) x 5 s after the last packet from the peer
  assert.equal(sa.state, 'destroyed');
  assert.equal(h.i.events['ike-down']?.[0]?.reason, 'dpd-timeout');
  assert.equal(h.i.events['retransmit']?.length, 2);
  assert.equal(h.i.installer.list().length, 0, 'routes withdrawn: ESP SAs removed');
});

test('DPD: an answering peer keeps the SA', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ dpdIntervalMs: 10_000 }));
  for (let i = 0; i < 3; i++) {
    h.clock.advance(10_000);
    // INFORMATIONAL { } -->  <-- INFORMATIONAL { }
    assert.equal(h.settle(), 2);
  }
  assert.equal(sa.state, 'established');
  assert.equal(h.r.engine.counters['dpd-answered'], 3);
});

test('retransmission: a lost request is resent, a duplicate request gets the cached response', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  const sa = h.i.engine.allSas()[0]!;
  sa.queueChildRekey(childOf(sa));
  h.step(); // request arrives, response queued
  h.net.drop(); // ... and lost
  h.clock.advance(4_000); // initiator retransmits the same bytes
  h.step();
  assert.equal(h.r.engine.counters['retransmitted-request'], 1);
  h.settle();
  assert.equal(childOf(sa).state, 'installed');
  assert.equal(h.i.engine.allSas()[0]!.children.size, 1);
  assert.equal(h.r.engine.allSas()[0]!.children.size, 1);
});

test('simultaneous child rekey: the exchange with the lowest nonce loses, one child survives at both ends', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const c = childOf(sa);
  const pc = childOf(peer);
  sa.queueChildRekey(c);
  peer.queueChildRekey(pc);
  assert.equal(h.inFlight, 2);
  // CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } -->  (from the initiator)
  h.step();
  // <-- CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr }  (from the responder)
  h.step();
  h.settle();
  const iWon = h.i.events['rekey-collision']?.[0]?.won;
  const rWon = h.r.events['rekey-collision']?.[0]?.won;
  assert.equal(typeof iWon, 'boolean');
  assert.equal(iWon, !rWon, 'exactly one winner');
  const iKids = [...sa.children.values()];
  const rKids = [...peer.children.values()];
  assert.equal(iKids.length, 1);
  assert.equal(rKids.length, 1);
  assert.equal(iKids[0]!.spiIn, rKids[0]!.spiOut);
  assert.equal(iKids[0]!.spiOut, rKids[0]!.spiIn);
  assert.equal(h.i.installer.list().length, 2);
  assert.equal(h.r.installer.list().length, 2);
  assert.notEqual(iKids[0]!.spiIn, c.spiIn);
});

test('simultaneous IKE rekey: one new IKE SA survives at both ends with the child', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const c = childOf(sa);
  sa.queueIkeRekey();
  peer.queueIkeRekey();
  h.settle();
  const iSas = h.i.engine.allSas();
  const rSas = h.r.engine.allSas();
  assert.equal(iSas.length, 1, iSas.map((s) => `${s.ikeId}:${s.state}`).join());
  assert.equal(rSas.length, 1);
  assert.equal(iSas[0]!.state, 'established');
  assert.equal(iSas[0]!.spiI, rSas[0]!.spiI);
  assert.equal(iSas[0]!.spiR, rSas[0]!.spiR);
  assert.equal(iSas[0]!.children.get(c.childId), c);
  assert.equal(rSas[0]!.children.size, 1);
  assert.equal(h.i.events['rekey-collision']?.[0]?.won, !h.r.events['rekey-collision']?.[0]?.won);
  // And it still works.
  iSas[0]!.queueChildRekey(c);
  h.settle();
  assert.equal(childOf(iSas[0]!).state, 'installed');
});

test('an additional child SA: CREATE_CHILD_SA { SA, Ni, TSi, TSr }, narrowed by the responder', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  assert.equal(h.i.engine.createChild(sa.ikeId, { localTs: ['10.1.5.0/24'], remoteTs: ['10.0.0.0/8'] }), true);
  // CREATE_CHILD_SA { SA, Ni, TSi, TSr } -->
  assert.deepEqual(h.step().names, ['SA', 'Nonce', 'TSi', 'TSr']);
  // <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr }
  assert.deepEqual(h.step().names, ['SA', 'Nonce', 'TSi', 'TSr']);
  assert.equal(sa.children.size, 2);
  assert.equal(peer.children.size, 2);
  const added = [...sa.children.values()].at(-1)!;
  assert.deepEqual(IkeSaTs(added.remoteTs), ['10.0.0.0/16'], 'narrowed to the responder policy');
  assert.deepEqual(IkeSaTs(added.localTs), ['10.1.5.0/24']);
  assert.equal(h.i.installer.list().length, 4);
  assert.equal(h.i.events['child-up']?.length, 2);
});

test('ESP limits from the data path: soft rekeys, hard deletes', () => {
  const h = new TwoParty();
  const { sa } = h.establish();
  const c = childOf(sa);
  assert.equal(h.i.engine.onEspLimit(c.spiOut, 'soft'), true);
  h.settle();
  assert.equal(c.state, 'deleted');
  const n = childOf(sa);
  assert.equal(h.i.engine.onEspLimit(n.spiIn, 'hard'), true);
  h.settle();
  assert.equal(sa.children.size, 0);
  assert.equal(h.i.events['child-down']?.[0]?.reason, 'lifetime-expired');
  assert.equal(h.i.engine.onEspLimit(12345, 'soft'), false);
});

function IkeSaTs(ts: { startAddress: string; endAddress: string; family: 4 | 6; ipProtocol: number; startPort: number; endPort: number }[]): string[] {
  return ts.map((t) => tsToString(t));
}

test('IKE rekey and child rekey crossing: both refused with TEMPORARY_FAILURE, both retried apart and done', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const c = childOf(sa);
  peer.queueIkeRekey();
  sa.queueChildRekey(c);
  // CREATE_CHILD_SA { SA, Ni, KEi } <-- and --> CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } cross;
  // each end has an exchange of its own in flight and answers N(TEMPORARY_FAILURE) (RFC 7296 2.25).
  h.settle();
  assert.equal(h.i.engine.counters['child-rekey-refused'], 1);
  assert.equal(h.r.engine.counters['ike-rekey-failed'], 1);
  assert.equal(c.state, 'installed', 'old child still in service');
  assert.equal(sa.state, 'established');
  const done = () => (c.state as string) === 'deleted' && (peer.state as string) === 'destroyed';
  for (let t = 0; t < 20 && !done(); t++) {
    h.clock.advance(1_000);
    h.settle();
  }
  assert.ok(done(), 'child rekeyed and IKE SA rekeyed');
  const [fresh] = h.i.engine.allSas();
  assert.equal(h.i.engine.allSas().length, 1);
  assert.equal(childOf(fresh!).state, 'installed');
  assert.equal(h.r.engine.allSas()[0]!.children.size, 1);
  assert.equal(h.i.installer.list().length, 2);
});

test('rekeys that cross unevenly: one end completes first, the other is refused and keeps the peer rekey', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const c = childOf(sa);
  const pc = childOf(peer);
  sa.queueChildRekey(c); // request A in flight to the responder
  peer.queueChildRekey(pc); // request B in flight to the initiator
  const [a, b] = [h.net.queue[0]!, h.net.queue[1]!];
  assert.equal(a.to.address, '192.0.2.1');
  // A reaches the responder (B active there: collision recorded), its answer reaches the
  // initiator before B does: the initiator completes A without knowing of B.
  h.net.queue.splice(0, 2);
  h.net.queue.push(a);
  h.step(); // CREATE_CHILD_SA A -->
  h.step(); // <-- CREATE_CHILD_SA A response
  assert.equal(c.state, 'deleting');
  h.net.queue.unshift(b);
  h.step(); // <-- CREATE_CHILD_SA B: the old child is being deleted: TEMPORARY_FAILURE
  h.settle();
  h.clock.advance(20_000);
  h.settle();
  assert.equal(sa.children.size, 1);
  assert.equal(peer.children.size, 1);
  const [ci] = [...sa.children.values()];
  const [cr] = [...peer.children.values()];
  assert.equal(ci!.spiIn, cr!.spiOut);
  assert.equal(ci!.spiOut, cr!.spiIn);
  assert.equal(h.i.installer.list().length, 2);
  assert.equal(h.r.installer.list().length, 2);
  assert.equal(h.r.events['child-rekeyed']?.length, 1);
  assert.equal(h.r.engine.counters['child-rekey-refused'], 1, 'B was refused');
  assert.equal(h.i.engine.counters['create-child-refused'], 1);
});
