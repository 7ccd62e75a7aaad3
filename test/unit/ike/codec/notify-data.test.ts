import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cookieLengthValid,
  decodeHashAlgorithms,
  decodeInvalidKeGroup,
  decodeWindowSize,
  encodeHashAlgorithms,
  encodeInvalidKeGroup,
  encodeWindowSize,
  IkeEncodeError,
} from '../../../../src/engine/ike/codec/index.js';
import { HashAlgorithm } from '../../../../src/engine/ike/constants.js';
import { toHex } from './fixtures.js';

test('INVALID_KE_PAYLOAD data: the group as 2 octets', () => {
  assert.equal(toHex(encodeInvalidKeGroup(19)), '0013');
  assert.equal(decodeInvalidKeGroup(Uint8Array.of(0, 31)), 31);
  assert.equal(decodeInvalidKeGroup(Uint8Array.of(31)), undefined);
  assert.equal(decodeInvalidKeGroup(Uint8Array.of(0, 0, 31)), undefined);
  assert.throws(() => encodeInvalidKeGroup(65536), IkeEncodeError);
});

test('SIGNATURE_HASH_ALGORITHMS data: 2-octet list (RFC 7427 section 4)', () => {
  const list = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512, HashAlgorithm.IDENTITY];
  assert.equal(toHex(encodeHashAlgorithms(list)), '0002000300040005');
  assert.deepEqual(decodeHashAlgorithms(encodeHashAlgorithms(list)), list);
  assert.equal(decodeHashAlgorithms(Uint8Array.of(0, 2, 0)), undefined);
  assert.equal(decodeHashAlgorithms(new Uint8Array(0)), undefined);
  assert.throws(() => encodeHashAlgorithms([]), IkeEncodeError);
});

test('SET_WINDOW_SIZE data and cookie lengths', () => {
  assert.equal(toHex(encodeWindowSize(10)), '0000000a');
  assert.equal(decodeWindowSize(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), 0xffffffff);
  assert.equal(decodeWindowSize(Uint8Array.of(0, 0, 1)), undefined);
  assert.throws(() => encodeWindowSize(0), IkeEncodeError);
  assert.equal(cookieLengthValid(new Uint8Array(0)), false);
  assert.equal(cookieLengthValid(new Uint8Array(1)), true);
  assert.equal(cookieLengthValid(new Uint8Array(64)), true);
  assert.equal(cookieLengthValid(new Uint8Array(65)), false);
});

test('notify data decoders never throw and round-trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (data) => {
      decodeInvalidKeGroup(data);
      decodeWindowSize(data);
      const h = decodeHashAlgorithms(data);
      if (h) assert.deepEqual(encodeHashAlgorithms(h), data);
    }),
  );
});
