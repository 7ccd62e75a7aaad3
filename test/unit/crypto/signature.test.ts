/**
 * RFC 7427 signatures: AlgorithmIdentifiers as in its appendix A, sign/verify for Ed25519
 * (RFC 8420), ECDSA and RSA (PKCS#1 v1.5, PSS), the legacy methods, and malformed AUTH data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import {
  algorithmIdentifier,
  decodeSignatureAuth,
  defaultScheme,
  encodeSignatureAuth,
  legacyAlgorithm,
  parseAlgorithmIdentifier,
  sign,
  verify,
  type SignatureScheme,
} from '../../../src/engine/crypto/signature.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('AlgorithmIdentifiers are the DER of RFC 7427 appendix A and RFC 8420', () => {
  assert.equal(hex(algorithmIdentifier('ed25519')), '300506032b6570');
  assert.equal(hex(algorithmIdentifier('ecdsa-sha256')), '300a06082a8648ce3d040302');
  assert.equal(hex(algorithmIdentifier('ecdsa-sha384')), '300a06082a8648ce3d040303');
  assert.equal(hex(algorithmIdentifier('ecdsa-sha512')), '300a06082a8648ce3d040304');
  assert.equal(hex(algorithmIdentifier('rsa-pkcs1-sha256')), '300d06092a864886f70d01010b0500');
  assert.equal(hex(algorithmIdentifier('rsa-pkcs1-sha384')), '300d06092a864886f70d01010c0500');
  assert.equal(hex(algorithmIdentifier('rsa-pkcs1-sha512')), '300d06092a864886f70d01010d0500');
  // RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (appendix A.4.3).
  assert.equal(
    hex(algorithmIdentifier('rsa-pss-sha256')),
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
  );
  for (const s of ['ed25519', 'ecdsa-sha256', 'rsa-pkcs1-sha512', 'rsa-pss-sha384'] as const) assert.equal(parseAlgorithmIdentifier(algorithmIdentifier(s))?.scheme, s);
  assert.equal(parseAlgorithmIdentifier(algorithmIdentifier('rsa-pss-sha512'))?.saltLength, 64);
});

const keys = {
  ed25519: generateKeyPairSync('ed25519'),
  p256: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const cases: [SignatureScheme, keyof typeof keys][] = [
  ['ed25519', 'ed25519'],
  ['ecdsa-sha256', 'p256'],
  ['ecdsa-sha384', 'p384'],
  ['ecdsa-sha512', 'p256'],
  ['rsa-pkcs1-sha256', 'rsa'],
  ['rsa-pkcs1-sha384', 'rsa'],
  ['rsa-pkcs1-sha512', 'rsa'],
  ['rsa-pss-sha256', 'rsa'],
  ['rsa-pss-sha384', 'rsa'],
  ['rsa-pss-sha512', 'rsa'],
];

test('sign and verify every scheme through the AUTH encoding; a changed octet, another key or key type fails', () => {
  const data = new TextEncoder().encode('RealMessage | Nonce | prf(SK_p, RestOfIDPayload)');
  for (const [scheme, k] of cases) {
    const { privateKey, publicKey } = keys[k];
    const auth = encodeSignatureAuth(scheme, sign(scheme, privateKey, data));
    const d = decodeSignatureAuth(auth);
    assert.ok(d.ok, scheme);
    assert.equal(d.alg.scheme, scheme);
    assert.ok(verify(d.alg, publicKey, data, d.signature), `${scheme} verifies`);
    const changed = data.slice();
    changed[5]! ^= 1;
    assert.equal(verify(d.alg, publicKey, changed, d.signature), false, `${scheme}: changed data`);
    const sig = d.signature.slice();
    sig[sig.length - 1]! ^= 0x40;
    assert.equal(verify(d.alg, publicKey, data, sig), false, `${scheme}: changed signature`);
    const other = k === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : k === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: k === 'p384' ? 'secp384r1' : 'prime256v1' });
    assert.equal(verify(d.alg, other.publicKey, data, d.signature), false, `${scheme}: another key`);
    const wrongType = k === 'ed25519' ? keys.p256 : keys.ed25519;
    assert.equal(verify(d.alg, wrongType.publicKey, data, d.signature), false, `${scheme}: another key type`);
  }
  assert.throws(() => sign('ed25519', keys.rsa.privateKey, data), /cannot make ed25519 signatures/);
});

test('the scheme meshgate signs with follows the key', () => {
  assert.equal(defaultScheme(keys.ed25519.privateKey), 'ed25519');
  assert.equal(defaultScheme(keys.p256.privateKey), 'ecdsa-sha256');
  assert.equal(defaultScheme(keys.p384.privateKey), 'ecdsa-sha384');
  assert.equal(defaultScheme(keys.rsa.privateKey), 'rsa-pkcs1-sha256');
});

test('legacy AUTH methods 9/10/11 (RFC 4754, r|s) and 1 (RSA SHA-1) verify', () => {
  const data = new Uint8Array(64).fill(7);
  const m9 = legacyAlgorithm(9)!;
  assert.equal(m9.curve, 'prime256v1');
  const raw = nodeSign('sha256', data, { key: keys.p256.privateKey, dsaEncoding: 'ieee-p1363' });
  assert.equal(raw.length, 64);
  assert.ok(verify(m9.alg, keys.p256.publicKey, data, raw, m9.dsaEncoding));
  assert.equal(verify(m9.alg, keys.p256.publicKey, data, raw, 'der'), false, 'r|s is not DER');
  const m1 = legacyAlgorithm(1)!;
  assert.ok(verify(m1.alg, keys.rsa.publicKey, data, nodeSign('sha1', data, keys.rsa.privateKey)));
  assert.equal(legacyAlgorithm(2), undefined);
  assert.equal(legacyAlgorithm(14), undefined);
});

test('malformed AUTH data of method 14 is refused with a reason, never thrown', () => {
  const reasons = (b: number[]) => {
    const d = decodeSignatureAuth(Uint8Array.from(b));
    assert.equal(d.ok, false);
    return (d as { reason: string }).reason;
  };
  assert.match(reasons([]), /too short/);
  assert.match(reasons([0, 1, 2]), /length out of range/);
  assert.match(reasons([7, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70]), /length out of range/, 'no signature after the identifier');
  assert.match(reasons([200, 0x30, 1, 2, 3]), /length out of range/);
  assert.match(reasons([3, 0x04, 0x01, 0x00, 9, 9]), /malformed AlgorithmIdentifier: AlgorithmIdentifier is not a SEQUENCE/);
  assert.match(reasons([4, 0x30, 0x05, 0x06, 0x03, 9, 9]), /malformed/, 'truncated');
  assert.match(reasons([7, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71 + 1, 9]), /not supported/, 'unknown OID');
  assert.match(reasons([9, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x05, 0x00, 9]), /not supported/, 'Ed25519 with parameters');
  assert.match(reasons([0x0b, 0x30, 0x09, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x02, 0x81, 0x80, 1, 1]), /malformed/, 'a length beyond its container');
  // PSS with SHA-1 or mismatched MGF hash is refused.
  const pss1 = Uint8Array.from(Buffer.from('300b06092a864886f70d01010a', 'hex'));
  assert.match(reasons([pss1.length, ...pss1, 1]), /not supported|malformed/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const d = decodeSignatureAuth(b);
      return d.ok === true || typeof d.reason === 'string';
    }),
    { numRuns: 3000 },
  );
});
