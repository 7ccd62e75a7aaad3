import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { t, validateValue, describeType, type ValueType } from '../../../menus/index.js';

const v = (type: ValueType, s: string) => validateValue(type, s);
const okv = (type: ValueType, s: string) => {
  const r = v(type, s);
  assert.ok(r.ok, `${s} should be valid: ${r.ok ? '' : r.reason}`);
  return r.ok ? r.value : '';
};
const refused = (type: ValueType, s: string) => assert.equal(v(type, s).ok, false, `${JSON.stringify(s)} should be refused`);

test('strings: length and charset', () => {
  okv(t.string(5, 'name'), 'ab-c.');
  refused(t.string(5, 'name'), 'abcdef');
  refused(t.string(5, 'name'), 'a b');
  refused(t.string(5, 'name', 1), '');
  okv(t.string(10), 'a b ~');
  refused(t.string(10), 'a\u00e4');
});

test('integers: range, canonical form', () => {
  assert.equal(okv(t.int(0, 10), '007'), '7');
  refused(t.int(0, 10), '11');
  refused(t.int(0, 10), '-1');
  refused(t.int(0, 10), '1.5');
  refused(t.int(0, 10), '');
  refused(t.int(0, 10), '99999999999999999999');
  assert.match(describeType(t.int(1, 60, 's')), /1\.\.60 s/);
});

test('enums and booleans: case-insensitive, unambiguous prefixes', () => {
  const e = t.enum('Disabled', 'Hub', 'Spoke');
  assert.equal(okv(e, 'hub'), 'Hub');
  assert.equal(okv(e, 'sp'), 'Spoke');
  refused(e, 'x');
  refused(t.enum('egress', 'exit'), 'e');
  assert.equal(okv(t.yesNo(), 'ON'), 'yes');
  assert.equal(okv(t.onOff(), 'no'), 'off');
  refused(t.yesNo(), 'maybe');
});

test('addresses and prefixes through ipaddr.js', () => {
  assert.equal(okv(t.ipv4(), '10.0.0.1'), '10.0.0.1');
  refused(t.ipv4(), '10.0.0');
  refused(t.ipv4(), '010.0.0.1x');
  refused(t.ipv4(), '::1');
  assert.equal(okv(t.ipv6(), '2001:DB8:0:0::1'), '2001:db8::1');
  refused(t.ipv6(), '10.0.0.1');
  okv(t.address(), '::1');
  okv(t.address(true), '');
  refused(t.address(), '');
  assert.equal(okv(t.prefix(), '10.1.0.0/16'), '10.1.0.0/16');
  assert.equal(okv(t.prefix(6), '2001:db8::/32'), '2001:db8::/32');
  refused(t.prefix(4), '2001:db8::/32');
  refused(t.prefix(), '10.0.0.0/33');
  refused(t.prefix(), '10.0.0.0');
  refused(t.prefix(), '10.0.0.0/');
});

test('hosts: address or DNS name, optional port, wildcard', () => {
  const h = t.host({ port: true, wildcard: true });
  assert.equal(okv(h, 'HQ.Example.com'), 'hq.example.com');
  assert.equal(okv(h, '192.0.2.1:4500'), '192.0.2.1:4500');
  assert.equal(okv(h, '[2001:db8::1]:500'), '[2001:db8::1]:500');
  assert.equal(okv(h, '2001:db8::1'), '2001:db8::1');
  assert.equal(okv(h, '*'), '*');
  refused(h, 'a..b');
  refused(h, '-bad.example');
  refused(h, 'host:0');
  refused(h, 'host:70000');
  refused(h, '1.2.3');
  refused(t.host(), 'host:22');
  refused(t.host(), '*');
});

test('lists: items validated, duplicates dropped, empty per type', () => {
  const l = t.list(t.enum('DH14', 'DH19'), 4, false);
  assert.equal(okv(l, 'dh19, DH14,dh19'), 'DH19,DH14');
  refused(l, '');
  refused(l, 'DH14,DH99');
  assert.equal(okv(t.list(t.prefix(), 2, true), ''), '');
  refused(t.list(t.int(0, 9), 2, true), '1,2,3');
});

test('references: against the given context, case-insensitive, canonical key', () => {
  const r = t.ref('/T', true);
  const ctx = { rowKey: (_t: string, k: string) => (k.toLowerCase() === 'hq' ? 'HQ' : undefined) };
  assert.equal(validateValue(r, 'hq', ctx).ok && (validateValue(r, 'hq', ctx) as { value: string }).value, 'HQ');
  assert.equal(validateValue(r, 'x', ctx).ok, false);
  assert.equal(validateValue(r, '', ctx).ok, true);
  assert.equal(validateValue(t.ref('/T'), '', ctx).ok, false);
});

test('secrets: length and printable, never echoed in the reason', () => {
  const s = t.secret(8, 'plain');
  okv(s, 'abc def');
  const r = v(s, 'toolongsecretvalue');
  assert.ok(!r.ok && !r.reason.includes('toolong'));
  refused(s, 'a\u0001');
});

test('random input never throws from any validator, and valid output re-validates to itself', () => {
  const types: ValueType[] = [
    t.string(16, 'name'),
    t.int(-5, 5000, 's'),
    t.enum('a', 'ab', 'b'),
    t.list(t.prefix(), 4, true),
    t.ipv4(),
    t.ipv6(),
    t.address(true),
    t.prefix('any'),
    t.host({ port: true, wildcard: true }),
    t.secret(16, 'hash'),
    t.ref('/T'),
    t.yesNo(),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...types), fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.ipV4(), fc.ipV6(), fc.domain()), (type, s) => {
      const r = validateValue(type, s);
      if (r.ok) {
        const again = validateValue(type, r.value);
        assert.ok(again.ok && again.value === r.value, `canonical form of ${JSON.stringify(s)} is stable`);
      } else assert.equal(typeof r.reason, 'string');
    }),
    { numRuns: 3000 },
  );
});
