import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrefix } from '../../../src/engine/dataplane/address.js';
import {
  destinationKey,
  formatGateway,
  identityKey,
  parseGateway,
  parseSiteIdentity,
  siteToRecord,
  validateSiteRecord,
  type DirectoryMasks,
  type SiteRecord,
} from '../../../src/engine/sites/site.js';

const masks = { v4: 24, v6: 64 };
const good: SiteRecord = {
  name: 'branch-001',
  identity: 'fqdn:Branch-001.Example.NET',
  gateway: 'gw1.example.net:4500',
  network: '10.1.2.0/24',
  psk: 'correct horse battery',
  active: '',
  comment: 'Hamburg, 2nd floor',
};

test('a good row validates to the canonical site', () => {
  const v = validateSiteRecord(good, masks);
  assert.ok('site' in v, JSON.stringify(v));
  assert.equal(v.site.name, 'branch-001');
  assert.deepEqual(v.site.identity, { type: 'fqdn', value: 'branch-001.example.net' });
  assert.deepEqual(v.site.gateway, { host: 'gw1.example.net', port: 4500 });
  assert.equal(formatPrefix(v.site.network), '10.1.2.0/24');
  assert.equal(v.site.psk, 'correct horse battery');
  assert.equal(v.site.cert, undefined);
  assert.equal(v.site.active, true);
});

