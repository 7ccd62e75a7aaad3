/**
 * The flow (session) table: one entry per conversation, keyed by protocol, the two
 * addresses and the two ports (the ICMP echo identifier standing in for both ports),
 * direction-independent: A->B and B->A are the same flow. Each flow records the path it
 * uses (an opaque id, e.g. the SA), packets and bytes each way, first and last seen, and
 * expires when idle (TCP longer than UDP and ICMP; FIN or RST shortens it).
 *
 * Key computation allocates nothing per packet: the key fields are hashed straight from the
 * packet buffer (32-bit multiply-xorshift over the address bytes) into a Map<number, Flow>
 * whose values are chains of flows with the same hash, compared field by field. Only a new
 * flow allocates (the Flow object and copies of its two addresses). The alternative, a
 * string key per packet (`${proto}|${a}|${pa}|${b}|${pb}`), allocates a string per packet;
 * bench/flow-table.bench.ts measures both.
 *
 * Expiry: flows are kept in one LRU list per timeout class (TCP established, TCP closing,
 * UDP, ICMP, other). All flows of a class share one idle timeout, so each list is also in
 * expiry order, and `expire(now)` removes from the heads only what is due: O(expired).
 *
 * Overflow: at most `maxFlows` flows. When a new flow arrives at a full table, due flows are
 * expired first; if it is still full, the least recently seen flow is evicted, taken from the
 * first non-empty class in the order TCP closing, ICMP, UDP, other, TCP established
 * (short-lived classes give way first), and counted in `evicted`. The packet itself is never
 * dropped for lack of a flow entry: the table is bookkeeping and path pinning.
 */
import type { Clock } from '../clock.js';
import { formatAddress, prefixContains, type Prefix } from './address.js';
import { IPPROTO, TCP_FLAG, type ParsedPacket } from './ip-packet.js';

/** Opaque identifier of the path a flow takes (an SA id, 'lan', 'hub', ...). */
export type PathId = string | number;

export type FlowClass = 'tcp' | 'tcp-closing' | 'udp' | 'icmp' | 'other';

/** Default idle timeouts in milliseconds. */
export const DEFAULT_FLOW_TIMEOUTS: Readonly<Record<FlowClass, number>> = {
  tcp: 3_600_000,
  'tcp-closing': 10_000,
  udp: 120_000,
  icmp: 30_000,
  other: 120_000,
};

export const DEFAULT_MAX_FLOWS = 65_536;

/** Eviction order of classes when the table is full: the first non-empty gives up its LRU flow. */
const EVICTION_ORDER: readonly FlowClass[] = ['tcp-closing', 'icmp', 'udp', 'other', 'tcp'];

export class Flow {
  readonly id: number;
  readonly protocol: number;
  readonly version: 4 | 6;
  /** Endpoint A (the canonical lower one) and endpoint B. */
  readonly addrA: Uint8Array;
  readonly addrB: Uint8Array;
  readonly portA: number;
  readonly portB: number;
  /** Which endpoint sent the first packet ('a' or 'b'). */
  readonly initiator: 'a' | 'b';
  path: PathId | undefined;
  packetsAtoB = 0;
  bytesAtoB = 0;
  packetsBtoA = 0;
  bytesBtoA = 0;
  readonly firstSeen: number;
  lastSeen: number;
  /** Times this flow was moved to another path (mesh switchover). */
  switchovers = 0;
  /** Set when the flow must keep its path although a better route appeared (Switchover pin). */
  pinnedPath: PathId | undefined = undefined;
  flowClass: FlowClass;
  /** TCP FIN seen from A / from B. */
  finA = false;
  finB = false;
  /** @internal hash chain, LRU list and links */
  hash: number;
  lru: LruList | null = null;
  nextInBucket: Flow | null = null;
  prev: Flow | null = null;
  next: Flow | null = null;

