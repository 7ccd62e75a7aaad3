/**
 * The forwarding stage: one function per packet origin, each running the same pipeline
 *   1. parse (drop 'malformed')
 *   2. route lookup on the destination (none: ICMP net unreachable, drop 'no-route')
 *   3. by next hop: local -> answer echo / local handler; reject -> ICMP prohibited;
 *      site-directory -> SiteTrigger (queued until the site's tunnel is up, or drop
 *      'site-pending'); lan / sa -> 4.
 *   4. TTL decrement (1 or 0: ICMP time exceeded, drop 'ttl-exceeded')
 *   5. into an SA: larger than its inner MTU -> IPv4 with DF and IPv6: ICMP fragmentation
 *      needed / packet too big, drop 'too-big'; IPv4 without DF is passed on and the outer
 *      packet is fragmented after encryption. TCP SYNs crossing a tunnel get their MSS clamped.
 *   6. flow accounting (path = SA id or 'lan:<port>' / 'local')
 *   7. send; a tunnel packet routed into another SA is a hub hairpin (counted).
 *
 * Nothing here allocates per forwarded packet except flow creation and ICMP messages
 * (rate-limited). Drops never throw: they are counted by reason and traced when tracing.
 */
import type { Clock } from '../clock.js';
import { formatAddress, formatPrefix } from './address.js';
import type { FlowTable } from './flow-table.js';
import {
  IPPROTO,
  ParsedPacket,
  buildIcmpError,
  decrementTtl,
  echoReplyInPlace,
  isEchoRequest,
  parsePacket,
  type IcmpErrorKind,
} from './ip-packet.js';
import type { LanPort } from './lan-port.js';
import { clampMss, mssForMtu } from './mss-clamp.js';
import type { PacketBatch } from './packet-batch.js';
import type { Route, RouteTable } from './route-table.js';
import {
  DROP_REASONS,
  type DropReason,
  type ForwardTrace,
  type Ingress,
  type InboundSink,
  type SaId,
  type SiteTrigger,
  type TunnelSender,
} from './seams.js';

/** ICMP errors the node sends per second at most (token bucket), and the burst. */
export const ICMP_RATE_PER_SECOND = 100;
export const ICMP_BURST = 50;

/** The ingress of packets released by the site directory (one object: compared by identity). */
const SITE_QUEUE_INGRESS: Ingress = { kind: 'lan', port: 'site-queue' };

export interface ForwarderOptions {
  clock: Clock;
  routes: RouteTable;
  flows: FlowTable;
  tunnels: TunnelSender;
  /** The node's own addresses, used as the source of ICMP errors (per family). */
  routerAddress4?: Uint8Array;
  routerAddress6?: Uint8Array;
  siteTrigger?: SiteTrigger;
  /** Packets for the node itself other than echo requests (e.g. echo replies for `ping`). Gets a copy. */
  onLocal?: (packet: Uint8Array) => void;
  /** Clamp the MSS of TCP SYNs that cross a tunnel (default true). */
  clampMss?: boolean;
  icmpRatePerSecond?: number;
}

export interface ForwarderCounters {
  received: number;
  toTunnel: number;
  toLan: number;
  toLocal: number;
  /** Packets that came out of one SA and went into another (hub). */
  hairpin: number;
  /** Packets handed to the site directory to wait for their site's tunnel. */
  siteQueued: number;
  /** Of those, packets handed back and forwarded again (forwardReleased). */
  siteReleased: number;
  icmpSent: number;
  icmpRateLimited: number;
  mssClamped: number;
  drops: Record<DropReason, number>;
}

