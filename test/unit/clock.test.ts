import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, RealClock } from '../../src/engine/clock.js';

test('FakeClock fires timers in due order, ties in the order set', () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimer(20, () => fired.push('b'));
  clock.setTimer(10, () => fired.push('a'));
  clock.setTimer(20, () => fired.push('c'));
  clock.advance(15);
  assert.deepEqual(fired, ['a']);
  assert.equal(clock.now(), 15);
  clock.advance(5);
  assert.deepEqual(fired, ['a', 'b', 'c']);
});

test('FakeClock: a timer set while firing fires in the same advance when due', () => {
  const clock = new FakeClock();
  const at: number[] = [];
  clock.setTimer(10, () => {
    at.push(clock.now());
    clock.setTimer(5, () => at.push(clock.now()));
  });
  clock.advance(100);
  assert.deepEqual(at, [10, 15]);
  assert.equal(clock.pendingTimers, 0);
});

test('FakeClock: cancelled timers never fire', () => {
  const clock = new FakeClock();
  let n = 0;
  const t = clock.setTimer(10, () => n++);
  assert.equal(t.pending, true);
  t.cancel();
  assert.equal(t.pending, false);
  clock.advance(50);
  assert.equal(n, 0);
});

test('FakeClock.advanceUntil stops when the predicate holds, and reports a timeout', () => {
  const clock = new FakeClock();
  let done = false;
  clock.setTimer(30, () => (done = true));
  assert.equal(clock.advanceUntil(() => done, 100), true);
  assert.equal(clock.now(), 30);
  assert.equal(clock.advanceUntil(() => false, 10, 5), false);
  assert.throws(() => clock.advance(-1), RangeError);
});

test('RealClock timer fires and can be cancelled', async () => {
  const clock = new RealClock();
  const fired = await new Promise<boolean>((resolve) => {
    clock.setTimer(5, () => resolve(true));
  });
  assert.equal(fired, true);
  let n = 0;
  const t = clock.setTimer(5, () => n++);
  t.cancel();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(n, 0);
});

test('FakeClock fires any set of timers in (due, set order), as a sorted list would', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 60 }), (specs) => {
      const clock = new FakeClock();
      const fired: number[] = [];
      const timers = specs.map(([ms], i) => clock.setTimer(ms, () => fired.push(i)));
      specs.forEach(([, cancel], i) => cancel && timers[i]!.cancel());
      assert.equal(clock.pendingTimers, specs.filter(([, c]) => !c).length);
      clock.advance(100);
      const expected = specs
        .map(([ms, cancel], i) => ({ ms, cancel, i }))
        .filter((x) => !x.cancel)
        .sort((a, b) => a.ms - b.ms || a.i - b.i)
        .map((x) => x.i);
      assert.deepEqual(fired, expected);
      assert.equal(clock.pendingTimers, 0);
    }),
    { numRuns: 300 },
  );
});
