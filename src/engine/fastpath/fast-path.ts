/**
 * The fast path: per-packet work of established flows in the native addon
 * (src/native/fastpath.cc), the decisions in TypeScript, as a hardware router splits its
 * forwarding plane from its control plane.
 *
 *   native: UDP socket (NAT-T port) + TUN fd, two threads: TUN read -> flow lookup -> TTL ->
 *           ESP seal -> sendmmsg; recvmmsg -> SPI -> replay check -> open -> replay commit ->
 *           flow lookup -> TTL -> TUN write or another SA (hub hairpin)
 *   here:   the SAs (installed by EspDatapath through EspOffload), and the flow offload
 *           table: the first packets of every flow are punted up and take the JavaScript
 *           path unchanged (Forwarder, FlowTable, mesh triggers, ICMP errors, MSS clamp,
 *           PMTU); when the forwarder has sent a punted packet into a tunnel or to the TUN,
 *           that flow (5-tuple and ingress) is offloaded with that action.
 *
 * Consistency: every route change (a mesh tunnel coming up, a tunnel going down, static
 * routes) clears the offload table, so the next packet of each flow is decided again by
 * JavaScript (mesh switchover `move`; `pin` is honoured because the forwarder decides).
 * Flows whose every packet a mesh controller inspects (at a spoke: from its hub, the egress
 * trigger; at a hub with hub-redirect: hairpins) are not offloaded. Counters are pulled every SYNC_MS into the FlowTable
 * (show sessions, idle expiry), the SAs (show ipsec) and the tunnels (show vpn / mesh,
 * idle teardown).
 */
import ipaddr from 'ipaddr.js';
import type { Engine } from '../engine.js';
import type { Flow } from '../dataplane/flow-table.js';
import { ParsedPacket, parsePacket } from '../dataplane/ip-packet.js';
import { emptyLanPortCounters, type LanPort, type LanPortCounters } from '../dataplane/lan-port.js';
import type { BatchHandler, PacketBatch } from '../dataplane/packet-batch.js';
import type { TunLanPort } from '../dataplane/tun-lan-port.js';
import type { EspOffload } from '../esp-datapath.js';
import { EncrId } from '../crypto/ids.js';
import type { ChildSaInstall, SaDirection, SaUsage } from '../ike/sa-installer.js';
import type { Endpoint, ReceiveHandler, Transport } from '../net/types.js';
import {
  ACTION_TUN,
  ACTION_TUNNEL,
  PUNT_DECRYPTED,
  PUNT_TUN,
  PUNT_UDP,
  SUITE_AES_GCM_16,
  SUITE_CHACHA20_POLY1305,
  loadFastPathAddon,
  type NativeFastPath,
  type NativeFastPathStats,
} from './native.js';

/** Counter pull interval. */
export const SYNC_MS = 500;
/** An offloaded flow idle this long leaves the addon's table (it stays in the FlowTable; its next packet offloads it again). */
export const IDLE_RETURN_MS = 30_000;
const META_WORDS = 10;
const MAX_FLOW_STATS = 65_536;

export interface FastPathOptions {
  /** Bind address of the NAT-T socket ('::' dual stack). */
  address?: string;
  port?: number;
  bufferBytes?: number;
}

interface Offloaded {
  flow: Flow | undefined;
  fromA: boolean;
  created: number;
  packets: number;
  bytes: number;
}

interface PuntContext {
  ingress: number;
  data: Uint8Array;
  offset: number;
}

/** The Transport the engine sees: IKE and punted datagrams up, sends through the native socket. */
export class FastPathTransport implements Transport {
  readonly counters = { rxDatagrams: 0, txDatagrams: 0, txErrors: 0, rxNoHandler: 0 };
  private handler: ReceiveHandler | undefined;

  constructor(
    private readonly fp: FastPath,
    readonly local: Endpoint,
  ) {}

