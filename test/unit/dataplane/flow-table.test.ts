import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../../src/engine/clock.js';
import { FlowTable } from '../../../src/engine/dataplane/flow-table.js';
import { ParsedPacket, parsePacket } from '../../../src/engine/dataplane/ip-packet.js';
import { parsePrefix } from '../../../src/engine/dataplane/address.js';
import { icmpEcho, tcpPacket, udpPacket, v4, v6 } from './packet-fixtures.js';

const p = new ParsedPacket();
function track(t: FlowTable, pkt: Uint8Array, path?: string | number) {
  assert.equal(parsePacket(pkt, 0, pkt.length, p), 'ok');
  return t.track(pkt, p, path);
}

const H1 = v4('10.1.0.5');
const H2 = v4('10.2.0.9');

test('A->B and B->A are one flow with counters per direction', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock });
  const f1 = track(t, udpPacket({ src: H2, dst: H1 }, 5000, 53, [1, 2, 3, 4]), 'sa-hub')!;
  clock.advance(100);
  const f2 = track(t, udpPacket({ src: H1, dst: H2 }, 53, 5000, [1]))!;
  assert.equal(f1, f2);
  assert.equal(t.size, 1);
  assert.equal(f1.path, 'sa-hub');
  const [row] = t.list();
  assert.equal(row!.source, '10.2.0.9:5000', 'initiator first');
  assert.equal(row!.destination, '10.1.0.5:53');
  assert.equal(row!.packetsOut, 1);
  assert.equal(row!.bytesOut, 32);
  assert.equal(row!.packetsIn, 1);
  assert.equal(row!.bytesIn, 29);
  assert.equal(row!.firstSeen, 0);
  assert.equal(row!.lastSeen, 100);
  assert.equal(row!.protocol, 'UDP');
  // different ports or protocol: different flows
  track(t, udpPacket({ src: H2, dst: H1 }, 5001, 53));
  track(t, tcpPacket({ src: H2, dst: H1 }, 5000, 53, 0x02));
  assert.equal(t.size, 3);
});

test('ICMP echo flows are keyed by the echo id; IPv6 works the same', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock });
  const a = track(t, icmpEcho({ src: H1, dst: H2 }, 8, 77, 1))!;
  const b = track(t, icmpEcho({ src: H2, dst: H1 }, 0, 77, 1))!;
  const c = track(t, icmpEcho({ src: H1, dst: H2 }, 8, 78, 1))!;
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(t.list()[0]!.protocol, 'ICMP id 77');
  const s6 = v6('2001:db8:1::5');
  const d6 = v6('2001:db8:2::9');
  const x = track(t, tcpPacket({ src: s6, dst: d6 }, 1000, 443, 0x02))!;
  const y = track(t, tcpPacket({ src: d6, dst: s6 }, 443, 1000, 0x12))!;
  assert.equal(x, y);
  assert.equal(t.list().find((r) => r.id === x.id)!.source, '[2001:db8:1::5]:1000');
});

test('idle expiry: TCP outlives UDP and ICMP; FIN/RST shortens TCP', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock, timeouts: { tcp: 3600_000, 'tcp-closing': 10_000, udp: 120_000, icmp: 30_000 } });
  track(t, tcpPacket({ src: H1, dst: H2 }, 1, 80, 0x02));
  track(t, udpPacket({ src: H1, dst: H2 }, 1, 53));
  track(t, icmpEcho({ src: H1, dst: H2 }, 8, 1, 1));
  const closing = track(t, tcpPacket({ src: H1, dst: H2 }, 2, 80, 0x10))!;
  clock.advance(5_000);
  track(t, tcpPacket({ src: H2, dst: H1 }, 80, 2, 0x11)); // FIN from B
  assert.equal(closing.flowClass, 'tcp-closing');
  assert.equal(closing.finB, true);
  clock.advance(10_000);
  assert.equal(t.expire(), 1, 'closing TCP gone after 10 s');
  clock.advance(15_000);
  assert.equal(t.expire(), 1, 'ICMP gone after 30 s');
  assert.equal(t.size, 2);
  clock.advance(90_000);
  assert.equal(t.expire(), 1, 'UDP gone after 120 s');
  clock.advance(3_000_000);
  assert.equal(t.expire(), 0);
  clock.advance(600_000);
  assert.equal(t.expire(), 1, 'TCP gone after an hour');
  assert.equal(t.size, 0);
  assert.equal(t.counters.expired, 4);
  // RST and a new SYN on the same tuple
  const r = track(t, tcpPacket({ src: H1, dst: H2 }, 9, 80, 0x04))!;
  assert.equal(r.flowClass, 'tcp-closing');
  track(t, tcpPacket({ src: H1, dst: H2 }, 9, 80, 0x02));
  assert.equal(r.flowClass, 'tcp');
});

test('traffic keeps a flow alive (expiry counts from the last packet)', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock });
  for (let i = 0; i < 10; i++) {
    track(t, udpPacket({ src: H1, dst: H2 }, 1, 53));
    clock.advance(100_000);
    t.expire();
  }
  assert.equal(t.size, 1);
  const row = t.list()[0]!;
  assert.equal(row.expiresInMs, 20_000);
});

