import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainRenderer, renderPlain } from '../../../src/ui/plain-renderer.js';
import { formatStamp, sanitize } from '../../../src/ui/format.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const r = new PlainRenderer({ write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) }, {
    errorPrefix: () => 'cmds.lcs:3: ',
  });
  return { r, out, err };
}

test('table: aligned columns, header rule, numeric columns (and their header) right-aligned, no trailing blanks', () => {
  const text = renderPlain({
    kind: 'table',
    title: 'Peers',
    columns: ['Peer', 'State', 'Rx'],
    rows: [
      ['hub1', 'UP', 1200],
      ['spoke-long', 'DOWN', 7],
    ],
  });
  assert.equal(
    text,
    ['Peers', 'Peer        State    Rx', '----------  -----  ----', 'hub1        UP     1200', 'spoke-long  DOWN      7', ''].join('\n'),
  );
});

test('table with a short row and an empty table', () => {
  assert.equal(renderPlain({ kind: 'table', columns: ['A', 'B'], rows: [['x']] }), 'A  B\n-  -\nx\n');
  assert.equal(renderPlain({ kind: 'table', columns: ['Name'], rows: [] }), 'Name\n----\n');
});

test('keyvalue and text', () => {
  assert.equal(renderPlain({ kind: 'keyvalue', pairs: [['DEVICE', 'meshgate'], ['PORT', 4500]] }), 'DEVICE: meshgate\nPORT: 4500\n');
  assert.equal(renderPlain({ kind: 'text', text: 'a\nb\n' }), 'a\nb\n');
});

test('event carries a yyyy/mm/dd hh:mm:ss.mmm stamp', () => {
  const time = new Date(2026, 0, 2, 3, 4, 5, 6);
  assert.equal(formatStamp(time), '2026/01/02 03:04:05.006');
  assert.equal(renderPlain({ kind: 'event', time, topic: 'VPN', text: 'hub1 up' }), '2026/01/02 03:04:05.006 [VPN] hub1 up\n');
});

test('errors go to stderr as Error: <text> with the location prefix; output to stdout', () => {
  const { r, out, err } = capture();
  r.write({ kind: 'text', text: 'fine' });
  r.write({ kind: 'error', code: 'notFound', message: 'no such path: /Setup/Nope' });
  assert.deepEqual(out, ['fine\n']);
  assert.deepEqual(err, ['cmds.lcs:3: Error: no such path: /Setup/Nope\n']);
  assert.equal(r.errors, 1);
});

test('escape codes and control characters never reach the output', () => {
  const text = renderPlain({ kind: 'table', columns: ['N\x1b[31m'], rows: [['a\x07b\x9bc']] });
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(text, /N\^\[\[31m/);
  assert.equal(sanitize('a\tb\nc', true), 'a\tb\nc');
  assert.equal(sanitize('a\tb'), 'a^Ib');
});

test('live view frames are printed one after another, separated by a blank line', () => {
  const { r, out } = capture();
  r.frame([{ kind: 'text', text: 'frame 1' }]);
  r.frame([{ kind: 'text', text: 'frame 2' }]);
  assert.equal(out.join(''), 'frame 1\n\nframe 2\n');
});