  constructor(
    id: number,
    protocol: number,
    version: 4 | 6,
    addrA: Uint8Array,
    portA: number,
    addrB: Uint8Array,
    portB: number,
    initiator: 'a' | 'b',
    now: number,
    hash: number,
    flowClass: FlowClass,
  ) {
    this.id = id;
    this.protocol = protocol;
    this.version = version;
    this.addrA = addrA;
    this.portA = portA;
    this.addrB = addrB;
    this.portB = portB;
    this.initiator = initiator;
    this.firstSeen = now;
    this.lastSeen = now;
    this.hash = hash;
    this.flowClass = flowClass;
  }
}

/** A flow as `show sessions` prints it. */
export interface FlowInfo {
  id: number;
  protocol: string;
  /** Initiator side first. */
  source: string;
  destination: string;
  path: string;
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
  firstSeen: number;
  lastSeen: number;
  idleMs: number;
  expiresInMs: number;
  state: FlowClass;
  switchovers: number;
}

export interface FlowMove {
  flow: Flow;
  from: PathId | undefined;
  to: PathId;
}

export interface FlowTableOptions {
  clock: Clock;
  maxFlows?: number;
  timeouts?: Partial<Record<FlowClass, number>>;
}

export interface FlowTableCounters {
  flows: number;
  created: number;
  expired: number;
  evicted: number;
  /** Packets that could not be keyed (not parsed, later fragments without a flow). */
  unkeyed: number;
}

/** @internal One LRU list per flow class; all its flows share one timeout. */
export class LruList {
  constructor(readonly cls: FlowClass) {}
  head: Flow | null = null;
  tail: Flow | null = null;
  size = 0;

  push(f: Flow): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail) this.tail.next = f;
    else this.head = f;
    this.tail = f;
    this.size++;
  }

  unlink(f: Flow): void {
    if (f.prev) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = f.next = null;
    this.size--;
  }
}

const PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 50: 'ESP' };

export class FlowTable {
  readonly maxFlows: number;
  readonly timeouts: Readonly<Record<FlowClass, number>>;
  private readonly clock: Clock;
  private readonly buckets = new Map<number, Flow>();
  private readonly lists: Record<FlowClass, LruList> = {
    tcp: new LruList('tcp'),
    'tcp-closing': new LruList('tcp-closing'),
    udp: new LruList('udp'),
    icmp: new LruList('icmp'),
    other: new LruList('other'),
  };
  private nextId = 1;
  private readonly stats: FlowTableCounters = { flows: 0, created: 0, expired: 0, evicted: 0, unkeyed: 0 };
  /** Scratch of the last keying: whether the packet's source is endpoint A. */
  private lastFromA = true;

  constructor(options: FlowTableOptions) {
    this.clock = options.clock;
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    if (!Number.isInteger(this.maxFlows) || this.maxFlows < 1) throw new RangeError(`maxFlows must be a positive integer`);
    this.timeouts = { ...DEFAULT_FLOW_TIMEOUTS, ...options.timeouts };
  }

  get size(): number {
    return this.stats.flows;
  }

  get counters(): Readonly<FlowTableCounters> {
    return this.stats;
  }