export class Forwarder implements InboundSink {
  readonly counters: ForwarderCounters;
  /** Set to receive one ForwardTrace per packet (slow: for `trace + packet`). */
  trace: ((t: ForwardTrace) => void) | undefined;
  private readonly o: ForwarderOptions;
  private readonly lans = new Map<string, LanPort>();
  /** Flow path ids of the LAN ports ('lan:<name>'), built once instead of per packet. */
  private readonly lanPathIds = new Map<LanPort, string>();
  private primaryLan: LanPort | undefined;
  private readonly parsed = new ParsedPacket();
  /** The clock read once per batch (undefined outside a batch). */
  private batchNow: number | undefined;
  private tokens: number;
  private tokensAt: number;
  private readonly ratePerMs: number;

  constructor(options: ForwarderOptions) {
    this.o = options;
    const drops = {} as Record<DropReason, number>;
    for (const r of DROP_REASONS) drops[r] = 0;
    this.counters = {
      received: 0,
      toTunnel: 0,
      toLan: 0,
      toLocal: 0,
      hairpin: 0,
      siteQueued: 0,
      siteReleased: 0,
      icmpSent: 0,
      icmpRateLimited: 0,
      mssClamped: 0,
      drops,
    };
    this.ratePerMs = (options.icmpRatePerSecond ?? ICMP_RATE_PER_SECOND) / 1000;
    this.tokens = ICMP_BURST;
    this.tokensAt = options.clock.now();
  }

  /** The node's own addresses (sources of ICMP errors), e.g. after a configuration change. */
  setRouterAddresses(addresses: Uint8Array[]): void {
    const v4 = addresses.find((a) => a.length === 4);
    const v6 = addresses.find((a) => a.length === 16);
    if (v4) this.o.routerAddress4 = v4;
    else delete this.o.routerAddress4;
    if (v6) this.o.routerAddress6 = v6;
    else delete this.o.routerAddress6;
  }

  /** Attaches a LAN port: its received batches are forwarded; the first port is the primary one. */
  attachLan(port: LanPort): void {
    this.lans.set(port.name, port);
    this.lanPathIds.set(port, `lan:${port.name}`);
    this.primaryLan ??= port;
    port.onReceive((batch) => this.fromLanBatch(port.name, batch));
  }

  fromLanBatch(portName: string, batch: PacketBatch): void {
    const ingress: Ingress = { kind: 'lan', port: portName };
    this.batchNow = this.o.clock.now();
    try {
      for (let i = 0; i < batch.count; i++) this.forward(ingress, batch.data, batch.offsets[i]!, batch.lengths[i]!, batch.headroom);
    } finally {
      this.batchNow = undefined;
    }
  }

  /** A packet from the LAN side (single packet form; batches use fromLanBatch). */
  fromLan(portName: string, data: Uint8Array, offset: number, length: number, headroom = 0): void {
    this.forward({ kind: 'lan', port: portName }, data, offset, length, headroom);
  }

  /**
   * A packet the site directory held while its site was looked up and its tunnel built,
   * now routed again (the dynamic route is installed). It counts as arriving from the LAN
   * side 'site-queue'.
   */
  forwardReleased(packet: Uint8Array): DropReason | undefined {
    this.counters.siteReleased++;
    return this.forward(SITE_QUEUE_INGRESS, packet, 0, packet.length, 0);
  }

  /** InboundSink: a decrypted packet from SA `id`. */
  fromTunnel(id: SaId, data: Uint8Array, offset: number, length: number): void {
    this.forward({ kind: 'sa', id }, data, offset, length, 0);
  }

  /**
   * Sends a packet the node itself originates (ping, ICMP errors): routed like any other,
   * without TTL decrement. Returns the drop reason or undefined when sent.
   */
  originate(packet: Uint8Array): DropReason | undefined {
    return this.forward({ kind: 'local' }, packet, 0, packet.length, 0);
  }