  send(payload: Uint8Array, to: Endpoint): boolean {
    if (this.fp.stopped) return false;
    if (this.fp.native.sendUdp(payload, to.address, to.port)) {
      this.counters.txDatagrams++;
      return true;
    }
    this.counters.txErrors++;
    return false;
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** @internal a punted datagram */
  deliver(payload: Uint8Array, from: Endpoint): void {
    this.counters.rxDatagrams++;
    if (!this.handler) {
      this.counters.rxNoHandler++;
      return;
    }
    this.handler(payload, from);
  }

  close(): Promise<void> {
    this.fp.stop();
    return Promise.resolve();
  }
}

/** A TUN LAN port whose reads are done by the fast path (first packets of flows come up here). */
export class FastTunLanPort implements LanPort {
  readonly kind = 'tun' as const;
  private handler: BatchHandler | undefined;
  private readonly batch: PacketBatch = { data: new Uint8Array(0), offsets: new Uint32Array(1), lengths: new Uint32Array(1), headroom: 0, count: 0 };
  private readonly own: LanPortCounters = emptyLanPortCounters();

  constructor(
    private readonly fp: FastPath,
    readonly inner: TunLanPort,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get counters(): Readonly<LanPortCounters> {
    const c = this.inner.counters;
    const s = this.fp.nativeStats();
    return {
      ...c,
      rxPackets: s.tunRxPackets,
      rxBatches: s.tunRxBatches,
      rxBytes: this.own.rxBytes,
      txPackets: c.txPackets + s.tunTxPackets,
      txDropped: c.txDropped + s.tunTxErrors,
    };
  }

  onReceive(handler: BatchHandler): void {
    this.handler = handler;
  }

  send(packet: Uint8Array): boolean {
    return this.inner.send(packet);
  }

  sendAt(data: Uint8Array, offset: number, length: number): boolean {
    const ok = this.inner.sendAt(data, offset, length);
    if (ok) this.fp.sentToTun(this, data, offset, length);
    return ok;
  }

  /** @internal a punted packet read from the TUN */
  deliver(data: Uint8Array, offset: number, length: number): void {
    this.own.rxBytes += length;
    const b = this.batch as { data: Uint8Array } & PacketBatch;
    b.data = data;
    b.offsets[0] = offset;
    b.lengths[0] = length;
    b.count = 1;
    this.handler?.(b);
  }

  close(): Promise<void> {
    this.fp.stop();
    return this.inner.close();
  }
}

export class FastPath implements EspOffload {
  readonly transport: FastPathTransport;
  stopped = false;
  /** Route changes that cleared the offload table; flows offloaded; offload refusals. */
  readonly counters = { invalidations: 0, offloads: 0, refused: 0, keptForMesh: 0, refreshed: 0, syncs: 0 };
  private tun: FastTunLanPort | undefined;
  private engine: Engine | undefined;
  private readonly tunnelIds = new Map<string, number>();
  private readonly tunnelNames = new Map<number, string>();
  private readonly offloaded = new Map<number, Offloaded>();
  private ctx: PuntContext | undefined;
  private readonly parsed = new ParsedPacket();
  private readonly flowBuf = new Float64Array(MAX_FLOW_STATS * 4);
  private timer: NodeJS.Timeout | undefined;
  private lastStats: NativeFastPathStats | undefined;

  private constructor(
    readonly native: NativeFastPath,
    readonly openssl: string,
  ) {
    const local = { address: '', port: native.port };
    this.transport = new FastPathTransport(this, local);
  }

  /** Opens the native socket; a reason instead when the addon cannot be used. */
  static open(options: FastPathOptions = {}): { fastPath: FastPath } | { reason: string } {
    const loaded = loadFastPathAddon();
    if (!('addon' in loaded)) return { reason: loaded.reason };
    const address = options.address ?? '::';
    let native: NativeFastPath;
    try {
      native = new loaded.addon.FastPath(address, options.port ?? 4500, options.bufferBytes ?? 4 << 20);
    } catch (err) {
      return { reason: (err as Error).message };
    }
    const fp = new FastPath(native, loaded.addon.OPENSSL_VERSION);
    (fp.transport.local as { address: string }).address = address;
    return { fastPath: fp };
  }

  /** Takes over reading the TUN of `port`; use the returned port in place of it. */
  wrapTun(port: TunLanPort): FastTunLanPort {
    if (this.tun) throw new Error('fast path: one TUN port only');
    this.native.attachTun(port.device.fd, port.mtu);
    this.tun = new FastTunLanPort(this, port);
    return this.tun;
  }

