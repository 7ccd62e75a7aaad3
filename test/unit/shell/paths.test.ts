import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSchema } from '../../../src/config/index.js';
import { resolvePath } from '../../../src/shell/paths.js';

const schema = getSchema();
const r = (cwd: string, p: string) => resolvePath(schema, cwd, p).path;

test('absolute, relative, .. and . ', () => {
  assert.equal(r('/', '/Setup/VPN'), '/Setup/VPN');
  assert.equal(r('/Setup', 'VPN/IKEv2'), '/Setup/VPN/IKEv2');
  assert.equal(r('/Setup/VPN/IKEv2', '..'), '/Setup/VPN');
  assert.equal(r('/Setup/VPN/IKEv2', '../../Config/./SSH'), '/Setup/Config/SSH');
  assert.equal(r('/', '..'), '/');
  assert.equal(r('/Setup', '/'), '/');
});

test('case-insensitive unambiguous abbreviations (cd /se/v/ik)', () => {
  assert.equal(r('/', '/se/v/ik'), '/Setup/VPN/IKEv2');
  assert.equal(r('/', '/SETUP/vpn/IKEV2/mesh/op'), '/Setup/VPN/IKEv2/Mesh/Operation-Mode');
  assert.equal(r('/', '/o/vpn/con'), '/Other/VPN/Connect');
  // An exact name wins over longer names it prefixes.
  assert.equal(r('/Status/VPN', 'Mesh'), '/Status/VPN/Mesh');
});

test('an ambiguous element fails with the candidates', () => {
  assert.throws(() => r('/', '/s'), (err: Error & { candidates?: string[] }) => {
    assert.equal(err.name, 'AmbiguousError');
    assert.deepEqual(err.candidates, ['Setup', 'Status']);
    assert.match(err.message, /Setup, Status/);
    return true;
  });
  assert.throws(() => r('/Setup', 'I'), { name: 'AmbiguousError', message: /Interfaces, IP-Router/ });
  assert.equal(r('/Setup/VPN/IKEv2/Mesh', 'Max'), '/Setup/VPN/IKEv2/Mesh/Max-Rate-Limit-Sec');
});

test('unknown elements and walking below a leaf are not found', () => {
  assert.throws(() => r('/', '/Setup/Nope'), { name: 'NotFoundError', message: /no 'Nope' under \/Setup/ });
  assert.throws(() => r('/', '/Setup/Name/x'), { name: 'NotFoundError' });
});
