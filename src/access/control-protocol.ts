/**
 * The control socket protocol between `meshgate daemon` and local clients
 * (`meshgate -c/-f`, the console). One unix socket in the config dir, mode 0600, so
 * only the owner of the node's configuration connects; a connection is one shell
 * session of the local admin.
 *
 * Framing: one JSON object per line (UTF-8, `\n`-terminated), at most MAX_MESSAGE bytes.
 * Every request but `hello` carries an `id` chosen by the client; the answers carry it back.
 *
 *   client -> daemon                          daemon -> client
 *   hello   {version, user?}                  hello  {version, prompt, history}
 *   execute {id, line}                        block  {id, block}      (0..n, streamed)
 *                                             frame  {id, blocks}     (live views, 0..n)
 *                                             result {id, exitCode, exit, prompt, added}
 *                                             (added: the lines the command added to the session's history)
 *   abort   {id}        ends a running execute (the command sees its AbortSignal)
 *   complete {id, line, cursor}               completion {id, from, candidates}
 *   prompt  {id}                              prompt {id, prompt}
 *   history {id}                              history {id, lines}
 *   close   {}          the daemon closes the session and the connection
 *                                             error {id?, message}  (bad request, busy)
 *
 * Event blocks carry their time as an ISO string on the wire.
 */
import type { ExitCodeName, OutputBlock } from '../shell/session-api.js';
import { ExitCode } from '../shell/session-api.js';
import { MeshgateError } from '../errors.js';

export const PROTOCOL_VERSION = 1;
export const SOCKET_NAME = 'meshgate.sock';
/** Longest message either side accepts; longer lines end the connection. */
export const MAX_MESSAGE = 4 * 1024 * 1024;

export class ControlProtocolError extends MeshgateError {
  static override readonly name = 'ControlProtocolError';
}

export type ClientMessage =
  | { op: 'hello'; version: number; user?: string }
  | { op: 'execute'; id: number; line: string }
  | { op: 'abort'; id: number }
  | { op: 'complete'; id: number; line: string; cursor: number }
  | { op: 'prompt'; id: number }
  | { op: 'history'; id: number }
  | { op: 'close' };

export type ServerMessage =
  | { op: 'hello'; version: number; prompt: string; history: string[] }
  | { op: 'block'; id: number; block: OutputBlock }
  | { op: 'frame'; id: number; blocks: OutputBlock[] }
  | { op: 'result'; id: number; exitCode: number; exit: boolean; prompt: string; added: string[] }
  | { op: 'completion'; id: number; from: number; candidates: string[] }
  | { op: 'prompt'; id: number; prompt: string }
  | { op: 'history'; id: number; lines: string[] }
  | { op: 'error'; id?: number; message: string };

export function encodeMessage(msg: ClientMessage | ServerMessage): string {
  return JSON.stringify(msg) + '\n';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isCell = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function fail(what: string): never {
  throw new ControlProtocolError(`bad control message: ${what}`);
}

/** Checks a block from the wire and revives event times. */
export function decodeBlock(v: unknown): OutputBlock {
  if (!isObj(v)) fail('block is not an object');
  switch (v.kind) {
    case 'text':
      if (!isStr(v.text)) fail('text block without text');
      return { kind: 'text', text: v.text };
    case 'table': {
      if (!Array.isArray(v.columns) || !v.columns.every(isStr)) fail('table columns');
      if (!Array.isArray(v.rows) || !v.rows.every((r) => Array.isArray(r) && r.every(isCell))) fail('table rows');
      const b: OutputBlock = { kind: 'table', columns: v.columns as string[], rows: v.rows as (string | number)[][] };
      if (isStr(v.title)) b.title = v.title;
      return b;
    }
    case 'keyvalue': {
      if (!Array.isArray(v.pairs) || !v.pairs.every((p) => Array.isArray(p) && p.length === 2 && isStr(p[0]) && isCell(p[1])))
        fail('keyvalue pairs');
      const b: OutputBlock = { kind: 'keyvalue', pairs: v.pairs as [string, string | number][] };
      if (isStr(v.title)) b.title = v.title;
      return b;
    }
    case 'error': {
      if (!isStr(v.message) || !isStr(v.code) || !(v.code in ExitCode)) fail('error block');
      return { kind: 'error', code: v.code as ExitCodeName, message: v.message };
    }
    case 'event': {
      const time = new Date(v.time as string);
      if (!isStr(v.time) || Number.isNaN(time.getTime()) || !isStr(v.topic) || !isStr(v.text)) fail('event block');
      return { kind: 'event', time, topic: v.topic, text: v.text };
    }
    default:
      fail(`unknown block kind ${JSON.stringify(v.kind)}`);
  }
}

function parse(line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    fail('not JSON');
  }
  if (!isObj(v) || !isStr(v.op)) fail('no op');
  return v;
}

