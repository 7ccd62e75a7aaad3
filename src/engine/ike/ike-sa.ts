/**
 * An IKE SA: keys, peer, children, timers, and the task manager that runs its exchanges.
 *
 *   created ──> connecting ──> established ──> rekeying ──> rekeyed ──> deleting ──> destroyed
 *      │  \                       │  ▲  │          │  (won/       ▲          ▲
 *      │   └──> established       │  └──┼──────────┘   failed)    │          │
 *      │   (new SA of a rekey)    │     └──> rekeyed (peer rekeyed us)       │
 *      │                          └──────────────────> deleting ─────────────┘
 *      └──────────────────────────────────────────────────────> destroyed (any state)
 *
 * State changes only through setState(), which checks IKE_TRANSITIONS and emits 'ike-state'.
 */
import type { Clock, Timer } from '../clock.js';
import { createAead } from '../crypto/aead.js';
import { createPrf } from '../crypto/prf.js';
import type { Random } from '../crypto/random.js';
import type { Aead, Prf } from '../crypto/types.js';
import { aeadKeyMaterialLength } from '../crypto/aead.js';
import { deriveChildSaKeys, deriveIkeSaKeys, deriveRekeySkeyseed, deriveSkeyseed, type IkeSaKeys } from '../crypto/key-derivation.js';
import type { Endpoint } from '../net/types.js';
import { endpointKey } from '../net/types.js';
import { ExchangeType } from './constants.js';
import { encodeMessage } from './codec/message.js';
import { openMessage } from './codec/sk.js';
import { checkPayloadRules } from './codec/rules.js';
import type { Message } from './codec/types.js';
import { ChildSa, type ChildSaState } from './child-sa.js';
import { IkeStateError } from './errors.js';
import type { DownReason, IkeEvents } from './events.js';
import { spi64Bytes } from './message.js';
import { softLifetimeMs, type Identity, type PeerConfig } from './peer-config.js';
import { espSuiteName, ikeSuiteName, type EspSuite, type IkeProposalSpec, type IkeSuite } from './proposal.js';
import type { SaInstaller } from './sa-installer.js';
import type { SpiAllocator } from './spi-allocator.js';
import { TaskManager } from './task-manager.js';
import type { Task } from './task.js';
import { ChildDeleteTask } from './tasks/child-delete.js';
import { ChildCreateTask } from './tasks/child-create.js';
import { ChildRekeyTask } from './tasks/child-rekey.js';
import { IkeDeleteTask } from './tasks/ike-delete.js';
import { IkeDpdTask } from './tasks/ike-dpd.js';
import { IkeRekeyTask } from './tasks/ike-rekey.js';
import { tsToString, type TrafficSelector } from './traffic-selector.js';

export type IkeSaState = 'created' | 'connecting' | 'established' | 'rekeying' | 'rekeyed' | 'deleting' | 'destroyed';

export const IKE_TRANSITIONS: Readonly<Record<IkeSaState, readonly IkeSaState[]>> = {
  created: ['connecting', 'established', 'destroyed'],
  connecting: ['established', 'deleting', 'destroyed'],
  established: ['rekeying', 'rekeyed', 'deleting', 'destroyed'],
  rekeying: ['established', 'rekeyed', 'deleting', 'destroyed'],
  rekeyed: ['deleting', 'destroyed'],
  deleting: ['destroyed'],
  destroyed: [],
};

/** Drop and event counters shared by the SAs of one engine. */
export interface IkeCounters {
  [reason: string]: number;
}

