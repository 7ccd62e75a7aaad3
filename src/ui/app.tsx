/**
 * The interactive shell: past output in <Static> (written once, never re-rendered),
 * then the live region: the frame of a running live view, the prompt with the line
 * being edited, and the completion list. Keys go through keymap.ts; the line itself
 * is the pure reducer of use-line-editor-state.ts.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Text, useApp, useStdin, useStdout } from 'ink';
import type { OutputBlock, OutputSink } from '../shell/session-api.js';
import type { UiSession } from './ui-session.js';
import { KEYMAP, decodeKeys, type KeyEvent } from './keymap.js';
import {
  commonPrefix,
  emptyLineEditor,
  lineEditorReducer,
  type LineEditorAction,
  type LineEditorState,
} from './use-line-editor-state.js';
import { BlockView, clipBlocks } from './block-view.js';
import type { BootSource } from './boot-prompt.js';
import { sanitize } from './format.js';
import { blockToAnsi, echoLine, type AnsiOptions } from './ansi.js';

type Item =
  | { kind: 'echo'; prompt: string; line: string; note?: string }
  | { kind: 'block'; block: OutputBlock }
  | { kind: 'blocks'; blocks: OutputBlock[] };

/** Past output as text for the terminal: the echo of a line, or blocks. */
export function renderItem(item: Item, o: AnsiOptions): string {
  const lines =
    item.kind === 'echo'
      ? [echoLine(item.prompt, item.line, item.note, o)]
      : (item.kind === 'block' ? [item.block] : item.blocks).flatMap((b) => blockToAnsi(b, o));
  return lines.map((l) => l + '\n').join('');
}

/** Colour on terminals (and SSH channels) unless NO_COLOR; FORCE_COLOR forces it. */
function colorWanted(stdout: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  return stdout.isTTY === true;
}

export interface AppProps {
  session: UiSession;
  /** The boot prompt: on mount its line is taken over and its queued keys replayed. */
  boot?: BootSource;
  /** Where past output goes; default: written above Ink's live region (useStdout().write). */
  output?: (text: string) => void;
  /** Colour in past output; default: on a terminal unless NO_COLOR. */
  color?: boolean;
  /** Called once when the session ends (exit command, Ctrl-D); the app unmounts itself. */
  onExit?: (reason: 'exit' | 'eof') => void;
}

/** Keys from the terminal, decoded by keymap.ts (raw mode on while mounted). */
function useTerminalKeys(handler: (ev: KeyEvent) => void): void {
  const { setRawMode, internal_eventEmitter } = useStdin();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    setRawMode(true);
    return () => setRawMode(false);
  }, [setRawMode]);
  useEffect(() => {
    const onInput = (raw: string) => {
      for (const ev of decodeKeys(raw)) ref.current(ev);
    };
    internal_eventEmitter.on('input', onInput);
    return () => {
      internal_eventEmitter.removeListener('input', onInput);
    };
  }, [internal_eventEmitter]);
}

/** The editor state kept in a ref as well, so several keys in one input chunk see each other's effect. */
function useLineEditor(
  initial: LineEditorState = emptyLineEditor,
): [LineEditorState, (a: LineEditorAction) => void, React.MutableRefObject<LineEditorState>] {
  const ref = useRef<LineEditorState>(initial);
  const [state, setState] = useState<LineEditorState>(initial);
  const dispatch = useCallback((a: LineEditorAction) => {
    ref.current = lineEditorReducer(ref.current, a);
    setState(ref.current);
  }, []);
  return [state, dispatch, ref];
}

/** Candidates laid out in columns, at most maxRows rows. */
export function completionGrid(candidates: string[], columns: number, maxRows: number): string[] {
  if (candidates.length === 0) return [];
  const width = Math.min(Math.max(...candidates.map((c) => c.length)) + 2, Math.max(8, columns));
  const perRow = Math.max(1, Math.floor(columns / width));
  const rows: string[] = [];
  for (let i = 0; i < candidates.length; i += perRow) {
    rows.push(
      candidates
        .slice(i, i + perRow)
        .map((c) => sanitize(c).padEnd(width))
        .join('')
        .trimEnd(),
    );
  }
  if (rows.length > maxRows) {
    const shownRows = Math.max(1, maxRows - 1);
    const shown = shownRows * perRow;
    return [...rows.slice(0, shownRows), `... ${candidates.length - shown} more`];
  }
  return rows;
}