  /**
   * Accounts one packet (already parsed) to its flow, creating the flow with `pathIfNew` when
   * there is none. Returns the flow, or undefined when the packet cannot be keyed (a later
   * fragment: its ports are not in it). `bytes` defaults to the IP total length; `now` to the
   * clock (a caller handling a batch reads the clock once and passes it).
   */
  track(buf: Uint8Array, p: ParsedPacket, pathIfNew?: PathId, bytes = p.totalLength, now = this.clock.now()): Flow | undefined {
    if (p.version === 0 || p.isLaterFragment) {
      this.stats.unkeyed++;
      return undefined;
    }
    let flow = this.find(buf, p);
    const fromA = this.lastFromA;
    if (flow === undefined) {
      flow = this.create(buf, p, fromA, now, pathIfNew);
    } else {
      flow.lru!.unlink(flow);
    }
    flow.lastSeen = now;
    if (fromA) {
      flow.packetsAtoB++;
      flow.bytesAtoB += bytes;
    } else {
      flow.packetsBtoA++;
      flow.bytesBtoA += bytes;
    }
    if (p.protocol === IPPROTO.tcp && p.hasL4) {
      const f = p.tcpFlags;
      if ((f & TCP_FLAG.rst) !== 0) flow.flowClass = 'tcp-closing';
      else if ((f & TCP_FLAG.fin) !== 0) {
        if (fromA) flow.finA = true;
        else flow.finB = true;
        flow.flowClass = 'tcp-closing';
      } else if ((f & TCP_FLAG.syn) !== 0 && flow.flowClass === 'tcp-closing') {
        // a new connection reusing the 5-tuple after RST/FIN
        flow.flowClass = 'tcp';
        flow.finA = flow.finB = false;
      }
    }
    const list = flow.lru!.cls === flow.flowClass ? flow.lru! : this.lists[flow.flowClass];
    flow.lru = list;
    list.push(flow);
    return flow;
  }

  /** The flow of a parsed packet without accounting it, or undefined. */
  lookup(buf: Uint8Array, p: ParsedPacket): Flow | undefined {
    if (p.version === 0 || p.isLaterFragment) return undefined;
    return this.find(buf, p);
  }

  /** Sets the path of one flow. */
  setPath(flow: Flow, path: PathId): void {
    flow.path = path;
  }

  /**
   * Moves every flow between network `netA` and network `netB` (either direction) that uses
   * path `from` onto path `to`; returns what moved. Mesh switchover calls this when a
   * direct tunnel replaces the hub path.
   */
  /**
   * Pins the flows between two networks to the path they use now: a new, more specific route
   * (a mesh tunnel with Switchover pin) then carries only new flows. Returns how many.
   */
  pinFlows(netA: Prefix, netB: Prefix): number {
    let n = 0;
    for (const list of Object.values(this.lists)) {
      for (let f = list.head; f !== null; f = f.next) {
        if (f.path === undefined || f.pinnedPath !== undefined || !betweenNets(f, netA, netB)) continue;
        f.pinnedPath = f.path;
        n++;
      }
    }
    this.pinned += n;
    return n;
  }

  /** How many flows were ever pinned (the forwarder skips the lookup while none are). */
  pinned = 0;

  moveFlows(netA: Prefix, netB: Prefix, from: PathId | undefined, to: PathId): FlowMove[] {
    const moved: FlowMove[] = [];
    for (const list of Object.values(this.lists)) {
      for (let f = list.head; f !== null; f = f.next) {
        if (f.path !== from || f.path === to) continue;
        if (!betweenNets(f, netA, netB)) continue;
        moved.push({ flow: f, from: f.path, to });
        f.path = to;
        f.switchovers++;
      }
    }
    return moved;
  }

  /** Removes flows idle past their timeout; returns how many. Call from a periodic timer. */
  expire(now = this.clock.now()): number {
    let n = 0;
    for (const cls of Object.keys(this.lists) as FlowClass[]) {
      const list = this.lists[cls];
      const limit = this.timeouts[cls];
      while (list.head !== null && now - list.head.lastSeen >= limit) {
        this.remove(list.head);
        n++;
      }
    }
    this.stats.expired += n;
    return n;
  }

  /** Removes one flow. */
  remove(flow: Flow): void {
    flow.lru!.unlink(flow);
    flow.lru = null;
    let cur: Flow | null = this.buckets.get(flow.hash) ?? null;
    if (cur === flow) {
      if (flow.nextInBucket) this.buckets.set(flow.hash, flow.nextInBucket);
      else this.buckets.delete(flow.hash);
    } else {
      while (cur && cur.nextInBucket !== flow) cur = cur.nextInBucket;
      if (cur) cur.nextInBucket = flow.nextInBucket;
    }
    flow.nextInBucket = null;
    this.stats.flows--;
  }