/** What an IKE SA needs from its engine. */
export interface IkeSaContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly events: IkeEvents;
  readonly installer: SaInstaller;
  readonly spis: SpiAllocator;
  readonly counters: IkeCounters;
  /** Sends an encoded IKE message (no non-ESP marker) from the SA's local endpoint. */
  sendIke(sa: IkeSa, message: Uint8Array): void;
  /** Responder: the proposals acceptable for an IKE_SA_INIT from `remote`. */
  responderIkeProposals(remote: Endpoint): IkeProposalSpec[];
  /** Responder: peer configs that may match a peer claiming `id` from `remote`, best first. */
  candidateConfigs(id: Identity | undefined, remote: Endpoint): PeerConfig[];
  /** A new SA (from a rekey) or new SPIs: (re)index the SA. */
  register(sa: IkeSa): void;
  onEstablished(sa: IkeSa): void;
  onDestroyed(sa: IkeSa, reason: DownReason, detail?: string): void;
  /** The peer sent INITIAL_CONTACT in IKE_AUTH: other SAs with it are stale. */
  onInitialContact(sa: IkeSa): void;
  /** Asks the data path for traffic counters; marks activity on the SA and its children. */
  pollTraffic(sa: IkeSa): void;
  /** Sends a NAT keepalive (RFC 3948 section 2.3) to the peer. */
  sendKeepalive(sa: IkeSa): void;
  /** An IKE rekey completed: `successor` now stands for the peer. */
  onRekeyed(old: IkeSa, successor: IkeSa): void;
  /** Answers private notifies of an INFORMATIONAL request (the mesh controller); payloads for the response. */
  answerPrivate?(sa: IkeSa, notifies: import('./codec/types.js').NotifyPayload[]): import('./codec/types.js').Payload[] | undefined;
  /** Message trace (LCOS `trace + vpn`): every message sent, and every message received after it was opened. */
  trace?(direction: 'in' | 'out', sa: IkeSa, message: Message): void;
  /** Initiator after IKE_SA_INIT: IKE moves from port 500 to the NAT-T port (RFC 7296 section 2.23). */
  floatToNatT?(sa: IkeSa): void;
  /** Creates a bare SA, e.g. the new SA of an IKE rekey. */
  createIkeSa(init: IkeSaInit): IkeSa;
  /** The responder's IKE_AUTH hooks (auth-hooks.ts). */
  hooks?: import('./auth-hooks.js').ResponderHooks;
}

export interface IkeSaInit {
  /** This end is the original initiator. */
  initiator: boolean;
  spiI: bigint;
  spiR: bigint;
  local: Endpoint;
  remote: Endpoint;
  config?: PeerConfig;
}

let nextIkeId = 1;

/** How long a replaced (rekeyed) IKE or child SA may wait for its DELETE before it goes anyway. */
export const REKEYED_LINGER_MS = 60_000;

/** Wait before a childless IKE SA of ours negotiates a new child (lets pending exchanges finish). */
export const CHILDLESS_RETRY_MS = 5_000;

export class IkeSa {
  readonly ikeId = nextIkeId++;
  readonly initiator: boolean;
  spiI: bigint;
  spiR: bigint;
  local: Endpoint;
  remote: Endpoint;
  /** Undefined on a responder until IKE_AUTH identified the peer. */
  config: PeerConfig | undefined;
  private current: IkeSaState = 'created';
  readonly tasks: TaskManager;
  readonly children = new Map<number, ChildSa>();

  // Negotiated state.
  suite: IkeSuite | undefined;
  prf: Prf | undefined;
  keys: IkeSaKeys | undefined;
  private aeadIn: Aead | undefined;
  private aeadOut: Aead | undefined;
  private ivCounter = 0n;
  nonceI: Uint8Array | undefined;
  nonceR: Uint8Array | undefined;
  /** The IKE_SA_INIT messages as sent/received (the AUTH payload signs them). */
  initRequest: Uint8Array | undefined;
  initResponse: Uint8Array | undefined;
  remoteIdentity: Identity | undefined;
  /** NAT detection: this end is behind a NAT / the peer is. */
  natLocal = false;
  natRemote = false;
  /** The peer sent meshgate's Vendor ID. */
  peerIsMeshgate = false;

