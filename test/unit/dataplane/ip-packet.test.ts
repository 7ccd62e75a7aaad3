import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ParsedPacket,
  parsePacket,
  parseIp,
  decrementTtl,
  buildIcmpError,
  buildEchoRequest,
  buildEchoReply,
  echoReplyInPlace,
  ipv4HeaderChecksum,
  verifyIpv4HeaderChecksum,
  transportChecksum,
  isEchoRequest,
  ICMPV4,
  ICMPV6,
} from '../../../src/engine/dataplane/ip-packet.js';
import { parseAddress, formatAddress } from '../../../src/engine/dataplane/address.js';
import { icmpEcho, ipPacket, ipv4HeaderOk, l4ChecksumOk, tcpPacket, udpPacket, v4, v6 } from './packet-fixtures.js';

const A4 = { src: v4('10.1.0.5'), dst: v4('10.2.0.9') };
const A6 = { src: v6('2001:db8:1::5'), dst: v6('2001:db8:2::9') };

test('IPv4 header checksum matches the textbook example (0xb861)', () => {
  const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 192, 168, 0, 1, 192, 168, 0, 199]);
  assert.equal(ipv4HeaderChecksum(hdr, 0, 20), 0xb861);
  assert.equal(verifyIpv4HeaderChecksum(hdr, 0, 20), true);
  hdr[15] = 2;
  assert.equal(verifyIpv4HeaderChecksum(hdr, 0, 20), false);
});

test('parses IPv4 UDP: lengths, protocol, addresses, ports, TTL', () => {
  const pkt = udpPacket({ ...A4, ttl: 17 }, 5000, 53, [1, 2, 3, 4, 5]);
  const p = new ParsedPacket();
  assert.equal(parsePacket(pkt, 0, pkt.length, p), 'ok');
  assert.equal(p.version, 4);
  assert.equal(p.headerLength, 20);
  assert.equal(p.totalLength, 33);
  assert.equal(p.protocol, 17);
  assert.equal(p.ttl, 17);
  assert.equal(formatAddress(pkt, p.srcOffset, 4), '10.1.0.5');
  assert.equal(formatAddress(pkt, p.dstOffset, 4), '10.2.0.9');
  assert.equal(p.srcPort, 5000);
  assert.equal(p.dstPort, 53);
  assert.equal(p.hasL4, true);
  assert.equal(p.dontFragment, true);
  assert.equal(transportChecksum(pkt, p), (pkt[26]! << 8) | pkt[27]!);
});

test('parses a packet at an offset inside a larger buffer and ignores trailing bytes', () => {
  const pkt = tcpPacket(A4, 40000, 443, 0x02, [2, 4, 0x05, 0xb4]);
  const buf = new Uint8Array(pkt.length + 100);
  buf.set(pkt, 64);
  const p = new ParsedPacket();
  assert.equal(parsePacket(buf, 64, pkt.length + 10, p), 'ok');
  assert.equal(p.offset, 64);
  assert.equal(p.totalLength, pkt.length);
  assert.equal(p.l4Offset, 84);
  assert.equal(p.srcPort, 40000);
  assert.equal(p.tcpFlags, 0x02);
});

test('parses IPv6 through hop-by-hop, routing, destination options and AH to TCP', () => {
  const pkt = tcpPacket(
    {
      ...A6,
      ttl: 3,
      ext6: [
        { type: 0, body: [1, 4, 0, 0, 0, 0] },
        { type: 43, body: [0, 0, 0, 0, 0, 0] },
        { type: 51, body: [0, 0, 1, 2, 3, 4, 0, 0, 0, 1] },
        { type: 60, body: [1, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0] },
      ],
    },
    1234,
    22,
    0x12,
  );
  const p = parseIp(pkt)!;
  assert.ok(p);
  assert.equal(p.version, 6);
  assert.equal(p.protocol, 6);
  assert.equal(p.headerLength, 40 + 8 + 8 + 12 + 16);
  assert.equal(p.srcPort, 1234);
  assert.equal(p.dstPort, 22);
  assert.equal(p.ttl, 3);
  assert.equal(formatAddress(pkt, p.srcOffset, 16), '2001:db8:1::5');
});

