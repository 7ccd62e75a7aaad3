import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ESCAPE, ensureBuilt, runBin, startBin, tempConfigDir } from './shell-harness.js';

before(() => ensureBuilt());

/** Reproducible binary noise (a linear congruential generator), so a failure can be replayed. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('-c runs commands and prints plain text without escape codes', async (t) => {
  const dir = tempConfigDir(t);
  const r = await runBin(['--config-dir', dir, '-c', 'sysinfo; ls /Setup/Config/SSH']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^DEVICE: /m);
  assert.match(r.stdout, /^Name\s+Value\n-+\s+-+\nOperating\s+no$/m);
  assert.doesNotMatch(r.stdout + r.stderr, ESCAPE);
  assert.equal(r.stderr, '');
  assert.equal(statSync(dir).mode & 0o077, 0, 'config dir is private');
});

test('exit codes per failure class, errors on stderr as -c:1: Error: ...', async (t) => {
  const dir = tempConfigDir(t);
  const cases: [string, number, RegExp][] = [
    ['bogus', 2, /unknown command/],
    ['cd /s', 3, /ambiguous/],
    ['cd /nope', 4, /no 'nope'/],
    ['set /Setup/Config/SSH/Port abc', 5, /Port/],
  ];
  for (const [cmd, code, re] of cases) {
    const r = await runBin(['--config-dir', dir, '-c', cmd]);
    assert.equal(r.code, code, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /^-c:1: Error: /);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, ESCAPE);
  }
});

test('-f stops at the first failing line and names it; --keep-going carries on with the first code', async (t) => {
  const dir = tempConfigDir(t);
  const file = join(dir, 'rollout.lcs');
  writeFileSync(
    file,
    ['# a comment', 'set /Setup/Name first', '', 'cd /nope', 'set /Setup/Config/SSH/Port abc', 'set /Setup/Name second', ''].join('\n'),
  );
  const r = await runBin(['--config-dir', dir, '-f', file]);
  assert.equal(r.code, 4);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: Error: `));
  assert.match((await runBin(['--config-dir', dir, '-c', 'sysinfo'])).stdout, /NAME: first/, 'lines after the failure did not run');

  const k = await runBin(['--config-dir', dir, '--keep-going', '-f', file]);
  assert.equal(k.code, 4, 'exit code of the first failure');
  assert.match(k.stderr, /:4: Error: /);
  assert.match(k.stderr, /:5: Error: /);
  assert.match((await runBin(['--config-dir', dir, '-c', 'sysinfo'])).stdout, /NAME: second/, 'later lines ran');

  const missing = await runBin(['--config-dir', dir, '-f', join(dir, 'nope.lcs')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.lcs: ENOENT/);
});

test('commands piped on stdin; line numbers count from the first line', async (t) => {
  const dir = tempConfigDir(t);
  const r = await runBin(['--config-dir', dir], { input: 'sysinfo\r\nls /Setup\nbogus\nsysinfo\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^<stdin>:3: Error: unknown command/);
  assert.equal((r.stdout.match(/^DEVICE:/gm) ?? []).length, 1, 'stopped at line 3');
  assert.doesNotMatch(r.stdout, ESCAPE);
});

test('a 10,000-character line is refused with a clear error, no crash', async (t) => {
  const dir = tempConfigDir(t);
  const r = await runBin(['--config-dir', dir], { input: `set /Setup/Name ${'x'.repeat(10_000)}\nsysinfo\n` });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^<stdin>:1: Error: line too long \(10016 characters; at most 8192\)\n$/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('binary garbage on stdin gives clear errors and no crash; --keep-going survives all of it', async (t) => {
  const dir = tempConfigDir(t);
  const garbage = Buffer.concat([noise(4096, 7), Buffer.from('\x00\x1b[31m\xff\xfe\n'), noise(4096, 11)]);
  const r = await runBin(['--config-dir', dir], { input: garbage });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^<stdin>:\d+: Error: (not text: invalid UTF-8|control character .* at column \d+)/);
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|RangeError/);
  assert.doesNotMatch(r.stdout + r.stderr, ESCAPE, 'escape codes from the input are not echoed');

  const k = await runBin(['--config-dir', dir, '--keep-going'], { input: Buffer.concat([garbage, Buffer.from('\nsysinfo\n')]) });
  assert.notEqual(k.code, 0);
  assert.match(k.stdout, /DEVICE: /, 'the good line at the end still ran');
  assert.doesNotMatch(k.stderr, /\n\s+at /);
});

test('daemon: clients share one Router and see each other\'s changes; socket 0600; SIGTERM stops it', async (t) => {
  const dir = tempConfigDir(t);
  const daemon = startBin(t, ['daemon', '--config-dir', dir]);
  await daemon.waitFor(/ready: control socket/);
  const sock = join(dir, 'meshgate.sock');
  assert.equal(statSync(sock).mode & 0o777, 0o600);

  // Client A holds its session open (stdin stays open) while B changes the config.
  const a = startBin(t, ['--config-dir', dir]);
  a.child.stdin!.write('begin\nset /Setup/Config/SSH/Port 2200\n');
  await a.waitFor(/candidate opened/);
  const b = await runBin(['--config-dir', dir, '-c', 'set /Setup/Name shared-by-b']);
  assert.equal(b.code, 0, b.stderr);
  a.child.stdin!.write('sysinfo\n');
  await a.waitFor(/NAME: shared-by-b/);

  // B changes the port A has in its candidate: A's commit is refused (commit failed, 7).
  assert.equal((await runBin(['--config-dir', dir, '-c', 'set /Setup/Config/SSH/Port 2201'])).code, 0);
  a.child.stdin!.write('commit\n');
  a.child.stdin!.end();
  const codeA = await new Promise<number | null>((r) => a.child.once('exit', (c) => r(c)));
  assert.equal(codeA, 7, a.output());
  assert.match(a.output(), /<stdin>:4: Error: .*commit/i);

  assert.equal(await daemon.stop('SIGTERM'), 0);
  assert.ok(!existsSync(sock), 'socket removed on a clean stop');
  // Without the daemon the client opens the config itself and sees the same state.
  const after = await runBin(['--config-dir', dir, '-c', 'sysinfo']);
  assert.match(after.stdout, /NAME: shared-by-b/);
});

test('daemon: a stale socket left by a killed daemon is replaced; a second daemon is refused', async (t) => {
  const dir = tempConfigDir(t);
  const d1 = startBin(t, ['daemon', '--config-dir', dir]);
  await d1.waitFor(/ready/);
  const d2 = await runBin(['daemon', '--config-dir', dir]);
  assert.equal(d2.code, 1);
  assert.match(d2.stderr, /already running/);
  await d1.stop('SIGKILL');
  assert.ok(existsSync(join(dir, 'meshgate.sock')), 'the killed daemon left its socket');
  const c = await runBin(['--config-dir', dir, '-c', 'sysinfo']);
  assert.equal(c.code, 0, 'a client falls back to opening the config itself');
  const d3 = startBin(t, ['daemon', '--config-dir', dir]);
  await d3.waitFor(/ready/);
  assert.equal((await runBin(['--config-dir', dir, '-c', 'sysinfo'])).code, 0);
  assert.equal(await d3.stop('SIGINT'), 0);
});

test('SIGINT ends a running live view and the script with 130', async (t) => {
  const dir = tempConfigDir(t);
  const p = startBin(t, ['--config-dir', dir, '-c', 'repeat 1 sysinfo; sysinfo']);
  await p.waitFor(/DEVICE: /);
  const code = await p.stop('SIGINT');
  assert.equal(code, 130, p.output());
  assert.match(p.output(), /-c:1: interrupted/);
  assert.doesNotMatch(p.output(), /\n\s+at /);
});

test('a writeconfig block in a command file ends at two empty lines and is applied', async (t) => {
  const dir = tempConfigDir(t);
  const file = join(dir, 'restore.lcs');
  writeFileSync(file, ['writeconfig', 'set /Setup/Name via-writeconfig', '', '', 'sysinfo', ''].join('\n'));
  const r = await runBin(['--config-dir', dir, '-f', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /NAME: via-writeconfig/);
});
