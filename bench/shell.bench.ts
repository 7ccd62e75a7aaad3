/**
 * The shell's throughput targets (issue 2, item 9), in-process on a real Router and a
 * temp config dir:
 *  - completion on a table of 10,000 rows (goal <= 20 ms median);
 *  - applying a 10,000-line command file (goal <= 2 s): as one transaction
 *    (begin ... commit, what `readconfig` writes) and, for comparison, 1,000 lines
 *    of immediate edits (each one written to disk before the next).
 *  - the same 10,000-line file through the built binary: `meshgate -f FILE`, process start
 *    to exit (the file as readconfig writes scripts: begin ... commit).
 * Start-to-prompt is measured on the built binary by bench/shell-start.bench.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from '../src/router/index.js';
import { createShellSession, type OutputBlock } from '../src/shell/index.js';

const sink = { write: (_b: OutputBlock) => {} };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function withRouter<T>(fn: (r: Router) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-shell-'));
  const router = await Router.open({ configDir: dir, name: 'bench' });
  try {
    return await fn(router);
  } finally {
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = Array.from({ length: 10_000 }, (_, i) => `add 10.${i >> 8}.${i & 255}.0/24 0 HQ`);

await withRouter(async (router) => {
  const s = createShellSession({ router, user: 'root', access: 'admin' });
  const t0 = performance.now();
  await s.execute('begin; cd /Setup/IP-Router/Routing-Table', { sink });
  for (const l of lines) {
    const r = await s.execute(l, { sink });
    if (r.exitCode !== 0) throw new Error(`line failed: ${l}`);
  }
  const c = await s.execute('commit', { sink });
  if (c.exitCode !== 0) throw new Error('commit failed');
  const applyMs = performance.now() - t0;

  const cold0 = performance.now();
  s.complete('del 10.3', 8);
  const cold = performance.now() - cold0;
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const prefix = `del 10.${i % 40}`;
    const t = performance.now();
    const r = s.complete(prefix, prefix.length);
    times.push(performance.now() - t);
    if (r.candidates.length === 0) throw new Error('completion found nothing');
  }
  console.log('| measurement | figure | goal |');
  console.log('| --- | ---: | ---: |');
  console.log(`| 10,000-line command file, one transaction | ${applyMs.toFixed(0)} ms | <= 2000 ms |`);
  console.log(`| completion on a 10,000-row table, median of 50 | ${median(times).toFixed(2)} ms | <= 20 ms |`);
  console.log(`| completion on a 10,000-row table, first call | ${cold.toFixed(2)} ms | |`);
  s.close();
});

await withRouter(async (router) => {
  const s = createShellSession({ router, user: 'root', access: 'admin' });
  await s.execute('cd /Setup/IP-Router/Routing-Table', { sink });
  const t0 = performance.now();
  for (const l of lines.slice(0, 1000)) await s.execute(l, { sink });
  const ms = performance.now() - t0;
  console.log(`| 1,000 immediate edits (each persisted) | ${ms.toFixed(0)} ms (${(ms / 1000).toFixed(1)} ms/edit) | |`);
  s.close();
});

// The file through the binary, as an administrator runs it.
const bin = new URL('../bin/meshgate', import.meta.url).pathname;
if (existsSync(new URL('../dist/src/main.js', import.meta.url))) {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-file-'));
  try {
    const file = join(dir, 'routes.lcs');
    writeFileSync(file, ['begin', 'cd /Setup/IP-Router/Routing-Table', ...lines, 'commit comment "10k routes"', ''].join('\n'));
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const res = spawnSync(process.execPath, [bin, '--config-dir', join(dir, `cfg${r}`), '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      times.push(performance.now() - t0);
      if (res.status !== 0) throw new Error(`meshgate -f failed: ${res.stderr}`);
    }
    console.log(`| meshgate -f with 10,003 lines (begin ... commit), process start to exit, median of 3 | ${median(times).toFixed(0)} ms | <= 2000 ms |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else console.log('| meshgate -f (binary) | not built: run npx tsc -p tsconfig.build.json | |');
