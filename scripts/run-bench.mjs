#!/usr/bin/env node
// Runs the benchmarks in bench/ one after another (each prints its own figures).
// `npm run bench` runs all; `npm run bench -- esp shell` runs those whose file name contains a word.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const root = fileURLToPath(new URL('..', import.meta.url));
const words = process.argv.slice(2);
const files = readdirSync(new URL('../bench', import.meta.url))
  .filter((f) => /\.bench\.tsx?$/.test(f))
  .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error('run-bench: no benchmark matched');
  process.exit(2);
}
console.log(`# meshgate benchmarks — ${new Date().toISOString()}`);
console.log(`# node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`run-bench: ${f} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