  /** Connects to the engine (after it was built with this transport and port) and starts the threads. */
  start(engine: Engine): void {
    this.engine = engine;
    engine.datapath.offload = this;
    // Every route change may change the path of offloaded flows: decide them again.
    const routes = engine.routes as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of ['add', 'replace', 'remove', 'removeWhere']) {
      const orig = routes[name]!.bind(engine.routes);
      routes[name] = (...a: unknown[]) => {
        const r = orig(...a);
        this.invalidate();
        return r;
      };
    }
    this.native.start((data, meta, count) => this.onPunt(data, meta, count));
    this.timer = setInterval(() => this.sync(), SYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.lastStats = this.native.stats();
    this.native.stop();
    if (this.engine?.datapath.offload === this) this.engine.datapath.offload = undefined;
  }

  nativeStats(): NativeFastPathStats {
    return this.stopped && this.lastStats ? this.lastStats : this.native.stats();
  }

  // ---- punts ---------------------------------------------------------------------------

  private onPunt(data: Buffer, meta: Uint32Array, count: number): void {
    if (this.stopped) return;
    // IP packets go on as a plain Uint8Array, as TUN batches do: the forwarder's copies
    // (data.slice) must be copies, which Buffer#slice is not.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < count; i++) {
      const m = i * META_WORDS;
      const kind = meta[m]!;
      const off = meta[m + 1]!;
      const len = meta[m + 2]!;
      try {
        if (kind === PUNT_UDP) {
          this.transport.deliver(data.subarray(off, off + len), { address: formatFrom(meta, m), port: meta[m + 4]! });
        } else if (kind === PUNT_DECRYPTED) {
          const spi = meta[m + 3]!;
          const dp = this.engine!.datapath;
          const tunnel = dp.inboundTunnel(spi);
          this.ctx = tunnel === undefined ? undefined : { ingress: this.tunnelId(tunnel), data: bytes, offset: off };
          dp.receiveDecrypted(spi, bytes, off, len);
        } else if (kind === PUNT_TUN && this.tun) {
          this.ctx = { ingress: 0, data: bytes, offset: off };
          this.tun.deliver(bytes, off, len);
        }
      } catch {
        // a failure in the JavaScript path must not stop the next packets
      } finally {
        this.ctx = undefined;
      }
    }
  }

  // ---- offload decisions -----------------------------------------------------------------

  /** EspOffload: the forwarder sent a packet into `tunnel`. */
  sentToTunnel(tunnel: string, current: boolean, data: Uint8Array, offset: number, length: number): void {
    if (!current) return;
    const mtu = this.engine?.datapath.innerMtu(tunnel);
    if (mtu === undefined) return;
    this.offload(ACTION_TUNNEL, this.tunnelId(tunnel), mtu, data, offset, length);
  }

  /** The forwarder wrote a packet to the fast path's TUN. */
  sentToTun(port: FastTunLanPort, data: Uint8Array, offset: number, length: number): void {
    this.offload(ACTION_TUN, 0, port.mtu, data, offset, length);
  }

  private offload(action: number, tunnel: number, mtu: number, data: Uint8Array, offset: number, length: number): void {
    const c = this.ctx;
    // Only the punted packet itself (not an ICMP error or echo reply built for it), once.
    if (c === undefined || c.data !== data || c.offset !== offset || this.stopped) return;
    this.ctx = undefined;
    const engine = this.engine!;
    if (engine.forwarder.trace) return; // `trace + packet` wants to see every packet
    if (action === ACTION_TUNNEL && c.ingress === tunnel) return;
    // Packets the mesh controllers inspect (from a hub at a spoke: egress trigger; hairpins
    // at a hub with hub-redirect) stay on the JavaScript path, every one of them.
    if (this.meshRelevant(c.ingress)) {
      this.counters.keptForMesh++;
      return;
    }
    const id = this.native.offload(c.ingress, data, offset, length, action, tunnel, mtu);
    if (id === 0) {
      this.counters.refused++;
      return;
    }
    if (this.offloaded.has(id)) return;
    const p = this.parsed;
    let flow: Flow | undefined;
    let fromA = true;
    if (parsePacket(data, offset, length, p) === 'ok') {
      flow = engine.flows.lookup(data, p);
      if (flow) fromA = isFromA(data, p);
    }
    this.offloaded.set(id, { flow, fromA, created: engine.clock.now(), packets: 0, bytes: 0 });
    this.counters.offloads++;
  }

