/**
 * A child SA: a pair of ESP SAs (inbound with our SPI, outbound with the peer's) and the
 * traffic selectors they carry.
 *
 *   created ──> installing ──> installed ──> rekeying ──> rekeyed ──> deleting ──> deleted
 *      │             │            │ ▲  │          │                       ▲
 *      │             │            │ └──┼──────────┘ (rekey failed/lost)   │
 *      │             │            │    └──> rekeyed (peer rekeyed it)     │
 *      │             │            └──────────────> deleting ──────────────┘
 *      └─────────────┴──────────────────────────────────────> deleted (any state)
 *
 * State changes only through setState(), which checks TRANSITIONS and emits 'child-state'.
 */
import type { Timer } from '../clock.js';
import { IkeStateError } from './errors.js';
import type { IkeSa } from './ike-sa.js';
import type { EspSuite } from './proposal.js';
import type { SaUsage } from './sa-installer.js';
import type { TrafficSelector } from './traffic-selector.js';

export type ChildSaState = 'created' | 'installing' | 'installed' | 'rekeying' | 'rekeyed' | 'deleting' | 'deleted';

export const CHILD_TRANSITIONS: Readonly<Record<ChildSaState, readonly ChildSaState[]>> = {
  created: ['installing', 'deleted'],
  installing: ['installed', 'deleted'],
  installed: ['rekeying', 'rekeyed', 'deleting', 'deleted'],
  rekeying: ['installed', 'rekeyed', 'deleting', 'deleted'],
  rekeyed: ['deleting', 'deleted'],
  deleting: ['deleted'],
  deleted: [],
};

export interface ChildSaKeyMaterial {
  /** Key material (key + salt) for our inbound SA. */
  inbound: Uint8Array;
  /** Key material for our outbound SA. */
  outbound: Uint8Array;
}

/** What a passive rekey of this child left behind while our own rekey was in flight (RFC 7296 section 2.8.1). */
export interface ChildRekeyCollision {
  /** The child created by the peer's rekey exchange. */
  newChild: ChildSa;
  nonceI: Uint8Array;
  nonceR: Uint8Array;
}

let nextChildId = 1;

export class ChildSa {
  readonly childId = nextChildId++;
  private current: ChildSaState = 'created';
  /** Our SPI (inbound). */
  readonly spiIn: number;
  /** The peer's SPI (our outbound). */
  spiOut = 0;
  suite: EspSuite | undefined;
  keys: ChildSaKeyMaterial | undefined;
  localTs: TrafficSelector[] = [];
  remoteTs: TrafficSelector[] = [];
  /** Clock time when it was installed. */
  installedAt = 0;
  /** Soft (rekey) and hard (delete) expiry as clock times. */
  rekeyAt = 0;
  expireAt = 0;
  rekeyTimer: Timer | undefined;
  expireTimer: Timer | undefined;
  /** Set while our own rekey of this child is in flight and the peer rekeyed it too. */
  collision: ChildRekeyCollision | undefined;
  /** The child that replaced this one. */
  replacedBy: ChildSa | undefined;
  /** The usage counters when it was last looked at (short hold / DPD inactivity). */
  lastUsage: { in: SaUsage; out: SaUsage } = { in: { bytes: 0, packets: 0 }, out: { bytes: 0, packets: 0 } };
  lastActivity = 0;
  /** The IKE SA that owns it now (changes on an IKE rekey); undefined once deleted. */
  owner: IkeSa | undefined;
  /** Whether this end initiated the exchange that created the child. */
  initiatedByUs = false;

  /** Told of every state change; rebound when the child moves to a new IKE SA (IKE rekey). */
  onState: (sa: ChildSa, from: ChildSaState, to: ChildSaState) => void;

  constructor(spiIn: number, onState: (sa: ChildSa, from: ChildSaState, to: ChildSaState) => void) {
    this.spiIn = spiIn;
    this.onState = onState;
  }

  get state(): ChildSaState {
    return this.current;
  }

  canTransition(to: ChildSaState): boolean {
    return CHILD_TRANSITIONS[this.current].includes(to);
  }

  setState(to: ChildSaState): void {
    if (to === this.current) return;
    if (!this.canTransition(to)) throw new IkeStateError(`child SA ${this.childId}: ${this.current} -> ${to} is not a valid transition`);
    const from = this.current;
    this.current = to;
    this.onState(this, from, to);
  }

  cancelTimers(): void {
    this.rekeyTimer?.cancel();
    this.expireTimer?.cancel();
    this.rekeyTimer = undefined;
    this.expireTimer = undefined;
  }

  /** True for states in which it carries traffic. */
  get active(): boolean {
    return this.current === 'installed' || this.current === 'rekeying';
  }
}

