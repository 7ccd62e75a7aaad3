/**
 * Hosts on a branch LAN, simulated on an in-memory LAN port: every address of the LAN
 * except the router's answers ICMP echo; hosts can ping anywhere and send UDP streams.
 * The lab and the in-memory scenarios use it to make real conversations between branches
 * (whose packets the engine routes, encrypts, hairpins and switches over).
 */
import type { Clock } from '../engine/clock.js';
import { parseAddress, parsePrefix, prefixContains, type Prefix } from '../engine/dataplane/address.js';
import {
  buildEchoReply,
  buildEchoRequest,
  ICMPV4,
  ICMPV6,
  IPPROTO,
  IPV4_MIN_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  parseIp,
  transportChecksum,
  UDP_HEADER_LENGTH,
  writeIpv4Header,
  writeIpv6Header,
} from '../engine/dataplane/ip-packet.js';

export interface InjectablePort {
  inject(...packets: Uint8Array[]): number;
}

export interface PingReport {
  sent: number;
  received: number;
  /** Round-trip times in ms, in arrival order. */
  rtts: number[];
  /** ICMP errors that came back instead (e.g. 'unreachable'). */
  errors: string[];
}

export interface LanCounters {
  echoAnswered: number;
  echoRepliesReceived: number;
  udpReceived: number;
  udpBytesReceived: number;
  icmpErrorsReceived: number;
  unknown: number;
}

interface PendingPing {
  sentAt: Map<number, number>;
  report: PingReport;
  done: () => void;
  expected: number;
}

let nextPingId = 0x4d47; // 'MG'

export class SimulatedLan {
  readonly counters: LanCounters = { echoAnswered: 0, echoRepliesReceived: 0, udpReceived: 0, udpBytesReceived: 0, icmpErrorsReceived: 0, unknown: 0 };
  private readonly prefix: Prefix;
  private readonly router: Uint8Array;
  private readonly pings = new Map<number, PendingPing>();
  /** UDP flows received, by "src:port>dst:port". */
  readonly udpFlows = new Map<string, { packets: number; bytes: number; lastSeq: number; outOfOrder: number }>();

  constructor(
    private readonly port: InjectablePort,
    network: string,
    routerAddress: string,
    private readonly clock: Clock,
  ) {
    const p = parsePrefix(network);
    const r = parseAddress(routerAddress);
    if (!p || !r) throw new RangeError(`simulated LAN: bad network ${network} or router ${routerAddress}`);
    this.prefix = p;
    this.router = r;
  }

  /** Is this one of the simulated hosts (in the LAN, not the router)? */
  isHost(address: Uint8Array, offset = 0, length = address.length): boolean {
    if (length !== this.prefix.bytes.length || !prefixContains(this.prefix, address, offset)) return false;
    for (let i = 0; i < length; i++) if (address[offset + i] !== this.router[i]) return true;
    return false;
  }

  /** Wire the LAN port's onSend here: a packet the router sent onto the LAN. */
  receive(packet: Uint8Array): void {
    const p = parseIp(packet);
    if (!p || !this.isHost(packet, p.dstOffset, p.addressLength)) {
      this.counters.unknown++;
      return;
    }
    const v6 = p.version === 6;
    if (p.hasL4 && p.icmpType === (v6 ? ICMPV6.echoRequest : ICMPV4.echoRequest)) {
      const reply = buildEchoReply(packet, p);
      if (reply) {
        this.counters.echoAnswered++;
        // Answer on the next tick, as a host would, never re-entering the engine mid-packet.
        this.clock.setTimer(0, () => this.port.inject(reply));
      }
      return;
    }
    if (p.hasL4 && p.icmpType === (v6 ? ICMPV6.echoReply : ICMPV4.echoReply)) {
      this.counters.echoRepliesReceived++;
      const id = (packet[p.l4Offset + 4]! << 8) | packet[p.l4Offset + 5]!;
      const seq = (packet[p.l4Offset + 6]! << 8) | packet[p.l4Offset + 7]!;
      const ping = this.pings.get(id);
      const sentAt = ping?.sentAt.get(seq);
      if (ping && sentAt !== undefined) {
        ping.sentAt.delete(seq);
        ping.report.received++;
        ping.report.rtts.push(this.clock.now() - sentAt);
        if (ping.report.received === ping.expected) ping.done();
      }
      return;
    }
    if (p.hasL4 && p.icmpType >= 0) {
      this.counters.icmpErrorsReceived++;
      // An ICMP error quotes the offending packet: find the ping it belongs to.
      const quoted = parseIp(packet.subarray(p.l4Offset + 8, p.offset + p.totalLength));
      if (quoted && quoted.hasL4) {
        const q = packet.subarray(p.l4Offset + 8);
        const id = (q[quoted.l4Offset + 4]! << 8) | q[quoted.l4Offset + 5]!;
        this.pings.get(id)?.report.errors.push(`icmp type ${p.icmpType} code ${p.icmpCode}`);
      }
      return;
    }
    if (p.hasL4 && p.protocol === IPPROTO.udp) {
      this.counters.udpReceived++;
      const len = p.l4Length - UDP_HEADER_LENGTH;
      this.counters.udpBytesReceived += len;
      const key = `${fmt(packet, p.srcOffset, p.addressLength)}:${p.srcPort}>${fmt(packet, p.dstOffset, p.addressLength)}:${p.dstPort}`;
      let f = this.udpFlows.get(key);
      if (!f) {
        f = { packets: 0, bytes: 0, lastSeq: -1, outOfOrder: 0 };
        this.udpFlows.set(key, f);
      }
      f.packets++;
      f.bytes += len;
      if (len >= 4) {
        const off = p.l4Offset + UDP_HEADER_LENGTH;
        const seq = ((packet[off]! << 24) | (packet[off + 1]! << 16) | (packet[off + 2]! << 8) | packet[off + 3]!) >>> 0;
        if (seq < f.lastSeq) f.outOfOrder++;
        else f.lastSeq = seq;
      }
      return;
    }
    this.counters.unknown++;
  }

