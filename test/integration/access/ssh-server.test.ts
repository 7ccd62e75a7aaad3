import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import ssh2 from 'ssh2';
import { SshServer, HOST_KEY_FILE, fingerprint, loadOrCreateHostKey, generateHostKey, type SshAuthority, type SshSettings, type SshUser } from '../../../src/access/ssh-server.js';
import { FakeSession, newStore } from '../../unit/ui/fake-session.js';

const { Client, utils } = ssh2;

interface Pwhash {
  crypto_pwhash_STRBYTES: number;
  crypto_pwhash_OPSLIMIT_MIN: number;
  crypto_pwhash_MEMLIMIT_MIN: number;
  crypto_pwhash_str(out: Buffer, pw: Buffer, ops: number, mem: number): void;
  crypto_pwhash_str_verify(h: Buffer, pw: Buffer): boolean;
}
const sodium = createRequire(import.meta.url)('sodium-native') as Pwhash;

function hash(password: string): string {
  const out = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  sodium.crypto_pwhash_str(out, Buffer.from(password), sodium.crypto_pwhash_OPSLIMIT_MIN, sodium.crypto_pwhash_MEMLIMIT_MIN);
  return out.subarray(0, out.indexOf(0)).toString('ascii');
}

function verify(h: string, password: string): boolean {
  const b = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  b.write(h, 'ascii');
  return password.length > 0 && sodium.crypto_pwhash_str_verify(b, Buffer.from(password));
}

const clientKey = utils.generateKeyPairSync('ed25519');
const otherKey = utils.generateKeyPairSync('ed25519');

function fixture(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ssh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = newStore();
  const settings: SshSettings = {
    operating: true,
    port: 0,
    listenAddress: '127.0.0.1',
    idleTimeoutSec: 0,
    maxSessions: 4,
    loginDelayMs: 300,
    maxAuthTries: 3,
  };
  const users: (SshUser & { hash: string })[] = [
    { name: 'alice', active: true, access: 'admin', authorizedKeys: [clientKey.public], hash: hash('correct horse') },
    { name: 'rob', active: true, access: 'read-only', authorizedKeys: [], hash: hash('read only pw') },
  ];
  const log: string[] = [];
  const authority: SshAuthority = {
    settings: () => settings,
    user: (n) => users.find((u) => u.name === n),
    checkPassword: (n, p) => {
      const u = users.find((x) => x.name === n);
      return u && u.active && verify(u.hash, p) ? u : undefined;
    },
    log: (topic, text) => log.push(`${topic}: ${text}`),
    openSession: (u) => new FakeSession(store, u.access),
  };
  const server = new SshServer(dir, authority);
  t.after(() => server.stop());
  return { dir, settings, server, log, store };
}

type ConnectOpts = { username: string; password?: string; privateKey?: string };

function login(port: number, opts: ConnectOpts): Promise<InstanceType<typeof Client>> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port, readyTimeout: 10_000, ...opts });
  });
}

function exec(c: InstanceType<typeof Client>, cmd: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (e, stream) => {
      if (e) return reject(e);
      let out = '';
      let err = '';
      let code: number | null = null;
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (err += d.toString()));
      stream.on('exit', (c2: number) => (code = c2));
      stream.on('close', () => resolve({ out, err, code }));
    });
  });
}

test('host keys are always readable back (ssh2 alone emits an unparseable one about once in 200)', () => {
  for (let i = 0; i < 600; i++) assert.ok(!(utils.parseKey(generateHostKey()) instanceof Error), `key ${i}`);
});

