/**
 * DPD timing as the General profile promises it (DPD-Inact-Timer T, Retries R): the liveness
 * check leaves T after the last packet from the peer, is retransmitted every 5 s up to R times,
 * and the peer counts as dead T + (R + 1) x 5 s after its last packet. Fake clock; the peer
 * is silent because nothing is delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DPD_RETRY_INTERVAL_MS, dpdDeadAfterMs } from '../../../src/engine/ike/tasks/ike-dpd.js';
import { decodeMessage } from '../../../src/engine/ike/codec/message.js';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

for (const [intervalMs, retries] of [
  [30_000, 5],
  [10_000, 2],
  [30_000, 0],
  [5_000, 20],
] as const) {
  test(`DPD ${intervalMs / 1000} s, ${retries} retries: checks at T, T+5 s, ...; dead at T + (R+1) x 5 s = ${dpdDeadAfterMs(intervalMs, retries) / 1000} s`, () => {
    const h = new TwoParty();
    const { sa } = h.establish(initiatorConfig({ dpdIntervalMs: intervalMs, dpdRetries: retries }), responderConfig({ dpdIntervalMs: 0 }));
    const t0 = h.clock.now();
    assert.equal(sa.lastInbound, t0);
    // From here on the peer hears nothing and says nothing: every datagram of the initiator is lost.
    const sentAt: number[] = [];
    let downAt: number | undefined;
    h.i.engine.events.on('ike-down', () => (downAt = h.clock.now()));
    for (let guard = 0; downAt === undefined && guard < 3000; guard++) {
      h.clock.advance(100);
      while (h.net.queue.length > 0) {
        const d = h.net.drop();
        const m = decodeMessage(d.data.subarray(4));
        if (d.from.address === h.i.engine.local.address && m.ok && m.message.exchangeType === 37) sentAt.push(h.clock.now() - t0);
      }
    }
    assert.ok(downAt !== undefined, 'the peer was declared dead');
    assert.equal(sa.destroyReason, 'dpd-timeout');
    const expected = [0, ...Array.from({ length: retries }, (_, k) => (k + 1) * DPD_RETRY_INTERVAL_MS)].map((x) => intervalMs + x);
    // The clock moves in 100 ms steps: each send is seen at the step it happened in.
    assert.deepEqual(sentAt.map((x) => Math.ceil(x / 100) * 100), expected, 'one check, then a retransmission every 5 s');
    assert.equal(Math.ceil((downAt - t0) / 100) * 100, dpdDeadAfterMs(intervalMs, retries));
    assert.equal(h.i.engine.counters['dpd-sent'], 1);
    assert.equal(h.i.engine.counters['retransmits'] ?? 0, retries);
  });
}

test('DPD retransmission is answered: the SA stays, and the next check waits a full interval', () => {
  const h = new TwoParty();
  const { sa } = h.establish(initiatorConfig({ dpdIntervalMs: 20_000, dpdRetries: 3 }), responderConfig({ dpdIntervalMs: 0 }));
  h.clock.advance(20_000);
  assert.equal(h.inFlight, 1, 'the check');
  h.net.drop(); // lost
  h.clock.advance(DPD_RETRY_INTERVAL_MS);
  assert.equal(h.inFlight, 1, 'retransmitted after 5 s');
  h.settle(); // answered
  assert.equal(sa.state, 'established');
  assert.equal(h.i.engine.counters['dpd-sent'], 1);
  h.clock.advance(19_000);
  assert.equal(h.inFlight, 0, 'no check before a full interval of silence');
  h.clock.advance(1_000);
  assert.equal(h.inFlight, 1);
  assert.equal(h.i.engine.counters['dpd-sent'], 2);
});
