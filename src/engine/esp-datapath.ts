/**
 * The ESP data path of a node: the seam where IKE (control plane) meets packets.
 *
 *   IKE  --SaInstaller-->  EspDatapath  <--TunnelSender--  Forwarder (LAN -> SA)
 *   UDP  --ESP datagram--> EspDatapath  --InboundSink-->   Forwarder (SA -> LAN / hairpin)
 *
 * Tunnels are named by their peer (the route table's `{ kind: 'sa', id: peer }`), so a
 * child SA rekey changes SPIs without touching routes: the newest outbound SA of a peer
 * whose remote traffic selectors cover the destination carries the packet (make before
 * break), and old inbound SAs keep accepting until IKE removes them.
 */
import ipaddr from 'ipaddr.js';
import type { Clock } from './clock.js';
import { createAead } from './crypto/aead.js';
import type { InboundSink, SaId, TunnelSender } from './dataplane/seams.js';
import { ESP_MAX_OVERHEAD, EspOpenResult, espOpen, espPacketLength, espSeal, InboundSa, OutboundSa, SaTable } from './esp/index.js';
import type { ChildSaInstall, SaDirection, SaInstaller, SaUsage } from './ike/sa-installer.js';
import type { TrafficSelector } from './ike/traffic-selector.js';
import type { Endpoint, Transport } from './net/types.js';

/** Outer IPv4 + UDP; IPv6 transport adds 20 more. */
const OUTER_V4 = 20 + 8;
const OUTER_V6 = 40 + 8;
export const DEFAULT_PATH_MTU = 1500;

interface Range {
  family: 4 | 6;
  start: Uint8Array;
  end: Uint8Array;
}

interface OutboundEntry {
  sa: OutboundSa;
  peer: string;
  remote: Endpoint;
  ranges: Range[];
  installedAt: number;
  /** Installed in the native fast path too (it seals with the shared sequence counter). */
  offloaded: boolean;
}

/**
 * A native fast path that owns the SAs' per-packet state (src/engine/fastpath/): when set,
 * every SA is installed there as well, packets of the JavaScript path are sealed by it (one
 * sequence counter per SA), decrypted packets come back through receiveDecrypted(), and the
 * SAs' traffic counters are read from it.
 */
export interface EspOffload {
  /** Installs an SA; false when the fast path cannot take it (it then stays JavaScript-only). */
  installSa(direction: SaDirection, s: ChildSaInstall, tunnel: string): boolean;
  removeSa(direction: SaDirection, spi: number): void;
  /** The peer's endpoint of an outbound SA changed (NAT rebinding). */
  setPeer(spi: number, remote: Endpoint): void;
  /** The outbound SA that carries the tunnel's offloaded flows (undefined: none). */
  setTunnelSa(tunnel: string, spi: number | undefined): void;
  /** Seals and sends an inner packet with an installed outbound SA. */
  sealSend(spi: number, data: Uint8Array, offset: number, length: number): boolean;
  /** Told after each packet the JavaScript path sent into a tunnel (flow offload decisions). */
  sentToTunnel(tunnel: string, current: boolean, data: Uint8Array, offset: number, length: number): void;
  /** Packets and inner bytes of an SA as the fast path counted them. */
  usage(direction: SaDirection, spi: number): SaUsage | undefined;
}

interface InboundMeta {
  peer: string;
  ranges: Range[];
}

export interface TunnelStats {
  lastActivity: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface EspDatapathCounters {
  txPackets: number;
  txBytes: number;
  txNoSa: number;
  txSealFailed: number;
  txSendFailed: number;
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
}

export class EspDatapath implements SaInstaller, TunnelSender {
  readonly table = new SaTable();
  readonly counters: EspDatapathCounters = { txPackets: 0, txBytes: 0, txNoSa: 0, txSealFailed: 0, txSendFailed: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0 };
  /** Outbound SAs per peer, newest first. */
  private readonly outbound = new Map<string, OutboundEntry[]>();
  private readonly outBySpi = new Map<number, OutboundEntry>();
  private readonly inMeta = new Map<number, InboundMeta>();
  /** Union of the remote selectors of a peer's inbound SAs: what may arrive from it. */
  private readonly inboundRanges = new Map<string, Range[]>();
  /** Per tunnel (peer name): last packet either way, and traffic of the inner packets. */
  private readonly stats = new Map<string, TunnelStats>();
  private readonly openResult = new EspOpenResult();
  private sink: InboundSink | undefined;
  /**
   * The tunnel name an installed SA is filed under (default: its peer config). A responder
   * config that accepts many peers (mesh) names each of its SAs after the remote identity.
   */
  tunnelName: (s: ChildSaInstall) => string = (s) => s.peer;
  /** The native fast path, when the node runs one (set before any SA is installed). */
  offload: EspOffload | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly pathMtu = DEFAULT_PATH_MTU,
  ) {}

  /** Where decrypted packets go (the forwarder). */
  setSink(sink: InboundSink): void {
    this.sink = sink;
  }

  // ---- SaInstaller (called by IKE) ---------------------------------------------------