function PromptLine({ prompt, editor, active }: { prompt: string; editor: LineEditorState; active: boolean }) {
  const { text, cursor } = editor;
  const at = text.slice(cursor, cursor + 1) || ' ';
  return (
    <Text>
      <Text bold color="green">
        {sanitize(prompt)}
      </Text>
      {'> '}
      {sanitize(text.slice(0, cursor))}
      {active ? <Text inverse>{sanitize(at)}</Text> : at === ' ' ? '' : sanitize(at)}
      {sanitize(text.slice(cursor + 1))}
    </Text>
  );
}

export function App({ session, onExit, boot, output, color: colorProp }: AppProps) {
  const { exit } = useApp();
  const { stdout, write } = useStdout();
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [live, setLive] = useState<OutputBlock[] | null>(null);
  const [running, setRunning] = useState(false);
  const [prompt, setPromptState] = useState(() => session.prompt());
  // Keys replayed right after a command see the new prompt before React re-renders.
  const promptRef = useRef(prompt);
  const setPrompt = useCallback((p: string) => {
    promptRef.current = p;
    setPromptState(p);
  }, []);
  const [completions, setCompletions] = useState<string[] | null>(null);
  const [editor, dispatch, editorRef] = useLineEditor();
  const sizeRef = useRef(size);
  sizeRef.current = size;
  const color = useRef(colorProp ?? colorWanted(stdout)).current;
  const emit = output ?? write;
  const runningRef = useRef<AbortController | null>(null);
  const completingRef = useRef(false);
  const typeahead = useRef<KeyEvent[]>([]);
  const ended = useRef(false);
  const completionSeq = useRef(0);

  useEffect(() => {
    const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  /** Writes past output above the live region; Ink never lays it out again. */
  const push = useCallback(
    (...add: Item[]) => {
      const o = { columns: sizeRef.current.columns, color };
      emit(add.map((i) => renderItem(i, o)).join(''));
    },
    [color, emit],
  );

  const end = useCallback(
    (reason: 'exit' | 'eof') => {
      if (ended.current) return;
      ended.current = true;
      try {
        session.close();
      } finally {
        onExit?.(reason);
        setTimeout(() => exit(), 0);
      }
    },
    [exit, onExit, session],
  );

  /** Keys that arrived while a command or a completion was busy, in order. */
  const drainTypeahead = useCallback(() => {
    const pending = typeahead.current.splice(0);
    // A replayed Enter or Tab makes the app busy again; the keys after it queue up anew.
    for (const ev of pending) handleKeyRef.current(ev);
  }, []);

  const runLine = useCallback(
    async (line: string) => {
      const controller = new AbortController();
      runningRef.current = controller;
      setRunning(true);
      let lastFrame: OutputBlock[] | null = null;
      const sink: OutputSink = {
        write: (block) => push({ kind: 'block', block }),
        frame: (blocks) => {
          lastFrame = blocks;
          setLive(blocks);
        },
      };
      let exitRequested = false;
      try {
        const result = await session.execute(line, { sink, signal: controller.signal });
        exitRequested = result.exit;
      } catch (err) {
        push({ kind: 'block', block: { kind: 'error', code: 'runtime', message: (err as Error).message } });
      }
      // The last frame of a live view stays on the screen as ordinary output.
      if (lastFrame) push({ kind: 'blocks', blocks: lastFrame });
      setLive(null);
      runningRef.current = null;
      setRunning(false);
      if (exitRequested) {
        end('exit');
        return;
      }
      setPrompt(session.prompt());
      drainTypeahead();
    },
    [drainTypeahead, end, push, session, setPrompt],
  );

  const complete = useCallback(async () => {
    const { text, cursor } = editorRef.current;
    const seq = ++completionSeq.current;
    let result;
    completingRef.current = true;
    try {
      result = await session.complete(text, cursor);
    } catch {
      return;
    } finally {
      completingRef.current = false;
      // Keys typed after Tab apply to the completed line (deferred so the completion lands first).
      queueMicrotask(drainTypeahead);
    }
    // A key pressed meanwhile makes the answer stale.
    if (seq !== completionSeq.current || editorRef.current.text !== text || editorRef.current.cursor !== cursor) return;
    const { from, candidates } = result;
    const typed = text.slice(from, cursor);
    if (candidates.length === 0) {
      setCompletions(null);
      return;
    }
    if (candidates.length === 1) {
      const word = candidates[0]!;
      // A finished word gets a blank after it; a menu path ending in / does not.
      const suffix = word.endsWith('/') || text.slice(cursor, cursor + 1) === ' ' ? '' : ' ';
      dispatch({ type: 'replace-range', from, to: cursor, text: word + suffix });
      setCompletions(null);
      return;
    }
    const prefix = commonPrefix(candidates);
    if (prefix.length > typed.length && prefix.toLowerCase().startsWith(typed.toLowerCase())) {
      dispatch({ type: 'replace-range', from, to: cursor, text: prefix });
    }
    setCompletions(candidates);
  }, [dispatch, drainTypeahead, editorRef, session]);

  const handleKey = useCallback(
    (ev: KeyEvent) => {
      if (ended.current) return;
      const command = ev.type === 'key' ? KEYMAP[ev.name] : 'insert';
      if (runningRef.current) {
        if (command === 'session.interrupt') runningRef.current.abort();
        else typeahead.current.push(ev);
        return;
      }
      if (completingRef.current) {
        typeahead.current.push(ev);
        return;
      }
      if (command !== 'line.complete') {
        completionSeq.current++;
        setCompletions(null);
      }
      const history = session.history();
      switch (command) {
        case 'insert':
          if (ev.type === 'text') dispatch({ type: 'insert', text: ev.text });
          return;
        case 'line.submit': {
          const line = editorRef.current.text;
          dispatch({ type: 'reset' });
          push({ kind: 'echo', prompt: promptRef.current, line });
          // Empty lines go to the shell too (they end a writeconfig block).
          void runLine(line);
          return;
        }
        case 'line.complete':
          void complete();
          return;
        case 'cursor.left':
          return dispatch({ type: 'edit', action: 'move-left' });
        case 'cursor.right':
          return dispatch({ type: 'edit', action: 'move-right' });
        case 'cursor.home':
          return dispatch({ type: 'edit', action: 'move-home' });
        case 'cursor.end':
          return dispatch({ type: 'edit', action: 'move-end' });
        case 'cursor.wordLeft':
          return dispatch({ type: 'edit', action: 'move-word-left' });
        case 'cursor.wordRight':
          return dispatch({ type: 'edit', action: 'move-word-right' });
        case 'delete.backward':
          return dispatch({ type: 'edit', action: 'delete-backward' });
        case 'delete.forward':
          return dispatch({ type: 'edit', action: 'delete-forward' });
        case 'kill.toEnd':
          return dispatch({ type: 'edit', action: 'kill-to-end' });
        case 'kill.toStart':
          return dispatch({ type: 'edit', action: 'kill-to-start' });
        case 'kill.wordBackward':
          return dispatch({ type: 'edit', action: 'kill-word-backward' });
        case 'kill.yank':
          return dispatch({ type: 'edit', action: 'yank' });
        case 'history.previous':
          return dispatch({ type: 'history-previous', history });
        case 'history.next':
          return dispatch({ type: 'history-next', history });
        case 'session.interrupt': {
          // No command running: abandon the line, as a shell does.
          push({ kind: 'echo', prompt: promptRef.current, line: editorRef.current.text, note: '^C' });
          dispatch({ type: 'reset' });
          return;
        }
        case 'session.eofOrDelete':
          if (editorRef.current.text === '') {
            push({ kind: 'echo', prompt: promptRef.current, line: '', note: 'logout' });
            end('eof');
          } else dispatch({ type: 'edit', action: 'delete-forward' });
          return;
        case 'none':
          return;
      }
    },
    [complete, dispatch, editorRef, end, push, runLine, session],
  );
  const handleKeyRef = useRef(handleKey);
  handleKeyRef.current = handleKey;
  useTerminalKeys(handleKey);
  // The line typed while the UI was loading, then the keys queued after it, in their order.
  useEffect(() => {
    if (!boot) return;
    const h = boot.take();
    dispatch({ type: 'load', state: h.editor });
    for (const ev of h.pending) handleKeyRef.current(ev);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const liveView = live ? clipBlocks(live, Math.max(3, size.rows - 3)) : null;
  const grid = completions ? completionGrid(completions, size.columns, Math.max(2, Math.floor(size.rows / 2))) : [];

  return (
    <>
      {liveView ? (
        <Box flexDirection="column">
          {liveView.blocks.map((b, i) => (
            <BlockView key={i} block={b} />
          ))}
          {liveView.hidden > 0 ? <Text dimColor>... {liveView.hidden} more lines (Ctrl-C ends the view)</Text> : null}
        </Box>
      ) : null}
      {!running && !ended.current ? <PromptLine prompt={prompt} editor={editor} active /> : null}
      {grid.length > 0 ? (
        <Box flexDirection="column">
          {grid.map((row, i) => (
            <Text key={i} wrap="truncate-end">
              {row}
            </Text>
          ))}
        </Box>
      ) : null}
    </>
  );
}