export function decodeClientMessage(line: string): ClientMessage {
  const v = parse(line);
  switch (v.op) {
    case 'hello':
      if (!isInt(v.version)) fail('hello without version');
      return isStr(v.user) ? { op: 'hello', version: v.version, user: v.user } : { op: 'hello', version: v.version };
    case 'execute':
      if (!isInt(v.id) || !isStr(v.line)) fail('execute needs id and line');
      return { op: 'execute', id: v.id, line: v.line };
    case 'abort':
    case 'prompt':
    case 'history':
      if (!isInt(v.id)) fail(`${v.op} needs an id`);
      return { op: v.op, id: v.id };
    case 'complete':
      if (!isInt(v.id) || !isStr(v.line) || !isInt(v.cursor)) fail('complete needs id, line and cursor');
      return { op: 'complete', id: v.id, line: v.line, cursor: v.cursor };
    case 'close':
      return { op: 'close' };
    default:
      fail(`unknown op ${JSON.stringify(v.op)}`);
  }
}

export function decodeServerMessage(line: string): ServerMessage {
  const v = parse(line);
  const id = v.id;
  switch (v.op) {
    case 'hello':
      if (!isInt(v.version) || !isStr(v.prompt) || !Array.isArray(v.history) || !v.history.every(isStr)) fail('hello');
      return { op: 'hello', version: v.version, prompt: v.prompt, history: v.history as string[] };
    case 'block':
      if (!isInt(id)) fail('block without id');
      return { op: 'block', id, block: decodeBlock(v.block) };
    case 'frame':
      if (!isInt(id) || !Array.isArray(v.blocks)) fail('frame');
      return { op: 'frame', id, blocks: v.blocks.map(decodeBlock) };
    case 'result':
      if (!isInt(id) || !isInt(v.exitCode) || typeof v.exit !== 'boolean' || !isStr(v.prompt)) fail('result');
      if (v.added !== undefined && !(Array.isArray(v.added) && v.added.every(isStr))) fail('result history');
      return { op: 'result', id, exitCode: v.exitCode, exit: v.exit, prompt: v.prompt, added: (v.added as string[] | undefined) ?? [] };
    case 'completion':
      if (!isInt(id) || !isInt(v.from) || !Array.isArray(v.candidates) || !v.candidates.every(isStr)) fail('completion');
      return { op: 'completion', id, from: v.from, candidates: v.candidates as string[] };
    case 'prompt':
      if (!isInt(id) || !isStr(v.prompt)) fail('prompt');
      return { op: 'prompt', id, prompt: v.prompt };
    case 'history':
      if (!isInt(id) || !Array.isArray(v.lines) || !v.lines.every(isStr)) fail('history');
      return { op: 'history', id, lines: v.lines as string[] };
    case 'error':
      if (!isStr(v.message)) fail('error without message');
      return isInt(id) ? { op: 'error', id, message: v.message } : { op: 'error', message: v.message };
    default:
      fail(`unknown op ${JSON.stringify(v.op)}`);
  }
}

/** Splits a byte stream into lines; throws when a line grows beyond MAX_MESSAGE. */
export class LineSplitter {
  private buf = '';
  constructor(private readonly max = MAX_MESSAGE) {}

  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    if (this.buf.length > this.max) throw new ControlProtocolError(`control message longer than ${this.max} bytes`);
    return lines.filter((l) => l.length > 0);
  }
}
