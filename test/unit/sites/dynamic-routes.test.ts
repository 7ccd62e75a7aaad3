import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../../src/engine/clock.js';
import { formatPrefix } from '../../../src/engine/dataplane/address.js';
import { RouteTable } from '../../../src/engine/dataplane/route-table.js';
import {
  DynamicRouteManager,
  capacityFromLicence,
  type DynamicRoute,
  type DynamicRouteManagerOptions,
  type QueuedPacket,
  type RemovalReason,
} from '../../../src/engine/sites/dynamic-routes.js';
import { LicenceCounter } from '../../../src/engine/mesh/licence.js';
import { FakeBackend, flush, siteAddress, siteRecord } from './fake-backend.js';

interface Harness {
  clock: FakeClock;
  routes: RouteTable;
  backend: FakeBackend;
  m: DynamicRouteManager;
  connects: DynamicRoute[];
  released: { route: DynamicRoute; packets: QueuedPacket[] }[];
  removed: { name: string; reason: RemovalReason }[];
  logs: string[];
}

async function setup(sites: number, opts: Partial<DynamicRouteManagerOptions> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const routes = new RouteTable();
  const backend = new FakeBackend({ v4: 24 });
  for (let i = 0; i < sites; i++) await backend.add(siteRecord(i));
  const h: Harness = { clock, routes, backend, m: undefined as unknown as DynamicRouteManager, connects: [], released: [], removed: [], logs: [] };
  h.m = new DynamicRouteManager({
    clock,
    routes,
    capacity: 100,
    hooks: {
      connect: (r) => h.connects.push(r),
      release: (route, packets) => h.released.push({ route, packets }),
      removed: (r, reason) => h.removed.push({ name: r.name, reason }),
      log: (e) => h.logs.push(`${e.level}: ${e.message}`),
    },
    ...opts,
  });
  h.m.addDirectory('hq', backend);
  h.m.addBaseRoute('hq', '10.0.0.0/8');
  return h;
}

/** Resolves site i and brings its tunnel up as SA `sa-i`. */
async function connect(h: Harness, i: number): Promise<DynamicRoute> {
  const r = h.m.resolve('hq', siteAddress(i));
  assert.notEqual(r.kind, 'dropped', `site ${i}: ${JSON.stringify(r)}`);
  await flush();
  const route = h.m.tunnelUp(`site-${i}`, `sa-${i}`);
  assert.ok(route, `site ${i} connects`);
  return route;
}

function packet(n: number, size = 100): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0x45;
  p[1] = n & 255;
  return p;
}

test('packets for one network while the lookup runs: one query, queued in order, released when the tunnel is up', async () => {
  const h = await setup(3, { queueMaxPackets: 32 });
  h.backend.mode = 'manual';
  const results = [];
  for (let i = 0; i < 40; i++) results.push(h.m.resolve('hq', siteAddress(1, 1 + (i % 200)), packet(i)).kind);
  assert.equal(h.backend.calls.network, 1, 'coalesced into one lookup');
  assert.equal(results.filter((k) => k === 'queued').length, 32);
  assert.equal(results.filter((k) => k === 'dropped').length, 8);
  const s = h.m.status();
  assert.equal(s.pendingLookups, 1);
  assert.equal(s.queuedPackets, 32);
  assert.equal(s.drops['queue-full'], 8);
  assert.equal(s.counters.coalesced, 39);

  h.backend.release();
  await flush();
  assert.equal(h.connects.length, 1);
  assert.equal(h.connects[0]!.name, 'site-1');
  assert.equal(h.connects[0]!.state, 'connecting');
  // While IKE runs, more packets queue on the route (up to the bound).
  assert.equal(h.m.resolve('hq', siteAddress(1), packet(99)).kind, 'dropped');
  assert.equal(h.released.length, 0);
  assert.equal(h.routes.lookup(siteAddress(1))!.target.kind, 'site-directory', 'no route until the tunnel is up');

  h.m.tunnelUp('site-1', 'sa-1');
  assert.equal(h.released.length, 1);
  assert.deepEqual(
    h.released[0]!.packets.map((p) => p.data[1]),
    Array.from({ length: 32 }, (_, i) => i),
  );
  const r = h.routes.lookup(siteAddress(1))!;
  assert.equal(r.source, 'site');
  assert.deepEqual(r.target, { kind: 'sa', id: 'sa-1' });
  assert.equal(formatPrefix(r.prefix), '10.0.1.0/24');
  assert.equal(h.m.status().queuedBytes, 0);
  assert.equal(h.m.resolve('hq', siteAddress(1)).kind, 'route');
});

