import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeHeader,
  encodeMessage,
  findNotify,
  findPayload,
  findPayloads,
  spi32,
  spi64,
  spiFrom32,
  spiFrom64,
  type Message,
} from '../../../../src/engine/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType } from '../../../../src/engine/ike/constants.js';
import { toHex } from './fixtures.js';

test('ESP and IKE SPI conversions', () => {
  assert.equal(spi32(Uint8Array.of(0xc0, 0xff, 0xee, 0x01)), 0xc0ffee01);
  assert.equal(toHex(spiFrom32(0xc0ffee01)), 'c0ffee01');
  assert.equal(spi64(Uint8Array.of(0xff, 1, 2, 3, 4, 5, 6, 7)), 0xff01020304050607n);
  assert.equal(toHex(spiFrom64(0xff01020304050607n)), 'ff01020304050607');
  assert.throws(() => spi32(new Uint8Array(8)), RangeError);
  assert.throws(() => spiFrom32(-1), RangeError);
  assert.throws(() => spi64(new Uint8Array(4)), RangeError);
});

test('decodeHeader: the fields the receive path dispatches on', () => {
  const m: Message = {
    spiI: 0xfedcba9876543210n,
    spiR: 0x0123456789abcdefn,
    exchangeType: ExchangeType.CREATE_CHILD_SA,
    initiator: false,
    response: true,
    higherVersion: true,
    messageId: 0xfffffffe,
    payloads: [{ type: PayloadType.V, data: Uint8Array.of(1) }],
  };
  const wire = encodeMessage(m);
  const h = decodeHeader(wire);
  assert.ok(h.ok);
  assert.deepEqual(h.header, {
    spiI: 0xfedcba9876543210n,
    spiR: 0x0123456789abcdefn,
    nextPayload: PayloadType.V,
    majorVersion: 2,
    minorVersion: 0,
    exchangeType: ExchangeType.CREATE_CHILD_SA,
    initiator: false,
    response: true,
    higherVersion: true,
    messageId: 0xfffffffe,
    length: wire.length,
  });
  assert.equal(wire[19], 0x30, 'R and V flags');
});

test('findPayload/findPayloads/findNotify look in clear and encrypted payloads', () => {
  const m: Message = {
    spiI: 1n,
    spiR: 2n,
    exchangeType: ExchangeType.IKE_AUTH,
    initiator: true,
    response: false,
    messageId: 1,
    payloads: [{ type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE, data: new Uint8Array(1) }],
    encrypted: [
      { type: PayloadType.IDi, idType: 2, data: Uint8Array.of(0x61) },
      { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) },
    ],
  };
  assert.equal(findPayload(m, PayloadType.IDi)?.idType, 2);
  assert.equal(findPayload(m, PayloadType.IDr), undefined);
  assert.equal(findPayloads(m, PayloadType.N).length, 2);
  assert.equal(findNotify(m, NotifyType.INITIAL_CONTACT)?.notifyType, NotifyType.INITIAL_CONTACT);
  assert.equal(findNotify(m, NotifyType.REKEY_SA), undefined);
});
