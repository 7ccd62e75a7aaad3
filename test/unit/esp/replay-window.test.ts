import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EspError, ReplayWindow } from '../../../src/engine/esp/index.js';

test('default size is 2048; sizes outside [32, 2^20] are refused', () => {
  assert.equal(new ReplayWindow().size, 2048);
  assert.equal(new ReplayWindow(1024).size, 1024);
  for (const bad of [0, 31, 1.5, (1 << 20) + 1, Number.NaN]) assert.throws(() => new ReplayWindow(bad), EspError);
});

test('sequence number 0 and numbers beyond 32 bits are never acceptable', () => {
  const w = new ReplayWindow();
  assert.equal(w.check(0), false);
  assert.equal(w.commit(0), false);
  assert.equal(w.check(2 ** 32), false);
  assert.equal(w.check(-1), false);
  assert.equal(w.check(1.5), false);
  assert.equal(w.check(0xffff_ffff), true);
});

test('check has no side effects; commit records; duplicates are refused', () => {
  const w = new ReplayWindow(1024);
  assert.equal(w.check(1), true);
  assert.equal(w.check(1), true);
  assert.equal(w.top, 0);
  assert.equal(w.commit(1), true);
  assert.equal(w.top, 1);
  assert.equal(w.check(1), false);
  assert.equal(w.commit(1), false);
  assert.equal(w.commit(3), true);
  assert.equal(w.check(2), true, 'a gap inside the window stays open');
  assert.equal(w.commit(2), true);
  assert.equal(w.check(2), false);
});

test('window edge: top - size + 1 is the oldest acceptable number', () => {
  const size = 1024;
  const w = new ReplayWindow(size);
  const top = 5000;
  assert.equal(w.commit(top), true);
  assert.equal(w.check(top - size + 1), true, 'oldest in window');
  assert.equal(w.check(top - size), false, 'just outside');
  assert.equal(w.commit(top - size), false);
  assert.equal(w.commit(top - size + 1), true);
  assert.equal(w.check(top - size + 1), false);
});

test('far future jump clears the whole window; old numbers become too old', () => {
  const w = new ReplayWindow(2048);
  for (let s = 1; s <= 3000; s++) assert.equal(w.commit(s), true);
  const jump = 3000 + 10_000_000;
  assert.equal(w.commit(jump), true);
  assert.equal(w.top, jump);
  assert.equal(w.check(3000), false, 'old and far behind');
  // Numbers just behind the new top are fresh, even though their ring slots once held bits.
  for (let s = jump - 2047; s < jump; s++) assert.equal(w.check(s), true, `seq ${s}`);
  assert.equal(w.check(jump - 2048), false);
});

test('advancing by less than a word and by exactly the ring size keeps earlier bits straight', () => {
  const w = new ReplayWindow(64);
  w.commit(100);
  w.commit(90);
  w.commit(131); // same or next word
  assert.equal(w.check(100), false);
  assert.equal(w.check(90), false);
  assert.equal(w.check(91), true);
  w.commit(100 + 64 * 4); // a jump of several words
  assert.equal(w.check(100 + 64 * 4 - 1), true);
  assert.equal(w.check(131), false, 'outside the window now');
});

test('top of the 32-bit space', () => {
  const w = new ReplayWindow();
  assert.equal(w.commit(0xffff_fffe), true);
  assert.equal(w.commit(0xffff_ffff), true);
  assert.equal(w.check(0xffff_ffff), false);
  assert.equal(w.check(0xffff_fffd), true);
});

/** The obvious model: a set of seen numbers and the highest one. */
class ModelWindow {
  private readonly seen = new Set<number>();
  private top = 0;
  constructor(private readonly size: number) {}
  check(seq: number): boolean {
    if (seq < 1) return false;
    if (seq > this.top) return true;
    if (this.top - seq >= this.size) return false;
    return !this.seen.has(seq);
  }
  commit(seq: number): boolean {
    if (!this.check(seq)) return false;
    this.seen.add(seq);
    if (seq > this.top) this.top = seq;
    return true;
  }
}

test('property: the bitmap window agrees with a set-based model', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(32, 64, 100, 1024, 2048),
      fc.array(
        fc.record({
          delta: fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: -40, max: 40 }) },
            { weight: 3, arbitrary: fc.integer({ min: -2100, max: 100 }) },
            { weight: 2, arbitrary: fc.integer({ min: 30, max: 2100 }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 1 << 22 }) },
          ),
          commit: fc.boolean(),
        }),
        { minLength: 50, maxLength: 600, size: 'max' },
      ),
      (size, ops) => {
        const w = new ReplayWindow(size);
        const m = new ModelWindow(size);
        let cursor = 1000;
        for (const op of ops) {
          cursor = Math.min(0xffff_ffff, Math.max(0, cursor + op.delta));
          assert.equal(w.check(cursor), m.check(cursor), `check ${cursor}`);
          if (op.commit) assert.equal(w.commit(cursor), m.commit(cursor), `commit ${cursor}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