test('queued packets are copies (callers reuse their buffers) and bounded by bytes', async () => {
  const h = await setup(2, { queueMaxPackets: 100, queueMaxBytes: 1000 });
  h.backend.mode = 'manual';
  const buf = packet(1, 400);
  assert.equal(h.m.resolve('hq', siteAddress(0), buf).kind, 'queued');
  buf[1] = 77;
  assert.equal(h.m.resolve('hq', siteAddress(0), packet(2, 400)).kind, 'queued');
  assert.deepEqual(h.m.resolve('hq', siteAddress(0), packet(3, 400)), { kind: 'dropped', reason: 'queue-full' });
  h.backend.release();
  await flush();
  h.m.tunnelUp('site-0', 1);
  assert.equal(h.released[0]!.packets[0]!.data[1], 1);
});

test('the total queue bound applies across networks', async () => {
  const h = await setup(5, { queueMaxTotalBytes: 1000 });
  h.backend.mode = 'manual';
  assert.equal(h.m.resolve('hq', siteAddress(0), packet(1, 600)).kind, 'queued');
  assert.deepEqual(h.m.resolve('hq', siteAddress(1), packet(2, 600)), { kind: 'dropped', reason: 'queue-full' });
  assert.equal(h.m.resolve('hq', siteAddress(1), packet(3, 400)).kind, 'queued');
});

test('no such site: queued packets dropped as no-site, negative result cached briefly, then looked up again', async () => {
  const h = await setup(1, { negativeTtlMs: 10_000 });
  assert.equal(h.m.resolve('hq', siteAddress(50), packet(1)).kind, 'queued');
  await flush();
  let s = h.m.status();
  assert.equal(s.counters.misses, 1);
  assert.equal(s.drops['no-site'], 1);
  assert.equal(h.connects.length, 0);
  assert.deepEqual(h.m.resolve('hq', siteAddress(50, 9), packet(2)), { kind: 'dropped', reason: 'no-site' });
  assert.equal(h.backend.calls.network, 1, 'answered from the negative cache');
  // The row appears in the database: it counts after the negative TTL.
  await h.backend.add(siteRecord(50));
  h.clock.advance(10_000);
  assert.equal(h.m.resolve('hq', siteAddress(50), packet(3)).kind, 'queued');
  await flush();
  s = h.m.status();
  assert.equal(h.backend.calls.network, 2);
  assert.equal(s.counters.hits, 1);
  assert.equal(h.connects.length, 1);
});

test('an inactive site is not connected', async () => {
  const h = await setup(0);
  await h.backend.add(siteRecord(4, { active: 'no' }));
  h.m.resolve('hq', siteAddress(4), packet(1));
  await flush();
  assert.equal(h.connects.length, 0);
  assert.equal(h.m.status().drops.inactive, 1);
  assert.equal(h.m.status().counters.inactive, 1);
});

