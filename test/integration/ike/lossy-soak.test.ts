/**
 * Soak: a hub and three spokes for one simulated hour at 30 % loss with jitter and short
 * lifetimes (children rekey every ~1.5 min, IKE SAs every ~3.5 min), so rekeys collide,
 * answers arrive late, DPD fires and tunnels reconnect. After ten calm minutes every spoke
 * must have exactly one IKE SA with one child, installed crosswise at the hub: no leaked,
 * missing or half-deleted SAs. The seeds are ones that exposed bugs during development.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';

const PSK = 'soak test pre-shared key';
const life = {
  childLifetime: { rekeyMs: 90_000, overMs: 60_000, jitterMs: 30_000 },
  ikeLifetime: { rekeyMs: 200_000, overMs: 100_000, jitterMs: 50_000 },
  dpdIntervalMs: 20_000,
};

for (const seed of [5, 10, 61]) {
  test(`lossy soak, seed ${seed}: consistent SAs at both ends afterwards`, () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock, { seed, defaultLink: { latencyMs: 30, jitterMs: 40, loss: 0.3 } });
    const node = (address: string, s: number) => {
      const installer = new RecordingSaInstaller();
      return { installer, engine: new IkeEngine({ clock, transport: net.attach(address), installer, random: new DeterministicRandom(s) }) };
    };
    const hub = node('192.0.2.1', seed * 10);
    const spokes = [1, 2, 3].map((i) => node(`198.51.100.${i}`, seed * 10 + i));
    spokes.forEach((s, k) => {
      const i = k + 1;
      hub.engine.addPeer({ name: `spoke${i}`, role: 'responder', localId: 'hub', remoteId: `spoke${i}`, psk: PSK, localTs: ['10.0.0.0/16'], remoteTs: [`10.${i}.0.0/16`], ...life });
      s.engine.addPeer({ name: 'hub', role: 'initiator', remoteGateways: ['192.0.2.1'], localId: `spoke${i}`, remoteId: 'hub', psk: PSK, localTs: [`10.${i}.0.0/16`], remoteTs: ['10.0.0.0/16'], ...life });
    });
    let rekeys = 0;
    for (const n of [hub, ...spokes]) n.engine.events.on('child-rekeyed', () => rekeys++);
    clock.advance(60 * 60_000);
    net.setDefaultLink({ loss: 0, jitterMs: 0 });
    clock.advance(10 * 60_000);
    assert.ok(rekeys > 50, `rekeys happened: ${rekeys}`);
    assert.ok(net.counters.lost > 300);
    for (const [k, s] of spokes.entries()) {
      const sas = s.engine.allSas();
      assert.equal(sas.length, 1, `spoke${k + 1}: one IKE SA`);
      assert.equal(sas[0]!.state, 'established');
      const outs = s.installer.list('out');
      const ins = s.installer.list('in');
      assert.equal(outs.length, 1, `spoke${k + 1}: one outbound ESP SA`);
      assert.equal(ins.length, 1, `spoke${k + 1}: one inbound ESP SA`);
      assert.ok(hub.installer.has(outs[0]!.spi, 'in') && hub.installer.has(ins[0]!.spi, 'out'), `spoke${k + 1}: the hub holds the same pair`);
      assert.equal([...sas[0]!.children.values()].map((c) => c.state).join(), 'installed');
    }
    assert.equal(hub.engine.allSas().length, 3);
    assert.equal(hub.installer.list().length, 6);
    assert.equal(hub.engine.counters['drop-internal-error'] ?? 0, 0);
  });
}
