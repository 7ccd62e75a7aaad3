/**
 * Helpers for root-only end-to-end tests in network namespaces named mg-*.
 * Every namespace and child process a test creates is removed by the test itself
 * (children by PID), in an after/finally hook.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The skip option for a root-only test: outside CI a non-root run is skipped with the reason;
 * under CI (process.env.CI set) the test runs and fails via requireRoot().
 */
export function rootSkip(): string | false {
  if (isRoot() || process.env.CI) return false;
  return 'needs root (network namespaces and TUN devices); run as root, e.g. sudo npm run test:e2e';
}

export function requireRoot(): void {
  if (!isRoot())
    throw new Error(
      `e2e tests need root (uid 0) to create network namespaces and TUN devices; running as uid ${process.getuid?.()}. ` +
        'CI runs them as root: bash .ci/run',
    );
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a timeout; never rejects (the exit code says how it went). */
export function run(file: string, args: string[], timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, cwd: REPO_ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code: err && code === 0 ? 1 : code, stdout: String(stdout), stderr: String(stderr) || (err ? err.message : '') });
    });
  });
}

export async function createNetns(kind: string): Promise<string> {
  const name = `mg-${kind}-${randomBytes(3).toString('hex')}`;
  const r = await run('ip', ['netns', 'add', name]);
  if (r.code !== 0) throw new Error(`ip netns add ${name} failed (is iproute2 installed?): ${r.stderr}`);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteNetns(name: string): Promise<void> {
  if (!name.startsWith('mg-')) throw new Error(`refusing to delete namespace ${name}`);
  await run('ip', ['netns', 'del', name]);
}

/** A child process with its stdout split into JSON lines. */
export class JsonChild {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  private waiters: { pred: (o: Record<string, unknown>) => boolean; resolve: (o: Record<string, unknown>) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        o = { event: 'text', line };
      }
      this.lines.push(o);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(o)) return true;
        w.resolve(o);
        return false;
      });
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line (already seen or future) for which pred holds; rejects after timeoutMs. */
  waitFor(pred: (o: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr.trim()}`));
      }, timeoutMs);
      const w = {
        pred,
        resolve: (o: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      this.waiters.push(w);
      void this.exited.then((code) => {
        if (this.waiters.includes(w)) {
          clearTimeout(timer);
          reject(new Error(`child exited (${code}) before ${what}; stderr: ${this.stderr.trim()}`));
        }
      });
    });
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** SIGTERM by PID, then SIGKILL after graceMs; resolves when it exited. */
  async stop(graceMs = 5_000): Promise<number | null> {
    const pid = this.proc.pid;
    if (pid === undefined || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    process.kill(pid, 'SIGTERM');
    const t = setTimeout(() => {
      if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(pid, 'SIGKILL');
    }, graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/**
 * Runs `node --import tsx <script> args...` inside a namespace, optionally prefixed by a
 * privilege-dropping wrapper (e.g. ['setpriv', '--reuid=65534', ...]). `ip netns exec`
 * execs, so the child's PID is the program's.
 */
export function spawnTsInNetns(ns: string, script: string, args: string[], wrapper: string[] = []): JsonChild {
  const argv = ['netns', 'exec', ns, ...wrapper, process.execPath, '--import', 'tsx', script, ...args];
  const proc = spawn('ip', argv, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  return new JsonChild(proc);
}
