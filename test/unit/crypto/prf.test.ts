import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { CryptoError, PrfId, createPrf, prfPlus } from '../../../src/engine/crypto/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const fill = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

// RFC 4231 section 4, test cases 1-7. Case 5 is truncated to 128 bits in the RFC.
const RFC4231 = [
  {
    name: '4.2 (test case 1)',
    key: fill(0x0b, 20),
    data: ascii('Hi There'),
    sha256: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    sha384: 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    sha512:
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
  },
  {
    name: '4.3 (test case 2)',
    key: ascii('Jefe'),
    data: ascii('what do ya want for nothing?'),
    sha256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    sha384: 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    sha512:
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  },
  {
    name: '4.4 (test case 3)',
    key: fill(0xaa, 20),
    data: fill(0xdd, 50),
    sha256: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    sha384: '88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27',
    sha512:
      'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb',
  },
  {
    name: '4.5 (test case 4)',
    key: Uint8Array.from({ length: 25 }, (_, i) => i + 1),
    data: fill(0xcd, 50),
    sha256: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    sha384: '3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb',
    sha512:
      'b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd',
  },
  {
    name: '4.6 (test case 5, truncated to 128 bits)',
    key: fill(0x0c, 20),
    data: ascii('Test With Truncation'),
    truncate: 16,
    sha256: 'a3b6167473100ee06e0c796c2955552b',
    sha384: '3abf34c3503b2a23a46efc619baef897',
    sha512: '415fad6271580a531d4179bc891d87a6',
  },
  {
    name: '4.7 (test case 6)',
    key: fill(0xaa, 131),
    data: ascii('Test Using Larger Than Block-Size Key - Hash Key First'),
    sha256: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    sha384: '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952',
    sha512:
      '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
  },
  {
    name: '4.8 (test case 7)',
    key: fill(0xaa, 131),
    data: ascii(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    sha256: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    sha384: '6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e',
    sha512:
      'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58',
  },
];

const PRFS = [
  { id: PrfId.PRF_HMAC_SHA2_256, field: 'sha256', length: 32 },
  { id: PrfId.PRF_HMAC_SHA2_384, field: 'sha384', length: 48 },
  { id: PrfId.PRF_HMAC_SHA2_512, field: 'sha512', length: 64 },
] as const;

for (const p of PRFS) {
  test(`PRF ${p.id} (HMAC-${p.field.toUpperCase()}): RFC 4231 section 4 vectors`, () => {
    const prf = createPrf(p.id);
    assert.equal(prf.length, p.length);
    for (const c of RFC4231) {
      const mac = prf.compute(c.key, c.data);
      assert.equal(mac.length, p.length);
      assert.ok(mac instanceof Uint8Array);
      const got = 'truncate' in c ? mac.subarray(0, c.truncate) : mac;
      assert.equal(toHex(got), c[p.field], c.name);
    }
  });
}

test('createPrf rejects unsupported ids', () => {
  assert.throws(() => createPrf(4 /* PRF_AES128_XCBC */), CryptoError);
  assert.throws(() => createPrf(0), CryptoError);
});

test('prf+ follows RFC 7296 section 2.13 block by block', () => {
  const prf = createPrf(PrfId.PRF_HMAC_SHA2_256);
  const key = hex('000102030405060708090a0b0c0d0e0f');
  const seed = ascii('seed material');
  const h = (data: Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();
  const t1 = h(Buffer.concat([seed, Buffer.from([1])]));
  const t2 = h(Buffer.concat([t1, seed, Buffer.from([2])]));
  const t3 = h(Buffer.concat([t2, seed, Buffer.from([3])]));
  const expected = Buffer.concat([t1, t2, t3]);
  assert.equal(toHex(prfPlus(prf, key, seed, 96)), expected.toString('hex'));
  assert.equal(toHex(prfPlus(prf, key, seed, 70)), expected.subarray(0, 70).toString('hex'));
  assert.equal(prfPlus(prf, key, seed, 0).length, 0);
});

test('prf+ allows 255 blocks and refuses 256', () => {
  const prf = createPrf(PrfId.PRF_HMAC_SHA2_256);
  assert.equal(prfPlus(prf, fill(1, 32), fill(2, 8), 255 * 32).length, 255 * 32);
  assert.throws(() => prfPlus(prf, fill(1, 32), fill(2, 8), 255 * 32 + 1), CryptoError);
  assert.throws(() => prfPlus(prf, fill(1, 32), fill(2, 8), -1), CryptoError);
});

test('property: prf+ of a shorter length is a prefix of a longer one', () => {
  const prf = createPrf(PrfId.PRF_HMAC_SHA2_384);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 80 }), fc.nat(400), fc.nat(400), (k, s, a, b) => {
      const [short, long] = a < b ? [a, b] : [b, a];
      const x = prfPlus(prf, k, s, long);
      assert.equal(x.length, long);
      assert.deepEqual(prfPlus(prf, k, s, short), x.subarray(0, short));
    }),
    { numRuns: 60 },
  );
});
