import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockToAnsi, echoLine, line } from '../../../src/ui/ansi.js';
import { blockToLines } from '../../../src/ui/format.js';
import type { OutputBlock } from '../../../src/shell/session-api.js';

const plain = { columns: 200, color: false };
const blocks: OutputBlock[] = [
  { kind: 'table', title: 'Peers', columns: ['Peer', 'State', 'Rx'], rows: [['hub1', 'UP', 1200], ['spoke2', 'DOWN', 0]] },
  { kind: 'keyvalue', pairs: [['DEVICE', 'meshgate']] },
  { kind: 'event', time: new Date(2026, 0, 2, 3, 4, 5, 6), topic: 'vpn', text: 'up' },
  { kind: 'error', code: 'syntax', message: 'bad' },
  { kind: 'text', text: 'a\nb' },
];

test('without colour and with room, the lines are exactly the plain renderer\'s', () => {
  for (const b of blocks) assert.deepEqual(blockToAnsi(b, plain), blockToLines(b), b.kind);
});

test('lines are cut at the terminal width with an ellipsis, never wrapped', () => {
  const wide: OutputBlock = { kind: 'table', columns: ['A', 'B'], rows: [['x'.repeat(50), 'y'.repeat(50)]] };
  const lines = blockToAnsi(wide, { columns: 40, color: true });
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  for (const l of lines) assert.ok(visible(l).length <= 40, `${visible(l).length}: ${visible(l)}`);
  assert.ok(visible(lines[2]!).endsWith('…'));
  assert.equal(line([['abcdef']], { columns: 4, color: false }), 'abc…');
  assert.equal(line([['abcd']], { columns: 4, color: false }), 'abcd');
});

test('colours: bold header, dim rule, coloured state cells, red errors, bold green prompt', () => {
  const o = { columns: 100, color: true };
  const t = blockToAnsi(blocks[0]!, o);
  assert.equal(t[1], '\x1b[1mPeer    State    Rx\x1b[22m');
  assert.match(t[2]!, /^\x1b\[2m-+/);
  assert.match(t[3]!, /\x1b\[32mUP {3}\x1b\[39m/);
  assert.match(t[4]!, /\x1b\[31mDOWN \x1b\[39m/);
  assert.equal(blockToAnsi(blocks[3]!, o)[0], '\x1b[31mError: bad\x1b[39m');
  assert.equal(echoLine('hub:/', 'ls', '^C', o), '\x1b[1m\x1b[32mhub:/\x1b[39m\x1b[22m> ls\x1b[2m^C\x1b[22m');
});

test('a 10,000-row table renders in well under a second', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => [`peer${i}`, i % 2 ? 'UP' : 'DOWN', i]);
  const t0 = performance.now();
  const lines = blockToAnsi({ kind: 'table', columns: ['Peer', 'State', 'Rx'], rows }, { columns: 120, color: true });
  const ms = performance.now() - t0;
  assert.equal(lines.length, 10_002);
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});
