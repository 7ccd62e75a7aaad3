import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TwoParty, initiatorConfig, responderConfig } from './harness.js';

test('retransmission: 4 s * 1.8^n, 5 tries, then the SA goes down with reason timeout', () => {
  const h = new TwoParty();
  h.i.engine.addPeer(initiatorConfig()); // nobody answers: the responder has no peer
  const times: number[] = [];
  h.i.engine.events.on('retransmit', () => times.push(h.clock.now()));
  const t0 = h.clock.now();
  for (let i = 0; i < 2000; i++) {
    while (h.inFlight) h.net.drop();
    h.clock.advance(100);
    if (h.i.events['timeout']) break;
  }
  assert.deepEqual(
    times.map((t) => Math.round((t - t0) / 100) / 10),
    [4, 11.2, 24.2, 47.5, 89.5],
  );
  const timeout = h.i.events['timeout']![0]!;
  assert.equal(timeout.exchange, 'IKE_SA_INIT');
  assert.equal(Math.round((h.clock.now() - t0) / 1000), 165);
  assert.equal(h.i.engine.allSas().length, 0);
  assert.match(h.i.engine.snapshot().peers[0]!.lastError ?? '', /no response to IKE_SA_INIT/);
});

test('message IDs: one exchange at a time; queued tasks wait; IDs count up per direction', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  assert.deepEqual(sa.tasks.messageIds, { initiating: 2, responding: 0 });
  assert.deepEqual(peer.tasks.messageIds, { initiating: 0, responding: 2 });
  const child = [...sa.children.values()][0]!;
  sa.queueChildRekey(child);
  sa.queueIkeRekey();
  assert.equal(h.inFlight, 1, 'window of one');
  assert.equal(sa.tasks.queuedTasks.length, 1);
  const s = h.step();
  assert.equal(s.message!.messageId, 2);
  h.settle();
  h.clock.advance(1); // the moved child delete runs as a job
  h.settle();
  // child rekey (2), IKE rekey (3), old IKE SA delete (4), so 5 next; the queued child delete moved on
  assert.equal(sa.state, 'destroyed');
  assert.equal(sa.tasks.messageIds.initiating, 5);
  const [fresh] = h.i.engine.allSas();
  assert.equal(fresh!.tasks.messageIds.initiating, 1, 'the old child was deleted on the new SA (ID 0)');
  assert.equal(fresh!.children.size, 1);
  assert.equal(h.r.engine.allSas()[0]!.children.size, 1);
  assert.equal(h.i.installer.list().length, 2);
  assert.equal(h.r.installer.list().length, 2);
});

test('a request with a message ID out of the window is dropped and counted', () => {
  const h = new TwoParty();
  const { sa } = h.establish();
  sa.queue({
    type: 'informational',
    exchangeType: 37,
    initiator: true,
    build: () => 'success',
    process: () => 'success',
  });
  const d = h.net.queue[0]!;
  // Replay the same request twice later: the first replay is a retransmission (cached answer),
  h.step();
  h.step();
  h.net.queue.push({ ...d, data: d.data.slice() });
  h.step();
  assert.equal(h.r.engine.counters['retransmitted-request'], 1);
  h.net.drop(); // cached answer
  // ... an older one (after another exchange) is out of the window.
  sa.queueIkeRekey();
  h.settle();
  h.net.queue.push({ ...d, data: d.data.slice() });
  h.step();
  assert.equal(h.r.engine.counters['drop-unknown-spi'], 1, 'old SA is gone after the IKE rekey');
});

test('a retransmitted IKE_SA_INIT gets the same response and creates no second SA', () => {
  const h = new TwoParty();
  h.r.engine.addPeer(responderConfig());
  h.i.engine.addPeer(initiatorConfig());
  const req = h.net.queue[0]!;
  h.step();
  const resp1 = h.net.queue[0]!.data;
  h.net.queue.push({ ...req, data: req.data.slice() });
  h.net.drop(); // first answer lost
  h.step(); // duplicate request
  assert.equal(h.r.engine.allSas().length, 1);
  assert.deepEqual(h.net.queue[0]!.data, resp1, 'byte-identical cached response');
  h.settle();
  assert.equal(h.i.engine.allSas()[0]!.state, 'established');
});
