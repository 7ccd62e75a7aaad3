/**
 * One user's shell over a Router: the current path, an optional candidate (transaction),
 * history, traces, and the commands. Output goes to the caller's OutputSink as blocks; nothing
 * here writes to a terminal. Every failure becomes an 'error' block with its exit code class;
 * nothing thrown escapes `execute`.
 */
import type { ActionNode, AnyNode, ParamNode, TableNode } from '../../menus/index.js';
import { describeType } from '../../menus/index.js';
import {
  checkValue,
  cloneConfig,
  configScript,
  draftOf,
  contextFor,
  deleteRows,
  diffConfigs,
  integrityProblems,
  KEEP,
  maskSecret,
  NotFoundError,
  resetPath,
  setParam,
  setRow,
  CommitRejectedError,
  type CellInput,
  type ConfigChange,
  type ConfigData,
  type Row,
} from '../config/index.js';
import { formatTime, RouterError, type Access, type Router } from '../router/index.js';
import { PRODUCT, VERSION } from '../version.js';
import { ExitCode, type Completion, type ExecuteOptions, type ExecuteResult, type OutputBlock, type OutputSink, type ShellSession, type Cell } from './session-api.js';
import { AmbiguousError, exitCodeOf, PermissionError, ShellSyntaxError } from './errors.js';
import { clip, joinPath, matchName, resolvePath } from './paths.js';
import { tokenize, type Token } from './tokenizer.js';
import { completeLine } from './complete.js';

export interface ShellSessionOptions {
  router: Router;
  user: string;
  access: Access;
}

/** Output collector handed to commands. */
export interface Out {
  write(b: OutputBlock): void;
  sink: OutputSink;
  signal: AbortSignal | undefined;
}

export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  help: string;
  usage: string;
  /** Refused for read-only users. */
  modifies: boolean;
  run(s: Session, args: Token[], out: Out): Promise<void | 'exit'> | void | 'exit';
}

interface Candidate {
  config: ConfigData;
  base: { seq: number; config: Readonly<ConfigData> };
  dirty: boolean;
}

const MAX_INGEST_LINES = 500_000;

function textBlock(text: string): OutputBlock {
  return { kind: 'text', text };
}

function words(args: Token[]): string[] {
  return args.map((a) => a.text);
}

function isKeep(t: Token): boolean {
  return !t.quoted && !t.column && t.text === '*';
}

/** A config value as listings show it: secrets masked. */
export function displayValue(type: ParamNode['type'], v: string): string {
  return type.kind === 'secret' ? maskSecret(v) : v;
}

export class Session implements ShellSession {
  readonly router: Router;
  readonly user: string;
  readonly access: Access;
  cwd = '/';
  candidate: Candidate | undefined;
  private readonly hist: string[] = [];
  readonly traces = new Map<string, () => void>();
  private sink: OutputSink | undefined;
  private ingest: { lines: string[]; empties: number } | undefined;
  private readonly id: number;
  private closed = false;
  private readonly lifetime = new AbortController();
  /** Ranges [start, end) of the current line to mask in history (secret values). */
  private redactions: [number, number][] = [];

  constructor(opts: ShellSessionOptions) {
    this.router = opts.router;
    this.user = opts.user;
    this.access = opts.access;
    this.id = this.router.attachSession(opts.user, opts.access, () => !!this.candidate?.dirty);
  }

  prompt(): string {
    if (this.ingest) return `${this.router.name}:writeconfig`;
    return `${this.router.name}:${this.cwd}`;
  }

  history(): readonly string[] {
    return this.hist;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.candidate = undefined;
    for (const off of this.traces.values()) off();
    this.traces.clear();
    this.lifetime.abort();
    this.router.detachSession(this.id);
  }

  complete(line: string, cursor: number): Completion {
    try {
      return completeLine(this, line, cursor);
    } catch {
      return { from: Math.max(0, Math.min(cursor, line.length)), candidates: [] };
    }
  }

  async execute(line: string, options: ExecuteOptions): Promise<ExecuteResult> {
    const sink = options.sink;
    this.sink = sink;
    try {
      if (this.closed) {
        sink.write({ kind: 'error', code: 'runtime', message: 'session closed' });
        return { exitCode: ExitCode.runtime, exit: true };
      }
      if (typeof line !== 'string') line = String(line);
      if (this.ingest) return await this.ingestLine(line, options);
      return await this.runLine(line, sink, options.signal, true);
    } catch (err) {
      // Last line of defence: nothing escapes execute.
      const code = exitCodeOf(err);
      sink.write({ kind: 'error', code, message: (err as Error)?.message ?? String(err) });
      return { exitCode: ExitCode[code], exit: false };
    }
  }

  /** Runs one line: `;`-separated commands, stopping at the first failure. */
  async runLine(line: string, sink: OutputSink, signal: AbortSignal | undefined, record: boolean): Promise<ExecuteResult> {
    this.redactions = [];
    let exit = false;
    let exitCode = 0;
    const joined = this.combine(signal);
    const out: Out = { write: (b) => sink.write(b), sink, signal: joined.signal };
    try {
      const { segments } = tokenize(line);
      for (const seg of segments) {
        if (seg.tokens.length === 0) continue;
        const r = await this.runSegment(seg.tokens, out);
        if (r === 'exit') {
          exit = true;
          break;
        }
      }
    } catch (err) {
      const code = exitCodeOf(err);
      sink.write({ kind: 'error', code, message: (err as Error).message });
      exitCode = ExitCode[code];
    } finally {
      joined.dispose();
      if (record && line.trim() !== '' && !line.trimStart().startsWith('#')) this.record(line);
    }
    return { exitCode, exit };
  }

  private record(line: string): void {
    let l = line;
    for (const [s, e] of [...this.redactions].sort((a, b) => b[0] - a[0])) l = `${l.slice(0, s)}*${l.slice(e)}`;
    this.hist.push(l.length > 1000 ? `${l.slice(0, 1000)}...` : l);
    if (this.hist.length > 1000) this.hist.shift();
  }

