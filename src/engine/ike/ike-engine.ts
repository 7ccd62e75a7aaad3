/**
 * The IKE engine: one Transport (IKE and ESP on one port, RFC 3948), the IKE SAs indexed
 * by SPI, the peers, and the jobs around them (reconnect with backoff, hub failover,
 * short hold, NAT keepalives). ESP datagrams are handed to the data path's callback.
 *
 *   datagram ─ classifyUdpPayload ─┬─ keepalive  counted
 *                                  ├─ esp        onEsp(datagram, from)
 *                                  ├─ malformed  counted
 *                                  └─ ike ─ decodeMessage ─ IKE_SA_INIT request? ─ cookie check ─ new responder SA
 *                                                         └─ SA by our SPI ─ open (SK, payload rules) ─ TaskManager
 *
 * Every drop increments a named counter (`counters`); nothing on the receive path throws.
 */
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '../clock.js';
import { defaultRandom, type Random } from '../crypto/random.js';
import type { Endpoint, Transport } from '../net/types.js';
import { endpointKey } from '../net/types.js';
import { NAT_KEEPALIVE, classifyUdpPayload, frameIke } from '../net/udp-demux.js';
import { ExchangeType, NotifyType, PayloadType } from './constants.js';
import { decodeMessage, encodeMessage } from './codec/message.js';
import { checkPayloadRules } from './codec/rules.js';
import type { Message, NotifyPayload, Payload } from './codec/types.js';
import { IkeConfigError } from './errors.js';
import { responderHooks, type ResponderHookOptions } from './auth-hooks.js';
import { TypedEmitter, type DownReason, type IkeEventMap } from './events.js';
import { IkeSa, type IkeCounters, type IkeSaContext, type IkeSaInit, type IkeSaState } from './ike-sa.js';
import { bytesEqual, compareBytes, concatBytes, findNotify, first, notifyPayload, spi64Bytes } from './message.js';
import { identityEquals, identityPayload, identityToString, resolvePeerConfig, type Identity, type PeerConfig, type PeerConfigInput } from './peer-config.js';
import { espSuiteName, type IkeProposalSpec } from './proposal.js';
import { RecordingSaInstaller, type SaInstaller } from './sa-installer.js';
import { SpiAllocator } from './spi-allocator.js';
import { ChildCreateTask } from './tasks/child-create.js';
import { IkeAuthTask } from './tasks/ike-auth.js';
import { IkeInitTask } from './tasks/ike-init.js';
import { InformationalTask } from './tasks/informational.js';
import { tsFromCidr, tsToString } from './traffic-selector.js';

export interface IkeEngineOptions extends ResponderHookOptions {
  clock: Clock;
  /** The NAT-T port (4500): IKE with the non-ESP marker, ESP in UDP, keepalives (RFC 3948). */
  transport: Transport;
  /**
   * The plain IKE port (500), optional: bare IKE only. IKE SAs that start there move to the
   * NAT-T port after IKE_SA_INIT (RFC 7296 section 2.23); meshgate forces that move, since it
   * has no raw ESP.
   */
  ikeTransport?: Transport;
  /** The ESP data path; a RecordingSaInstaller when absent. */
  installer?: SaInstaller;
  random?: Random;
  /** ESP datagrams (first byte a non-zero SPI) for the data path. */
  onEsp?: (datagram: Uint8Array, from: Endpoint) => void;
  /** Half-open responder SAs at which IKE_SA_INIT must carry a COOKIE (RFC 7296 section 2.6). Default 100. */
  cookieThreshold?: number;
  /** Half-open responder SAs beyond which IKE_SA_INIT is dropped even with a valid cookie. Default 10,000. */
  maxHalfOpen?: number;
  /** A responder SA not authenticated within this is dropped. Default 30 s. */
  halfOpenTimeoutMs?: number;
  /** Delay of the first attempt on the next gateway after a failover. Default 1 s. */
  failoverDelayMs?: number;
  /** Reconnect delay of an initiator after the peer deleted its working tunnel. Default 5 s. */
  peerDeleteReconnectMs?: number;
  /**
   * Failback: while a tunnel runs on a backup gateway, the primary (the first Remote-Gateway)
   * is probed after this, then after twice as long after each failed probe, up to
   * failbackMaxMs. A probe is a full IKE_SA_INIT + IKE_AUTH to the primary next to the
   * running tunnel (make before break): when it comes up, the tunnel moves back and the SA
   * with the backup is deleted. Default 60 s; 0 turns failback off.
   */
  failbackProbeMs?: number;
  /** Longest wait between probes of the primary. Default 15 min. */
  failbackMaxMs?: number;
  /** A duplicate IKE SA that a non-meshgate peer initiated is deleted by us after this. Default 10 s. */
  duplicateGraceMs?: number;
  /**
   * Answers meshgate's private notifies (INFORMATIONAL requests from a meshgate peer): the
   * returned payloads go into the response. The 'private-notify' event fires as well.
   */
  answerPrivate?: (sa: IkeSa, notifies: NotifyPayload[]) => Payload[] | undefined;
  /** Message trace: each IKE message sent, and each one received once it is decrypted. */
  trace?: (direction: 'in' | 'out', sa: IkeSa, message: Message) => void;
}

export type PeerState = 'down' | 'connecting' | 'up' | 'waiting';

interface Peer {
  config: PeerConfig;
  /** Every IKE SA that belongs to this peer config (a wildcard responder config may have many). */
  sas: Set<IkeSa>;
  /** The SA this end initiated (or its rekeyed successor). */
  initiated: IkeSa | undefined;
  gatewayIndex: number;
  failures: number;
  reconnectTimer: Timer | undefined;
  reconnectAt: number;
  /** Failback: the next probe of the primary gateway while the tunnel runs on a backup. */
  probeTimer: Timer | undefined;
  /** The probe in flight (an SA to the primary, not yet the peer's). */
  probe: IkeSa | undefined;
  /** Failed probes since the tunnel left the primary (the delay doubles). */
  probeFailures: number;
  lastError: string | undefined;
  removed: boolean;
}

export interface ChildSaStatus {
  childId: number;
  state: string;
  spiIn: string;
  spiOut: string;
  proposal: string;
  localTs: string[];
  remoteTs: string[];
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  installedForMs: number;
  rekeyInMs: number;
  expireInMs: number;
}

export interface IkeSaStatus {
  ikeId: number;
  peer: string;
  state: IkeSaState;
  initiator: boolean;
  spiI: string;
  spiR: string;
  local: string;
  remote: string;
  remoteId: string | undefined;
  proposal: string;
  natLocal: boolean;
  natRemote: boolean;
  establishedForMs: number;
  rekeyInMs: number;
  expireInMs: number;
  rekeys: number;
  childRekeys: number;
  lastError: string | undefined;
  messageIds: { initiating: number; responding: number };
  children: ChildSaStatus[];
}

