import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyUdpPayload, frameIke, NAT_KEEPALIVE } from '../../../src/engine/net/udp-demux.js';

test('a single 0xFF byte is a NAT keepalive (RFC 3948 2.3)', () => {
  assert.deepEqual(classifyUdpPayload(NAT_KEEPALIVE), { kind: 'keepalive' });
  assert.deepEqual(classifyUdpPayload(Uint8Array.of(0x00)), { kind: 'malformed', reason: 'short-esp' });
});

test('the non-ESP marker introduces IKE; the message follows at offset 4', () => {
  const ike = new Uint8Array(28).fill(7);
  const framed = frameIke(ike);
  assert.equal(framed.length, 32);
  assert.deepEqual([...framed.subarray(0, 4)], [0, 0, 0, 0]);
  const c = classifyUdpPayload(framed);
  assert.deepEqual(c, { kind: 'ike', offset: 4 });
  assert.deepEqual(framed.subarray(4), ike);
  assert.deepEqual(classifyUdpPayload(frameIke(new Uint8Array(27))), { kind: 'malformed', reason: 'short-ike' });
});

test('a non-zero first word is ESP when at least SPI and sequence number are present', () => {
  assert.deepEqual(classifyUdpPayload(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1)), { kind: 'esp' });
  assert.deepEqual(classifyUdpPayload(Uint8Array.of(0, 0, 0, 1, 0, 0, 0)), { kind: 'malformed', reason: 'short-esp' });
  assert.deepEqual(classifyUdpPayload(new Uint8Array(0)), { kind: 'malformed', reason: 'empty' });
});

test('classification of arbitrary datagrams never throws and agrees with the RFC rules', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (p) => {
      const c = classifyUdpPayload(p);
      const zeroMarker = p.length >= 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0;
      if (c.kind === 'ike') assert.ok(zeroMarker && p.length >= 32);
      if (c.kind === 'esp') assert.ok(!zeroMarker && p.length >= 8);
      if (c.kind === 'keepalive') assert.ok(p.length === 1 && p[0] === 0xff);
    }),
    { numRuns: 2000 },
  );
});