  /** Marks a token as holding a secret: masked in history. */
  redact(t: Token): void {
    this.redactions.push([t.start, t.end]);
  }

  /** The caller's signal joined with the session's lifetime; dispose() removes the listeners. */
  private combine(signal: AbortSignal | undefined): { signal: AbortSignal | undefined; dispose: () => void } {
    if (!signal) return { signal: undefined, dispose: () => undefined };
    const c = new AbortController();
    const abort = () => c.abort();
    if (signal.aborted || this.lifetime.signal.aborted) c.abort();
    signal.addEventListener('abort', abort, { once: true });
    this.lifetime.signal.addEventListener('abort', abort, { once: true });
    return {
      signal: c.signal,
      dispose: () => {
        signal.removeEventListener('abort', abort);
        this.lifetime.signal.removeEventListener('abort', abort);
      },
    };
  }

  async runSegment(tokens: Token[], out: Out): Promise<void | 'exit'> {
    const q = tokens.findIndex((t) => !t.quoted && t.text.endsWith('?'));
    if (q >= 0) {
      // A help request in the middle of a set/add line may hold a secret: keep it out of the history.
      if (q > 1 && /^(se|a)/i.test(tokens[0]!.text)) tokens.slice(2).forEach((t) => this.redact(t));
      for (const b of this.contextHelp(tokens.slice(0, q), tokens[q]!.text.slice(0, -1))) out.write(b);
      return;
    }
    const cmd = resolveCommand(tokens[0]!.text);
    if (cmd.modifies && this.access !== 'admin') throw new PermissionError(`permission denied: ${cmd.name} changes the configuration and ${this.user} is read-only`);
    return cmd.run(this, tokens.slice(1), out);
  }

  // ---- writeconfig ------------------------------------------------------------------------

  startIngest(): void {
    this.ingest = { lines: [], empties: 0 };
  }

  private async ingestLine(line: string, options: ExecuteOptions): Promise<ExecuteResult> {
    const ing = this.ingest!;
    if (line.trim() === '') {
      ing.empties++;
      if (ing.empties < 2) return { exitCode: 0, exit: false };
      this.ingest = undefined;
      return this.runScript(ing.lines, options.sink, options.signal);
    }
    ing.empties = 0;
    if (ing.lines.length >= MAX_INGEST_LINES) {
      this.ingest = undefined;
      options.sink.write({ kind: 'error', code: 'runtime', message: `writeconfig: more than ${MAX_INGEST_LINES} lines; nothing applied` });
      return { exitCode: ExitCode.runtime, exit: false };
    }
    ing.lines.push(line);
    return { exitCode: 0, exit: false };
  }

  /** Runs script lines in order; at the first failure stops, discards a transaction the script opened, and reports the line. */
  async runScript(lines: readonly string[], sink: OutputSink, signal: AbortSignal | undefined): Promise<ExecuteResult> {
    const cwd0 = this.cwd;
    const hadCandidate = !!this.candidate;
    try {
      for (let i = 0; i < lines.length; i++) {
        const r = await this.runLine(lines[i]!, sink, signal, false);
        if (r.exitCode !== 0) {
          let note = '';
          if (!hadCandidate && this.candidate) {
            this.candidate = undefined;
            note = '; its transaction was discarded, nothing applied';
          }
          const code = (Object.keys(ExitCode) as (keyof typeof ExitCode)[]).find((k) => ExitCode[k] === r.exitCode) ?? 'runtime';
          sink.write({ kind: 'error', code, message: `writeconfig: stopped at line ${i + 1}${note}` });
          return { exitCode: r.exitCode, exit: false };
        }
        if (r.exit) break;
      }
      return { exitCode: 0, exit: false };
    } finally {
      this.cwd = cwd0;
    }
  }

  // ---- helpers used by commands --------------------------------------------------------------

  node(path: string): AnyNode {
    const n = this.router.schema.node(path);
    if (!n) throw new NotFoundError(`no ${path}`);
    return n;
  }

  /** The config being edited: the candidate, or the running config. */
  viewConfig(): Readonly<ConfigData> {
    return this.candidate?.config ?? this.router.running();
  }

  requireAdmin(what: string): void {
    if (this.access !== 'admin') throw new PermissionError(`permission denied: ${what} needs admin access (${this.user} is read-only)`);
  }

  /** Applies an edit: to the candidate, or (without one) as its own immediate commit. */
  async edit(fn: (draft: ConfigData) => void): Promise<void> {
    this.requireAdmin('changing the configuration');
    if (this.candidate) {
      // Every edit function validates before it mutates: a refused edit leaves the candidate as it was.
      fn(this.candidate.config);
      this.candidate.dirty = true;
      return;
    }
    const base = this.router.running();
    const seq = this.router.runningSeq();
    const draft = draftOf(base);
    fn(draft);
    await this.router.commit(draft, { user: this.user, base: { seq, config: base } });
  }

  /** For set/add/del: the table or parameter the arguments address. */
  editTarget(args: Token[], verb: string): { path: string; node: ParamNode | TableNode; rest: Token[] } {
    const cwdNode = this.node(this.cwd);
    const first = args[0];
    const looksLikePath = first && !first.column && (first.text.startsWith('/') || first.text === '..' || first.text.startsWith('../'));
    if (cwdNode.kind === 'table' && !looksLikePath) return { path: this.cwd, node: cwdNode, rest: args };
    if (!first || first.column) throw new ShellSyntaxError(`${verb}: which parameter or table? (${verb} ? lists them)`);
    const r = resolvePath(this.router.schema, this.cwd, first.text);
    if ((r.node.kind === 'param' || r.node.kind === 'table') && this.router.schema.isConfigPath(r.path)) return { path: r.path, node: r.node, rest: args.slice(1) };
    throw new NotFoundError(`${r.path} is ${r.node.kind === 'menu' ? 'a menu' : `a ${r.node.kind}`}, not a parameter or table of /Setup`);
  }