test('every problem of a row is returned with its column', () => {
  const v = validateSiteRecord(
    { name: '-bad name', identity: 'ipv4:300.1.1.1', gateway: 'host:99999', network: '10.1.0.0/16', psk: 'short', active: 'maybe', comment: 'x'.repeat(300) },
    masks,
  );
  assert.ok('problems' in v);
  assert.deepEqual(
    v.problems.map((p) => p.column),
    ['name', 'identity', 'gateway', 'network', 'psk', 'active', 'comment'],
  );
  assert.match(v.problems.find((p) => p.column === 'network')!.problem, /differs from the directory's mask \/24/);
});

test('network: mask per family, host bits, missing length, family without a mask', () => {
  const net = (network: string, m: DirectoryMasks = masks) => {
    const v = validateSiteRecord({ ...good, network }, m);
    return 'problems' in v ? v.problems[0]!.problem : formatPrefix(v.site.network);
  };
  assert.equal(net('2001:db8:0:1::/64'), '2001:db8:0:1::/64');
  assert.equal(net('2001:DB8:0:1:0::/64'), '2001:db8:0:1::/64');
  assert.match(net('10.1.2.3/24'), /host bits set/);
  assert.match(net('10.1.2.0'), /no prefix length/);
  assert.match(net('10.1.2.0/33'), /not a network prefix/);
  assert.match(net('2001:db8::/64', { v4: 24 }), /no IPv6 mask/);
  assert.match(net(''), /is empty/);
});

test('identities: every IKE ID type, bare values inferred, canonical forms', () => {
  assert.deepEqual(parseSiteIdentity('user-fqdn:Ops@Branch.Example'), { type: 'user-fqdn', value: 'ops@branch.example' });
  assert.deepEqual(parseSiteIdentity('ops@branch.example'), { type: 'user-fqdn', value: 'ops@branch.example' });
  assert.deepEqual(parseSiteIdentity('192.0.2.1'), { type: 'ipv4', value: '192.0.2.1' });
  assert.deepEqual(parseSiteIdentity('ipv6:2001:0db8::0001'), { type: 'ipv6', value: '2001:db8::1' });
  assert.deepEqual(parseSiteIdentity('key-id:0xABcd'), { type: 'key-id', value: '0xabcd' });
  assert.deepEqual(parseSiteIdentity('key-id:ab'), { type: 'key-id', value: '0x6162' });
  assert.deepEqual(parseSiteIdentity('gw.example'), { type: 'fqdn', value: 'gw.example' });
  assert.equal(typeof parseSiteIdentity('key-id:0xabc'), 'string');
  assert.equal(typeof parseSiteIdentity('fqdn:'), 'string');
  assert.equal(typeof parseSiteIdentity('fqdn:bad..name'), 'string');
  assert.equal(typeof parseSiteIdentity('ipv4:1.2.3'), 'string');
  assert.equal(typeof parseSiteIdentity('user-fqdn:@x.example'), 'string');
  assert.equal(typeof parseSiteIdentity('fqdn:a\u0000b'), 'string');
  assert.equal(identityKey({ type: 'key-id', value: 'ab' }), identityKey('key-id:0x6162'));
  assert.equal(identityKey('not valid!'), undefined);
});

test('gateways: host, address, port, bracketed IPv6', () => {
  assert.deepEqual(parseGateway('GW.Example.net'), { host: 'gw.example.net' });
  assert.deepEqual(parseGateway('192.0.2.1:500'), { host: '192.0.2.1', port: 500 });
  assert.deepEqual(parseGateway('2001:db8::1'), { host: '2001:db8::1' });
  assert.deepEqual(parseGateway('[2001:db8::1]:4500'), { host: '2001:db8::1', port: 4500 });
  assert.equal(formatGateway({ host: '2001:db8::1', port: 4500 }), '[2001:db8::1]:4500');
  assert.equal(formatGateway({ host: '2001:db8::1' }), '2001:db8::1');
  for (const bad of ['', 'host:0', 'host:70000', 'host:abc', '[1.2.3.4]:5', 'under_score..x', 'a b', '1.2.3.999']) {
    assert.equal(typeof parseGateway(bad), 'string', bad);
  }
});

test('psk or cert: exactly one', () => {
  const both = validateSiteRecord({ ...good, cert: 'branch-cert' }, masks);
  assert.ok('problems' in both && both.problems[0]!.column === 'cert');
  const none = validateSiteRecord({ ...good, psk: '' }, masks);
  assert.ok('problems' in none && none.problems[0]!.column === 'psk');
  const cert = validateSiteRecord({ ...good, psk: '', cert: 'ca/branch-001' }, masks);
  assert.ok('site' in cert && cert.site.cert === 'ca/branch-001' && cert.site.psk === undefined);
  const badCert = validateSiteRecord({ ...good, psk: '', cert: 'has space' }, masks);
  assert.ok('problems' in badCert);
});

test('active words', () => {
  for (const [w, want] of [['yes', true], ['1', true], ['ON', true], ['', true], ['no', false], ['0', false], ['False', false]] as const) {
    const v = validateSiteRecord({ ...good, active: w }, masks);
    assert.ok('site' in v && v.site.active === want, w);
  }
});

test('garbage bytes (U+FFFD) and control characters are refused in every text column', () => {
  for (const col of ['name', 'identity', 'gateway', 'network', 'psk', 'comment'] as const) {
    const v = validateSiteRecord({ ...good, [col]: `x\ufffdy` }, masks);
    assert.ok('problems' in v && v.problems.some((p) => p.column === col), col);
  }
});

test('the text form leaves the PSK out unless asked, and validates back to the same site', () => {
  const v = validateSiteRecord(good, masks);
  assert.ok('site' in v);
  const site = { ...v.site, updatedAt: Date.UTC(2026, 0, 2) };
  assert.equal(siteToRecord(site, false).psk, '');
  const rec = siteToRecord(site, true);
  assert.equal(rec.updated_at, '2026-01-02T00:00:00.000Z');
  const again = validateSiteRecord(rec, masks);
  assert.ok('site' in again);
  assert.deepEqual(again.site, v.site);
});

test('destination keys: the destination masked with the directory mask', () => {
  assert.equal(destinationKey(Uint8Array.from([10, 1, 2, 77]), masks), '10.1.2.0/24');
  assert.equal(destinationKey(Uint8Array.from([10, 1, 2, 77]), { v6: 64 }), undefined);
  assert.equal(destinationKey(new Uint8Array(5), masks), undefined);
});