test('IPv6 fragments: the first carries ports, a later one does not', () => {
  const first = udpPacket({ ...A6, ext6: [{ type: 44, body: [0, 1, 0, 0, 0, 7] }] }, 7, 9);
  const pf = parseIp(first)!;
  assert.equal(pf.isFragment, true);
  assert.equal(pf.isLaterFragment, false);
  assert.equal(pf.srcPort, 7);
  const later = udpPacket({ ...A6, ext6: [{ type: 44, body: [0, 0x10, 0, 0, 0, 7] }] }, 7, 9);
  const pl = parseIp(later)!;
  assert.equal(pl.isLaterFragment, true);
  assert.equal(pl.hasL4, false);
  assert.equal(pl.srcPort, 0);
});

test('IPv4 later fragment has no ports; first fragment has', () => {
  const later = udpPacket({ ...A4, fragWord: 0x2000 | 10 }, 7, 9);
  assert.equal(parseIp(later)!.isLaterFragment, true);
  assert.equal(parseIp(later)!.hasL4, false);
  const first = udpPacket({ ...A4, fragWord: 0x2000 }, 7, 9);
  assert.equal(parseIp(first)!.isFragment, true);
  assert.equal(parseIp(first)!.srcPort, 7);
});

test('malformed headers are reported, not thrown', () => {
  const p = new ParsedPacket();
  const good = udpPacket(A4, 1, 2);
  assert.equal(parsePacket(good, 0, 0, p), 'empty');
  assert.equal(parsePacket(good, 0, 19, p), 'truncated-header');
  const badIhl = good.slice();
  badIhl[0] = 0x44;
  assert.equal(parsePacket(badIhl, 0, badIhl.length, p), 'bad-header-length');
  const longIhl = good.slice();
  longIhl[0] = 0x4f;
  assert.equal(parsePacket(longIhl, 0, longIhl.length, p), 'truncated-header');
  const badTotal = good.slice();
  badTotal[3] = 200;
  assert.equal(parsePacket(badTotal, 0, badTotal.length, p), 'bad-total-length');
  const v5 = good.slice();
  v5[0] = 0x55;
  assert.equal(parsePacket(v5, 0, v5.length, p), 'bad-version');
  assert.equal(parsePacket(good, 5, good.length, p), 'empty', 'range beyond the buffer');
  const six = udpPacket({ ...A6, ext6: [{ type: 60, body: [0, 0, 0, 0, 0, 0] }] }, 1, 2);
  six[41] = 200; // extension header length beyond the packet
  assert.equal(parsePacket(six, 0, six.length, p), 'bad-extension-header');
  const hbhLater = udpPacket({ ...A6, ext6: [{ type: 60, body: [0, 0, 0, 0, 0, 0] }, { type: 0, body: [0, 0, 0, 0, 0, 0] }] }, 1, 2);
  assert.equal(parsePacket(hbhLater, 0, hbhLater.length, p), 'bad-extension-header', 'hop-by-hop must come first');
  const many = udpPacket({ ...A6, ext6: Array.from({ length: 9 }, () => ({ type: 60, body: [0, 0, 0, 0, 0, 0] })) }, 1, 2);
  assert.equal(parsePacket(many, 0, many.length, p), 'too-many-extension-headers');
  // a TCP header that claims more bytes than there are: packet ok, no L4 fields
  const tcp = tcpPacket(A4, 1, 2, 0x10);
  tcp[32] = 0xf0;
  assert.equal(parsePacket(tcp, 0, tcp.length, p), 'ok');
  assert.equal(p.hasL4, false);
});

