import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncrId, createAead } from '../../../src/engine/crypto/index.js';
import { EspError, InboundSa, OutboundSa, SaTable, ESP_DROP_REASONS } from '../../../src/engine/esp/index.js';

const aead = () => createAead(EncrId.ENCR_CHACHA20_POLY1305, undefined, new Uint8Array(36).fill(3));

test('SaTable: add, get, remove, duplicates refused', () => {
  const t = new SaTable();
  const a = new InboundSa({ spi: 0xc0000001, aead: aead() });
  const b = new InboundSa({ spi: 0xc0000002, aead: aead(), replayWindowSize: 1024 });
  t.add(a);
  t.add(b);
  assert.equal(t.size, 2);
  assert.equal(t.get(0xc0000001), a);
  assert.equal(t.has(0xc0000002), true);
  assert.equal(b.replay.size, 1024);
  assert.equal(a.replay.size, 2048);
  assert.throws(() => t.add(new InboundSa({ spi: 0xc0000001, aead: aead() })), EspError);
  assert.equal(t.remove(0xc0000001), a);
  assert.equal(t.remove(0xc0000001), undefined);
  assert.equal(t.get(0xc0000001), undefined);
  assert.deepEqual([...t.values()], [b]);
});

test('SAs: SPI and sequence validation', () => {
  for (const spi of [0, -1, 2 ** 32, 1.5]) {
    assert.throws(() => new InboundSa({ spi, aead: aead() }), EspError);
    assert.throws(() => new OutboundSa({ spi, aead: aead() }), EspError);
  }
  assert.throws(() => new OutboundSa({ spi: 1, aead: aead(), initialSequence: -1 }), EspError);
  assert.throws(() => new OutboundSa({ spi: 1, aead: aead(), initialSequence: 2 ** 32 }), EspError);
  assert.throws(() => new InboundSa({ spi: 1, aead: aead(), replayWindowSize: 16 }), EspError);
  const out = new OutboundSa({ spi: 0xffff_ffff, aead: aead() });
  assert.equal(out.seq, 0);
  assert.equal(out.direction, 'outbound');
});

test('drop counters start at zero for every reason', () => {
  const t = new SaTable();
  const sa = new InboundSa({ spi: 5, aead: aead() });
  for (const r of ESP_DROP_REASONS) {
    assert.equal(t.drops[r], 0);
    assert.equal(sa.drops[r], 0);
  }
  assert.equal(t.totalDrops, 0);
  t.drop('replay', 5, sa);
  assert.equal(t.drops.replay, 1);
  assert.equal(sa.drops.replay, 1);
  assert.equal(t.totalDrops, 1);
});
