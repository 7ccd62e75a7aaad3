import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router, formatDuration, formatTime, type EventRecord } from '../../../src/router/index.js';
import { cloneConfig, setRow } from '../../../src/config/index.js';

async function open(opts: { eventLogSize?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mg-router-'));
  const clock = new FakeClock(Date.UTC(2026, 10, 22, 12, 0, 0));
  const router = await Router.open({ configDir: dir, clock, name: 'r1', ...opts });
  return { dir, clock, router, done: () => (router.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('the event log is a ring buffer; trace subscribers get events of their topic only', async () => {
  const { router, clock, done } = await open({ eventLogSize: 5 });
  try {
    const got: EventRecord[] = [];
    const off = router.subscribeTrace('MESH', (e) => got.push(e));
    for (let i = 0; i < 8; i++) {
      clock.advance(1000);
      router.log(i % 2 ? 'mesh' : 'vpn', `event ${i}`);
    }
    assert.equal(router.events().length, 5);
    assert.equal(router.events()[4]!.text, 'event 7');
    assert.deepEqual(got.map((e) => e.text), ['event 1', 'event 3', 'event 5', 'event 7']);
    assert.equal(got[0]!.time.toISOString(), '2026-11-22T12:00:02.000Z');
    off();
    router.log('mesh', 'after');
    assert.equal(got.length, 4);
    // A throwing subscriber does not break the publisher or other subscribers.
    router.subscribeTrace('vpn', () => {
      throw new Error('boom');
    });
    const ok: string[] = [];
    router.subscribeTrace('vpn', (e) => ok.push(e.text));
    router.log('vpn', 'still delivered');
    assert.deepEqual(ok, ['still delivered']);
    assert.ok(router.traceTopicList().some((t) => t.name === 'mesh'), 'logging declares the topic');
  } finally {
    done();
  }
});

test('registries: show topics, status views and actions can be registered, replaced and removed', async () => {
  const { router, done } = await open();
  try {
    const off = router.registerShow('Mesh', { help: 'mesh tunnels', run: () => [{ kind: 'text', text: 'one' }] });
    assert.ok(router.showTopics().some((t) => t.name === 'mesh'));
    const off2 = router.registerShow('mesh', { help: 'v2', run: () => [] });
    assert.equal(router.showProvider('MESH')!.help, 'v2');
    off2();
    assert.equal(router.showProvider('mesh')!.help, 'mesh tunnels');
    off();
    assert.equal(router.showProvider('mesh'), undefined);

    assert.throws(() => router.registerStatusView('nope', () => ({ rows: [] })), { name: 'RouterError' });
    assert.equal(router.statusView('routes'), undefined);
    const offView = router.registerStatusView('routes', () => ({ rows: [['10.0.0.0/8', 0, 'HQ', 'vpn', 1, '00:01']] }));
    assert.deepEqual(router.statusView('routes'), { rows: [['10.0.0.0/8', 0, 'HQ', 'vpn', 1, '00:01']] });
    offView();
    assert.equal(router.statusView('routes'), undefined);

    assert.ok(router.actionHandler('config.confirm'), 'router built-ins are registered');
    assert.equal(router.actionHandler('vpn.connect'), undefined);
    const offAct = router.registerAction('system.reboot', () => [{ kind: 'text', text: 'rebooting' }]);
    assert.deepEqual(await router.actionHandler('system.reboot')!({}, { user: 'u', access: 'admin' }), [{ kind: 'text', text: 'rebooting' }]);
    offAct();
    assert.throws(() => router.actionHandler('system.reboot')!({}, { user: 'u', access: 'admin' }), /not available/);
  } finally {
    done();
  }
});

test('sessions, sysinfo and the built-in status views', async () => {
  const { router, clock, done } = await open();
  try {
    let dirty = false;
    const id = router.attachSession('alice', 'admin', () => dirty);
    dirty = true;
    assert.deepEqual(router.statusView('router.sessions'), { rows: [[id, 'alice', 'admin', '2026/11/22 12:00:00', 'yes']] });
    router.detachSession(id);
    assert.deepEqual(router.statusView('router.sessions'), { rows: [] });
    clock.advance(90_061_000);
    const info = Object.fromEntries(router.sysinfo());
    assert.equal(info['NAME'], 'r1');
    assert.equal(info['UPTIME'], '1d 01:01:01');
    assert.equal(info['TIME'], '2026/11/23 13:01:01');
    assert.match(String(info['MODEL']), /Branch-5 \(VPN 5, mesh 10\)/);
    const commits = router.statusView('config.commits');
    assert.ok(commits && 'rows' in commits && commits.rows.length === 1);
    assert.equal(formatDuration(59), '00:00:59');
    assert.equal(formatTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '2026/01/02 03:04:05');
  } finally {
    done();
  }
});

test('users: password check against the crypto_pwhash hash, inactive users refused', async () => {
  const { router, done } = await open();
  try {
    const d = cloneConfig(router.running() as never);
    setRow(router.schema, d, '/Setup/Config/Users', ['Root'], new Map([['Password', 'correct horse'], ['Access', 'admin']]), 'create');
    setRow(router.schema, d, '/Setup/Config/Users', ['off'], new Map([['Password', 'pw'], ['Active', 'no']]), 'create');
    await router.commit(d, { user: 'test' });
    assert.equal(router.checkPassword('root', 'correct horse')?.access, 'admin');
    assert.equal(router.checkPassword('root', 'Correct horse'), undefined);
    assert.equal(router.checkPassword('off', 'pw'), undefined);
    assert.equal(router.checkPassword('nobody', 'x'), undefined);
    // The same answers off the event loop (what the SSH server uses); the loop keeps turning meanwhile.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    assert.equal((await router.checkPasswordAsync('root', 'correct horse'))?.access, 'admin');
    clearInterval(timer);
    assert.equal(await router.checkPasswordAsync('root', 'Correct horse'), undefined);
    assert.equal(await router.checkPasswordAsync('root', ''), undefined);
    assert.equal(await router.checkPasswordAsync('off', 'pw'), undefined);
    assert.equal(await router.checkPasswordAsync('nobody', 'x'), undefined);
    assert.ok(ticks >= 1, 'timers ran while Argon2id was verifying');
    assert.deepEqual(router.user('ROOT'), { name: 'Root', active: true, access: 'admin', authorizedKeys: [], hasPassword: true });
    assert.match(router.running().tables['/Setup/Config/Users']![0]!['Password']!, /^\$argon2id\$/);
  } finally {
    done();
  }
});

test('two Routers keep separate config files and event logs', async () => {
  const a = await open();
  const b = await open();
  try {
    assert.notEqual(a.router.configFile, b.router.configFile);
    a.router.log('x', 'only a');
    assert.equal(b.router.events().filter((e) => e.text === 'only a').length, 0);
  } finally {
    a.done();
    b.done();
  }
});
