/**
 * The MariaDB backend against a real server (Debian's mariadb-server, started by
 * test/helpers/mariadb.ts on a unix socket and a loopback port), including the server
 * crashing, coming back, and freezing in the middle of a run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { RealClock } from '../../../src/engine/clock.js';
import { RouteTable } from '../../../src/engine/dataplane/route-table.js';
import { DynamicRouteManager, type SiteManagerStatus } from '../../../src/engine/sites/dynamic-routes.js';
import { SiteBackendError, SiteDirectoryConfigError, SiteLookupTimeoutError } from '../../../src/engine/sites/errors.js';
import { MysqlSiteBackend, parseMysqlDsn, redactDsn } from '../../../src/engine/sites/mysql-backend.js';
import { openSiteDirectory } from '../../../src/engine/sites/open.js';
import { MariaDbServer } from '../../helpers/mariadb.js';
import { PassThrough, Readable } from 'node:stream';
import { runSitesCommand } from '../../../src/cli/sites-command.js';
import { backendContract, site } from './backend-contract.js';

let server: MariaDbServer;
let n = 0;
let lastDb = '';

before(async () => {
  server = await MariaDbServer.start();
});
after(async () => {
  await server?.destroy();
});

async function createDb(): Promise<string> {
  const name = `t${n++}`;
  const c = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  lastDb = name;
  return name;
}

function dsn(db: string, extra = ''): string {
  return `mysql://root@localhost/${db}?socket=${encodeURIComponent(server.socket)}${extra}`;
}

backendContract('mariadb', {
  fresh: async (masks) => MysqlSiteBackend.open({ dsn: dsn(await createDb()), masks, importBatch: 200 }),
  reopen: async (masks) => MysqlSiteBackend.open({ dsn: dsn(lastDb), ...(masks ? { masks } : {}) }),
});

test('mariadb: connection strings (TCP, socket, options) are parsed; the password never shows', () => {
  const s = parseMysqlDsn('mysql://meshgate:s%40cret@db.example:3307/sites?queryTimeoutMs=500&connectionLimit=8');
  assert.deepEqual(
    { host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, q: s.queryTimeoutMs, c: s.connectionLimit },
    { host: 'db.example', port: 3307, user: 'meshgate', password: 's@cret', database: 'sites', q: 500, c: 8 },
  );
  assert.equal(parseMysqlDsn('mariadb://u@localhost/db?socket=%2Frun%2Fm.sock').socketPath, '/run/m.sock');
  assert.equal(redactDsn('mysql://u:topsecret@h/db'), 'mysql://u:***@h/db');
  for (const bad of ['mysql://h/db', 'mysql://u@h/', 'mysql://u@h/db?bogus=1', 'mysql://u@h/db?queryTimeoutMs=1', 'http://u@h/db', 'not a url']) {
    assert.throws(() => parseMysqlDsn(bad), SiteDirectoryConfigError, bad);
  }
  try {
    parseMysqlDsn('mysql://u:topsecret@h/db?bogus=1');
  } catch (e) {
    assert.ok(!String(e).includes('topsecret'));
  }
});

test('mariadb: over TCP on loopback too, via openSiteDirectory; the schema has the unique indexes', async () => {
  const db = await createDb();
  const b = await openSiteDirectory(`mysql://root@127.0.0.1:${server.port}/${db}`, { configDir: '/nonexistent', masks: { v4: 24 } });
  try {
    await b.put(site(1));
    assert.equal((await b.lookupByNetwork(Uint8Array.from([10, 0, 1, 1])))?.name, 'site-00001');
    const c = await mysql.createConnection({ socketPath: server.socket, user: 'root', database: db });
    const [rows] = await c.query(`SHOW INDEX FROM sites WHERE Non_unique = 0`);
    await c.end();
    const keys = new Set((rows as { Key_name: string }[]).map((r) => r.Key_name));
    assert.deepEqual([...keys].sort(), ['PRIMARY', 'sites_identity', 'sites_network']);
  } finally {
    await b.close();
  }
});

test('mariadb: an unreachable server fails within the timeouts, with a typed error', async () => {
  const t0 = Date.now();
  await assert.rejects(
    MysqlSiteBackend.open({ dsn: `mysql://root@127.0.0.1:1/x?connectTimeoutMs=500`, masks: { v4: 24 } }),
    (e: unknown) => e instanceof SiteBackendError,
  );
  assert.ok(Date.now() - t0 < 5000);
});

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function addr(i: number, host = 5): Uint8Array {
  return Uint8Array.from([10, (i >> 8) & 255, i & 255, host]);
}

test('mariadb: the server crashes, comes back and freezes in the middle of a run', async () => {
  const db = await createDb();
  const b = await MysqlSiteBackend.open({ dsn: dsn(db, '&queryTimeoutMs=400&connectTimeoutMs=400'), masks: { v4: 24 } });
  async function* rows() {
    for (let i = 0; i < 400; i++) yield { line: i + 2, site: site(i) };
  }
  assert.equal((await b.bulkImport(rows())).inserted, 400);
  const routes = new RouteTable();
  const removed: string[] = [];
  const logs: string[] = [];
  const m = new DynamicRouteManager({
    clock: new RealClock(),
    routes,
    capacity: 1000,
    lookupTimeoutMs: 600,
    retries: 1,
    retryBaseMs: 100,
    failureHoldMs: 200,
    probeIntervalMs: 250,
    hooks: {
      connect: (r) => setImmediate(() => m.tunnelUp(r.name, `sa-${r.name}`)),
      release: () => {},
      removed: (r) => removed.push(r.name),
      log: (e) => logs.push(`${e.level} ${e.message}`),
    },
  });
  m.addDirectory('hq', b);
  m.addBaseRoute('hq', '10.0.0.0/8');
  const st = (): SiteManagerStatus => m.status();
  try {
    // 1. Connect 50 sites.
    for (let i = 0; i < 50; i++) m.resolve('hq', addr(i), new Uint8Array(40));
    await waitFor(() => st().up === 50, 10_000, '50 routes up');

    // 2. Crash: new lookups fail within bounded time; existing routes keep working.
    await server.kill();
    // The event loop stays free: measure the worst timer lag while lookups fail.
    let worstLag = 0;
    let tick = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - tick - 10);
      tick = now;
    }, 10);
    const t0 = Date.now();
    for (let i = 100; i < 120; i++) m.resolve('hq', addr(i), new Uint8Array(40));
    await waitFor(() => st().pendingLookups === 0, 5000, 'failed lookups to finish');
    clearInterval(lagTimer);
    const failedAfter = Date.now() - t0;
    let s = st();
    assert.equal(s.directories[0]!.state, 'down');
    assert.ok(s.directories[0]!.lastError, 'the last error is visible');
    assert.equal(s.drops['lookup-failed'], 20);
    assert.ok(failedAfter < 3000, `lookups gave up after ${failedAfter} ms`);
    assert.ok(worstLag < 200, `event loop lag ${worstLag.toFixed(1)} ms`);
    assert.equal(s.up, 50, 'existing dynamic routes are untouched');
    assert.deepEqual(routes.lookup(addr(7))!.target, { kind: 'sa', id: 'sa-site-00007' });
    assert.equal(m.resolve('hq', addr(7), new Uint8Array(40)).kind, 'route');
    const stale = await m.resolveIdentity('fqdn:site-7.example.net');
    assert.equal(stale.kind === 'found' && stale.stale, true, 'a connected site still authenticates');
    assert.ok(logs.some((l) => l.startsWith('error') && l.includes('down')));

    // 3. The server comes back: the probe sees it, lookups work again.
    await server.startServer();
    await waitFor(() => st().directories[0]!.state === 'up', 10_000, 'the directory to come back up');
    await new Promise((r) => setTimeout(r, 250)); // past the failure hold
    for (let i = 100; i < 120; i++) m.resolve('hq', addr(i), new Uint8Array(40));
    await waitFor(() => st().up === 70, 10_000, '70 routes up');

    // 4. The server freezes (SIGSTOP): attempts time out, the loop stays free, existing routes work.
    server.pause();
    const before = st().counters.timeouts;
    const failuresBefore = st().counters.failures;
    const t1 = Date.now();
    for (let i = 200; i < 210; i++) m.resolve('hq', addr(i), new Uint8Array(40));
    await waitFor(() => st().pendingLookups === 0, 5000, 'timed-out lookups to finish');
    const frozeAfter = Date.now() - t1;
    s = st();
    // 10 lookups x 2 attempts: each times out (statement or pool wait) or fails to connect in time.
    assert.ok(s.counters.timeouts > before, `timeouts ${s.counters.timeouts - before}`);
    assert.ok(s.counters.timeouts - before + (s.counters.failures - failuresBefore) >= 20);
    assert.equal(s.directories[0]!.state, 'down');
    assert.match(s.directories[0]!.lastError!, /no answer within 600 ms|timeout|within/i);
    assert.ok(frozeAfter < 3000, `gave up after ${frozeAfter} ms`);
    assert.equal(m.resolve('hq', addr(110), new Uint8Array(40)).kind, 'route');
    await assert.rejects(b.get('site-00001'), (e: unknown) => e instanceof SiteLookupTimeoutError || e instanceof SiteBackendError);

    // 5. Thawed: recovery again.
    server.resume();
    await waitFor(() => st().directories[0]!.state === 'up', 10_000, 'recovery after the freeze');
    await new Promise((r) => setTimeout(r, 250));
    for (let i = 200; i < 210; i++) m.resolve('hq', addr(i), new Uint8Array(40));
    await waitFor(() => st().up === 80, 10_000, '80 routes up');
    assert.equal(removed.length, 0);
  } finally {
    m.close();
    server.resume();
    await b.close();
  }
});

test('mariadb: meshgate sites import/export against the server, the DSN from the environment', async () => {
  const db = await createDb();
  const env = { MESHGATE_SITE_DIRECTORY: dsn(db) };
  const io = () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o: Buffer[] = [];
    const e: Buffer[] = [];
    out.on('data', (c: Buffer) => o.push(c));
    err.on('data', (c: Buffer) => e.push(c));
    return { out, err, text: () => Buffer.concat(o).toString(), errors: () => Buffer.concat(e).toString() };
  };
  const csv = 'name,identity,gateway,network,psk,cert,active,comment\r\n' + Array.from({ length: 300 }, (_, i) => `m${i},fqdn:m${i}.example,gw.example,10.${i >> 8}.${i & 255}.0/24,key-of-m${i},,yes,\r\n`).join('');
  const a = io();
  const code = await runSitesCommand(['import', '-', '--mask', '24'], { configDir: '/nonexistent', stdin: Readable.from([Buffer.from(csv)]), stdout: a.out, stderr: a.err, env });
  assert.equal(code, 0, a.errors());
  assert.match(a.text(), /300 rows read: 300 sites added/);
  const b = io();
  assert.equal(await runSitesCommand(['export'], { configDir: '/nonexistent', stdout: b.out, stderr: b.err, env }), 0);
  assert.equal(b.text().trim().split('\r\n').length, 301);
  assert.ok(!b.text().includes('key-of-m'));
});
