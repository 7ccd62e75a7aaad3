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

/**
 * A clock that moves only when told to. Timers fire in due order (ties in the
 * order they were set), and a timer set by a firing timer fires in the same
 * advance() if it falls due within it.
 */
export class FakeClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly timers: FakeTimerEntry[] = [];
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
    this.timers.push(entry);
    return {
      cancel: () => {
        entry.pending = false;
      },
      get pending() {
        return entry.pending;
      },
    };
  }

  /** Number of timers that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => t.pending).length;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ${ms} is not a non-negative number`);
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.due > target) break;
      this.current = next.due;
      next.pending = false;
      this.timers.splice(this.timers.indexOf(next), 1);
      next.fn();
    }
    this.current = target;
    // Drop cancelled entries so long-running scenarios do not accumulate them.
    for (let i = this.timers.length - 1; i >= 0; i--) if (!this.timers[i]!.pending) this.timers.splice(i, 1);
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

  private nextDue(): FakeTimerEntry | undefined {
    let best: FakeTimerEntry | undefined;
    for (const t of this.timers) {
      if (!t.pending) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
