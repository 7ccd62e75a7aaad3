import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CryptoError,
  DhGroup,
  P256KeyPair,
  ScriptedRandom,
  X25519KeyPair,
  createDhKeyPair,
  dhPublicValueLength,
  isValidP256Point,
} from '../../../src/engine/crypto/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** X25519(k, u) through the key-pair class, with k injected as the "random" private key. */
function x25519(k: Uint8Array, u: Uint8Array): Uint8Array {
  return new X25519KeyPair(new ScriptedRandom(k)).computeShared(u);
}

test('X25519: RFC 7748 section 5.2 scalar multiplication vectors', () => {
  const vectors = [
    {
      k: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    },
    {
      k: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    },
  ];
  for (const v of vectors) assert.equal(toHex(x25519(hex(v.k), hex(v.u))), v.out);
});

test('X25519: RFC 7748 section 5.2 iterated vector (1 and 1,000 iterations)', () => {
  let k: Uint8Array = hex('0900000000000000000000000000000000000000000000000000000000000000');
  let u: Uint8Array = k.slice();
  for (let i = 1; i <= 1000; i++) {
    const next = x25519(k, u);
    u = k;
    k = next;
    if (i === 1) assert.equal(toHex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
  }
  assert.equal(toHex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
});

test('X25519: RFC 7748 section 6.1 Diffie-Hellman vector (group 31, RFC 8031)', () => {
  const a = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const b = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const alice = createDhKeyPair(DhGroup.CURVE25519, new ScriptedRandom(a));
  const bob = createDhKeyPair(DhGroup.CURVE25519, new ScriptedRandom(b));
  assert.equal(alice.group, 31);
  assert.equal(toHex(alice.publicValue), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bob.publicValue), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const k = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(alice.computeShared(bob.publicValue)), k);
  assert.equal(toHex(bob.computeShared(alice.publicValue)), k);
});

test('X25519: low-order peer values (all-zero secret) and wrong lengths are refused', () => {
  const pair = new X25519KeyPair();
  const lowOrder = [
    new Uint8Array(32), // u = 0
    hex('0100000000000000000000000000000000000000000000000000000000000000'), // u = 1
    hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), // u = p - 1
  ];
  for (const u of lowOrder) assert.throws(() => pair.computeShared(u), CryptoError);
  assert.throws(() => pair.computeShared(new Uint8Array(31)), CryptoError);
  assert.throws(() => pair.computeShared(new Uint8Array(33)), CryptoError);
});

// RFC 5903 section 8.1, 256-bit random ECP group.
const P256 = {
  i: 'C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433',
  gix: 'DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180',
  giy: '5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3',
  r: 'C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53',
  grx: 'D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63',
  gry: '56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB',
  girx: 'D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE',
};

test('P-256: RFC 5903 section 8.1 vector (KE data x || y, shared secret x)', () => {
  const initiator = createDhKeyPair(DhGroup.ECP_256, new ScriptedRandom(hex(P256.i)));
  const responder = createDhKeyPair(DhGroup.ECP_256, new ScriptedRandom(hex(P256.r)));
  assert.equal(initiator.group, 19);
  assert.equal(toHex(initiator.publicValue), (P256.gix + P256.giy).toLowerCase());
  assert.equal(toHex(responder.publicValue), (P256.grx + P256.gry).toLowerCase());
  assert.equal(toHex(initiator.computeShared(responder.publicValue)), P256.girx.toLowerCase());
  assert.equal(toHex(responder.computeShared(initiator.publicValue)), P256.girx.toLowerCase());
});

test('P-256: invalid peer points are refused with a CryptoError', () => {
  const pair = new P256KeyPair();
  const good = hex(P256.grx + P256.gry);
  assert.ok(isValidP256Point(good));
  const offCurve = good.slice();
  offCurve[63]! ^= 1;
  const p = hex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff');
  const xTooBig = good.slice();
  xTooBig.set(p, 0); // x = p (not reduced)
  const bad = [offCurve, xTooBig, new Uint8Array(64), good.subarray(0, 63), new Uint8Array(65), new Uint8Array(0)];
  for (const v of bad) {
    assert.equal(isValidP256Point(v), false);
    assert.throws(() => pair.computeShared(v), CryptoError);
  }
});

test('P-256: a private key outside [1, n-1] is redrawn', () => {
  const zero = new Uint8Array(32);
  const tooBig = new Uint8Array(32).fill(0xff);
  const pair = new P256KeyPair(new ScriptedRandom(zero, tooBig, hex(P256.i)));
  assert.equal(toHex(pair.publicValue), (P256.gix + P256.giy).toLowerCase());
});

test('property: random key pairs agree, for both groups; random peer bytes never escape as non-CryptoError', () => {
  for (const group of [DhGroup.CURVE25519, DhGroup.ECP_256]) {
    const a = createDhKeyPair(group);
    const b = createDhKeyPair(group);
    assert.equal(a.publicValue.length, dhPublicValueLength(group));
    assert.deepEqual(a.computeShared(b.publicValue), b.computeShared(a.publicValue));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (junk) => {
        try {
          const s = a.computeShared(junk);
          assert.equal(s.length, 32);
        } catch (err) {
          assert.ok(err instanceof CryptoError, String(err));
        }
      }),
      { numRuns: 200 },
    );
  }
  assert.throws(() => createDhKeyPair(14), CryptoError);
  assert.throws(() => dhPublicValueLength(2), CryptoError);
});
