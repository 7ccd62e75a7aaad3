import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router } from '../../../src/router/index.js';

/** A valid config file with some content, to mutate. */
async function validFile(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-fuzz-src-'));
  try {
    const r = await Router.open({ configDir: dir, clock: new FakeClock() });
    const { cloneConfig, setRow, setParam } = await import('../../../src/config/index.js');
    const d = cloneConfig(r.running() as never);
    setRow(r.schema, d, '/Setup/VPN/IKEv2/Peers', ['HQ'], new Map([['Type', 'hub']]), 'create');
    setParam(r.schema, d, '/Setup/VPN/IKEv2/Mesh/VPN-Peer-Template', 'HQ');
    await r.commit(d, { user: 'u' });
    r.close();
    return readFileSync(join(dir, 'config.json'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Json = unknown;

/** Replaces the value at a random path of `doc` with `value`. */
function mutate(doc: Json, pick: number[], value: Json): Json {
  if (pick.length === 0 || typeof doc !== 'object' || doc === null) return value;
  const keys = Object.keys(doc as object);
  if (keys.length === 0) return value;
  const k = keys[pick[0]! % keys.length]!;
  const copy: Record<string, Json> = Array.isArray(doc) ? ([...doc] as never) : { ...(doc as Record<string, Json>) };
  copy[k] = mutate((doc as Record<string, Json>)[k], pick.slice(1), value);
  return copy;
}

test('random and mutated config files: the Router opens them or refuses them with ConfigFileError, never changing a refused file', async () => {
  const good = await validFile();
  const goodDoc = JSON.parse(good) as Json;
  const dir = mkdtempSync(join(tmpdir(), 'mg-fuzz-'));
  let opened = 0;
  let refused = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.tuple(fc.array(fc.nat(), { maxLength: 7 }), fc.jsonValue()).map(([p, v]) => JSON.stringify(mutate(goodDoc, p, v))),
          fc.nat({ max: good.length }).map((n) => good.slice(0, n)),
        ),
        async (content) => {
          const f = join(dir, 'config.json');
          writeFileSync(f, content);
          const before = readFileSync(f);
          try {
            const r = await Router.open({ configDir: dir, clock: new FakeClock() });
            opened++;
            // Whatever opened is a usable config.
            assert.equal(typeof r.name, 'string');
            r.close();
          } catch (err) {
            assert.equal((err as Error).name, 'ConfigFileError', (err as Error).stack);
            assert.deepEqual(readFileSync(f), before);
            refused++;
          }
        },
      ),
      { numRuns: 400 },
    );
    assert.ok(refused > 100, `${refused} refused`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  void opened;
});
