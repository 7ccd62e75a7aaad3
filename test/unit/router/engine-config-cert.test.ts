/**
 * Certificate settings -> EngineConfig: Local-Auth/Remote-Auth RSA, ECDSA or EdDSA load the
 * files of /Setup/VPN/IKEv2/Certificates (or the profile's Local-Certificate); a missing file,
 * a key of another type, or a config without a directory is a problem that names the setting
 * (and refuses the commit). Enum values outside PSK/RSA/ECDSA/EdDSA are refused by the schema.
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

function config(auth: Record<string, string>) {
  const c = cloneConfig(defaultConfig(schema));
  setRow(schema, c, `${IKE}/Auth/Parameter`, ['CERT'], new Map(Object.entries({ 'Local-ID': 'spoke1.example', 'Remote-ID': 'hub.example', ...auth })), 'create');
  setRow(schema, c, `${IKE}/Peers`, ['HUB'], new Map([['Remote-Gateway', '192.0.2.1'], ['Type', 'hub'], ['Auth', 'CERT']]), 'create');
  return c;
}

test('EdDSA both ways: the own certificate and the site CA from the config directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ec-'));
  try {
    const ca = await createCa({ commonName: 'Site CA' });
    savePemPair(ca, join(dir, 'pki/ca.crt'), join(dir, 'pki/ca.key'));
    savePemPair(await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'spoke1.example' }] }), join(dir, 'pki/node.crt'), join(dir, 'pki/node.key'));
    savePemPair(await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'spoke1.example' }], algorithm: 'ecdsa-p256' }), join(dir, 'other/ec.crt'), join(dir, 'other/ec.key'));

    let m = engineConfigFrom(config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'EdDSA' }), { configDir: dir });
    assert.deepEqual(m.problems, []);
    const p = m.config.peers[0]!;
    assert.equal(p.authMethod, 'cert');
    assert.equal(p.remoteAuthMethod, 'cert');
    assert.equal(p.psk, undefined);
    assert.equal(p.credential?.cert.subject, 'CN=spoke1.example');
    assert.equal(p.trust?.cas.length, 1);
    // The engine compares configs as JSON: fingerprints, never key material.
    const json = JSON.stringify(p);
    assert.match(json, /"certificate":"[0-9A-F:]{95}"/);
    assert.doesNotMatch(json, /PRIVATE|"key":\{"/);

    // A key type other than Local-Auth says: refused with the fix.
    m = engineConfigFrom(config({ 'Local-Auth': 'RSA', 'Remote-Auth': 'EdDSA' }), { configDir: dir });
    assert.match(m.problems.join('\n'), /Local-Auth RSA, but the key of pki\/node.crt is EdDSA \(Ed25519\) \(set Local-Auth EdDSA\)/);

    // The profile's own certificate file; its key is the same name with .key.
    m = engineConfigFrom(config({ 'Local-Auth': 'ECDSA', 'Remote-Auth': 'PSK', 'Local-Password': 'a-pre-shared-key-123', 'Local-Certificate': 'other/ec.crt' }), { configDir: dir });
    assert.deepEqual(m.problems, []);
    assert.equal(m.config.peers[0]!.credential?.scheme, 'ecdsa-sha256');
    assert.equal(m.config.peers[0]!.remoteAuthMethod, 'psk');
    assert.equal(m.config.peers[0]!.psk, 'a-pre-shared-key-123');

    // Another CA file that does not exist: the problem names it and the tool that makes one.
    const c = config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'EdDSA' });
    setParam(schema, c, `${IKE}/Certificates/CA-Certificate`, 'pki/missing.crt');
    m = engineConfigFrom(c, { configDir: dir });
    assert.match(m.problems.join('\n'), /Peers HUB \(Auth CERT\): CA certificate .*pki\/missing.crt: ENOENT \(meshgate pki creates/);
    assert.equal(m.config.peers.length, 0);

    // No config directory: refused, not silently PSK.
    m = engineConfigFrom(config({ 'Local-Auth': 'EdDSA', 'Remote-Auth': 'EdDSA' }));
    assert.match(m.problems.join('\n'), /needs the config directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Local-Auth accepts PSK, RSA, ECDSA, EdDSA only; the error lists them', () => {
  const c = cloneConfig(defaultConfig(schema));
  assert.throws(
    () => setRow(schema, c, `${IKE}/Auth/Parameter`, ['X'], new Map([['Local-Auth', 'X509']]), 'create'),
    (e: Error) => /PSK.*RSA.*ECDSA.*EdDSA/.test(e.message),
  );
});

test('an ID type the engine cannot send (DN) is refused, naming the column and the supported types', () => {
  const m = engineConfigFrom(config({ 'Local-Auth': 'PSK', 'Remote-Auth': 'PSK', 'Local-Password': 'a-pre-shared-key-123', 'Remote-ID-Type': 'DN', 'Remote-ID': 'CN=hub' }));
  assert.match(m.problems.join('\n'), /Remote-ID-Type DN is not supported \(supported: FQDN, USER-FQDN, IPv4, IPv6, KEY-ID\)/);
  assert.equal(m.config.peers.length, 0);
});