/** Arbitrary packets: valid ones of both families, then mutated, truncated and extended. */
const validPacket = fc.oneof(
  fc.record({ sp: fc.integer({ min: 0, max: 65535 }), dp: fc.integer({ min: 0, max: 65535 }), six: fc.boolean(), pl: fc.uint8Array({ maxLength: 40 }) })
    .map(({ sp, dp, six, pl }) => udpPacket(six ? A6 : A4, sp, dp, [...pl])),
  fc.record({ f: fc.integer({ min: 0, max: 255 }), six: fc.boolean(), opts: fc.uint8Array({ maxLength: 40 }) })
    .map(({ f, six, opts }) => tcpPacket(six ? A6 : A4, 1, 2, f, [...opts])),
  fc.record({ six: fc.boolean(), id: fc.integer({ min: 0, max: 65535 }) }).map(({ six, id }) =>
    icmpEcho(six ? A6 : A4, six ? 128 : 8, id, 1),
  ),
);

const mutated = fc
  .tuple(validPacket, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.uint8Array({ maxLength: 16 }))
  .map(([pkt, edits, cut, tail]) => {
    const b = Uint8Array.from([...pkt, ...tail]);
    for (const [i, v] of edits) b[i % b.length] = v;
    return b.subarray(0, Math.max(0, b.length - (cut % 24)));
  });

function checkInvariants(buf: Uint8Array, offset: number, length: number): void {
  const p = new ParsedPacket();
  let r: string;
  assert.doesNotThrow(() => {
    r = parsePacket(buf, offset, length, p);
  });
  if (r! !== 'ok') {
    assert.equal(p.version, 0, 'a failed parse leaves no half-filled result');
    return;
  }
  const end = offset + length;
  assert.ok(p.version === 4 || p.version === 6);
  assert.ok(p.totalLength <= length);
  assert.ok(p.srcOffset + p.addressLength <= end && p.dstOffset + p.addressLength <= end);
  assert.ok(p.l4Offset >= offset && p.l4Offset + p.l4Length <= offset + p.totalLength);
  assert.equal(p.l4Offset - p.offset, p.headerLength);
  if (p.hasL4 && (p.protocol === 6 || p.protocol === 17)) assert.ok(p.l4Length >= 8);
  // the derived helpers must hold the same discipline
  assert.doesNotThrow(() => transportChecksum(buf, p));
  assert.doesNotThrow(() => buildIcmpError(buf, p, 'net-unreachable', p.version === 4 ? Uint8Array.of(10, 0, 0, 1) : new Uint8Array(16).fill(1)));
}

test('fuzz: random bytes never throw and results stay inside the given range', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 20 }), fc.nat({ max: 220 }), (bytes, off, len) => {
      checkInvariants(bytes, Math.min(off, bytes.length), Math.min(len, Math.max(0, bytes.length - off)));
    }),
    { numRuns: 3000 },
  );
});

test('fuzz: mutated, truncated and extended valid packets never throw', () => {
  fc.assert(
    fc.property(mutated, (b) => checkInvariants(b, 0, b.length)),
    { numRuns: 3000 },
  );
});

test('fuzz: parse -> fields agree with what the builder put in', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.boolean(), fc.integer({ min: 1, max: 255 }), (sp, dp, six, ttl) => {
      const pkt = udpPacket({ ...(six ? A6 : A4), ttl }, sp, dp);
      const p = parseIp(pkt)!;
      assert.equal(p.srcPort, sp);
      assert.equal(p.dstPort, dp);
      assert.equal(p.ttl, ttl);
      assert.equal(p.version, six ? 6 : 4);
      assert.equal(transportChecksum(pkt, p), (pkt[p.l4Offset + 6]! << 8) | pkt[p.l4Offset + 7]!);
    }),
  );
});

