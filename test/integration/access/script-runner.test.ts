import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { INTERRUPTED, MAX_SCRIPT_LINE, rejectLine, runScript, streamLines } from '../../../src/access/script-runner.js';
import { FakeSession } from '../../unit/ui/fake-session.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
}

test('runs lines in order (blank and comment lines go to the shell too), stops at the first failure with its line number', async () => {
  const s = new FakeSession();
  const o = io();
  const r = await runScript(s, ['# setup', 'set Name a', '', 'fail invalidValue', 'set Name b'], { name: 'x.lcs', ...o });
  assert.deepEqual(r, { exitCode: 5, failedLine: 4, executed: 4 });
  assert.deepEqual(o.err, ['x.lcs:4: Error: failed as asked (invalidValue)\n']);
  assert.equal(s.store.values.get('Name'), 'a');
});

test('--keep-going runs everything and keeps the first failure\'s code', async () => {
  const s = new FakeSession();
  const o = io();
  const r = await runScript(s, ['fail notFound', 'fail syntax', 'set Name z'], { name: '-c', keepGoing: true, ...o });
  assert.deepEqual(r, { exitCode: 4, failedLine: 1, executed: 3 });
  assert.equal(o.err.length, 2);
  assert.match(o.err[1]!, /^-c:2: /);
  assert.equal(s.store.values.get('Name'), 'z');
});

test('exit ends the script successfully; a thrown session error is a runtime failure', async () => {
  const s = new FakeSession();
  assert.deepEqual(await runScript(s, ['set Name q', 'exit', 'fail'], { name: 'f', ...io() }), { exitCode: 0, executed: 2 });
  const broken = new FakeSession();
  broken.execute = async () => {
    throw new Error('daemon went away');
  };
  const o = io();
  const r = await runScript(broken, ['ls'], { name: 'f', ...o });
  assert.equal(r.exitCode, 1);
  assert.deepEqual(o.err, ['f:1: Error: daemon went away\n']);
});

test('lines that cannot be commands are refused before the shell sees them', async () => {
  assert.match(rejectLine('x'.repeat(MAX_SCRIPT_LINE + 1))!, /line too long/);
  assert.equal(rejectLine('x'.repeat(MAX_SCRIPT_LINE)), undefined);
  assert.match(rejectLine('ls\x00')!, /control character \^@ at column 3/);
  assert.match(rejectLine('ls \ufffd')!, /invalid UTF-8/);
  assert.equal(rejectLine('set Name "a\tb"'), undefined, 'tab is allowed');
  const s = new FakeSession();
  const o = io();
  const r = await runScript(s, streamLines(Readable.from([Buffer.from([0x6c, 0x73, 0xff, 0x0a, 0x6c, 0x73, 0x0a])])), { name: '<stdin>', ...o });
  assert.equal(r.exitCode, 2);
  assert.equal(s.lines.length, 0, 'nothing reached the session');
  assert.match(o.err[0]!, /^<stdin>:1: Error: not text: invalid UTF-8/);
});

test('an abort ends the running command and the script with 130', async () => {
  const s = new FakeSession();
  const o = io();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const r = await runScript(s, ['sleep 5000', 'set Name never'], { name: '-c', signal: ac.signal, ...o });
  assert.equal(r.exitCode, INTERRUPTED);
  assert.equal(s.store.values.get('Name'), 'hub');
  assert.match(o.err.join(''), /-c:1: interrupted/);
});
