import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clampMss, mssForMtu } from '../../../src/engine/dataplane/mss-clamp.js';
import { parseIp } from '../../../src/engine/dataplane/ip-packet.js';
import { l4ChecksumOk, tcpPacket, v4, v6 } from './packet-fixtures.js';

const A4 = { src: v4('10.1.0.5'), dst: v4('10.2.0.9') };
const A6 = { src: v6('2001:db8:1::5'), dst: v6('2001:db8:2::9') };

function mssOf(pkt: Uint8Array, l4: number): number | undefined {
  const hl = (pkt[l4 + 12]! >> 4) * 4;
  for (let i = l4 + 20; i < l4 + hl; ) {
    const k = pkt[i]!;
    if (k === 0) return undefined;
    if (k === 1) {
      i++;
      continue;
    }
    if (k === 2) return (pkt[i + 2]! << 8) | pkt[i + 3]!;
    i += pkt[i + 1]!;
  }
  return undefined;
}

test('mssForMtu: MTU minus IP and TCP headers', () => {
  assert.equal(mssForMtu(1500, 4), 1460);
  assert.equal(mssForMtu(1400, 6), 1340);
});

test('clamps a SYN MSS above the limit and keeps the checksum valid (IPv4 and IPv6)', () => {
  for (const a of [A4, A6]) {
    const pkt = tcpPacket(a, 40000, 80, 0x02, [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2]);
    const p = parseIp(pkt)!;
    assert.equal(clampMss(pkt, p, 1360), 'clamped');
    assert.equal(mssOf(pkt, p.l4Offset), 1360);
    assert.ok(l4ChecksumOk(pkt, p.l4Offset, 6));
  }
});

test('leaves small MSS, non-SYN, no-option and malformed-option segments alone', () => {
  const small = tcpPacket(A4, 1, 2, 0x12, [2, 4, 0x04, 0x00]);
  assert.equal(clampMss(small, parseIp(small)!, 1360), 'unchanged');
  assert.equal(mssOf(small, 20), 1024);
  const ack = tcpPacket(A4, 1, 2, 0x10, [2, 4, 0x05, 0xb4]);
  assert.equal(clampMss(ack, parseIp(ack)!, 1360), 'not-syn');
  const none = tcpPacket(A4, 1, 2, 0x02, [1, 1, 1, 1]);
  assert.equal(clampMss(none, parseIp(none)!, 1360), 'no-mss-option');
  const bad = tcpPacket(A4, 1, 2, 0x02, [8, 40, 0, 0]);
  const before = bad.slice();
  assert.equal(clampMss(bad, parseIp(bad)!, 1360), 'malformed-options');
  assert.deepEqual(bad, before);
  const zeroLen = tcpPacket(A4, 1, 2, 0x02, [8, 0, 0, 0]);
  assert.equal(clampMss(zeroLen, parseIp(zeroLen)!, 1360), 'malformed-options');
});

test('fuzz: any alignment of the MSS option (odd offsets too) keeps the checksum valid', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 65535 }),
      fc.integer({ min: 500, max: 1460 }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 30 }),
      (nops, mss, limit, six, payload) => {
        const opts = [...Array(nops).fill(1), 2, 4, mss >> 8, mss & 0xff];
        const pkt = tcpPacket(six ? A6 : A4, 1000, 2000, 0x02, opts, [...payload]);
        const p = parseIp(pkt)!;
        const r = clampMss(pkt, p, limit);
        assert.equal(r, mss > limit ? 'clamped' : 'unchanged');
        assert.equal(mssOf(pkt, p.l4Offset), Math.min(mss, limit));
        assert.ok(l4ChecksumOk(pkt, p.l4Offset, 6));
      },
    ),
    { numRuns: 500 },
  );
});

test('fuzz: random option bytes never throw or write outside the TCP header', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (opts) => {
      const pkt = tcpPacket(A4, 1, 2, 0x02, [...opts], [0xaa, 0xbb]);
      const p = parseIp(pkt)!;
      const before = pkt.slice();
      clampMss(pkt, p, 536);
      const hl = (pkt[p.l4Offset + 12]! >> 4) * 4;
      for (let i = 0; i < pkt.length; i++) {
        const inOptions = i >= p.l4Offset + 20 && i < p.l4Offset + hl;
        const isChecksum = i === p.l4Offset + 16 || i === p.l4Offset + 17;
        if (!inOptions && !isChecksum) assert.equal(pkt[i], before[i], `byte ${i} changed`);
      }
      assert.ok(l4ChecksumOk(pkt, p.l4Offset, 6));
    }),
    { numRuns: 1000 },
  );
});