  installInbound(s: ChildSaInstall): void {
    const sa = new InboundSa({ spi: s.spi, aead: createAead(s.encrId, s.keyBits, s.keyMaterial) });
    this.table.remove(s.spi);
    this.table.add(sa);
    const peer = this.tunnelName(s);
    this.inMeta.set(s.spi, { peer, ranges: s.remoteTs.map(toRange) });
    this.reindexInbound(peer);
    this.offload?.installSa('in', s, peer);
  }

  installOutbound(s: ChildSaInstall): void {
    const sa = new OutboundSa({ spi: s.spi, aead: createAead(s.encrId, s.keyBits, s.keyMaterial) });
    const peer = this.tunnelName(s);
    const offloaded = this.offload?.installSa('out', s, peer) ?? false;
    const entry: OutboundEntry = { sa, peer, remote: s.remote, ranges: s.remoteTs.map(toRange), installedAt: this.clock.now(), offloaded };
    const list = this.outbound.get(peer) ?? [];
    list.unshift(entry);
    this.outbound.set(peer, list);
    this.outBySpi.set(s.spi, entry);
    this.offload?.setTunnelSa(peer, offloaded ? s.spi : undefined);
  }

  remove(spi: number, direction: SaDirection): void {
    this.offload?.removeSa(direction, spi);
    if (direction === 'in') {
      this.table.remove(spi);
      const meta = this.inMeta.get(spi);
      this.inMeta.delete(spi);
      if (meta) this.reindexInbound(meta.peer);
      return;
    }
    const entry = this.outBySpi.get(spi);
    if (!entry) return;
    this.outBySpi.delete(spi);
    const list = this.outbound.get(entry.peer);
    if (!list) return;
    const rest = list.filter((e) => e !== entry);
    if (rest.length) this.outbound.set(entry.peer, rest);
    else this.outbound.delete(entry.peer);
    const current = rest[0];
    if (this.offload && list[0] === entry) this.offload.setTunnelSa(entry.peer, current?.offloaded ? current.sa.spi : undefined);
  }

  /** SaInstaller: the peer moved (NAT rebinding): outbound ESP of `spi` goes to `remote` now. */
  updateRemote(spi: number, remote: Endpoint): void {
    const entry = this.outBySpi.get(spi);
    if (!entry) return;
    entry.remote = remote;
    if (entry.offloaded) this.offload?.setPeer(spi, remote);
  }

  usage(spi: number, direction: SaDirection): SaUsage | undefined {
    const native = this.offload?.usage(direction, spi);
    if (native) return native;
    const sa = direction === 'in' ? this.table.get(spi) : this.outBySpi.get(spi)?.sa;
    return sa ? { bytes: sa.bytes, packets: sa.packets } : undefined;
  }

  // ---- TunnelSender (called by the forwarder) ---------------------------------------

  innerMtu(id: SaId): number | undefined {
    const list = this.outbound.get(String(id));
    if (!list || list.length === 0) return undefined;
    const outer = list[0]!.remote.address.includes(':') ? OUTER_V6 : OUTER_V4;
    return this.pathMtu - outer - ESP_MAX_OVERHEAD;
  }

  send(id: SaId, data: Uint8Array, offset: number, length: number): boolean {
    const entry = this.pick(String(id), data, offset);
    if (!entry) {
      this.counters.txNoSa++;
      return false;
    }
    if (entry.offloaded && this.offload) {
      // The fast path seals (its sequence counter) and sends; its counters include the packet.
      if (!this.offload.sealSend(entry.sa.spi, data, offset, length)) {
        this.counters.txSendFailed++;
        return false;
      }
      this.statsOf(entry.peer).lastActivity = this.clock.now();
      this.offload.sentToTunnel(entry.peer, entry === this.outbound.get(entry.peer)?.[0], data, offset, length);
      return true;
    }
    // A fresh buffer per datagram: the UDP socket may still hold it after send() returns.
    const out = Buffer.allocUnsafe(espPacketLength(length));
    const n = espSeal(entry.sa, data.subarray(offset, offset + length), out, 0);
    if (typeof n !== 'number') {
      this.counters.txSealFailed++;
      return false;
    }
    if (!this.transport.send(n === out.length ? out : out.subarray(0, n), entry.remote)) {
      this.counters.txSendFailed++;
      return false;
    }
    this.counters.txPackets++;
    this.counters.txBytes += length;
    const st = this.statsOf(entry.peer);
    st.lastActivity = this.clock.now();
    st.packetsOut++;
    st.bytesOut += length;
    return true;
  }

  /** A decrypted packet's source must lie in the remote traffic selectors of its peer's SAs. */
  allowsInbound(id: SaId, data: Uint8Array, srcOffset: number, addressLength: number): boolean {
    const ranges = this.inboundRanges.get(String(id));
    return ranges !== undefined && covers(ranges, data, srcOffset, addressLength);
  }

  // ---- receive (ESP datagrams from the shared UDP port) ------------------------------