  /** Clears the offload table (after taking its counters). */
  invalidate(): void {
    if (this.stopped || this.offloaded.size === 0) return;
    this.syncFlows(true);
    this.native.clearFlows();
    this.offloaded.clear();
    this.counters.invalidations++;
  }

  // ---- counters ----------------------------------------------------------------------------

  /** Pulls flow, SA and tunnel counters from the addon. */
  sync(): void {
    if (this.stopped || !this.engine) return;
    this.counters.syncs++;
    this.syncFlows(false);
    this.engine.datapath.syncOffloadCounters();
  }

  private syncFlows(all: boolean): void {
    const engine = this.engine!;
    const now = engine.clock.now();
    const n = this.native.flowStats(this.flowBuf);
    const b = this.flowBuf;
    const tracing = engine.forwarder.trace !== undefined;
    for (let i = 0; i < n; i++) {
      const id = b[i * 4]!;
      const packets = b[i * 4 + 1]!;
      const bytes = b[i * 4 + 2]!;
      const idle = b[i * 4 + 3]!;
      const o = this.offloaded.get(id);
      if (!o) {
        this.native.removeFlow(id);
        continue;
      }
      const dp = packets - o.packets;
      const db = bytes - o.bytes;
      o.packets = packets;
      o.bytes = bytes;
      const f = o.flow;
      if (f && f.lru !== null && dp > 0) {
        if (o.fromA) {
          f.packetsAtoB += dp;
          f.bytesAtoB += db;
        } else {
          f.packetsBtoA += dp;
          f.bytesBtoA += db;
        }
        const seen = now - idle;
        if (seen > f.lastSeen) {
          f.lastSeen = seen;
          // keep the FlowTable's LRU lists in last-seen order (its expiry walks them from the head)
          const list = f.lru;
          list.unlink(f);
          list.push(f);
        }
      }
      if (all) continue;
      // A flow the FlowTable has expired, an idle one, or tracing on: back to JavaScript.
      if ((f && f.lru === null) || idle >= IDLE_RETURN_MS || tracing) {
        this.native.removeFlow(id);
        this.offloaded.delete(id);
        this.counters.refreshed++;
      }
    }
  }

  // ---- EspOffload (SAs) ----------------------------------------------------------------------

  installSa(direction: SaDirection, s: ChildSaInstall, tunnel: string): boolean {
    if (this.stopped) return false;
    const suite = s.encrId === EncrId.ENCR_CHACHA20_POLY1305 ? SUITE_CHACHA20_POLY1305 : s.encrId === EncrId.ENCR_AES_GCM_16 ? SUITE_AES_GCM_16 : -1;
    if (suite < 0) return false;
    try {
      this.native.addSa(direction === 'in', s.spi, suite, s.keyMaterial, this.tunnelId(tunnel), s.remote.address, s.remote.port);
      return true;
    } catch {
      return false;
    }
  }

  removeSa(direction: SaDirection, spi: number): void {
    if (this.stopped) return;
    this.engine?.datapath.syncOffloadCounters(); // the SA's last packets, before its counters go
    this.native.removeSa(direction === 'in', spi);
  }

  setPeer(spi: number, remote: Endpoint): void {
    if (!this.stopped) this.native.setPeer(spi, remote.address, remote.port);
  }

  setTunnelSa(tunnel: string, spi: number | undefined): void {
    if (this.stopped) return;
    this.native.setTunnel(this.tunnelId(tunnel), spi ?? 0);
  }

  sealSend(spi: number, data: Uint8Array, offset: number, length: number): boolean {
    return !this.stopped && this.native.sealSend(spi, data, offset, length);
  }

  usage(direction: SaDirection, spi: number): SaUsage | undefined {
    if (this.stopped) return undefined;
    const s = this.native.saStats(direction === 'in', spi);
    return s ? { packets: s[0]!, bytes: s[1]! } : undefined;
  }

  private tunnelId(name: string): number {
    let id = this.tunnelIds.get(name);
    if (id === undefined) {
      this.tunnelIds.set(name, (id = this.tunnelIds.size + 1));
      this.tunnelNames.set(id, name);
    }
    return id;
  }

