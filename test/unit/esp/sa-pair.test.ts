import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncrId, PrfId, aeadKeyMaterialLength, createPrf, deriveChildSaKeys } from '../../../src/engine/crypto/index.js';
import { SaTable, createEspSaPair, espOpen, espPacketLength, espSeal } from '../../../src/engine/esp/index.js';

function ipv4(length: number, fill: number): Uint8Array {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 0x45;
  return p;
}

for (const [encrId, keyBits] of [
  [EncrId.ENCR_CHACHA20_POLY1305, undefined],
  [EncrId.ENCR_AES_GCM_16, 128],
] as const) {
  test(`createEspSaPair (${encrId}/${String(keyBits)}): initiator and responder talk both ways with swapped keys and SPIs`, () => {
    const prf = createPrf(PrfId.PRF_HMAC_SHA2_256);
    const keys = deriveChildSaKeys(prf, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3), {
      encrKeyLength: aeadKeyMaterialLength(encrId, keyBits),
    });
    const i = createEspSaPair({ initiator: true, keys, encrId, keyBits, localSpi: 0xaaaa0001, remoteSpi: 0xbbbb0001 });
    const r = createEspSaPair({ initiator: false, keys, encrId, keyBits, localSpi: 0xbbbb0001, remoteSpi: 0xaaaa0001 });
    assert.equal(i.outbound.spi, 0xbbbb0001);
    assert.equal(i.inbound.spi, 0xaaaa0001);
    const ti = new SaTable();
    ti.add(i.inbound);
    const tr = new SaTable();
    tr.add(r.inbound);

    const buf = new Uint8Array(espPacketLength(100));
    assert.equal(espSeal(i.outbound, ipv4(100, 1), buf), buf.length);
    assert.equal(espOpen(tr, buf).ok, true, 'initiator -> responder');
    assert.equal(espSeal(r.outbound, ipv4(100, 2), buf), buf.length);
    assert.equal(espOpen(ti, buf).ok, true, 'responder -> initiator');

    // A packet sealed with the wrong direction's keys does not open.
    const wrong = createEspSaPair({ initiator: true, keys, encrId, keyBits, localSpi: 0xbbbb0001, remoteSpi: 0xaaaa0001 });
    assert.equal(espSeal(wrong.outbound, ipv4(100, 3), buf), buf.length); // seq 1: already seen
    assert.equal(espOpen(ti, buf).reason, 'replay');
    assert.equal(espSeal(wrong.outbound, ipv4(100, 3), buf), buf.length); // seq 2
    const r2 = espOpen(ti, buf);
    assert.equal(r2.reason, 'auth-failed');
  });
}
