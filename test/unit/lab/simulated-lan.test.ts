import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { parseIp, transportChecksum } from '../../../src/engine/dataplane/ip-packet.js';
import { parseAddress } from '../../../src/engine/dataplane/address.js';
import { buildUdp, SimulatedLan } from '../../../src/lab/simulated-lan.js';

/** Two simulated LANs joined by a "router" that just passes packets across after 5 ms. */
function pair(v6 = false) {
  const clock = new FakeClock();
  const lans: SimulatedLan[] = [];
  const wire = (to: number) => ({
    inject: (...packets: Uint8Array[]) => {
      for (const p of packets) clock.setTimer(5, () => lans[to]!.receive(p));
      return packets.length;
    },
  });
  lans.push(new SimulatedLan(wire(1), v6 ? '2001:db8:1::/64' : '10.1.0.0/24', v6 ? '2001:db8:1::1' : '10.1.0.1', clock));
  lans.push(new SimulatedLan(wire(0), v6 ? '2001:db8:2::/64' : '10.2.0.0/24', v6 ? '2001:db8:2::1' : '10.2.0.1', clock));
  return { clock, a: lans[0]!, b: lans[1]! };
}

for (const v6 of [false, true]) {
  test(`ping between two simulated LANs (${v6 ? 'IPv6' : 'IPv4'}): replies with RTTs`, async () => {
    const { clock, a, b } = pair(v6);
    const done = a.ping(v6 ? '2001:db8:1::5' : '10.1.0.5', v6 ? '2001:db8:2::7' : '10.2.0.7', { count: 3, intervalMs: 100 });
    clock.advance(1000);
    const r = await done;
    assert.equal(r.sent, 3);
    assert.equal(r.received, 3);
    assert.deepEqual(r.rtts, [10, 10, 10]);
    assert.equal(b.counters.echoAnswered, 3);
  });
}

test('the router address and foreign addresses do not answer; a lost ping times out', async () => {
  const { clock, a, b } = pair();
  const toRouter = a.ping('10.1.0.5', '10.2.0.1', { count: 2, intervalMs: 100, timeoutMs: 500 });
  const elsewhere = a.ping('10.1.0.5', '10.9.0.1', { count: 1, timeoutMs: 500 });
  clock.advance(2000);
  assert.equal((await toRouter).received, 0);
  assert.equal((await elsewhere).received, 0);
  assert.equal(b.counters.unknown, 3);
  assert.equal(b.isHost(parseAddress('10.2.0.1')!), false);
  assert.equal(b.isHost(parseAddress('10.2.0.9')!), true);
});

test('UDP streams are counted per flow with their sequence numbers and valid checksums', () => {
  const { clock, a, b } = pair();
  a.udpStream('10.1.0.5', 5000, '10.2.0.7', 6000, { count: 10, intervalMs: 10, size: 100 });
  clock.advance(500);
  const f = b.udpFlows.get('10.1.0.5:5000>10.2.0.7:6000');
  assert.deepEqual(f, { packets: 10, bytes: 1000, lastSeq: 9, outOfOrder: 0 });
  const pkt = buildUdp(parseAddress('2001:db8::1')!, 1, parseAddress('2001:db8::2')!, 2, 7, 32);
  const p = parseIp(pkt)!;
  assert.equal(p.protocol, 17);
  assert.equal(transportChecksum(pkt, p), (pkt[46]! << 8) | pkt[47]!, 'stored checksum matches');
});
