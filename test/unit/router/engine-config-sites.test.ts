/**
 * /Setup/VPN/Site-Directory -> EngineConfig.siteDirectory: base routes from the routing table
 * (Peer-or-IP SITE-DIRECTORY), the Base-Peer row as a template (left out of the peers), its
 * SH-Time as the idle timeout, and its Auth profile: PSK both ways (keys from the rows) or
 * certificates both ways (own certificate and site CA from the config directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneConfig, defaultConfig, getSchema, setParam, setRow } from '../../../src/config/index.js';
import { engineConfigFrom } from '../../../src/router/engine-config.js';
import { createCa, issueCertificate } from '../../../src/engine/pki/create.js';
import { savePemPair } from '../../../src/engine/pki/files.js';

const schema = getSchema();
const IKE = '/Setup/VPN/IKEv2';
const SD = '/Setup/VPN/Site-Directory';

function config(auth: Record<string, string>, operating = 'yes') {
  const c = cloneConfig(defaultConfig(schema));
  setRow(schema, c, '/Setup/Interfaces/LAN', ['LAN-1'], new Map([['Address', '10.0.0.1/24']]), 'update');
  setRow(schema, c, `${IKE}/Auth/Parameter`, ['SITES'], new Map(Object.entries({ 'Local-ID': 'hub.example', ...auth })), 'create');
  setRow(schema, c, `${IKE}/Peers`, ['SITES'], new Map([['Role', 'responder'], ['Auth', 'SITES'], ['SH-Time', '120']]), 'create');
  setRow(schema, c, '/Setup/IP-Router/Routing-Table', ['10.64.0.0/10', '0'], new Map([['Peer-or-IP', 'site-directory']]), 'create');
  setParam(schema, c, `${SD}/Operating`, operating);
  setParam(schema, c, `${SD}/Base-Peer`, 'SITES');
  setParam(schema, c, `${SD}/Max-Dynamic-Routes`, '500');
  setParam(schema, c, `${SD}/Min-Free-Percent`, '20');
  return c;
}

test('PSK Base-Peer: a template without a key of its own, base routes, slots, idle timeout; the row is no tunnel', () => {
  const m = engineConfigFrom(config({}));
  assert.deepEqual(m.problems, []);
  const sd = m.config.siteDirectory!;
  assert.deepEqual(sd.baseRoutes, ['10.64.0.0/10']);
  assert.equal(sd.maxDynamicRoutes, 500);
  assert.equal(sd.freeShare, 0.2);
  assert.equal(sd.idleTimeoutMs, 120_000);
  assert.deepEqual(sd.template.localId, { type: 'fqdn', value: 'hub.example' });
  assert.deepEqual(sd.template.localTs, ['10.0.0.0/24']);
  assert.equal(sd.template.credential, undefined);
  assert.equal(m.config.peers.find((p) => p.name === 'SITES'), undefined, 'the Base-Peer row is a template');
  assert.equal(m.config.staticRoutes.length, 0, 'a base route is not a static route');
  // Off: no site directory, and the base route is not turned into a LAN route either.
  const off = engineConfigFrom(config({ 'Local-Password': 'psk-for-the-row-itself' }, 'no'));
  assert.equal(off.config.siteDirectory, undefined);
  assert.equal(off.config.staticRoutes.length, 0);
});

test('certificate Base-Peer: own certificate and site CA; mixed PSK/certificate is refused with the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sd-'));
  try {
    const ca = await createCa({ commonName: 'Site CA' });
    savePemPair(ca, join(dir, 'pki/ca.crt'), join(dir, 'pki/ca.key'));
    savePemPair(await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'hub.example' }] }), join(dir, 'pki/node.crt'), join(dir, 'pki/node.key'));
    const m = engineConfigFrom(config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'EdDSA' }), { configDir: dir });
    assert.deepEqual(m.problems, []);
    const t = m.config.siteDirectory!.template;
    assert.equal(t.authMethod, 'cert');
    assert.equal(t.remoteAuthMethod, 'cert');
    assert.equal(t.credential?.cert.subject, 'CN=hub.example');
    assert.equal(t.trust?.cas.length, 1);
    const mixed = engineConfigFrom(config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'PSK', 'Local-Password': 'x-psk-x-psk' }), { configDir: dir });
    assert.match(mixed.problems.join('\n'), /Base-Peer SITES: Auth SITES must use PSK both ways \(keys from the site rows\) or certificates both ways/);
    assert.equal(mixed.config.siteDirectory, undefined);
    const noFiles = engineConfigFrom(config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'EdDSA' }), { configDir: join(dir, 'empty') });
    assert.match(noFiles.problems.join('\n'), /Base-Peer SITES \(Auth SITES\).*meshgate pki/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
