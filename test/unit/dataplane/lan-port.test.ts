import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { openLanPort } from '../../../src/engine/dataplane/lan-port.js';
import { packetAt, type PacketBatch } from '../../../src/engine/dataplane/packet-batch.js';
import { TunDeviceError, TunPermissionError, TunUnavailableError, TunAddonMissingError } from '../../../src/engine/dataplane/errors.js';

function pkt(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

test('memory port delivers injected packets in batches with headroom, and collects sends', () => {
  const port = new MemoryLanPort({ name: 'lan0', mtu: 1400, batchSize: 4 });
  const seen: number[][] = [];
  let batches = 0;
  port.onReceive((b: PacketBatch) => {
    batches++;
    for (let i = 0; i < b.count; i++) {
      assert.ok(b.offsets[i]! >= b.headroom);
      seen.push([b.lengths[i]!, packetAt(b, i)[0]!]);
    }
  });
  assert.equal(port.inject(...Array.from({ length: 10 }, (_, i) => pkt(20 + i, i))), 10);
  assert.equal(batches, 3, '10 packets in batches of 4');
  assert.deepEqual(seen.map((s) => s[1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(seen.map((s) => s[0]), Array.from({ length: 10 }, (_, i) => 20 + i));
  assert.equal(port.counters.rxPackets, 10);
  assert.equal(port.counters.rxBatches, 3);
  // too long for the MTU: dropped and counted
  assert.equal(port.inject(pkt(1401, 1)), 0);
  assert.equal(port.counters.rxDropped, 1);
  // sending
  const src = pkt(60, 7);
  assert.equal(port.send(src), true);
  src[0] = 99; // the port kept a copy
  assert.equal(port.sent[0]![0], 7);
  assert.equal(port.send(pkt(1500, 1)), false);
  assert.equal(port.counters.txPackets, 1);
  assert.equal(port.counters.txDropped, 1);
  assert.equal(port.drainSent().length, 1);
  assert.equal(port.sent.length, 0);
});

test('memory port after close drops both ways', async () => {
  const sent: Uint8Array[] = [];
  const port = new MemoryLanPort({ name: 'lan0', onSend: (p) => sent.push(p) });
  port.onReceive(() => assert.fail('closed port delivered'));
  port.send(pkt(10, 1));
  assert.equal(sent.length, 1);
  await port.close();
  assert.equal(port.inject(pkt(10, 1)), 0);
  assert.equal(port.send(pkt(10, 1)), false);
  assert.equal(port.counters.rxDropped, 1);
  assert.equal(port.counters.txDropped, 1);
});

test('openLanPort: memory mode, and auto falls back with the reason when the TUN needs privileges', async () => {
  const m = await openLanPort({ name: 'lan0', mode: 'memory' });
  assert.equal(m.port.kind, 'memory');
  assert.equal(m.fallbackReason, undefined);
  for (const err of [
    new TunPermissionError('cannot create TUN device lan0: needs root or CAP_NET_ADMIN (Operation not permitted)'),
    new TunUnavailableError('cannot open /dev/net/tun: /dev/net/tun missing'),
    new TunAddonMissingError('TUN addon not built'),
  ]) {
    const r = await openLanPort({ name: 'lan0', mtu: 1300, openTun: async () => Promise.reject(err) });
    assert.equal(r.port.kind, 'memory');
    assert.equal(r.port.mtu, 1300);
    assert.match(r.fallbackReason!, /runs in memory/);
    assert.ok(r.fallbackReason!.includes(err.message));
    await assert.rejects(openLanPort({ name: 'lan0', mode: 'tun', openTun: async () => Promise.reject(err) }), err.constructor as typeof Error);
  }
  // configuration errors are not papered over
  await assert.rejects(
    openLanPort({ name: 'lan0', openTun: async () => Promise.reject(new TunDeviceError('name busy')) }),
    TunDeviceError,
  );
  // the options reach the TUN opener
  let got: unknown;
  const fake = new MemoryLanPort({ name: 'x' });
  const r = await openLanPort({
    name: 'mg0',
    mtu: 1380,
    addresses: ['10.1.0.1/24'],
    routes: ['10.9.0.0/16'],
    openTun: async (o) => {
      got = o;
      return fake;
    },
  });
  assert.equal(r.port, fake);
  assert.deepEqual(got, { name: 'mg0', mtu: 1380, addresses: ['10.1.0.1/24'], routes: ['10.9.0.0/16'] });
});

test('memory port sendAt sends a range of a larger buffer and rejects ranges outside it', () => {
  const port = new MemoryLanPort({ name: 'lan0', mtu: 100 });
  const buf = Uint8Array.from({ length: 64 }, (_, i) => i);
  assert.equal(port.sendAt(buf, 10, 5), true);
  assert.deepEqual([...port.sent[0]!], [10, 11, 12, 13, 14]);
  assert.equal(port.sendAt(buf, 60, 10), false);
  assert.equal(port.sendAt(buf, -1, 2), false);
  assert.equal(port.counters.txDropped, 2);
  assert.equal(port.counters.txPackets, 1);
});
