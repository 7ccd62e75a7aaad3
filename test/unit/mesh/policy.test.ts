import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwardingFilter, MeshPolicy, type SpokeIdentity } from '../../../src/engine/mesh/policy.js';
import { RequestBackoff } from '../../../src/engine/mesh/request-backoff.js';

test('an empty forwarding filter allows every prefix', () => {
  const f = new ForwardingFilter([]);
  assert.equal(f.decide('10.2.0.0/24').action, 'allow');
  assert.equal(f.decide('2001:db8::/64').action, 'allow');
});

test('the first covering entry in table order decides; a final catch-all deny makes an allow-list', () => {
  const f = new ForwardingFilter([
    { prefix: '10.66.0.0/16', routingTag: 0, action: 'deny' },
    { prefix: '10.0.0.0/8', routingTag: 0, action: 'allow' },
    { prefix: '0.0.0.0/0', routingTag: 0, action: 'deny' },
  ]);
  assert.equal(f.decide('10.2.0.0/24').action, 'allow');
  assert.deepEqual(f.decide('10.66.1.0/24'), { action: 'deny', entry: '10.66.0.0/16' });
  assert.deepEqual(f.decide('192.168.1.0/24'), { action: 'deny', entry: '0.0.0.0/0' });
  // A request wider than an entry is not covered by it.
  assert.equal(f.decide('10.0.0.0/8').action, 'allow');
  // IPv6 requests are not matched by IPv4 entries.
  assert.equal(f.decide('2001:db8::/64').action, 'allow');
  // Order matters: an earlier broad allow shadows a later specific deny.
  const g = new ForwardingFilter([
    { prefix: '10.0.0.0/8', routingTag: 0, action: 'allow' },
    { prefix: '10.66.0.0/16', routingTag: 0, action: 'deny' },
  ]);
  assert.equal(g.decide('10.66.1.0/24').action, 'allow');
});

test('routing tags: an entry with a tag applies only to that tag, tag 0 to all', () => {
  const f = new ForwardingFilter([{ prefix: '10.5.0.0/16', routingTag: 7, action: 'deny' }]);
  assert.equal(f.decide('10.5.1.0/24', 7).action, 'deny');
  assert.equal(f.decide('10.5.1.0/24', 3).action, 'allow');
});

test('group IDs: each side must accept the other group; an empty list accepts the own group only', () => {
  const a: SpokeIdentity = { name: 'branch1', groupId: 1, acceptedGroupIds: [] };
  const b: SpokeIdentity = { name: 'branch2', groupId: 2, acceptedGroupIds: [1, 2] };
  const c: SpokeIdentity = { name: 'branch3', groupId: 2, acceptedGroupIds: [] };
  const d: SpokeIdentity = { name: 'branch4', groupId: 1, acceptedGroupIds: [] };
  const p = new MeshPolicy({ filter: [] });
  assert.deepEqual(p.check(c, b, '10.2.0.0/24'), { allowed: true }, 'same group');
  assert.deepEqual(p.check(a, d, '10.4.0.0/24'), { allowed: true }, 'same group, empty lists');
  const v = p.check(a, b, '10.2.0.0/24');
  assert.equal(v.allowed, false, 'b accepts group 1, but a accepts only its own group 1, not 2');
  assert.equal(!v.allowed && v.reason, 'group-not-accepted');
  assert.equal(p.check(a, a, '10.1.0.0/24').allowed, false);
  const denied = new MeshPolicy({ filter: [{ prefix: '10.2.0.0/16', routingTag: 0, action: 'deny' }] }).check(c, b, '10.2.0.0/24');
  assert.equal(!denied.allowed && denied.reason, 'filter-deny');
});

test('request backoff: rate limit, doubling on failure up to the maximum, reset on success', () => {
  let now = 0;
  const b = new RequestBackoff({ initialRateLimitSec: 2, maxRateLimitSec: 10, requestValiditySec: 60 }, () => now);
  assert.equal(b.tryRequest('k'), true);
  assert.equal(b.tryRequest('k'), false, 'rate-limited');
  assert.equal(b.rateLimitedForMs('k'), 2000);
  now = 2000;
  assert.equal(b.tryRequest('k'), true);
  b.failed('k', 'peer unreachable');
  assert.equal(b.rateLimitedForMs('k'), 4000);
  b.failed('k', 'peer unreachable');
  b.failed('k', 'peer unreachable');
  assert.equal(b.rateLimitedForMs('k'), 10_000, 'capped at the maximum');
  assert.equal(b.get('k')?.lastFailure, 'peer unreachable');
  now += 10_000;
  assert.equal(b.tryRequest('k'), true);
  b.succeeded('k');
  assert.equal(b.validForMs('k'), 60_000);
  assert.equal(b.get('k')?.currentLimitSec, 2);
  now += 30_000;
  b.refresh('k');
  assert.equal(b.validForMs('k'), 60_000);
  assert.equal(b.rateLimitedForMs('other'), 0);
});
