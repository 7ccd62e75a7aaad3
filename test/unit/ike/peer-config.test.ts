import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityEquals, identityFromPayload, identityPayload, parseIdentity, resolvePeerConfig } from '../../../src/engine/ike/peer-config.js';

const base = { name: 'p1', localId: 'a.example', psk: 'secret-secret', remoteGateways: ['192.0.2.1'] };

test('defaults: strongSwan retransmission (4 s, 1.8, 5 tries), LCOS reconnect (30 s +/- 10 s), 20 s NAT keepalive', () => {
  const c = resolvePeerConfig(base);
  assert.deepEqual(c.retransmit, { timeoutMs: 4000, base: 1.8, tries: 5 });
  assert.deepEqual(c.reconnect, { delayMs: 30_000, jitterMs: 10_000, maxDelayMs: 300_000 });
  assert.equal(c.natKeepaliveMs, 20_000);
  assert.equal(c.role, 'both');
  assert.deepEqual(c.remoteGateways, [{ address: '192.0.2.1', port: 4500 }]);
  assert.equal(c.ikeLifetime.rekeyMs, 4 * 3600_000);
  assert.equal(c.childLifetime.rekeyMs, 3600_000);
  assert.deepEqual(c.localTs.map((t) => t.family), [4, 6]);
  assert.equal(c.auth.psk.length, 13);
});

test('validation names the field', () => {
  const bad = (over: object, field: string) =>
    assert.throws(() => resolvePeerConfig({ ...base, ...over } as never), (e: Error & { field?: string }) => e.name === 'IkeConfigError' && e.field === field);
  bad({ name: 'bad name!' }, 'name');
  bad({ psk: 'short' }, 'psk');
  bad({ role: 'initiator', remoteGateways: [] }, 'remoteGateways');
  bad({ remoteGateways: ['hub.example'] }, 'remoteGateways[0]');
  bad({ remoteGateways: ['192.0.2.1:70000'] }, 'remoteGateways[0]');
  bad({ retransmit: { tries: -1 } }, 'retransmit.tries');
  bad({ ikeProposals: ['aes-md5'] }, 'ikeProposals[0]');
  bad({ localTs: ['10.0.0.0/40'] }, 'localTs');
  bad({ remoteId: { type: 'ipv4', value: 'x' } }, 'remoteId');
  bad({ childLifetime: { rekeyMs: 1000, jitterMs: 2000 } }, 'childLifetime.jitterMs');
});

test('endpoints: v6 with brackets and ports, canonical form', () => {
  const c = resolvePeerConfig({ ...base, remoteGateways: ['[2001:DB8::1]:4501', '2001:db8:0::2', '192.0.2.9:500'] });
  assert.deepEqual(c.remoteGateways, [
    { address: '2001:db8::1', port: 4501 },
    { address: '2001:db8::2', port: 4500 },
    { address: '192.0.2.9', port: 500 },
  ]);
});

test('identities: guessed types, ID payload round trip, case-insensitive FQDN match', () => {
  assert.deepEqual(parseIdentity('192.0.2.1', 'x'), { type: 'ipv4', value: '192.0.2.1' });
  assert.deepEqual(parseIdentity('2001:db8::1', 'x'), { type: 'ipv6', value: '2001:db8::1' });
  assert.deepEqual(parseIdentity('ops@example.com', 'x'), { type: 'user-fqdn', value: 'ops@example.com' });
  for (const id of [parseIdentity('hub.example', 'x'), parseIdentity('2001:db8::1', 'x'), parseIdentity('ops@example.com', 'x'), { type: 'key-id' as const, value: '0x0102ff' }]) {
    const p = identityPayload(id);
    const back = identityFromPayload(p.idType, p.data)!;
    assert.ok(identityEquals(back, id), `${id.type} round trip`);
  }
  assert.deepEqual([...identityPayload({ type: 'ipv4', value: '10.0.0.1' }).data], [10, 0, 0, 1]);
  assert.ok(identityEquals(parseIdentity('HUB.example', 'x'), parseIdentity('hub.EXAMPLE', 'x')));
  assert.ok(!identityEquals(parseIdentity('hub.example', 'x'), parseIdentity('hub2.example', 'x')));
});

test('lifetimes: over and jitter default to 10 % of a given rekey time (a 120 s child SA is valid); explicit values still checked', () => {
  const base = { name: 'p', localId: 'a.example', psk: 'a-long-enough-key' };
  const c = resolvePeerConfig({ ...base, childLifetime: { rekeyMs: 120_000 } });
  assert.deepEqual(c.childLifetime, { rekeyMs: 120_000, overMs: 12_000, jitterMs: 12_000 });
  assert.deepEqual(resolvePeerConfig(base).childLifetime, { rekeyMs: 3_600_000, overMs: 360_000, jitterMs: 360_000 }, 'defaults unchanged');
  assert.equal(resolvePeerConfig({ ...base, ikeLifetime: { rekeyMs: 600_000, jitterMs: 1000 } }).ikeLifetime.jitterMs, 1000);
  assert.throws(() => resolvePeerConfig({ ...base, childLifetime: { rekeyMs: 60_000, jitterMs: 60_000 } }), /jitterMs/);
});