export interface PeerStatus {
  peer: string;
  role: string;
  state: PeerState;
  localGateway: string;
  remoteGateway: string;
  localNetworks: string[];
  remoteNetworks: string[];
  proposal: string;
  uptimeMs: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** IKE SA rekeys since the tunnel came up. */
  rekeys: number;
  /** Child SA rekeys since the tunnel came up (the traffic counters run on across them). */
  childRekeys: number;
  lastError: string | undefined;
  retryInMs: number | undefined;
  ikeId: number | undefined;
}

export interface IkeEngineSnapshot {
  peers: PeerStatus[];
  ikeSas: IkeSaStatus[];
  counters: Record<string, number>;
}

const NO_RECONNECT: ReadonlySet<DownReason> = new Set<DownReason>(['peer-removed', 'engine-stopped', 'rekeyed', 'idle', 'replaced-by-initial-contact', 'duplicate', 'deleted-locally']);
const PEER_UNREACHABLE: ReadonlySet<DownReason> = new Set<DownReason>(['timeout', 'dpd-timeout']);
const COOKIE_VERSION = 1;
/** At most this many N(INVALID_IKE_SPI) answers per second in all (RFC 7296 section 2.21.4). */
export const INVALID_SPI_PER_SECOND = 20;
/** Failback: first probe of the primary gateway after the tunnel moved to a backup, and the longest wait. */
export const FAILBACK_PROBE_MS = 60_000;
export const FAILBACK_MAX_MS = 15 * 60_000;
/** A probe of the primary gives up after IKE_SA_INIT and this many retransmissions (4 + 7.2 s). */
const FAILBACK_PROBE_RETRANSMITS = 2;
/** How long a duplicate IKE SA that a non-meshgate peer initiated is left for the peer to remove. */
export const DUPLICATE_GRACE_MS = 10_000;
/** Reconnect delay after the peer deleted a tunnel that was up (it gets the first chance to rebuild it). */
export const PEER_DELETE_RECONNECT_MS = 5_000;

/** The IKE port without NAT traversal (RFC 7296 section 2): no non-ESP marker there. */
const IKE_PORT = 500;
/** How often child SAs' byte counters are compared with a volume lifetime. */
const VOLUME_CHECK_MS = 2_000;
/** Where IKE floats to (RFC 7296 section 2.23) when the peer was addressed on port 500. */
const NAT_T_PORT = 4500;

/** IKE bytes as the remote port wants them: bare to port 500, with the non-ESP marker elsewhere. */
function frameFor(bytes: Uint8Array, to: Endpoint): Uint8Array {
  return to.port === IKE_PORT ? bytes : frameIke(bytes);
}

function hex(spi: bigint | number, bytes: number): string {
  return spi.toString(16).padStart(bytes * 2, '0');
}

export class IkeEngine {
  readonly events = new TypedEmitter<IkeEventMap>();
  readonly counters: IkeCounters = {};
  readonly installer: SaInstaller;
  private readonly clock: Clock;
  private readonly transport: Transport;
  private ikeTransport: Transport | undefined;
  private readonly random: Random;
  private readonly spis: SpiAllocator;
  private readonly peers = new Map<string, Peer>();
  /** IKE SAs by our SPI. */
  private readonly sas = new Map<bigint, IkeSa>();
  /** IKE SAs by their engine-unique id (show commands, mesh messages). */
  private readonly byIkeId = new Map<number, IkeSa>();
  /** Responder SAs by SPIi and remote endpoint (IKE_SA_INIT retransmissions find them). */
  private readonly bySpiI = new Map<string, IkeSa>();
  /** The bySpiI key of a responder SA (its remote endpoint may change after IKE_SA_INIT). */
  private readonly initKeyOf = new Map<IkeSa, string>();
  private readonly halfOpen = new Set<IkeSa>();
  private readonly saPeer = new Map<IkeSa, Peer>();
  /** Established SAs by peer config and remote identity (INITIAL_CONTACT, duplicates). */
  private readonly byIdentity = new Map<string, Set<IkeSa>>();
  private readonly identityKeyOf = new Map<IkeSa, string>();
  private readonly cookieSecret: Uint8Array;
  private readonly ctx: IkeSaContext;
  private stopped = false;
  /** Rate limit of INVALID_IKE_SPI answers: the current one-second window. */
  private invalidSpiWindow = { start: -Infinity, sent: 0, to: new Set<string>() };

  constructor(private readonly options: IkeEngineOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    this.random = options.random ?? defaultRandom;
    this.installer = options.installer ?? new RecordingSaInstaller();
    this.spis = new SpiAllocator(this.random);
    this.cookieSecret = this.random.bytes(32);
    const engine = this;
    this.ctx = {
      clock: this.clock,
      random: this.random,
      events: this.events,
      installer: this.installer,
      spis: this.spis,
      counters: this.counters,
      sendIke: (sa, bytes) => {
        const via = engine.transportOf(sa.local);
        engine.send(via === engine.transport ? frameFor(bytes, sa.remote) : bytes, sa.remote, via);
      },
      floatToNatT: (sa) => engine.floatToNatT(sa),
      responderIkeProposals: (remote) => engine.responderIkeProposals(remote),
      candidateConfigs: (id, remote) => engine.candidateConfigs(id, remote),
      register: (sa) => {
        engine.sas.set(sa.localSpi, sa);
        engine.byIkeId.set(sa.ikeId, sa);
      },
      onEstablished: (sa) => engine.onEstablished(sa),
      onDestroyed: (sa, reason) => engine.onDestroyed(sa, reason),
      onInitialContact: (sa) => engine.onInitialContact(sa),
      onRekeyed: (old, successor) => engine.onRekeyed(old, successor),
      pollTraffic: (sa) => engine.pollTraffic(sa),
      sendKeepalive: (sa) => {
        engine.count('tx-keepalive');
        engine.send(NAT_KEEPALIVE, sa.remote);
      },
      createIkeSa: (init) => engine.createSa(init),
    };
    if (options.trace) this.ctx.trace = options.trace;
    if (options.answerPrivate) this.ctx.answerPrivate = options.answerPrivate;
    this.ctx.hooks = responderHooks(options, () => this.responderConfigs());
    this.transport.onReceive((p, from) => this.onDatagram(p, from, this.transport));
    if (options.ikeTransport) this.attachIkeTransport(options.ikeTransport);
  }

  /**
   * Adds the plain IKE port (500) to a running engine (the daemon opens it next to the NAT-T
   * port). The engine closes it on stop().
   */
  attachIkeTransport(t: Transport): void {
    if (this.ikeTransport) throw new IkeConfigError('ikeTransport', 'the engine has an IKE port already');
    this.ikeTransport = t;
    t.onReceive((p, from) => this.onDatagram(p, from, t));
  }

