import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AesGcm16Aead,
  ChaCha20Poly1305Aead,
  CryptoError,
  EncrId,
  aeadKeyMaterialLength,
  createAead,
} from '../../../src/engine/crypto/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

// RFC 8439 section 2.8.2 (identical to RFC 7539 section 2.8.2). The "32-bit fixed-common
// part" 07000000 is exactly the ESP salt of RFC 7634, and the IV 4041..47 its explicit IV.
const RFC8439_2_8_2 = {
  plaintext: ascii(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  aad: hex('50515253c0c1c2c3c4c5c6c7'),
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  iv: hex('4041424344454647'),
  fixed: hex('07000000'),
  ciphertext: hex(`
    d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2
    a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
    3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b
    1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
    92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58
    fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
    3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b
    61 16`),
  tag: hex('1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91'),
};

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

test('ChaCha20-Poly1305: RFC 8439 2.8.2 AEAD vector (salt 07000000, IV 4041..47)', () => {
  const v = RFC8439_2_8_2;
  assert.equal(v.plaintext.length, 114);
  const aead = new ChaCha20Poly1305Aead(concat(v.key, v.fixed));
  const out = new Uint8Array(v.plaintext.length + 16);
  assert.equal(aead.seal(v.iv, v.aad, v.plaintext, out), 130);
  assert.equal(toHex(out.subarray(0, 114)), toHex(v.ciphertext));
  assert.equal(toHex(out.subarray(114)), toHex(v.tag));

  const back = new Uint8Array(114);
  assert.equal(aead.open(v.iv, v.aad, out, back), 114);
  assert.deepEqual(back, v.plaintext);
});

test('ChaCha20-Poly1305: in-place seal and open at an offset', () => {
  const v = RFC8439_2_8_2;
  const aead = createAead(EncrId.ENCR_CHACHA20_POLY1305, undefined, concat(v.key, v.fixed));
  const buf = new Uint8Array(20 + 130 + 7);
  buf.set(v.plaintext, 20);
  assert.equal(aead.seal(v.iv, v.aad, buf.subarray(20, 134), buf, 20), 130);
  assert.equal(toHex(buf.subarray(20, 134)), toHex(v.ciphertext));
  assert.equal(toHex(buf.subarray(134, 150)), toHex(v.tag));
  assert.equal(aead.open(v.iv, v.aad, buf.subarray(20, 150), buf, 20), 114);
  assert.deepEqual(buf.subarray(20, 134), v.plaintext);
});

test('ChaCha20-Poly1305: a flipped bit in ciphertext, tag, AAD or IV fails and releases no plaintext', () => {
  const v = RFC8439_2_8_2;
  const aead = new ChaCha20Poly1305Aead(concat(v.key, v.fixed));
  const sealed = concat(v.ciphertext, v.tag);
  for (const where of ['ct', 'tag', 'aad', 'iv'] as const) {
    const ct = sealed.slice();
    const aad = v.aad.slice();
    const iv = v.iv.slice();
    if (where === 'ct') ct[5]! ^= 1;
    if (where === 'tag') ct[120]! ^= 0x80;
    if (where === 'aad') aad[0]! ^= 1;
    if (where === 'iv') iv[7]! ^= 1;
    const out = new Uint8Array(114).fill(0xee);
    assert.equal(aead.open(iv, aad, ct, out), -1, where);
    // libsodium verifies before it decrypts and zeroes `out` on failure.
    assert.ok(out.every((b) => b === 0xee || b === 0), `${where}: plaintext released`);
  }
  assert.equal(aead.open(v.iv, v.aad, new Uint8Array(15), new Uint8Array(0)), -1, 'shorter than the ICV');
});

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 4 (AES-128) and
// 16 (AES-256): the 96-bit IV cafebabe facedbaddecaf888 splits into the RFC 4106 salt and
// explicit IV.
const GCM_PLAINTEXT = hex(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
);
const GCM_AAD = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const GCM_SALT = hex('cafebabe');
const GCM_IV = hex('facedbaddecaf888');
const GCM_CASES = [
  {
    name: 'test case 4 (AES-128)',
    bits: 128,
    key: hex('feffe9928665731c6d6a8f9467308308'),
    ciphertext: hex(
      '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    ),
    tag: hex('5bc94fbc3221a5db94fae95ae7121a47'),
  },
  {
    name: 'test case 10 (AES-192)',
    bits: 192,
    key: hex('feffe9928665731c6d6a8f9467308308feffe9928665731c'),
    ciphertext: hex(
      '3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710',
    ),
    tag: hex('2519498e80f1478f37ba55bd6d27618c'),
  },
  {
    name: 'test case 16 (AES-256)',
    bits: 256,
    key: hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
    ciphertext: hex(
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    ),
    tag: hex('76fc6ece0f4e1768cddf8853bb2d551b'),
  },
];

for (const c of GCM_CASES) {
  test(`AES-GCM-16: McGrew-Viega GCM ${c.name}`, () => {
    const aead = createAead(EncrId.ENCR_AES_GCM_16, c.bits, concat(c.key, GCM_SALT));
    assert.equal(aead.name, `aes${c.bits}-gcm16`);
    assert.equal(aead.keyMaterialLength, c.bits / 8 + 4);
    const out = new Uint8Array(GCM_PLAINTEXT.length + 16);
    assert.equal(aead.seal(GCM_IV, GCM_AAD, GCM_PLAINTEXT, out), 76);
    assert.equal(toHex(out.subarray(0, 60)), toHex(c.ciphertext));
    assert.equal(toHex(out.subarray(60)), toHex(c.tag));
    const back = new Uint8Array(60);
    assert.equal(aead.open(GCM_IV, GCM_AAD, out, back), 60);
    assert.deepEqual(back, GCM_PLAINTEXT);
    out[3]! ^= 0x10;
    const untouched = new Uint8Array(60).fill(7);
    assert.equal(aead.open(GCM_IV, GCM_AAD, out, untouched), -1);
    assert.ok(untouched.every((b) => b === 7));
  });
}

test('AES-GCM-16: in-place seal/open inside one buffer', () => {
  const c = GCM_CASES[2]!;
  const aead = new AesGcm16Aead(256, concat(c.key, GCM_SALT));
  const buf = new Uint8Array(8 + 76);
  buf.set(GCM_PLAINTEXT, 8);
  aead.seal(GCM_IV, GCM_AAD, buf.subarray(8, 68), buf, 8);
  assert.equal(toHex(buf.subarray(8, 68)), toHex(c.ciphertext));
  assert.equal(aead.open(GCM_IV, GCM_AAD, buf.subarray(8), buf, 8), 60);
  assert.deepEqual(buf.subarray(8, 68), GCM_PLAINTEXT);
});

test('createAead / aeadKeyMaterialLength reject unknown transforms and bad key lengths', () => {
  assert.equal(aeadKeyMaterialLength(EncrId.ENCR_CHACHA20_POLY1305), 36);
  assert.equal(aeadKeyMaterialLength(EncrId.ENCR_AES_GCM_16, 128), 20);
  assert.equal(aeadKeyMaterialLength(EncrId.ENCR_AES_GCM_16, 256), 36);
  assert.throws(() => aeadKeyMaterialLength(12 /* ENCR_AES_CBC */, 128), CryptoError);
  assert.throws(() => aeadKeyMaterialLength(EncrId.ENCR_AES_GCM_16), CryptoError);
  assert.throws(() => aeadKeyMaterialLength(EncrId.ENCR_AES_GCM_16, 64), CryptoError);
  assert.throws(() => aeadKeyMaterialLength(EncrId.ENCR_CHACHA20_POLY1305, 128), CryptoError);
  assert.throws(() => createAead(EncrId.ENCR_CHACHA20_POLY1305, undefined, new Uint8Array(32)), CryptoError);
  assert.throws(() => createAead(EncrId.ENCR_AES_GCM_16, 128, new Uint8Array(16)), CryptoError);
  const aead = createAead(EncrId.ENCR_CHACHA20_POLY1305, undefined, new Uint8Array(36));
  assert.throws(() => aead.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(4), new Uint8Array(20)), CryptoError);
  assert.throws(() => aead.seal(new Uint8Array(8), new Uint8Array(0), new Uint8Array(4), new Uint8Array(19)), CryptoError);
  try {
    createAead(99, undefined, new Uint8Array(36));
    assert.fail('no throw');
  } catch (err) {
    assert.equal((err as Error).name, 'CryptoError');
  }
});

test('property: seal then open returns the plaintext for both ciphers; random ciphertexts never open', () => {
  const ciphers = [
    createAead(EncrId.ENCR_CHACHA20_POLY1305, undefined, Uint8Array.from({ length: 36 }, (_, i) => i * 7)),
    createAead(EncrId.ENCR_AES_GCM_16, 128, Uint8Array.from({ length: 20 }, (_, i) => i * 3)),
    createAead(EncrId.ENCR_AES_GCM_16, 256, Uint8Array.from({ length: 36 }, (_, i) => i * 5)),
  ];
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.uint8Array({ maxLength: 24 }),
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      (pt, iv, aad, junk) => {
        for (const aead of ciphers) {
          const sealed = new Uint8Array(pt.length + 16);
          aead.seal(iv, aad, pt, sealed);
          const back = new Uint8Array(pt.length);
          assert.equal(aead.open(iv, aad, sealed, back), pt.length);
          assert.deepEqual(back, pt);
          if (junk.length >= 16) assert.equal(aead.open(iv, aad, junk, new Uint8Array(junk.length - 16)), -1);
        }
      },
    ),
    { numRuns: 150 },
  );
});
