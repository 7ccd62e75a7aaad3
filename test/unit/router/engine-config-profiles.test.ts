/**
 * Lifetime profiles -> peer configs: Child-SA-KB becomes the child SA's volume lifetime in
 * bytes; IKE-SA-KB other than 0 is refused with the reason (no IKE SA volume lifetime).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneConfig, defaultConfig, getSchema, setRow } from '../../../src/config/index.js';
import { engineConfigFrom } from '../../../src/router/engine-config.js';

const schema = getSchema();
const IKE = '/Setup/VPN/IKEv2';

function config(lifetimes: Record<string, string>) {
  const c = cloneConfig(defaultConfig(schema));
  setRow(schema, c, `${IKE}/Auth/Parameter`, ['HUB'], new Map([['Local-ID', 'spoke.example'], ['Local-Password', 'a-long-enough-key']]), 'create');
  setRow(schema, c, `${IKE}/Lifetimes`, ['SHORT'], new Map(Object.entries(lifetimes)), 'create');
  setRow(schema, c, `${IKE}/Peers`, ['HUB'], new Map([['Remote-Gateway', '192.0.2.1'], ['Type', 'hub'], ['Auth', 'HUB'], ['Lifetimes', 'SHORT']]), 'create');
  return c;
}

test('Child-SA-KB is the child SA volume lifetime; IKE-SA-KB must be 0', () => {
  let m = engineConfigFrom(config({ 'Child-SA-Sec': '120', 'Child-SA-KB': '2048' }));
  assert.deepEqual(m.problems, []);
  assert.equal(m.config.peers[0]!.childVolumeBytes, 2048 * 1024);
  assert.equal(m.config.peers[0]!.childLifetime?.rekeyMs, 120_000);
  m = engineConfigFrom(config({ 'IKE-SA-KB': '1000' }));
  assert.match(m.problems.join('\n'), /Lifetimes SHORT\): IKE-SA-KB 1000 is not supported .*set 0/);
  assert.equal(m.config.peers.length, 0);
});

test('profiles: what the engine cannot do is refused by name; Accept-Routes and Metric reach the peer; VPN off and Negotiation-Control', () => {
  const refused = (general: Record<string, string>, routing: Record<string, string> = {}) => {
    const c = config({});
    setRow(schema, c, `${IKE}/General`, ['DEFAULT'], new Map(Object.entries(general)), 'update');
    setRow(schema, c, `${IKE}/Routing`, ['NETS'], new Map(Object.entries({ 'Remote-Networks': '10.0.0.0/8', ...routing })), 'create');
    setRow(schema, c, `${IKE}/Peers`, ['HUB'], new Map([['Routing', 'NETS']]), 'update');
    return engineConfigFrom(c);
  };
  assert.match(refused({ 'NAT-T': 'off' }).problems.join('\n'), /NAT-T off is not possible \(meshgate has no raw ESP/);
  assert.match(refused({ MOBIKE: 'yes' }).problems.join('\n'), /MOBIKE \(RFC 4555\) is not supported: set no/);
  assert.match(refused({ Fragmentation: 'yes' }).problems.join('\n'), /fragmentation \(RFC 7383\) is not supported: set no/);
  assert.match(refused({}, { 'Announce-Routes': 'no' }).problems.join('\n'), /Announce-Routes no is not supported/);
  const ok = refused({ 'NAT-T': 'force' }, { 'Accept-Routes': 'no', Metric: '7' });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.config.peers[0]!.acceptRoutes, false);
  assert.equal(ok.config.peers[0]!.routeMetric, 7);
  assert.equal(ok.config.cookieThreshold, 100);

  const off = config({});
  off.values['/Setup/VPN/Operating'] = 'no';
  off.values['/Setup/VPN/Negotiation-Control'] = 'Fast';
  const m = engineConfigFrom(off);
  assert.deepEqual(m.problems, []);
  assert.equal(m.config.peers.length, 0, 'the VPN module is off');
  assert.equal(m.config.cookieThreshold, 2000);
});