  /**
   * Pings `dst` from host `src` (an address of this LAN): `count` echo requests every
   * `intervalMs`; resolves when all replies arrived or `timeoutMs` after the last one.
   */
  ping(src: string, dst: string, opts: { count?: number; intervalMs?: number; timeoutMs?: number; size?: number } = {}): Promise<PingReport> {
    const s = parseAddress(src);
    const d = parseAddress(dst);
    if (!s || !d || s.length !== d.length) return Promise.reject(new RangeError(`ping: bad addresses ${src} -> ${dst}`));
    const count = opts.count ?? 3;
    const interval = opts.intervalMs ?? 1000;
    const id = nextPingId++ & 0xffff;
    const report: PingReport = { sent: 0, received: 0, rtts: [], errors: [] };
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        this.pings.delete(id);
        resolve(report);
      };
      this.pings.set(id, { sentAt: new Map(), report, done: finish, expected: count });
      for (let seq = 0; seq < count; seq++) {
        this.clock.setTimer(seq * interval, () => {
          if (finished) return;
          const pkt = buildEchoRequest({ src: s, dst: d, id, seq, size: opts.size ?? 56 });
          this.pings.get(id)?.sentAt.set(seq, this.clock.now());
          report.sent++;
          this.port.inject(pkt);
        });
      }
      this.clock.setTimer((count - 1) * interval + (opts.timeoutMs ?? 2000), finish);
    });
  }

  /** Sends `count` UDP datagrams from src:sport to dst:dport every intervalMs, numbered. */
  udpStream(src: string, sport: number, dst: string, dport: number, opts: { count: number; intervalMs: number; size?: number }): { stop(): void } {
    const s = parseAddress(src);
    const d = parseAddress(dst);
    if (!s || !d || s.length !== d.length) throw new RangeError(`udp: bad addresses ${src} -> ${dst}`);
    let stopped = false;
    let seq = 0;
    const tick = () => {
      if (stopped || seq >= opts.count) return;
      this.port.inject(buildUdp(s, sport, d, dport, seq++, opts.size ?? 64));
      this.clock.setTimer(opts.intervalMs, tick);
    };
    tick();
    return { stop: () => (stopped = true) };
  }
}

/** A UDP datagram whose payload starts with a 32-bit sequence number. */
export function buildUdp(src: Uint8Array, sport: number, dst: Uint8Array, dport: number, seq: number, size: number): Uint8Array {
  const v6 = src.length === 16;
  const ipLen = v6 ? IPV6_HEADER_LENGTH : IPV4_MIN_HEADER_LENGTH;
  const payload = Math.max(4, size);
  const udpLen = UDP_HEADER_LENGTH + payload;
  const out = new Uint8Array(ipLen + udpLen);
  if (v6) writeIpv6Header(out, 0, udpLen, IPPROTO.udp, src, dst);
  else writeIpv4Header(out, 0, ipLen + udpLen, IPPROTO.udp, src, dst);
  const u = ipLen;
  out[u] = sport >> 8;
  out[u + 1] = sport & 0xff;
  out[u + 2] = dport >> 8;
  out[u + 3] = dport & 0xff;
  out[u + 4] = udpLen >> 8;
  out[u + 5] = udpLen & 0xff;
  out[u + 8] = (seq >>> 24) & 0xff;
  out[u + 9] = (seq >>> 16) & 0xff;
  out[u + 10] = (seq >>> 8) & 0xff;
  out[u + 11] = seq & 0xff;
  const p = parseIp(out)!;
  const c = transportChecksum(out, p)!;
  out[u + 6] = c >> 8;
  out[u + 7] = c & 0xff;
  return out;
}

function fmt(buf: Uint8Array, off: number, len: number): string {
  if (len === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((buf[off + i]! << 8) | buf[off + i + 1]!).toString(16));
  return words.join(':');
}
