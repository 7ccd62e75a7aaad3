/**
 * ESP security associations as the data path sees them, and the inbound SPI table.
 *
 * Lifetimes in time are driven by the IKE layer; here an SA counts packets and bytes
 * (inner packet octets) and reports soft and hard limits on them, and an outbound SA
 * reports when its sequence number nears or reaches 2^32 - 1 (no ESN: the SA must be
 * rekeyed, RFC 4303 section 3.3.3).
 */
import type { Aead } from '../crypto/types.js';
import { EspError } from './errors.js';
import { ReplayWindow } from './replay-window.js';
import { ESP_IV_LENGTH, ESP_HEADER_LENGTH, ESP_SEQUENCE_MAX, ESP_SEQUENCE_SOFT_DEFAULT, REPLAY_WINDOW_DEFAULT } from './constants.js';

/** Why an inbound packet was dropped. A closed set: every reason has a counter. */
export type EspDropReason =
  /** Shorter than an ESP header, or too short to hold IV, trailer and ICV. */
  | 'short-packet'
  /** SPI 0 or no inbound SA with this SPI. */
  | 'unknown-spi'
  /** The ciphertext does not end on a 4-octet boundary (RFC 4303 section 2.4). */
  | 'bad-length'
  /** The SA reached a hard packet/byte limit and awaits deletion by IKE. */
  | 'sa-expired'
  /** Sequence number 0, already seen, or older than the window (checked before decryption). */
  | 'replay'
  /** The ICV did not verify. */
  | 'auth-failed'
  /** Pad Length beyond the payload, or padding bytes other than 1, 2, 3, ... (RFC 4303 section 2.4). */
  | 'bad-padding'
  /** Next Header is neither 4 (IPv4) nor 41 (IPv6): tunnel mode only. */
  | 'bad-next-header'
  /** The decrypted inner packet is too short or its IP version does not match Next Header. */
  | 'bad-inner-packet'
  /** An authentic dummy packet (Next Header 59, RFC 4303 section 2.6), discarded as the RFC says. */
  | 'dummy-packet';

export const ESP_DROP_REASONS: readonly EspDropReason[] = [
  'short-packet',
  'unknown-spi',
  'bad-length',
  'sa-expired',
  'replay',
  'auth-failed',
  'bad-padding',
  'bad-next-header',
  'bad-inner-packet',
  'dummy-packet',
];

/** Why an outbound packet could not be sealed. */
export type EspSealFailure =
  /** Sequence number 2^32 - 1 was used: the SA must be rekeyed. */
  | 'sequence-exhausted'
  /** The SA reached a hard packet/byte limit. */
  | 'hard-expired'
  /** The inner packet is empty or neither IPv4 nor IPv6. */
  | 'bad-inner-packet'
  /** The output buffer cannot hold the ESP packet at the given offset. */
  | 'buffer-too-small';

export const ESP_SEAL_FAILURES: readonly EspSealFailure[] = [
  'sequence-exhausted',
  'hard-expired',
  'bad-inner-packet',
  'buffer-too-small',
];

export type EspDropCounters = Record<EspDropReason, number>;
export type EspSealFailureCounters = Record<EspSealFailure, number>;

export function newDropCounters(): EspDropCounters {
  const c = {} as EspDropCounters;
  for (const r of ESP_DROP_REASONS) c[r] = 0;
  return c;
}

export function newSealFailureCounters(): EspSealFailureCounters {
  const c = {} as EspSealFailureCounters;
  for (const r of ESP_SEAL_FAILURES) c[r] = 0;
  return c;
}

/** Soft and hard limits on an SA's traffic. Soft: tell IKE to rekey. Hard: stop using it. */
export interface EspSaLimits {
  readonly softPackets?: number;
  readonly hardPackets?: number;
  readonly softBytes?: number;
  readonly hardBytes?: number;
}

export type EspLimitLevel = 'soft' | 'hard';
export type EspLimitKind = 'packets' | 'bytes' | 'sequence';

/** Called once per level, the first time a limit of that level is reached. */
export type EspLimitListener = (sa: EspSa, level: EspLimitLevel, kind: EspLimitKind) => void;

export interface EspSaOptions {
  /** The SPI, 1..2^32-1 (the receiver's choice). */
  readonly spi: number;
  readonly aead: Aead;
  readonly limits?: EspSaLimits;
  readonly onLimit?: EspLimitListener;
}

function checkSpi(spi: number): void {
  if (!Number.isInteger(spi) || spi < 1 || spi > 0xffff_ffff) throw new EspError(`ESP SPI must be in [1, 2^32-1], got ${spi}`);
}

/** What inbound and outbound SAs share: identity, keys, counters, limits. */
export abstract class EspSa {
  readonly spi: number;
  readonly aead: Aead;
  readonly limits: EspSaLimits;
  /** Packets successfully sealed or opened. */
  packets = 0;
  /** Inner packet octets successfully sealed or opened. */
  bytes = 0;
  softExpired = false;
  hardExpired = false;
  /** Which limit hit first at each level, for `show ipsec`. */
  softReason: EspLimitKind | undefined;
  hardReason: EspLimitKind | undefined;
  onLimit: EspLimitListener | undefined;
  /** Preallocated per packet: the explicit IV and the AAD (SPI || sequence number). */
  readonly iv = new Uint8Array(ESP_IV_LENGTH);
  readonly aad = new Uint8Array(ESP_HEADER_LENGTH);

  constructor(options: EspSaOptions) {
    checkSpi(options.spi);
    this.spi = options.spi;
    this.aead = options.aead;
    this.limits = options.limits ?? {};
    this.onLimit = options.onLimit;
  }

