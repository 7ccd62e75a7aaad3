/**
 * A concentrator whose site directory is a real MariaDB server (Debian's package, started by
 * test/helpers/mariadb.ts on a unix socket), serving a hundred site routers on the in-memory
 * network: sites found by destination, tunnels built, the first packets queued; then the
 * server freezes and is killed in the middle of the run — connected sites keep passing traffic,
 * new sites are refused with the reason counted and shown, and service returns with the server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { MysqlSiteBackend } from '../../../src/engine/sites/mysql-backend.js';
import { ConcentratorLab, until } from '../engine/concentrator-lab.js';
import { MariaDbServer } from '../../helpers/mariadb.js';

let server: MariaDbServer;

before(async () => {
  server = await MariaDbServer.start();
});
after(async () => {
  await server?.destroy();
});

test('mariadb directory: a hundred sites connect on demand; a frozen and a crashed server never stop the connected ones', async () => {
  const c = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
  await c.query('CREATE DATABASE conc');
  await c.end();
  const dsn = `mysql://root@localhost/conc?socket=${encodeURIComponent(server.socket)}`;
  const backend = await MysqlSiteBackend.open({ dsn, masks: { v4: 24 } });
  // Lookups wait at most 3 s of lab time, once retried; a down directory is probed every 5 s.
  const lab = new ConcentratorLab(backend, { lookupTimeoutMs: 3000 });
  lab.realWaitMs = 2;
  try {
    await lab.start(120);
    const hub = lab.hub.engine;
    for (let k = 0; k < 100; k++) {
      const r = await lab.ping(k, 1);
      assert.equal(r.received, 1, `site ${k}: first packet queued and answered`);
    }
    let st = hub.sites.status()!;
    assert.equal(st.up, 100);
    assert.equal(st.counters.hits, 100);
    assert.equal(hub.forwarder.counters.drops['site-pending'], 0);

    // The server freezes: a new site's lookup times out; the connected sites do not notice.
    server.pause();
    const frozen = await lab.ping(110, 1);
    assert.equal(frozen.received, 0);
    assert.ok(await until(lab.clock, () => hub.sites.status()!.directories[0]!.state === 'down', 60_000, 100), 'directory down after the retries');
    for (const k of [0, 42, 99]) assert.equal((await lab.ping(k, 2)).received, 2, `site ${k} through the freeze`);
    st = hub.sites.status()!;
    assert.ok(st.counters.timeouts >= 2, `timeouts ${st.counters.timeouts}`);
    assert.ok(st.drops['lookup-failed'] + st.drops['directory-down'] >= 1);

    // It crashes outright (SIGKILL while frozen): still the same for the connected sites.
    server.resume();
    await server.kill();
    for (const k of [1, 50]) assert.equal((await lab.ping(k, 2)).received, 2, `site ${k} with the server gone`);
    assert.equal(hub.sites.status()!.directories[0]!.state, 'down');
    assert.match(hub.sites.status()!.directories[0]!.lastError ?? '', /\S/);

    // Back on the same data: the health probe notices, new sites connect again.
    await server.startServer();
    assert.ok(
      await until(lab.clock, () => hub.sites.status()!.directories[0]!.state === 'up', 120_000, 200, 20),
      'the probe finds the server again',
    );
    assert.equal((await lab.ping(111, 1)).received, 1, 'a new site after the recovery');
    assert.equal(hub.sites.status()!.up, 101);
  } finally {
    await lab.stop();
    await backend.close();
  }
});
