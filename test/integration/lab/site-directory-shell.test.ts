/**
 * Concentrator mode as an administrator sets it up: a SQLite site directory in the config
 * directory, a base route in the routing table, a Base-Peer template; then the show topics,
 * /Status views and /Other actions, a directory that cannot be opened, and turning it off.
 * Routers with bound engines on the in-memory network, site routers as plain engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { emptyEngineConfig, Engine } from '../../../src/engine/engine.js';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';
import { SqliteSiteBackend } from '../../../src/engine/sites/sqlite-backend.js';
import { SimulatedLan } from '../../../src/lab/simulated-lan.js';
import { bindEngine } from '../../../src/router/engine-binding.js';
import { Router } from '../../../src/router/index.js';
import { createShellSession, renderPlain, type OutputBlock } from '../../../src/shell/index.js';

const PSK = (k: number) => `site-secret-${k}-abcdefgh`;

async function flush(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

async function until(clock: FakeClock, pred: () => boolean, maxMs: number, step = 10): Promise<boolean> {
  for (let t = 0; t <= maxMs; t += step) {
    if (pred()) return true;
    clock.advance(step);
    await flush(2);
  }
  return pred();
}

async function sh(router: Router, line: string): Promise<{ code: number; text: string }> {
  const s = createShellSession({ router, user: 'admin', access: 'admin' });
  const blocks: OutputBlock[] = [];
  const r = await s.execute(line, { sink: { write: (b) => blocks.push(b) } });
  s.close();
  return { code: r.exitCode, text: blocks.map(renderPlain).join('\n') };
}

/** Lines typed into one session (cd carries over), each required to succeed. */
async function script(router: Router, lines: string[]): Promise<void> {
  const s = createShellSession({ router, user: 'admin', access: 'admin' });
  try {
    for (const line of lines) {
      const blocks: OutputBlock[] = [];
      const r = await s.execute(line, { sink: { write: (b) => blocks.push(b) } });
      assert.equal(r.exitCode, 0, `${line}: ${blocks.map(renderPlain).join('\n')}`);
    }
  } finally {
    s.close();
  }
}

