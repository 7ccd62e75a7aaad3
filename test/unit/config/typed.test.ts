import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cloneConfig,
  defaultConfig,
  getSchema,
  interfaceSettings,
  licenceSettings,
  meshSettings,
  parseHostPort,
  peerSetting,
  peerSettings,
  setParam,
  setRow,
  siteDirectorySettings,
  staticRoutes,
} from '../../../src/config/index.js';

const schema = getSchema();
const IKE = '/Setup/VPN/IKEv2';

test('defaults read as typed settings', () => {
  const c = defaultConfig(schema);
  assert.deepEqual(meshSettings(c), {
    operationMode: 'Disabled',
    vpnPeerTemplate: undefined,
    adminDistance: 0,
    initialRateLimitSec: 10,
    maxRateLimitSec: 600,
    requestValiditySec: 300,
    groupId: 0,
    acceptedGroupIds: [],
    detectOnVpnPeers: [],
    forwardingFilter: [],
    trigger: 'egress',
    switchover: 'move',
  });
  assert.deepEqual(licenceSettings(c), { model: 'Branch-5', vpnTunnels: 5, meshTunnels: 10, centralSite: false });
  assert.deepEqual(peerSettings(c), []);
  assert.equal(interfaceSettings(c).wan[0]!.natTPort, 4500);
  assert.equal(siteDirectorySettings(c).backend, 'sqlite');
});

test('peers come with their profiles joined; mesh and routes are typed', () => {
  const c = cloneConfig(defaultConfig(schema));
  setRow(schema, c, `${IKE}/Auth/Parameter`, ['SPOKES'], new Map([['Local-Password', 'k1'], ['Remote-ID', 'b1.example.com']]), 'create');
  setRow(schema, c, `${IKE}/Routing`, ['NETS'], new Map([['Local-Networks', '10.1.0.0/16'], ['Remote-Networks', '10.0.0.0/8,fd00::/8']]), 'create');
  setRow(schema, c, `${IKE}/Peers`, ['HQ'], new Map([['Remote-Gateway', '[2001:db8::1]:4500'], ['Type', 'hub'], ['Auth', 'spokes'], ['Routing', 'NETS'], ['SH-Time', '120']]), 'create');
  setParam(schema, c, `${IKE}/Mesh/Operation-Mode`, 'Spoke');
  setParam(schema, c, `${IKE}/Mesh/VPN-Peer-Template`, 'hq');
  setParam(schema, c, `${IKE}/Mesh/Accepted-Group-IDs`, '3,1');
  setParam(schema, c, `${IKE}/Mesh/Detect-On-VPN-Peers`, 'HQ');
  setRow(schema, c, `${IKE}/Mesh/Forwarding-Filter`, ['10.9.0.0/16', '0'], new Map([['Action', 'deny']]), 'create');
  setRow(schema, c, '/Setup/IP-Router/Routing-Table', ['0.0.0.0/0', '0'], new Map([['Peer-or-IP', 'HQ']]), 'create');
  setParam(schema, c, '/Setup/Licence/Model', 'Central-250');
  const hq = peerSetting(c, 'hq')!;
  assert.deepEqual(hq.remoteGateway, { host: '2001:db8::1', port: 4500 });
  assert.equal(hq.type, 'hub');
  assert.equal(hq.shortHoldSec, 120);
  assert.equal(hq.auth.name, 'SPOKES');
  assert.equal(hq.auth.localPassword, 'k1');
  assert.deepEqual(hq.encryption.dhGroups, ['DH31', 'DH19', 'DH14']);
  assert.equal(hq.lifetimes.childSaSec, 28800);
  assert.equal(hq.general.dpdInactTimerSec, 30);
  assert.deepEqual(hq.routing?.remoteNetworks, ['10.0.0.0/8', 'fd00::/8']);
  const m = meshSettings(c);
  assert.equal(m.operationMode, 'Spoke');
  assert.equal(m.vpnPeerTemplate, 'HQ');
  assert.deepEqual(m.acceptedGroupIds, [3, 1]);
  assert.deepEqual(m.detectOnVpnPeers, ['HQ']);
  assert.deepEqual(m.forwardingFilter, [{ prefix: '10.9.0.0/16', rtgTag: 0, action: 'deny', comment: '' }]);
  assert.deepEqual(staticRoutes(c), [{ prefix: '0.0.0.0/0', rtgTag: 0, via: 'HQ', distance: 1, active: true }]);
  assert.deepEqual(licenceSettings(c), { model: 'Central-250', vpnTunnels: 250, meshTunnels: 200, centralSite: true });
});

test('parseHostPort', () => {
  assert.equal(parseHostPort(''), undefined);
  assert.equal(parseHostPort('*'), '*');
  assert.deepEqual(parseHostPort('hq.example.com'), { host: 'hq.example.com' });
  assert.deepEqual(parseHostPort('192.0.2.1:500'), { host: '192.0.2.1', port: 500 });
  assert.deepEqual(parseHostPort('2001:db8::1'), { host: '2001:db8::1' });
});