test('a hanging database: attempts time out, are retried with backoff, then the lookup fails and the state is down', async () => {
  const h = await setup(3, { lookupTimeoutMs: 1000, retries: 2, retryBaseMs: 200, failureHoldMs: 3000, probeIntervalMs: 5_000 });
  h.backend.mode = 'hang';
  assert.equal(h.m.resolve('hq', siteAddress(1), packet(1)).kind, 'queued');
  await flush();
  assert.equal(h.backend.calls.network, 1);
  h.clock.advance(1000); // first attempt times out
  await flush();
  assert.equal(h.m.status().directories[0]!.state, 'degraded');
  h.clock.advance(199);
  await flush();
  assert.equal(h.backend.calls.network, 1, 'backoff 200 ms before the first retry');
  h.clock.advance(1);
  await flush();
  assert.equal(h.backend.calls.network, 2);
  h.clock.advance(1000);
  await flush();
  h.clock.advance(400); // second backoff: 400 ms
  await flush();
  assert.equal(h.backend.calls.network, 3);
  h.clock.advance(1000);
  await flush();
  const s = h.m.status();
  assert.equal(s.counters.timeouts, 3);
  assert.equal(s.counters.retries, 2);
  assert.equal(s.counters.lookupFailures, 1);
  assert.equal(s.drops['lookup-failed'], 1);
  assert.equal(s.directories[0]!.state, 'down');
  assert.match(s.directories[0]!.lastError!, /no answer within 1000 ms/);
  assert.ok(h.logs.some((l) => l.startsWith('error:') && l.includes('down')));
  // Held off for failureHoldMs: no new query for that network.
  assert.deepEqual(h.m.resolve('hq', siteAddress(1), packet(2)), { kind: 'dropped', reason: 'lookup-failed' });
  assert.equal(h.backend.calls.network, 3);
  // While down, other networks are not looked up at all: dropped at once, counted.
  assert.deepEqual(h.m.resolve('hq', siteAddress(2), packet(3)), { kind: 'dropped', reason: 'directory-down' });
  assert.equal(h.backend.calls.network, 3);
  assert.equal(h.m.status().counters.shortCircuited, 1);
  // The database comes back: the probe sees it, and the next lookup succeeds.
  h.backend.mode = 'ok';
  h.clock.advance(5000);
  await flush();
  assert.equal(h.backend.calls.health, 1);
  assert.equal(h.m.status().directories[0]!.state, 'up');
  h.m.resolve('hq', siteAddress(1), packet(4));
  await flush();
  assert.equal(h.connects.length, 1);
});

test('failFastWhenDown false: every new network still tries the database while it is down', async () => {
  const h = await setup(3, { retries: 0, failFastWhenDown: false, probeIntervalMs: 60_000 });
  h.backend.mode = 'fail';
  h.m.resolve('hq', siteAddress(0), packet(1));
  await flush();
  assert.equal(h.m.status().directories[0]!.state, 'down');
  h.backend.mode = 'ok';
  h.m.resolve('hq', siteAddress(1), packet(2));
  await flush();
  assert.equal(h.connects.length, 1);
  assert.equal(h.m.status().directories[0]!.state, 'up');
});

test('a failing database never blocks: resolve returns at once, existing routes keep working', async () => {
  const h = await setup(5, { retries: 1, retryBaseMs: 100, lookupTimeoutMs: 500 });
  const up = await connect(h, 2);
  h.backend.mode = 'fail';
  // resolve() answers synchronously (never a promise to wait on) and coalesces the lookups.
  const before = h.backend.calls.network;
  for (let i = 0; i < 1000; i++) {
    const r = h.m.resolve('hq', siteAddress(3, i % 250), packet(i));
    assert.equal(typeof (r as { then?: unknown }).then, 'undefined');
  }
  assert.equal(h.backend.calls.network - before, 1, 'one database lookup for the one network');
  await flush();
  h.clock.advance(100);
  await flush();
  const s = h.m.status();
  assert.equal(s.counters.failures, 2);
  assert.equal(s.directories[0]!.state, 'down');
  assert.match(s.directories[0]!.lastError!, /connection refused/);
  // The connected site still routes, from the route table and from resolve().
  assert.deepEqual(h.routes.lookup(siteAddress(2))!.target, { kind: 'sa', id: 'sa-2' });
  assert.equal(h.m.resolve('hq', siteAddress(2), packet(1)).kind, 'route');
  assert.equal(up.state, 'up');
});

