/**
 * Shared by the shell e2e tests: the built binary (built here when dist/ is missing or
 * older than the sources), temp config dirs, spawning with a deadline, and waiting for
 * output. Every process started here is tracked and killed by PID at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'meshgate');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.tsx?$/.test(name)) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

const BUNDLE = join(ROOT, 'dist', 'bundle', 'main.js');
let built = false;
/** Builds dist/ when it is missing or older than src/ and menus/ (tsc emits despite type errors elsewhere). */
export function ensureBuilt(): void {
  if (built) return;
  const newest = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'menus')));
  const stale = !existsSync(MAIN) || statSync(MAIN).mtimeMs < newest || !existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < newest;
  if (stale) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        stdio: 'ignore',
        timeout: 180_000,
      });
    } catch {
      /* type errors in other areas still emit; checked below */
    }
    // bin/meshgate prefers the bundle: it must be as new as the sources.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'ignore', timeout: 180_000 });
  }
  if (!existsSync(MAIN)) throw new Error('dist/src/main.js missing after the build');
  if (!existsSync(BUNDLE)) throw new Error('dist/bundle/main.js missing after the build');
  built = true;
}

export function tempConfigDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary to completion (killed after timeoutMs), with optional stdin. */
export function runBin(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, withoutEngine(args), { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meshgate ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 20_000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {
      /* the binary may stop reading early (first failing line) */
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export interface LongRunning {
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, ms?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the binary in the background (a daemon, a client holding stdin open); killed at the end of the test. */
/**
 * A daemon in the shell tests runs without its tunnel engine: these tests are about the
 * shell, and an engine would create TUN devices with the default LAN address in the
 * host's namespace when run as root.
 */
export function withoutEngine(args: string[]): string[] {
  return args[0] === 'daemon' && !args.includes('--engine') ? [...args, '--engine', 'off'] : args;
}

export function startBin(t: { after(fn: () => unknown): void }, args: string[]): LongRunning {
  args = withoutEngine(args);
  const child = spawn(BIN, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  return {
    child,
    output: () => out,
    async waitFor(re, ms = 10_000) {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${re}; output: ${out}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}; output: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

// eslint-disable-next-line no-control-regex
export const ESCAPE = /[\u001b\u009b]/;
