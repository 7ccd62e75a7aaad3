/**
 * A hub and three branches, full engines on the in-memory network with a fake clock:
 * IKE brings the static tunnels up, and hosts on the branch LANs ping each other
 * through the hub (hairpin), the hub's LAN, and get errors for what is not routed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { MemoryLab } from '../../../src/lab/memory-lab.js';

async function settle<T>(clock: FakeClock, p: Promise<T>, ms: number): Promise<T> {
  clock.advance(ms);
  return p;
}

test('hub and spoke: tunnels come up; branch-to-branch traffic hairpins at the hub', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 3 });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'every branch has its hub tunnel within 10 s');
    const b1 = lab.node('branch1');
    const hub = lab.node('hub');
    // The routes IKE installed: the branch reaches 10/8 through the hub.
    const r = b1.engine.routes.list().find((x) => x.source === 'ike');
    assert.deepEqual(r?.target, { kind: 'sa', id: 'HUB' });

    const report = await settle(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 5, intervalMs: 200 }), 5000);
    assert.equal(report.received, 5, JSON.stringify(report));
    assert.ok(report.rtts.every((t) => t === 20), `4 hops of 5 ms each: ${report.rtts}`);
    assert.ok(hub.engine.forwarder.counters.hairpin >= 10, 'requests and replies hairpinned at the hub');
    assert.equal(lab.node('branch2').lan.counters.echoAnswered, 5);

    // The hub's own LAN and the hub router itself.
    const toHubLan = await settle(clock, b1.lan.ping('10.1.0.5', '10.0.0.9', { count: 2, intervalMs: 100 }), 3000);
    assert.equal(toHubLan.received, 2);
    const toHub = await settle(clock, b1.lan.ping('10.1.0.5', '10.0.0.1', { count: 1 }), 3000);
    assert.equal(toHub.received, 1, 'the hub answers for its own address');

    // Sessions are tracked with their path.
    const flows = b1.engine.flows.list();
    assert.ok(flows.some((f) => f.path === 'HUB' && f.protocol.startsWith('ICMP') && f.destination === '10.2.0.7' && f.packetsOut === 5), JSON.stringify(flows));
  } finally {
    await lab.stop();
  }
});

test('no route: a packet to a network nobody routes is dropped with ICMP unreachable', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 1 });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10));
    const b1 = lab.node('branch1');
    const r = await settle(clock, b1.lan.ping('10.1.0.5', '192.0.2.99', { count: 1, timeoutMs: 500 }), 2000);
    assert.equal(r.received, 0);
    assert.equal(b1.engine.forwarder.counters.drops['no-route'], 1);
    assert.equal(b1.lan.counters.icmpErrorsReceived, 1);
  } finally {
    await lab.stop();
  }
});

test('Accept-Routes no: the tunnel is up but installs no route (a static route can lead into it); Metric is the routes\' metric', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2 });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10));
    const b1 = lab.node('branch1');
    const hubPeer = b1.engine.config.peers.find((p) => p.name === 'HUB')!;
    b1.engine.apply({ ...b1.engine.config, peers: [{ ...hubPeer, acceptRoutes: false }] });
    assert.ok(clock.advanceUntil(() => b1.engine.datapath.hasTunnel('HUB'), 10_000, 10));
    assert.equal(b1.engine.routes.list().filter((r) => r.source === 'ike').length, 0, 'no IKE route');
    const lost = await settle(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 1 }), 3000);
    assert.equal(lost.received, 0, 'nothing routes into the tunnel');
    b1.engine.apply({ ...b1.engine.config, staticRoutes: [{ prefix: '10.2.0.0/24', target: { kind: 'peer', peer: 'HUB' } }] });
    const viaStatic = await settle(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 2, intervalMs: 100 }), 3000);
    assert.equal(viaStatic.received, 2, 'a static route leads into the tunnel');

    b1.engine.apply({ ...b1.engine.config, staticRoutes: [], peers: [{ ...hubPeer, routeMetric: 7 }] });
    assert.ok(clock.advanceUntil(() => b1.engine.routes.list().some((r) => r.source === 'ike'), 10_000, 10));
    assert.equal(b1.engine.routes.list().find((r) => r.source === 'ike')?.metric, 7);
  } finally {
    await lab.stop();
  }
});
