import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMeshMessage,
  encodeMeshMessage,
  MeshMessageType,
  MeshStatus,
  stringifyMeshMessage,
  type MeshMessage,
  type MeshMessageTypeName,
} from '../../../src/engine/mesh/messages.js';

const request: MeshMessage = {
  type: 'shortcutRequest',
  requestId: 7,
  source: '10.1.0.0/24',
  destination: '10.2.0.0/24',
  endpoint: { address: '203.0.113.2', port: 4500 },
  peerId: 'branch2.example',
  groupId: 3,
  nodeName: 'branch2',
};

test('a shortcut request round-trips and has the documented header', () => {
  const bytes = encodeMeshMessage(request);
  assert.equal(bytes[0], 1, 'version');
  assert.equal(bytes[1], MeshMessageType.shortcutRequest);
  assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0, 7]);
  assert.deepEqual(decodeMeshMessage(bytes), { ok: true, message: request });
});

test('IPv6 prefixes and endpoints round-trip', () => {
  const m: MeshMessage = {
    type: 'shortcutOffer',
    requestId: 0xffffffff,
    destination: '2001:db8:2::/48',
    endpoint: { address: '2001:db8::2', port: 65535 },
    peerId: 'b2',
    validitySec: 300,
  };
  assert.deepEqual(decodeMeshMessage(encodeMeshMessage(m)), { ok: true, message: m });
});

test('malformed messages are refused with a reason, never thrown', () => {
  const good = encodeMeshMessage(request);
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 7), 'too-short'],
    [Uint8Array.from([2, ...good.subarray(1)]), 'bad-version'],
    [Uint8Array.from([1, 99, ...good.subarray(2)]), 'unknown-type'],
    [good.subarray(0, good.length - 1), 'truncated-attribute'],
    [good.subarray(0, 10), 'truncated-attribute'],
    [new Uint8Array(2000), 'too-long'],
  ];
  for (const [bytes, error] of cases) {
    const r = decodeMeshMessage(bytes);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error, error, `expected ${error}`);
  }
  // A request without its endpoint is incomplete.
  const { endpoint: _e, ...noEndpoint } = request;
  const r = decodeMeshMessage(encodeMeshMessage(noEndpoint as MeshMessage));
  assert.deepEqual(r.ok ? null : r.error, 'missing-attribute');
  // Duplicate attribute: append the groupId attribute again.
  const dup = Uint8Array.from([...good, 0, 5, 0, 4, 0, 0, 0, 1]);
  assert.equal((decodeMeshMessage(dup) as { error: string }).error, 'duplicate-attribute');
  // Unknown attribute types are skipped.
  const extra = Uint8Array.from([...good, 0x7f, 0x00, 0, 2, 9, 9]);
  assert.deepEqual(decodeMeshMessage(extra), { ok: true, message: request });
  // A prefix longer than its family allows.
  const badPrefix = encodeMeshMessage({ type: 'redirect', requestId: 1, destination: '10.0.0.0/8' });
  badPrefix[8 + 4 + 1] = 33;
  assert.equal((decodeMeshMessage(badPrefix) as { error: string }).error, 'bad-attribute');
  // Control characters in an identity.
  const ctl = encodeMeshMessage({ ...request, peerId: 'a\u0007b' });
  assert.equal((decodeMeshMessage(ctl) as { error: string }).error, 'bad-attribute');
});

const arbV4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }))
  .map(([a, b, len]) => `${a}.${b}.0.0/${len}`);
const arbText = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.length > 0);
const arbMessage: fc.Arbitrary<MeshMessage> = fc.record(
  {
    type: fc.constantFrom(...(Object.keys(MeshMessageType) as MeshMessageTypeName[])),
    requestId: fc.integer({ min: 0, max: 0xffffffff }),
    source: arbV4,
    destination: arbV4,
    endpoint: fc.record({ address: fc.constantFrom('198.51.100.7', '2001:db8::9'), port: fc.integer({ min: 1, max: 65535 }) }),
    peerId: arbText,
    groupId: fc.integer({ min: 0, max: 0xffffffff }),
    status: fc.constantFrom(...Object.values(MeshStatus)),
    reason: arbText,
    validitySec: fc.integer({ min: 0, max: 86400 }),
    nodeName: arbText,
    acceptedGroupIds: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }),
  },
  { requiredKeys: ['type', 'requestId', 'source', 'destination', 'endpoint', 'peerId', 'status', 'validitySec', 'groupId', 'acceptedGroupIds'] },
);

test('property: every well-formed message round-trips', () => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      const r = decodeMeshMessage(encodeMeshMessage(m));
      assert.ok(r.ok, !r.ok ? r.detail : '');
      // fast-check records have a null prototype: compare plain copies
      assert.deepEqual(r.message, JSON.parse(JSON.stringify(m)));
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes and mutated messages never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      decodeMeshMessage(bytes);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(arbMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, pos, value) => {
      const bytes = encodeMeshMessage(m);
      bytes[pos % bytes.length] = value;
      const r = decodeMeshMessage(bytes);
      if (r.ok) assert.ok(r.message.type in MeshMessageType);
    }),
    { numRuns: 3000 },
  );
});

test('an announce carries the group and the accepted groups', () => {
  const m: MeshMessage = { type: 'announce', requestId: 1, groupId: 4, acceptedGroupIds: [4, 5], nodeName: 'branch1' };
  assert.deepEqual(decodeMeshMessage(encodeMeshMessage(m)), { ok: true, message: m });
  const odd = encodeMeshMessage({ type: 'announce', requestId: 1, groupId: 4, acceptedGroupIds: [] });
  assert.equal((decodeMeshMessage(odd) as { ok: boolean }).ok, true);
  // A list attribute whose length is not a multiple of 4 is refused.
  const broken = Uint8Array.from([...encodeMeshMessage({ type: 'redirect', requestId: 1, destination: '10.0.0.0/8' }), 0, 10, 0, 3, 1, 2, 3]);
  assert.equal((decodeMeshMessage(broken) as { error: string }).error, 'bad-attribute');
});

test('stringify names the parts without dumping bytes', () => {
  assert.equal(
    stringifyMeshMessage({ ...request, status: MeshStatus.licenceExceeded }),
    'shortcutRequest#7 src=10.1.0.0/24 dst=10.2.0.0/24 at=203.0.113.2:4500 id=branch2.example group=3 status=licenceExceeded',
  );
});