  get local(): Endpoint {
    return this.transport.local;
  }

  /** The plain IKE endpoint (port 500), when the engine has one. */
  get ikeLocal(): Endpoint | undefined {
    return this.ikeTransport?.local;
  }

  /** The transport an SA's local endpoint belongs to. */
  private transportOf(local: Endpoint): Transport {
    const t = this.ikeTransport;
    return t && local.port === t.local.port && local.address === t.local.address ? t : this.transport;
  }

  /**
   * The initiator's move to the NAT-T port after IKE_SA_INIT (RFC 7296 section 2.23): an SA
   * that started on port 500 (ours or the peer's) continues from our NAT-T port to the peer's
   * port 4500, with the non-ESP marker; ESP follows the same way.
   */
  private floatToNatT(sa: IkeSa): void {
    if (this.transportOf(sa.local) === this.transport && sa.remote.port !== IKE_PORT) return;
    sa.local = this.transport.local;
    if (sa.remote.port === IKE_PORT) sa.remote = { address: sa.remote.address, port: NAT_T_PORT };
    this.count('nat-t-float');
  }

  private count(reason: string): void {
    this.counters[reason] = (this.counters[reason] ?? 0) + 1;
  }

  private send(payload: Uint8Array, to: Endpoint, via: Transport = this.transport): void {
    if (this.stopped) return;
    if (via.send(payload, to)) this.count('tx-datagrams');
    else this.count('tx-failed');
  }

  private createSa(init: IkeSaInit): IkeSa {
    const sa = new IkeSa(this.ctx, init);
    this.sas.set(sa.localSpi, sa);
    this.byIkeId.set(sa.ikeId, sa);
    const peer = init.config ? this.peers.get(init.config.name) : undefined;
    if (peer && peer.config === init.config) {
      peer.sas.add(sa);
      this.saPeer.set(sa, peer);
    }
    return sa;
  }

  // ---- peers -----------------------------------------------------------------

  /** Adds a peer; an initiator's tunnel comes up at once. Throws IkeConfigError for a bad config. */
  addPeer(input: PeerConfigInput | PeerConfig): PeerConfig {
    const config = 'auth' in input ? input : resolvePeerConfig(input);
    if (this.peers.has(config.name)) throw new IkeConfigError('name', `peer '${config.name}' exists; use replacePeer`);
    const peer: Peer = { config, sas: new Set(), initiated: undefined, gatewayIndex: 0, failures: 0, reconnectTimer: undefined, reconnectAt: 0, probeTimer: undefined, probe: undefined, probeFailures: 0, lastError: undefined, removed: false };
    this.peers.set(config.name, peer);
    if (this.initiates(config)) this.connect(peer);
    return config;
  }

  /** Replaces a peer's config: its SAs are deleted and, for an initiator, rebuilt with the new one. */
  replacePeer(input: PeerConfigInput | PeerConfig): PeerConfig {
    const config = 'auth' in input ? input : resolvePeerConfig(input);
    if (this.peers.has(config.name)) this.removePeer(config.name);
    return this.addPeer(config);
  }

  /** Removes a peer: its SAs are deleted (DELETE sent when established), reconnects stop. */
  removePeer(name: string): boolean {
    const peer = this.peers.get(name);
    if (!peer) return false;
    peer.removed = true;
    peer.reconnectTimer?.cancel();
    this.stopFailback(peer);
    this.peers.delete(name);
    for (const sa of [...peer.sas]) this.takeDown(sa, 'peer-removed');
    return true;
  }

  /** Brings a peer's tunnel up now (on-demand, or after it went idle). */
  connect(name: string | Peer): boolean {
    const peer = typeof name === 'string' ? this.peers.get(name) : name;
    if (!peer || peer.removed || this.stopped) return false;
    if (peer.config.remoteGateways.length === 0) return false;
    if (this.hasStandingSa(peer)) return true;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    const cfg = peer.config;
    const remote = cfg.remoteGateways[peer.gatewayIndex % cfg.remoteGateways.length]!;
    // A gateway addressed on port 500 is started from our port 500 too (when we listen there).
    const local = remote.port === IKE_PORT && this.ikeTransport ? this.ikeTransport.local : this.transport.local;
    const sa = this.createSa({ initiator: true, spiI: this.spis.allocateIke(), spiR: 0n, local, remote, config: cfg });
    peer.initiated = sa;
    sa.queue(new IkeInitTask(sa, true));
    sa.queue(new IkeAuthTask(sa, true, { initialContact: true }));
    return true;
  }

  /** An SA that stands for the peer: not replaced, not being deleted, not gone. */
  private hasStandingSa(peer: Peer): boolean {
    return [...peer.sas].some((s) => s.state !== 'deleting' && s.state !== 'rekeyed' && s.state !== 'destroyed');
  }

  /** Takes a peer's tunnel down without removing the peer (no reconnect until connect()). */
  disconnect(name: string): boolean {
    const peer = this.peers.get(name);
    if (!peer) return false;
    peer.reconnectTimer?.cancel();
    this.stopFailback(peer);
    for (const sa of [...peer.sas]) this.takeDown(sa, 'deleted-locally');
    return true;
  }

  private takeDown(sa: IkeSa, reason: DownReason): void {
    // An SA whose IKE_AUTH is in flight is deleted once it is up, so the peer is told.
    if (sa.state === 'established' || (sa.state === 'connecting' && sa.hasKeys && sa.initiator)) sa.queueIkeDelete(reason);
    else if (sa.alive && sa.state !== 'deleting') sa.destroy(reason);
  }

  /** Half-open responder SAs before IKE_SA_INIT must carry a COOKIE (undefined: the default 100). */
  setCookieThreshold(n: number | undefined): void {
    if (n === undefined) delete this.options.cookieThreshold;
    else this.options.cookieThreshold = n;
  }

  /** Turns the message trace on (LCOS `trace + vpn`) or off. */
  setTrace(fn: ((direction: 'in' | 'out', sa: IkeSa, message: Message) => void) | undefined): void {
    if (fn) this.ctx.trace = fn;
    else delete this.ctx.trace;
  }

  /**
   * Sends an INFORMATIONAL request with `payloads` (e.g. private notifies) on an established
   * IKE SA. `onResponse` gets the decrypted answer; `onFailure` runs if the SA dies first.
   */
  /** A live IKE SA by its id, without scanning. */
  sa(ikeId: number): IkeSa | undefined {
    const sa = this.byIkeId.get(ikeId);
    return sa?.alive ? sa : undefined;
  }

  sendInformational(ikeId: number, payloads: Payload[], onResponse?: (response: Message) => void, onFailure?: () => void): boolean {
    const sa = this.sa(ikeId);
    if (!sa || sa.state !== 'established') return false;
    sa.queue(new InformationalTask(sa, payloads, onResponse, onFailure));
    return true;
  }

