/**
 * Concentrator mode on the in-memory network: a hub whose sites live in a site directory,
 * and hundreds of site routers (full engines: IKE, ESP, forwarding). Asserts what the
 * operator relies on: the first packet to a site is queued, not lost, while the site is
 * looked up and its tunnel built; slots are bounded and the least recently used sites are
 * evicted with their SAs; idle sites go; a slow or dead database never stops the tunnels
 * that exist; a changed row takes effect through refresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SiteDirectoryEngineSettings } from '../../../src/engine/sites/concentrator.js';
import { FakeBackend } from '../../unit/sites/fake-backend.js';
import { advance, ConcentratorLab, until } from './concentrator-lab.js';
import { testPki } from '../../unit/pki/fixtures.js';

/** A concentrator over an in-memory directory whose answers the test can hang. */
class Lab extends ConcentratorLab {
  declare readonly backend: FakeBackend;
  constructor(settings: Partial<SiteDirectoryEngineSettings> = {}) {
    super(new FakeBackend({ v4: 24 }), settings);
  }
}

test('the first packet to a site is queued while the site is looked up and its tunnel built, then delivered', async () => {
  const lab = new Lab();
  try {
    await lab.start(3);
    const hub = lab.hub.engine;
    const r = await lab.ping(1, 3);
    assert.equal(r.received, 3, 'every echo answered, the first one included');
    assert.ok(hub.forwarder.counters.siteQueued >= 1);
    assert.equal(hub.forwarder.counters.drops['site-pending'], 0);
    const route = hub.routes.lookup(Uint8Array.of(10, 64, 1, 5));
    assert.equal(route?.source, 'site');
    assert.deepEqual(route?.target, { kind: 'sa', id: 'site_site1' });
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 2, 5))?.target.kind, 'site-directory', 'other sites still meet the base route');
    const st = hub.sites.status()!;
    assert.equal(st.counters.lookups, 1);
    assert.equal(st.counters.hits, 1);
    assert.equal(st.up, 1);
    assert.equal(hub.licence.usage('vpn').used, 1, 'a site tunnel holds a VPN licence');
    assert.ok(lab.site(1).engine.datapath.hasTunnel('concentrator'), 'the site has the tunnel too');
    assert.equal(lab.site(2).engine.datapath.hasTunnel('concentrator'), false);

    // A network without a site: no tunnel, the drop counted under its reason.
    const miss = await lab.ping(200, 1);
    assert.equal(miss.received, 0);
    assert.equal(hub.sites.status()!.counters.misses, 1);
    assert.equal(hub.sites.status()!.drops['no-site'], 1);
  } finally {
    await lab.stop();
  }
});

test('two hundred sites through 100 slots: LRU eviction keeps more than 10 % free and deletes the evicted SAs at both ends', async () => {
  const lab = new Lab({ maxDynamicRoutes: 100 });
  try {
    await lab.start(200);
    const hub = lab.hub.engine;
    let maxUsed = 0;
    for (let k = 0; k < 200; k++) {
      const r = await lab.ping(k, 1);
      assert.equal(r.received, 1, `site ${k} answered its first packet`);
      maxUsed = Math.max(maxUsed, hub.sites.status()!.used);
      // Touch site 0 now and then: recently used, so it is never the one evicted.
      if (k % 20 === 10) assert.equal((await lab.ping(0, 1)).received, 1);
    }
    const st = hub.sites.status()!;
    assert.ok(maxUsed <= 90, `at most 90 of 100 slots in use (saw ${maxUsed})`);
    assert.ok(st.counters.evictions >= 110, `evictions: ${st.counters.evictions}`);
    assert.equal(hub.licence.usage('vpn').used, st.used, 'licences follow the routes');
    assert.ok(hub.routes.lookup(Uint8Array.of(10, 64, 0, 5))?.source === 'site', 'the recently used site 0 is still connected');
    await advance(lab.clock, 500);
    // Evicted sites were told (IKE DELETE): their tunnels are gone too.
    const connectedAtSites = [...lab.sites.values()].filter((s) => s.engine.datapath.hasTunnel('concentrator')).length;
    assert.equal(connectedAtSites, hub.sites.status()!.up);
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 1, 5))?.target.kind, 'site-directory', 'an early site was evicted');
    // ... and comes back on demand.
    assert.equal((await lab.ping(1, 1)).received, 1);
  } finally {
    await lab.stop();
  }
});

