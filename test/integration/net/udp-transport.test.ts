import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpTransport } from '../../../src/engine/net/udp-transport.js';
import type { Endpoint } from '../../../src/engine/net/types.js';

function nextDatagram(t: UdpTransport, timeoutMs = 2000): Promise<{ payload: Uint8Array; from: Endpoint }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no datagram within the timeout')), timeoutMs);
    t.onReceive((payload, from) => {
      clearTimeout(timer);
      resolve({ payload: new Uint8Array(payload), from });
    });
  });
}

for (const address of ['127.0.0.1', '::1']) {
  test(`real UDP on loopback ${address}: datagrams both ways with the sender's endpoint`, async () => {
    const a = await UdpTransport.open({ address, port: 0 });
    const b = await UdpTransport.open({ address, port: 0 });
    try {
      assert.notEqual(a.local.port, 0);
      const atB = nextDatagram(b);
      assert.equal(a.send(Uint8Array.of(0, 0, 0, 0, 1, 2), b.local), true);
      const got = await atB;
      assert.deepEqual([...got.payload], [0, 0, 0, 0, 1, 2]);
      assert.deepEqual(got.from, a.local);
      const atA = nextDatagram(a);
      b.send(Uint8Array.of(0xff), got.from);
      assert.deepEqual([...(await atA).payload], [0xff]);
      assert.equal(a.counters.txDatagrams, 1);
      assert.equal(b.counters.rxDatagrams, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('a dual-stack socket reports IPv4 peers as plain IPv4 and can answer them', async () => {
  const a = await UdpTransport.open({ address: '::', port: 0 });
  const b = await UdpTransport.open({ address: '127.0.0.1', port: 0 });
  try {
    const atA = nextDatagram(a);
    b.send(Uint8Array.of(9), { address: '127.0.0.1', port: a.local.port });
    const got = await atA;
    assert.deepEqual(got.from, b.local);
    const atB = nextDatagram(b);
    assert.equal(a.send(Uint8Array.of(8), got.from), true);
    assert.deepEqual([...(await atB).payload], [8]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('binding a port in use fails with a typed error; sending after close is refused', async () => {
  const a = await UdpTransport.open({ address: '127.0.0.1', port: 0 });
  await assert.rejects(UdpTransport.open({ address: '127.0.0.1', port: a.local.port }), { name: 'TransportOpenError' });
  await assert.rejects(UdpTransport.open({ address: 'not-an-ip' }), { name: 'TransportOpenError' });
  await a.close();
  assert.equal(a.send(Uint8Array.of(1), a.local), false);
});