  /** Whether packets through this tunnel feed a mesh controller (spoke: via its hub; hub: redirects). */
  private meshRelevant(tunnel: number): boolean {
    if (tunnel === 0) return false;
    const cfg = this.engine!.config;
    const kind = cfg.peers.find((p) => p.name === this.tunnelNames.get(tunnel))?.kind;
    if (cfg.mesh.operationMode === 'Spoke') return kind === 'hub';
    if (cfg.mesh.operationMode === 'Hub') return cfg.mesh.trigger === 'hub-redirect' && kind === 'spoke';
    return false;
  }

  // ---- show forwarding ---------------------------------------------------------------------

  /**
   * `show forwarding`: adds what the fast path forwarded to the forwarder's totals (its
   * counters only see the packets of the JavaScript path), after pulling the counters.
   */
  addToTotals(pairs: [string, unknown][]): void {
    this.sync();
    const s = this.nativeStats();
    const add: Record<string, number> = {
      Received: s.offloadedIn + s.offloadedOut,
      'To-Tunnel': s.offloadedOut + s.hairpin,
      'To-LAN': s.offloadedIn - s.hairpin,
      Hairpin: s.hairpin,
      'ESP-Rx-Dropped': s.dropReplay + s.dropAuthFailed + s.dropMalformed + s.dropDummy + s.dropTooLong,
    };
    for (const pair of pairs) {
      const n = add[pair[0]];
      if (n !== undefined && typeof pair[1] === 'number') pair[1] = pair[1] + n;
    }
  }

  /** Key/value rows for `show forwarding` (the fast path's own block). */
  report(): [string, number | string][] {
    const s = this.nativeStats();
    return [
      ['Fast-Path', this.stopped ? 'stopped' : 'on'],
      ['Offloaded-Flows', s.flows],
      ['Offloads', this.counters.offloads],
      ['Offload-Invalidations', this.counters.invalidations],
      ['Offload-Returns', this.counters.refreshed],
      ['Kept-For-Mesh', this.counters.keptForMesh],
      ['Offloaded-Packets-In', s.offloadedIn],
      ['Offloaded-Packets-Out', s.offloadedOut],
      ['Offloaded-Hairpin', s.hairpin],
      ['Native-ESP-Rx-Packets', s.espRxPackets],
      ['Native-ESP-Rx-Bytes', s.espRxBytes],
      ['Native-ESP-Tx-Packets', s.espTxPackets],
      ['Native-ESP-Tx-Bytes', s.espTxBytes],
      ['UDP-Rx-Packets', s.udpRxPackets],
      ['UDP-Rx-Batches', s.udpRxBatches],
      ['UDP-Tx-Packets', s.udpTxPackets],
      ['UDP-Tx-Batches', s.udpTxBatches],
      ['TUN-Rx-Packets', s.tunRxPackets],
      ['TUN-Rx-Batches', s.tunRxBatches],
      ['TUN-Tx-Packets', s.tunTxPackets],
      ['Punted-UDP', s.puntUdp],
      ['Punted-Decrypted', s.puntDecrypted],
      ['Punted-TUN', s.puntTun],
    ];
  }

  /** Drops by reason for `show forwarding`. */
  drops(): [string, number][] {
    const s = this.nativeStats();
    return [
      ['esp-replay', s.dropReplay],
      ['esp-auth-failed', s.dropAuthFailed],
      ['esp-malformed', s.dropMalformed],
      ['esp-dummy-packet', s.dropDummy],
      ['esp-sequence-exhausted', s.dropSeqExhausted],
      ['udp-too-long', s.dropTooLong],
      ['punt-overflow', s.puntOverflow],
      ['udp-send-failed', s.udpTxErrors],
      ['tun-write-failed', s.tunTxErrors],
    ];
  }
}

/** Whether the packet goes from the flow's endpoint A (FlowTable's canonical order). */
function isFromA(buf: Uint8Array, p: ParsedPacket): boolean {
  let cmp = 0;
  for (let i = 0; i < p.addressLength && cmp === 0; i++) cmp = buf[p.srcOffset + i]! - buf[p.dstOffset + i]!;
  if (cmp === 0) cmp = p.srcPort - p.dstPort;
  return cmp <= 0;
}

function formatFrom(meta: Uint32Array, m: number): string {
  const family = meta[m + 5]!;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  // the addon copied the address bytes into the words as they lie in memory (little-endian host)
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, meta[m + 6 + i]!, true);
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const v6 = ipaddr.fromByteArray(Array.from(bytes)) as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return v6.toString();
}
