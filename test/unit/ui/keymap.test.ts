import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYMAP, KEY_SEQUENCES, decodeKeys } from '../../../src/ui/keymap.js';

test('printable runs stay one text event; control keys split them', () => {
  assert.deepEqual(decodeKeys('ls /Se\t'), [
    { type: 'text', text: 'ls /Se' },
    { type: 'key', name: 'tab' },
  ]);
  assert.deepEqual(decodeKeys('a\r\nb'), [
    { type: 'text', text: 'a' },
    { type: 'key', name: 'return' },
    { type: 'text', text: 'b' },
  ]);
});

test('arrow keys in normal and application mode, home/end variants, delete vs backspace', () => {
  const names = (s: string) => decodeKeys(s).map((e) => (e.type === 'key' ? e.name : `text:${e.text}`));
  assert.deepEqual(names('\x1b[A\x1bOA\x1b[B\x1b[C\x1b[D'), ['up', 'up', 'down', 'right', 'left']);
  assert.deepEqual(names('\x1b[H\x1b[1~\x1bOF\x1b[4~'), ['home', 'home', 'end', 'end']);
  assert.deepEqual(names('\x7f\x1b[3~\b'), ['backspace', 'delete', 'backspace']);
  assert.deepEqual(names('\x01\x05\x0b\x15\x17\x03\x04'), ['ctrl-a', 'ctrl-e', 'ctrl-k', 'ctrl-u', 'ctrl-w', 'ctrl-c', 'ctrl-d']);
});

test('unknown escape sequences and stray control characters are dropped, not inserted', () => {
  assert.deepEqual(decodeKeys('x\x1b[200~y\x1b[15~z\x00\x9b'), [
    { type: 'text', text: 'x' },
    { type: 'text', text: 'y' },
    { type: 'text', text: 'z' },
  ]);
  assert.deepEqual(decodeKeys('\x1b'), [{ type: 'key', name: 'escape' }]);
});

test('every recognised key has a binding', () => {
  for (const name of Object.values(KEY_SEQUENCES)) assert.ok(name in KEYMAP, name);
  assert.equal(KEYMAP.up, 'history.previous');
  assert.equal(KEYMAP.tab, 'line.complete');
  assert.equal(KEYMAP['ctrl-c'], 'session.interrupt');
});
