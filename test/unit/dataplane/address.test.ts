import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import {
  formatAddress,
  formatPrefix,
  makePrefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from '../../../src/engine/dataplane/address.js';

/** Node's URL parser as the independent reference for RFC 5952 text. */
function urlFormat6(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1);
}

test('parses and prints the usual forms', () => {
  assert.deepEqual([...parseAddress('10.1.0.1')!], [10, 1, 0, 1]);
  assert.equal(formatAddress(parseAddress('2001:db8::1')!), '2001:db8::1');
  assert.equal(formatAddress(parseAddress('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatAddress(parseAddress('::')!), '::');
  assert.equal(formatAddress(parseAddress('::ffff:1.2.3.4')!), '::ffff:102:304');
  assert.equal(formatAddress(parseAddress('1:2:3:4:5:6:7::')!), '1:2:3:4:5:6:7:0');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '1:::2', 'g::1', ' 1.2.3.4', '1.2.3.4/8'])
    assert.equal(parseAddress(bad), undefined, bad);
});

test('prefixes: host bits cleared, lengths checked, containment', () => {
  const p = parsePrefix('10.1.2.3/16')!;
  assert.equal(formatPrefix(p), '10.1.0.0/16');
  assert.equal(formatPrefix(parsePrefix('2001:db8:1:2::5/35')!), '2001:db8::/35');
  assert.equal(formatPrefix(parsePrefix('10.1.2.3')!), '10.1.2.3/32');
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', 'x/8', '10.0.0.0/1e1'])
    assert.equal(parsePrefix(bad), undefined, bad);
  assert.ok(prefixContains(p, parseAddress('10.1.255.255')!));
  assert.ok(!prefixContains(p, parseAddress('10.2.0.0')!));
  assert.ok(prefixContains(parsePrefix('0.0.0.0/0')!, parseAddress('192.0.2.1')!));
  assert.equal(makePrefix(new Uint8Array(5), 8), undefined);
});

test('fuzz: IPv4 bytes -> text -> bytes round trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      const text = formatAddress(b);
      assert.equal(isIP(text), 4);
      assert.deepEqual(parseAddress(text), b);
    }),
  );
});

test('fuzz: IPv6 bytes -> text matches the URL parser, and parses back', () => {
  const sparse = fc.array(fc.constantFrom(0, 0, 0, 1, 0xff, 0x20), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), sparse), (b) => {
      const text = formatAddress(b);
      assert.equal(text, urlFormat6(b));
      assert.deepEqual(parseAddress(text), b);
    }),
    { numRuns: 1000 },
  );
});

test('fuzz: arbitrary text never throws; accepted exactly when node accepts it (zone ids aside)', () => {
  const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%/ x'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(chars, { maxLength: 45 }).map((a) => a.join(''))), (s) => {
      let r: Uint8Array | undefined;
      assert.doesNotThrow(() => {
        r = parseAddress(s);
      });
      const want = s.includes('%') ? 0 : isIP(s);
      assert.equal(r === undefined ? 0 : r.length === 4 ? 4 : 6, want, s);
      assert.doesNotThrow(() => parsePrefix(s));
    }),
    { numRuns: 3000 },
  );
});