test('site directory from the shell: SQLite directory, base route, show sites, status views, refresh, flush, off', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sites-'));
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const engines: Engine[] = [];
  let router: Router | undefined;
  try {
    // The directory as `meshgate sites import` would leave it: two sites.
    const db = new SqliteSiteBackend({ file: join(dir, 'hub', 'sites.db'), masks: { v4: 24 } });
    for (const k of [1, 2]) await db.put({ name: `store${k}`, identity: { type: 'fqdn', value: `store${k}.lab` }, gateway: { host: `100.64.0.${k}` }, network: { family: 4, bytes: Uint8Array.of(10, 64, k, 0), length: 24 }, psk: PSK(k), active: true, comment: '' });
    await db.close();

    // Two site routers answering the concentrator with their own keys.
    for (const k of [1, 2]) {
      const cfg = emptyEngineConfig(`store${k}`);
      cfg.lanAddresses = [`10.64.${k}.1/24`];
      cfg.peers.push({ kind: 'static', name: 'hq', role: 'responder', localId: `store${k}.lab`, remoteId: 'hq.lab', psk: PSK(k), localTs: [`10.64.${k}.0/24`], remoteTs: ['10.0.0.0/24'] });
      const port = new MemoryLanPort({ name: 'lan', onSend: (p) => lan.receive(p) });
      const lan: SimulatedLan = new SimulatedLan(port, `10.64.${k}.0/24`, `10.64.${k}.1`, clock);
      engines.push(new Engine({ clock, transport: net.attach(`100.64.0.${k}`, 4500), lanPorts: [port], config: cfg }));
    }

    router = await Router.open({ configDir: join(dir, 'hub'), clock, name: 'hq' });
    const port = new MemoryLanPort({ name: 'LAN-1', onSend: (p) => hubLan.receive(p) });
    const hubLan: SimulatedLan = new SimulatedLan(port, '10.0.0.0/24', '10.0.0.1', clock);
    const hub = new Engine({ clock, transport: net.attach('198.51.100.1', 4500), lanPorts: [port] });
    engines.push(hub);
    const binding = bindEngine(router, hub);
    await script(router, [
      'begin',
      'cd /Setup/Interfaces/LAN',
      'set LAN-1 yes 10.0.0.1/24',
      'cd /Setup/VPN/IKEv2/Auth/Parameter',
      'set SITES {Local-ID} hq.lab',
      'cd /Setup/VPN/IKEv2/Peers',
      'set SITES yes "" responder static {Auth} SITES {SH-Time} 600',
      'cd /Setup/IP-Router/Routing-Table',
      'set 10.64.0.0/10 0 SITE-DIRECTORY',
      'cd /Setup/VPN/Site-Directory',
      'set Operating yes',
      'set Backend sqlite',
      'set SQLite-File sites.db',
      'set Base-Peer SITES',
      'set Remote-Mask 24',
      'set Max-Dynamic-Routes 50',
      'set /Setup/Licence/Model Central-100',
      'commit comment "concentrator"',
    ]);
    await flush();
    let shown = await sh(router, 'show sites');
    assert.match(shown.text, /State:\s+up/);
    assert.match(shown.text, /Backend:\s+sqlite:sites\.db/);
    assert.match(shown.text, /Slots:\s+0\/50 \(50 free\)/);

    let report: { received: number } | undefined;
    void hubLan.ping('10.0.0.5', '10.64.2.5', { count: 3, intervalMs: 200 }).then((r) => (report = r));
    assert.ok(await until(clock, () => report !== undefined, 10_000));
    assert.equal(report!.received, 3, 'first packet queued, not lost');
    const fwd = (await sh(router, 'show forwarding')).text;
    assert.match(fwd, /Site-Queued:\s+1\b/);
    assert.match(fwd, /Site-Released:\s+1\b/);

    shown = await sh(router, 'show sites');
    assert.match(shown.text, /Slots:\s+1\/50 \(49 free\)/);
    assert.match(shown.text, /store2\s+sites\s+10\.64\.2\.0\/24\s+fqdn:store2\.lab\s+100\.64\.0\.2\s+up\s+site_store2/);
    const row = await sh(router, 'show sites store2');
    assert.match(row.text, /Auth:\s+PSK \(not shown\)/);
    assert.match(row.text, /Connected:\s+up \(site_store2\)/);
    assert.equal((await sh(router, 'show sites nosuch')).code !== 0, true);
    const counters = await sh(router, 'show sites counters');
    assert.match(counters.text, /lookups\s+1\b/);
    assert.match(counters.text, /hits\s+1\b/);
    assert.match((await sh(router, 'show routes')).text, /10\.64\.2\.0\/24\s+site\s+SA site_store2/);
    assert.match((await sh(router, 'show routes')).text, /10\.64\.0\.0\/10\s+site\s+site directory sites/);
    assert.match((await sh(router, 'ls /Status/VPN/Site-Directory/Statistics')).text, /Lookups:\s+1\b[\s\S]*Slots-Free:\s+49\b/);
    assert.match((await sh(router, 'ls /Status/VPN/Site-Directory/Dynamic-Routes')).text, /10\.64\.2\.0\/24\s+store2\s+100\.64\.0\.2/);
    assert.match((await sh(router, 'show licence')).text, /VPN-Tunnels:\s+1 \/ 100/);
    assert.match((await sh(router, 'do /Other/Site-Directory/Refresh *')).text, /store2\s+unchanged/);

    // Rows managed from the shell: the PSK argument stays out of the history and every output.
    const session = createShellSession({ router, user: 'admin', access: 'admin' });
    const out: OutputBlock[] = [];
    const put = await session.execute('do /Other/Site-Directory/Put store3 fqdn:store3.lab 100.64.0.3 10.64.3.0/24 third-site-secret yes "rack 7"', { sink: { write: (b) => out.push(b) } });
    assert.equal(put.exitCode, 0, out.map(renderPlain).join('\n'));
    assert.match(out.map(renderPlain).join('\n'), /site store3 added/);
    const bad = await session.execute('do /Other/Site-Directory/Put store4 fqdn:store4.lab 100.64.0.4 10.64.4.0/25 fourth-site-secret', { sink: { write: (b) => out.push(b) } });
    assert.notEqual(bad.exitCode, 0, 'a /25 in a /24 directory is refused');
    assert.match(renderPlain(out.at(-1)!), /network/);
    await session.execute('history', { sink: { write: (b) => out.push(b) } });
    assert.doesNotMatch(out.map(renderPlain).join('\n'), /third-site-secret|fourth-site-secret/);
    session.close();
    assert.match((await sh(router, 'show sites count')).text, /Sites:\s+3/);
    const list = await sh(router, 'show sites list');
    assert.match(list.text, /store3\s+fqdn:store3\.lab\s+100\.64\.0\.3\s+10\.64\.3\.0\/24\s+psk\s+yes\s+rack 7/);
    assert.doesNotMatch(list.text, /secret/);
    assert.match((await sh(router, 'show sites list store2')).text, /store3/);
    assert.doesNotMatch((await sh(router, 'show sites list store2')).text, /store1/);
    // Deleting a connected site takes its tunnel down at once.
    assert.match((await sh(router, 'do /Other/Site-Directory/Delete store2')).text, /site store2 deleted; its tunnel was taken down/);
    assert.doesNotMatch((await sh(router, 'show routes')).text, /site_store2/);
    assert.notEqual((await sh(router, 'do /Other/Site-Directory/Delete store2')).code, 0);
    // Bring store2 back and connect it again for the flush below.
    assert.equal((await sh(router, `do /Other/Site-Directory/Put store2 fqdn:store2.lab 100.64.0.2 10.64.2.0/24 ${PSK(2)}`)).code, 0);
    report = undefined;
    void hubLan.ping('10.0.0.5', '10.64.2.5', { count: 2, intervalMs: 200 }).then((r) => (report = r));
    assert.ok(await until(clock, () => report !== undefined, 10_000));
    assert.equal(report!.received, 2);
    assert.match((await sh(router, 'do /Other/Site-Directory/Flush')).text, /removed 1 dynamic route/);
    await until(clock, () => !engines[1]!.datapath.hasTunnel('hq'), 1000);
    assert.equal(engines[1]!.datapath.hasTunnel('hq'), false, 'the flushed site was told');
    for (const line of ['show sites', 'show sites store2', 'show config', 'show log', 'show vpn']) {
      assert.doesNotMatch((await sh(router, line)).text, /site-secret/, `${line} shows no PSK`);
    }

    // A MySQL directory that is not there: refused to open, retried, reported; the DSN's password hidden.
    await script(router, ['set /Setup/VPN/Site-Directory/Backend mysql', 'set /Setup/VPN/Site-Directory/MySQL-DSN mysql://mg:topsecretpw@127.0.0.1:1/sites?connectTimeout=300']);
    for (let i = 0; i < 200 && !/State:\s+failed/.test((await sh(router, 'show sites')).text); i++) await new Promise((r) => setTimeout(r, 20));
    shown = await sh(router, 'show sites');
    assert.match(shown.text, /State:\s+failed/);
    assert.match(shown.text, /Last-Error:\s+\S+/);
    assert.doesNotMatch(shown.text + (await sh(router, 'show log')).text, /topsecretpw/);

    // Off again: the Base-Peer row would become a tunnel of its own, so it is switched off too.
    await script(router, ['begin', 'set /Setup/VPN/Site-Directory/Operating no', 'cd /Setup/VPN/IKEv2/Peers', 'set SITES {Active} no', 'commit']);
    shown = await sh(router, 'show sites');
    assert.match(shown.text, /Operating:\s+no/);
    assert.doesNotMatch((await sh(router, 'show routes')).text, /site directory/);
    binding.unbind();
  } finally {
    for (const e of engines) await e.stop();
    router?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