test('TTL decrement keeps the IPv4 header checksum valid (RFC 1624) for every TTL and header', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 255 }), (ttl, src, proto) => {
      const pkt = ipPacket({ src: [...src], dst: v4('10.9.9.9'), ttl }, proto, [0, 0, 0, 0, 0, 0, 0, 0]);
      const p = parseIp(pkt)!;
      assert.equal(decrementTtl(pkt, p), true);
      assert.equal(pkt[8], ttl - 1);
      assert.equal(p.ttl, ttl - 1);
      assert.ok(ipv4HeaderOk(pkt));
    }),
  );
  for (const ttl of [0, 1]) {
    const pkt = udpPacket({ ...A4, ttl }, 1, 2);
    const before = pkt.slice();
    assert.equal(decrementTtl(pkt, parseIp(pkt)!), false);
    assert.deepEqual(pkt, before);
  }
  const six = udpPacket({ ...A6, ttl: 9 }, 1, 2);
  assert.equal(decrementTtl(six, parseIp(six)!), true);
  assert.equal(six[7], 8);
});

test('ICMPv4 destination unreachable (no route) quotes the packet and verifies', () => {
  const pkt = udpPacket(A4, 3333, 4444, Array(700).fill(7));
  const p = parseIp(pkt)!;
  const err = buildIcmpError(pkt, p, 'net-unreachable', parseAddress('10.1.0.1')!)!;
  const e = parseIp(err)!;
  assert.equal(e.protocol, 1);
  assert.equal(e.icmpType, ICMPV4.destinationUnreachable);
  assert.equal(e.icmpCode, ICMPV4.codeNetUnreachable);
  assert.equal(formatAddress(err, e.srcOffset, 4), '10.1.0.1');
  assert.equal(formatAddress(err, e.dstOffset, 4), '10.1.0.5');
  assert.equal(err.length, 576, 'RFC 1812: as much as fits in 576 bytes');
  assert.deepEqual([...err.subarray(28, 48)], [...pkt.subarray(0, 20)]);
  assert.ok(ipv4HeaderOk(err));
  assert.ok(l4ChecksumOk(err, 20, 1));
});

test('ICMPv4 fragmentation needed carries the next-hop MTU', () => {
  const pkt = tcpPacket(A4, 1, 2, 0x10, [], Array(1400).fill(1));
  const err = buildIcmpError(pkt, parseIp(pkt)!, 'packet-too-big', parseAddress('10.1.0.1')!, 1380)!;
  const e = parseIp(err)!;
  assert.equal(e.icmpType, 3);
  assert.equal(e.icmpCode, 4);
  assert.equal((err[26]! << 8) | err[27]!, 1380);
  assert.ok(l4ChecksumOk(err, 20, 1));
});

test('ICMPv6 packet too big, unreachable and time exceeded: pseudo-header checksum and 1280-byte cap', () => {
  const pkt = udpPacket(A6, 1, 2, Array(1400).fill(3));
  const p = parseIp(pkt)!;
  const from = parseAddress('2001:db8:1::1')!;
  const ptb = buildIcmpError(pkt, p, 'packet-too-big', from, 1400)!;
  const e = parseIp(ptb)!;
  assert.equal(e.icmpType, ICMPV6.packetTooBig);
  assert.equal(((ptb[44]! << 24) | (ptb[45]! << 16) | (ptb[46]! << 8) | ptb[47]!) >>> 0, 1400);
  assert.equal(ptb.length, 1280);
  assert.ok(l4ChecksumOk(ptb, 40, 58));
  for (const [kind, type, code] of [
    ['net-unreachable', 1, 0],
    ['admin-prohibited', 1, 1],
    ['host-unreachable', 1, 3],
    ['time-exceeded', 3, 0],
  ] as const) {
    const m = buildIcmpError(pkt, p, kind, from)!;
    const q = parseIp(m)!;
    assert.equal(q.icmpType, type, kind);
    assert.equal(q.icmpCode, code, kind);
    assert.ok(l4ChecksumOk(m, 40, 58), kind);
    assert.equal(transportChecksum(m, q), (m[42]! << 8) | m[43]!);
  }
});

