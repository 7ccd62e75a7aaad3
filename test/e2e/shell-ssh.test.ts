/**
 * SSH with Debian's OpenSSH client against the daemon's built-in server on 127.0.0.1:
 * key and password login (password through sshpass), commands with output and exit status, a read-only user refused a `set`,
 * the server following /Setup/Config/SSH Operating live, and the interactive shell on a pty.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runBin, startBin, tempConfigDir } from './shell-harness.js';

before(() => ensureBuilt());

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function keygen(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
}

/** Runs a client command to the end (bounded), collecting its output. */
function collect(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5'];

function ssh(port: number, key: string, user: string, command: string, extra: string[] = []) {
  return collect('ssh', ['-i', key, '-p', String(port), ...SSH_OPTS, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', ...extra, `${user}@127.0.0.1`, command]);
}

async function setupNode(t: { after(fn: () => unknown): void }) {
  const dir = tempConfigDir(t);
  const port = await freePort();
  const alice = keygen(dir, 'alice_key');
  const rob = keygen(dir, 'rob_key');
  const r = await runBin([
    '--config-dir', dir, '-c',
    `set /Setup/Config/Users alice {Active} yes {Access} admin {Authorized-Keys} "${alice.pub}"; ` +
      `set /Setup/Config/Users rob {Active} yes {Access} read-only {Authorized-Keys} "${rob.pub}"; ` +
      `set /Setup/Config/SSH/Listen-Address 127.0.0.1; set /Setup/Config/SSH/Port ${port}; set /Setup/Config/SSH/Operating yes`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const daemon = startBin(t, ['daemon', '--config-dir', dir]);
  await daemon.waitFor(new RegExp(`SSH on 127\\.0\\.0\\.1:${port}`));
  return { dir, port, alice, rob, daemon };
}

test('ssh with a key runs `ls /Setup` and gets its output; exit status per command', async (t) => {
  const n = await setupNode(t);
  const ls = await ssh(n.port, n.alice.key, 'alice', 'ls /Setup');
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^Name\s+meshgate$/m);
  assert.match(ls.stdout, /^Config\/$/m);
  const bad = await ssh(n.port, n.alice.key, 'alice', 'cd /nope');
  assert.equal(bad.code, 4);
  assert.match(bad.stderr, /Error: no 'nope'/);
  assert.equal(statSync(join(n.dir, 'ssh_host_ed25519_key')).mode & 0o777, 0o600, 'host key kept private');
});

test('a read-only user may look but is refused a set', async (t) => {
  const n = await setupNode(t);
  const look = await ssh(n.port, n.rob.key, 'rob', 'sysinfo');
  assert.equal(look.code, 0, look.stderr);
  assert.match(look.stdout, /DEVICE: meshgate/);
  const set = await ssh(n.port, n.rob.key, 'rob', 'set /Setup/Name evil');
  assert.equal(set.code, 6, set.stderr);
  assert.match(set.stderr, /Error: .*(read-only|permission)/i);
  assert.match((await runBin(['--config-dir', n.dir, '-c', 'sysinfo'])).stdout, /NAME: meshgate/);
  // rob's key is not alice's: refused, counted, logged
  const wrong = await ssh(n.port, n.rob.key, 'alice', 'sysinfo');
  assert.equal(wrong.code, 255);
  const show = await runBin(['--config-dir', n.dir, '-c', 'show ssh']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`Listening: 127\\.0\\.0\\.1:${n.port}`));
  assert.match(show.stdout, /Logins: 2/);
  assert.match(show.stdout, /Sessions: 0/, "finished sessions are released");
  assert.match(show.stdout, /Logins-Failed: [1-9]/);
});

test('switching SSH Operating off and on takes effect live', async (t) => {
  const n = await setupNode(t);
  assert.equal((await runBin(['--config-dir', n.dir, '-c', 'set /Setup/Config/SSH/Operating no'])).code, 0);
  const off = await ssh(n.port, n.alice.key, 'alice', 'sysinfo');
  assert.equal(off.code, 255, 'connection refused while off');
  assert.equal((await runBin(['--config-dir', n.dir, '-c', 'set /Setup/Config/SSH/Operating yes'])).code, 0);
  let on = await ssh(n.port, n.alice.key, 'alice', 'sysinfo');
  for (let i = 0; i < 20 && on.code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    on = await ssh(n.port, n.alice.key, 'alice', 'sysinfo');
  }
  assert.equal(on.code, 0, on.stderr);
});

test('interactive shell over ssh -tt in tmux: prompt at the client, a command, exit', async (t) => {
  const n = await setupNode(t);
  const server = `mg-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8', timeout: 10_000 });
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      /* gone */
    }
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, server), { force: true });
  });
  const cmd =
    `ssh -tt -i ${n.alice.key} -p ${n.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
    `-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR alice@127.0.0.1`;
  tmux('new-session', '-d', '-s', server, '-x', '100', '-y', '30', cmd);
  const screen = () => tmux('capture-pane', '-p', '-t', server);
  const waitFor = async (re: RegExp, what: string) => {
    const end = Date.now() + 15_000;
    for (;;) {
      const s = screen();
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(/meshgate:\/>/, 'prompt over ssh');
  tmux('send-keys', '-t', server, '-l', 'sysi');
  tmux('send-keys', '-t', server, 'Tab');
  await waitFor(/meshgate:\/> sysinfo/, 'completion over ssh');
  tmux('send-keys', '-t', server, 'Enter');
  await waitFor(/^DEVICE: meshgate/m, 'output over ssh');
  tmux('send-keys', '-t', server, '-l', 'exit');
  tmux('send-keys', '-t', server, 'Enter');
  const end = Date.now() + 10_000;
  let alive = true;
  while (alive && Date.now() < end) {
    try {
      tmux('has-session', '-t', server);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, 'ssh ended when the shell exited');
});

test('password login with Debian ssh (through sshpass): right password in, wrong one refused and counted', async (t) => {
  const n = await setupNode(t);
  const pw = `pw-${randomBytes(6).toString('hex')}`;
  const set = await runBin(['--config-dir', n.dir, '-c', `set /Setup/Config/Users carol {Active} yes {Access} admin {Password} ${pw}`]);
  assert.equal(set.code, 0, set.stderr);
  // sshpass reads the password from the environment (SSHPASS), never from argv.
  const viaPassword = (password: string) =>
    collect('sshpass', ['-e', 'ssh', '-p', String(n.port), ...SSH_OPTS, '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1', 'carol@127.0.0.1', 'sysinfo'], { ...process.env, SSHPASS: password });
  const ok = await viaPassword(pw);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /DEVICE: meshgate/);
  const bad = await viaPassword(`${pw}-wrong`);
  assert.notEqual(bad.code, 0);
  assert.doesNotMatch(bad.stdout, /DEVICE/);
  const show = await runBin(['--config-dir', n.dir, '-c', 'show ssh']);
  assert.match(show.stdout, /Logins-Failed:\s+[1-9]/);
  // The password is never shown, not even as a hash.
  const users = await runBin(['--config-dir', n.dir, '-c', 'show users; show config; readconfig']);
  assert.ok(!users.stdout.includes(pw) && !users.stdout.includes('$argon2'), 'no password or hash in the output');
});