  // Lifecycle.
  createdAt: number;
  establishedAt = 0;
  /** When the tunnel (this SA or the one it rekeyed) came up, for uptime. */
  upSince: number | undefined;
  rekeyAt = 0;
  expireAt = 0;
  lastInbound: number;
  rekeys = 0;
  /** Child SA rekeys since the tunnel came up (carried over IKE rekeys). */
  childRekeys = 0;
  /** Traffic of children that are gone (rekeyed, deleted), since the tunnel came up (carried over IKE rekeys). */
  readonly retired = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };
  lastError: string | undefined;
  /** The SA that replaced this one (IKE rekey), or the one this one replaced. */
  replacedBy: IkeSa | undefined;
  /** A passive IKE rekey completed while our own was in flight (RFC 7296 section 2.8.1). */
  rekeyCollision: { newSa: IkeSa; nonceI: Uint8Array; nonceR: Uint8Array } | undefined;
  private timers: Timer[] = [];
  private rekeyTimer: Timer | undefined;
  private expireTimer: Timer | undefined;
  private dpdTimer: Timer | undefined;
  private keepaliveTimer: Timer | undefined;
  private childlessTimer: Timer | undefined;
  destroyReason: DownReason | undefined;

  constructor(
    readonly ctx: IkeSaContext,
    init: IkeSaInit,
  ) {
    this.initiator = init.initiator;
    this.spiI = init.spiI;
    this.spiR = init.spiR;
    this.local = init.local;
    this.remote = init.remote;
    this.config = init.config;
    this.createdAt = ctx.clock.now();
    this.lastInbound = this.createdAt;
    this.tasks = new TaskManager(this);
  }

  get state(): IkeSaState {
    return this.current;
  }

  /** Our SPI: the one the peer addresses us by. */
  get localSpi(): bigint {
    return this.initiator ? this.spiI : this.spiR;
  }

  get peerName(): string {
    return this.config?.name ?? `?${endpointKey(this.remote)}`;
  }

  get ref(): { ikeId: number; peer: string } {
    return { ikeId: this.ikeId, peer: this.peerName };
  }

  canTransition(to: IkeSaState): boolean {
    return IKE_TRANSITIONS[this.current].includes(to);
  }

  setState(to: IkeSaState): void {
    if (to === this.current) return;
    if (!this.canTransition(to)) throw new IkeStateError(`IKE SA ${this.ikeId}: ${this.current} -> ${to} is not a valid transition`);
    const from = this.current;
    this.current = to;
    this.ctx.events.emit('ike-state', { ...this.ref, from, to });
    // A replaced SA waits for its DELETE; should that never come (lost, or the peer settled
    // a collision its own way), it goes anyway.
    if (to === 'rekeyed') this.setTimer(REKEYED_LINGER_MS, () => this.destroy('rekeyed'));
  }

  /** True while it can carry exchanges for its children (not being replaced or removed). */
  get usable(): boolean {
    return this.current === 'established';
  }

  get alive(): boolean {
    return this.current !== 'destroyed';
  }

  count(reason: string): void {
    this.ctx.counters[reason] = (this.ctx.counters[reason] ?? 0) + 1;
  }

  // ---- crypto ----------------------------------------------------------------

  /** Derives the IKE SA keys after IKE_SA_INIT, or after an IKE rekey (`old` = the SA being rekeyed). */
  deriveKeys(suite: IkeSuite, shared: Uint8Array, old?: IkeSa): void {
    if (!this.nonceI || !this.nonceR) throw new IkeStateError('keys derived before both nonces are known');
    this.suite = suite;
    this.prf = createPrf(suite.prf);
    const skeyseed = old
      ? deriveRekeySkeyseed(old.prf!, old.keys!.skD, shared, this.nonceI, this.nonceR)
      : deriveSkeyseed(this.prf, this.nonceI, this.nonceR, shared);
    const encrKeyLength = aeadKeyMaterialLength(suite.encr.id, suite.encr.keyBits);
    this.keys = deriveIkeSaKeys(this.prf, skeyseed, this.nonceI, this.nonceR, spi64Bytes(this.spiI), spi64Bytes(this.spiR), { encrKeyLength });
    skeyseed.fill(0);
    const ei = createAead(suite.encr.id, suite.encr.keyBits, this.keys.skEi);
    const er = createAead(suite.encr.id, suite.encr.keyBits, this.keys.skEr);
    this.aeadOut = this.initiator ? ei : er;
    this.aeadIn = this.initiator ? er : ei;
  }

  get hasKeys(): boolean {
    return this.aeadOut !== undefined;
  }

  /** Encodes a message of this SA; every payload of a message other than IKE_SA_INIT goes into SK. */
  encode(message: Message): Uint8Array {
    if (message.exchangeType === ExchangeType.IKE_SA_INIT) return encodeMessage(message);
    const aead = this.aeadOut;
    if (!aead) throw new IkeStateError(`IKE SA ${this.ikeId}: no keys to protect ${message.exchangeType}`);
    const { payloads, ...rest } = message;
    return encodeMessage(
      { ...rest, payloads: [], encrypted: payloads },
      {
        aead,
        nextIv: () => {
          const iv = new Uint8Array(aead.ivLength);
          new DataView(iv.buffer).setBigUint64(iv.length - 8, ++this.ivCounter);
          return iv;
        },
      },
    );
  }

  /**
   * Verifies and decrypts a received message, checks the exchange's payload rules
   * (codec/rules.ts) and flattens SK into `payloads`. `reason` names a counter.
   */
  open(message: Message): { ok: true; message: Message } | { ok: false; reason: string } {
    let opened = message;
    if (message.exchangeType !== ExchangeType.IKE_SA_INIT) {
      if (!this.aeadIn) return { ok: false, reason: 'no-keys' };
      const r = openMessage(message, this.aeadIn);
      if (!r.ok) return { ok: false, reason: `decode-${r.reason}` };
      opened = r.message;
    }
    const v = checkPayloadRules(opened, opened.exchangeType, opened.response);
    if (v) return { ok: false, reason: `rules-${v.reason}` };
    if (opened.exchangeType === ExchangeType.IKE_SA_INIT) return { ok: true, message: opened };
    const { encrypted, ...rest } = opened;
    return { ok: true, message: { ...rest, payloads: encrypted ?? [] } };
  }

  /** Child SA key material for the exchange's nonces (initiator of that exchange first). */
  childKeys(suite: EspSuite, nonceI: Uint8Array, nonceR: Uint8Array, weInitiated: boolean, pfsShared?: Uint8Array): { inbound: Uint8Array; outbound: Uint8Array } {
    const encrKeyLength = aeadKeyMaterialLength(suite.encr.id, suite.encr.keyBits);
    const k = deriveChildSaKeys(this.prf!, this.keys!.skD, nonceI, nonceR, { encrKeyLength }, pfsShared);
    return weInitiated
      ? { outbound: k.initiatorToResponder.encr, inbound: k.responderToInitiator.encr }
      : { outbound: k.responderToInitiator.encr, inbound: k.initiatorToResponder.encr };
  }

  // ---- children --------------------------------------------------------------

  newChild(): ChildSa {
    const child = new ChildSa(this.ctx.spis.allocateEsp(), (c, from, to) => this.onChildState(c, from, to));
    child.owner = this;
    this.children.set(child.childId, child);
    return child;
  }

  private onChildState(c: ChildSa, from: ChildSaState, to: ChildSaState): void {
    this.ctx.events.emit('child-state', { ...this.childRef(c), from, to });
    if (to === 'rekeyed') {
      // Same for a replaced child whose DELETE never comes.
      this.ctx.clock.setTimer(REKEYED_LINGER_MS, () => {
        if (c.state === 'rekeyed' && c.owner) {
          c.owner.count('rekeyed-child-expired');
          c.owner.removeChild(c, 'rekeyed');
        }
      });
    }
  }

  childRef(c: ChildSa): { ikeId: number; peer: string; childId: number; spiIn: number; spiOut: number } {
    return { ...this.ref, childId: c.childId, spiIn: c.spiIn, spiOut: c.spiOut };
  }

  childByInSpi(spi: number): ChildSa | undefined {
    for (const c of this.children.values()) if (c.spiIn === spi) return c;
    return undefined;
  }

  childByOutSpi(spi: number): ChildSa | undefined {
    for (const c of this.children.values()) if (c.spiOut === spi) return c;
    return undefined;
  }

  /** Hands a negotiated child to the data path (inbound first) and starts its lifetime. */
  installChild(child: ChildSa, rekeyOf?: ChildSa, quiet = false): void {
    child.setState('installing');
    const base = {
      peer: this.peerName,
      ikeId: this.ikeId,
      childId: child.childId,
      encrId: child.suite!.encr.id,
      local: this.local,
      remote: this.remote,
      localTs: child.localTs,
      remoteTs: child.remoteTs,
      ...(child.suite!.encr.keyBits === undefined ? {} : { keyBits: child.suite!.encr.keyBits }),
    };
    this.ctx.installer.installInbound({ ...base, direction: 'in', spi: child.spiIn, keyMaterial: child.keys!.inbound });
    this.ctx.installer.installOutbound({ ...base, direction: 'out', spi: child.spiOut, keyMaterial: child.keys!.outbound });
    child.setState('installed');
    child.installedAt = this.ctx.clock.now();
    child.lastActivity = child.installedAt;
    this.scheduleChildTimers(child);
    if (quiet) return;
    if (rekeyOf) {
      rekeyOf.replacedBy = child;
      this.childRekeys++;
      this.ctx.events.emit('child-rekeyed', { ...this.childRef(rekeyOf), newChildId: child.childId, newSpiIn: child.spiIn, newSpiOut: child.spiOut });
    } else {
      this.ctx.events.emit('child-up', {
        ...this.childRef(child),
        localTs: child.localTs.map(tsToString),
        remoteTs: child.remoteTs.map(tsToString),
        proposal: espSuiteName(child.suite!),
      });
    }
  }

  /** Removes a child from the data path and from this SA. */
  removeChild(child: ChildSa, reason: DownReason): void {
    if (child.state === 'deleted') return;
    child.cancelTimers();
    const wasInstalled = child.state !== 'created' && child.state !== 'installing';
    if (wasInstalled) {
      this.retireTraffic(child);
      this.ctx.installer.remove(child.spiIn, 'in');
      if (child.spiOut !== 0) this.ctx.installer.remove(child.spiOut, 'out');
    }
    child.setState('deleted');
    child.owner = undefined;
    this.children.delete(child.childId);
    this.ctx.spis.releaseEsp(child.spiIn);
    if (wasInstalled && reason !== 'rekeyed') this.ctx.events.emit('child-down', { ...this.childRef(child), reason });
    if (reason !== 'deleted-locally' && reason !== 'idle' && reason !== 'peer-removed' && reason !== 'engine-stopped') this.checkChildless();
  }

  /**
   * A static tunnel that this end initiates must carry a child: when the last one is gone
   * while the IKE SA stays (a lost rekey, a peer that dropped it), negotiate a new one.
   */
  private checkChildless(): void {
    const cfg = this.config;
    // An initiator-only peer config always rebuilds; with role 'both' only the end that
    // initiated this IKE SA does, so that the two ends do not both add a child.
    if (!cfg || cfg.role === 'responder' || cfg.remoteGateways.length === 0 || (cfg.role === 'both' && !this.initiator)) return;
    if (this.childlessTimer?.pending) return;
    this.childlessTimer = this.setTimer(CHILDLESS_RETRY_MS, () => {
      const carrying = [...this.children.values()].some((c) => c.state !== 'deleting' && c.state !== 'deleted' && c.state !== 'rekeyed');
      if (carrying || this.state !== 'established') return;
      if (this.tasks.has((t) => t.type === 'child-create')) return;
      this.count('child-recreated');
      this.queue(new ChildCreateTask(this, true));
    });
  }

  /** Adds a child's final counters to the tunnel's totals before it leaves the data path. */
  private retireTraffic(child: ChildSa): void {
    const usage = this.ctx.installer.usage?.bind(this.ctx.installer);
    if (!usage) return;
    const i = usage(child.spiIn, 'in');
    const o = child.spiOut !== 0 ? usage(child.spiOut, 'out') : undefined;
    this.retired.bytesIn += i?.bytes ?? 0;
    this.retired.packetsIn += i?.packets ?? 0;
    this.retired.bytesOut += o?.bytes ?? 0;
    this.retired.packetsOut += o?.packets ?? 0;
  }

  /** IKE rekey: the successor continues this SA's tunnel counters. */
  passCountersTo(successor: IkeSa): void {
    successor.childRekeys += this.childRekeys;
    successor.retired.bytesIn += this.retired.bytesIn;
    successor.retired.bytesOut += this.retired.bytesOut;
    successor.retired.packetsIn += this.retired.packetsIn;
    successor.retired.packetsOut += this.retired.packetsOut;
    this.childRekeys = 0;
    this.retired.bytesIn = this.retired.bytesOut = this.retired.packetsIn = this.retired.packetsOut = 0;
  }

  /** Drops a child that never got installed (negotiation failed). */
  discardChild(child: ChildSa): void {
    child.cancelTimers();
    if (child.state !== 'deleted') child.setState('deleted');
    child.owner = undefined;
    this.children.delete(child.childId);
    this.ctx.spis.releaseEsp(child.spiIn);
  }

  /** IKE rekey: the children move to the new SA (RFC 7296 section 2.8). */
  moveChildrenTo(target: IkeSa): void {
    for (const c of [...this.children.values()]) {
      this.children.delete(c.childId);
      c.cancelTimers();
      target.adoptChild(c);
    }
  }

  private adoptChild(c: ChildSa): void {
    this.children.set(c.childId, c);
    c.owner = this;
    c.onState = (x, from, to) => this.onChildState(x, from, to);
    if (c.active) this.scheduleChildTimers(c, c.rekeyAt, c.expireAt);
  }

  scheduleChildTimers(child: ChildSa, rekeyAt?: number, expireAt?: number): void {
    const cfg = this.config;
    if (!cfg) return;
    const now = this.ctx.clock.now();
    child.rekeyAt = rekeyAt ?? now + softLifetimeMs(cfg.childLifetime, this.ctx.random.bytes(1)[0]! / 256);
    child.expireAt = expireAt ?? now + cfg.childLifetime.rekeyMs + cfg.childLifetime.overMs;
    child.cancelTimers();
    child.rekeyTimer = this.ctx.clock.setTimer(Math.max(0, child.rekeyAt - now), () => this.expiredChildRekey(child));
    child.expireTimer = this.ctx.clock.setTimer(Math.max(0, child.expireAt - now), () => this.expiredChildLifetime(child));
  }

  /** Soft lifetime of a child: rekey it (on the SA that owns it now). */
  private expiredChildRekey(child: ChildSa): void {
    const owner = this.children.get(child.childId) === child ? this : undefined;
    if (!owner || child.state !== 'installed') return;
    this.queueChildRekey(child);
  }

  private expiredChildLifetime(child: ChildSa): void {
    if (this.children.get(child.childId) !== child || child.state === 'deleted') return;
    this.queueChildDelete(child, 'lifetime-expired');
  }

  // ---- IKE timers ------------------------------------------------------------

  /** Starts lifetime, DPD and keepalive timers once the SA is established. */
  startTimers(): void {
    const cfg = this.config;
    if (!cfg) return;
    const now = this.ctx.clock.now();
    this.rekeyAt = now + softLifetimeMs(cfg.ikeLifetime, this.ctx.random.bytes(1)[0]! / 256);
    this.expireAt = now + cfg.ikeLifetime.rekeyMs + cfg.ikeLifetime.overMs;
    this.rekeyTimer?.cancel();
    this.expireTimer?.cancel();
    this.rekeyTimer = this.ctx.clock.setTimer(this.rekeyAt - now, () => this.expiredIkeRekey());
    this.expireTimer = this.ctx.clock.setTimer(this.expireAt - now, () => this.expiredIkeLifetime());
    this.armDpd();
    this.armKeepalive();
  }

  /** Takes over lifetimes (not restarted on an IKE rekey's new SA: it gets fresh ones). */
  private expiredIkeRekey(): void {
    if (this.current === 'established') this.queueIkeRekey();
  }

  private expiredIkeLifetime(): void {
    if (this.alive && this.current !== 'deleting') this.queueIkeDelete('lifetime-expired');
  }

  armDpd(): void {
    this.dpdTimer?.cancel();
    const interval = this.config?.dpdIntervalMs ?? 0;
    if (interval <= 0 || !this.alive) return;
    const due = Math.max(1, this.lastInbound + interval - this.ctx.clock.now());
    this.dpdTimer = this.ctx.clock.setTimer(due, () => this.expiredDpd());
  }

  private expiredDpd(): void {
    if (!this.alive) return;
    this.ctx.pollTraffic(this);
    const interval = this.config?.dpdIntervalMs ?? 0;
    if (this.ctx.clock.now() - this.lastInbound >= interval && this.current === 'established' && !this.tasks.busy) {
      this.queue(new IkeDpdTask(this));
      this.lastInbound = this.ctx.clock.now(); // next check one interval after this one
    }
    this.armDpd();
  }

  armKeepalive(): void {
    this.keepaliveTimer?.cancel();
    const interval = this.config?.natKeepaliveMs ?? 0;
    if (!this.natLocal || interval <= 0 || !this.alive) return;
    this.keepaliveTimer = this.ctx.clock.setTimer(interval, () => {
      if (!this.alive) return;
      this.ctx.sendKeepalive(this);
      this.armKeepalive();
    });
  }

  /** Something authenticated arrived from the peer. */
  onInbound(): void {
    this.lastInbound = this.ctx.clock.now();
  }

  /** A timer owned by this SA (cancelled when it is destroyed). */
  setTimer(ms: number, fn: () => void): Timer {
    const t = this.ctx.clock.setTimer(ms, () => {
      this.timers = this.timers.filter((x) => x !== t);
      if (this.alive) fn();
    });
    this.timers.push(t);
    return t;
  }

  // ---- end of life -----------------------------------------------------------

  /**
   * Destroys the SA at once: no message is sent. Children are removed from the data path
   * unless they moved to a new SA (rekey).
   */
  destroy(reason: DownReason, detail?: string): void {
    if (this.current === 'destroyed') return;
    const wasUp = this.upSince !== undefined && this.current !== 'rekeyed' && reason !== 'rekeyed' && !this.replacedBy;
    this.destroyReason = reason;
    if (detail) this.lastError = detail;
    for (const c of [...this.children.values()]) this.removeChild(c, reason === 'rekeyed' ? 'deleted-locally' : reason);
    this.tasks.abort();
    for (const t of [this.rekeyTimer, this.expireTimer, this.dpdTimer, this.keepaliveTimer, ...this.timers]) t?.cancel();
    this.timers = [];
    this.setState('destroyed');
    this.ctx.spis.releaseIke(this.localSpi);
    if (wasUp) this.ctx.events.emit('ike-down', detail ? { ...this.ref, reason, detail } : { ...this.ref, reason });
    this.ctx.onDestroyed(this, reason, detail);
  }

  /** The tasks' path to a fatal failure: record, emit and destroy. */
  fail(reason: DownReason, detail: string): void {
    this.lastError = detail;
    this.destroy(reason, detail);
  }

  queue(task: Task): void {
    this.tasks.queue(task);
  }

  queueChildRekey(child: ChildSa): void {
    if (this.tasks.has((t) => t.type === 'child-rekey' && (t as ChildRekeyTask).child === child)) return;
    this.queue(new ChildRekeyTask(this, child));
  }

  queueChildDelete(child: ChildSa, reason: DownReason): void {
    if (this.tasks.has((t) => t.type === 'child-delete' && (t as ChildDeleteTask).children.includes(child))) return;
    this.queue(new ChildDeleteTask(this, [child], reason));
  }

  queueIkeRekey(): void {
    if (this.tasks.has((t) => t.type === 'ike-rekey')) return;
    this.queue(new IkeRekeyTask(this));
  }

  queueIkeDelete(reason: DownReason): void {
    if (this.tasks.has((t) => t.type === 'ike-delete')) return;
    this.queue(new IkeDeleteTask(this, reason));
  }

  describeSuite(): string {
    return this.suite ? ikeSuiteName(this.suite) : '-';
  }
}
