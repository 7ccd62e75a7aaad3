import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { RouteTable } from '../../../src/engine/dataplane/route-table.js';
import { resolvePeerConfig } from '../../../src/engine/ike/peer-config.js';
import { DynamicRouteManager } from '../../../src/engine/sites/dynamic-routes.js';
import { testPki } from '../pki/fixtures.js';
import { SiteAuthUnsupportedError, gatewayNeedsResolving, sitePeerConfigInput } from '../../../src/engine/sites/site-peer.js';
import { counterRows, directoryRows, dynamicRouteRows } from '../../../src/engine/sites/show.js';
import { validateSiteRecord, type Site } from '../../../src/engine/sites/site.js';
import { FakeBackend, flush, siteAddress, siteRecord } from './fake-backend.js';

function site(extra = {}): Site {
  const v = validateSiteRecord({ ...siteRecord(3), ...extra }, { v4: 24 });
  assert.ok('site' in v);
  return { ...v.site, updatedAt: 0 };
}

test('a site row plus the template makes a valid IKE peer with the row\'s key, identity, gateway and network', () => {
  const s = site({ gateway: '192.0.2.3' });
  assert.equal(gatewayNeedsResolving(s), false);
  const input = sitePeerConfigInput(s, { localId: 'fqdn:hub.example', role: 'both', shortHoldMs: 60_000 });
  const peer = resolvePeerConfig(input);
  assert.equal(peer.name, 'site-3');
  assert.deepEqual(peer.remoteGateways, [{ address: '192.0.2.3', port: 4500 }]);
  assert.deepEqual(peer.remoteId, { type: 'fqdn', value: 'site-3.example.net' });
  assert.equal(Buffer.from(peer.auth.psk).toString(), 'secret-psk-3');
  assert.equal(peer.remoteTs.length, 1);
  assert.equal(peer.shortHoldMs, 60_000);
});

test('a host-name gateway is resolved by the caller; a certificate site needs the Base-Peer\'s certificate and CA', async () => {
  const s = site({ gateway: 'gw.example.net:500' });
  assert.equal(gatewayNeedsResolving(s), true);
  assert.deepEqual(resolvePeerConfig(sitePeerConfigInput(s, { localId: 'hub.example' }, '2001:db8::3')).remoteGateways, [{ address: '2001:db8::3', port: 500 }]);
  const certSite = site({ psk: '', cert: 'ca/site-3' });
  assert.throws(() => sitePeerConfigInput(certSite, { localId: 'hub.example' }), SiteAuthUnsupportedError);
  const pki = await testPki('ed25519');
  const template = { localId: 'hub.example', authMethod: 'cert' as const, remoteAuthMethod: 'cert' as const, credential: await pki.node('hub.example'), trust: pki.trust };
  const cfg = resolvePeerConfig(sitePeerConfigInput(certSite, template, '192.0.2.3'));
  assert.equal(cfg.auth.method, 'cert');
  assert.equal(cfg.auth.remoteMethod, 'cert');
  assert.equal(cfg.auth.remoteCertIdCheck, true, 'the certificate must carry the row\'s identity');
  assert.deepEqual(cfg.remoteId, { type: 'fqdn', value: 'site-3.example.net' });
  // A PSK row under a certificate template still uses its key, both ways.
  const pskCfg = resolvePeerConfig(sitePeerConfigInput(site(), template, '192.0.2.3'));
  assert.equal(pskCfg.auth.method, 'psk');
  assert.equal(pskCfg.auth.remoteMethod, 'psk');
  assert.equal(Buffer.from(pskCfg.auth.psk).toString(), 'secret-psk-3');
});

test('show rows: directories, dynamic routes, counters; no secrets', async () => {
  const clock = new FakeClock();
  const backend = new FakeBackend();
  await backend.add(siteRecord(3));
  const m = new DynamicRouteManager({ clock, routes: new RouteTable(), capacity: 10, hooks: { connect: () => {}, release: () => {}, removed: () => {} } });
  m.addDirectory('hq', backend);
  m.addBaseRoute('hq', '10.0.0.0/8');
  m.resolve('hq', siteAddress(3), new Uint8Array(20));
  await flush();
  m.tunnelUp('site-3', 'sa-3');
  clock.advance(5000);
  assert.deepEqual(directoryRows(m.status()), [['hq', 'memory', 'up', '1', '10.0.0.0/8', '']]);
  assert.deepEqual(dynamicRouteRows(m, clock), [['site-3', 'hq', '10.0.3.0/24', 'fqdn:site-3.example.net', 'gw-3.example.net', 'up', 'sa-3', '5', '5']]);
  const counters = counterRows(m.status());
  assert.deepEqual(counters[0], ['slots', '1/10 (9 free)']);
  assert.ok(counters.some(([k, v]) => k === 'released' && v === '1'));
  assert.ok(!JSON.stringify([directoryRows(m.status()), dynamicRouteRows(m, clock), counters]).includes('secret-psk'));
});
