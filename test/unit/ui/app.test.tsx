import { test } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import { render } from 'ink-testing-library';
import { App, completionGrid } from '../../../src/ui/app.js';
import { clipBlocks } from '../../../src/ui/block-view.js';
import { FakeSession } from './fake-session.js';
import type { Completion } from '../../../src/shell/session-api.js';

const ENTER = '\r';
const TAB = '\t';
const UP = '\x1b[A';
const DOWN = '\x1b[B';
const LEFT = '\x1b[D';
const CTRL_A = '\x01';
const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_K = '\x0b';
const BACKSPACE = '\x7f';

// eslint-disable-next-line no-control-regex
const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');

async function until(pred: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(session = new FakeSession()) {
  let exited: string | undefined;
  let written = '';
  const r = render(<App session={session} onExit={(reason) => (exited = reason)} output={(s) => (written += s)} />);
  /** The screen: past output, then the live region Ink draws under it. */
  const frame = () => strip(written) + strip(r.lastFrame());
  // Input listeners attach in an effect after the first render.
  await new Promise((res) => setTimeout(res, 20));
  const type = async (s: string) => {
    r.stdin.write(s);
    await new Promise((res) => setTimeout(res, 10));
  };
  return { r, frame, type, session, exited: () => exited };
}

/** The line holding the prompt with the cursor (the last prompt line of the frame). */
const promptLine = (frame: string) => (frame.split('\n').filter((l) => l.startsWith('hub:')).pop() ?? '').trimEnd();

test('shows the prompt <name>:<path>> and echoes typed text', async () => {
  const t = await setup();
  assert.equal(promptLine(t.frame()), 'hub:/>');
  await t.type('ls');
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> ls');
  t.r.unmount();
});

test('enter runs the line; output lands above a fresh prompt, which follows cd', async () => {
  const t = await setup();
  await t.type('table' + ENTER);
  await until(() => t.frame().includes('spoke2'), 'table output');
  const f = t.frame();
  assert.match(f, /hub:\/> table\nPeers\nPeer\s+State\s+Rx\n-+\s+-+\s+-+\nhub1\s+UP\s+1200\nspoke2\s+DOWN\s+0/);
  await t.type('cd /Setup' + ENTER);
  await until(() => promptLine(t.frame()).startsWith('hub:/Setup>'), 'new prompt');
  t.r.unmount();
});

test('errors are shown as Error: <text>', async () => {
  const t = await setup();
  await t.type('bogus' + ENTER);
  await until(() => t.frame().includes('Error: unknown command: bogus'), 'error');
  t.r.unmount();
});

test('line editing: left, Ctrl-A, Ctrl-K, backspace', async () => {
  const t = await setup();
  await t.type('sysinfx');
  await t.type(BACKSPACE + 'o');
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> sysinfo');
  await t.type(LEFT + LEFT + CTRL_K);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> sysin');
  await t.type(CTRL_A + 'x');
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> xsysin');
  t.r.unmount();
});

test('history on up and down arrows', async () => {
  const t = await setup();
  await t.type('sysinfo' + ENTER);
  await until(() => t.frame().includes('DEVICE: meshgate'), 'sysinfo');
  await t.type('ls' + ENTER);
  await until(() => t.session.lines.length === 2 && promptLine(t.frame()) === 'hub:/>', 'ls done');
  await t.type('dr');
  await t.type(UP);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> ls');
  await t.type(UP);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> sysinfo');
  await t.type(DOWN + DOWN);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> dr');
  t.r.unmount();
});

test('Tab: a single candidate is inserted, several are listed, the common prefix extended', async () => {
  const t = await setup();
  await t.type('sy' + TAB);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> sysinfo');
  await t.type(CTRL_A + CTRL_K + 's' + TAB);
  await until(() => /set\s+show\s+sleep\s+sysinfo/.test(t.frame()), 'completion list');
  await t.type('e' + TAB);
  assert.equal(promptLine(t.frame()).trimEnd(), 'hub:/> set', 'single candidate after narrowing');
  assert.doesNotMatch(t.frame(), /sysinfo/, 'the list goes away');
  await t.type(CTRL_A + CTRL_K + 'ls /setup/c' + TAB);
  await until(() => promptLine(t.frame()).trimEnd() === 'hub:/> ls /Setup/Config/', 'path completed without a blank');
  t.r.unmount();
});

test('Tab with an asynchronous completer (control socket session)', async () => {
  const session = new FakeSession();
  const sync = session.complete.bind(session);
  (session as unknown as { complete: (l: string, c: number) => Promise<Completion> }).complete = async (l, c) => {
    await new Promise((r) => setTimeout(r, 20));
    return sync(l, c);
  };
  const t = await setup(session);
  await t.type('sy' + TAB);
  await until(() => promptLine(t.frame()).trimEnd() === 'hub:/> sysinfo', 'async completion');
  t.r.unmount();
});

test('a live view redraws its frame in place and Ctrl-C ends it', async () => {
  const t = await setup();
  await t.type('watch' + ENTER);
  await until(() => t.frame().includes('frame 3'), 'third frame');
  const f = t.frame();
  assert.doesNotMatch(f, /frame 1\b|frame 2\b/, 'earlier frames are replaced, not appended');
  assert.doesNotMatch(strip(t.r.lastFrame()), /hub:/, 'no prompt while the view runs');
  await t.type(CTRL_C);
  await until(() => promptLine(t.frame()) === 'hub:/>', 'prompt back after Ctrl-C');
  const after = t.frame();
  assert.equal((after.match(/frame \d+/g) ?? []).length, 1, 'the last frame stays, once');
  t.r.unmount();
});

test('Ctrl-C aborts a running command through the AbortSignal', async () => {
  const t = await setup();
  await t.type('sleep 5000' + ENTER);
  await t.type(CTRL_C);
  await until(() => t.frame().includes('interrupted'), 'abort reached the command', 1000);
  t.r.unmount();
});

test('Ctrl-C on a line clears it; keys typed while a command runs are kept', async () => {
  const t = await setup();
  await t.type('half typed' + CTRL_C);
  assert.match(t.frame(), /hub:\/> half typed\^C/);
  assert.equal(promptLine(t.frame()), 'hub:/>');
  await t.type('sleep 100' + ENTER + 'ls');
  await until(() => promptLine(t.frame()).trimEnd() === 'hub:/> ls', 'typeahead replayed');
  // A line typed ahead after a cd is echoed with the prompt of the new path.
  await t.type(CTRL_A + CTRL_K + 'cd /Setup' + ENTER + 'echo hi' + ENTER);
  await until(() => /hub:\/Setup> echo hi\nhi/.test(t.frame()), 'echo under the new prompt');
  t.r.unmount();
});

test('Ctrl-D on an empty line logs out and closes the session; exit does too', async () => {
  const t = await setup();
  await t.type('x' + CTRL_D);
  assert.equal(t.exited(), undefined, 'Ctrl-D on a non-empty line deletes');
  await t.type(BACKSPACE + CTRL_D);
  await until(() => t.exited() === 'eof', 'logout');
  assert.equal(t.session.closed, true);

  const t2 = await setup();
  await t2.type('exit' + ENTER);
  await until(() => t2.exited() === 'exit', 'exit');
  assert.equal(t2.session.closed, true);
});

test('completionGrid lays candidates out in columns and caps the rows', () => {
  assert.deepEqual(completionGrid(['aa', 'bbb', 'c'], 12, 5), ['aa   bbb', 'c']);
  const many = Array.from({ length: 30 }, (_, i) => `w${i}`);
  const g = completionGrid(many, 10, 3);
  assert.equal(g.length, 3);
  assert.match(g[2]!, /^\.\.\. 26 more$/);
});

test('clipBlocks keeps a live frame within the screen', () => {
  const rows = Array.from({ length: 50 }, (_, i) => [`r${i}`]);
  const { blocks, hidden } = clipBlocks([{ kind: 'table', columns: ['N'], rows }], 10);
  assert.equal(blocks.length, 1);
  assert.equal((blocks[0] as { rows: unknown[] }).rows.length, 8);
  assert.equal(hidden, 42);
});

test('the line and the keys queued by the boot prompt are taken over on mount', async () => {
  const session = new FakeSession();
  let written = '';
  const r = render(
    <App
      session={session}
      output={(s) => (written += s)}
      boot={{
        take: () => ({
          editor: { text: 'sysin', cursor: 5, historyIndex: null, draft: '', killed: '' },
          pending: [{ type: 'text', text: 'fo' }, { type: 'key', name: 'return' }],
        }),
      }}
    />,
  );
  await until(() => written.includes('DEVICE: meshgate'), 'the queued Enter ran the handed-over line');
  assert.deepEqual(session.lines, ['sysinfo']);
  r.unmount();
});

test('Tab then Enter in one burst: the completion lands before the line is submitted', async () => {
  const session = new FakeSession();
  const sync = session.complete.bind(session);
  (session as unknown as { complete: (l: string, c: number) => Promise<Completion> }).complete = async (l, c) => {
    await new Promise((r) => setTimeout(r, 30));
    return sync(l, c);
  };
  const t = await setup(session);
  await t.type('sy' + TAB + ENTER + 'ls');
  await until(() => t.frame().includes('DEVICE: meshgate'), 'completed command ran');
  assert.deepEqual(session.lines, ['sysinfo ']);
  await until(() => promptLine(t.frame()) === 'hub:/> ls', 'keys after Enter kept');
  t.r.unmount();
});