  private forward(ingress: Ingress, data: Uint8Array, off: number, len: number, headroom: number): DropReason | undefined {
    this.counters.received++;
    const p = this.parsed;
    if (parsePacket(data, off, len, p) !== 'ok') return this.drop(ingress, undefined, 'malformed');
    const pktLen = p.totalLength;

    if (ingress.kind === 'sa' && this.o.tunnels.allowsInbound && !this.o.tunnels.allowsInbound(ingress.id, data, p.srcOffset, p.addressLength))
      return this.drop(ingress, p, 'policy', data);

    const route = p.version === 4 ? this.o.routes.lookup4(data, p.dstOffset) : this.o.routes.lookup6(data, p.dstOffset);
    if (!route) return this.dropWithIcmp(ingress, data, p, 'no-route', 'net-unreachable', undefined);
    const t = route.target;

    if (t.kind === 'local') {
      this.counters.toLocal++;
      if (isEchoRequest(p) && !p.isFragment) {
        // answer in a copy: the original buffer belongs to the port's batch
        const reply = new Uint8Array(data.subarray(off, off + pktLen));
        const q = new ParsedPacket();
        parsePacket(reply, 0, reply.length, q);
        echoReplyInPlace(reply, q);
        this.emit(ingress, data, p, route, { kind: 'local' });
        this.originate(reply);
        return undefined;
      }
      if (this.o.onLocal) {
        this.o.onLocal(new Uint8Array(data.subarray(off, off + pktLen)));
        this.emit(ingress, data, p, route, { kind: 'local' });
        return undefined;
      }
      return this.drop(ingress, p, 'local-unhandled', data, route);
    }
    if (t.kind === 'reject') return this.dropWithIcmp(ingress, data, p, 'rejected', 'admin-prohibited', route);
    if (t.kind === 'site-directory') {
      // A released packet that still meets the base route has lost its site: no second queue.
      const taken =
        ingress !== SITE_QUEUE_INGRESS &&
        this.o.siteTrigger?.onSiteMiss(t.directoryId, new Uint8Array(data.subarray(p.dstOffset, p.dstOffset + p.addressLength)), data.subarray(off, off + pktLen)) === true;
      if (!taken) return this.drop(ingress, p, 'site-pending', data, route);
      this.counters.siteQueued++;
      if (this.trace) this.trace({ ...this.describe(ingress, data, p, route), queued: true });
      return undefined;
    }

    if (ingress.kind !== 'local' && !decrementTtl(data, p)) return this.dropWithIcmp(ingress, data, p, 'ttl-exceeded', 'time-exceeded', route);

    if (t.kind === 'sa') {
      let saId = t.id;
      // Switchover pin: a flow that existed before the mesh route keeps its tunnel (the hub's).
      if (route.source === 'mesh' && this.o.flows.pinned > 0) {
        const f = this.o.flows.lookup(data, p);
        if (f?.pinnedPath !== undefined && this.o.tunnels.innerMtu(f.pinnedPath) !== undefined) saId = f.pinnedPath;
      }
      if (ingress.kind === 'sa' && ingress.id === saId) return this.drop(ingress, p, 'reflected', data, route);
      const mtu = this.o.tunnels.innerMtu(saId);
      if (mtu === undefined) return this.dropWithIcmp(ingress, data, p, 'sa-unavailable', 'host-unreachable', route);
      if (pktLen > mtu && (p.version === 6 || p.dontFragment))
        return this.dropWithIcmp(ingress, data, p, 'too-big', 'packet-too-big', route, mtu);
      this.clamp(data, p, mtu);
      this.o.flows.track(data, p, saId, pktLen, this.batchNow ?? this.o.clock.now());
      if (!this.o.tunnels.send(saId, data, off, pktLen, headroom)) return this.drop(ingress, p, 'tunnel-send-failed', data, route);
      this.counters.toTunnel++;
      const hairpin = ingress.kind === 'sa';
      if (hairpin) this.counters.hairpin++;
      if (this.trace) this.emit(ingress, data, p, route, { kind: 'sa', id: saId }, hairpin);
      return undefined;
    }

    // t.kind === 'lan'
    const port = t.port !== undefined ? this.lans.get(t.port) : this.primaryLan;
    if (!port) return this.drop(ingress, p, 'lan-port-missing', data, route);
    if (pktLen > port.mtu && (p.version === 6 || p.dontFragment))
      return this.dropWithIcmp(ingress, data, p, 'too-big', 'packet-too-big', route, port.mtu);
    if (ingress.kind === 'sa') {
      const mtu = this.o.tunnels.innerMtu(ingress.id);
      if (mtu !== undefined) this.clamp(data, p, mtu);
    }
    const path = ingress.kind === 'sa' ? ingress.id : (this.lanPathIds.get(port) ?? `lan:${port.name}`);
    this.o.flows.track(data, p, path, pktLen, this.batchNow ?? this.o.clock.now());
    if (!port.sendAt(data, off, pktLen)) return this.drop(ingress, p, 'lan-send-failed', data, route);
    this.counters.toLan++;
    if (this.trace) this.emit(ingress, data, p, route, { kind: 'lan', port: port.name });
    return undefined;
  }

