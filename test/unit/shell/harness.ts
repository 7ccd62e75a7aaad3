/** Test harness: a Router on a temp dir with a FakeClock, sessions, and collected output. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router } from '../../../src/router/index.js';
import { createShellSession, renderPlain, type OutputBlock, type ShellSession } from '../../../src/shell/index.js';

export interface Harness {
  dir: string;
  clock: FakeClock;
  router: Router;
  session(user?: string, access?: 'admin' | 'read-only'): Shell;
  cleanup(): void;
}

export interface RunResult {
  blocks: OutputBlock[];
  frames: OutputBlock[][];
  exitCode: number;
  exit: boolean;
  text: string;
}

export interface Shell {
  s: ShellSession;
  run(line: string, signal?: AbortSignal): Promise<RunResult>;
  /** All blocks written by later events (trace) to the last sink. */
  events: OutputBlock[];
}

export async function harness(name = 'hub'): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-shell-'));
  const clock = new FakeClock();
  const router = await Router.open({ configDir: dir, clock, name });
  const sessions: ShellSession[] = [];
  return {
    dir,
    clock,
    router,
    session(user = 'admin', access: 'admin' | 'read-only' = 'admin') {
      const s = createShellSession({ router, user, access });
      sessions.push(s);
      const sh: Shell = {
        s,
        events: [],
        async run(line, signal) {
          const blocks: OutputBlock[] = [];
          const frames: OutputBlock[][] = [];
          let live = true;
          const sink = {
            write: (b: OutputBlock) => (live ? blocks.push(b) : sh.events.push(b)),
            frame: (f: OutputBlock[]) => frames.push(f),
          };
          const r = await s.execute(line, signal ? { sink, signal } : { sink });
          live = false;
          return { blocks, frames, exitCode: r.exitCode, exit: r.exit, text: blocks.map(renderPlain).join('\n') };
        },
      };
      return sh;
    },
    cleanup() {
      for (const s of sessions) s.close();
      router.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
