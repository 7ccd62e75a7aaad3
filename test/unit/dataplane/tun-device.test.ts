import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceAddressing, TunDevice, loadTunAddon, mapTunError } from '../../../src/engine/dataplane/tun-device.js';
import {
  InterfaceConfigError,
  TunDeviceError,
  TunPermissionError,
  TunUnavailableError,
} from '../../../src/engine/dataplane/errors.js';

function errnoError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('addon errors map to typed errors and keep the message that says what is missing', () => {
  const perm = mapTunError(errnoError('cannot create TUN device x: needs root or CAP_NET_ADMIN (Operation not permitted)', 'EPERM'));
  assert.ok(perm instanceof TunPermissionError);
  assert.match(perm.message, /needs root or CAP_NET_ADMIN/);
  assert.equal(perm.name, 'TunPermissionError');
  assert.ok(mapTunError(errnoError('x', 'EACCES')) instanceof TunPermissionError);
  const missing = mapTunError(errnoError('cannot open /dev/net/tun: /dev/net/tun missing', 'ENOENT'));
  assert.ok(missing instanceof TunUnavailableError);
  assert.match(missing.message, /\/dev\/net\/tun missing/);
  assert.ok(mapTunError(errnoError('x', 'ENODEV')) instanceof TunUnavailableError);
  assert.ok(mapTunError(errnoError('busy', 'EBUSY')) instanceof TunDeviceError);
  assert.ok(mapTunError('weird') instanceof TunDeviceError);
});

test('the built addon loads and exposes the Tun class', () => {
  const addon = loadTunAddon();
  assert.equal(typeof addon.Tun, 'function');
  assert.equal(addon.EAGAIN, 11);
});

test('the addon validates its arguments before touching the system', () => {
  const addon = loadTunAddon();
  assert.throws(() => new addon.Tun('a-name-that-is-far-too-long'), /longer than 15 bytes/);
  assert.throws(() => new (addon.Tun as unknown as new (x: unknown) => unknown)(42), /name must be a string/);
});

test('TunDevice.open rejects bad names, MTUs and batch sizes with TunDeviceError', () => {
  assert.throws(() => TunDevice.open({ name: 'x'.repeat(16) }), TunDeviceError);
  assert.throws(() => TunDevice.open({ name: 'bad name' }), TunDeviceError);
  assert.throws(() => TunDevice.open({ name: 'mg0', mtu: 20 }), TunDeviceError);
  assert.throws(() => TunDevice.open({ name: 'mg0', mtu: 70000 }), TunDeviceError);
  assert.throws(() => TunDevice.open({ name: 'mg0', batchSize: 0 }), TunDeviceError);
  assert.throws(() => TunDevice.open({ name: 'mg0', headroom: 100, slotSize: 120 }), TunDeviceError);
});

test('InterfaceAddressing runs ip addr/route and removes exactly what it added, newest first', async () => {
  const calls: string[] = [];
  let fail: string | undefined;
  const runner = async (file: string, args: readonly string[]) => {
    const line = `${file} ${args.join(' ')}`;
    calls.push(line);
    if (fail && line.includes(fail)) throw new Error('RTNETLINK answers: File exists');
    return '';
  };
  const a = new InterfaceAddressing('mg0', runner);
  await a.addAddress('10.77.0.1/24');
  await a.addAddress('fd77::1/64');
  await a.addRoute('10.78.0.0/16');
  await a.addRoute('10.79.0.0/16', '10.77.0.2');
  assert.equal(a.list().length, 4);
  fail = '10.80.0.0/16';
  await assert.rejects(a.addRoute('10.80.0.0/16'), (e: Error) => e instanceof InterfaceConfigError && /File exists/.test(e.message));
  assert.equal(a.list().length, 4, 'a failed add is not remembered');
  await assert.rejects(a.addAddress('10.0.0.1/24 dev lo'), InterfaceConfigError);
  await assert.rejects(a.addRoute('-net'), InterfaceConfigError);
  calls.length = 0;
  fail = 'addr del fd77';
  const failures = await a.removeAll();
  assert.deepEqual(calls, [
    'ip route del 10.79.0.0/16 dev mg0',
    'ip route del 10.78.0.0/16 dev mg0',
    'ip addr del fd77::1/64 dev mg0',
    'ip addr del 10.77.0.1/24 dev mg0',
  ]);
  assert.equal(failures.length, 1, 'failures are reported, the rest still removed');
  assert.equal(a.list().length, 0);
});
