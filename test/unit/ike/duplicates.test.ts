/**
 * Both ends initiate at once and two IKE SAs come up for one peer. Between meshgate nodes
 * both ends pick the same loser (lowest nonce) and its initiator deletes it at once. A peer
 * that is not meshgate and does nothing about it (here: an engine whose outgoing and
 * incoming tunnels are two different peer configs, so it never sees a duplicate) gets
 * DUPLICATE_GRACE_MS to do so; then meshgate deletes the loser itself, also when the peer
 * initiated it. Either way one IKE SA remains, the same on both sides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DUPLICATE_GRACE_MS } from '../../../src/engine/ike/ike-engine.js';
import type { IkeSa } from '../../../src/engine/ike/ike-sa.js';
import { compareBytes } from '../../../src/engine/ike/message.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

const I_ADDR = '198.51.100.10';
const low = (x: IkeSa) => (compareBytes(x.nonceI!, x.nonceR!) <= 0 ? x.nonceI! : x.nonceR!);

function live(h: TwoParty, side: 'i' | 'r') {
  return h[side].engine.allSas().filter((s) => s.state === 'established');
}

test('simultaneous initiation between meshgate nodes: the lowest-nonce SA is deleted by its initiator at once', () => {
  const h = new TwoParty();
  h.i.engine.addPeer(initiatorConfig({ role: 'both' }));
  h.r.engine.addPeer(responderConfig({ role: 'both', remoteGateways: [I_ADDR] }));
  h.settle();
  assert.equal(h.i.engine.counters['duplicate-sa'], 1);
  assert.equal(h.r.engine.counters['duplicate-sa'], 1);
  assert.equal(live(h, 'i').length, 1);
  assert.equal(live(h, 'r').length, 1);
  assert.deepEqual([live(h, 'i')[0]!.spiI, live(h, 'i')[0]!.spiR], [live(h, 'r')[0]!.spiI, live(h, 'r')[0]!.spiR]);
  assert.equal(h.i.engine.counters['duplicate-deleted-for-peer'], undefined);
});

/** The peer: its own attempt under one config (no meshgate Vendor ID), answers under another. */
function peerThatIgnoresDuplicates(h: TwoParty): void {
  h.r.engine.addPeer(responderConfig({ name: 'in', remoteGateways: [I_ADDR] }));
  h.r.engine.addPeer(initiatorConfig({ name: 'out', remoteGateways: [I_ADDR], localId: 'hub.example', remoteId: 'spoke1.example', localTs: ['10.0.0.0/16'], remoteTs: ['10.1.0.0/16'], sendVendorId: false }));
}

/**
 * Both ends start at once; returns when meshgate has seen the duplicate. `spin` extra attempts
 * of the peer towards nowhere draw other nonces, so the test can pick which SA loses.
 */
function race(spin: number): { h: TwoParty; loser: IkeSa } | undefined {
  const h = new TwoParty();
  for (let k = 0; k < spin; k++) h.r.engine.addPeer(initiatorConfig({ name: `nowhere${k}`, remoteGateways: [`203.0.113.${k + 1}`] }));
  h.net.queue.length = 0;
  peerThatIgnoresDuplicates(h);
  h.i.engine.addPeer(initiatorConfig({ role: 'both' }));
  const ups: number[] = [];
  h.i.engine.events.on('ike-up', (e) => ups.push(e.ikeId));
  for (let n = 0; n < 50 && h.inFlight > 0 && (h.i.engine.counters['duplicate-sa'] ?? 0) === 0; n++) h.step();
  if (h.i.engine.counters['duplicate-sa'] !== 1 || ups.length !== 2) return undefined;
  const [a, b] = ups.map((id) => h.i.engine.allSas().find((s) => s.ikeId === id)!);
  return { h, loser: compareBytes(low(a!), low(b!)) < 0 ? a! : b! };
}

for (const peersLoses of [true, false]) {
  test(`simultaneous initiation with a peer that does not resolve duplicates (${peersLoses ? 'the peer\'s SA loses: deleted by meshgate after the grace period' : 'meshgate\'s SA loses: deleted at once'}); one IKE SA remains on both sides`, () => {
    let run: { h: TwoParty; loser: IkeSa } | undefined;
    for (let spin = 0; spin < 16 && !run; spin++) {
      const r = race(spin);
      if (r && r.loser.initiator === !peersLoses) run = r;
    }
    assert.ok(run, 'some start produced the wanted loser');
    const { h, loser } = run;
    assert.equal(h.r.engine.counters['duplicate-sa'], undefined, 'the peer does not see a duplicate');
    if (!peersLoses) {
      assert.equal(loser.state, 'deleting', 'our own SA lost: deleted at once, as between meshgate nodes');
      h.settle();
    } else {
      h.settle();
      h.clock.advance(DUPLICATE_GRACE_MS - 1);
      h.settle();
      assert.equal(live(h, 'i').length, 2, 'both still up during the grace period');
      h.clock.advance(1);
      h.settle();
      assert.equal(h.i.engine.counters['duplicate-deleted-for-peer'], 1);
    }
    assert.equal(loser.alive, false);
    const mine = live(h, 'i');
    const theirs = live(h, 'r');
    assert.equal(mine.length, 1);
    assert.equal(theirs.length, 1, 'the peer got the DELETE');
    assert.deepEqual([mine[0]!.spiI, mine[0]!.spiR], [theirs[0]!.spiI, theirs[0]!.spiR]);
    assert.equal([...mine[0]!.children.values()].filter((c) => c.state === 'installed').length, 1);
  });
}
