/**
 * Keys of the interactive shell. Two tables: the terminal sequences we recognise
 * (raw input -> key name) and the keymap (key name -> editor command). The decoder is a
 * pure function so that a test can feed it what a terminal sends.
 */

export type KeyName =
  | 'return' | 'tab' | 'backtab' | 'escape'
  | 'left' | 'right' | 'up' | 'down' | 'home' | 'end' | 'pageup' | 'pagedown'
  | 'backspace' | 'delete'
  | 'word-left' | 'word-right'
  | 'ctrl-a' | 'ctrl-b' | 'ctrl-c' | 'ctrl-d' | 'ctrl-e' | 'ctrl-f' | 'ctrl-k' | 'ctrl-l'
  | 'ctrl-n' | 'ctrl-p' | 'ctrl-u' | 'ctrl-w' | 'ctrl-y';

export type EditorCommand =
  | 'line.submit'
  | 'line.complete'
  | 'cursor.left' | 'cursor.right' | 'cursor.home' | 'cursor.end'
  | 'cursor.wordLeft' | 'cursor.wordRight'
  | 'delete.backward' | 'delete.forward'
  | 'kill.toEnd' | 'kill.toStart' | 'kill.wordBackward' | 'kill.yank'
  | 'history.previous' | 'history.next'
  /** Ctrl-C: abort the running command, else clear the line. */
  | 'session.interrupt'
  /** Ctrl-D: log out on an empty line, else delete forward. */
  | 'session.eofOrDelete'
  | 'screen.clear'
  | 'none';

/** Key name -> command. The one place to change a binding. */
export const KEYMAP: Readonly<Record<KeyName, EditorCommand>> = {
  return: 'line.submit',
  tab: 'line.complete',
  backtab: 'none',
  escape: 'none',
  left: 'cursor.left',
  'ctrl-b': 'cursor.left',
  right: 'cursor.right',
  'ctrl-f': 'cursor.right',
  home: 'cursor.home',
  'ctrl-a': 'cursor.home',
  end: 'cursor.end',
  'ctrl-e': 'cursor.end',
  'word-left': 'cursor.wordLeft',
  'word-right': 'cursor.wordRight',
  backspace: 'delete.backward',
  delete: 'delete.forward',
  'ctrl-k': 'kill.toEnd',
  'ctrl-u': 'kill.toStart',
  'ctrl-w': 'kill.wordBackward',
  'ctrl-y': 'kill.yank',
  up: 'history.previous',
  'ctrl-p': 'history.previous',
  down: 'history.next',
  'ctrl-n': 'history.next',
  'ctrl-c': 'session.interrupt',
  'ctrl-d': 'session.eofOrDelete',
  'ctrl-l': 'screen.clear',
  pageup: 'none',
  pagedown: 'none',
};

/** What terminals send (xterm, tmux, screen, linux console, VT100 application mode). */
export const KEY_SEQUENCES: Readonly<Record<string, KeyName>> = {
  '\r': 'return',
  '\n': 'return',
  '\t': 'tab',
  '\x1b[Z': 'backtab',
  '\x1b': 'escape',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\x1b[3~': 'delete',
  '\x1b[D': 'left',
  '\x1bOD': 'left',
  '\x1b[C': 'right',
  '\x1bOC': 'right',
  '\x1b[A': 'up',
  '\x1bOA': 'up',
  '\x1b[B': 'down',
  '\x1bOB': 'down',
  '\x1b[H': 'home',
  '\x1bOH': 'home',
  '\x1b[1~': 'home',
  '\x1b[7~': 'home',
  '\x1b[F': 'end',
  '\x1bOF': 'end',
  '\x1b[4~': 'end',
  '\x1b[8~': 'end',
  '\x1b[5~': 'pageup',
  '\x1b[6~': 'pagedown',
  '\x1b[1;5D': 'word-left',
  '\x1b[1;3D': 'word-left',
  '\x1bb': 'word-left',
  '\x1b[1;5C': 'word-right',
  '\x1b[1;3C': 'word-right',
  '\x1bf': 'word-right',
  '\x01': 'ctrl-a',
  '\x02': 'ctrl-b',
  '\x03': 'ctrl-c',
  '\x04': 'ctrl-d',
  '\x05': 'ctrl-e',
  '\x06': 'ctrl-f',
  '\x0b': 'ctrl-k',
  '\x0c': 'ctrl-l',
  '\x0e': 'ctrl-n',
  '\x10': 'ctrl-p',
  '\x15': 'ctrl-u',
  '\x17': 'ctrl-w',
  '\x19': 'ctrl-y',
};

export type KeyEvent = { type: 'key'; name: KeyName } | { type: 'text'; text: string };

const MAX_SEQUENCE = 8;

/** Length of an escape sequence starting at i (CSI or SS3 or ESC+char), for skipping unknown ones. */
function escapeLength(raw: string, i: number): number {
  const next = raw[i + 1];
  if (next === undefined) return 1;
  if (next === '[') {
    let j = i + 2;
    while (j < raw.length && j - i < 32) {
      const c = raw.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e && !(j === i + 2 && raw[j] === '[')) return j - i + 1;
      j++;
    }
    return Math.min(raw.length - i, 32);
  }
  if (next === 'O') return Math.min(3, raw.length - i);
  return 2;
}

/**
 * Splits raw terminal input into keys and runs of text. Unknown escape sequences and
 * control characters are dropped, so nothing invisible ever lands in the line.
 */
export function decodeKeys(raw: string): KeyEvent[] {
  const out: KeyEvent[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ type: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i]!;
    const code = ch.charCodeAt(0);
    if (ch === '\x1b') {
      flush();
      let matched = false;
      for (let len = Math.min(MAX_SEQUENCE, raw.length - i); len >= 2; len--) {
        const name = KEY_SEQUENCES[raw.slice(i, i + len)];
        if (name) {
          out.push({ type: 'key', name });
          i += len;
          matched = true;
          break;
        }
      }
      if (matched) continue;
      if (i + 1 >= raw.length) {
        out.push({ type: 'key', name: 'escape' });
        i++;
        continue;
      }
      i += escapeLength(raw, i); // unknown sequence: ignore it whole
      continue;
    }
    if (code < 0x20 || code === 0x7f) {
      flush();
      // \r\n from a paste counts as one return
      if (ch === '\r' && raw[i + 1] === '\n') i++;
      const name = KEY_SEQUENCES[ch];
      if (name) out.push({ type: 'key', name });
      i++;
      continue;
    }
    if (code >= 0x80 && code <= 0x9f) {
      i++; // C1 controls never become text
      continue;
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}