  /**
   * Negotiates an additional child SA on an established IKE SA (CREATE_CHILD_SA without
   * REKEY_SA), with the peer config's selectors or the ones given (as CIDR text).
   */
  createChild(ikeId: number, selectors?: { localTs: string[]; remoteTs: string[] }): boolean {
    const sa = this.sa(ikeId);
    if (!sa || sa.state !== 'established') return false;
    const ts = selectors ? { localTs: selectors.localTs.map(tsFromCidr), remoteTs: selectors.remoteTs.map(tsFromCidr) } : undefined;
    sa.queue(new ChildCreateTask(sa, true, undefined, ts));
    return true;
  }

  /**
   * The data path reports an ESP SA limit (packets, bytes, sequence numbers): 'soft' rekeys
   * the child SA, 'hard' deletes it. `spi` is either of the child's SPIs.
   */
  onEspLimit(spi: number, kind: 'soft' | 'hard'): boolean {
    for (const sa of this.allSas()) {
      const child = sa.childByInSpi(spi) ?? sa.childByOutSpi(spi);
      if (!child) continue;
      this.count(`esp-limit-${kind}`);
      if (kind === 'soft') {
        if (child.state === 'installed' && sa.state === 'established') sa.queueChildRekey(child);
      } else sa.queueChildDelete(child, 'lifetime-expired');
      return true;
    }
    return false;
  }

  peerNames(): string[] {
    return [...this.peers.keys()];
  }

  peerConfig(name: string): PeerConfig | undefined {
    return this.peers.get(name)?.config;
  }

  /** The IKE SAs of a peer (tests, show commands). */
  sasOf(name: string): IkeSa[] {
    return [...(this.peers.get(name)?.sas ?? [])];
  }

  /** Every live IKE SA. */
  allSas(): IkeSa[] {
    return [...new Set(this.sas.values())].filter((s) => s.alive);
  }

  private initiates(c: PeerConfig): boolean {
    return c.role !== 'responder' && c.remoteGateways.length > 0;
  }

  /**
   * The configs that may answer an IKE_SA_INIT. With `remote`, an initiator-only peer counts
   * too when the request comes from one of its gateways: a peer that rebuilds the tunnel
   * itself (charon's break-before-make reauthentication, a peer that restarted) is answered
   * at once instead of waiting for this end's reconnect timer. The identity must still match
   * at IKE_AUTH (candidateConfigs).
   */
  private responderConfigs(remote?: Endpoint): PeerConfig[] {
    const out: PeerConfig[] = [];
    for (const p of this.peers.values()) {
      if (p.config.role !== 'initiator') out.push(p.config);
      else if (remote && p.config.remoteGateways.some((g) => g.address === remote.address)) out.push(p.config);
    }
    return out;
  }

  private responderIkeProposals(remote: Endpoint): IkeProposalSpec[] {
    const all = this.responderConfigs(remote);
    const matching = all.filter((c) => c.remoteGateways.some((g) => g.address === remote.address));
    return (matching.length > 0 ? matching : all).flatMap((c) => c.ikeProposals);
  }

  private candidateConfigs(id: Identity | undefined, remote: Endpoint): PeerConfig[] {
    const all = this.responderConfigs(remote);
    const exact = id ? all.filter((c) => c.remoteId && identityEquals(c.remoteId, id)) : [];
    const any = all.filter((c) => !c.remoteId);
    const byAddress = (a: PeerConfig, b: PeerConfig) =>
      Number(b.remoteGateways.some((g) => g.address === remote.address)) - Number(a.remoteGateways.some((g) => g.address === remote.address));
    return [...exact.sort(byAddress), ...any.sort(byAddress)];
  }

  // ---- SA lifecycle hooks ----------------------------------------------------

  private onEstablished(sa: IkeSa): void {
    this.halfOpen.delete(sa);
    // A peer that stayed on port 500 would send raw ESP, which meshgate cannot receive.
    if (this.ikeTransport && this.transportOf(sa.local) === this.ikeTransport) this.count('no-nat-t-float');
    const peer = sa.config ? this.peers.get(sa.config.name) : undefined;
    if (!peer || peer.config !== sa.config) return;
    if (peer.probe === sa) {
      this.failback(peer, sa);
      return;
    }
    peer.sas.add(sa);
    this.saPeer.set(sa, peer);
    peer.failures = 0;
    peer.lastError = undefined;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = undefined;
    if (peer.config.shortHoldMs > 0) this.armIdleCheck(sa, peer.config.shortHoldMs);
    if (peer.config.childVolumeBytes > 0) this.armVolumeCheck(sa, peer.config.childVolumeBytes);
    // Our own attempt that the peer never answered is moot now (the peer holds no state for it).
    const own = peer.initiated;
    if (own && own !== sa && own.state === 'connecting' && !own.hasKeys) {
      this.count('attempt-superseded');
      own.destroy('duplicate');
    }
    this.resolveDuplicates(sa);
    this.indexIdentity(sa);
    this.armFailback(peer);
  }

  // ---- failback to the primary gateway --------------------------------------------

  /** Not on the primary: the tunnel this end initiated runs to a backup gateway. */
  private onBackup(peer: Peer): boolean {
    const n = peer.config.remoteGateways.length;
    const own = peer.initiated;
    return n > 1 && peer.gatewayIndex % n !== 0 && own !== undefined && own.alive && own.state !== 'deleting';
  }

  private armFailback(peer: Peer): void {
    const base = this.options.failbackProbeMs ?? FAILBACK_PROBE_MS;
    if (base <= 0 || peer.removed || peer.probeTimer?.pending || peer.probe || !this.onBackup(peer)) return;
    const delay = Math.min(this.options.failbackMaxMs ?? FAILBACK_MAX_MS, base * 2 ** Math.min(16, peer.probeFailures));
    peer.probeTimer = this.clock.setTimer(delay, () => {
      peer.probeTimer = undefined;
      this.probePrimary(peer);
    });
  }

  private stopFailback(peer: Peer): void {
    peer.probeTimer?.cancel();
    peer.probeTimer = undefined;
    const p = peer.probe;
    peer.probe = undefined;
    if (p?.alive) this.takeDown(p, 'deleted-locally');
  }

  /** Builds an SA to the primary next to the running tunnel (make before break). */
  private probePrimary(peer: Peer): void {
    if (peer.removed || this.stopped || peer.probe || !this.onBackup(peer)) return;
    if (peer.initiated!.state !== 'established') {
      this.armFailback(peer); // mid-rekey: try again later
      return;
    }
    const primary = peer.config.remoteGateways[0]!;
    const local = primary.port === IKE_PORT && this.ikeTransport ? this.ikeTransport.local : this.transport.local;
    const sa = this.createSa({ initiator: true, spiI: this.spis.allocateIke(), spiR: 0n, local, remote: primary, config: peer.config });
    // Not the peer's until it is up: the running tunnel stays what show vpn and reconnects see.
    peer.sas.delete(sa);
    this.saPeer.delete(sa);
    peer.probe = sa;
    this.count('failback-probe');
    sa.queue(new IkeInitTask(sa, true, FAILBACK_PROBE_RETRANSMITS));
    sa.queue(new IkeAuthTask(sa, true, { initialContact: true }));
  }

