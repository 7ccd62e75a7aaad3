/**
 * The line editor as a pure reducer (ink-ui anatomy: view + reducer hook + input hook).
 * Everything that edits the line is an action; the Ink app only dispatches. No React here:
 * the boot prompt uses the same reducer before Ink has loaded.
 */

export interface LineEditorState {
  text: string;
  /** Cursor position in UTF-16 units, 0..text.length, never inside a surrogate pair. */
  cursor: number;
  /** Index into the history being shown, or null while editing the new line. */
  historyIndex: number | null;
  /** The new line, kept while browsing the history. */
  draft: string;
  /** Last killed text (Ctrl-K/U/W), for Ctrl-Y. */
  killed: string;
}

export type EditAction =
  | 'move-left' | 'move-right' | 'move-home' | 'move-end' | 'move-word-left' | 'move-word-right'
  | 'delete-backward' | 'delete-forward'
  | 'kill-to-end' | 'kill-to-start' | 'kill-word-backward' | 'yank';

export type LineEditorAction =
  | { type: 'insert'; text: string }
  | { type: 'edit'; action: EditAction }
  | { type: 'history-previous'; history: readonly string[] }
  | { type: 'history-next'; history: readonly string[] }
  /** Replace text[from, to) (completion), cursor after the replacement. */
  | { type: 'replace-range'; from: number; to: number; text: string }
  | { type: 'reset' }
  /** Take over a whole line state (the boot prompt's). */
  | { type: 'load'; state: LineEditorState };

/** Longest line the editor accepts; longer pastes are cut (the shell would refuse them anyway). */
export const MAX_LINE = 16384;

export const emptyLineEditor: LineEditorState = { text: '', cursor: 0, historyIndex: null, draft: '', killed: '' };

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function prevIndex(text: string, i: number): number {
  if (i <= 0) return 0;
  return i >= 2 && isLow(text.charCodeAt(i - 1)) && isHigh(text.charCodeAt(i - 2)) ? i - 2 : i - 1;
}

function nextIndex(text: string, i: number): number {
  if (i >= text.length) return text.length;
  return isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? i + 2 : i + 1;
}

function wordLeft(text: string, i: number): number {
  let j = i;
  while (j > 0 && /\s/.test(text[j - 1]!)) j--;
  while (j > 0 && !/\s/.test(text[j - 1]!)) j--;
  return j;
}

function wordRight(text: string, i: number): number {
  let j = i;
  while (j < text.length && /\s/.test(text[j]!)) j++;
  while (j < text.length && !/\s/.test(text[j]!)) j++;
  return j;
}

function withText(state: LineEditorState, text: string, cursor: number): LineEditorState {
  return { ...state, text, cursor };
}

function clampInsert(state: LineEditorState, insert: string): string {
  const room = MAX_LINE - state.text.length;
  return room <= 0 ? '' : insert.slice(0, room);
}

export function lineEditorReducer(state: LineEditorState, action: LineEditorAction): LineEditorState {
  const { text, cursor } = state;
  switch (action.type) {
    case 'insert': {
      const ins = clampInsert(state, action.text);
      if (!ins) return state;
      return withText(state, text.slice(0, cursor) + ins + text.slice(cursor), cursor + ins.length);
    }
    case 'replace-range': {
      const from = Math.max(0, Math.min(action.from, text.length));
      const to = Math.max(from, Math.min(action.to, text.length));
      const next = (text.slice(0, from) + action.text + text.slice(to)).slice(0, MAX_LINE);
      return withText(state, next, Math.min(from + action.text.length, next.length));
    }
    case 'reset':
      return { ...emptyLineEditor, killed: state.killed };
    case 'load': {
      const text = action.state.text.slice(0, MAX_LINE);
      return { ...action.state, text, cursor: Math.max(0, Math.min(action.state.cursor, text.length)) };
    }
    case 'history-previous': {
      const h = action.history;
      if (h.length === 0) return state;
      const idx = state.historyIndex === null ? h.length - 1 : Math.max(0, state.historyIndex - 1);
      if (idx === state.historyIndex) return state;
      const line = h[idx] ?? '';
      return { ...state, historyIndex: idx, draft: state.historyIndex === null ? text : state.draft, text: line, cursor: line.length };
    }
    case 'history-next': {
      if (state.historyIndex === null) return state;
      const h = action.history;
      if (state.historyIndex + 1 < h.length) {
        const line = h[state.historyIndex + 1] ?? '';
        return { ...state, historyIndex: state.historyIndex + 1, text: line, cursor: line.length };
      }
      return { ...state, historyIndex: null, text: state.draft, cursor: state.draft.length, draft: '' };
    }
    case 'edit':
      switch (action.action) {
        case 'move-left':
          return { ...state, cursor: prevIndex(text, cursor) };
        case 'move-right':
          return { ...state, cursor: nextIndex(text, cursor) };
        case 'move-home':
          return { ...state, cursor: 0 };
        case 'move-end':
          return { ...state, cursor: text.length };
        case 'move-word-left':
          return { ...state, cursor: wordLeft(text, cursor) };
        case 'move-word-right':
          return { ...state, cursor: wordRight(text, cursor) };
        case 'delete-backward': {
          if (cursor === 0) return state;
          const p = prevIndex(text, cursor);
          return withText(state, text.slice(0, p) + text.slice(cursor), p);
        }
        case 'delete-forward': {
          if (cursor >= text.length) return state;
          return withText(state, text.slice(0, cursor) + text.slice(nextIndex(text, cursor)), cursor);
        }
        case 'kill-to-end':
          if (cursor >= text.length) return state;
          return { ...state, text: text.slice(0, cursor), killed: text.slice(cursor) };
        case 'kill-to-start':
          if (cursor === 0) return state;
          return { ...state, text: text.slice(cursor), cursor: 0, killed: text.slice(0, cursor) };
        case 'kill-word-backward': {
          if (cursor === 0) return state;
          const w = wordLeft(text, cursor);
          return { ...state, text: text.slice(0, w) + text.slice(cursor), cursor: w, killed: text.slice(w, cursor) };
        }
        case 'yank':
          return state.killed ? lineEditorReducer(state, { type: 'insert', text: state.killed }) : state;
      }
  }
}

/** Longest common prefix of the candidates (case-sensitive, as the shell returns them). */
export function commonPrefix(words: readonly string[]): string {
  if (words.length === 0) return '';
  let p = words[0]!;
  for (const w of words) {
    let i = 0;
    while (i < p.length && i < w.length && p[i] === w[i]) i++;
    p = p.slice(0, i);
    if (!p) break;
  }
  return p;
}
