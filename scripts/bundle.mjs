#!/usr/bin/env node
// Bundles the CLI (dist/bundle/main.js and its lazily loaded chunks) so that start-up reads a
// few files instead of hundreds of modules: `meshgate -c sysinfo` starts in about half the time.
// Native and optional modules stay external and load from node_modules as usual.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}src/main.ts`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  external: ['sodium-native', 'better-sqlite3', 'ssh2', 'cpu-features', 'mysql2', 'react-devtools-core'],
  // Bundled CommonJS dependencies call require(); give them one in the ESM output.
  banner: { js: "import { createRequire as __meshgateCreateRequire } from 'node:module'; const require = __meshgateCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
