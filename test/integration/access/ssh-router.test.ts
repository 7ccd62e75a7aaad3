/**
 * The SSH server on a real Router (users table, crypto_pwhash hashes, SSH settings),
 * logged into with ssh2's own client by password (OpenSSH's client cannot do that
 * without sshpass).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { openLocalNode } from '../../../src/access/local-node.js';
import { SshServer } from '../../../src/access/ssh-server.js';
import type { OutputBlock } from '../../../src/shell/session-api.js';

const { Client } = ssh2;

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

function login(port: number, username: string, password: string): Promise<InstanceType<typeof Client>> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 10_000 });
  });
}

test('password login against the users table of a real Router; read-only refused a set; wrong password delayed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sshr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const node = await openLocalNode(dir);
  t.after(() => node.close());
  const admin = node.openSession({ name: 'setup', access: 'admin' });
  const errors: OutputBlock[] = [];
  const r = await admin.execute(
    'set /Setup/Config/Users alice {Active} yes {Access} admin {Password} s3cret-Pw; ' +
      'set /Setup/Config/Users rob {Active} yes {Access} read-only {Password} r0b-pw; ' +
      'set /Setup/Config/SSH/Listen-Address 127.0.0.1; set /Setup/Config/SSH/Login-Delay 400; set /Setup/Config/SSH/Operating yes',
    { sink: { write: (b) => b.kind === 'error' && errors.push(b) } },
  );
  assert.equal(r.exitCode, 0, JSON.stringify(errors));
  admin.close();
  // The menu allows ports 1..65535 only; the test overrides the port with 0 (any free port).
  const authority = node.sshAuthority();
  const settings = { ...authority.settings(), port: 0 };
  assert.equal(settings.operating, true);
  assert.equal(settings.loginDelayMs, 400);
  const server = new SshServer(dir, { ...authority, settings: () => settings });
  await server.reconcile();
  t.after(() => server.stop());
  const port = server.address()!.port;

  const a = await login(port, 'alice', 's3cret-Pw');
  t.after(() => a.end());
  const ls = await exec(a, 'ls /Setup/Config/Users');
  assert.equal(ls.code, 0, ls.err);
  assert.match(ls.out, /^alice\s+yes\s+\*\s+admin/m, 'the password column is masked');
  assert.doesNotMatch(ls.out, /\$argon2/, 'no hash in the output');

  const b = await login(port, 'rob', 'r0b-pw');
  t.after(() => b.end());
  const set = await exec(b, 'set /Setup/Name evil');
  assert.equal(set.code, 6, set.err);

  const started = Date.now();
  await assert.rejects(login(port, 'alice', 'not-the-password'));
  assert.ok(Date.now() - started >= 400, 'failed login delayed by Login-Delay');
  assert.equal(server.counters.loginsFailed, 1);
  const log = node.router.events().map((e) => `${e.topic}: ${e.text}`);
  assert.ok(log.some((l) => /ssh: login failed for 'alice'/.test(l)), log.join('\n'));
  assert.ok(!log.some((l) => l.includes('not-the-password') || l.includes('s3cret-Pw')), 'passwords never logged');
});
