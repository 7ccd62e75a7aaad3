import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BootPrompt, bootStep, type BootHandover } from '../../../src/ui/boot-prompt.js';
import { decodeKeys } from '../../../src/ui/keymap.js';
import { emptyLineEditor } from '../../../src/ui/line-editor.js';

const feed = (raw: string, start: BootHandover = { editor: emptyLineEditor, pending: [] }) => decodeKeys(raw).reduce(bootStep, start);

test('editing keys edit the line; the first key needing the UI and all after it are queued in order', () => {
  const s = feed('sysix\x7f\x1b[Dn\x1b[C');
  assert.deepEqual([s.editor.text, s.editor.cursor], ['sysni', 5]);
  assert.deepEqual(s.pending, []);
  const q = feed('ls /S\tx\r');
  assert.equal(q.editor.text, 'ls /S');
  assert.deepEqual(q.pending, [
    { type: 'key', name: 'tab' },
    { type: 'text', text: 'x' },
    { type: 'key', name: 'return' },
  ]);
});

test('BootPrompt draws the prompt at once, redraws on keys, hides for Ink, keeps collecting until take', () => {
  const stdin = Object.assign(new EventEmitter(), { setRawMode: (_: boolean) => stdin, pause: () => stdin }) as unknown as NodeJS.ReadStream;
  const out: string[] = [];
  const stdout = { write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  const prev = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    const b = new BootPrompt(stdin, stdout, 'hub:/Setup');
    b.start();
    assert.equal(out.at(-1), '\r\x1b[2Khub:/Setup> ');
    stdin.emit('data', Buffer.from('lx\x1b[D'));
    assert.equal(out.at(-1), '\r\x1b[2Khub:/Setup> lx\x1b[1D', 'cursor moved back one column');
    stdin.emit('data', Buffer.from('s'));
    b.hide();
    assert.equal(out.at(-1), '\r\x1b[2K');
    const writes = out.length;
    stdin.emit('data', Buffer.from('\r'));
    assert.equal(out.length, writes, 'nothing drawn once hidden');
    const h = b.take();
    assert.equal(h.editor.text, 'lsx');
    assert.deepEqual(h.pending, [{ type: 'key', name: 'return' }], 'keys after hide() still collected');
    assert.equal(stdin.listenerCount('data'), 0, 'stops reading');
  } finally {
    if (prev === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = prev;
  }
});
