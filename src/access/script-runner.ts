/**
 * Scripted use: `-c 'cmd; cmd'`, `-f file` and commands piped on stdin. Plain text out,
 * errors on stderr as `<source>:<line>: Error: <text>`, stop at the first failing line
 * (or, with keepGoing, carry on) and exit with that line's ExitCode.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ExitCode } from '../shell/session-api.js';
import { PlainRenderer, type TextStream } from '../ui/plain-renderer.js';
import { sanitize } from '../ui/format.js';
import type { UiSession } from '../ui/ui-session.js';

/** Longest script line accepted; longer ones are refused before they reach the shell. */
export const MAX_SCRIPT_LINE = 8192;

export interface ScriptOptions {
  /** Shown before the line number in errors: a file name, `-c` or `<stdin>`. */
  name: string;
  keepGoing?: boolean;
  stdout: TextStream;
  stderr: TextStream;
  /** Aborts the running command and ends the script (Ctrl-C, SIGTERM): exit code INTERRUPTED. */
  signal?: AbortSignal;
}

/** Exit code of a script stopped by a signal, as shells report SIGINT. */
export const INTERRUPTED = 130;

export interface ScriptOutcome {
  exitCode: number;
  /** Line number of the first failing line, if any. */
  failedLine?: number;
  /** Lines handed to the shell (blank lines and comments included). */
  executed: number;
}

/** Why a line cannot be a command, or undefined when it can. */
export function rejectLine(line: string): string | undefined {
  if (line.length > MAX_SCRIPT_LINE) return `line too long (${line.length} characters; at most ${MAX_SCRIPT_LINE})`;
  if (line.includes('\ufffd')) return 'not text: invalid UTF-8 (binary data?)';
  // eslint-disable-next-line no-control-regex
  const ctl = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.exec(line);
  if (ctl) return `control character ${sanitize(ctl[0])} at column ${ctl.index + 1} (binary data?)`;
  return undefined;
}

export async function runScript(
  session: UiSession,
  lines: Iterable<string> | AsyncIterable<string>,
  options: ScriptOptions,
): Promise<ScriptOutcome> {
  let lineNo = 0;
  const renderer = new PlainRenderer(options.stdout, options.stderr, { errorPrefix: () => `${options.name}:${lineNo}: ` });
  let first: { code: number; line: number } | undefined;
  let executed = 0;
  for await (const raw of lines as AsyncIterable<string>) {
    if (options.signal?.aborted) break;
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Blank lines and # comments go to the shell as well: they end a writeconfig block there.
    let code: number;
    let exit = false;
    const bad = rejectLine(line);
    renderer.reset();
    if (bad) {
      renderer.write({ kind: 'error', code: 'syntax', message: bad });
      code = ExitCode.syntax;
    } else {
      executed++;
      try {
        const r = await session.execute(line, { sink: renderer, ...(options.signal ? { signal: options.signal } : {}) });
        code = r.exitCode;
        exit = r.exit;
        if (code !== 0 && renderer.errors === 0) {
          renderer.write({ kind: 'error', code: 'runtime', message: `command failed with exit code ${code}` });
        }
      } catch (err) {
        renderer.write({ kind: 'error', code: 'runtime', message: (err as Error).message });
        code = ExitCode.runtime;
      }
    }
    if (options.signal?.aborted) {
      options.stderr.write(`${options.name}:${lineNo}: interrupted\n`);
      return { exitCode: INTERRUPTED, failedLine: lineNo, executed };
    }
    if (code !== 0 && !first) first = { code, line: lineNo };
    if (exit || (code !== 0 && !options.keepGoing)) break;
  }
  return first ? { exitCode: first.code, failedLine: first.line, executed } : { exitCode: 0, executed };
}

/**
 * Lines of a stream (stdin, a file), decoded as UTF-8; invalid bytes become U+FFFD and are
 * refused. The reader attaches at the first iteration: lines read before that would be lost.
 */
export async function* streamLines(input: Readable): AsyncIterable<string> {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  try {
    yield* rl;
  } finally {
    rl.close();
  }
}