test('a down directory is probed and comes back up without traffic', async () => {
  const h = await setup(1, { retries: 0, probeIntervalMs: 5000 });
  h.backend.mode = 'fail';
  h.m.resolve('hq', siteAddress(0));
  await flush();
  assert.equal(h.m.status().directories[0]!.state, 'down');
  h.clock.advance(5000);
  await flush();
  assert.equal(h.backend.calls.health, 1);
  assert.equal(h.m.status().directories[0]!.state, 'down');
  h.backend.mode = 'ok';
  h.clock.advance(5000);
  await flush();
  assert.equal(h.backend.calls.health, 2);
  assert.equal(h.m.status().directories[0]!.state, 'up');
  h.clock.advance(50_000);
  await flush();
  assert.equal(h.backend.calls.health, 2, 'no probes while up');
});

test('dynamic routes are searched before base routes, also for a base route of the same prefix', async () => {
  const h = await setup(1);
  h.m.addBaseRoute('hq', '10.0.0.0/24');
  await connect(h, 0);
  const r = h.routes.lookup(siteAddress(0))!;
  assert.deepEqual(r.target, { kind: 'sa', id: 'sa-0' });
  assert.ok(r.distance < h.routes.routesOf('10.0.0.0/24').find((x) => x.target.kind === 'site-directory')!.distance);
});

test('eviction: when fewer than 10 % of the slots would be free, the least recently used go until more than 10 % are free', async () => {
  const h = await setup(40, { capacity: 20 });
  for (let i = 0; i < 18; i++) await connect(h, i);
  assert.equal(h.m.size, 18, '18 of 20: 10 % free is not fewer than 10 %');
  assert.equal(h.removed.length, 0);
  // Use 0..3 again: 4..7 are now the least recently used.
  for (let i = 0; i < 4; i++) assert.ok(h.m.touchSa(`sa-${i}`));
  await connect(h, 18);
  assert.deepEqual(
    h.removed.map((r) => [r.name, r.reason]),
    [
      ['site-4', 'evicted'],
      ['site-5', 'evicted'],
    ],
  );
  assert.equal(h.m.size, 17);
  assert.ok(h.m.capacity - h.m.size > 0.1 * h.m.capacity);
  assert.equal(h.routes.lookup(siteAddress(4))!.target.kind, 'site-directory', 'evicted route left the table');
  assert.equal(h.m.status().counters.evictions, 2);
  assert.equal(h.routes.lookup(siteAddress(18))!.target.kind, 'sa');
});

test('eviction with capacity from the licence (VPN tunnel cap)', async () => {
  const licence = new LicenceCounter({ name: 'Branch-25', vpn: 25, mesh: 50 });
  const h = await setup(30, { capacity: capacityFromLicence(licence) });
  for (let i = 0; i < 30; i++) await connect(h, i);
  assert.equal(h.m.capacity, 25);
  assert.ok(h.m.size <= 22, `size ${h.m.size}`);
  assert.ok(h.m.capacity - h.m.size > 2.5);
  licence.setProfile({ name: 'Branch-5', vpn: 5, mesh: 10 });
  h.m.enforceCapacity();
  assert.ok(h.m.size <= 4, `size ${h.m.size} after the cap fell to 5`);
});

test('capacity 0: nothing connects and the packets are dropped as capacity', async () => {
  const h = await setup(2, { capacity: 0 });
  h.m.resolve('hq', siteAddress(0), packet(1));
  await flush();
  assert.equal(h.connects.length, 0);
  assert.equal(h.m.status().drops.capacity, 1);
});

test('idle routes time out; traffic keeps a route', async () => {
  const h = await setup(5, { idleTimeoutMs: 60_000 });
  for (let i = 0; i < 4; i++) await connect(h, i);
  h.clock.advance(30_000);
  h.m.touchSa('sa-1');
  h.clock.advance(30_000);
  assert.deepEqual(h.removed.map((r) => r.name).sort(), ['site-0', 'site-2', 'site-3']);
  assert.ok(h.removed.every((r) => r.reason === 'idle'));
  assert.equal(h.m.size, 1);
  h.clock.advance(29_999);
  assert.equal(h.m.size, 1);
  h.clock.advance(1);
  assert.equal(h.m.size, 0);
  assert.equal(h.m.status().counters.idleTimeouts, 4);
  assert.equal(h.routes.lookup(siteAddress(1))!.target.kind, 'site-directory');
});

