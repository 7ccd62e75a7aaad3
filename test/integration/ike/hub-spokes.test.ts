/**
 * A hub and three spokes on the in-memory network with a fake clock: tunnels come up,
 * survive loss, rekey on their lifetimes, reconnect after a hub restart, and fail over to
 * a second hub.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import type { PeerConfigInput } from '../../../src/engine/ike/peer-config.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';

const HUB = '192.0.2.1';
const HUB2 = '192.0.2.2';
const SPOKES = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const PSK = 'hub and spoke pre-shared key';

interface Node {
  engine: IkeEngine;
  installer: RecordingSaInstaller;
}

let seed = 100;
function node(net: MemoryNetwork, clock: FakeClock, address: string, nat?: string): Node {
  const installer = new RecordingSaInstaller();
  const engine = new IkeEngine({
    clock,
    transport: net.attach(address, 4500, nat ? { nat: { publicAddress: nat } } : {}),
    installer,
    random: new DeterministicRandom(seed++),
  });
  return { engine, installer };
}

function spokeConfig(i: number, gateways: string[], over: Partial<PeerConfigInput> = {}): PeerConfigInput {
  return {
    name: 'hub',
    role: 'initiator',
    remoteGateways: gateways,
    localId: `spoke${i}.example`,
    psk: PSK,
    localTs: [`10.${i}.0.0/16`],
    remoteTs: ['10.0.0.0/16'],
    dpdIntervalMs: 30_000,
    ...over,
  };
}

function hubConfigs(hub: Node, over: Partial<PeerConfigInput> = {}): void {
  SPOKES.forEach((_, k) => {
    const i = k + 1;
    hub.engine.addPeer({
      name: `spoke${i}`,
      role: 'responder',
      localId: 'hub.example',
      remoteId: `spoke${i}.example`,
      psk: PSK,
      localTs: ['10.0.0.0/16'],
      remoteTs: [`10.${i}.0.0/16`],
      dpdIntervalMs: 30_000,
      ...over,
    });
  });
}

function upCount(n: Node): number {
  return n.engine.snapshot().peers.filter((p) => p.state === 'up').length;
}

test('hub plus three spokes: all up, one behind NAT sends keepalives', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub = node(net, clock, HUB);
  hubConfigs(hub);
  const spokes = SPOKES.map((a, k) => node(net, clock, a, k === 2 ? '203.0.113.7' : undefined));
  spokes.forEach((s, k) => s.engine.addPeer(spokeConfig(k + 1, [HUB])));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 3 && spokes.every((s) => upCount(s) === 1), 5_000, 5));
  assert.equal(hub.installer.list().length, 6);
  const hubView = hub.engine.snapshot();
  const nated = hubView.ikeSas.find((s) => s.peer === 'spoke3')!;
  assert.equal(nated.natRemote, true);
  assert.equal(nated.remote.startsWith('203.0.113.7:'), true);
  const natSpoke = spokes[2]!.engine.snapshot().ikeSas[0]!;
  assert.equal(natSpoke.natLocal, true);
  assert.equal(spokes[0]!.engine.snapshot().ikeSas[0]!.natLocal, false);
  // Keepalives every 20 s from the NATed spoke only; DPD keeps every tunnel up meanwhile.
  clock.advance(120_000);
  assert.ok((spokes[2]!.engine.counters['tx-keepalive'] ?? 0) >= 5);
  assert.equal(spokes[0]!.engine.counters['tx-keepalive'], undefined);
  assert.ok((hub.engine.counters['rx-keepalive'] ?? 0) >= 5);
  assert.equal(upCount(hub), 3);
  const p = spokes[0]!.engine.snapshot().peers[0]!;
  assert.deepEqual(p.localNetworks, ['10.1.0.0/16']);
  assert.deepEqual(p.remoteNetworks, ['10.0.0.0/16']);
  assert.equal(p.remoteGateway, `${HUB}:4500`);
  assert.ok(p.uptimeMs >= 120_000);
});

test('30 % loss: retransmission still brings every tunnel up', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { seed: 7, defaultLink: { latencyMs: 20, loss: 0.3 } });
  const hub = node(net, clock, HUB);
  hubConfigs(hub);
  const spokes = SPOKES.map((a) => node(net, clock, a));
  spokes.forEach((s, k) => s.engine.addPeer(spokeConfig(k + 1, [HUB])));
  assert.ok(clock.advanceUntil(() => spokes.every((s) => upCount(s) === 1), 15 * 60_000, 100), 'all spokes up within 15 simulated minutes');
  const retransmits = spokes.reduce((n, s) => n + (s.engine.counters['retransmits'] ?? 0), 0) + (hub.engine.counters['retransmits'] ?? 0);
  assert.ok(retransmits > 0, 'loss forced retransmissions');
  assert.ok(net.counters.lost > 0);
  // Both ends agree on the ESP SAs of each tunnel.
  for (const s of spokes) {
    for (const out of s.installer.list('out')) assert.ok(hub.installer.has(out.spi, 'in'), 'spoke outbound is a hub inbound');
  }
});

test('lifetimes: children and IKE SAs rekey on time, tunnels stay up, no ESP SA leaks', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub = node(net, clock, HUB);
  const life = { childLifetime: { rekeyMs: 60_000, overMs: 10_000, jitterMs: 5_000 }, ikeLifetime: { rekeyMs: 150_000, overMs: 20_000, jitterMs: 10_000 } };
  hubConfigs(hub, life);
  const spokes = SPOKES.map((a) => node(net, clock, a));
  spokes.forEach((s, k) => s.engine.addPeer(spokeConfig(k + 1, [HUB], life)));
  assert.ok(clock.advanceUntil(() => spokes.every((s) => upCount(s) === 1), 5_000, 5));
  const downs: string[] = [];
  for (const s of [hub, ...spokes]) s.engine.events.on('ike-down', (e) => downs.push(`${e.peer}:${e.reason}`));
  let childRekeys = 0;
  let ikeRekeys = 0;
  for (const s of spokes) {
    s.engine.events.on('child-rekeyed', () => childRekeys++);
    s.engine.events.on('ike-rekeyed', () => ikeRekeys++);
  }
  hub.engine.events.on('child-rekeyed', () => childRekeys++);
  hub.engine.events.on('ike-rekeyed', () => ikeRekeys++);
  clock.advance(10 * 60_000);
  assert.deepEqual(downs, []);
  assert.ok(childRekeys >= 3 * 8, `child rekeys: ${childRekeys}`);
  assert.ok(ikeRekeys >= 3 * 2, `IKE rekeys: ${ikeRekeys}`);
  assert.equal(upCount(hub), 3);
  for (const s of spokes) {
    assert.equal(s.installer.list().length, 2, 'one ESP pair per spoke');
    assert.equal(s.engine.allSas().length, 1);
  }
  assert.equal(hub.installer.list().length, 6);
  assert.equal(hub.engine.allSas().length, 3);
});

test('hub restart: spokes detect the restarted hub by DPD (it answers INVALID_IKE_SPI) and reconnect', async () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  let hub = node(net, clock, HUB);
  hubConfigs(hub);
  const spokes = SPOKES.map((a) => node(net, clock, a));
  spokes.forEach((s, k) => s.engine.addPeer(spokeConfig(k + 1, [HUB])));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 3, 5_000, 5));
  // The hub crashes (no DELETE) and comes back with no state.
  await hub.engine.stop();
  hub = node(net, clock, HUB);
  hubConfigs(hub);
  const downs: string[] = [];
  spokes.forEach((s) => s.engine.events.on('ike-down', (e) => downs.push(e.reason)));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 3 && spokes.every((s) => upCount(s) === 1), 5 * 60_000, 100));
  // The new hub does not know the old SAs: it answers their liveness checks with INVALID_IKE_SPI
  // (RFC 7296 section 2.21.4), and the spokes rebuild without waiting out the retransmissions.
  assert.deepEqual(downs, ['deleted-by-peer', 'deleted-by-peer', 'deleted-by-peer']);
  assert.ok((hub.engine.counters['drop-unknown-spi'] ?? 0) >= 3, 'the new hub did not process the old SAs’ liveness checks');
  assert.equal(hub.engine.counters['tx-invalid-ike-spi'], 3);
  assert.equal(spokes.reduce((n, s) => n + (s.engine.counters['invalid-ike-spi-accepted'] ?? 0), 0), 3);
  for (const s of spokes) assert.equal(s.installer.list().length, 2);
});

test('hub failover: a spoke moves to its second hub when the first stops answering', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub1 = node(net, clock, HUB);
  const hub2 = node(net, clock, HUB2);
  hubConfigs(hub1);
  hubConfigs(hub2);
  const spoke = node(net, clock, SPOKES[0]!);
  const failovers: string[] = [];
  spoke.engine.events.on('peer-failover', (e) => failovers.push(`${e.from}->${e.to}`));
  spoke.engine.addPeer(spokeConfig(1, [HUB, HUB2]));
  assert.ok(clock.advanceUntil(() => upCount(spoke) === 1, 5_000, 5));
  assert.equal(spoke.engine.snapshot().peers[0]!.remoteGateway, `${HUB}:4500`);
  assert.equal(upCount(hub1), 1);
  net.setDown(HUB, true);
  assert.ok(clock.advanceUntil(() => upCount(hub2) === 1 && upCount(spoke) === 1, 5 * 60_000, 100));
  assert.deepEqual(failovers, [`${HUB}:4500->${HUB2}:4500`]);
  assert.equal(spoke.engine.snapshot().peers[0]!.remoteGateway, `${HUB2}:4500`);
  const out = spoke.installer.list('out');
  assert.equal(out.length, 1);
  assert.equal(out[0]!.remote.address, HUB2);
  assert.ok(hub2.installer.has(out[0]!.spi, 'in'));
});

test('removing and re-adding a peer live takes the tunnel down and up', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub = node(net, clock, HUB);
  hubConfigs(hub);
  const spoke = node(net, clock, SPOKES[0]!);
  spoke.engine.addPeer(spokeConfig(1, [HUB]));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 1, 5_000, 5));
  spoke.engine.removePeer('hub');
  clock.advance(100);
  assert.equal(upCount(hub), 0);
  assert.equal(hub.installer.list().length, 0);
  assert.equal(spoke.installer.list().length, 0);
  assert.equal(spoke.engine.snapshot().peers.length, 0);
  // Replace with a different proposal: comes up with it.
  spoke.engine.addPeer(spokeConfig(1, [HUB], { ikeProposals: ['aes256gcm16-prfsha384-ecp256'], espProposals: ['aes128gcm16'] }));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 1 && upCount(spoke) === 1, 5_000, 5));
  assert.match(spoke.engine.snapshot().peers[0]!.proposal, /^aes256gcm16-prfsha384-ecp256 \/ aes128gcm16$/);
  spoke.engine.replacePeer(spokeConfig(1, [HUB], { ikeProposals: ['chacha20poly1305-prfsha512-x25519'] }));
  assert.ok(clock.advanceUntil(() => upCount(hub) === 1 && /^chacha20poly1305-prfsha512-x25519/.test(spoke.engine.snapshot().peers[0]!.proposal), 5_000, 5));
  assert.equal(hub.engine.allSas().length, 1);
});

test('IPv6 gateways and IPv6 plus IPv4 selectors', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub = node(net, clock, '2001:db8::1');
  hub.engine.addPeer({ name: 'spoke', role: 'responder', localId: 'hub.example', remoteId: 'spoke.example', psk: PSK, localTs: ['fd00:0::/48', '10.0.0.0/16'], remoteTs: ['fd00:1::/48', '10.1.0.0/16'] });
  const spoke = node(net, clock, '2001:db8::2');
  spoke.engine.addPeer({ name: 'hub', role: 'initiator', remoteGateways: ['[2001:db8::1]:4500'], localId: 'spoke.example', remoteId: 'hub.example', psk: PSK, localTs: ['fd00:1::/48', '10.1.0.0/16'], remoteTs: ['fd00::/16'] });
  assert.ok(clock.advanceUntil(() => upCount(spoke) === 1, 5_000, 5));
  const p = spoke.engine.snapshot().peers[0]!;
  assert.equal(p.remoteGateway, '[2001:db8::1]:4500');
  // TSi and TSr are narrowed each on its own (RFC 7296 section 2.9).
  assert.deepEqual(p.localNetworks, ['fd00:1::/48', '10.1.0.0/16']);
  assert.deepEqual(p.remoteNetworks, ['fd00::/48']);
  assert.equal(spoke.engine.snapshot().ikeSas[0]!.natLocal, false);
  assert.equal(hub.installer.list('out')[0]!.remote.address, '2001:db8::2');
});
