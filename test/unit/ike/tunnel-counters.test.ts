/**
 * show vpn's per-tunnel counters (IkeEngine.snapshot().peers): bytes and packets run on
 * across child rekeys and IKE rekeys (they count since the tunnel came up), child rekeys are
 * counted next to IKE rekeys, and a new connection starts from zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IkeSa } from '../../../src/engine/ike/ike-sa.js';
import { TwoParty } from './harness.js';

function installedChild(sa: IkeSa) {
  const c = [...sa.children.values()].filter((x) => x.state === 'installed');
  assert.equal(c.length, 1);
  return c[0]!;
}

function traffic(h: TwoParty, sa: IkeSa, bytesIn: number, bytesOut: number): void {
  const c = installedChild(sa);
  h.i.installer.addTraffic(c.spiIn, 'in', bytesIn, 1);
  h.i.installer.addTraffic(c.spiOut, 'out', bytesOut, 1);
}

function row(h: TwoParty) {
  const p = h.i.engine.snapshot().peers.find((x) => x.peer === 'hub')!;
  return { bytesIn: p.bytesIn, bytesOut: p.bytesOut, packetsIn: p.packetsIn, packetsOut: p.packetsOut, rekeys: p.rekeys, childRekeys: p.childRekeys };
}

test('tunnel counters run on across child rekeys (both sides initiating) and IKE rekeys; child rekeys are counted', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  traffic(h, sa, 1000, 500);
  assert.deepEqual(row(h), { bytesIn: 1000, bytesOut: 500, packetsIn: 1, packetsOut: 1, rekeys: 0, childRekeys: 0 });

  // A child rekey we start.
  sa.queueChildRekey(installedChild(sa));
  h.settle();
  assert.deepEqual(row(h), { bytesIn: 1000, bytesOut: 500, packetsIn: 1, packetsOut: 1, rekeys: 0, childRekeys: 1 }, 'the old child’s traffic is kept');
  traffic(h, sa, 200, 100);
  assert.deepEqual(row(h), { bytesIn: 1200, bytesOut: 600, packetsIn: 2, packetsOut: 2, rekeys: 0, childRekeys: 1 });

  // A child rekey the peer starts.
  peer.queueChildRekey(installedChild(peer));
  h.settle();
  traffic(h, sa, 10, 20);
  assert.deepEqual(row(h), { bytesIn: 1210, bytesOut: 620, packetsIn: 3, packetsOut: 3, rekeys: 0, childRekeys: 2 });

  // An IKE rekey: the children move, the counters go along.
  sa.queueIkeRekey();
  h.settle();
  const successor = h.i.engine.sasOf('hub').find((s) => s.state === 'established')!;
  assert.notEqual(successor, sa);
  assert.deepEqual(row(h), { bytesIn: 1210, bytesOut: 620, packetsIn: 3, packetsOut: 3, rekeys: 1, childRekeys: 2 });
  successor.queueChildRekey(installedChild(successor));
  h.settle();
  traffic(h, successor, 1, 2);
  assert.deepEqual(row(h), { bytesIn: 1211, bytesOut: 622, packetsIn: 4, packetsOut: 4, rekeys: 1, childRekeys: 3 });
  // The snapshot's IKE SA rows carry the child rekeys as well.
  assert.equal(h.i.engine.snapshot().ikeSas.find((s) => s.ikeId === successor.ikeId)!.childRekeys, 3);

  // A new connection starts from zero.
  h.i.engine.disconnect('hub');
  h.settle();
  h.i.engine.connect('hub');
  h.settle();
  assert.deepEqual(row(h), { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, rekeys: 0, childRekeys: 0 });
});

test('tunnel counters: a simultaneous child rekey (collision) counts one rekey and keeps the traffic', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  traffic(h, sa, 300, 300);
  sa.queueChildRekey(installedChild(sa));
  peer.queueChildRekey(installedChild(peer));
  h.settle();
  const r = row(h);
  assert.equal(r.childRekeys, 1, JSON.stringify(r));
  assert.deepEqual([r.bytesIn, r.bytesOut, r.packetsIn, r.packetsOut], [300, 300, 1, 1]);
  assert.equal(h.i.engine.counters['child-rekey-collision'], 1);
});
