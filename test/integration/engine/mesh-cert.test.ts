/**
 * Mesh tunnels authenticated with node certificates of one site CA (the mesh template's Auth
 * profile with certificates), and a branch whose certificate comes from another CA: no mesh
 * tunnel, the hub path stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { MemoryLab } from '../../../src/lab/memory-lab.js';
import type { Engine } from '../../../src/engine/engine.js';
import { testPki } from '../../unit/pki/fixtures.js';

async function useCertificates(engine: Engine, id: string, ca = 'main'): Promise<void> {
  const pki = await testPki('ed25519', ca);
  const site = await testPki('ed25519', 'main');
  const t = engine.config.meshTemplate!;
  engine.apply({ ...engine.config, meshTemplate: { ...t, psk: '', auth: { authMethod: 'cert', credential: await pki.node(id), trust: site.trust } } });
}

async function run<T>(clock: FakeClock, p: Promise<T>, ms: number): Promise<T> {
  clock.advance(ms);
  return p;
}

test('mesh tunnels with node certificates of the site CA (Ed25519): up, direct path', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'hub tunnels up');
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    await useCertificates(b1.engine, 'branch1.lab');
    await useCertificates(b2.engine, 'branch2.lab');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 20, intervalMs: 100 }), 5000);
    assert.equal(r.received, 20);
    assert.ok(r.rtts.slice(2).every((t) => t === 10), `direct after the first: ${r.rtts}`);
    const t1 = b1.engine.spoke.tunnels();
    assert.equal(t1.length, 1);
    assert.equal(t1[0]!.state, 'up');
    const mesh = [...b1.engine.ike.allSas(), ...b2.engine.ike.allSas()].filter((s) => s.state === 'established' && (s.peerName.startsWith('mesh')));
    assert.equal(mesh.length, 2, 'one mesh IKE SA at each end');
    for (const sa of mesh) assert.equal(sa.config!.auth.method, 'cert');
  } finally {
    await lab.stop();
  }
});

test('a branch whose certificate is from another CA gets no mesh tunnel: hub path, auth failure visible', async () => {
  const clock = new FakeClock();
  const lab = new MemoryLab({ clock, branches: 2, mesh: true });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'hub tunnels up');
    const b1 = lab.node('branch1');
    const b2 = lab.node('branch2');
    await useCertificates(b1.engine, 'branch1.lab');
    await useCertificates(b2.engine, 'branch2.lab', 'rogue');
    const r = await run(clock, b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 }), 3000);
    assert.equal(r.received, 10);
    assert.ok(r.rtts.every((t) => t === 20), 'every packet on the hub path');
    assert.equal(b1.engine.spoke.tunnels().filter((t) => t.state === 'up').length, 0);
    const counters = { ...b1.engine.ike.counters, ...b2.engine.ike.counters };
    assert.ok((b1.engine.ike.counters['auth-cert-untrusted'] ?? 0) + (b2.engine.ike.counters['auth-cert-untrusted'] ?? 0) >= 1, JSON.stringify(counters));
  } finally {
    await lab.stop();
  }
});
