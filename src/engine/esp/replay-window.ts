/**
 * The ESP anti-replay window (RFC 4303 section 3.4.3), as a ring of 32-bit words in the
 * style of RFC 6479: advancing the window clears whole words instead of shifting bits,
 * so a check or a commit costs O(1) (O(words) for a jump, bounded by the ring size).
 *
 * Usage on the receive path (strongSwan's verify_seqno / set_authenticated_seqno):
 *   1. check(seq) before decryption: no side effects;
 *   2. authenticate and decrypt;
 *   3. commit(seq) only after authentication succeeded.
 *
 * Without ESN the sequence numbers are 32-bit, start at 1 and never wrap.
 */
import { EspError } from './errors.js';
import { REPLAY_WINDOW_DEFAULT, REPLAY_WINDOW_MAX, REPLAY_WINDOW_MIN } from './constants.js';

const WORD_BITS = 32;

export interface ReplayWindowState {
  /** Highest sequence number committed so far; 0 before the first. */
  readonly top: number;
  /** A copy of the ring. */
  readonly bitmap: Uint32Array;
}

export class ReplayWindow {
  /** Packets accepted behind the highest one: seq is acceptable when top - seq < size. */
  readonly size: number;
  private readonly bitmap: Uint32Array;
  private readonly wordMask: number;
  private topSeq = 0;

  constructor(size: number = REPLAY_WINDOW_DEFAULT) {
    if (!Number.isInteger(size) || size < REPLAY_WINDOW_MIN || size > REPLAY_WINDOW_MAX) {
      throw new EspError(`replay window size must be an integer in [${REPLAY_WINDOW_MIN}, ${REPLAY_WINDOW_MAX}], got ${size}`);
    }
    this.size = size;
    // One spare word beyond the window so the word being filled never aliases the oldest
    // word still in the window; rounded up to a power of two for masking.
    let words = 1;
    while (words < Math.ceil(size / WORD_BITS) + 1) words <<= 1;
    this.bitmap = new Uint32Array(words);
    this.wordMask = words - 1;
  }

  /** Highest sequence number committed so far; 0 before the first. */
  get top(): number {
    return this.topSeq;
  }

  /**
   * True when `seq` may be accepted: not 0, not older than the window, not seen before.
   * No side effects.
   */
  check(seq: number): boolean {
    if (!(seq >= 1 && seq <= 0xffff_ffff) || !Number.isInteger(seq)) return false;
    if (seq > this.topSeq) return true;
    if (this.topSeq - seq >= this.size) return false;
    const word = this.bitmap[(seq >>> 5) & this.wordMask]!;
    return (word & (1 << (seq & 31))) === 0;
  }

  /**
   * Records `seq` as received. Call only after the packet authenticated. Returns false
   * (and changes nothing) when check(seq) would be false, so that two packets with the
   * same number that both authenticate cannot both be accepted.
   */
  commit(seq: number): boolean {
    if (!this.check(seq)) return false;
    if (seq > this.topSeq) {
      const topWord = this.topSeq >>> 5;
      const newWord = seq >>> 5;
      const clear = Math.min(newWord - topWord, this.bitmap.length);
      for (let i = 1; i <= clear; i++) this.bitmap[(topWord + i) & this.wordMask] = 0;
      this.topSeq = seq;
    }
    this.bitmap[(seq >>> 5) & this.wordMask]! |= 1 << (seq & 31);
    return true;
  }

  /** A copy of the internal state, for diagnostics and tests. */
  state(): ReplayWindowState {
    return { top: this.topSeq, bitmap: this.bitmap.slice() };
  }
}
