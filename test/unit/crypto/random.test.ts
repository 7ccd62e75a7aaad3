import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoError, DeterministicRandom, ScriptedRandom, SodiumRandom } from '../../../src/engine/crypto/index.js';

test('DeterministicRandom repeats for a seed, differs across seeds, and is independent of chunking', () => {
  const a = new DeterministicRandom(42).bytes(200);
  const b = new DeterministicRandom(42).bytes(200);
  const c = new DeterministicRandom(43).bytes(200);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const chunked = new DeterministicRandom(42);
  const pieces = [chunked.bytes(1), chunked.bytes(63), chunked.bytes(64), chunked.bytes(72)];
  assert.deepEqual(Uint8Array.from(pieces.flatMap((p) => [...p])), a);
  // Blocks differ from each other (the counter is mixed into the seed).
  assert.notDeepEqual(a.subarray(0, 64), a.subarray(64, 128));
  assert.throws(() => new DeterministicRandom(new Uint8Array(5)), CryptoError);
});

test('ScriptedRandom hands out its chunks in order and refuses mismatches', () => {
  const r = new ScriptedRandom(Uint8Array.of(1, 2), Uint8Array.of(3));
  assert.deepEqual(r.bytes(2), Uint8Array.of(1, 2));
  assert.throws(() => r.bytes(2), CryptoError);
  assert.throws(() => r.bytes(1), CryptoError);
});

test('SodiumRandom fills buffers with fresh bytes', () => {
  const r = new SodiumRandom();
  const a = r.bytes(32);
  const b = r.bytes(32);
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, new Uint8Array(32));
  r.fill(new Uint8Array(0));
});
