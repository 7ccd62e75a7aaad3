#!/usr/bin/env node
// `npm install` hook: builds the TUN addon in src/native with node-gyp (g++ and Node's headers).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../src/native', import.meta.url));
if (!existsSync(`${dir}/binding.gyp`)) process.exit(0);
const r = spawnSync('node-gyp', ['rebuild', '-C', dir], { stdio: 'inherit', shell: false });
if (r.error) {
  console.error(`build-native: cannot run node-gyp: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
