import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, rangeText, stringifyMessage, type Message } from '../../../../src/engine/ike/codec/index.js';
import { ExchangeType, IdType, NotifyType, PayloadType, ProtocolId } from '../../../../src/engine/ike/constants.js';
import { bytes, hex } from './fixtures.js';

const none = new Uint8Array(0);

const createChild: Message = {
  spiI: 1n,
  spiR: 2n,
  exchangeType: ExchangeType.CREATE_CHILD_SA,
  initiator: false,
  response: true,
  messageId: 12,
  payloads: [],
  encrypted: [
    { type: PayloadType.N, protocolId: ProtocolId.ESP, spi: hex('c0ffee01'), notifyType: NotifyType.REKEY_SA, data: none },
    { type: PayloadType.SA, proposals: [{ number: 2, protocolId: ProtocolId.ESP, spi: hex('0badcafe'), transforms: [{ type: 1, id: 20, keyLength: 128 }, { type: 5, id: 0 }] }] },
    { type: PayloadType.Nonce, data: bytes(32, 0x5a) },
    { type: PayloadType.KE, group: 19, data: bytes(64, 0x6b) },
    { type: PayloadType.TSi, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, 1, 0, 0), endAddress: Uint8Array.of(10, 1, 255, 255) }] },
    { type: PayloadType.TSr, selectors: [{ tsType: 8, ipProtocol: 6, startPort: 22, endPort: 22, startAddress: hex('20010db8000000000000000000000000'), endAddress: hex('20010db8000000000000000000000005') }] },
  ],
};

test('stringify: strongSwan-style summary of an opened message', () => {
  assert.equal(stringifyMessage(createChild), 'CREATE_CHILD_SA response 12 [ N(REKEY_SA) SA No KE TSi TSr ]');
});

test('stringify verbose: algorithms, selectors and SPIs, lengths only for secrets', () => {
  const line = stringifyMessage(createChild, { verbose: true });
  assert.equal(
    line,
    'CREATE_CHILD_SA response 12 [ N(REKEY_SA, ESP SPI c0ffee01, 0 bytes) SA(#2 ESP 0badcafe: ENCR_AES_GCM_16/128, NO_ESN) ' +
      'No(32 bytes) KE(ECP_256, 64 bytes) TSi(10.1.0.0/16) TSr(2001:db8::..2001:db8::5[6/22-22]) ]',
  );
  assert.ok(!line.includes('5a5a'));
  assert.ok(!line.includes('6b6b'));
});

test('stringify: sealed SK, skipped payloads, deletes, IDs, CP, EAP, empty', () => {
  const m: Message = {
    spiI: 1n,
    spiR: 2n,
    exchangeType: ExchangeType.IKE_AUTH,
    initiator: true,
    response: false,
    messageId: 1,
    payloads: [
      { type: PayloadType.IDi, idType: IdType.ID_FQDN, data: new TextEncoder().encode('spoke1.example') },
      { type: PayloadType.IDr, idType: IdType.ID_IPV4_ADDR, data: Uint8Array.of(192, 0, 2, 1) },
      { type: PayloadType.D, protocolId: ProtocolId.ESP, spis: [hex('00000001'), hex('00000002')] },
      { type: PayloadType.CP, cfgType: 1, attributes: [{ type: 1, value: none }, { type: 3, value: none }] },
      { type: PayloadType.EAP, data: bytes(4) },
      { type: PayloadType.AUTH, method: 2, data: bytes(32) },
    ],
    sealed: { firstPayload: 35, skOffset: 28, raw: new Uint8Array(0) },
    skipped: [53],
  };
  assert.equal(stringifyMessage(m), 'IKE_AUTH request 1 [ IDi IDr D CPRQ EAP AUTH SK U(53) ]');
  assert.equal(
    stringifyMessage(m, { verbose: true }),
    'IKE_AUTH request 1 [ IDi(ID_FQDN "spoke1.example") IDr(192.0.2.1) D(ESP 00000001 00000002) ' +
      'CPRQ(INTERNAL_IP4_ADDRESS INTERNAL_IP4_DNS) EAP AUTH(SHARED_KEY_MIC, 32 bytes) SK U(53) ]',
  );
  assert.equal(stringifyMessage({ ...m, payloads: [], sealed: undefined, skipped: undefined, response: true }), 'IKE_AUTH response 1 [ ]');
});

test('address and range text', () => {
  assert.equal(formatAddress(Uint8Array.of(10, 0, 0, 1)), '10.0.0.1');
  assert.equal(formatAddress(hex('00000000000000000000000000000001')), '::1');
  assert.equal(formatAddress(hex('00000000000000000000000000000000')), '::');
  assert.equal(formatAddress(hex('20010db8000100000001000000000001')), '2001:db8:1:0:1::1');
  assert.equal(formatAddress(hex('fe800000000000000000000000000000')), 'fe80::');
  assert.equal(rangeText(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(255, 255, 255, 255)), '0.0.0.0/0');
  assert.equal(rangeText(Uint8Array.of(192, 0, 2, 7), Uint8Array.of(192, 0, 2, 7)), '192.0.2.7/32');
  assert.equal(rangeText(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 6)), '10.0.0.1..10.0.0.6');
});