test('connect timeout and tunnel failure remove the route and hold the network off', async () => {
  const h = await setup(3, { connectTimeoutMs: 5000, failureHoldMs: 1000 });
  h.m.resolve('hq', siteAddress(0), packet(1));
  await flush();
  h.clock.advance(5000);
  assert.deepEqual(h.removed, [{ name: 'site-0', reason: 'connect-timeout' }]);
  assert.equal(h.m.status().drops['connect-timeout'], 1);
  assert.deepEqual(h.m.resolve('hq', siteAddress(0), packet(2)), { kind: 'dropped', reason: 'connect-timeout' });

  h.m.resolve('hq', siteAddress(1), packet(3));
  await flush();
  assert.ok(h.m.tunnelFailed('site-1'));
  assert.equal(h.removed[1]!.reason, 'connect-failed');
  h.clock.advance(1000);
  h.m.resolve('hq', siteAddress(1), packet(4));
  await flush();
  assert.equal(h.connects.filter((r) => r.name === 'site-1').length, 2);
});

test('tunnelDown removes the route of the SA', async () => {
  const h = await setup(2);
  await connect(h, 1);
  assert.ok(h.m.tunnelDown('sa-1'));
  assert.equal(h.routes.lookup(siteAddress(1))!.target.kind, 'site-directory');
  assert.equal(h.m.tunnelDown('sa-1'), false);
});

test('responder: identity lookup (coalesced), responderUp installs the route; unknown identities are cached briefly', async () => {
  const h = await setup(5);
  h.backend.mode = 'manual';
  const a = h.m.resolveIdentity('fqdn:SITE-3.example.net');
  const b = h.m.resolveIdentity({ type: 'fqdn', value: 'site-3.example.net' });
  await flush();
  assert.equal(h.backend.calls.identity, 1);
  h.backend.release();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.kind, 'found');
  assert.deepEqual(ra, rb);
  if (ra.kind !== 'found') return;
  assert.equal(ra.site.name, 'site-3');
  const route = h.m.responderUp(ra.directoryId, ra.site, 'sa-r3')!;
  assert.equal(route.state, 'up');
  assert.deepEqual(h.routes.lookup(siteAddress(3))!.target, { kind: 'sa', id: 'sa-r3' });

  h.backend.mode = 'ok';
  assert.deepEqual(await h.m.resolveIdentity('fqdn:nobody.example.net'), { kind: 'not-found' });
  assert.deepEqual(await h.m.resolveIdentity('fqdn:nobody.example.net'), { kind: 'not-found' });
  assert.equal(h.backend.calls.identity, 2);
  assert.deepEqual(await h.m.resolveIdentity('not an identity at all!'), { kind: 'not-found' });
});

test('responder: when the database fails, a connected site is still found (stale), others fail', async () => {
  const h = await setup(5, { retries: 0 });
  await connect(h, 2);
  h.backend.mode = 'fail';
  const r = await h.m.resolveIdentity('fqdn:site-2.example.net');
  assert.equal(r.kind, 'found');
  assert.equal(r.kind === 'found' && r.stale, true);
  const r2 = await h.m.resolveIdentity('fqdn:site-3.example.net');
  assert.equal(r2.kind, 'failed');
  assert.equal(h.m.status().counters.identityFailures, 2);
});

