import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';
import type { Endpoint } from '../../../src/engine/net/types.js';

function collect(t: { onReceive(h: (p: Uint8Array, f: Endpoint) => void): void }) {
  const got: { data: number[]; from: Endpoint }[] = [];
  t.onReceive((p, from) => got.push({ data: [...p], from }));
  return got;
}

test('datagrams arrive after the link latency, copied at send time', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 10 } });
  const a = net.attach('198.51.100.1');
  const b = net.attach('198.51.100.2');
  const got = collect(b);
  const buf = Uint8Array.of(1, 2, 3);
  assert.equal(a.send(buf, b.local), true);
  buf[0] = 99; // the sender reuses its buffer
  clock.advance(9);
  assert.equal(got.length, 0);
  clock.advance(1);
  assert.deepEqual(got, [{ data: [1, 2, 3], from: { address: '198.51.100.1', port: 4500 } }]);
  assert.equal(net.counters.delivered, 1);
});

test('loss is drawn from the seed: the same seed loses the same datagrams', () => {
  const run = (seed: number) => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock, { seed, defaultLink: { latencyMs: 1, loss: 0.3 } });
    const a = net.attach('10.0.0.1');
    const b = net.attach('10.0.0.2');
    const got = collect(b);
    for (let i = 0; i < 200; i++) a.send(Uint8Array.of(i), b.local);
    clock.advance(5);
    return got.map((g) => g.data[0]);
  };
  const first = run(42);
  assert.deepEqual(run(42), first);
  assert.notDeepEqual(run(43), first);
  assert.ok(first.length > 100 && first.length < 180, `about 70 % delivered, got ${first.length}`);
});

test('a node that is down or a cut link loses everything; restoring brings traffic back', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const a = net.attach('10.0.0.1');
  const b = net.attach('10.0.0.2');
  const got = collect(b);
  net.setDown('10.0.0.2', true);
  a.send(Uint8Array.of(1), b.local);
  clock.advance(5);
  net.setDown('10.0.0.2', false);
  net.setCut('10.0.0.2', '10.0.0.1', true);
  a.send(Uint8Array.of(2), b.local);
  clock.advance(5);
  net.setCut('10.0.0.1', '10.0.0.2', false);
  a.send(Uint8Array.of(3), b.local);
  clock.advance(5);
  assert.deepEqual(got.map((g) => g.data[0]), [3]);
  assert.equal(net.counters.unreachable, 2);
});

test('a NAT rewrites the source and filters unsolicited inbound datagrams', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const hub = net.attach('203.0.113.1');
  const natted = net.attach('192.168.1.10', 4500, { nat: { publicAddress: '203.0.113.50', mappingTimeoutMs: 30_000 } });
  const other = net.attach('203.0.113.2');
  const atHub = collect(hub);
  const atNatted = collect(natted);
  const pub = net.publicEndpointOf(natted.local);
  assert.equal(pub.address, '203.0.113.50');

  // Unsolicited: filtered.
  other.send(Uint8Array.of(1), pub);
  clock.advance(5);
  assert.equal(atNatted.length, 0);
  assert.equal(net.counters.natFiltered, 1);

  // Outbound opens a permission for that remote only.
  natted.send(Uint8Array.of(2), hub.local);
  clock.advance(5);
  assert.deepEqual(atHub[0]!.from, pub);
  hub.send(Uint8Array.of(3), pub);
  other.send(Uint8Array.of(4), pub);
  clock.advance(5);
  assert.deepEqual(atNatted.map((g) => g.data[0]), [3]);
  assert.deepEqual(atNatted[0]!.from, hub.local);

  // The permission expires without outbound traffic.
  clock.advance(31_000);
  hub.send(Uint8Array.of(5), pub);
  clock.advance(5);
  assert.equal(atNatted.length, 1);
});

test('closed transports refuse to send and stop receiving', async () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const a = net.attach('10.0.0.1');
  const b = net.attach('10.0.0.2');
  const got = collect(b);
  await b.close();
  a.send(Uint8Array.of(1), { address: '10.0.0.2', port: 4500 });
  clock.advance(5);
  assert.equal(got.length, 0);
  assert.equal(b.send(Uint8Array.of(1), a.local), false);
  assert.throws(() => net.attach('10.0.0.1'), /already attached/);
});
