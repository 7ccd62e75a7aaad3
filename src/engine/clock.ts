/**
 * The one clock of the engine. Every timer in the engine goes through a Clock so
 * that the same code runs on wall time in production and on a FakeClock in tests,
 * where multi-node scenarios advance time deterministically instead of sleeping.
 */

export interface Timer {
  /** Stops the timer; calling it again, or after it fired, does nothing. */
  cancel(): void;
  /** True until the timer fired or was cancelled. */
  readonly pending: boolean;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch; monotonic. */
  now(): number;
  /** Wall-clock time for display (log stamps, "since" columns). */
  wallTime(): Date;
  /** Runs fn once after ms milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** Wall time, backed by Node's timers. A pending timer keeps the process alive: stop the engine to end. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  wallTime(): Date {
    return new Date();
  }

  setTimer(ms: number, fn: () => void): Timer {
    let pending = true;
    const handle = setTimeout(() => {
      pending = false;
      fn();
    }, Math.max(0, ms));
    return {
      cancel() {
        if (pending) {
          pending = false;
          clearTimeout(handle);
        }
      },
      get pending() {
        return pending;
      },
    };
  }
}

interface FakeTimerEntry {
  due: number;
  seq: number;
  fn: () => void;
  pending: boolean;
}

function earlier(a: FakeTimerEntry, b: FakeTimerEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * A clock that moves only when told to. Timers fire in due order (ties in the order they
 * were set), and a timer set by a firing timer fires in the same advance() if it falls due
 * within it. Timers sit in a binary heap, so scenarios with 100,000 pending timers (a hub
 * with thousands of SAs) stay fast; cancelled ones are dropped when they reach the top.
 */
export class FakeClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly heap: FakeTimerEntry[] = [];
  private live = 0;
  private readonly epochMs: number;

  constructor(startWallTime = Date.UTC(2026, 0, 1)) {
    this.epochMs = startWallTime;
  }

  now(): number {
    return this.current;
  }

  wallTime(): Date {
    return new Date(this.epochMs + this.current);
  }

  setTimer(ms: number, fn: () => void): Timer {
    const entry: FakeTimerEntry = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, pending: true };
    this.push(entry);
    this.live++;
    const clock = this;
    return {
      cancel: () => {
        if (entry.pending) {
          entry.pending = false;
          clock.live--;
        }
      },
      get pending() {
        return entry.pending;
      },
    };
  }

  /** Number of timers that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.live;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ${ms} is not a non-negative number`);
    const target = this.current + ms;
    for (;;) {
      const next = this.peek();
      if (next === undefined || next.due > target) break;
      this.pop();
      this.current = next.due;
      next.pending = false;
      this.live--;
      next.fn();
    }
    this.current = target;
  }

  /** Advances in steps of stepMs until pred() holds or maxMs has passed; returns whether it held. */
  advanceUntil(pred: () => boolean, maxMs: number, stepMs = 1): boolean {
    let waited = 0;
    while (!pred()) {
      if (waited >= maxMs) return false;
      this.advance(stepMs);
      waited += stepMs;
    }
    return true;
  }

  /** The earliest pending timer (cancelled ones on top are discarded). */
  private peek(): FakeTimerEntry | undefined {
    while (this.heap.length > 0 && !this.heap[0]!.pending) this.pop();
    return this.heap[0];
  }

  private push(e: FakeTimerEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): FakeTimerEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && earlier(h[l]!, h[m]!)) m = l;
        if (r < h.length && earlier(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
