/**
 * The boundary between the command language (src/shell) and whatever draws it:
 * the Ink UI for interactive sessions, the plain renderer for scripts and pipes,
 * the SSH server and the control socket. Commands produce an output *model*;
 * renderers decide how it looks.
 */

/** Exit codes of scripted use (`meshgate -c/-f`, stdin), one per failure class. */
export const ExitCode = {
  ok: 0,
  runtime: 1,
  syntax: 2,
  ambiguous: 3,
  notFound: 4,
  invalidValue: 5,
  permission: 6,
  commitFailed: 7,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

export type Cell = string | number;

export type OutputBlock =
  | { kind: 'text'; text: string }
  /** An aligned table; `secret` columns are already masked by the producer. */
  | { kind: 'table'; title?: string; columns: string[]; rows: Cell[][] }
  /** `KEY: value` pairs, as in sysinfo and single-row status views. */
  | { kind: 'keyvalue'; title?: string; pairs: [string, Cell][] }
  /** A failure of the command; `code` selects the script exit code. */
  | { kind: 'error'; code: ExitCodeName; message: string }
  /** One timestamped event line (trace). */
  | { kind: 'event'; time: Date; topic: string; text: string };

/** Where a command writes. Live views call `frame` repeatedly; each frame replaces the last. */
export interface OutputSink {
  write(block: OutputBlock): void;
  /** A live view's new frame (`show ... --watch`, `repeat N cmd`); renderers redraw in place. */
  frame?(blocks: OutputBlock[]): void;
}

export interface ExecuteOptions {
  sink: OutputSink;
  /** Aborted by Ctrl-C: ends live views, traces and long-running commands. */
  signal?: AbortSignal;
}

export interface ExecuteResult {
  /** 0 on success, else the ExitCode of the first failing command on the line. */
  exitCode: number;
  /** The session asked to end (`exit`, `quit`). */
  exit: boolean;
}

export interface Completion {
  /** Index in the line where the completed word starts; candidates replace line[from, cursor). */
  from: number;
  /** Full replacement words, sorted. A single candidate may be inserted directly. */
  candidates: string[];
}

/** One logged-in user's shell: its current path, candidate config, history and traces. */
export interface ShellSession {
  /** `<name>:<path>` without the trailing `>`, e.g. `hub:/Setup/VPN`. */
  prompt(): string;
  /** Runs one input line (possibly several `;`-separated commands). */
  execute(line: string, options: ExecuteOptions): Promise<ExecuteResult>;
  /** Completion at the cursor: commands, path elements, enum values, table keys. */
  complete(line: string, cursor: number): Completion;
  /** Lines entered so far, oldest first. */
  history(): readonly string[];
  /** Ends the session: discards an uncommitted candidate, stops traces. */
  close(): void;
}