  private clamp(data: Uint8Array, p: ParsedPacket, mtu: number): void {
    if (this.o.clampMss === false || p.protocol !== IPPROTO.tcp) return;
    if (clampMss(data, p, mssForMtu(mtu, p.version as 4 | 6)) === 'clamped') this.counters.mssClamped++;
  }

  private dropWithIcmp(
    ingress: Ingress,
    data: Uint8Array,
    p: ParsedPacket,
    reason: DropReason,
    kind: IcmpErrorKind,
    route: Route | undefined,
    mtu = 0,
  ): DropReason {
    let sent: string | undefined;
    // Never answer our own packets with an ICMP error (no loops through originate()).
    if (ingress.kind !== 'local') {
      const from = p.version === 4 ? this.o.routerAddress4 : this.o.routerAddress6;
      if (from && this.takeToken()) {
        const msg = buildIcmpError(data, p, kind, from, mtu);
        if (msg) {
          this.counters.icmpSent++;
          sent = kind;
          this.counters.drops[reason]++;
          if (this.trace) this.trace({ ...this.describe(ingress, data, p, route), drop: reason, icmp: kind });
          this.originate(msg);
          return reason;
        }
      }
    }
    return this.drop(ingress, p, reason, data, route, sent);
  }

  private takeToken(): boolean {
    const now = this.o.clock.now();
    this.tokens = Math.min(ICMP_BURST, this.tokens + (now - this.tokensAt) * this.ratePerMs);
    this.tokensAt = now;
    if (this.tokens < 1) {
      this.counters.icmpRateLimited++;
      return false;
    }
    this.tokens--;
    return true;
  }

  private drop(
    ingress: Ingress,
    p: ParsedPacket | undefined,
    reason: DropReason,
    data?: Uint8Array,
    route?: Route,
    icmp?: string,
  ): DropReason {
    this.counters.drops[reason]++;
    if (this.trace) {
      const base: ForwardTrace =
        p && data && p.version !== 0 ? this.describe(ingress, data, p, route) : { ingress, src: '?', dst: '?', protocol: -1 };
      this.trace({ ...base, drop: reason, ...(icmp ? { icmp } : {}) });
    }
    return reason;
  }

  private emit(ingress: Ingress, data: Uint8Array, p: ParsedPacket, route: Route, egress: Ingress, hairpin = false): void {
    if (!this.trace) return;
    this.trace({ ...this.describe(ingress, data, p, route), egress, ...(hairpin ? { hairpin } : {}) });
  }

  private describe(ingress: Ingress, data: Uint8Array, p: ParsedPacket, route: Route | undefined): ForwardTrace {
    return {
      ingress,
      src: formatAddress(data, p.srcOffset, p.addressLength),
      dst: formatAddress(data, p.dstOffset, p.addressLength),
      protocol: p.protocol,
      ...(route ? { route: `${formatPrefix(route.prefix)} ${route.source}` } : {}),
    };
  }
}