  /** Accounts one packet and fires limit events. */
  protected account(innerBytes: number): void {
    this.packets++;
    this.bytes += innerBytes;
    const l = this.limits;
    if (!this.softExpired) {
      if (l.softPackets !== undefined && this.packets >= l.softPackets) this.expire('soft', 'packets');
      else if (l.softBytes !== undefined && this.bytes >= l.softBytes) this.expire('soft', 'bytes');
    }
    if (!this.hardExpired) {
      if (l.hardPackets !== undefined && this.packets >= l.hardPackets) this.expire('hard', 'packets');
      else if (l.hardBytes !== undefined && this.bytes >= l.hardBytes) this.expire('hard', 'bytes');
    }
  }

  protected expire(level: EspLimitLevel, kind: EspLimitKind): void {
    if (level === 'soft') {
      if (this.softExpired) return;
      this.softExpired = true;
      this.softReason = kind;
    } else {
      if (this.hardExpired) return;
      this.hardExpired = true;
      this.hardReason = kind;
    }
    this.onLimit?.(this, level, kind);
  }
}

export interface InboundSaOptions extends EspSaOptions {
  /** Anti-replay window in packets (default 2048). */
  readonly replayWindowSize?: number;
}

/** An SA we receive on: our SPI, the peer's sending keys, a replay window. */
export class InboundSa extends EspSa {
  readonly direction = 'inbound' as const;
  readonly replay: ReplayWindow;
  /** Packets dropped after this SA was found by its SPI. */
  readonly drops: EspDropCounters = newDropCounters();

  constructor(options: InboundSaOptions) {
    super(options);
    this.replay = new ReplayWindow(options.replayWindowSize ?? REPLAY_WINDOW_DEFAULT);
  }

  /** @internal Called by espOpen after a packet was accepted. */
  accepted(innerBytes: number): void {
    this.account(innerBytes);
  }
}

export interface OutboundSaOptions extends EspSaOptions {
  /** The last sequence number already used (default 0: the first packet carries 1). For tests. */
  readonly initialSequence?: number;
  /** Sequence number at which a soft 'sequence' limit fires (default 0xF0000000). */
  readonly sequenceSoftLimit?: number;
}

/** An SA we send on: the peer's SPI, our sending keys, the sequence counter. */
export class OutboundSa extends EspSa {
  readonly direction = 'outbound' as const;
  /** The last sequence number used; 0 before the first packet. */
  seq: number;
  readonly sequenceSoftLimit: number;
  readonly errors: EspSealFailureCounters = newSealFailureCounters();

  constructor(options: OutboundSaOptions) {
    super(options);
    const initial = options.initialSequence ?? 0;
    if (!Number.isInteger(initial) || initial < 0 || initial > ESP_SEQUENCE_MAX) {
      throw new EspError(`initial sequence number must be in [0, 2^32-1], got ${initial}`);
    }
    this.seq = initial;
    this.sequenceSoftLimit = options.sequenceSoftLimit ?? ESP_SEQUENCE_SOFT_DEFAULT;
  }

  /**
   * @internal Takes the next sequence number, or returns 0 when the counter is exhausted.
   * Fires the soft 'sequence' limit at sequenceSoftLimit and the hard one when the last
   * number (2^32 - 1) is handed out.
   */
  nextSequence(): number {
    if (this.seq >= ESP_SEQUENCE_MAX) return 0;
    const seq = ++this.seq;
    if (seq >= this.sequenceSoftLimit) this.expire('soft', 'sequence');
    if (seq === ESP_SEQUENCE_MAX) this.expire('hard', 'sequence');
    return seq;
  }

  /** @internal Called by espSeal after a packet was sealed. */
  sealed(innerBytes: number): void {
    this.account(innerBytes);
  }

  /** @internal */
  failed(reason: EspSealFailure): EspSealFailure {
    this.errors[reason]++;
    return reason;
  }
}

/** Called for every dropped inbound packet (for logs and events); keep it cheap. */
export type EspDropListener = (reason: EspDropReason, spi: number, sa: InboundSa | undefined) => void;

/**
 * Inbound SPI -> SA. Also keeps the node-wide drop counters (every drop, including those
 * also counted on an SA).
 */
export class SaTable {
  private readonly inbound = new Map<number, InboundSa>();
  readonly drops: EspDropCounters = newDropCounters();
  onDrop: EspDropListener | undefined;

  constructor(options: { onDrop?: EspDropListener } = {}) {
    this.onDrop = options.onDrop;
  }

  /** Installs an inbound SA; throws an EspError when its SPI is taken. */
  add(sa: InboundSa): void {
    if (this.inbound.has(sa.spi)) throw new EspError(`inbound SPI 0x${sa.spi.toString(16).padStart(8, '0')} is already installed`);
    this.inbound.set(sa.spi, sa);
  }

  /** Removes an inbound SA; returns it, or undefined when the SPI was not installed. */
  remove(spi: number): InboundSa | undefined {
    const sa = this.inbound.get(spi);
    if (sa !== undefined) this.inbound.delete(spi);
    return sa;
  }

  get(spi: number): InboundSa | undefined {
    return this.inbound.get(spi);
  }

  has(spi: number): boolean {
    return this.inbound.has(spi);
  }

  get size(): number {
    return this.inbound.size;
  }

  values(): IterableIterator<InboundSa> {
    return this.inbound.values();
  }

  /** Sum of all drop counters. */
  get totalDrops(): number {
    let n = 0;
    for (const r of ESP_DROP_REASONS) n += this.drops[r];
    return n;
  }

  /** @internal Counts a drop on the table (and on the SA when known). */
  drop(reason: EspDropReason, spi: number, sa: InboundSa | undefined): void {
    this.drops[reason]++;
    if (sa !== undefined) sa.drops[reason]++;
    this.onDrop?.(reason, spi, sa);
  }
}