test('refresh: comment only -> updated; new key -> changed (route and SA removed); deleted; deactivated', async () => {
  const h = await setup(6, { retries: 1, retryBaseMs: 100 });
  for (const i of [1, 2, 3, 4]) await connect(h, i);
  await h.backend.add(siteRecord(1, { comment: 'moved racks' }));
  assert.equal(await h.m.refresh('site-1'), 'updated');
  assert.equal(h.m.routeOf('site-1')!.site.comment, 'moved racks');
  assert.equal(await h.m.refresh('site-1'), 'unchanged');

  await h.backend.add(siteRecord(2, { psk: 'a-brand-new-key' }));
  assert.equal(await h.m.refresh('site-2'), 'changed');
  await h.backend.delete('site-3');
  assert.equal(await h.m.refresh('site-3'), 'deleted');
  await h.backend.add(siteRecord(4, { active: 'off' }));
  assert.equal(await h.m.refresh('site-4'), 'inactive');
  assert.deepEqual(
    h.removed.map((r) => [r.name, r.reason]),
    [
      ['site-2', 'changed'],
      ['site-3', 'deleted'],
      ['site-4', 'inactive'],
    ],
  );
  assert.equal(await h.m.refresh('site-5'), 'not-connected');
  h.backend.mode = 'fail';
  const failed = h.m.refresh('site-1');
  await flush();
  h.clock.advance(100); // the retry's backoff
  assert.equal(await failed, 'failed');
  assert.ok(h.m.routeOf('site-1'), 'a failed refresh keeps the route');
});

test('a changed row takes effect on the next lookup: the new network is found, the old one is not', async () => {
  const h = await setup(3);
  await h.backend.add(siteRecord(1, { network: '10.9.9.0/24' }));
  h.m.resolve('hq', siteAddress(1));
  await flush();
  assert.equal(h.connects.length, 0);
  h.m.resolve('hq', Uint8Array.from([10, 9, 9, 1]));
  await flush();
  assert.equal(h.connects[0]!.name, 'site-1');
  assert.equal(h.connects[0]!.network, '10.9.9.0/24');
});

test('several directories: each base route goes to its own directory and mask', async () => {
  const h = await setup(2);
  const other = new FakeBackend({ v4: 28, v6: 64 });
  await other.add({ name: 'branch-a', identity: 'ipv4:192.0.2.10', gateway: '192.0.2.10', network: '172.16.0.16/28', cert: 'branch-a-cert' });
  await other.add({ name: 'branch-6', identity: 'key-id:0xabcd', gateway: '[2001:db8::1]:4500', network: '2001:db8:1:2::/64', psk: 'v6-secret-key' });
  h.m.addDirectory('branches', other);
  h.m.addBaseRoute('branches', '172.16.0.0/12');
  h.m.addBaseRoute('branches', '2001:db8::/32');
  assert.equal(h.m.resolveDestination(Uint8Array.from([172, 16, 0, 20])).kind, 'pending');
  const v6 = new Uint8Array(16);
  v6.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]);
  v6[15] = 9;
  h.m.resolveDestination(v6);
  await flush();
  assert.deepEqual(h.connects.map((r) => [r.directoryId, r.name, r.network]), [
    ['branches', 'branch-a', '172.16.0.16/28'],
    ['branches', 'branch-6', '2001:db8:1:2::/64'],
  ]);
  assert.equal(h.backend.calls.network, 0);
  assert.deepEqual(h.m.resolveDestination(Uint8Array.from([192, 168, 1, 1]), packet(1)), { kind: 'dropped', reason: 'no-base-route' });
  assert.deepEqual(h.m.resolve('hq', v6, packet(1)), { kind: 'dropped', reason: 'no-mask' });
  const r = await h.m.resolveIdentity('key-id:0xABCD');
  assert.equal(r.kind === 'found' && r.directoryId, 'branches');
  assert.ok(h.m.removeDirectory('branches'));
  assert.equal(h.routes.lookup(Uint8Array.from([172, 16, 0, 20])), undefined);
});

test('lookups in flight are bounded', async () => {
  const h = await setup(0, { maxPendingLookups: 3 });
  h.backend.mode = 'hang';
  for (let i = 0; i < 3; i++) assert.equal(h.m.resolve('hq', siteAddress(i), packet(i)).kind, 'queued');
  assert.deepEqual(h.m.resolve('hq', siteAddress(9), packet(9)), { kind: 'dropped', reason: 'lookup-limit' });
});