  /** The probe came up: the tunnel moves back to the primary, the backup SA is deleted. */
  private failback(peer: Peer, sa: IkeSa): void {
    peer.probe = undefined;
    peer.probeFailures = 0;
    const cfg = peer.config;
    const from = cfg.remoteGateways[peer.gatewayIndex % cfg.remoteGateways.length]!;
    const old = [...peer.sas];
    peer.sas.add(sa);
    this.saPeer.set(sa, peer);
    peer.initiated = sa;
    peer.gatewayIndex = 0;
    peer.failures = 0;
    peer.lastError = undefined;
    peer.reconnectTimer?.cancel(); // (the backup tunnel may have failed meanwhile)
    peer.reconnectTimer = undefined;
    this.indexIdentity(sa);
    if (cfg.shortHoldMs > 0) this.armIdleCheck(sa, cfg.shortHoldMs);
    if (cfg.childVolumeBytes > 0) this.armVolumeCheck(sa, cfg.childVolumeBytes);
    this.count('failback');
    this.events.emit('peer-failover', { peer: cfg.name, from: endpointKey(from), to: endpointKey(cfg.remoteGateways[0]!) });
    for (const o of old) this.takeDown(o, 'deleted-locally');
  }

  /**
   * Both ends initiated at once (role 'both'): two IKE SAs for one peer. Between meshgate
   * nodes both ends decide alike: the SA whose lowest nonce is the lower one goes (as RFC 7296
   * section 2.8.1 settles simultaneous rekeys), deleted by its initiator. A peer that is not
   * meshgate has its own rule (strongSwan's uniqueids: the newer SA replaces the older one) or
   * none, so a loser that the peer initiated is left to it for DUPLICATE_GRACE_MS; if both SAs
   * are still there then, meshgate deletes the loser itself, and one tunnel remains either way.
   */
  private resolveDuplicates(sa: IkeSa): void {
    for (const other of this.byIdentity.get(this.identityKey(sa)) ?? []) {
      if (other === sa || other.state !== 'established') continue;
      const low = (x: IkeSa) => (compareBytes(x.nonceI!, x.nonceR!) <= 0 ? x.nonceI! : x.nonceR!);
      const loser = compareBytes(low(sa), low(other)) < 0 ? sa : other;
      const winner = loser === sa ? other : sa;
      this.count('duplicate-sa');
      if (loser.initiator) loser.queueIkeDelete('duplicate');
      else if (!loser.peerIsMeshgate) {
        loser.setTimer(this.options.duplicateGraceMs ?? DUPLICATE_GRACE_MS, () => {
          if (loser.state !== 'established' || (winner.state !== 'established' && winner.state !== 'rekeying')) return;
          this.count('duplicate-deleted-for-peer');
          loser.queueIkeDelete('duplicate');
        });
      }
      return;
    }
  }

  private onRekeyed(old: IkeSa, successor: IkeSa): void {
    const peer = this.saPeer.get(old);
    if (!peer) return;
    peer.sas.add(successor);
    this.saPeer.set(successor, peer);
    if (peer.initiated === old) peer.initiated = successor;
    this.unindexIdentity(old);
    this.indexIdentity(successor);
    if (peer.config.shortHoldMs > 0) this.armIdleCheck(successor, peer.config.shortHoldMs);
    if (peer.config.childVolumeBytes > 0) this.armVolumeCheck(successor, peer.config.childVolumeBytes);
  }

  private onDestroyed(sa: IkeSa, reason: DownReason): void {
    if (this.sas.get(sa.localSpi) === sa) this.sas.delete(sa.localSpi);
    if (this.byIkeId.get(sa.ikeId) === sa) this.byIkeId.delete(sa.ikeId);
    for (const peer of sa.config ? [this.peers.get(sa.config.name)] : []) {
      if (peer && peer.probe === sa) {
        // The primary did not answer (or refused): stay on the backup, probe again later.
        peer.probe = undefined;
        peer.probeFailures++;
        this.count('failback-probe-failed');
        this.armFailback(peer);
      }
    }
    const initKey = this.initKeyOf.get(sa);
    if (initKey !== undefined) {
      this.initKeyOf.delete(sa);
      if (this.bySpiI.get(initKey) === sa) this.bySpiI.delete(initKey);
    }
    this.halfOpen.delete(sa);
    this.unindexIdentity(sa);
    const peer = this.saPeer.get(sa);
    this.saPeer.delete(sa);
    if (!peer) return;
    peer.sas.delete(sa);
    if (!this.hasStandingSa(peer)) {
      // The tunnel itself is gone: reconnecting (below) takes over from probing.
      peer.probeTimer?.cancel();
      peer.probeTimer = undefined;
    }
    if (sa.lastError && reason !== 'rekeyed') peer.lastError = sa.lastError;
    if (peer.initiated === sa) peer.initiated = undefined;
    // Reconnect when the peer is ours to initiate and this was its last SA (SAs that are being
    // replaced or deleted do not count: they go away on their own, without a reconnect).
    if (this.hasStandingSa(peer)) return;
    if (peer.removed || this.stopped || NO_RECONNECT.has(reason) || !this.initiates(peer.config)) return;
    peer.failures++;
    const cfg = peer.config;
    let delay: number;
    if (PEER_UNREACHABLE.has(reason) && cfg.remoteGateways.length > 1) {
      const from = cfg.remoteGateways[peer.gatewayIndex % cfg.remoteGateways.length]!;
      peer.gatewayIndex = (peer.gatewayIndex + 1) % cfg.remoteGateways.length;
      const to = cfg.remoteGateways[peer.gatewayIndex]!;
      this.events.emit('peer-failover', { peer: cfg.name, from: endpointKey(from), to: endpointKey(to) });
      this.count('failover');
      // A fresh gateway is tried at once; only a full round of failures backs off.
      delay = peer.gatewayIndex === 0 ? this.backoff(peer) : this.options.failoverDelayMs ?? 1000;
    } else if (reason === 'deleted-by-peer' && peer.failures === 1) {
      // The peer deleted a working tunnel: it may be rebuilding it itself (break-before-make
      // reauthentication), which is answered meanwhile; if it does not, we do, soon.
      delay = Math.min(this.backoff(peer), this.options.peerDeleteReconnectMs ?? PEER_DELETE_RECONNECT_MS);
      this.count('reconnect-after-peer-delete');
    } else {
      delay = this.backoff(peer);
    }
    const gateway = cfg.remoteGateways[peer.gatewayIndex % cfg.remoteGateways.length]!;
    peer.reconnectAt = this.clock.now() + delay;
    peer.reconnectTimer = this.clock.setTimer(delay, () => {
      peer.reconnectTimer = undefined;
      this.connect(peer);
    });
    this.events.emit('peer-retry', { peer: cfg.name, gateway: endpointKey(gateway), retryInMs: delay, reason: sa.lastError ?? reason });
  }

