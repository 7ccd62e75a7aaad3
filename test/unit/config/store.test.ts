import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router } from '../../../src/router/index.js';
import { cloneConfig, setParam, setRow, deleteRows, type ConfigChangeSet } from '../../../src/config/index.js';

const MESH = '/Setup/VPN/IKEv2/Mesh';
const PEERS = '/Setup/VPN/IKEv2/Peers';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mg-store-'));
}

async function edit(router: Router, fn: (d: ReturnType<typeof cloneConfig>) => void, user = 'alice', extra: { comment?: string; confirmMinutes?: number } = {}) {
  const d = cloneConfig(router.running() as never);
  fn(d);
  return router.commit(d, { user, ...extra });
}

test('a new config dir gets a config file with mode 0600 and the defaults', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: join(dir, 'node'), clock: new FakeClock(), name: 'spoke1' });
    const f = join(dir, 'node', 'config.json');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.equal(r.name, 'spoke1');
    const json = JSON.parse(readFileSync(f, 'utf8'));
    assert.equal(json.format, 'meshgate-config');
    assert.equal(json.running.values['/Setup/Name'], 'spoke1');
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit is persisted before it returns, and survives a restart', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    await edit(r, (d) => {
      setRow(r.schema, d, PEERS, ['HQ'], new Map([['Remote-Gateway', 'hq.example.com']]), 'create');
      setParam(r.schema, d, `${MESH}/Operation-Mode`, 'spoke');
      setParam(r.schema, d, `${MESH}/VPN-Peer-Template`, 'hq');
    });
    const onDisk = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(onDisk.running.values[`${MESH}/VPN-Peer-Template`], 'HQ');
    assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
    // No temporary files are left behind by the atomic write.
    assert.deepEqual(readdirSync(dir), ['config.json']);
    // The write replaces the file (write to a temporary file, then rename): a reader holding the
    // old file sees the old content whole, never a half-written one.
    const ino = statSync(join(dir, 'config.json')).ino;
    const oldText = readFileSync(join(dir, 'config.json'), 'utf8');
    const fd = openSync(join(dir, 'config.json'), 'r');
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '42'));
    assert.notEqual(statSync(join(dir, 'config.json')).ino, ino, 'a new file was renamed into place');
    const buf = Buffer.alloc(oldText.length + 10);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    assert.equal(buf.subarray(0, n).toString('utf8'), oldText);
    r.close();
    const r2 = await Router.open({ configDir: dir, clock: new FakeClock() });
    assert.equal(r2.get(`${MESH}/Operation-Mode`), 'Spoke');
    assert.equal(r2.running().tables[PEERS]![0]!['Remote-Gateway'], 'hq.example.com');
    assert.equal(r2.revisions().length, 3);
    r2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [what, content] of [
  ['not JSON', '{"format": "meshgate-config", "version": 1, "running": {'],
  ['binary garbage', '\u0000\u0001\u00ff\u00fe garbage'],
  ['someone else\'s JSON', '{"hello": "world"}'],
  ['a wrong value type', JSON.stringify({ format: 'meshgate-config', version: 1, running: { values: { '/Setup/VPN/IKEv2/Mesh/Admin-Distance': '999' }, tables: {} }, revisions: [] })],
  ['an unknown parameter', JSON.stringify({ format: 'meshgate-config', version: 1, running: { values: { '/Setup/Bogus': 'x' }, tables: {} }, revisions: [] })],
  ['a dangling reference', JSON.stringify({ format: 'meshgate-config', version: 1, running: { values: { '/Setup/VPN/IKEv2/Mesh/VPN-Peer-Template': 'NOPE' }, tables: {} }, revisions: [{ seq: 1, time: 'x', user: 'u', comment: '', confirmed: 'yes', config: { values: {}, tables: {} } }] })],
  ['a plain text password where a hash belongs', JSON.stringify({ format: 'meshgate-config', version: 1, running: { values: {}, tables: { '/Setup/Config/Users': [{ Name: 'root', Password: 'hunter2' }] } }, revisions: [{ seq: 1, time: 'x', user: 'u', comment: '', confirmed: 'yes', config: { values: {}, tables: {} } }] })],
  ['a future version', JSON.stringify({ format: 'meshgate-config', version: 99 })],
] as const) {
  test(`a config file with ${what} is refused with a clear error and left byte-identical`, async () => {
    const dir = tmp();
    try {
      const f = join(dir, 'config.json');
      writeFileSync(f, content);
      chmodSync(f, 0o640);
      const before = readFileSync(f);
      await assert.rejects(Router.open({ configDir: dir, clock: new FakeClock() }), (err: Error) => {
        assert.equal(err.name, 'ConfigFileError');
        assert.match(err.message, /config file .*config\.json refused: .*left untouched/);
        return true;
      });
      assert.deepEqual(readFileSync(f), before);
      assert.equal(statSync(f).mode & 0o777, 0o640);
      assert.deepEqual(readdirSync(dir), ['config.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('subscribers get typed changes; a refusing subscriber stops the commit and nothing changes', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    const seen: ConfigChangeSet[] = [];
    const applied: number[] = [];
    r.onConfigChange({ prepare: (set) => void seen.push(set), apply: (set) => void applied.push(set.seq) });
    await edit(r, (d) => {
      setRow(r.schema, d, PEERS, ['HQ'], new Map([['Type', 'hub']]), 'create');
      setParam(r.schema, d, `${MESH}/Trigger`, 'hub-redirect');
    });
    assert.equal(seen.length, 1);
    const kinds = seen[0]!.changes.map((c) => c.kind).sort();
    assert.deepEqual(kinds, ['param', 'row-added']);
    const p = seen[0]!.changes.find((c) => c.kind === 'param');
    assert.deepEqual(p, { kind: 'param', path: `${MESH}/Trigger`, old: 'egress', new: 'hub-redirect', secret: false });
    assert.deepEqual(applied, [seen[0]!.seq]);

    await edit(r, (d) => setRow(r.schema, d, PEERS, ['HQ'], new Map([['SH-Time', '60']]), 'update'));
    const ch = seen[1]!.changes[0]!;
    assert.equal(ch.kind, 'row-changed');
    assert.deepEqual(ch.kind === 'row-changed' && ch.columns, ['SH-Time']);
    await edit(r, (d) => deleteRows(r.schema, d, PEERS, ['HQ']));
    assert.equal(seen[2]!.changes[0]!.kind, 'row-removed');

    const unsubscribe = r.onConfigChange(() => {
      throw new Error('engine says no');
    });
    const file = readFileSync(join(dir, 'config.json'));
    const seq = r.runningSeq();
    await assert.rejects(edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '7')), { name: 'CommitRejectedError', message: /engine says no/ });
    assert.equal(r.get(`${MESH}/Group-ID`), '0');
    assert.equal(r.runningSeq(), seq);
    assert.deepEqual(readFileSync(join(dir, 'config.json')), file);
    unsubscribe();
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '7'));
    assert.equal(r.get(`${MESH}/Group-ID`), '7');
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit that breaks a reference is refused whole', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    await edit(r, (d) => {
      setRow(r.schema, d, PEERS, ['HQ'], new Map(), 'create');
      setParam(r.schema, d, `${MESH}/VPN-Peer-Template`, 'HQ');
    });
    await assert.rejects(edit(r, (d) => deleteRows(r.schema, d, PEERS, ['HQ'])), { name: 'CommitRejectedError', message: /VPN-Peer-Template: 'HQ' refers to no row/ });
    assert.equal(r.running().tables[PEERS]!.length, 1);
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commit confirmed rolls back by itself after N minutes (FakeClock); confirm keeps it', async () => {
  const dir = tmp();
  const clock = new FakeClock();
  try {
    const r = await Router.open({ configDir: dir, clock });
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '5'), 'alice', { confirmMinutes: 2 });
    assert.equal(r.get(`${MESH}/Group-ID`), '5');
    assert.ok(r.pendingConfirm());
    clock.advance(119_000);
    await new Promise((res) => setImmediate(res));
    assert.equal(r.get(`${MESH}/Group-ID`), '5');
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    assert.equal(r.get(`${MESH}/Group-ID`), '0', 'rolled back');
    assert.equal(r.pendingConfirm(), undefined);
    assert.equal(r.revision(0).user, 'system');
    assert.equal(r.revision(1).confirmed, 'rolled-back');
    assert.match(r.events().map((e) => e.text).join('\n'), /not confirmed in time/);

    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '6'), 'alice', { confirmMinutes: 1 });
    assert.equal(r.confirm('alice'), true);
    clock.advance(10 * 60_000);
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    assert.equal(r.get(`${MESH}/Group-ID`), '6');
    assert.equal(r.revision(0).confirmed, 'yes');
    assert.equal(clock.pendingTimers, 0);
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unconfirmed commit left in the file is rolled back at the next start', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '9'), 'alice', { confirmMinutes: 5 });
    r.close();
    const r2 = await Router.open({ configDir: dir, clock: new FakeClock() });
    assert.equal(r2.get(`${MESH}/Group-ID`), '0');
    assert.equal(r2.pendingConfirm(), undefined);
    assert.equal(r2.revision(1).confirmed, 'rolled-back');
    r2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rollback N and the cap of 50 revisions', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    for (let i = 1; i <= 60; i++) await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, String(i)), 'alice', { comment: `c${i}` });
    assert.equal(r.revisions().length, 50);
    assert.equal(r.revision(0).comment, 'c60');
    assert.equal(r.revision(49).comment, 'c11');
    assert.throws(() => r.revision(50), { name: 'NotFoundError' });
    const res = await r.rollback(3, 'bob');
    assert.equal(res.committed, true);
    assert.equal(r.get(`${MESH}/Group-ID`), '57');
    assert.equal(r.revision(0).user, 'bob');
    r.close();
    const r2 = await Router.open({ configDir: dir, clock: new FakeClock() });
    assert.equal(r2.revisions().length, 50);
    assert.equal(r2.get(`${MESH}/Group-ID`), '57');
    r2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a candidate edited from an older revision is rebased; a clash is refused', async () => {
  const dir = tmp();
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    const base = r.running();
    const seq = r.runningSeq();
    const mine = cloneConfig(base as never);
    setParam(r.schema, mine, `${MESH}/Group-ID`, '3');
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Trigger`, 'hub-redirect'), 'other');
    await r.commit(mine, { user: 'me', base: { seq, config: base } });
    assert.equal(r.get(`${MESH}/Group-ID`), '3');
    assert.equal(r.get(`${MESH}/Trigger`), 'hub-redirect', 'the other session\'s commit is kept');

    const base2 = r.running();
    const seq2 = r.runningSeq();
    const mine2 = cloneConfig(base2 as never);
    setParam(r.schema, mine2, `${MESH}/Group-ID`, '4');
    await edit(r, (d) => setParam(r.schema, d, `${MESH}/Group-ID`, '5'), 'other');
    await assert.rejects(r.commit(mine2, { user: 'me', base: { seq: seq2, config: base2 } }), { name: 'CommitRejectedError', message: /another session/ });
    assert.equal(r.get(`${MESH}/Group-ID`), '5');
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
