/**
 * Transcript tests: every test/transcripts/NAME.cmds is run line by line against a fresh Router
 * (FakeClock, name "hub") and its output, rendered by the minimal plain renderer, must equal
 * NAME.expected. Each command is echoed as `prompt> line`; a failing command is followed by
 * `[exit N]`. Directives (lines starting with `#@`):
 *   #@ session USER admin|read-only   switch to (or log in) that user's session
 *   #@ replay-into-fresh              readconfig --with-secrets here, writeconfig it into a new
 *                                     router, report whether the configs are identical, and go on there
 * UPDATE_TRANSCRIPTS=1 rewrites the .expected files (review the diff before committing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { configsEqual } from '../../../src/config/index.js';
import { renderPlain, type OutputBlock } from '../../../src/shell/index.js';
import { harness, type Harness, type Shell } from './harness.js';

const dir = fileURLToPath(new URL('../../transcripts/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.cmds')).sort();

async function runTranscript(cmds: string): Promise<string> {
  const out: string[] = [];
  const harnesses: Harness[] = [];
  let h = await harness('hub');
  harnesses.push(h);
  const sessions = new Map<string, Shell>();
  let cur = h.session('admin', 'admin');
  sessions.set('admin', cur);
  const emit = (blocks: OutputBlock[]) => blocks.forEach((b) => out.push(renderPlain(b)));
  try {
    for (const line of cmds.split('\n')) {
      if (line.startsWith('#@')) {
        out.push(line);
        const [, directive, a, b] = line.split(/\s+/);
        if (directive === 'session') {
          const key = `${a}`;
          let s = sessions.get(key);
          if (!s) {
            s = h.session(a, b === 'read-only' ? 'read-only' : 'admin');
            sessions.set(key, s);
          }
          cur = s;
        } else if (directive === 'replay-into-fresh') {
          const script = (await cur.run('readconfig --with-secrets')).text.split('\n');
          const fresh = await harness('fresh');
          harnesses.push(fresh);
          const fs = fresh.session('admin', 'admin');
          await fs.run('writeconfig');
          let failed = 0;
          for (const l of [...script, '', '']) {
            const r = await fs.run(l);
            if (r.exitCode) {
              failed++;
              emit(r.blocks);
            }
          }
          const same = configsEqual(h.router.running() as never, fresh.router.running() as never);
          out.push(`(replayed ${script.length} lines into a fresh router: ${failed ? `${failed} failed, ` : ''}configs ${same ? 'identical' : 'DIFFERENT'})`);
          h = fresh;
          sessions.clear();
          cur = fs;
          sessions.set('admin', cur);
        } else throw new Error(`unknown directive ${line}`);
        continue;
      }
      out.push(`${cur.s.prompt()}> ${line}`);
      const r = await cur.run(line);
      emit(r.blocks);
      if (r.exitCode) out.push(`[exit ${r.exitCode}]`);
    }
  } finally {
    for (const x of harnesses) x.cleanup();
  }
  return out.join('\n').replace(/\n*$/, '\n');
}

test('there are transcripts to run', () => {
  assert.ok(files.length >= 5, `${files.length} transcripts`);
});

for (const f of files) {
  test(`transcript ${f}`, async () => {
    const cmds = readFileSync(join(dir, f), 'utf8').replace(/\n$/, '');
    const actual = await runTranscript(cmds);
    const expectedFile = join(dir, f.replace(/\.cmds$/, '.expected'));
    if (process.env['UPDATE_TRANSCRIPTS'] === '1') writeFileSync(expectedFile, actual);
    assert.ok(existsSync(expectedFile), `${expectedFile} is missing (UPDATE_TRANSCRIPTS=1 writes it)`);
    assert.equal(actual, readFileSync(expectedFile, 'utf8'));
  });
}