  /** LCOS-like reconnect delay: 30 s +/- 10 s, doubled per consecutive failure up to the maximum. */
  private backoff(peer: Peer): number {
    const r = peer.config.reconnect;
    const base = Math.min(r.maxDelayMs, r.delayMs * 2 ** Math.max(0, Math.min(16, peer.failures - 1)));
    const jitter = (this.random.bytes(1)[0]! / 255) * 2 * r.jitterMs - r.jitterMs;
    return Math.max(0, Math.round(base + jitter));
  }

  /** Peer config name and the remote identity in wire form (or the remote address without one). */
  private identityKey(sa: IkeSa): string {
    const id = sa.remoteIdentity;
    const who = id ? `${id.type}:${id.type === 'fqdn' || id.type === 'user-fqdn' ? id.value.toLowerCase() : Buffer.from(identityPayload(id).data).toString('hex')}` : `addr:${sa.remote.address}`;
    return `${sa.config?.name ?? '?'}|${who}`;
  }

  private indexIdentity(sa: IkeSa): void {
    const key = this.identityKey(sa);
    this.identityKeyOf.set(sa, key);
    let set = this.byIdentity.get(key);
    if (!set) this.byIdentity.set(key, (set = new Set()));
    set.add(sa);
  }

  private unindexIdentity(sa: IkeSa): void {
    const key = this.identityKeyOf.get(sa);
    if (key === undefined) return;
    this.identityKeyOf.delete(sa);
    const set = this.byIdentity.get(key);
    set?.delete(sa);
    if (set && set.size === 0) this.byIdentity.delete(key);
  }

  private onInitialContact(sa: IkeSa): void {
    for (const other of [...(this.byIdentity.get(this.identityKey(sa)) ?? [])]) {
      // Only SAs that were up before this one started are stale; one that is being built
      // right now is a simultaneous attempt (handled by resolveDuplicates).
      if (other === sa || other.state !== 'established' || other.establishedAt > sa.createdAt) continue;
      this.count('initial-contact-replaced');
      other.destroy('replaced-by-initial-contact');
    }
  }

  private pollTraffic(sa: IkeSa): void {
    const usage = this.installer.usage?.bind(this.installer);
    if (!usage) return;
    const now = this.clock.now();
    for (const c of sa.children.values()) {
      const i = usage(c.spiIn, 'in') ?? { bytes: 0, packets: 0 };
      const o = c.spiOut ? usage(c.spiOut, 'out') ?? { bytes: 0, packets: 0 } : { bytes: 0, packets: 0 };
      if (i.packets !== c.lastUsage.in.packets) sa.onInbound();
      if (i.packets !== c.lastUsage.in.packets || o.packets !== c.lastUsage.out.packets) c.lastActivity = now;
      c.lastUsage = { in: { ...i }, out: { ...o } };
    }
  }

  /** Short hold: a tunnel without traffic for `idleMs` is taken down (no reconnect until traffic asks). */
  private armIdleCheck(sa: IkeSa, idleMs: number): void {
    sa.setTimer(Math.max(1000, idleMs / 4), () => {
      if (sa.state !== 'established') {
        if (sa.alive && sa.state !== 'deleting' && sa.state !== 'rekeyed') this.armIdleCheck(sa, idleMs);
        return;
      }
      this.pollTraffic(sa);
      const now = this.clock.now();
      const last = Math.max(sa.establishedAt, ...[...sa.children.values()].map((c) => c.lastActivity));
      if (now - last >= idleMs) {
        this.count('short-hold-expired');
        sa.queueIkeDelete('idle');
      } else this.armIdleCheck(sa, idleMs);
    });
  }

  /**
   * Volume lifetime (LCOS Child-SA-KB): the data path's byte counters of each child SA, per
   * direction, polled every VOLUME_CHECK_MS (they include the native fast path's). At 90 % of
   * the limit the child is rekeyed (make before break: the new SPIs count from zero); at the
   * limit itself it is deleted, should the rekey not have happened by then.
   */
  private armVolumeCheck(sa: IkeSa, limitBytes: number): void {
    sa.setTimer(VOLUME_CHECK_MS, () => {
      if (!sa.alive || sa.state === 'deleting' || sa.state === 'rekeyed') return;
      const usage = this.installer.usage?.bind(this.installer);
      if (sa.state === 'established' && usage) {
        for (const c of [...sa.children.values()]) {
          if (c.state !== 'installed') continue;
          const used = Math.max(usage(c.spiIn, 'in')?.bytes ?? 0, c.spiOut ? (usage(c.spiOut, 'out')?.bytes ?? 0) : 0);
          if (used >= limitBytes) {
            this.count('child-volume-expired');
            sa.queueChildDelete(c, 'lifetime-expired');
          } else if (used >= limitBytes * 0.9) {
            this.count('child-volume-rekey');
            sa.queueChildRekey(c);
          }
        }
      }
      this.armVolumeCheck(sa, limitBytes);
    });
  }

  // ---- receive path ----------------------------------------------------------

  private onDatagram(p: Uint8Array, from: Endpoint, via: Transport): void {
    if (this.stopped) return;
    this.count('rx-datagrams');
    // RFC 3948 marks IKE only on port 4500: on our port 500, and from a peer's port 500, it is
    // always bare IKE (a gateway that starts on 500 and sends to our NAT-T port, as charon does).
    const bare = via !== this.transport || from.port === IKE_PORT;
    if (via !== this.transport) this.count('rx-ike-port');
    const k = bare ? (p.length >= 28 ? { kind: 'ike' as const, offset: 0 } : { kind: 'malformed' as const, reason: 'short-ike' as const }) : classifyUdpPayload(p);
    switch (k.kind) {
      case 'keepalive':
        this.count('rx-keepalive');
        return;
      case 'esp':
        if (this.options.onEsp) this.options.onEsp(p, from);
        else this.count('drop-esp-no-data-path');
        return;
      case 'malformed':
        this.count(`drop-malformed-${k.reason}`);
        return;
      case 'ike':
        try {
          this.onIke(p.subarray(k.offset), from, via);
        } catch (err) {
          // Never out of the receive path: a bug here is counted, and the message dropped.
          this.count('drop-internal-error');
          this.lastInternalError = err;
        }
    }
  }

  /** The last exception caught on the receive path (for debugging). */
  lastInternalError: unknown;

