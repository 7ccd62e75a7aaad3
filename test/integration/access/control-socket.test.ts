import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, DaemonRunningError } from '../../../src/access/control-server.js';
import { RemoteSession } from '../../../src/access/control-client.js';
import { SOCKET_NAME, decodeClientMessage, decodeServerMessage, encodeMessage, LineSplitter } from '../../../src/access/control-protocol.js';
import type { OutputBlock } from '../../../src/shell/session-api.js';
import { FakeSession, newStore } from '../../unit/ui/fake-session.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function collect() {
  const blocks: OutputBlock[] = [];
  const frames: OutputBlock[][] = [];
  return { blocks, frames, sink: { write: (b: OutputBlock) => blocks.push(b), frame: (f: OutputBlock[]) => frames.push(f) } };
}

test('two clients share one store: one sees the other\'s change; the socket is mode 0600', async (t) => {
  const dir = tempDir(t);
  const store = newStore();
  const sessions: FakeSession[] = [];
  const server = await ControlServer.listen({
    socketPath: join(dir, SOCKET_NAME),
    openSession: () => {
      const s = new FakeSession(store);
      sessions.push(s);
      return s;
    },
  });
  t.after(() => server.close());
  assert.equal(statSync(join(dir, SOCKET_NAME)).mode & 0o777, 0o600);

  const a = await RemoteSession.connect(join(dir, SOCKET_NAME));
  const b = await RemoteSession.connect(join(dir, SOCKET_NAME));
  assert.equal(a.prompt(), 'hub:/');

  const ra = collect();
  assert.deepEqual(await a.execute('set Name branch7', { sink: ra.sink }), { exitCode: 0, exit: false });
  const rb = collect();
  await b.execute('ls', { sink: rb.sink });
  assert.deepEqual(rb.blocks, [{ kind: 'table', columns: ['Name', 'Value'], rows: [['Name', 'branch7']] }]);
  assert.equal(a.prompt(), 'branch7:/', 'the prompt comes back with the result');
  assert.equal(await b.refreshPrompt(), 'branch7:/');

  const err = collect();
  assert.deepEqual(await b.execute('fail notFound', { sink: err.sink }), { exitCode: 4, exit: false });
  assert.deepEqual(err.blocks, [{ kind: 'error', code: 'notFound', message: 'failed as asked (notFound)' }]);

  assert.deepEqual(await a.complete('sy', 2), { from: 0, candidates: ['sysinfo'] });
  assert.deepEqual(a.history(), ['set Name branch7']);
  await a.execute('   ', { sink: collect().sink });
  assert.deepEqual(a.history(), ['set Name branch7'], 'the daemon session decides what enters the history');

  a.close();
  b.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sessions.length, 2);
  assert.ok(sessions.every((s) => s.closed), 'closing the connection closes the daemon-side session');
});

test('frames stream back, and abort reaches the command in the daemon', async (t) => {
  const dir = tempDir(t);
  const server = await ControlServer.listen({ socketPath: join(dir, SOCKET_NAME), openSession: () => new FakeSession() });
  t.after(() => server.close());
  const c = await RemoteSession.connect(join(dir, SOCKET_NAME));
  t.after(() => c.close());
  const out = collect();
  const ac = new AbortController();
  const p = c.execute('watch', { sink: out.sink, signal: ac.signal });
  while (out.frames.length < 3) await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  assert.deepEqual(await p, { exitCode: 0, exit: false });
  assert.ok(out.frames.length < 20, 'stopped well before the 1000 frames');
  assert.deepEqual(out.frames[0], [{ kind: 'text', text: 'frame 1' }]);

  // Event blocks keep their Date across the wire.
  const when = new Date(2026, 5, 1, 12, 0, 0, 250);
  const line = encodeMessage({ op: 'block', id: 1, block: { kind: 'event', time: when, topic: 'ssh', text: 'x' } });
  const m = decodeServerMessage(line.trim());
  assert.ok(m.op === 'block' && m.block.kind === 'event' && m.block.time.getTime() === when.getTime());
});

test('a stale socket file is replaced; a live daemon is not', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, SOCKET_NAME);
  // A socket file nobody listens on: what a killed daemon leaves behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(statSync(path).isSocket(), 'stale socket file exists');
  const server = await ControlServer.listen({ socketPath: path, openSession: () => new FakeSession() });
  t.after(() => server.close());
  const c = await RemoteSession.connect(path);
  c.close();
  await assert.rejects(
    ControlServer.listen({ socketPath: path, openSession: () => new FakeSession() }),
    (e: Error) => e instanceof DaemonRunningError && /already running/.test(e.message),
  );
  const file = join(dir, 'not-a-socket');
  writeFileSync(file, 'x');
  await assert.rejects(ControlServer.listen({ socketPath: file, openSession: () => new FakeSession() }), /not a socket/);
});

test('no daemon: connect fails with the socket error so callers fall back', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(RemoteSession.connect(join(dir, SOCKET_NAME)), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('protocol decoding refuses malformed messages; the splitter caps line length', () => {
  assert.throws(() => decodeClientMessage('{"op":"execute","id":"x","line":"ls"}'), /bad control message/);
  assert.throws(() => decodeClientMessage('nope'), /not JSON/);
  assert.throws(() => decodeServerMessage('{"op":"block","id":1,"block":{"kind":"table","columns":[1],"rows":[]}}'), /table columns/);
  assert.deepEqual(decodeClientMessage('{"op":"abort","id":3}'), { op: 'abort', id: 3 });
  const s = new LineSplitter(10);
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.throws(() => s.push('x'.repeat(20)), /longer than 10/);
});

test('the daemon answers garbage with an error and keeps serving', async (t) => {
  const dir = tempDir(t);
  const server = await ControlServer.listen({ socketPath: join(dir, SOCKET_NAME), openSession: () => new FakeSession() });
  t.after(() => server.close());
  const { connect } = await import('node:net');
  const sock = connect(join(dir, SOCKET_NAME));
  const got: string[] = [];
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => got.push(d));
  sock.write('\x00\xff garbage\n{"op":"execute","id":1,"line":"ls"}\n');
  await new Promise((r) => setTimeout(r, 100));
  const msgs = got.join('').trim().split('\n').map((l) => JSON.parse(l) as { op: string; message?: string });
  assert.equal(msgs[0]!.op, 'error');
  assert.match(msgs[1]!.message ?? '', /hello first/);
  sock.destroy();
});
