/**
 * Rate limiting of mesh requests per destination, as LCOS's Initial-Rate-Limit-Sec and
 * Max-Rate-Limit-Sec describe it: after a request, no new one for the same destination
 * until the limit has passed; each failure doubles the limit up to the maximum; a
 * success resets it. A granted request stays valid for Request-Validity-Sec.
 */

export interface BackoffSettings {
  initialRateLimitSec: number;
  maxRateLimitSec: number;
  requestValiditySec: number;
}

export interface BackoffState {
  requests: number;
  lastRequestAt?: number;
  failures: number;
  /** Milliseconds (clock time) before which no new request may be sent. */
  blockedUntil: number;
  /** Current limit in seconds (doubles on failure). */
  currentLimitSec: number;
  /** Clock time at which a granted mapping expires, if granted. */
  validUntil?: number;
  lastFailure?: string;
}

export class RequestBackoff {
  private readonly states = new Map<string, BackoffState>();

  constructor(
    private settings: BackoffSettings,
    private readonly now: () => number,
  ) {}

  update(settings: BackoffSettings): void {
    this.settings = settings;
  }

  /** True when a request for key may be sent now; records it when so. */
  tryRequest(key: string): boolean {
    const s = this.state(key);
    const t = this.now();
    if (t < s.blockedUntil) return false;
    s.requests++;
    s.lastRequestAt = t;
    s.blockedUntil = t + s.currentLimitSec * 1000;
    return true;
  }

  /** Milliseconds until a new request for key is allowed (0 when allowed now). */
  rateLimitedForMs(key: string): number {
    const s = this.states.get(key);
    return s ? Math.max(0, s.blockedUntil - this.now()) : 0;
  }

  /** Milliseconds the granted mapping for key stays valid (0 when none). */
  validForMs(key: string): number {
    const s = this.states.get(key);
    return s?.validUntil !== undefined ? Math.max(0, s.validUntil - this.now()) : 0;
  }

  succeeded(key: string): void {
    const s = this.state(key);
    s.failures = 0;
    s.currentLimitSec = this.settings.initialRateLimitSec;
    s.validUntil = this.now() + this.settings.requestValiditySec * 1000;
    delete s.lastFailure;
  }

  /** A failure doubles the limit (bounded) and blocks requests for that long from now. */
  failed(key: string, reason: string): void {
    const s = this.state(key);
    s.failures++;
    s.lastFailure = reason;
    s.currentLimitSec = Math.min(this.settings.maxRateLimitSec, Math.max(1, s.currentLimitSec * 2));
    s.blockedUntil = this.now() + s.currentLimitSec * 1000;
    delete s.validUntil;
  }

  /** Refreshes a mapping in use before it expires. */
  refresh(key: string): void {
    const s = this.states.get(key);
    if (s?.validUntil !== undefined) s.validUntil = this.now() + this.settings.requestValiditySec * 1000;
  }

  forget(key: string): void {
    this.states.delete(key);
  }

  get(key: string): Readonly<BackoffState> | undefined {
    return this.states.get(key);
  }

  keys(): IterableIterator<string> {
    return this.states.keys();
  }

  private state(key: string): BackoffState {
    let s = this.states.get(key);
    if (!s) {
      s = { requests: 0, failures: 0, blockedUntil: 0, currentLimitSec: this.settings.initialRateLimitSec };
      this.states.set(key, s);
    }
    return s;
  }
}
