import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { Forwarder } from '../../../src/engine/dataplane/forwarder.js';
import { FlowTable } from '../../../src/engine/dataplane/flow-table.js';
import { RouteTable } from '../../../src/engine/dataplane/route-table.js';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { parseAddress, formatAddress } from '../../../src/engine/dataplane/address.js';
import { buildEchoRequest, parseIp, ICMPV4, ICMPV6 } from '../../../src/engine/dataplane/ip-packet.js';
import type { ForwardTrace, SaId, TunnelSender } from '../../../src/engine/dataplane/seams.js';
import { icmpEcho, ipv4HeaderOk, l4ChecksumOk, tcpPacket, udpPacket, v4, v6 } from './packet-fixtures.js';

class FakeTunnels implements TunnelSender {
  mtus = new Map<SaId, number>();
  sent: { id: SaId; packet: Uint8Array; headroom: number }[] = [];
  refuse = false;
  allowed?: (id: SaId, src: string) => boolean;
  innerMtu(id: SaId) {
    return this.mtus.get(id);
  }
  send(id: SaId, data: Uint8Array, offset: number, length: number, headroom: number) {
    if (this.refuse) return false;
    this.sent.push({ id, packet: data.slice(offset, offset + length), headroom });
    return true;
  }
  allowsInbound(id: SaId, data: Uint8Array, off: number, n: number) {
    return this.allowed ? this.allowed(id, formatAddress(data, off, n)) : true;
  }
}

function setup() {
  const clock = new FakeClock();
  const routes = new RouteTable();
  const flows = new FlowTable({ clock });
  const tunnels = new FakeTunnels();
  tunnels.mtus.set('hub', 1400);
  tunnels.mtus.set('spoke-b', 1400);
  const local: Uint8Array[] = [];
  const fwd = new Forwarder({
    clock,
    routes,
    flows,
    tunnels,
    routerAddress4: parseAddress('10.1.0.1')!,
    routerAddress6: parseAddress('fd01::1')!,
    onLocal: (p) => local.push(p),
  });
  const lan = new MemoryLanPort({ name: 'lan0', mtu: 1500 });
  fwd.attachLan(lan);
  routes.add({ prefix: '10.1.0.0/24', source: 'connected', target: { kind: 'lan' } });
  routes.add({ prefix: 'fd01::/64', source: 'connected', target: { kind: 'lan' } });
  routes.add({ prefix: '10.1.0.1/32', source: 'connected', target: { kind: 'local' } });
  routes.add({ prefix: 'fd01::1/128', source: 'connected', target: { kind: 'local' } });
  routes.add({ prefix: '10.0.0.0/8', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  routes.add({ prefix: 'fd00::/8', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  const traces: ForwardTrace[] = [];
  fwd.trace = (t) => traces.push(t);
  return { clock, routes, flows, tunnels, fwd, lan, local, traces };
}

const HOST = v4('10.1.0.50');
const REMOTE = v4('10.2.0.9');

test('LAN -> route -> SA: TTL decremented, checksum valid, flow recorded with the SA as path', () => {
  const s = setup();
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE, ttl: 64 }, 4000, 53));
  assert.equal(s.tunnels.sent.length, 1);
  const out = s.tunnels.sent[0]!;
  assert.equal(out.id, 'hub');
  assert.equal(out.headroom, 128, 'the batch headroom is offered to the ESP encoder');
  assert.equal(out.packet[8], 63);
  assert.ok(ipv4HeaderOk(out.packet));
  assert.equal(s.fwd.counters.toTunnel, 1);
  const [flow] = s.flows.list();
  assert.equal(flow!.path, 'hub');
  assert.equal(flow!.source, '10.1.0.50:4000');
});

test('SA -> LAN delivery, and SA -> other SA is a counted hub hairpin; back into the same SA is dropped', () => {
  const s = setup();
  s.routes.add({ prefix: '10.2.0.0/24', source: 'ike', target: { kind: 'sa', id: 'spoke-b' } });
  s.fwd.fromTunnel('hub', udpPacket({ src: REMOTE, dst: HOST }, 53, 4000), 0, 31);
  assert.equal(s.lan.sent.length, 1);
  assert.equal(s.fwd.counters.toLan, 1);
  const hairpinPkt = udpPacket({ src: v4('10.3.0.7'), dst: REMOTE }, 1, 2);
  s.fwd.fromTunnel('hub', hairpinPkt, 0, hairpinPkt.length);
  assert.equal(s.tunnels.sent.at(-1)!.id, 'spoke-b');
  assert.equal(s.fwd.counters.hairpin, 1);
  assert.equal(s.traces.at(-1)!.hairpin, true);
  const back = udpPacket({ src: v4('10.3.0.7'), dst: v4('10.2.0.10') }, 1, 2);
  s.fwd.fromTunnel('spoke-b', back, 0, back.length);
  assert.equal(s.fwd.counters.drops.reflected, 1);
});

test('no route: ICMP net unreachable back to the sender and a counted drop', () => {
  const s = setup();
  s.lan.inject(udpPacket({ src: HOST, dst: v4('192.0.2.1') }, 1, 2));
  assert.equal(s.fwd.counters.drops['no-route'], 1);
  assert.equal(s.lan.sent.length, 1);
  const icmp = s.lan.sent[0]!;
  const p = parseIp(icmp)!;
  assert.equal(p.icmpType, ICMPV4.destinationUnreachable);
  assert.equal(p.icmpCode, ICMPV4.codeNetUnreachable);
  assert.equal(formatAddress(icmp, p.srcOffset, 4), '10.1.0.1');
  assert.equal(formatAddress(icmp, p.dstOffset, 4), '10.1.0.50');
  assert.ok(l4ChecksumOk(icmp, 20, 1));
  assert.equal(s.traces.find((t) => t.drop === 'no-route')!.icmp, 'net-unreachable');
});

test('TTL 1: time exceeded; reject route: prohibited; site-directory: trigger and drop', () => {
  const s = setup();
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE, ttl: 1 }, 1, 2));
  assert.equal(s.fwd.counters.drops['ttl-exceeded'], 1);
  assert.equal(parseIp(s.lan.sent.at(-1)!)!.icmpType, ICMPV4.timeExceeded);
  s.routes.add({ prefix: '10.66.0.0/16', source: 'static', target: { kind: 'reject' } });
  s.lan.inject(udpPacket({ src: HOST, dst: v4('10.66.1.1') }, 1, 2));
  assert.equal(s.fwd.counters.drops.rejected, 1);
  assert.equal(parseIp(s.lan.sent.at(-1)!)!.icmpCode, ICMPV4.codeAdminProhibited);
  const misses: string[] = [];
  const s2 = setup();
  const fwd2 = new Forwarder({
    clock: s2.clock,
    routes: s2.routes,
    flows: s2.flows,
    tunnels: s2.tunnels,
    siteTrigger: {
      onSiteMiss: (dir, dst) => {
        misses.push(`${dir} ${formatAddress(dst)}`);
        return false;
      },
    },
  });
  s2.routes.add({ prefix: '172.16.0.0/12', source: 'site', target: { kind: 'site-directory', directoryId: 'branches' } });
  const pkt = udpPacket({ src: HOST, dst: v4('172.16.5.9') }, 1, 2);
  fwd2.fromLan('lan0', pkt, 0, pkt.length);
  assert.deepEqual(misses, ['branches 172.16.5.9']);
  assert.equal(fwd2.counters.drops['site-pending'], 1);
});

