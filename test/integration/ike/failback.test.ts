/**
 * Failback to the primary hub (in-memory network, fake clock). A spoke with two hubs fails
 * over to the second when the first stops answering; while it runs on the backup it probes the
 * primary (a full IKE_SA_INIT + IKE_AUTH next to the running tunnel) after 60 s, then after
 * twice as long after each failed probe, up to 15 min. When a probe comes up, the tunnel moves
 * back (make before break) and the SA with the backup is deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { FAILBACK_MAX_MS, FAILBACK_PROBE_MS, IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';

const HUB1 = '192.0.2.1';
const HUB2 = '192.0.2.2';
const SPOKE = '198.51.100.1';
const PSK = 'failback pre-shared key';

let seed = 500;
function node(net: MemoryNetwork, clock: FakeClock, address: string) {
  const installer = new RecordingSaInstaller();
  const engine = new IkeEngine({ clock, transport: net.attach(address), installer, random: new DeterministicRandom(seed++) });
  return { engine, installer };
}

function hub(net: MemoryNetwork, clock: FakeClock, address: string) {
  const n = node(net, clock, address);
  n.engine.addPeer({ name: 'spoke', role: 'responder', localId: 'hub.example', remoteId: 'spoke.example', psk: PSK, localTs: ['10.0.0.0/16'], remoteTs: ['10.1.0.0/16'], dpdIntervalMs: 30_000 });
  return n;
}

function setup() {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const hub1 = hub(net, clock, HUB1);
  const hub2 = hub(net, clock, HUB2);
  const spoke = node(net, clock, SPOKE);
  const moves: string[] = [];
  spoke.engine.events.on('peer-failover', (e) => moves.push(`${e.from}->${e.to}@${clock.now()}`));
  spoke.engine.addPeer({ name: 'hub', role: 'initiator', remoteGateways: [HUB1, HUB2], localId: 'spoke.example', remoteId: 'hub.example', psk: PSK, localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/16'], dpdIntervalMs: 30_000 });
  assert.ok(clock.advanceUntil(() => spoke.engine.snapshot().peers[0]!.state === 'up', 5_000, 5));
  return { clock, net, hub1, hub2, spoke, moves };
}

const up = (n: { engine: IkeEngine }) => n.engine.snapshot().peers.filter((p) => p.state === 'up').length;
const gateway = (n: { engine: IkeEngine }) => n.engine.snapshot().peers[0]!.remoteGateway;

test('failback: back to the primary hub at the first probe after it returns; the backup SA is deleted', () => {
  const { clock, net, hub1, hub2, spoke, moves } = setup();
  assert.equal(gateway(spoke), `${HUB1}:4500`);
  net.setDown(HUB1, true);
  assert.ok(clock.advanceUntil(() => up(hub2) === 1 && up(spoke) === 1, 5 * 60_000, 100));
  assert.equal(gateway(spoke), `${HUB2}:4500`);
  const onBackupAt = clock.now();
  // The primary is back 10 s later; the first probe (60 s after the failover) finds it.
  clock.advance(10_000);
  net.setDown(HUB1, false);
  const downs: string[] = [];
  spoke.engine.events.on('ike-down', (e) => downs.push(e.reason));
  assert.ok(clock.advanceUntil(() => gateway(spoke) === `${HUB1}:4500` && up(hub2) === 0, 2 * 60_000, 100), JSON.stringify(spoke.engine.snapshot().peers));
  const back = clock.now() - onBackupAt;
  assert.ok(back >= FAILBACK_PROBE_MS && back <= FAILBACK_PROBE_MS + 1_000, `back on the primary ${back} ms after the failover`);
  assert.equal(moves.length, 2);
  assert.match(moves[0]!, new RegExp(`^${HUB1}:4500->${HUB2}:4500`));
  assert.match(moves[1]!, new RegExp(`^${HUB2}:4500->${HUB1}:4500`));
  assert.equal(spoke.engine.counters['failback'], 1);
  assert.equal(spoke.engine.counters['failback-probe'], 1);
  // Make before break: the tunnel never went down on the way back (only the backup SA was deleted, by us).
  assert.deepEqual(downs, ['deleted-locally']);
  assert.equal(up(spoke), 1);
  assert.equal(up(hub1), 1);
  const out = spoke.installer.list('out');
  assert.equal(out.length, 1);
  assert.equal(out[0]!.remote.address, HUB1);
  assert.ok(hub1.installer.has(out[0]!.spi, 'in'));
  assert.equal(hub2.installer.list().length, 0, 'nothing left at the backup hub');
  // No more probing on the primary.
  clock.advance(FAILBACK_MAX_MS);
  assert.equal(spoke.engine.counters['failback-probe'], 1);
  assert.equal(gateway(spoke), `${HUB1}:4500`);
});

test('failback: probes of a primary that stays down back off (60 s, 120 s, 240 s, ... up to 15 min after each failed probe); the backup tunnel is untouched', () => {
  const { clock, net, hub2, spoke } = setup();
  net.setDown(HUB1, true);
  assert.ok(clock.advanceUntil(() => up(hub2) === 1 && up(spoke) === 1, 5 * 60_000, 100));
  const t0 = clock.now();
  const probes: number[] = [];
  let seen = 0;
  const downs: string[] = [];
  spoke.engine.events.on('ike-down', (e) => downs.push(e.reason));
  for (let guard = 0; guard < 40_000 && clock.now() - t0 < 60 * 60_000; guard++) {
    clock.advance(100);
    const n = spoke.engine.counters['failback-probe'] ?? 0;
    if (n > seen) {
      probes.push(clock.now() - t0);
      seen = n;
    }
  }
  // Each probe gives up after 4 + 7.2 + 12.96 = 24.16 s (IKE_SA_INIT, 2 retransmissions); the next one
  // waits 60 s x 2^failures from then, at most 15 min.
  const gaps = probes.map((p, i) => (i === 0 ? p : p - probes[i - 1]!));
  assert.ok(gaps.length >= 5, `probes: ${JSON.stringify(probes)}`);
  const waits = [60_000, 120_000, 240_000, 480_000, 900_000];
  gaps.slice(0, 5).forEach((g, i) => {
    const extra = i === 0 ? 0 : 24_160; // the failed probe's own retransmissions
    assert.ok(Math.abs(g - waits[i]! - extra) <= 200, `gap ${i}: ${g} ms, expected ${waits[i]! + extra}`);
  });
  assert.ok(gaps.slice(5).every((g) => Math.abs(g - FAILBACK_MAX_MS - 24_160) <= 200), JSON.stringify(gaps));
  const failed = spoke.engine.counters['failback-probe-failed'] ?? 0;
  assert.ok(failed === probes.length || failed === probes.length - 1, `every probe but one still in flight failed: ${failed} of ${probes.length}`);
  assert.deepEqual(downs, [], 'the tunnel on the backup stayed up throughout');
  assert.equal(gateway(spoke), `${HUB2}:4500`);
  assert.equal(up(hub2), 1);
  assert.equal(spoke.engine.snapshot().peers.length, 1, 'a probe in flight is not shown as a second tunnel');
});

test('failback: removing the peer stops probing; failback can be turned off', () => {
  const { clock, net, spoke } = setup();
  net.setDown(HUB1, true);
  assert.ok(clock.advanceUntil(() => gateway(spoke) === `${HUB2}:4500` && up(spoke) === 1, 5 * 60_000, 100));
  spoke.engine.removePeer('hub');
  clock.advance(10 * 60_000);
  assert.equal(spoke.engine.counters['failback-probe'], undefined);
  assert.equal(spoke.engine.allSas().length, 0);

  const clock2 = new FakeClock();
  const net2 = new MemoryNetwork(clock2, { defaultLink: { latencyMs: 5 } });
  hub(net2, clock2, HUB1);
  hub(net2, clock2, HUB2);
  const installer = new RecordingSaInstaller();
  const off = new IkeEngine({ clock: clock2, transport: net2.attach(SPOKE), installer, random: new DeterministicRandom(seed++), failbackProbeMs: 0 });
  off.addPeer({ name: 'hub', role: 'initiator', remoteGateways: [HUB1, HUB2], localId: 'spoke.example', remoteId: 'hub.example', psk: PSK, localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/16'], dpdIntervalMs: 30_000 });
  assert.ok(clock2.advanceUntil(() => off.snapshot().peers[0]!.state === 'up', 5_000, 5));
  net2.setDown(HUB1, true);
  assert.ok(clock2.advanceUntil(() => off.snapshot().peers[0]!.remoteGateway === `${HUB2}:4500` && off.snapshot().peers[0]!.state === 'up', 5 * 60_000, 100));
  net2.setDown(HUB1, false);
  clock2.advance(30 * 60_000);
  assert.equal(off.counters['failback-probe'], undefined);
  assert.equal(off.snapshot().peers[0]!.remoteGateway, `${HUB2}:4500`);
});