  /** Removes every flow using `path` (e.g. its SA was deleted); returns how many. */
  removeByPath(path: PathId): number {
    let n = 0;
    for (const f of this.all()) {
      if (f.path === path) {
        this.remove(f);
        n++;
      }
    }
    return n;
  }

  /** Every flow (snapshot array; slow path). */
  all(): Flow[] {
    const out: Flow[] = [];
    for (const list of Object.values(this.lists)) for (let f = list.head; f !== null; f = f.next) out.push(f);
    return out;
  }

  /** Rows for `show sessions`, oldest first. */
  list(now = this.clock.now()): FlowInfo[] {
    return this.all()
      .sort((a, b) => a.firstSeen - b.firstSeen || a.id - b.id)
      .map((f) => {
        const initA = f.initiator === 'a';
        const ep = (addr: Uint8Array, port: number): string => {
          const text = formatAddress(addr);
          if (f.protocol === IPPROTO.tcp || f.protocol === IPPROTO.udp) return f.version === 6 ? `[${text}]:${port}` : `${text}:${port}`;
          return text;
        };
        const a = ep(f.addrA, f.portA);
        const b = ep(f.addrB, f.portB);
        const name = PROTOCOL_NAMES[f.protocol] ?? String(f.protocol);
        const isEchoFlow = f.protocol === IPPROTO.icmp || f.protocol === IPPROTO.icmpv6;
        return {
          id: f.id,
          protocol: isEchoFlow && f.portA !== 0 ? `${name} id ${f.portA}` : name,
          source: initA ? a : b,
          destination: initA ? b : a,
          path: f.path === undefined ? '-' : String(f.path),
          packetsOut: initA ? f.packetsAtoB : f.packetsBtoA,
          bytesOut: initA ? f.bytesAtoB : f.bytesBtoA,
          packetsIn: initA ? f.packetsBtoA : f.packetsAtoB,
          bytesIn: initA ? f.bytesBtoA : f.bytesAtoB,
          firstSeen: f.firstSeen,
          lastSeen: f.lastSeen,
          idleMs: now - f.lastSeen,
          expiresInMs: Math.max(0, f.lastSeen + this.timeouts[f.flowClass] - now),
          state: f.flowClass,
          switchovers: f.switchovers,
        };
      });
  }

  // ---- keying --------------------------------------------------------------------------

  /** Ports of the packet as the flow key uses them: TCP/UDP ports, ICMP echo id for both. */
  private ports(p: ParsedPacket): number {
    // returns src in the high 16 bits and dst in the low 16 bits
    if (!p.hasL4) return 0;
    if (p.protocol === IPPROTO.tcp || p.protocol === IPPROTO.udp) return ((p.srcPort << 16) | p.dstPort) >>> 0;
    if (p.icmpType >= 0) return ((p.icmpId << 16) | p.icmpId) >>> 0;
    return 0;
  }

  /** Finds the flow and sets lastFromA; computes the canonical order without allocating. */
  private find(buf: Uint8Array, p: ParsedPacket): Flow | undefined {
    const ports = this.ports(p);
    const sport = ports >>> 16;
    const dport = ports & 0xffff;
    const n = p.addressLength;
    // canonical order: the lower (address, port) is endpoint A
    let cmp = 0;
    for (let i = 0; i < n && cmp === 0; i++) cmp = buf[p.srcOffset + i]! - buf[p.dstOffset + i]!;
    if (cmp === 0) cmp = sport - dport;
    const fromA = cmp <= 0;
    this.lastFromA = fromA;
    const aOff = fromA ? p.srcOffset : p.dstOffset;
    const bOff = fromA ? p.dstOffset : p.srcOffset;
    const aPort = fromA ? sport : dport;
    const bPort = fromA ? dport : sport;
    const h = hashKey(buf, aOff, bOff, n, p.protocol, aPort, bPort);
    for (let f = this.buckets.get(h) ?? null; f !== null; f = f.nextInBucket) {
      if (
        f.protocol === p.protocol &&
        f.portA === aPort &&
        f.portB === bPort &&
        f.addrA.length === n &&
        sameBytes(f.addrA, buf, aOff, n) &&
        sameBytes(f.addrB, buf, bOff, n)
      )
        return f;
    }
    this.pendingHash = h;
    return undefined;
  }

