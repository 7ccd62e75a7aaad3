#!/usr/bin/env node
// Runs the test suites named on the command line (unit, integration, e2e, interop) with
// node's own test runner and tsx for TypeScript. Node 20's --test takes no globs, so the
// files are collected here. A suite with no test files is an error, not a silent pass.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
if (suites.length === 0) {
  console.error('usage: run-tests.mjs SUITE... (unit, integration, e2e, interop)');
  process.exit(2);
}

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, p));
  }
  return out;
}

const files = [];
for (const s of suites) {
  const dir = join(root, 'test', s);
  let found = [];
  try {
    found = collect(dir);
  } catch {
    /* missing directory counts as empty */
  }
  if (found.length === 0) {
    console.error(`run-tests: suite '${s}' has no test files under test/${s}`);
    process.exit(2);
  }
  files.push(...found);
}

// One test file at a time: e2e tests create network namespaces and must not race each other;
// unit suites are fast enough that the lost parallelism does not matter on two cores.
const concurrency = suites.some((s) => s === 'e2e' || s === 'interop') ? ['--test-concurrency=1'] : [];
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...concurrency, ...passThrough, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
