/**
 * A small ShellSession for UI, script and control-socket tests: a fixed menu, `cd`,
 * `set`/`ls` on a shared store, tables, a live view, an error per exit code class.
 */
import type { Completion, ExecuteOptions, ExecuteResult, OutputBlock, ShellSession } from '../../../src/shell/session-api.js';
import { ExitCode, type ExitCodeName } from '../../../src/shell/session-api.js';

export interface FakeStore {
  values: Map<string, string>;
}

export function newStore(): FakeStore {
  return { values: new Map([['Name', 'hub']]) };
}

const COMMANDS = ['cd', 'del', 'do', 'exit', 'fail', 'ls', 'repeat', 'set', 'show', 'sleep', 'sysinfo', 'table', 'watch'];
const PATHS = ['/Setup/', '/Status/', '/Other/', '/Firmware/'];
const SETUP = ['/Setup/Config/', '/Setup/Interfaces/', '/Setup/Name', '/Setup/VPN/'];

export class FakeSession implements ShellSession {
  path = '/';
  lines: string[] = [];
  closed = false;
  readonly access: 'admin' | 'read-only';

  constructor(
    readonly store: FakeStore = newStore(),
    access: 'admin' | 'read-only' = 'admin',
  ) {
    this.access = access;
  }

  prompt(): string {
    return `${this.store.values.get('Name') ?? 'node'}:${this.path}`;
  }

  history(): readonly string[] {
    return this.lines;
  }

  close(): void {
    this.closed = true;
  }

  complete(line: string, cursor: number): Completion {
    const before = line.slice(0, cursor);
    const from = before.lastIndexOf(' ') + 1;
    const word = before.slice(from).toLowerCase();
    const pool = from === 0 ? COMMANDS : word.startsWith('/setup/') ? SETUP : PATHS;
    return { from, candidates: pool.filter((c) => c.toLowerCase().startsWith(word)).sort() };
  }

  async execute(line: string, options: ExecuteOptions): Promise<ExecuteResult> {
    if (line.trim() === '' || line.trim().startsWith('#')) return { exitCode: 0, exit: false };
    this.lines.push(line);
    for (const cmd of line.split(';').map((c) => c.trim()).filter(Boolean)) {
      const r = await this.one(cmd, options);
      if (r.exitCode !== 0 || r.exit) return r;
    }
    return { exitCode: 0, exit: false };
  }

  private err(options: ExecuteOptions, code: ExitCodeName, message: string): ExecuteResult {
    options.sink.write({ kind: 'error', code, message });
    return { exitCode: ExitCode[code], exit: false };
  }

  private async one(cmd: string, options: ExecuteOptions): Promise<ExecuteResult> {
    const { sink, signal } = options;
    const [verb = '', ...args] = cmd.split(/\s+/);
    const ok: ExecuteResult = { exitCode: 0, exit: false };
    if (cmd.length > 4096) return this.err(options, 'syntax', `line too long (${cmd.length} characters, at most 4096)`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(cmd)) return this.err(options, 'syntax', 'control characters in the command');
    switch (verb) {
      case 'exit':
        return { exitCode: 0, exit: true };
      case 'cd':
        this.path = args[0] ?? '/';
        return ok;
      case 'ls':
        sink.write({ kind: 'table', columns: ['Name', 'Value'], rows: [...this.store.values.entries()].sort() });
        return ok;
      case 'set': {
        if (this.access !== 'admin') return this.err(options, 'permission', 'read-only users cannot change the configuration');
        const [k, v] = args;
        if (!k || v === undefined) return this.err(options, 'syntax', 'usage: set PARAM VALUE');
        if (k === 'Port' && !/^\d+$/.test(v)) return this.err(options, 'invalidValue', `Port: ${v} is not a number`);
        this.store.values.set(k, v);
        return ok;
      }
      case 'sysinfo':
        sink.write({ kind: 'keyvalue', pairs: [['DEVICE', 'meshgate'], ['NAME', this.store.values.get('Name') ?? '']] });
        return ok;
      case 'table':
        sink.write({
          kind: 'table',
          title: 'Peers',
          columns: ['Peer', 'State', 'Rx'],
          rows: [
            ['hub1', 'UP', 1200],
            ['spoke2', 'DOWN', 0],
          ],
        });
        return ok;
      case 'fail': {
        const code = (args[0] ?? 'runtime') as ExitCodeName;
        return this.err(options, code in ExitCode ? code : 'runtime', `failed as asked (${code})`);
      }
      case 'watch': {
        // A live view: one frame per tick until aborted or `args[0]` frames.
        const max = Number(args[0] ?? 1000);
        for (let i = 1; i <= max; i++) {
          if (signal?.aborted) break;
          const blocks: OutputBlock[] = [{ kind: 'text', text: `frame ${i}` }];
          if (sink.frame) sink.frame(blocks);
          else for (const b of blocks) sink.write(b);
          await new Promise((r) => setTimeout(r, 20));
        }
        return ok;
      }
      case 'sleep': {
        const ms = Number(args[0] ?? 1000);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
        if (signal?.aborted) sink.write({ kind: 'text', text: 'interrupted' });
        return ok;
      }
      case 'echo':
        sink.write({ kind: 'text', text: args.join(' ') });
        return ok;
      default:
        return this.err(options, 'syntax', `unknown command: ${verb}`);
    }
  }
}
