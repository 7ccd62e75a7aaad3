/**
 * The shell of `meshgate lab`: a ShellSession per lab node behind one prompt. Two commands
 * belong to the lab itself, everything else goes to the current node's shell:
 *   node NAME   switch the shell to another node (abbreviations allowed)
 *   nodes       list the nodes with their tunnels
 */
import type { Completion, ExecuteOptions, ExecuteResult, ShellSession } from '../shell/session-api.js';
import { ExitCode } from '../shell/session-api.js';
import { createShellSession, tokenize } from '../shell/index.js';
import type { RouterLab } from './router-lab.js';

export class LabSession implements ShellSession {
  private readonly sessions = new Map<string, ShellSession>();
  private current: string;
  private readonly lines: string[] = [];

  constructor(
    private readonly lab: RouterLab,
    start = 'hub',
    private readonly user = 'admin',
  ) {
    this.current = lab.node(start) ? start : lab.names()[0]!;
  }

  get node(): string {
    return this.current;
  }

  private session(name = this.current): ShellSession {
    let s = this.sessions.get(name);
    if (!s) {
      const n = this.lab.node(name);
      if (!n) throw new Error(`no lab node ${name}`);
      s = createShellSession({ router: n.router, user: this.user, access: 'admin' });
      this.sessions.set(name, s);
    }
    return s;
  }

  prompt(): string {
    return this.session().prompt();
  }

  async execute(line: string, options: ExecuteOptions): Promise<ExecuteResult> {
    if (line.trim()) this.lines.push(line);
    let segments;
    try {
      segments = tokenize(line).segments;
    } catch {
      return this.session().execute(line, options); // the node's shell reports the syntax error
    }
    // Runs of ordinary commands go to the node's shell as one line (its transaction and
    // history rules apply); `node` and `nodes` segments are the lab's own.
    let pending: string[] = [];
    const flush = async (): Promise<ExecuteResult | undefined> => {
      if (pending.length === 0) return undefined;
      const text = pending.join('; ');
      pending = [];
      const r = await this.session().execute(text, options);
      return r.exitCode !== 0 || r.exit ? r : undefined;
    };
    for (const seg of segments) {
      const word = seg.tokens[0]?.text.toLowerCase();
      if (word !== 'node' && word !== 'nodes') {
        pending.push(line.slice(seg.start, seg.end).trim());
        continue;
      }
      const stop = await flush();
      if (stop) return stop;
      const r = this.labCommand(word, seg.tokens[1]?.text, options);
      if (r.exitCode !== 0) return r;
    }
    return (await flush()) ?? { exitCode: 0, exit: false };
  }

  private labCommand(cmd: 'node' | 'nodes', arg: string | undefined, options: ExecuteOptions): ExecuteResult {
    if (cmd === 'nodes' || !arg) {
      options.sink.write({
        kind: 'table',
        title: 'lab nodes',
        columns: ['Node', 'LAN', 'Hub-Tunnel', 'Mesh-Tunnels', 'Current'],
        rows: this.lab.names().map((n) => {
          const node = this.lab.node(n)!;
          const e = node.engine;
          return [n, node.lanNetwork, n === 'hub' ? hubTunnels(e) : (n.startsWith('site') ? e.datapath.hasTunnel('HQ') : e.datapath.hasTunnel('HUB')) ? 'UP' : 'DOWN', e.spoke.tunnels().filter((t) => t.state === 'up').length, n === this.current ? '*' : ''];
        }),
      });
      return { exitCode: 0, exit: false };
    }
    const want = arg.trim().toLowerCase();
    const matches = this.lab.names().filter((n) => n === want || n.startsWith(want));
    const exact = matches.find((n) => n === want);
    if (!exact && matches.length !== 1) {
      options.sink.write({ kind: 'error', code: matches.length ? 'ambiguous' : 'notFound', message: matches.length ? `node '${want}' is ambiguous: ${matches.join(', ')}` : `no node '${want}'; nodes: ${this.lab.names().join(', ')}` });
      return { exitCode: matches.length ? ExitCode.ambiguous : ExitCode.notFound, exit: false };
    }
    this.current = exact ?? matches[0]!;
    return { exitCode: 0, exit: false };
  }

  complete(line: string, cursor: number): Completion {
    const before = line.slice(0, cursor);
    const m = /^\s*node\s+(\S*)$/i.exec(before);
    if (m) {
      const part = m[1]!.toLowerCase();
      return { from: cursor - part.length, candidates: this.lab.names().filter((n) => n.startsWith(part)).sort() };
    }
    const c = this.session().complete(line, cursor);
    if (/^\s*\S*$/.test(before)) {
      const word = before.trim().toLowerCase();
      const extra = ['node', 'nodes'].filter((w) => w.startsWith(word) && word.length > 0);
      if (extra.length) return { from: c.from, candidates: [...new Set([...c.candidates, ...extra])].sort() };
    }
    return c;
  }

  history(): readonly string[] {
    return this.lines;
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}

/** The hub's column: spokes up, and the site directory's connected sites when there are any. */
function hubTunnels(e: import('../engine/engine.js').Engine): string {
  const up = e.ike.snapshot().peers.filter((p) => p.state === 'up');
  const sites = up.filter((p) => p.peer.startsWith('site_')).length;
  return `${up.length - sites} spokes up${sites ? `, ${sites} sites` : ''}`;
}