test('an idle site goes after the idle timeout at both ends; a site with traffic stays', async () => {
  const lab = new Lab({ idleTimeoutMs: 60_000 });
  try {
    await lab.start(2);
    const hub = lab.hub.engine;
    assert.equal((await lab.ping(0, 1)).received, 1);
    assert.equal((await lab.ping(1, 1)).received, 1);
    // Site 1 talks every 10 s (through the data path only: no lookups), site 0 is silent.
    for (let i = 0; i < 9; i++) {
      await advance(lab.clock, 10_000, 100);
      assert.equal((await lab.ping(1, 1)).received, 1);
    }
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 0, 5))?.target.kind, 'site-directory', 'idle site 0 removed');
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 1, 5))?.source, 'site', 'busy site 1 kept');
    assert.equal(hub.sites.status()!.counters.idleTimeouts, 1);
    assert.equal(hub.sites.status()!.counters.lookups, 2, 'traffic to a connected site needs no lookup');
    await advance(lab.clock, 200);
    assert.equal(lab.site(0).engine.datapath.hasTunnel('concentrator'), false);
    assert.equal(hub.licence.usage('vpn').used, 1);
  } finally {
    await lab.stop();
  }
});

test('a database that hangs or fails: lookups time out and back off, connected sites keep working, recovery is found', async () => {
  const lab = new Lab({ lookupTimeoutMs: 500 });
  try {
    await lab.start(3);
    const hub = lab.hub.engine;
    assert.equal((await lab.ping(0, 1)).received, 1);
    lab.backend.mode = 'hang';
    const lost = await lab.ping(1, 2, 200);
    assert.equal(lost.received, 0, 'no site while the database does not answer');
    // Each attempt times out after 500 ms; after the retries (with backoff) the directory is down.
    assert.ok(await until(lab.clock, () => hub.sites.status()!.directories[0]!.state === 'down', 10_000, 50), 'directory marked down');
    const st = hub.sites.status()!;
    assert.equal(st.counters.timeouts, 3, 'the first attempt and two retries');
    assert.equal(st.counters.lookupFailures, 1);
    assert.match(st.directories[0]!.lastError ?? '', /no answer within 500 ms/);
    // The connected site is untouched by all of it.
    assert.equal((await lab.ping(0, 3)).received, 3);
    lab.backend.mode = 'ok';
    assert.ok(await until(lab.clock, () => hub.sites.status()!.directories[0]!.state === 'up', 30_000, 100), 'the health probe finds the database again');
    assert.equal((await lab.ping(1, 2)).received, 2);
  } finally {
    await lab.stop();
  }
});

test('refresh: a row changed in the database takes the connected site down; the next packet uses the new row', async () => {
  const lab = new Lab();
  try {
    await lab.start(2);
    const hub = lab.hub.engine;
    assert.equal((await lab.ping(0, 1)).received, 1);
    assert.equal(await hub.sites.refresh('site0'), 'unchanged');
    await lab.backend.inner.put({ ...(await lab.backend.inner.get('site0'))!, comment: 'moved to rack 4' });
    assert.equal(await hub.sites.refresh('site0'), 'updated', 'a comment changes nothing on the wire');
    await lab.backend.inner.put({ ...(await lab.backend.inner.get('site0'))!, psk: 'a-brand-new-psk-0123456789' });
    assert.equal(await hub.sites.refresh('site0'), 'changed');
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 0, 5))?.target.kind, 'site-directory');
    // The site router still has the old key: authentication now fails, and says so.
    const r = await lab.ping(0, 1);
    assert.equal(r.received, 0);
    assert.equal(hub.sites.status()!.up, 0);
    assert.equal(hub.licence.usage('vpn').used, 0, 'the failed attempt returned its licence');
  } finally {
    await lab.stop();
  }
});

