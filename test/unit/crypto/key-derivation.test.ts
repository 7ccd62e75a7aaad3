import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CryptoError,
  EncrId,
  HmacPrf,
  PrfId,
  aeadKeyMaterialLength,
  childSaKeymat,
  createPrf,
  deriveChildSaKeys,
  deriveIkeSaKeys,
  deriveRekeySkeyseed,
  deriveSkeyseed,
  ikeSaKeymat,
  prfPlus,
} from '../../../src/engine/crypto/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// NIST CAVP component test "IKEv2 KDF" (SP 800-135), HMAC-SHA-1 case as carried in
// libreswan's CAVP self-test (SKEYSEED, DKM, DKM(Child SA), DKM(Child SA D-H), SKEYSEED(Rekey)).
const CAVP_SHA1 = {
  ni: hex('32b50d5f4a3763f3'),
  nr: hex('9206a04b26564cb1'),
  gir: hex('4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52'),
  girNew: hex('863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330'),
  spiI: hex('34c9e7c188868785'),
  spiR: hex('3ff77d760d2b2199'),
  dkmLength: 132,
  skeyseed: 'a9a7b222b59f8f48645f28a1db5b5f5d7479cba7',
  dkm:
    'a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e9' +
    '92204fc5a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119' +
    '8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4',
  dkmChild:
    '8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e' +
    '2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf' +
    '285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4',
  dkmChildDh:
    'bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a519' +
    '7dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a' +
    '05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c',
  skeyseedRekey: '63e81194946ebd05df7df5ebf5d8750056bf1f1d',
};

test('IKEv2 KDF: NIST CAVP vector (HMAC-SHA-1): SKEYSEED, DKM, child DKM with and without PFS, rekey SKEYSEED', () => {
  const v = CAVP_SHA1;
  const prf = createPrf(PrfId.PRF_HMAC_SHA1);
  const skeyseed = deriveSkeyseed(prf, v.ni, v.nr, v.gir);
  assert.equal(toHex(skeyseed), v.skeyseed);

  const dkm = ikeSaKeymat(prf, skeyseed, v.ni, v.nr, v.spiI, v.spiR, v.dkmLength);
  assert.equal(toHex(dkm), v.dkm);

  const skD = dkm.subarray(0, prf.length);
  assert.equal(toHex(childSaKeymat(prf, skD, v.ni, v.nr, v.dkmLength)), v.dkmChild);
  assert.equal(toHex(childSaKeymat(prf, skD, v.ni, v.nr, v.dkmLength, v.girNew)), v.dkmChildDh);
  assert.equal(toHex(deriveRekeySkeyseed(prf, skD, v.girNew, v.ni, v.nr)), v.skeyseedRekey);
});

test('deriveIkeSaKeys splits the DKM in RFC 7296 order, with empty SK_a* for AEAD', () => {
  const v = CAVP_SHA1;
  const prf = new HmacPrf('prf-hmac-sha1', 'sha1', 20);
  const skeyseed = deriveSkeyseed(prf, v.ni, v.nr, v.gir);
  // SHA-1: 3 * 20 + 2 * 36 = 132 octets, the CAVP DKM length, for ChaCha20-Poly1305 keys.
  const e = aeadKeyMaterialLength(EncrId.ENCR_CHACHA20_POLY1305);
  const keys = deriveIkeSaKeys(prf, skeyseed, v.ni, v.nr, v.spiI, v.spiR, { encrKeyLength: e });
  const dkm = v.dkm;
  const at = (from: number, len: number): string => dkm.slice(from * 2, (from + len) * 2);
  assert.equal(toHex(keys.skD), at(0, 20));
  assert.equal(keys.skAi.length, 0);
  assert.equal(keys.skAr.length, 0);
  assert.equal(toHex(keys.skEi), at(20, 36));
  assert.equal(toHex(keys.skEr), at(56, 36));
  assert.equal(toHex(keys.skPi), at(92, 20));
  assert.equal(toHex(keys.skPr), at(112, 20));

  const withInteg = deriveIkeSaKeys(prf, skeyseed, v.ni, v.nr, v.spiI, v.spiR, { encrKeyLength: 16, integKeyLength: 20 });
  const stream = toHex(ikeSaKeymat(prf, skeyseed, v.ni, v.nr, v.spiI, v.spiR, 3 * 20 + 2 * 20 + 2 * 16));
  const parts = [withInteg.skD, withInteg.skAi, withInteg.skAr, withInteg.skEi, withInteg.skEr, withInteg.skPi, withInteg.skPr];
  assert.deepEqual(parts.map((p) => p.length), [20, 20, 20, 16, 16, 20, 20]);
  assert.equal(parts.map(toHex).join(''), stream);

  assert.throws(() => deriveIkeSaKeys(prf, skeyseed, v.ni, v.nr, v.spiI.subarray(0, 4), v.spiR, { encrKeyLength: e }), CryptoError);
});

test('deriveChildSaKeys: initiator-to-responder keys first, PFS secret prepended to the nonces', () => {
  const prf = createPrf(PrfId.PRF_HMAC_SHA2_256);
  const skD = Uint8Array.from({ length: 32 }, (_, i) => i);
  const ni = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
  const nr = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
  const g = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);
  const e = aeadKeyMaterialLength(EncrId.ENCR_AES_GCM_16, 256);

  const plain = deriveChildSaKeys(prf, skD, ni, nr, { encrKeyLength: e });
  const stream = prfPlus(prf, skD, Uint8Array.from([...ni, ...nr]), 2 * e);
  assert.equal(toHex(plain.initiatorToResponder.encr), toHex(stream.subarray(0, e)));
  assert.equal(toHex(plain.responderToInitiator.encr), toHex(stream.subarray(e)));
  assert.equal(plain.initiatorToResponder.integ.length, 0);

  const pfs = deriveChildSaKeys(prf, skD, ni, nr, { encrKeyLength: e }, g);
  const pfsStream = prfPlus(prf, skD, Uint8Array.from([...g, ...ni, ...nr]), 2 * e);
  assert.equal(toHex(pfs.initiatorToResponder.encr) + toHex(pfs.responderToInitiator.encr), toHex(pfsStream));
  assert.notEqual(toHex(pfs.initiatorToResponder.encr), toHex(plain.initiatorToResponder.encr));

  const integ = deriveChildSaKeys(prf, skD, ni, nr, { encrKeyLength: 16, integKeyLength: 32 });
  const integStream = toHex(prfPlus(prf, skD, Uint8Array.from([...ni, ...nr]), 96));
  assert.equal(
    toHex(integ.initiatorToResponder.encr) +
      toHex(integ.initiatorToResponder.integ) +
      toHex(integ.responderToInitiator.encr) +
      toHex(integ.responderToInitiator.integ),
    integStream,
  );
});

test('SKEYSEED uses Ni | Nr as the PRF key and g^ir as data', () => {
  const prf = createPrf(PrfId.PRF_HMAC_SHA2_512);
  const ni = hex('0001020304050607');
  const nr = hex('08090a0b0c0d0e0f');
  const g = hex('ff'.repeat(32));
  assert.deepEqual(deriveSkeyseed(prf, ni, nr, g), prf.compute(hex('000102030405060708090a0b0c0d0e0f'), g));
  assert.notDeepEqual(deriveSkeyseed(prf, nr, ni, g), deriveSkeyseed(prf, ni, nr, g));
});