  private initKey(spiI: bigint, remote: Endpoint): string {
    return `${hex(spiI, 8)}|${endpointKey(remote)}`;
  }

  private onIke(bytes: Uint8Array, from: Endpoint, via: Transport): void {
    const d = decodeMessage(bytes);
    if (!d.ok) {
      this.count(`drop-decode-${d.reason}`);
      return;
    }
    const m = d.message;
    if (m.exchangeType === ExchangeType.IKE_SA_INIT && !m.response && m.initiator && m.messageId === 0) {
      this.onInitRequest(m, bytes, from, via);
      return;
    }
    const ourSpi = m.initiator ? m.spiR : m.spiI;
    const sa = this.sas.get(ourSpi);
    if (!sa || !sa.alive) {
      this.count('drop-unknown-spi');
      if (!m.response) this.answerInvalidSpi(m, from, via);
      return;
    }
    if ((m.initiator ? m.spiI : m.spiR) !== (sa.initiator ? sa.spiR : sa.spiI) && !(m.exchangeType === ExchangeType.IKE_SA_INIT && m.response && sa.spiR === 0n)) {
      this.count('drop-spi-mismatch');
      return;
    }
    if (m.initiator === sa.initiator) {
      this.count('drop-wrong-initiator-flag');
      return;
    }
    if (m.response && m.exchangeType === ExchangeType.INFORMATIONAL && !m.sealed && m.payloads.some((p) => p.type === PayloadType.N && p.notifyType === NotifyType.INVALID_IKE_SPI)) {
      this.onInvalidSpi(sa, m);
      return;
    }
    if (m.exchangeType !== ExchangeType.IKE_SA_INIT && !sa.hasKeys) {
      this.count('drop-no-keys');
      return;
    }
    const opened = sa.open(m);
    if (!opened.ok) {
      this.count(`drop-${opened.reason}`);
      return;
    }
    if (m.exchangeType !== ExchangeType.IKE_SA_INIT && via === this.transport && this.transportOf(sa.local) !== this.transport) {
      // The peer floated to the NAT-T port after IKE_SA_INIT (RFC 7296 section 2.23): so do we.
      this.count('nat-t-float');
      sa.local = this.transport.local;
    }
    if (m.exchangeType !== ExchangeType.IKE_SA_INIT && endpointKey(from) !== endpointKey(sa.remote)) {
      // Authenticated traffic from a new address: the peer's NAT mapping changed.
      this.count('remote-endpoint-changed');
      sa.remote = from;
      for (const c of sa.children.values()) if (c.spiOut !== 0 && c.active) this.installer.updateRemote?.(c.spiOut, from);
    }
    this.count('rx-ike');
    sa.tasks.onMessage(opened.message, bytes);
  }

  /**
   * RFC 7296 section 2.21.4: a request for an IKE SA we do not know (we restarted, or it is
   * long gone) may be answered, unprotected, with N(INVALID_IKE_SPI), the SPIs and message
   * ID copied, to the address and port it came from. Rate-limited (it costs no state, but
   * must not make meshgate an amplifier): one per sender per second, INVALID_SPI_PER_SECOND
   * in all.
   */
  private answerInvalidSpi(m: Message, from: Endpoint, via: Transport): void {
    if (m.exchangeType === ExchangeType.IKE_SA_INIT) return;
    const now = this.clock.now();
    if (now - this.invalidSpiWindow.start >= 1000) this.invalidSpiWindow = { start: now, sent: 0, to: new Set() };
    const w = this.invalidSpiWindow;
    if (w.sent >= INVALID_SPI_PER_SECOND || w.to.has(from.address)) {
      this.count('invalid-ike-spi-rate-limited');
      return;
    }
    w.sent++;
    w.to.add(from.address);
    const answer: Message = { spiI: m.spiI, spiR: m.spiR, exchangeType: ExchangeType.INFORMATIONAL, initiator: !m.initiator, response: true, messageId: m.messageId, payloads: [notifyPayload(NotifyType.INVALID_IKE_SPI)] };
    const encoded = encodeMessage(answer);
    this.count('tx-invalid-ike-spi');
    this.send(via === this.transport ? frameFor(encoded, from) : encoded, from, via);
  }

  /**
   * An unprotected N(INVALID_IKE_SPI) for one of our SAs: the peer says it does not know the
   * SA (it restarted). Unauthenticated, so only a hint (RFC 7296 section 2.21.4): it counts
   * when it answers the request we have in flight (both SPIs and its message ID, which only a
   * party on the path can know, and such a party can as well drop our packets). Then the SA
   * goes now instead of after the retransmissions, and the tunnel is rebuilt.
   */
  private onInvalidSpi(sa: IkeSa, m: Message): void {
    this.count('rx-invalid-ike-spi');
    const inFlight = sa.tasks.busy && sa.hasKeys && m.messageId === sa.tasks.messageIds.initiating && (m.initiator ? m.spiI : m.spiR) === (sa.initiator ? sa.spiR : sa.spiI);
    if (!inFlight || sa.state === 'deleting') {
      this.count('invalid-ike-spi-ignored');
      return;
    }
    this.count('invalid-ike-spi-accepted');
    sa.fail('deleted-by-peer', `peer answered INVALID_IKE_SPI: it lost the IKE SA (restart?)`);
  }

  private onInitRequest(m: Message, bytes: Uint8Array, from: Endpoint, via: Transport): void {
    const key = this.initKey(m.spiI, from);
    const existing = this.bySpiI.get(key);
    if (existing?.alive) {
      const opened = existing.open(m);
      if (!opened.ok) return this.count(`drop-${opened.reason}`);
      existing.tasks.onMessage(opened.message, bytes);
      return;
    }
    const rules = this.initRulesOk(m);
    if (!rules) return;
    if (this.responderConfigs(from).length === 0) {
      this.count('drop-no-responder-config');
      return;
    }
    if (this.halfOpen.size >= (this.options.cookieThreshold ?? 100)) {
      const cookie = findNotify(m, NotifyType.COOKIE);
      const nonce = first(m, PayloadType.Nonce);
      const expected = this.cookie(nonce?.data ?? new Uint8Array(0), from, m.spiI);
      if (!cookie || !bytesEqual(cookie.data, expected)) {
        this.count(cookie ? 'cookie-invalid' : 'cookie-demanded');
        const answer: Message = { spiI: m.spiI, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, response: true, messageId: 0, payloads: [notifyPayload(NotifyType.COOKIE, expected)] };
        const encoded = encodeMessage(answer);
        this.send(via === this.transport ? frameFor(encoded, from) : encoded, from, via);
        return;
      }
      this.count('cookie-accepted');
    }
    if (this.halfOpen.size >= (this.options.maxHalfOpen ?? 10_000)) {
      this.count('drop-half-open-limit');
      return;
    }
    const sa = this.createSa({ initiator: false, spiI: m.spiI, spiR: this.spis.allocateIke(), local: via.local, remote: from });
    this.bySpiI.set(key, sa);
    this.initKeyOf.set(sa, key);
    this.halfOpen.add(sa);
    sa.setTimer(this.options.halfOpenTimeoutMs ?? 30_000, () => {
      if (sa.state === 'connecting' || sa.state === 'created') {
        this.count('half-open-expired');
        sa.destroy('timeout', 'not authenticated in time');
      }
    });
    this.count('rx-ike');
    sa.tasks.onMessage(m, bytes);
  }