test('responder: a site that calls in is looked up by its IKE identity; a wrong key or an unknown site gets nothing', async () => {
  const lab = new Lab();
  try {
    await lab.start(3);
    const hub = lab.hub.engine;
    const callIn = (k: number, psk: string, localId = `site${k}.lab`) => {
      const cfg = { ...lab.site(k).engine.config, peers: [{ kind: 'static' as const, name: 'concentrator', role: 'initiator' as const, remoteGateways: ['198.51.100.1:4500'], localId, remoteId: 'hub.lab', psk, localTs: [`10.64.${k}.0/24`], remoteTs: ['10.0.0.0/24'] }] };
      lab.site(k).engine.apply(cfg);
    };
    callIn(1, 'site-psk-1-0123456789');
    assert.ok(await until(lab.clock, () => hub.routes.lookup(Uint8Array.of(10, 64, 1, 5))?.target.kind === 'sa', 5000), 'the site route is installed by the responder');
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 1, 5))?.source, 'site');
    assert.ok(await until(lab.clock, () => lab.site(1).engine.datapath.hasTunnel('concentrator'), 1000), 'and the site has it');
    let st = hub.sites.status()!;
    assert.equal(st.counters.identityLookups, 1);
    assert.equal(st.counters.identityHits, 1);
    assert.equal(st.counters.lookups, 0, 'no network lookup was needed');
    assert.equal(hub.licence.usage('vpn').used, 1);
    let report: { received: number } | undefined;
    void lab.site(1).lan.ping('10.64.1.5', '10.0.0.5', { count: 3, intervalMs: 100 }).then((r) => (report = r));
    assert.ok(await until(lab.clock, () => report !== undefined, 5000));
    assert.equal(report!.received, 3, 'traffic from the site and back over its dynamic route');

    // Site 2 calls in with a key the directory does not have: refused, no licence taken.
    callIn(2, 'not-the-directory-key-000');
    await advance(lab.clock, 3000, 50);
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 2, 5))?.target.kind, 'site-directory');
    assert.equal(hub.licence.usage('vpn').used, 1);
    // Site 2 gives up (its own retries would call in again and be refused again).
    lab.site(2).engine.apply({ ...lab.site(2).engine.config, peers: [] });
    await advance(lab.clock, 31_000, 500);
    assert.equal(hub.ike.peerConfig('site_site2'), undefined, 'the pending responder peer was removed again');
    // An identity that is in no row: nothing at all.
    callIn(0, 'site-psk-0-0123456789', 'stranger.lab');
    await advance(lab.clock, 3000, 50);
    st = hub.sites.status()!;
    assert.ok(st.counters.identityMisses >= 1, `identity misses ${st.counters.identityMisses}`);
    assert.equal(hub.sites.status()!.up, 1);
    assert.equal(hub.licence.usage('vpn').used, 1);
  } finally {
    await lab.stop();
  }
});

test('certificate sites: the row names a certificate, the site CA and the row\'s identity are checked, both directions', async () => {
  const pki = await testPki('ed25519');
  const other = await testPki('ed25519', 'another');
  const hubCred = await pki.node('hub.lab');
  const lab = new Lab({ template: { localId: 'hub.lab', localTs: ['10.0.0.0/24'], authMethod: 'cert', remoteAuthMethod: 'cert', credential: hubCred, trust: pki.trust } });
  try {
    await lab.start(4);
    const hub = lab.hub.engine;
    // Sites 1-3 authenticate by certificate: 1 and 2 from the site CA, 3 from another CA.
    for (const k of [1, 2, 3]) {
      const row = (await lab.backend.inner.get(`site${k}`))!;
      const { psk: _psk, ...rest } = row;
      await lab.backend.inner.put({ ...rest, cert: `store-${k}.crt` });
      const cred = await (k === 3 ? other : pki).node(`site${k}.lab`);
      const peer = { kind: 'static' as const, name: 'concentrator', role: (k === 2 ? 'initiator' : 'responder') as 'initiator' | 'responder', remoteGateways: k === 2 ? ['198.51.100.1:4500'] : [], localId: `site${k}.lab`, remoteId: 'hub.lab', authMethod: 'cert' as const, remoteAuthMethod: 'cert' as const, credential: cred, trust: pki.trust, localTs: [`10.64.${k}.0/24`], remoteTs: ['10.0.0.0/24'] };
      lab.site(k).engine.apply({ ...lab.site(k).engine.config, peers: [peer] });
    }
    // The concentrator calls site 1 on demand.
    assert.equal((await lab.ping(1, 3)).received, 3, 'certificate site built on the first packet');
    assert.equal(hub.ike.snapshot().ikeSas.find((s) => s.peer === 'site_site1')?.state, 'established');
    // Site 2 calls in: found by identity, certificate checked.
    assert.ok(await until(lab.clock, () => hub.routes.lookup(Uint8Array.of(10, 64, 2, 5))?.target.kind === 'sa', 5000), 'site 2 called in');
    // Site 3's certificate is from another CA: refused.
    assert.equal((await lab.ping(3, 1)).received, 0);
    assert.equal(hub.routes.lookup(Uint8Array.of(10, 64, 3, 5))?.target.kind, 'site-directory');
    // Site 0 still has its PSK row and works beside them.
    assert.equal((await lab.ping(0, 1)).received, 1);
    assert.equal(hub.sites.status()!.up, 3);
  } finally {
    await lab.stop();
  }
});