  receive(datagram: Uint8Array, _from: Endpoint): void {
    const r = espOpen(this.table, datagram, this.openResult);
    if (!r.ok) {
      this.counters.rxDropped++;
      return;
    }
    const meta = this.inMeta.get(r.spi);
    if (!meta || !this.sink) {
      this.counters.rxDropped++;
      return;
    }
    this.counters.rxPackets++;
    this.counters.rxBytes += r.innerLength;
    const st = this.statsOf(meta.peer);
    st.lastActivity = this.clock.now();
    st.packetsIn++;
    st.bytesIn += r.innerLength;
    this.sink.fromTunnel(meta.peer, datagram, r.innerOffset, r.innerLength);
  }

  /** The tunnel an inbound SA belongs to (fast path punts). */
  inboundTunnel(spi: number): string | undefined {
    return this.inMeta.get(spi)?.peer;
  }

  /**
   * A packet the fast path decrypted and authenticated (replay window committed) but did not
   * forward itself: on to the forwarder as if espOpen had opened it. Its counters come from
   * the fast path (syncOffloadCounters).
   */
  receiveDecrypted(spi: number, data: Uint8Array, offset: number, length: number): void {
    const meta = this.inMeta.get(spi);
    if (!meta || !this.sink) {
      this.counters.rxDropped++;
      return;
    }
    this.statsOf(meta.peer).lastActivity = this.clock.now();
    this.sink.fromTunnel(meta.peer, data, offset, length);
  }

  /**
   * Takes the fast path's per-SA counters into the SAs (show ipsec), the tunnels' traffic
   * (show mesh, idle teardown) and this datapath's counters. Call periodically.
   */
  syncOffloadCounters(): void {
    const o = this.offload;
    if (!o) return;
    const now = this.clock.now();
    for (const sa of this.table.values()) {
      const u = o.usage('in', sa.spi);
      if (!u || u.packets === sa.packets) continue;
      const dp = u.packets - sa.packets;
      const db = u.bytes - sa.bytes;
      sa.packets = u.packets;
      sa.bytes = u.bytes;
      this.counters.rxPackets += dp;
      this.counters.rxBytes += db;
      const peer = this.inMeta.get(sa.spi)?.peer;
      if (peer === undefined) continue;
      const st = this.statsOf(peer);
      st.packetsIn += dp;
      st.bytesIn += db;
      st.lastActivity = now;
    }
    for (const e of this.outBySpi.values()) {
      if (!e.offloaded) continue;
      const u = o.usage('out', e.sa.spi);
      if (!u || u.packets === e.sa.packets) continue;
      const dp = u.packets - e.sa.packets;
      const db = u.bytes - e.sa.bytes;
      e.sa.packets = u.packets;
      e.sa.bytes = u.bytes;
      e.sa.seq = u.packets;
      this.counters.txPackets += dp;
      this.counters.txBytes += db;
      const st = this.statsOf(e.peer);
      st.packetsOut += dp;
      st.bytesOut += db;
      st.lastActivity = now;
    }
  }

  /** Clock time of the last packet sent or received for peer (idle teardown, DPD). */
  lastActivity(peer: string): number | undefined {
    return this.stats.get(peer)?.lastActivity;
  }

  /** Traffic through a tunnel since it was first used (show mesh, /Status). */
  tunnelStats(peer: string): Readonly<TunnelStats> | undefined {
    return this.stats.get(peer);
  }

  private statsOf(peer: string): TunnelStats {
    let st = this.stats.get(peer);
    if (!st) this.stats.set(peer, (st = { lastActivity: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0 }));
    return st;
  }

  hasTunnel(peer: string): boolean {
    return (this.outbound.get(peer)?.length ?? 0) > 0;
  }

  private reindexInbound(peer: string): void {
    const ranges: Range[] = [];
    for (const m of this.inMeta.values()) if (m.peer === peer) ranges.push(...m.ranges);
    if (ranges.length) this.inboundRanges.set(peer, ranges);
    else this.inboundRanges.delete(peer);
  }

  private pick(peer: string, data: Uint8Array, offset: number): OutboundEntry | undefined {
    const list = this.outbound.get(peer);
    if (!list) return undefined;
    if (list.length === 1) return list[0];
    const v = data[offset]! >>> 4;
    const dstOffset = offset + (v === 6 ? 24 : 16);
    const len = v === 6 ? 16 : 4;
    for (const e of list) if (covers(e.ranges, data, dstOffset, len)) return e;
    return list[0];
  }
}

function toRange(ts: TrafficSelector): Range {
  return {
    family: ts.family,
    start: Uint8Array.from(ipaddr.parse(ts.startAddress).toByteArray()),
    end: Uint8Array.from(ipaddr.parse(ts.endAddress).toByteArray()),
  };
}

/** Whether the address at data[off, off+len) lies in one of the ranges (byte-wise compare). */
function covers(ranges: Range[], data: Uint8Array, off: number, len: number): boolean {
  for (const r of ranges) {
    if (r.start.length !== len) continue;
    if (compare(data, off, r.start) >= 0 && compare(data, off, r.end) <= 0) return true;
  }
  return false;
}

function compare(data: Uint8Array, off: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const d = data[off + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