test('no ICMP error about ICMP errors, later fragments, multicast or unspecified sources', () => {
  const from4 = parseAddress('10.1.0.1')!;
  const err = buildIcmpError(udpPacket(A4, 1, 2), parseIp(udpPacket(A4, 1, 2))!, 'net-unreachable', from4)!;
  assert.equal(buildIcmpError(err, parseIp(err)!, 'net-unreachable', from4), undefined);
  const frag = udpPacket({ ...A4, fragWord: 100 }, 1, 2);
  assert.equal(buildIcmpError(frag, parseIp(frag)!, 'time-exceeded', from4), undefined);
  const mc = udpPacket({ src: v4('10.1.0.5'), dst: v4('224.0.0.5') }, 1, 2);
  assert.equal(buildIcmpError(mc, parseIp(mc)!, 'net-unreachable', from4), undefined);
  const zero = udpPacket({ src: v4('0.0.0.0'), dst: v4('10.2.0.1') }, 1, 2);
  assert.equal(buildIcmpError(zero, parseIp(zero)!, 'net-unreachable', from4), undefined);
  const mc6 = udpPacket({ src: A6.src, dst: v6('ff02::1') }, 1, 2);
  const from6 = parseAddress('2001:db8::1')!;
  assert.equal(buildIcmpError(mc6, parseIp(mc6)!, 'net-unreachable', from6), undefined);
  assert.ok(buildIcmpError(mc6, parseIp(mc6)!, 'packet-too-big', from6, 1280), 'RFC 4443 allows packet too big to multicast');
  const echo = icmpEcho(A4, 8, 1, 1);
  assert.ok(buildIcmpError(echo, parseIp(echo)!, 'net-unreachable', from4), 'echo request is not an error');
  assert.equal(buildIcmpError(echo, parseIp(echo)!, 'net-unreachable', from6), undefined, 'family mismatch');
});

test('echo request/reply for both families, built and answered in place', () => {
  for (const [src, dst] of [
    ['10.1.0.1', '10.2.0.7'],
    ['2001:db8:1::1', '2001:db8:2::7'],
  ] as const) {
    const req = buildEchoRequest({ src: parseAddress(src)!, dst: parseAddress(dst)!, id: 0x4242, seq: 3, size: 56 });
    const p = parseIp(req)!;
    assert.ok(isEchoRequest(p));
    assert.equal(p.icmpId, 0x4242);
    assert.ok(l4ChecksumOk(req, p.l4Offset, p.protocol));
    if (p.version === 4) assert.ok(ipv4HeaderOk(req));
    const rep = buildEchoReply(req, p)!;
    const q = parseIp(rep)!;
    assert.equal(q.icmpType, p.version === 4 ? 0 : 129);
    assert.equal(formatAddress(rep, q.srcOffset, q.addressLength), dst);
    assert.equal(formatAddress(rep, q.dstOffset, q.addressLength), src);
    assert.equal(q.icmpId, 0x4242);
    assert.ok(l4ChecksumOk(rep, q.l4Offset, q.protocol));
    if (q.version === 4) assert.ok(ipv4HeaderOk(rep));
    assert.deepEqual([...rep.subarray(q.l4Offset + 8)], [...req.subarray(p.l4Offset + 8)], 'data echoed');
  }
});

test('fuzz: echo reply in place keeps both checksums valid for any request', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 65535 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 1, max: 255 }),
      (six, s, d, id, data, ttl) => {
        s[0] = 0x20;
        d[0] = 0x20; // unicast, non-zero
        const o = six ? { src: [...s], dst: [...d], ttl } : { src: [...s.subarray(0, 4)], dst: [...d.subarray(0, 4)], ttl };
        const pkt = icmpEcho(o, six ? 128 : 8, id, 1, [...data]);
        const p = parseIp(pkt)!;
        assert.equal(echoReplyInPlace(pkt, p), true);
        assert.ok(l4ChecksumOk(pkt, p.l4Offset, p.protocol));
        if (!six) assert.ok(ipv4HeaderOk(pkt));
        assert.deepEqual([...pkt.subarray(p.dstOffset, p.dstOffset + p.addressLength)], six ? [...s] : [...s.subarray(0, 4)]);
      },
    ),
  );
  const notEcho = udpPacket(A4, 1, 2);
  assert.equal(echoReplyInPlace(notEcho, parseIp(notEcho)!), false);
});