test('site-directory: a queued packet is not a drop; released after the route is up it goes into the SA with its TTL decremented once', () => {
  const s = setup();
  const held: Uint8Array[] = [];
  const fwd = new Forwarder({
    clock: s.clock,
    routes: s.routes,
    flows: s.flows,
    tunnels: s.tunnels,
    siteTrigger: {
      onSiteMiss: (_dir, _dst, packet) => {
        held.push(packet!.slice());
        return true;
      },
    },
  });
  s.routes.add({ prefix: '172.16.0.0/12', source: 'site', target: { kind: 'site-directory', directoryId: 'branches' } });
  const pkt = udpPacket({ src: HOST, dst: v4('172.16.5.9'), ttl: 9 }, 1, 2);
  fwd.fromLan('lan0', pkt, 0, pkt.length);
  assert.equal(held.length, 1);
  assert.equal(fwd.counters.siteQueued, 1);
  assert.equal(fwd.counters.drops['site-pending'], 0);
  assert.equal(s.tunnels.sent.length, 0);
  // Released while the base route is all there is: dropped, never queued a second time.
  assert.equal(fwd.forwardReleased(held[0]!), 'site-pending');
  assert.equal(held.length, 1);
  s.routes.add({ prefix: '172.16.5.0/24', source: 'site', target: { kind: 'sa', id: 'site_a' }, distance: 10 });
  s.tunnels.mtus.set('site_a', 1400);
  assert.equal(fwd.forwardReleased(held[0]!), undefined);
  assert.equal(fwd.counters.siteReleased, 2);
  assert.equal(s.tunnels.sent.length, 1);
  assert.equal(s.tunnels.sent[0]!.id, 'site_a');
  assert.equal(s.tunnels.sent[0]!.packet[8], 8);
});

