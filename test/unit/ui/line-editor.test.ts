import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_LINE,
  commonPrefix,
  emptyLineEditor,
  lineEditorReducer as reduce,
  type LineEditorAction,
  type LineEditorState,
} from '../../../src/ui/use-line-editor-state.js';

const run = (actions: LineEditorAction[], start: LineEditorState = emptyLineEditor) => actions.reduce(reduce, start);
const ins = (text: string): LineEditorAction => ({ type: 'insert', text });
const ed = (action: Extract<LineEditorAction, { type: 'edit' }>['action']): LineEditorAction => ({ type: 'edit', action });

test('insert at the cursor, move left/right, home/end', () => {
  let s = run([ins('lsSetup'), ed('move-left'), ed('move-left'), ed('move-left'), ed('move-left'), ed('move-left'), ins(' /')]);
  assert.equal(s.text, 'ls /Setup');
  assert.equal(s.cursor, 4);
  s = run([ed('move-home')], s);
  assert.equal(s.cursor, 0);
  s = run([ed('move-left')], s);
  assert.equal(s.cursor, 0, 'left at the start stays');
  s = run([ed('move-end'), ed('move-right')], s);
  assert.equal(s.cursor, 9, 'right at the end stays');
});

test('backspace and delete', () => {
  let s = run([ins('abcd'), ed('move-left'), ed('delete-backward')]);
  assert.deepEqual([s.text, s.cursor], ['abd', 2]);
  s = run([ed('delete-forward')], s);
  assert.deepEqual([s.text, s.cursor], ['ab', 2]);
  assert.equal(run([ed('delete-forward')], s), s, 'delete at the end changes nothing');
  assert.equal(run([ed('move-home'), ed('delete-backward')], s).text, 'ab');
});

test('Ctrl-K, Ctrl-U, Ctrl-W kill, Ctrl-Y yanks', () => {
  const base = run([ins('set /Setup/Name hub'), ed('move-word-left')]);
  assert.equal(base.cursor, 16);
  const k = run([ed('kill-to-end')], base);
  assert.deepEqual([k.text, k.killed], ['set /Setup/Name ', 'hub']);
  const u = run([ed('kill-to-start')], base);
  assert.deepEqual([u.text, u.cursor, u.killed], ['hub', 0, 'set /Setup/Name ']);
  const w = run([ed('move-end'), ed('kill-word-backward')], base);
  assert.equal(w.text, 'set /Setup/Name ');
  const w2 = run([ed('kill-word-backward')], w);
  assert.equal(w2.text, 'set ', 'Ctrl-W skips blanks, then removes a word');
  assert.equal(run([ed('yank')], w2).text, 'set /Setup/Name ');
});

test('history: up walks back, down walks forward and restores the draft', () => {
  const history = ['ls', 'cd /Setup', 'sysinfo'];
  let s = run([ins('dra')]);
  s = reduce(s, { type: 'history-previous', history });
  assert.deepEqual([s.text, s.cursor, s.historyIndex], ['sysinfo', 7, 2]);
  s = reduce(reduce(reduce(s, { type: 'history-previous', history }), { type: 'history-previous', history }), {
    type: 'history-previous',
    history,
  });
  assert.equal(s.text, 'ls', 'stops at the oldest');
  s = reduce(s, { type: 'history-next', history });
  assert.equal(s.text, 'cd /Setup');
  s = reduce(reduce(s, { type: 'history-next', history }), { type: 'history-next', history });
  assert.deepEqual([s.text, s.historyIndex], ['dra', null]);
  assert.equal(reduce(s, { type: 'history-next', history }), s);
  assert.equal(reduce(emptyLineEditor, { type: 'history-previous', history: [] }), emptyLineEditor);
});

test('replace-range for completion puts the cursor after the word', () => {
  const s = run([ins('cd /se/v'), ed('move-left')]);
  const r = reduce(s, { type: 'replace-range', from: 3, to: 7, text: '/Setup/' });
  assert.deepEqual([r.text, r.cursor], ['cd /Setup/v', 10]);
});

test('surrogate pairs move and delete as one character', () => {
  const s = run([ins('a😀b'), ed('move-left'), ed('move-left')]);
  assert.equal(s.cursor, 1);
  assert.equal(run([ed('delete-forward')], s).text, 'ab');
});

test('the line is capped at MAX_LINE characters', () => {
  const s = run([ins('x'.repeat(MAX_LINE + 50)), ins('more')]);
  assert.equal(s.text.length, MAX_LINE);
});

test('commonPrefix', () => {
  assert.equal(commonPrefix(['/Setup/', '/Status/']), '/S');
  assert.equal(commonPrefix(['sysinfo']), 'sysinfo');
  assert.equal(commonPrefix([]), '');
});

test('property: the cursor always stays within the line', () => {
  const action = fc.oneof(
    fc.string({ maxLength: 5 }).map(ins),
    fc
      .constantFrom(
        'move-left', 'move-right', 'move-home', 'move-end', 'move-word-left', 'move-word-right',
        'delete-backward', 'delete-forward', 'kill-to-end', 'kill-to-start', 'kill-word-backward', 'yank',
      )
      .map((a) => ed(a as never)),
    fc.constant<LineEditorAction>({ type: 'history-previous', history: ['a', 'bb'] }),
    fc.constant<LineEditorAction>({ type: 'history-next', history: ['a', 'bb'] }),
  );
  fc.assert(
    fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
      const s = run(actions);
      return s.cursor >= 0 && s.cursor <= s.text.length;
    }),
  );
});
