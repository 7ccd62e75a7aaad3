/**
 * The receive path never throws: random datagrams and mutations of real ones are dropped
 * and counted, and an established SA is left as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TwoParty } from './harness.js';

function total(c: Record<string, number>, prefix: string): number {
  return Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
}

test('random datagrams: dropped and counted, SA state unchanged', () => {
  const h = new TwoParty();
  const { peer } = h.establish();
  const before = { state: peer.state, ids: peer.tasks.messageIds, children: peer.children.size };
  const from = h.i.engine.local;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), (bytes, ikeMarker) => {
      const data = ikeMarker ? Uint8Array.from([0, 0, 0, 0, ...bytes]) : bytes;
      const drops = total(h.r.engine.counters, 'drop-') + (h.r.engine.counters['rx-keepalive'] ?? 0);
      h.net.queue.push({ from, to: h.r.engine.local, data });
      h.net.deliver();
      const after = total(h.r.engine.counters, 'drop-') + (h.r.engine.counters['rx-keepalive'] ?? 0);
      assert.equal(after, drops + 1, `one drop counted for ${Buffer.from(data).toString('hex').slice(0, 40)}`);
      while (h.inFlight) h.net.drop();
    }),
    { numRuns: 500 },
  );
  assert.deepEqual({ state: peer.state, ids: peer.tasks.messageIds, children: peer.children.size }, before);
  assert.equal(h.r.engine.counters['drop-internal-error'] ?? 0, 0);
});

test('mutated real messages: a flipped bit never gets past SK authentication, state unchanged', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  // A real INFORMATIONAL request from the initiator, captured and then mutated.
  sa.queue({ type: 'informational', exchangeType: 37, initiator: true, build: () => 'success', process: () => 'success' });
  const original = h.net.drop();
  const before = { state: peer.state, ids: { ...peer.tasks.messageIds }, children: peer.children.size };
  fc.assert(
    fc.property(fc.integer({ min: 4, max: original.data.length - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const data = original.data.slice();
      data[at]! ^= 1 << bit;
      const rx = h.r.engine.counters['rx-ike'] ?? 0;
      h.net.queue.push({ ...original, data });
      h.net.deliver();
      assert.equal(h.r.engine.counters['rx-ike'] ?? 0, rx, `mutation at ${at}.${bit} was accepted`);
      while (h.inFlight) h.net.drop();
    }),
    { numRuns: 400 },
  );
  assert.deepEqual({ state: peer.state, ids: peer.tasks.messageIds, children: peer.children.size }, before);
  // The unmutated message still works afterwards.
  h.net.queue.push(original);
  h.settle();
  assert.equal(peer.tasks.messageIds.responding, before.ids.responding + 1);
});