test('too big for the tunnel: IPv4 DF gets fragmentation needed with the MTU, IPv6 packet too big, IPv4 without DF passes', () => {
  const s = setup();
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE }, 1, 2, Array(1400).fill(0)));
  assert.equal(s.fwd.counters.drops['too-big'], 1);
  const fn = s.lan.sent.at(-1)!;
  const p = parseIp(fn)!;
  assert.equal(p.icmpType, 3);
  assert.equal(p.icmpCode, 4);
  assert.equal((fn[26]! << 8) | fn[27]!, 1400);
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE, fragWord: 0 }, 1, 2, Array(1400).fill(0)));
  assert.equal(s.tunnels.sent.length, 1, 'no DF: handed to the tunnel, fragmented outside');
  s.lan.inject(udpPacket({ src: v6('fd01::50'), dst: v6('fd02::9') }, 1, 2, Array(1400).fill(0)));
  const ptb = s.lan.sent.at(-1)!;
  const q = parseIp(ptb)!;
  assert.equal(q.icmpType, ICMPV6.packetTooBig);
  assert.equal(((ptb[44]! << 24) | (ptb[45]! << 16) | (ptb[46]! << 8) | ptb[47]!) >>> 0, 1400);
  assert.ok(l4ChecksumOk(ptb, 40, 58));
});

test('TCP SYN into a tunnel gets its MSS clamped to the tunnel MTU', () => {
  const s = setup();
  s.lan.inject(tcpPacket({ src: HOST, dst: REMOTE }, 40000, 80, 0x02, [2, 4, 0x05, 0xb4]));
  const out = s.tunnels.sent[0]!.packet;
  assert.equal((out[42]! << 8) | out[43]!, 1400 - 40);
  assert.ok(l4ChecksumOk(out, 20, 6));
  assert.equal(s.fwd.counters.mssClamped, 1);
  // and a SYN-ACK coming out of the tunnel towards the LAN too
  s.fwd.fromTunnel('hub', tcpPacket({ src: REMOTE, dst: HOST }, 80, 40000, 0x12, [2, 4, 0x05, 0xb4]), 0, 44);
  const back = s.lan.sent.at(-1)!;
  assert.equal((back[42]! << 8) | back[43]!, 1360);
  assert.equal(s.fwd.counters.mssClamped, 2);
});

test('echo requests to the node are answered (both families); other local packets go to onLocal', () => {
  const s = setup();
  s.lan.inject(icmpEcho({ src: HOST, dst: v4('10.1.0.1') }, 8, 5, 1));
  const rep = s.lan.sent.at(-1)!;
  const p = parseIp(rep)!;
  assert.equal(p.icmpType, 0);
  assert.equal(formatAddress(rep, p.dstOffset, 4), '10.1.0.50');
  s.fwd.fromTunnel('hub', icmpEcho({ src: v6('fd02::9'), dst: v6('fd01::1') }, 128, 5, 1), 0, 52);
  const rep6 = s.tunnels.sent.at(-1)!;
  assert.equal(rep6.id, 'hub');
  assert.equal(parseIp(rep6.packet)!.icmpType, 129);
  // a node-originated ping (the shell's ping) goes out through the route; its reply reaches onLocal
  const req = buildEchoRequest({ src: parseAddress('10.1.0.1')!, dst: parseAddress('10.2.0.9')!, id: 9, seq: 1 });
  assert.equal(s.fwd.originate(req), undefined);
  assert.equal(s.tunnels.sent.at(-1)!.packet[8], 64, 'no TTL decrement for own packets');
  s.fwd.fromTunnel('hub', icmpEcho({ src: REMOTE, dst: v4('10.1.0.1') }, 0, 9, 1), 0, 32);
  assert.equal(s.local.length, 1);
  assert.equal(parseIp(s.local[0]!)!.icmpId, 9);
});

test('malformed, policy and send failures are counted drops; ICMP errors are rate limited', () => {
  const s = setup();
  s.lan.inject(Uint8Array.of(0x45, 0, 0));
  assert.equal(s.fwd.counters.drops.malformed, 1);
  s.tunnels.allowed = (id, src) => src.startsWith('10.2.');
  s.fwd.fromTunnel('hub', udpPacket({ src: v4('10.9.0.1'), dst: HOST }, 1, 2), 0, 31);
  assert.equal(s.fwd.counters.drops.policy, 1);
  s.tunnels.refuse = true;
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE }, 1, 2));
  assert.equal(s.fwd.counters.drops['tunnel-send-failed'], 1);
  s.tunnels.mtus.delete('hub');
  s.lan.inject(udpPacket({ src: HOST, dst: REMOTE }, 1, 2));
  assert.equal(s.fwd.counters.drops['sa-unavailable'], 1);
  const before = s.fwd.counters.icmpSent;
  for (let i = 0; i < 200; i++) s.lan.inject(udpPacket({ src: HOST, dst: v4('192.0.2.1') }, 1, 2));
  assert.equal(s.fwd.counters.drops['no-route'], 200);
  const sent = s.fwd.counters.icmpSent - before;
  assert.ok(sent <= 50 && sent >= 40, `burst of ICMP errors bounded (${sent})`);
  assert.ok(s.fwd.counters.icmpRateLimited >= 150);
  s.clock.advance(1000);
  s.lan.inject(udpPacket({ src: HOST, dst: v4('192.0.2.1') }, 1, 2));
  assert.equal(s.fwd.counters.icmpSent - before, sent + 1, 'tokens refill with time');
});