test('close drops queues, removes routes and stops every timer', async () => {
  const h = await setup(3, { probeIntervalMs: 1000 });
  await connect(h, 0);
  h.backend.mode = 'hang';
  h.m.resolve('hq', siteAddress(1), packet(1));
  h.m.close();
  assert.equal(h.m.status().drops.closed, 1);
  assert.deepEqual(h.removed, [{ name: 'site-0', reason: 'closed' }]);
  h.clock.advance(3_600_000);
  await flush();
  assert.equal(h.clock.pendingTimers, 0);
  assert.equal(h.routes.lookup(siteAddress(0))!.target.kind, 'site-directory');
});

test('property: random operations keep slots within capacity, the LRU list consistent and the route table in step', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 30 }),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('connect' as const), i: fc.integer({ min: 0, max: 59 }) }),
          fc.record({ op: fc.constant('touch' as const), i: fc.integer({ min: 0, max: 59 }) }),
          fc.record({ op: fc.constant('down' as const), i: fc.integer({ min: 0, max: 59 }) }),
          fc.record({ op: fc.constant('time' as const), i: fc.integer({ min: 0, max: 100_000 }) }),
        ),
        { maxLength: 80 },
      ),
      async (capacity, ops) => {
        const h = await setup(60, { capacity, idleTimeoutMs: 200_000, negativeTtlMs: 1 });
        const lastUse = new Map<string, number>();
        for (const o of ops) {
          if (o.op === 'connect') {
            h.m.resolve('hq', siteAddress(o.i));
            await flush(2);
            h.m.tunnelUp(`site-${o.i}`, `sa-${o.i}`);
          } else if (o.op === 'touch') h.m.touchSa(`sa-${o.i}`);
          else if (o.op === 'down') h.m.tunnelDown(`sa-${o.i}`);
          else h.clock.advance(o.i);
          for (const r of h.m.list()) lastUse.set(r.name, r.lastUsed);
          // Invariants.
          assert.ok(h.m.size <= capacity);
          const lru = [...h.m.lru()];
          assert.equal(lru.length, h.m.size);
          for (let k = 1; k < lru.length; k++) assert.ok(lru[k - 1]!.lastUsed <= lru[k]!.lastUsed, 'LRU order follows last use');
          const up = lru.filter((r) => r.state === 'up').length;
          assert.equal(h.routes.size, up + 1, 'route table holds the up routes and the base route');
          if (capacity >= 10 && h.m.size > 0) assert.ok(capacity - h.m.size >= Math.floor(0.1 * capacity));
          for (const r of lru) assert.ok(h.clock.now() - r.lastUsed < 200_000, 'no idle route survives its timeout');
        }
        h.m.close();
      },
    ),
    { numRuns: 60 },
  );
});

test('packets held from a port\'s batch Buffer are copies: masking the destination and reusing the batch change nothing queued', async () => {
  const h = await setup(3);
  // A batch buffer as the TUN and the fast path hand it over: a Node Buffer, whose slice() is a view.
  const batch = Buffer.alloc(64, 0xee);
  const pkt = batch.subarray(4, 4 + 28);
  pkt.set([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 9, 9, 9, ...siteAddress(1)]);
  const before = Buffer.from(pkt);
  const r = h.m.resolve('hq', pkt.subarray(16, 20), pkt);
  assert.equal(r.kind, 'queued');
  assert.deepEqual(Buffer.from(pkt), before, 'the lookup did not mask the packet\'s own destination');
  batch.fill(0); // the port reuses its batch buffer
  await flush();
  const route = h.m.tunnelUp('site-1', 'sa-1');
  assert.ok(route);
  assert.equal(h.released.length, 1);
  assert.deepEqual(Buffer.from(h.released[0]!.packets[0]!.data), before, 'the queued packet survived the reuse');
});