test('moveFlows moves exactly the flows between the two networks on the old path', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock });
  const ab = track(t, udpPacket({ src: v4('10.1.0.5'), dst: v4('10.2.0.9') }, 1, 2), 'hub')!;
  const ba = track(t, tcpPacket({ src: v4('10.2.0.3'), dst: v4('10.1.0.7') }, 3, 4, 0x02), 'hub')!;
  const ac = track(t, udpPacket({ src: v4('10.1.0.5'), dst: v4('10.3.0.9') }, 1, 2), 'hub')!;
  const other = track(t, udpPacket({ src: v4('10.1.0.6'), dst: v4('10.2.0.9') }, 1, 2), 'sa-9')!;
  const moved = t.moveFlows(parsePrefix('10.1.0.0/24')!, parsePrefix('10.2.0.0/24')!, 'hub', 'mesh-b');
  assert.deepEqual(moved.map((m) => m.flow.id).sort(), [ab.id, ba.id].sort());
  assert.equal(ab.path, 'mesh-b');
  assert.equal(ba.path, 'mesh-b');
  assert.equal(ab.switchovers, 1);
  assert.equal(ac.path, 'hub');
  assert.equal(other.path, 'sa-9');
  assert.equal(t.moveFlows(parsePrefix('10.1.0.0/24')!, parsePrefix('10.2.0.0/24')!, 'hub', 'mesh-b').length, 0);
  assert.equal(t.removeByPath('mesh-b'), 2);
  assert.equal(t.size, 2);
});

test('overflow: expired first, then LRU of the shortest-lived class; counted', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock, maxFlows: 3 });
  const tcp = track(t, tcpPacket({ src: H1, dst: H2 }, 1, 80, 0x02))!;
  const udp1 = track(t, udpPacket({ src: H1, dst: H2 }, 1, 53))!;
  clock.advance(1);
  const udp2 = track(t, udpPacket({ src: H1, dst: H2 }, 2, 53))!;
  clock.advance(1);
  track(t, udpPacket({ src: H1, dst: H2 }, 1, 53)); // udp1 is now the most recent
  track(t, udpPacket({ src: H1, dst: H2 }, 3, 53)); // table full: evicts udp2 (LRU UDP), not TCP
  assert.equal(t.size, 3);
  assert.equal(t.counters.evicted, 1);
  const ids = t.all().map((f) => f.id);
  assert.ok(ids.includes(tcp.id) && ids.includes(udp1.id) && !ids.includes(udp2.id));
  clock.advance(200_000); // all UDP due
  track(t, udpPacket({ src: H1, dst: H2 }, 4, 53));
  assert.equal(t.counters.evicted, 1, 'expiry made room, no eviction');
  assert.equal(t.size, 2);
});

test('later fragments are not keyed (counted), malformed parse results are not tracked', () => {
  const clock = new FakeClock();
  const t = new FlowTable({ clock });
  const frag = udpPacket({ src: H1, dst: H2, fragWord: 0x0010 }, 1, 2);
  assert.equal(track(t, frag), undefined);
  assert.equal(t.counters.unkeyed, 1);
  assert.equal(t.track(new Uint8Array(4), new ParsedPacket()), undefined);
});

test('fuzz: the table agrees with a string-keyed reference model, chains stay consistent', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          a: fc.integer({ min: 1, max: 4 }),
          b: fc.integer({ min: 1, max: 4 }),
          sp: fc.integer({ min: 1, max: 3 }),
          dp: fc.integer({ min: 1, max: 3 }),
          proto: fc.constantFrom('udp', 'tcp', 'icmp'),
          six: fc.boolean(),
          dt: fc.integer({ min: 0, max: 40_000 }),
        }),
        { maxLength: 150 },
      ),
      (ops) => {
        const clock = new FakeClock();
        const t = new FlowTable({ clock, timeouts: { udp: 60_000, icmp: 30_000, tcp: 100_000 } });
        const model = new Map<string, { last: number; timeout: number; n: number }>();
        for (const o of ops) {
          clock.advance(o.dt);
          t.expire();
          for (const [k, v] of model) if (clock.now() - v.last >= v.timeout) model.delete(k);
          const s = o.six ? v6(`2001:db8::${o.a}`) : v4(`10.0.0.${o.a}`);
          const d = o.six ? v6(`2001:db8::${o.b}`) : v4(`10.0.0.${o.b}`);
          const pkt =
            o.proto === 'udp'
              ? udpPacket({ src: s, dst: d }, o.sp, o.dp)
              : o.proto === 'tcp'
                ? tcpPacket({ src: s, dst: d }, o.sp, o.dp, 0x10)
                : icmpEcho({ src: s, dst: d }, o.six ? 128 : 8, o.sp, 1);
          const f = track(t, pkt)!;
          const ends = o.proto === 'icmp' ? [`${o.a}`, `${o.b}`] : [`${o.a}:${o.sp}`, `${o.b}:${o.dp}`];
          const key = `${o.six}|${o.proto}|${ends.sort().join('|')}${o.proto === 'icmp' ? `|id${o.sp}` : ''}`;
          const m = model.get(key) ?? { last: 0, timeout: o.proto === 'udp' ? 60_000 : o.proto === 'icmp' ? 30_000 : 100_000, n: 0 };
          m.last = clock.now();
          m.n++;
          model.set(key, m);
          assert.equal(f.packetsAtoB + f.packetsBtoA, m.n);
          assert.equal(t.size, model.size);
          assert.equal(t.all().length, model.size);
        }
      },
    ),
    { numRuns: 200 },
  );
});