  /** Parses `KEY... [values... | {Col} value ...]` of a row edit. */
  rowArgs(t: TableNode, path: string, rest: Token[], verb: string): { keys: string[]; values: Map<string, CellInput> } {
    try {
      return this.parseRowArgs(t, path, rest, verb);
    } catch (err) {
      // A malformed line on a table with secrets: mask every value in the history, to be safe.
      if (t.columns.some((c) => c.type.kind === 'secret')) rest.slice(t.keys.length).forEach((x) => this.redact(x));
      throw err;
    }
  }

  private parseRowArgs(t: TableNode, path: string, rest: Token[], verb: string): { keys: string[]; values: Map<string, CellInput> } {
    const k = t.keys.length;
    if (rest.length < k || rest.slice(0, k).some((x) => x.column)) throw new ShellSyntaxError(`${verb}: ${path} rows need the key ${t.keys.join(' ')} first`);
    const keys = rest.slice(0, k).map((x) => x.text);
    const nonKey = t.columns.filter((c) => !t.keys.includes(c.name));
    const values = new Map<string, CellInput>();
    let pos = 0;
    let named = false;
    for (let i = k; i < rest.length; i++) {
      const tok = rest[i]!;
      let col;
      let val: Token;
      if (tok.column) {
        col = matchName(t.columns, tok.text, 'column', path);
        const v = rest[i + 1];
        if (!v || v.column) throw new ShellSyntaxError(`${verb}: {${col.name}} needs a value`);
        val = v;
        i++;
        named = true;
      } else {
        if (named) throw new ShellSyntaxError(`${verb}: positional value '${clip(tok.text)}' after {Column} pairs`);
        col = nonKey[pos++];
        if (!col) throw new ShellSyntaxError(`${verb}: too many values: ${path} has ${nonKey.length} column(s) besides the key (${nonKey.map((c) => c.name).join(' ')})`);
        val = tok;
      }
      if (col.type.kind === 'secret') this.redact(val);
      values.set(col.name, isKeep(val) ? KEEP : val.text);
    }
    return { keys, values };
  }

  /** The blocks `ls` prints for one node. */
  listNode(path: string, node: AnyNode, all: boolean): OutputBlock[] {
    const cfg = this.viewConfig();
    switch (node.kind) {
      case 'menu': {
        const rows: Cell[][] = node.children.map((c) => {
          const p = joinPath(path, c.name);
          let value = '';
          let type = c.kind as string;
          if (c.kind === 'param') {
            value = displayValue(c.type, cfg.values[p] ?? c.default);
            type = describeType(c.type);
          } else if (c.kind === 'table') value = `${(cfg.tables[p] ?? []).length} row(s)`;
          else if (c.kind === 'action') value = '(do)';
          const name = c.kind === 'menu' || c.kind === 'table' || c.kind === 'status' ? `${c.name}/` : c.name;
          return all ? [name, value, type, c.help] : [name, value];
        });
        return [{ kind: 'table', title: path, columns: all ? ['Name', 'Value', 'Type', 'Help'] : ['Name', 'Value'], rows }];
      }
      case 'table': {
        const rows = (cfg.tables[path] ?? []).map((r: Row) => node.columns.map((c) => displayValue(c.type, r[c.name] ?? '')) as Cell[]);
        return [{ kind: 'table', title: path, columns: node.columns.map((c) => c.name), rows }];
      }
      case 'status':
        return [this.router.statusBlock(node, path)];
      case 'param':
        return [{ kind: 'table', title: path, columns: ['Name', 'Value'], rows: [[node.name, displayValue(node.type, cfg.values[path] ?? node.default)]] }];
      case 'action':
        return [textBlock(`${path}: ${node.help} (do ${path}${node.args.map((a) => (a.optional ? ` [${a.name}]` : ` ${a.name}`)).join('')})`)];
    }
  }

  listRecursive(path: string, node: AnyNode, out: OutputBlock[]): void {
    if (node.kind !== 'menu') {
      if (node.kind !== 'action') out.push(...this.listNode(path, node, false));
      return;
    }
    const cfg = this.viewConfig();
    const params = node.children.filter((c): c is ParamNode => c.kind === 'param');
    if (params.length)
      out.push({
        kind: 'table',
        title: path,
        columns: ['Name', 'Value'],
        rows: params.map((c) => [c.name, displayValue(c.type, cfg.values[joinPath(path, c.name)] ?? c.default)]),
      });
    for (const c of node.children) if (c.kind !== 'param') this.listRecursive(joinPath(path, c.name), c, out);
  }

  /** `compare` lines for a list of changes (secrets masked). */
  changeLines(changes: readonly ConfigChange[]): string[] {
    const lines: string[] = [];
    let last = '';
    const header = (p: string) => {
      if (p !== last) lines.push(`[edit ${p}]`);
      last = p;
    };
    const schema = this.router.schema;
    const q = (v: string) => (v === '' || /\s/.test(v) ? JSON.stringify(v) : v);
    for (const ch of changes) {
      if (ch.kind === 'param') {
        const dir = ch.path.slice(0, ch.path.lastIndexOf('/'));
        const name = ch.path.slice(dir.length + 1);
        header(dir);
        const show = (v: string) => (ch.secret ? maskSecret(v) || '""' : q(v));
        lines.push(`- ${name} ${show(ch.old)}`, `+ ${name} ${show(ch.new)}`);
        continue;
      }
      const t = schema.table(ch.table);
      header(ch.table);
      const fmt = (r: Row, cols: readonly string[]) =>
        cols.map((c) => `{${c}} ${t.columns.find((x) => x.name === c)?.type.kind === 'secret' ? maskSecret(r[c] ?? '') || '""' : q(r[c] ?? '')}`).join(' ');
      const nonKey = t.columns.map((c) => c.name).filter((c) => !t.keys.includes(c));
      if (ch.kind === 'row-added') lines.push(`+ ${ch.key.join(' ')} ${fmt(ch.row, nonKey)}`);
      else if (ch.kind === 'row-removed') lines.push(`- ${ch.key.join(' ')} ${fmt(ch.row, nonKey)}`);
      else lines.push(`- ${ch.key.join(' ')} ${fmt(ch.old, ch.columns)}`, `+ ${ch.key.join(' ')} ${fmt(ch.new, ch.columns)}`);
    }
    return lines;
  }

