/**
 * Network namespaces for end-to-end tests. Every namespace, interface and process a
 * test creates goes through a Lab, and `lab.cleanup()` removes all of it: processes
 * are killed by PID, namespaces deleted (which removes their veth ends). Names are
 * prefixed `mg-` and carry a random tag so parallel or aborted runs do not collide.
 * Addresses used are documentation ranges that exist only inside these namespaces.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * For root-only suites: in CI (CI set) a missing privilege is a failure, not a skip;
 * on a developer's machine the test is skipped with the reason.
 */
export function rootOrSkip(t: { skip(msg?: string): void }): boolean {
  if (isRoot()) return true;
  if (process.env.CI) throw new Error('this end-to-end test needs root (CI runs as root)');
  t.skip('needs root: run `sudo npm run test:e2e`');
  return false;
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 15_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

export class Lab {
  readonly tag = randomBytes(3).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'mg-lab-'));
  private readonly namespaces: string[] = [];
  private readonly procs: Proc[] = [];

  /** Creates namespace `mg-<name>-<tag>` with loopback up; returns its full name. */
  ns(name: string): string {
    const full = `mg-${name}-${this.tag}`;
    if (full.length > 32) throw new Error(`namespace name ${full} is too long`);
    run('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    run('ip', ['-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** Joins two namespaces with a veth pair and gives each end an address (CIDR). */
  link(nsA: string, ifA: string, cidrA: string | null, nsB: string, ifB: string, cidrB: string | null): void {
    run('ip', ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    for (const [ns, dev, cidr] of [[nsA, ifA, cidrA], [nsB, ifB, cidrB]] as const) {
      if (cidr) run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev, ...(cidr.includes(':') ? ['nodad'] : [])]);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** Starts a long-running process inside a namespace; cleanup() kills it by PID. */
  spawn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p: Proc = { child, pid: child.pid, output: () => out, exited };
    this.procs.push(p);
    return p;
  }

  /** Removes everything this lab created. Safe to call more than once. */
  async cleanup(): Promise<void> {
    for (const p of this.procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          process.kill(p.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const done = await Promise.race([p.exited.then(() => true), sleep(3000).then(() => false)]);
        if (!done) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
          await Promise.race([p.exited, sleep(2000)]);
        }
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      // Anything still running inside our own namespace (e.g. a daemon's child).
      try {
        for (const pid of run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* namespace already gone */
      }
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn every intervalMs until it returns true or timeoutMs passes. */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await fn()) return true;
    } catch {
      /* not yet */
    }
    await sleep(intervalMs);
  }
  return false;
}