test('host key: generated at first start with mode 0600, then kept', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ssh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = loadOrCreateHostKey(dir);
  assert.equal(statSync(join(dir, HOST_KEY_FILE)).mode & 0o777, 0o600);
  const b = loadOrCreateHostKey(dir);
  assert.equal(a, b);
  const parsed = utils.parseKey(a);
  assert.ok(!(parsed instanceof Error));
  assert.match(fingerprint(parsed as ssh2.ParsedKey), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('password login, exec with output and exit status; read-only user refused a set', async (t) => {
  const f = fixture(t);
  await f.server.reconcile();
  const port = f.server.address()!.port;
  const c = await login(port, { username: 'alice', password: 'correct horse' });
  t.after(() => c.end());
  const ls = await exec(c, 'ls');
  assert.equal(ls.code, 0);
  assert.match(ls.out, /Name\s+hub/);
  const bad = await exec(c, 'fail notFound');
  assert.equal(bad.code, 4);
  assert.match(bad.err, /^ssh:1: Error: failed as asked/);

  const r = await login(port, { username: 'rob', password: 'read only pw' });
  t.after(() => r.end());
  const set = await exec(r, 'set Name evil');
  assert.equal(set.code, 6);
  assert.match(set.err, /read-only/);
  assert.equal(f.store.values.get('Name'), 'hub');
  assert.ok(f.log.some((l) => /login of 'rob' \(read-only\)/.test(l)));
});

test('failed logins are delayed, counted and logged without the password', async (t) => {
  const f = fixture(t);
  await f.server.reconcile();
  const port = f.server.address()!.port;
  const started = Date.now();
  await assert.rejects(login(port, { username: 'alice', password: 'hunter2-wrong' }), /authentication methods failed/);
  const took = Date.now() - started;
  assert.ok(took >= 300, `rejected after ${took} ms, expected the 300 ms delay`);
  assert.ok(took < 5000);
  assert.equal(f.server.counters.loginsFailed, 1);
  assert.ok(f.log.some((l) => /login failed for 'alice'.*wrong password/.test(l)));
  assert.ok(!f.log.some((l) => l.includes('hunter2')), 'the password never reaches the log');
  await assert.rejects(login(port, { username: 'mallory', password: 'x' }));
  assert.ok(f.log.some((l) => /login failed for 'mallory'.*unknown user/.test(l)));
});

test('public key login with an authorized key; other keys are refused', async (t) => {
  const f = fixture(t);
  await f.server.reconcile();
  const port = f.server.address()!.port;
  const c = await login(port, { username: 'alice', privateKey: clientKey.private });
  t.after(() => c.end());
  assert.equal((await exec(c, 'sysinfo')).out, 'DEVICE: meshgate\nNAME: hub\n');
  await assert.rejects(login(port, { username: 'alice', privateKey: otherKey.private }));
});

test('a pty session gets the Ink shell at the client\'s size; exit ends it with status 0', async (t) => {
  const f = fixture(t);
  await f.server.reconcile();
  const port = f.server.address()!.port;
  const c = await login(port, { username: 'alice', password: 'correct horse' });
  t.after(() => c.end());
  const result = await new Promise<{ screen: string; code: number | null }>((resolve, reject) => {
    c.shell({ term: 'xterm-256color', cols: 100, rows: 30 }, (e, stream) => {
      if (e) return reject(e);
      let screen = '';
      let code: number | null = null;
      let step = 0;
      stream.on('data', (d: Buffer) => {
        screen += d.toString();
        if (step === 0 && screen.includes('hub:/')) {
          step = 1;
          stream.setWindow(40, 120, 0, 0);
          stream.write('sysinfo\r');
        } else if (step === 1 && screen.includes('DEVICE')) {
          step = 2;
          stream.write('exit\r');
        }
      });
      stream.on('exit', (c2: number) => (code = c2));
      stream.on('close', () => resolve({ screen, code }));
      setTimeout(() => reject(new Error(`no exit; screen so far: ${JSON.stringify(screen.slice(-300))}`)), 10_000).unref();
    });
  });
  assert.equal(result.code, 0);
  assert.match(result.screen, /DEVICE/);
  assert.match(result.screen, /\r\n/, 'newlines go out as CRLF');
  assert.match(result.screen, /\x1b\[/, 'the interactive shell draws with escape codes (colours, cursor)');
});

test('switching Operating off stops the server; on again starts it', async (t) => {
  const f = fixture(t);
  await f.server.reconcile();
  assert.ok(f.server.address());
  f.settings.operating = false;
  await f.server.reconcile();
  assert.equal(f.server.address(), undefined);
  f.settings.operating = true;
  await f.server.reconcile();
  const c = await login(f.server.address()!.port, { username: 'alice', password: 'correct horse' });
  c.end();
});

test('Max-Sessions caps concurrent sessions; Idle-Timeout closes an idle shell', async (t) => {
  const f = fixture(t);
  f.settings.maxSessions = 1;
  f.settings.idleTimeoutSec = 1;
  await f.server.reconcile();
  const port = f.server.address()!.port;
  const c = await login(port, { username: 'alice', password: 'correct horse' });
  t.after(() => c.end());
  const slow = exec(c, 'sleep 400');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await exec(c, 'sysinfo');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /too many sessions \(at most 1\)/);
  assert.equal((await slow).code, 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(f.server.counters.sessions, 0);

  const started = Date.now();
  const closed = await new Promise<string>((resolve, reject) => {
    c.shell({ term: 'xterm', cols: 80, rows: 24 }, (e, stream) => {
      if (e) return reject(e);
      let screen = '';
      stream.on('data', (d: Buffer) => (screen += d.toString()));
      stream.on('close', () => resolve(screen));
    });
  });
  const took = Date.now() - started;
  assert.match(closed, /idle timeout/);
  assert.ok(took >= 900 && took < 5000, `closed after ${took} ms`);
  assert.ok(f.log.some((l) => /idle for 1 s; closed/.test(l)));
});