  private pendingHash = 0;

  private create(buf: Uint8Array, p: ParsedPacket, fromA: boolean, now: number, path: PathId | undefined): Flow {
    const h = this.pendingHash;
    if (this.stats.flows >= this.maxFlows) {
      this.expire(now);
      if (this.stats.flows >= this.maxFlows) this.evictOne();
    }
    const ports = this.ports(p);
    const sport = ports >>> 16;
    const dport = ports & 0xffff;
    const n = p.addressLength;
    const src = buf.slice(p.srcOffset, p.srcOffset + n);
    const dst = buf.slice(p.dstOffset, p.dstOffset + n);
    const cls: FlowClass =
      p.protocol === IPPROTO.tcp
        ? 'tcp'
        : p.protocol === IPPROTO.udp
          ? 'udp'
          : p.protocol === IPPROTO.icmp || p.protocol === IPPROTO.icmpv6
            ? 'icmp'
            : 'other';
    const f = new Flow(
      this.nextId++,
      p.protocol,
      p.version as 4 | 6,
      fromA ? src : dst,
      fromA ? sport : dport,
      fromA ? dst : src,
      fromA ? dport : sport,
      fromA ? 'a' : 'b',
      now,
      h,
      cls,
    );
    f.path = path;
    f.lru = this.lists[cls];
    f.nextInBucket = this.buckets.get(h) ?? null;
    this.buckets.set(h, f);
    this.stats.flows++;
    this.stats.created++;
    return f;
  }

  private evictOne(): void {
    for (const cls of EVICTION_ORDER) {
      const head = this.lists[cls].head;
      if (head !== null) {
        this.remove(head);
        this.stats.evicted++;
        return;
      }
    }
  }
}

function sameBytes(a: Uint8Array, buf: Uint8Array, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== buf[off + i]) return false;
  return true;
}

/** 32-bit hash of the canonical key, read from the packet buffer (no allocation). */
function hashKey(buf: Uint8Array, aOff: number, bOff: number, n: number, proto: number, aPort: number, bPort: number): number {
  let h = Math.imul(proto + 0x9e3779b9, 0x85ebca6b) ^ (((aPort << 16) | bPort) >>> 0);
  for (let i = 0; i < n; i += 4) {
    const wa = (buf[aOff + i]! << 24) | (buf[aOff + i + 1]! << 16) | (buf[aOff + i + 2]! << 8) | buf[aOff + i + 3]!;
    h = Math.imul(h ^ wa, 0xcc9e2d51);
    h = (h << 15) | (h >>> 17);
    const wb = (buf[bOff + i]! << 24) | (buf[bOff + i + 1]! << 16) | (buf[bOff + i + 2]! << 8) | buf[bOff + i + 3]!;
    h = Math.imul(h ^ wb, 0x1b873593);
    h = (h << 13) | (h >>> 19);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  // 30 bits: stays a V8 small integer, so Map lookups neither box nor allocate
  return h & 0x3fffffff;
}

function betweenNets(f: Flow, a: Prefix, b: Prefix): boolean {
  const fam = f.version;
  if (a.family !== fam || b.family !== fam) return false;
  return (
    (prefixContains(a, f.addrA) && prefixContains(b, f.addrB)) || (prefixContains(b, f.addrA) && prefixContains(a, f.addrB))
  );
}