  /** Repeats `produce` every `intervalMs` as frames until the signal fires (once without a signal). */
  async live(intervalMs: number, produce: () => Promise<OutputBlock[]>, out: Out): Promise<void> {
    const emit = (blocks: OutputBlock[]) => {
      if (out.sink.frame) out.sink.frame(blocks);
      else blocks.forEach((b) => out.write(b));
    };
    if (!out.signal) {
      emit(await produce());
      return;
    }
    const signal = out.signal;
    while (!signal.aborted) {
      emit(await produce());
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const timer = this.router.clock.setTimer(intervalMs, () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
        const onAbort = () => {
          timer.cancel();
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Collects the blocks a command segment writes (for repeat). */
  async collect(tokens: Token[], out: Out): Promise<OutputBlock[]> {
    const blocks: OutputBlock[] = [];
    const inner: Out = { write: (b) => blocks.push(b), sink: { write: (b) => blocks.push(b) }, signal: undefined };
    await this.runSegment(tokens, inner);
    void out;
    return blocks;
  }

  // ---- `?` help --------------------------------------------------------------------------------

  contextHelp(before: Token[], partial: string): OutputBlock[] {
    if (before.length === 0) {
      const rows = COMMANDS.filter((c) => [c.name, ...(c.aliases ?? [])].some((n) => n.startsWith(partial.toLowerCase()))).map((c) => [
        c.name,
        c.usage,
        c.help,
      ]);
      return [{ kind: 'table', columns: ['Command', 'Usage', 'Description'], rows }];
    }
    const cmd = resolveCommand(before[0]!.text);
    const args = before.slice(1);
    const schema = this.router.schema;
    const listChildren = (dirInput: string, namePartial: string): OutputBlock[] => {
      const dir = resolvePath(schema, this.cwd, dirInput || '.');
      if (dir.node.kind !== 'menu') return this.nodeHelp(dir.path, dir.node);
      const matching = dir.node.children.filter((c) => c.name.toLowerCase().startsWith(namePartial.toLowerCase()));
      const only = matching.length === 1 ? matching[0]! : undefined;
      if (namePartial !== '' && only && only.kind !== 'menu') return this.nodeHelp(joinPath(dir.path, only.name), only);
      const rows = matching
        .map((c) => [c.name, c.kind === 'param' ? describeType(c.type) : c.kind, c.help]);
      return [{ kind: 'table', title: dir.path, columns: ['Name', 'Type', 'Description'], rows }];
    };
    const pathHelp = (input: string): OutputBlock[] => {
      const i = input.lastIndexOf('/');
      const dirPart = i >= 0 ? input.slice(0, i) || '/' : '';
      const namePart = i >= 0 ? input.slice(i + 1) : input;
      if (namePart === '' && input !== '') {
        const r = resolvePath(schema, this.cwd, input);
        return r.node.kind === 'menu' ? listChildren(r.path, '') : this.nodeHelp(r.path, r.node);
      }
      return listChildren(dirPart, namePart);
    };
    switch (cmd.name) {
      case 'cd':
      case 'ls':
      case 'default':
      case 'do':
        if (args.length === 0) return [textBlock(`${cmd.usage}\n${cmd.help}`), ...pathHelp(partial)];
        if (cmd.name === 'do') {
          const r = this.resolveAction(args[0]!.text);
          return this.nodeHelp(r.path, r.node);
        }
        return pathHelp(args[args.length - 1]!.text);
      case 'set':
      case 'add':
      case 'del': {
        const cwdNode = this.node(this.cwd);
        if (cwdNode.kind !== 'table' && args.length === 0) return [textBlock(`${cmd.usage}\n${cmd.help}`), ...pathHelp(partial)];
        const target = this.editTarget(args.length ? args : [{ text: partial, start: 0, end: 0, quoted: false, column: false }], cmd.name);
        if (target.node.kind === 'param') return this.nodeHelp(target.path, target.node);
        const last = args[args.length - 1];
        if (last?.column) {
          const col = matchName(target.node.columns, last.text, 'column', target.path);
          return [textBlock(columnHelpText(target.path, col))];
        }
        return this.nodeHelp(target.path, target.node);
      }
      case 'show':
        if (args.length === 0) return [{ kind: 'table', columns: ['Topic', 'Description'], rows: this.router.showTopics().filter((t) => t.name.startsWith(partial.toLowerCase())).map((t) => [t.name, t.help]) }];
        return [textBlock(`${this.router.showProvider(args[0]!.text)?.help ?? 'unknown topic'}\nOptions: --watch [seconds]`)];
      case 'trace':
        return [textBlock('trace               shows the topics and their state\ntrace + TOPIC...    on\ntrace - TOPIC...    off\ntrace # TOPIC...    toggle\n(TOPIC * = all)'), { kind: 'table', columns: ['Topic', 'Description'], rows: this.router.traceTopicList().map((t) => [t.name, t.help]) }];
      default:
        return [textBlock(`${cmd.usage}\n${cmd.help}`)];
    }
  }

  nodeHelp(path: string, node: AnyNode): OutputBlock[] {
    const cfg = this.viewConfig();
    switch (node.kind) {
      case 'param':
        return [
          textBlock(
            [
              `${path}: ${node.help}`,
              `Possible values: ${describeType(node.type)}`,
              `Default: ${node.type.kind === 'secret' ? '(none)' : node.default === '' ? '(empty)' : node.default}`,
              `Current: ${displayValue(node.type, cfg.values[path] ?? node.default) || '(empty)'}`,
            ].join('\n'),
          ),
        ];
      case 'table':
        return [
          textBlock(`${path}: ${node.help}\nKey: ${node.keys.join(' ')}; set KEY... VALUE... (positional, * keeps) or set KEY... {Column} VALUE ...`),
          {
            kind: 'table',
            columns: ['Column', 'Possible values', 'Default', 'Description'],
            rows: node.columns.map((c) => [c.name + (node.keys.includes(c.name) ? ' (key)' : ''), describeType(c.type), c.type.kind === 'secret' ? '' : c.default, c.help]),
          },
        ];
      case 'action':
        return [
          textBlock(`${path}: ${node.help}`),
          { kind: 'table', columns: ['Argument', 'Possible values', 'Description'], rows: node.args.map((a) => [a.optional ? `[${a.name}]` : a.name, describeType(a.type), a.help]) },
        ];
      case 'status':
        return [textBlock(`${path}: ${node.help}`), { kind: 'table', columns: ['Column', 'Description'], rows: node.columns.map((c) => [c.name, c.help]) }];
      case 'menu':
        return [textBlock(`${path}: ${node.help}`)];
    }
  }

  resolveAction(input: string): { path: string; node: ActionNode } {
    const schema = this.router.schema;
    let r;
    try {
      r = resolvePath(schema, this.cwd, input);
    } catch (err) {
      if (input.startsWith('/') || !(err instanceof NotFoundError)) throw err;
      r = resolvePath(schema, '/Other', input);
    }
    if (r.node.kind !== 'action') throw new NotFoundError(`${r.path} is not an action (actions are under /Other)`);
    return { path: r.path, node: r.node };
  }

  traceOn(topic: string): void {
    if (this.traces.has(topic)) return;
    this.traces.set(
      topic,
      this.router.subscribeTrace(topic, (e) => this.sink?.write({ kind: 'event', time: e.time, topic: e.topic, text: e.text })),
    );
  }

  traceOff(topic: string): void {
    this.traces.get(topic)?.();
    this.traces.delete(topic);
  }
}

function columnHelpText(path: string, col: { name: string; help: string; type: ParamNode['type']; default: string }): string {
  return [`${path} {${col.name}}: ${col.help}`, `Possible values: ${describeType(col.type)}`, `Default: ${col.type.kind === 'secret' ? '(none)' : col.default === '' ? '(empty)' : col.default}`].join('\n');
}

// ---- the commands ---------------------------------------------------------------------------

function parseIntArg(t: Token | undefined, what: string, min: number, max: number): number {
  if (!t || !/^[0-9]{1,9}$/.test(t.text)) throw new ShellSyntaxError(`${what}: expected a number ${min}..${max}${t ? `, got '${clip(t.text)}'` : ''}`);
  const n = Number(t.text);
  if (n < min || n > max) throw new ShellSyntaxError(`${what}: ${n} is out of range ${min}..${max}`);
  return n;
}

function noArgs(name: string, args: Token[]): void {
  if (args.length) throw new ShellSyntaxError(`${name}: unexpected argument '${clip(args[0]!.text)}'`);
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'ls',
    aliases: ['dir', 'list'],
    help: 'List a menu, table or status view (-r recursive, -a with types and help)',
    usage: 'ls [-r] [-a] [PATH]',
    modifies: false,
    run(s, args, out) {
      let recursive = false;
      let all = false;
      const rest: Token[] = [];
      for (const a of args) {
        if (!a.quoted && /^-[ra]+$/.test(a.text)) {
          if (a.text.includes('r')) recursive = true;
          if (a.text.includes('a')) all = true;
        } else rest.push(a);
      }
      if (rest.length > 1) throw new ShellSyntaxError(`ls: one path at most`);
      const r = rest[0] ? resolvePath(s.router.schema, s.cwd, rest[0].text) : { path: s.cwd, node: s.node(s.cwd) };
      if (recursive) {
        const blocks: OutputBlock[] = [];
        s.listRecursive(r.path, r.node, blocks);
        blocks.forEach((b) => out.write(b));
      } else s.listNode(r.path, r.node, all).forEach((b) => out.write(b));
    },
  },
  {
    name: 'cd',
    help: 'Change the current menu (absolute, relative, ..)',
    usage: 'cd [PATH]',
    modifies: false,
    run(s, args) {
      if (args.length > 1) throw new ShellSyntaxError('cd: one path at most');
      const r = resolvePath(s.router.schema, s.cwd, args[0]?.text ?? '/');
      if (r.node.kind === 'param' || r.node.kind === 'action') throw new NotFoundError(`${r.path} is a ${r.node.kind === 'param' ? 'parameter' : 'action'}, not a menu`);
      s.cwd = r.path;
    },
  },
  {
    name: 'set',
    help: 'Set a parameter, or a table row (creating it when the key is new)',
    usage: 'set PARAM VALUE | set [TABLE] KEY... [VALUE|*]... | set [TABLE] KEY... {Column} VALUE ...',
    modifies: true,
    async run(s, args) {
      const target = s.editTarget(args, 'set');
      if (target.node.kind === 'param') {
        const node = target.node;
        if (node.type.kind === 'secret') target.rest.forEach((t) => s.redact(t));
        if (target.rest.length !== 1) throw new ShellSyntaxError(target.rest.length ? `set: one value for ${target.path} (quote values with blanks)` : `set: ${target.path} needs a value (set ${node.name} ? shows the possible values)`);
        const v = target.rest[0]!;
        if (isKeep(v)) return;
        await s.edit((d) => void setParam(s.router.schema, d, target.path, v.text));
        return;
      }
      const t = target.node;
      const { keys, values } = s.rowArgs(t, target.path, target.rest, 'set');
      await s.edit((d) => void setRow(s.router.schema, d, target.path, keys, values, 'upsert'));
    },
  },
  {
    name: 'add',
    help: 'Add a table row (refused when the key exists)',
    usage: 'add [TABLE] KEY... [VALUE|*]... | add [TABLE] KEY... {Column} VALUE ...',
    modifies: true,
    async run(s, args) {
      const target = s.editTarget(args, 'add');
      if (target.node.kind !== 'table') throw new ShellSyntaxError(`add: ${target.path} is a parameter; use set`);
      const { keys, values } = s.rowArgs(target.node, target.path, target.rest, 'add');
      await s.edit((d) => void setRow(s.router.schema, d, target.path, keys, values, 'create'));
    },
  },
  {
    name: 'del',
    aliases: ['delete', 'rm'],
    help: 'Delete a table row by its key, or all rows with *',
    usage: 'del [TABLE] KEY... | del [TABLE] *',
    modifies: true,
    async run(s, args) {
      const target = s.editTarget(args, 'del');
      if (target.node.kind !== 'table') throw new ShellSyntaxError(`del: ${target.path} is a parameter; use default to reset it`);
      const t = target.node;
      const rest = target.rest;
      if (rest.length === 1 && isKeep(rest[0]!)) {
        await s.edit((d) => void deleteRows(s.router.schema, d, target.path, '*'));
        return;
      }
      if (rest.length !== t.keys.length || rest.some((x) => x.column)) throw new ShellSyntaxError(`del: ${target.path} rows are addressed by ${t.keys.join(' ')} (or * for all)`);
      await s.edit((d) => void deleteRows(s.router.schema, d, target.path, words(rest)));
    },
  },
  {
    name: 'default',
    help: 'Reset a parameter or table to its default; -r resets everything under a menu',
    usage: 'default [-r] [PATH]',
    modifies: true,
    async run(s, args) {
      const recursive = args.some((a) => !a.quoted && a.text === '-r');
      const rest = args.filter((a) => a.quoted || a.text !== '-r');
      if (rest.length > 1) throw new ShellSyntaxError('default: one path at most');
      const r = rest[0] ? resolvePath(s.router.schema, s.cwd, rest[0].text) : { path: s.cwd, node: s.node(s.cwd) };
      if (!s.router.schema.isConfigPath(r.path) && r.path !== '/Setup') throw new NotFoundError(`${r.path} is not part of the configuration (/Setup)`);
      if (r.node.kind === 'menu' && !recursive) throw new ShellSyntaxError(`default: ${r.path} is a menu; default -r resets everything under it`);
      await s.edit((d) => void resetPath(s.router.schema, d, r.path));
    },
  },
  {
    name: 'show',
    help: 'Show a topic registered by a module (show alone lists them); --watch [s] updates live',
    usage: 'show [TOPIC [ARGS...]] [--watch [SECONDS]]',
    modifies: false,
    async run(s, args, out) {
      if (args.length === 0) {
        out.write({ kind: 'table', columns: ['Topic', 'Description'], rows: s.router.showTopics().map((t) => [t.name, t.help]) });
        return;
      }
      const topic = matchName(s.router.showTopics(), args[0]!.text, 'show topic');
      const provider = s.router.showProvider(topic.name)!;
      let rest = words(args.slice(1));
      const w = rest.indexOf('--watch');
      let watchMs: number | undefined;
      if (w >= 0) {
        const next = rest[w + 1];
        let sec = Number(s.router.get('/Setup/Config/CLI/Watch-Interval') ?? '2') || 2;
        if (next !== undefined && /^[0-9]{1,5}$/.test(next)) {
          sec = Math.max(1, Number(next));
          rest = [...rest.slice(0, w), ...rest.slice(w + 2)];
        } else rest = [...rest.slice(0, w), ...rest.slice(w + 1)];
        watchMs = sec * 1000;
      }
      const ctx = {
        user: s.user,
        access: s.access,
        ...(out.signal ? { signal: out.signal } : {}),
        resolvePath: (input: string) => resolvePath(s.router.schema, s.cwd, input).path,
      };
      if (watchMs === undefined) {
        (await provider.run(rest, ctx)).forEach((b) => out.write(b));
        return;
      }
      await s.live(watchMs, async () => provider.run(rest, ctx), out);
    },
  },
  {
    name: 'do',
    help: 'Run an action under /Other',
    usage: 'do ACTION [ARGS...]',
    modifies: false,
    async run(s, args, out) {
      if (args.length === 0) throw new ShellSyntaxError('do: which action? (do ? lists /Other)');
      const { path, node } = s.resolveAction(args[0]!.text);
      if (!node.readOnly) s.requireAdmin(`do ${path}`);
      const given = args.slice(1);
      if (given.length > node.args.length) throw new ShellSyntaxError(`do ${path}: too many arguments (${node.args.map((a) => a.name).join(' ') || 'none'})`);
      const ctx = contextFor(s.router.schema, s.router.running() as ConfigData);
      const values: Record<string, string> = {};
      node.args.forEach((a, i) => {
        const t = given[i];
        if (!t) {
          if (!a.optional) throw new ShellSyntaxError(`do ${path}: missing argument ${a.name} (${describeType(a.type)})`);
          return;
        }
        // A secret argument (a site's PSK) never reaches the history.
        if (a.type.kind === 'secret') s.redact(t);
        values[a.name] = checkValue(`${path} ${a.name}`, a.type, t.text, ctx);
      });
      const handler = s.router.actionHandler(node.action);
      if (!handler) throw new RouterError(`${path} is not available: no module provides action ${node.action} (yet)`);
      const blocks = await handler(values, { user: s.user, access: s.access, ...(out.signal ? { signal: out.signal } : {}) });
      (blocks ?? []).forEach((b) => out.write(b));
    },
  },
  {
    name: 'trace',
    help: 'Live event lines of topics: + on, - off, # toggle; alone: the topics and their state',
    usage: 'trace [+|-|# TOPIC...]',
    modifies: false,
    run(s, args, out) {
      const topics = s.router.traceTopicList();
      if (args.length === 0) {
        out.write({ kind: 'table', columns: ['Topic', 'State', 'Description'], rows: topics.map((t) => [t.name, s.traces.has(t.name) ? 'on' : 'off', t.help]) });
        return;
      }
      const op = args[0]!.text;
      if (!['+', '-', '#'].includes(op)) throw new ShellSyntaxError(`trace: expected + - or # before the topics, got '${clip(op)}'`);
      if (args.length < 2) throw new ShellSyntaxError(`trace ${op}: which topic? (trace lists them)`);
      const names = args.slice(1).flatMap((a) => (isKeep(a) ? topics.map((t) => t.name) : [matchName(topics, a.text, 'trace topic').name]));
      const states: Cell[][] = [];
      for (const n of new Set(names)) {
        const on = op === '+' || (op === '#' && !s.traces.has(n));
        if (on) s.traceOn(n);
        else s.traceOff(n);
        states.push([n, on ? 'on' : 'off']);
      }
      out.write({ kind: 'table', columns: ['Topic', 'State'], rows: states });
    },
  },
  {
    name: 'readconfig',
    aliases: ['readscript'],
    help: 'Print the configuration as a replayable command script (--with-secrets: admin only)',
    usage: 'readconfig [--with-secrets]',
    modifies: false,
    run(s, args, out) {
      let withSecrets = false;
      for (const a of args) {
        if (a.text === '--with-secrets') withSecrets = true;
        else throw new ShellSyntaxError(`readconfig: unknown option '${clip(a.text)}'`);
      }
      if (withSecrets) s.requireAdmin('readconfig --with-secrets');
      const header = [`# ${PRODUCT} ${VERSION} configuration of ${s.router.name}, commit ${s.router.runningSeq()}`];
      out.write(textBlock(configScript(s.router.schema, s.router.running(), { withSecrets, header, transaction: true }).join('\n')));
    },
  },
  {
    name: 'writeconfig',
    help: 'Read a command script (e.g. from readconfig) up to two empty lines, then run it',
    usage: 'writeconfig',
    modifies: true,
    run(s, args, out) {
      noArgs('writeconfig', args);
      s.startIngest();
      out.write(textBlock('Enter the command script; end it with two empty lines.'));
    },
  },
  {
    name: 'history',
    help: 'The commands entered in this session',
    usage: 'history',
    modifies: false,
    run(s, args, out) {
      noArgs('history', args);
      out.write(textBlock(s.history().map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join('\n')));
    },
  },
  {
    name: 'ping',
    help: 'Send ICMP echo requests from this node through the engine (as LCOS ping)',
    usage: 'ping ADDRESS [-c COUNT] [-s SIZE] [-a SOURCE] [-i INTERVAL-MS]',
    modifies: false,
    async run(s, args, out) {
      const tool = s.router.tool('ping');
      if (!tool) throw new ShellSyntaxError('ping: no tunnel engine is attached to this router');
      await tool.run(
        args.map((a) => a.text),
        { user: s.user, access: s.access, ...(out.signal ? { signal: out.signal } : {}) },
        (b) => out.write(b),
      );
    },
  },
  {
    name: 'sysinfo',
    help: 'Device, version, name, uptime and time',
    usage: 'sysinfo',
    modifies: false,
    run(s, args, out) {
      noArgs('sysinfo', args);
      out.write({ kind: 'keyvalue', pairs: s.router.sysinfo() });
    },
  },
  {
    name: 'exit',
    aliases: ['quit', 'logout'],
    help: 'Log out (refused with uncommitted changes unless: exit discard)',
    usage: 'exit [discard]',
    modifies: false,
    run(s, args) {
      const discard = args.length === 1 && 'discard'.startsWith(args[0]!.text.toLowerCase()) && args[0]!.text.length > 0;
      if (args.length && !discard) throw new ShellSyntaxError(`exit: unexpected argument '${clip(args[0]!.text)}'`);
      if (s.candidate?.dirty && !discard) throw new RouterError('uncommitted changes in the candidate: commit, discard, or exit discard');
      s.candidate = undefined;
      return 'exit';
    },
  },
  {
    name: 'begin',
    aliases: ['beginscript', 'configure'],
    help: 'Open a candidate: edits collect until commit (or discard)',
    usage: 'begin',
    modifies: true,
    run(s, args, out) {
      noArgs('begin', args);
      if (s.candidate) {
        out.write(textBlock('a candidate is already open'));
        return;
      }
      const running = s.router.running();
      s.candidate = { config: cloneConfig(running as ConfigData), base: { seq: s.router.runningSeq(), config: running }, dirty: false };
      out.write(textBlock('candidate opened: edits apply at commit'));
    },
  },
  {
    name: 'compare',
    help: 'Differences: the candidate against the running config, or (with N) revision N against it',
    usage: 'compare [N]',
    modifies: false,
    run(s, args, out) {
      if (args.length > 1) throw new ShellSyntaxError('compare: one revision number at most');
      let changes: ConfigChange[];
      if (args[0]) {
        const n = parseIntArg(args[0], 'compare', 0, 49);
        changes = diffConfigs(s.router.schema, s.router.revision(n).config, s.router.running() as ConfigData);
      } else {
        if (!s.candidate) {
          out.write(textBlock('no candidate open (begin opens one); compare N compares a revision'));
          return;
        }
        changes = diffConfigs(s.router.schema, s.candidate.base.config as ConfigData, s.candidate.config);
      }
      out.write(textBlock(changes.length ? s.changeLines(changes).join('\n') : 'no differences'));
    },
  },
  {
    name: 'commit',
    help: 'Apply the candidate all-or-nothing; confirmed N: rolled back after N minutes unless confirmed',
    usage: 'commit [check] [confirmed [MINUTES]] [comment TEXT]',
    modifies: true,
    async run(s, args, out) {
      let check = false;
      let confirmMinutes: number | undefined;
      let comment: string | undefined;
      for (let i = 0; i < args.length; i++) {
        const kw = matchName([{ name: 'check' }, { name: 'confirmed' }, { name: 'comment' }], args[i]!.text, 'commit option').name;
        if (kw === 'check') check = true;
        else if (kw === 'confirmed') {
          const next = args[i + 1];
          if (next && /^[0-9]+$/.test(next.text)) {
            confirmMinutes = parseIntArg(next, 'commit confirmed', 1, 65535);
            i++;
          } else confirmMinutes = Number(s.router.get('/Setup/Config/CLI/Confirm-Default') ?? '10') || 10;
        } else {
          const next = args[i + 1];
          if (!next) throw new ShellSyntaxError('commit comment: needs a text (quote it)');
          if (next.text.length > 200) throw new ShellSyntaxError('commit comment: at most 200 characters');
          comment = next.text;
          i++;
        }
      }
      const cand = s.candidate;
      if (check) {
        const problems = cand ? integrityProblems(s.router.schema, cand.config) : [];
        if (problems.length) throw new CommitRejectedError(`check failed: ${problems.slice(0, 5).join('; ')}`);
        out.write(textBlock('configuration check succeeds'));
        return;
      }
      if (!cand) {
        if (s.router.pendingConfirm() && confirmMinutes === undefined) {
          s.router.confirm(s.user);
          out.write(textBlock('commit confirmed'));
          return;
        }
        if (confirmMinutes !== undefined) throw new ShellSyntaxError('commit confirmed: open a candidate with begin first (without one, every edit is committed at once)');
        out.write(textBlock('nothing to commit (no candidate open; edits outside begin are committed at once)'));
        return;
      }
      const opts: { user: string; comment?: string; confirmMinutes?: number; base: Candidate['base'] } = { user: s.user, base: cand.base };
      if (comment !== undefined) opts.comment = comment;
      if (confirmMinutes !== undefined) opts.confirmMinutes = confirmMinutes;
      const hadPending = !!s.router.pendingConfirm();
      const r = await s.router.commit(cand.config, opts);
      s.candidate = undefined;
      if (!r.committed) {
        if (hadPending && s.router.confirm(s.user)) out.write(textBlock('no changes; pending commit confirmed'));
        else out.write(textBlock('no changes'));
        return;
      }
      out.write(
        textBlock(
          `commit ${r.seq}: ${r.changes.length} change(s) applied` +
            (confirmMinutes !== undefined ? `; confirm within ${confirmMinutes} minute(s) (confirm or commit), or it is rolled back` : ''),
        ),
      );
    },
  },
  {
    name: 'confirm',
    help: 'Confirm a pending commit confirmed',
    usage: 'confirm',
    modifies: true,
    run(s, args, out) {
      noArgs('confirm', args);
      out.write(textBlock(s.router.confirm(s.user) ? 'commit confirmed' : 'no commit is waiting for confirmation'));
    },
  },
  {
    name: 'discard',
    aliases: ['abort', 'killscript'],
    help: 'Drop the candidate and its uncommitted changes',
    usage: 'discard',
    modifies: false,
    run(s, args, out) {
      noArgs('discard', args);
      out.write(textBlock(s.candidate ? 'candidate discarded' : 'no candidate open'));
      s.candidate = undefined;
    },
  },
  {
    name: 'rollback',
    help: 'Return to revision N (0 = running, 1 = previous ...): into the candidate if one is open, else at once',
    usage: 'rollback N',
    modifies: true,
    async run(s, args, out) {
      if (args.length !== 1) throw new ShellSyntaxError('rollback: needs a revision number (show commits lists them)');
      const n = parseIntArg(args[0], 'rollback', 0, 49);
      const rev = s.router.revision(n);
      if (s.candidate) {
        s.candidate.config = cloneConfig(rev.config);
        s.candidate.dirty = true;
        out.write(textBlock(`revision ${n} (commit ${rev.seq}) loaded into the candidate; commit applies it`));
        return;
      }
      const r = await s.router.rollback(n, s.user);
      out.write(textBlock(r.committed ? `rolled back to revision ${n}: commit ${r.seq}, ${r.changes.length} change(s)` : 'nothing to roll back: revision equals the running config'));
    },
  },
  {
    name: 'repeat',
    help: 'Run a command every N seconds as a live view until interrupted',
    usage: 'repeat SECONDS COMMAND...',
    modifies: false,
    async run(s, args, out) {
      const sec = parseIntArg(args[0], 'repeat', 1, 86_400);
      const inner = args.slice(1);
      if (inner.length === 0) throw new ShellSyntaxError('repeat: which command?');
      const cmd = resolveCommand(inner[0]!.text);
      if (cmd.modifies || cmd.name === 'repeat' || cmd.name === 'exit' || cmd.name === 'writeconfig') throw new ShellSyntaxError(`repeat: ${cmd.name} cannot be repeated`);
      await s.live(sec * 1000, () => s.collect(inner, out), out);
    },
  },
];

const COMMAND_NAMES = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])].map((name) => ({ name, spec: c })));

/** Finds a command by name or unambiguous abbreviation (aliases of one command do not clash). */
export function resolveCommand(word: string): CommandSpec {
  if (word === '') throw new ShellSyntaxError('empty command word');
  const low = word.toLowerCase();
  const exact = COMMAND_NAMES.find((c) => c.name === low);
  if (exact) return exact.spec;
  const pre = COMMAND_NAMES.filter((c) => c.name.startsWith(low));
  const specs = [...new Set(pre.map((p) => p.spec))];
  if (specs.length === 1 && low.length > 0) return specs[0]!;
  if (specs.length > 1) throw new AmbiguousError(word, pre.map((p) => p.name).sort(), 'command');
  throw new ShellSyntaxError(`unknown command '${clip(word)}' (? lists the commands)`);
}

/** Every command name and alias, for completion. */
export function commandNames(): string[] {
  return COMMAND_NAMES.map((c) => c.name).sort();
}

export function createShellSession(opts: ShellSessionOptions): ShellSession {
  return new Session(opts);
}

export { formatTime };