  /** IKE_SA_INIT payload rules, checked before any state is created. */
  private initRulesOk(m: Message): boolean {
    const v = checkPayloadRules(m, ExchangeType.IKE_SA_INIT, false);
    if (v) this.count(`drop-rules-${v.reason}`);
    return v === undefined;
  }

  /** Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>) (RFC 7296 section 2.6). */
  private cookie(ni: Uint8Array, from: Endpoint, spiI: bigint): Uint8Array {
    const h = createHash('sha256').update(concatBytes(ni, new TextEncoder().encode(from.address), spi64Bytes(spiI), this.cookieSecret)).digest();
    return concatBytes(Uint8Array.of(COOKIE_VERSION), new Uint8Array(h.subarray(0, 16)));
  }

  // ---- show ------------------------------------------------------------------

  snapshot(): IkeEngineSnapshot {
    const now = this.clock.now();
    const usage = (spi: number, d: 'in' | 'out') => this.installer.usage?.(spi, d) ?? { bytes: 0, packets: 0 };
    const ikeSas: IkeSaStatus[] = this.allSas().map((sa) => ({
      ikeId: sa.ikeId,
      peer: sa.peerName,
      state: sa.state,
      initiator: sa.initiator,
      spiI: hex(sa.spiI, 8),
      spiR: hex(sa.spiR, 8),
      local: endpointKey(sa.local),
      remote: endpointKey(sa.remote),
      remoteId: sa.remoteIdentity ? identityToString(sa.remoteIdentity) : undefined,
      proposal: sa.describeSuite(),
      natLocal: sa.natLocal,
      natRemote: sa.natRemote,
      establishedForMs: sa.upSince !== undefined ? now - sa.establishedAt : 0,
      rekeyInMs: sa.rekeyAt ? Math.max(0, sa.rekeyAt - now) : 0,
      expireInMs: sa.expireAt ? Math.max(0, sa.expireAt - now) : 0,
      rekeys: sa.rekeys,
      childRekeys: sa.childRekeys,
      lastError: sa.lastError,
      messageIds: sa.tasks.messageIds,
      children: [...sa.children.values()].map((c) => {
        const i = usage(c.spiIn, 'in');
        const o = c.spiOut ? usage(c.spiOut, 'out') : { bytes: 0, packets: 0 };
        return {
          childId: c.childId,
          state: c.state,
          spiIn: hex(c.spiIn, 4),
          spiOut: hex(c.spiOut, 4),
          proposal: c.suite ? espSuiteName(c.suite) : '-',
          localTs: c.localTs.map(tsToString),
          remoteTs: c.remoteTs.map(tsToString),
          bytesIn: i.bytes,
          bytesOut: o.bytes,
          packetsIn: i.packets,
          packetsOut: o.packets,
          installedForMs: c.state === 'created' || c.state === 'installing' ? 0 : now - c.installedAt,
          rekeyInMs: c.rekeyAt ? Math.max(0, c.rekeyAt - now) : 0,
          expireInMs: c.expireAt ? Math.max(0, c.expireAt - now) : 0,
        };
      }),
    }));
    const peers: PeerStatus[] = [];
    for (const peer of this.peers.values()) {
      const cfg = peer.config;
      const rows = [...peer.sas].filter((s) => s.alive);
      const base = (sa: IkeSa | undefined): PeerStatus => {
        const st = sa ? ikeSas.find((x) => x.ikeId === sa.ikeId) : undefined;
        const kids = st?.children.filter((c) => c.state === 'installed' || c.state === 'rekeying') ?? [];
        const all = st?.children ?? [];
        const state: PeerState = sa?.state === 'established' || sa?.state === 'rekeying' ? 'up' : sa ? 'connecting' : peer.reconnectTimer?.pending ? 'waiting' : 'down';
        const remote = sa ? sa.remote : cfg.remoteGateways[peer.gatewayIndex % Math.max(1, cfg.remoteGateways.length)];
        return {
          peer: cfg.name,
          role: cfg.role,
          state,
          localGateway: endpointKey(this.transport.local),
          remoteGateway: remote ? endpointKey(remote) : '*',
          localNetworks: kids.length > 0 ? [...new Set(kids.flatMap((c) => c.localTs))] : cfg.localTs.map(tsToString),
          remoteNetworks: kids.length > 0 ? [...new Set(kids.flatMap((c) => c.remoteTs))] : cfg.remoteTs.map(tsToString),
          proposal: st ? `${st.proposal}${kids[0] ? ` / ${kids[0].proposal}` : ''}` : '-',
          uptimeMs: sa?.upSince !== undefined && state === 'up' ? now - sa.upSince : 0,
          // Since the tunnel came up: children that are gone (rekeyed) plus every child still there.
          bytesIn: (sa?.retired.bytesIn ?? 0) + all.reduce((n, c) => n + c.bytesIn, 0),
          bytesOut: (sa?.retired.bytesOut ?? 0) + all.reduce((n, c) => n + c.bytesOut, 0),
          packetsIn: (sa?.retired.packetsIn ?? 0) + all.reduce((n, c) => n + c.packetsIn, 0),
          packetsOut: (sa?.retired.packetsOut ?? 0) + all.reduce((n, c) => n + c.packetsOut, 0),
          rekeys: sa?.rekeys ?? 0,
          childRekeys: sa?.childRekeys ?? 0,
          lastError: sa?.lastError ?? peer.lastError,
          retryInMs: peer.reconnectTimer?.pending ? Math.max(0, peer.reconnectAt - now) : undefined,
          ikeId: sa?.ikeId,
        };
      };
      const live = rows.filter((s) => s.state !== 'rekeyed' && s.state !== 'deleting');
      if (live.length === 0) peers.push(base(undefined));
      else for (const sa of live) peers.push(base(sa));
    }
    return { peers, ikeSas, counters: { ...this.counters } };
  }

  /** Stops the engine: SAs are dropped without DELETE (as a crash or shutdown would), the transport closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const peer of this.peers.values()) {
      peer.reconnectTimer?.cancel();
      peer.probeTimer?.cancel();
    }
    for (const sa of this.allSas()) sa.destroy('engine-stopped');
    this.stopped = true;
    await this.transport.close();
    await this.ikeTransport?.close();
  }
}

