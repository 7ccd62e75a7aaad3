import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intersectTs, narrowTs, tsFromCidr, tsFromWire, tsSubset, tsToString, tsToWire } from '../../../src/engine/ike/traffic-selector.js';

test('prefixes become ranges and print back as prefixes', () => {
  const t = tsFromCidr('10.1.2.3/16');
  assert.equal(t.startAddress, '10.1.0.0');
  assert.equal(t.endAddress, '10.1.255.255');
  assert.equal(tsToString(t), '10.1.0.0/16');
  assert.equal(tsToString(tsFromCidr('2001:db8::/32')), '2001:db8::/32');
  assert.equal(tsToString(tsFromCidr('0.0.0.0/0')), '0.0.0.0/0');
  assert.equal(tsToString(tsFromCidr('192.0.2.7')), '192.0.2.7/32');
  assert.throws(() => tsFromCidr('10.0.0.0/33'), { name: 'IkeConfigError' });
  assert.deepEqual(tsFromWire(tsToWire(t)), t);
});

test('narrowing intersects, drops what does not overlap, never mixes families', () => {
  const offered = [tsFromCidr('10.0.0.0/8'), tsFromCidr('2001:db8::/32')];
  const allowed = [tsFromCidr('10.1.0.0/16'), tsFromCidr('192.168.0.0/16')];
  assert.deepEqual(narrowTs(offered, allowed).map(tsToString), ['10.1.0.0/16']);
  assert.deepEqual(narrowTs([tsFromCidr('172.16.0.0/12')], allowed), []);
  assert.equal(intersectTs(tsFromCidr('10.0.0.0/8'), tsFromCidr('::/0')), undefined);
  assert.ok(tsSubset([tsFromCidr('10.1.2.0/24')], [tsFromCidr('10.1.0.0/16')]));
  assert.ok(!tsSubset([tsFromCidr('10.0.0.0/8')], [tsFromCidr('10.1.0.0/16')]));
});

test('property: a narrowed selector lies inside both inputs', () => {
  const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }));
  fc.assert(
    fc.property(v4, v4, ([a, b, p], [c, d, q]) => {
      const x = tsFromCidr(`${a}.${b}.0.0/${p}`);
      const y = tsFromCidr(`${c}.${d}.0.0/${q}`);
      for (const n of narrowTs([x], [y])) {
        assert.ok(tsSubset([n], [x]) && tsSubset([n], [y]));
      }
      // Prefixes either nest or are disjoint.
      const n = narrowTs([x], [y]);
      if (n.length === 1) assert.ok(tsSubset([x], [y]) || tsSubset([y], [x]));
    }),
    { numRuns: 300 },
  );
});
