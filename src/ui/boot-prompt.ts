/**
 * The instant prompt: Ink and React take a few hundred milliseconds to load, so the
 * console draws the prompt at once with plain escape codes and edits the line with the
 * same reducer and keymap as the Ink app. Keys that need the full UI (Enter, Tab, the
 * arrows through history, Ctrl-C/D) are queued from the first one on and replayed by the
 * app when it mounts, so nothing typed is lost or reordered.
 */
import { KEYMAP, decodeKeys, type EditorCommand, type KeyEvent } from './keymap.js';
import { emptyLineEditor, lineEditorReducer, type EditAction, type LineEditorState } from './line-editor.js';
import { sanitize } from './format.js';

export interface BootHandover {
  editor: LineEditorState;
  pending: KeyEvent[];
}

const LOCAL_EDITS: Partial<Record<EditorCommand, EditAction>> = {
  'cursor.left': 'move-left',
  'cursor.right': 'move-right',
  'cursor.home': 'move-home',
  'cursor.end': 'move-end',
  'cursor.wordLeft': 'move-word-left',
  'cursor.wordRight': 'move-word-right',
  'delete.backward': 'delete-backward',
  'delete.forward': 'delete-forward',
  'kill.toEnd': 'kill-to-end',
  'kill.toStart': 'kill-to-start',
  'kill.wordBackward': 'kill-word-backward',
  'kill.yank': 'yank',
};

/** Feeds keys to the editor until the first one that needs the full UI; that one and all later ones are queued. */
export function bootStep(state: BootHandover, ev: KeyEvent): BootHandover {
  if (state.pending.length > 0) return { ...state, pending: [...state.pending, ev] };
  if (ev.type === 'text') return { ...state, editor: lineEditorReducer(state.editor, { type: 'insert', text: ev.text }) };
  const command = KEYMAP[ev.name];
  if (command === 'none') return state;
  const edit = LOCAL_EDITS[command];
  if (edit) return { ...state, editor: lineEditorReducer(state.editor, { type: 'edit', action: edit }) };
  return { ...state, pending: [ev] };
}

export class BootPrompt implements BootSource {
  private state: BootHandover = { editor: emptyLineEditor, pending: [] };
  private hidden = false;
  private readonly onData = (d: Buffer | string) => {
    for (const ev of decodeKeys(typeof d === 'string' ? d : d.toString('utf8'))) this.state = bootStep(this.state, ev);
    if (!this.hidden) this.draw();
  };

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly stdout: NodeJS.WriteStream,
    private readonly prompt: string,
  ) {}

  start(): void {
    this.stdin.setRawMode?.(true);
    this.stdin.on('data', this.onData);
    this.draw();
  }

  private draw(): void {
    const { text, cursor } = this.state.editor;
    const color = process.env.NO_COLOR === undefined;
    const p = color ? `\x1b[1m\x1b[32m${sanitize(this.prompt)}\x1b[39m\x1b[22m> ` : `${sanitize(this.prompt)}> `;
    const back = text.length - cursor;
    this.stdout.write(`\r\x1b[2K${p}${sanitize(text)}${back > 0 ? `\x1b[${back}D` : ''}`);
  }

  /**
   * Clears the line for Ink's first frame; keys are still collected (not drawn) until
   * take(), so nothing typed between the two is lost.
   */
  hide(): void {
    if (this.hidden) return;
    this.hidden = true;
    this.stdout.write('\r\x1b[2K');
  }

  /**
   * Called by the app once its own input handling is attached: stops reading and hands
   * over the line and the queued keys. The stream is not paused, Ink reads from it now.
   */
  take(): BootHandover {
    this.stdin.off('data', this.onData);
    this.hide();
    return this.state;
  }

  /** The app never mounted: stop reading, leave the terminal as it was. */
  abandon(): void {
    this.stdin.off('data', this.onData);
    this.stdin.pause();
    this.hide();
  }
}

/** What the app takes from the boot prompt when it mounts. */
export interface BootSource {
  take(): BootHandover;
}
