/**
 * Dynamic mesh tunnels between full engines (IKE, ESP, forwarding) on the in-memory
 * network with a fake clock. Each scenario asserts the path packets take: the first ones
 * through the hub (counted by its hairpin counter), the rest directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { MemoryLab } from '../../../src/lab/memory-lab.js';

function up(clock: FakeClock, lab: MemoryLab): void {
  assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'hub tunnels up');
}

async function run<T>(clock: FakeClock, p: Promise<T>, ms: number): Promise<T> {
  clock.advance(ms);
  return p;
}

test('egress trigger: the first packets go through the hub, the rest directly; flows switch over', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 3, mesh: true });
  try {
    up(clock, lab);
    const hub = lab.node('hub').engine;
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    const report = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 20, intervalMs: 100 }), 5000);
    assert.equal(report.received, 20);
    // 4 hops of 5 ms through the hub, then 2 hops direct.
    assert.equal(report.rtts[0], 20);
    assert.ok(report.rtts.slice(1).every((t) => t === 10), `direct after the first: ${report.rtts}`);
    assert.equal(hub.forwarder.counters.hairpin, 2, 'only the first request and reply crossed the hub');

    const t1 = b1.engine.spoke.tunnels();
    assert.equal(t1.length, 1);
    assert.equal(t1[0]!.state, 'up');
    assert.equal(t1[0]!.initiator, 'local', 'A builds the tunnel on the hub relayed offer');
    assert.equal(b2.engine.spoke.tunnels()[0]?.initiator, 'remote');
    assert.equal(b1.engine.routes.lookup(Uint8Array.of(10, 2, 0, 7))?.source, 'mesh');
    assert.equal(b2.engine.routes.lookup(Uint8Array.of(10, 1, 0, 5))?.source, 'mesh');

    const sw = b1.engine.spoke.switchovers();
    assert.equal(sw.toMesh, 1);
    assert.equal(sw.records[0]?.flow, 'icmp 10.1.0.5 > 10.2.0.7');
    assert.equal(sw.records[0]?.from, 'HUB');
    assert.ok(sw.records[0]!.packetsBefore >= 1);
    assert.equal(b1.engine.licence.usage('mesh').used, 1);
    assert.equal(b2.engine.licence.usage('mesh').used, 1);
    assert.equal(b1.engine.spoke.why('10.2.0.7').path, 'direct');
    // branch3 was not involved.
    assert.equal(lab.node('branch3').engine.spoke.tunnels().length, 0);
  } finally {
    await lab.stop();
  }
});

test('a packet to the peer router\'s own LAN address triggers the mesh tunnel too', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.1', { count: 5, intervalMs: 100 }), 3000);
    assert.equal(r.received, 5);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
  } finally {
    await lab.stop();
  }
});

test('idle teardown after the short-hold time on both ends; traffic builds the tunnel again', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, meshSettings: { shortHoldSec: 20 } });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 3, intervalMs: 100 }), 1000);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
    // Traffic every 5 s keeps it: 40 s of pings, still up.
    const keep = b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 8, intervalMs: 5000 });
    await run(clock, keep, 40_000);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
    // Silence: gone on both ends, routes back to the hub, licences returned.
    clock.advance(25_000);
    assert.equal(b1.engine.spoke.tunnels().length, 0);
    assert.equal(b2.engine.spoke.tunnels().length, 0);
    assert.equal(b1.engine.routes.lookup(Uint8Array.of(10, 2, 0, 7))?.source, 'ike');
    assert.equal(b1.engine.licence.usage('mesh').used, 0);
    assert.equal(b2.engine.licence.usage('mesh').used, 0);
    assert.equal(b1.engine.ike.allSas().length, 1, 'only the hub SA is left');
    // New traffic: through the hub first, then a new tunnel.
    const again = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 5, intervalMs: 100 }), 3000);
    assert.equal(again.received, 5);
    assert.equal(again.rtts[0], 20);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
  } finally {
    await lab.stop();
  }
});

test('licence exhausted at the initiator: no tunnel, the traffic keeps the hub path, denial counted', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, licenceProfile: 'Branch-3' });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    for (let i = 0; i < 6; i++) b1.engine.licence.acquire('mesh', `elsewhere${i}`);
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.ok(r.rtts.every((t) => t === 20), 'every packet through the hub');
    assert.equal(b1.engine.spoke.tunnels().length, 0);
    // Denied both as initiator (the hub's offer) and as responder (branch2's attempt after A's own request).
    assert.ok(b1.engine.licence.usage('mesh').denials >= 2);
    assert.equal(lab.node('branch2').engine.spoke.tunnels().length, 0);
    assert.match(b1.engine.spoke.why('10.2.0.7').text, /licence exhausted/);
    assert.ok(lab.node('hub').engine.hub.requestRows().some((row) => row.status === 'licenceExceeded'), 'the hub sees why');
  } finally {
    await lab.stop();
  }
});

test('two branches behind NAT without public addresses: no mesh tunnel, hub path, and why says so', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, natted: [1, 2] });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.ok(r.rtts.every((t) => t === 20), `all through the hub: ${r.rtts}`);
    assert.equal(b2.engine.spoke.requestedPrefixes()[0]?.status, 'notPublic');
    assert.match(b2.engine.spoke.why('10.1.0.5').text, /no public endpoint/);
    assert.equal(b1.engine.spoke.tunnels().length + b2.engine.spoke.tunnels().length, 0);
  } finally {
    await lab.stop();
  }
});

test('one branch behind NAT: the public branch accepts, the NATed one builds the tunnel to it', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, natted: [2] });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.equal(r.rtts.at(-1), 10, 'direct in the end');
    assert.equal(b2.engine.spoke.tunnels()[0]?.initiator, 'local', 'the NATed branch initiates');
    assert.equal(b1.engine.spoke.tunnels()[0]?.initiator, 'remote');
  } finally {
    await lab.stop();
  }
});

test('the hub goes down: the mesh tunnel keeps carrying traffic', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, meshSettings: { shortHoldSec: 600 } });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 3, intervalMs: 100 }), 1000);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
    lab.net.setDown(lab.node('hub').wan, true);
    // Long enough for DPD on the hub tunnels to give up.
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 30, intervalMs: 5000 }), 160_000);
    assert.equal(r.received, 30, 'every ping answered directly while the hub is down');
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
  } finally {
    await lab.stop();
  }
});

test('hub-redirect trigger: the hub tells the sender, which resolves and builds the shortcut', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, meshSettings: { trigger: 'hub-redirect' } });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.equal(r.rtts.at(-1), 10, 'direct in the end');
    // Both directions hairpin, so both senders are redirected; the hub relays one offer per pair.
    const hub = lab.node('hub').engine.hub.counters;
    assert.ok(hub.redirects >= 1 && hub.redirects <= 2);
    assert.equal(hub.relayed, 1);
    assert.equal(b1.engine.spoke.tunnels().length, 1);
    assert.equal(lab.node('branch2').engine.spoke.tunnels().length, 1);
    assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
    assert.equal(lab.node('branch2').engine.spoke.counters.triggers, 0, 'no egress trigger in this mode');
  } finally {
    await lab.stop();
  }
});

test('policy deny at the hub: no tunnel, hub path, the refusal is visible at the requester', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, meshSettings: { forwardingFilter: [{ prefix: '10.2.0.0/16', routingTag: 0, action: 'deny' }] } });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 5, intervalMs: 100 }), 2000);
    assert.equal(r.received, 5);
    assert.ok(r.rtts.every((t) => t === 20));
    const hubCounters = lab.node('hub').engine.hub.counters;
    assert.ok(hubCounters.refused >= 1);
    assert.equal(hubCounters.relayed, 0, 'every request refused');
    assert.equal(lab.node('branch2').engine.spoke.why('10.1.0.5').reason, 'refused');
  } finally {
    await lab.stop();
  }
});

test('fifty spokes all talking to each other: a direct tunnel for every pair', { timeout: 240_000 }, async () => {
  const clock = new FakeClock();
  const n = 50;
  const lab = new MemoryLab({ clock, branches: n, mesh: true, licenceProfile: 'Branch-50', meshSettings: { shortHoldSec: 3600 } });
  try {
    up(clock, lab);
    const pings: Promise<{ received: number }>[] = [];
    for (let i = 1; i <= n; i++) {
      for (let j = 1; j <= n; j++) if (i !== j) pings.push(lab.node(`branch${i}`).lan.ping(`10.${i}.0.5`, `10.${j}.0.7`, { count: 2, intervalMs: 1000 }));
    }
    clock.advance(30_000);
    const reports = await Promise.all(pings);
    assert.ok(reports.every((r) => r.received === 2), 'every ping answered');
    for (let i = 1; i <= n; i++) {
      const s = lab.node(`branch${i}`).engine;
      const live = s.spoke.tunnels().filter((t) => t.state === 'up');
      assert.equal(live.length, n - 1, `branch${i} has ${live.length} tunnels`);
      assert.equal(s.licence.usage('mesh').used, n - 1);
      for (let j = 1; j <= n; j++) if (i !== j) assert.equal(s.routes.lookup(Uint8Array.of(10, j, 0, 7))?.source, 'mesh');
    }
    // One tunnel per pair: every tunnel has exactly one local initiator end.
    const initiated = [...lab.nodes.values()].reduce((k, node) => k + node.engine.spoke.tunnels().filter((t) => t.initiator === 'local').length, 0);
    assert.equal(initiated, (n * (n - 1)) / 2);
  } finally {
    await lab.stop();
  }
});

for (const switchover of ['move', 'pin'] as const) {
  test(`switchover ${switchover}: a running UDP stream ${switchover === 'move' ? 'moves onto the mesh tunnel' : 'stays on the hub path'}; new flows go direct`, async () => {
    const clock = new FakeClock();
    const lab = new MemoryLab({ clock, branches: 2, mesh: true, meshSettings: { switchover, shortHoldSec: 600 } });
    try {
      up(clock, lab);
      const b1 = lab.node('branch1');
      const b2 = lab.node('branch2');
      const hub = lab.node('hub').engine.forwarder.counters;
      b1.lan.udpStream('10.1.0.5', 5000, '10.2.0.7', 6000, { count: 200, intervalMs: 10 });
      clock.advance(500); // the tunnel forms while the stream runs
      assert.equal(b1.engine.spoke.tunnels()[0]?.state, 'up');
      const hairpinBefore = hub.hairpin;
      clock.advance(1500); // the rest of the stream
      const flow = b2.lan.udpFlows.get('10.1.0.5:5000>10.2.0.7:6000');
      assert.equal(flow?.packets, 200, 'nothing lost');
      assert.equal(flow?.outOfOrder, 0, 'nothing reordered');
      if (switchover === 'move') assert.equal(hub.hairpin, hairpinBefore, 'the stream left the hub path');
      else assert.ok(hub.hairpin >= hairpinBefore + 100, 'the stream kept the hub path');
      // A new conversation takes the direct path in both modes.
      const r = await run(clock, b1.lan.ping('10.1.0.6', '10.2.0.8', { count: 3, intervalMs: 100 }), 2000);
      assert.ok(r.rtts.every((t) => t === 10), `direct: ${r.rtts}`);
    } finally {
      await lab.stop();
    }
  });
}

test('a spoke with mesh disabled declines the hub\'s offer at once; the hub frees the pair', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    b1.engine.apply({ ...b1.engine.config, mesh: { ...b1.engine.config.mesh, operationMode: 'Disabled' } });
    clock.advance(50);
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 3, intervalMs: 100 }), 2000);
    assert.equal(r.received, 3);
    const hub = lab.node('hub').engine.hub;
    assert.equal(hub.counters.relayed, 1);
    assert.equal(hub.counters.results, 1, 'branch1 answered');
    assert.equal(hub.requestRows().find((row) => row.requester === 'branch2')?.status, 'policyDenied');
    assert.equal(b1.engine.spoke.tunnels().length, 0);
  } finally {
    await lab.stop();
  }
});

test('a mesh message from anyone but the hub is refused and counted (a spoke posing as hub over a mesh SA)', async () => {
  const { encodeMeshMessage } = await import('../../../src/engine/mesh/messages.js');
  const { MESH_CONTROL_NOTIFY } = await import('../../../src/engine/engine.js');
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 3, mesh: true, meshSettings: { shortHoldSec: 600 } });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 3, intervalMs: 100 }), 1000);
    const meshSa = b2.engine.ike.allSas().find((s) => s.ikeId !== undefined && s.config?.name !== 'HUB');
    assert.ok(meshSa, 'branch2 has a mesh SA with branch1');
    const offersBefore = b1.engine.spoke.counters.offersReceived;
    // branch2 offers branch1 a tunnel to branch3's network, as only the hub may.
    const data = encodeMeshMessage({ type: 'shortcutOffer', requestId: 99, destination: '10.3.0.0/24', endpoint: { address: '198.51.100.66', port: 4500 }, peerId: 'evil.lab', validitySec: 60 });
    assert.equal(b2.engine.ike.sendInformational(meshSa.ikeId, [{ type: 41, protocolId: 0, spi: new Uint8Array(0), notifyType: MESH_CONTROL_NOTIFY, data }]), true);
    clock.advance(100);
    assert.equal(b1.engine.meshCounters.refusedFromNonHub, 1);
    assert.equal(b1.engine.spoke.counters.offersReceived, offersBefore, 'the controller never saw it');
    assert.equal(b1.engine.spoke.tunnels().length, 1, 'no tunnel toward the offered endpoint');
  } finally {
    await lab.stop();
  }
});

test('authentication failure of a mesh tunnel (template keys differ): hub path, reason, backoff', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    b2.engine.apply({ ...b2.engine.config, meshTemplate: { ...b2.engine.config.meshTemplate!, psk: 'a-different-mesh-key-0123456789' } });
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.ok(r.rtts.every((t) => t === 20), 'every packet on the hub path');
    const initiator = [b1, b2].find((b) => b.engine.spoke.counters.tunnelsFailed > 0);
    assert.ok(initiator, 'the attempt failed at its initiator');
    const why = initiator.engine.spoke.why(initiator === b1 ? '10.2.0.7' : '10.1.0.5');
    assert.equal(why.reason, 'failed');
    assert.match(why.text, /auth/i);
    assert.equal(b1.engine.licence.usage('mesh').used + b2.engine.licence.usage('mesh').used, 0, 'licences returned');
    assert.ok(lab.node('hub').engine.hub.requestRows().some((row) => row.status === 'authFailed'), 'the hub sees why');
  } finally {
    await lab.stop();
  }
});

test('a responder without mesh licences refuses the incoming mesh tunnel inside IKE_AUTH: it never comes up there', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true, licenceProfile: 'Branch-3' });
  try {
    up(clock, lab);
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    for (let i = 0; i < 6; i++) b1.engine.licence.acquire('mesh', `elsewhere${i}`);
    const seen: string[] = [];
    b1.engine.events.on('ike-state', (e) => {
      if (e.peer === 'mesh-responder') seen.push(e.to);
    });
    let childUps = 0;
    b1.engine.events.on('child-up', (e) => {
      if (e.peer === 'mesh-responder') childUps++;
    });
    const failedAtB2: string[] = [];
    b2.engine.events.on('auth-failed', (e) => failedAtB2.push(`${e.side}: ${e.detail}`));
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.ok(r.rtts.every((t) => t === 20), 'every packet through the hub');
    // branch2 tried (it got the hub's offer for branch1's request) and was answered AUTHENTICATION_FAILED.
    assert.ok(b1.engine.ike.counters['auth-refused']! >= 1, JSON.stringify(b1.engine.ike.counters));
    assert.ok(failedAtB2.some((f) => f.startsWith('remote: ') && /AUTHENTICATION_FAILED/.test(f)), failedAtB2.join('\n'));
    // At branch1 the incoming SA never reached 'established', no child was installed, no mesh tunnel exists.
    assert.ok(seen.length > 0, 'branch1 saw incoming mesh SAs');
    assert.ok(!seen.includes('established'), `states at branch1: ${seen.join(',')}`);
    assert.equal(childUps, 0);
    assert.equal(b1.engine.spoke.tunnels().length, 0);
    assert.equal(b2.engine.spoke.tunnels().length, 0);
    assert.equal(b1.engine.ike.allSas().filter((s) => s.config?.name === 'mesh-responder').length, 0);
    assert.equal(b1.engine.licence.usage('mesh').used, 6, 'only the six held elsewhere');
    assert.equal(b2.engine.licence.usage('mesh').used, 0, 'branch2 returned its licence');
  } finally {
    await lab.stop();
  }
});
