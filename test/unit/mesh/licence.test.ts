import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LicenceCounter } from '../../../src/engine/mesh/licence.js';
import { LICENCE_PROFILES, licenceProfile } from '../../../menus/licence.js';

const profile = (model: string) => {
  const p = licenceProfile(model)!;
  return { name: p.model, vpn: p.vpnTunnels, mesh: p.meshTunnels };
};
const findLicenceProfile = (model: string) => profile(model);

test('the model table keeps the LANCOM caps: mesh twice VPN for branches, at most 200 mesh', () => {
  const caps = LICENCE_PROFILES.filter((p) => !p.centralSite).map((p) => `${p.vpnTunnels}/${p.meshTunnels}`);
  assert.deepEqual(caps, ['3/6', '5/10', '25/50', '50/100', '100/200']);
  for (const p of LICENCE_PROFILES) assert.ok(p.meshTunnels <= 200, p.model);
  // The counter itself never allows more than 200 mesh tunnels.
  assert.equal(new LicenceCounter({ name: 'odd', vpn: 10, mesh: 500 }).cap('mesh'), 200);
});

test('mesh and VPN slots are counted separately; denials are counted with the holder', () => {
  let t = 1000;
  const lc = new LicenceCounter(findLicenceProfile('Branch-3')!, () => t);
  for (let i = 0; i < 6; i++) assert.equal(lc.acquire('mesh', `pair${i}`), true);
  assert.equal(lc.acquire('mesh', 'pair6'), false);
  t = 2000;
  assert.equal(lc.acquire('mesh', 'pair7'), false);
  assert.equal(lc.acquire('vpn', 'hub'), true, 'VPN slots are not used up by mesh');
  const u = lc.usage('mesh');
  assert.deepEqual(u, { kind: 'mesh', used: 6, cap: 6, peak: 6, denials: 2, lastDenial: { at: 2000, holder: 'pair7' } });
  assert.equal(lc.usage('vpn').used, 1);
});

test('re-acquiring a held slot is harmless; release frees exactly one slot; peak stays', () => {
  const lc = new LicenceCounter(findLicenceProfile('Branch-3')!);
  assert.equal(lc.acquire('vpn', 'a'), true);
  assert.equal(lc.acquire('vpn', 'a'), true);
  assert.equal(lc.usage('vpn').used, 1);
  lc.acquire('vpn', 'b');
  lc.acquire('vpn', 'c');
  assert.equal(lc.acquire('vpn', 'd'), false);
  assert.equal(lc.release('vpn', 'b'), true);
  assert.equal(lc.release('vpn', 'b'), false);
  assert.equal(lc.acquire('vpn', 'd'), true);
  assert.equal(lc.usage('vpn').peak, 3);
  assert.equal(lc.available('vpn'), 0);
});

test('lowering the model keeps running tunnels but denies new ones until usage falls', () => {
  const lc = new LicenceCounter(findLicenceProfile('Branch-5')!);
  for (let i = 0; i < 8; i++) lc.acquire('mesh', `p${i}`);
  lc.setProfile(findLicenceProfile('Branch-3')!);
  assert.equal(lc.usage('mesh').used, 8);
  assert.equal(lc.available('mesh'), 0);
  assert.equal(lc.acquire('mesh', 'new'), false);
  lc.release('mesh', 'p0');
  lc.release('mesh', 'p1');
  assert.equal(lc.acquire('mesh', 'new'), false, 'still at the cap of 6');
  lc.release('mesh', 'p2');
  assert.equal(lc.acquire('mesh', 'new'), true);
});
