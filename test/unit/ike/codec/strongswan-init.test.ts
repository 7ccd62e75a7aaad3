/**
 * A real-world shaped IKE_SA_INIT exchange, laid out octet by octet the way strongSwan 5.9/6.x
 * sends it for `proposals = aes256gcm16-chacha20poly1305-prfsha256-prfsha512-x25519-ecp256`
 * (one IKE proposal listing every algorithm, RFC 7296 section 3.3), with NAT detection, IKE
 * fragmentation support (RFC 7383), signature hash algorithms (RFC 7427) and redirect support
 * (RFC 5685), as its log shows it: "generating IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP)
 * N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ]". The octets are built here by hand, not by
 * the encoder under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPayloadRules,
  decodeMessage,
  encodeMessage,
  findNotify,
  findPayload,
  stringifyMessage,
  type Message,
} from '../../../../src/engine/ike/codec/index.js';
import {
  DhTransformId,
  EncrTransformId,
  ExchangeType,
  HashAlgorithm,
  MESHGATE_VENDOR_ID,
  NotifyType,
  PayloadType,
  PrfTransformId,
  TransformType,
} from '../../../../src/engine/ike/constants.js';
import { hex, toHex } from './fixtures.js';

const SPI_I = 'a1b2c3d4e5f60718';
const KE_DATA = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'; // 32 octets
const NONCE = 'dd55a1f2b1e7a4b9c0d2e3f40516273849aabbccddeeff00112233445566778899'.slice(0, 64); // 32 octets
const NATD_S = '9b1c6e2e52f1a6b0b8ad12f3e0d3f4a1b2c3d4e5'; // SHA-1 sized
const NATD_D = '0f1e2d3c4b5a69788796a5b4c3d2e1f001122334';

// Transforms: Last Substruc (3 more / 0 last), RESERVED, length, type, RESERVED, id [, attributes]
const SA_BODY =
  // proposal: last, reserved, length 0x3c = 8 + 12 + 8*5, num 1, IKE, SPI size 0, 6 transforms
  '0000003c' + '01010006' +
  '0300000c' + '01000014' + '800e0100' + // ENCR_AES_GCM_16, key length 256
  '03000008' + '0100001c' + //               ENCR_CHACHA20_POLY1305
  '03000008' + '02000005' + //               PRF_HMAC_SHA2_256
  '03000008' + '02000007' + //               PRF_HMAC_SHA2_512
  '03000008' + '0400001f' + //               CURVE25519
  '00000008' + '04000013'; //                ECP_256

const REQUEST_HEX =
  SPI_I + '0000000000000000' + '21' + '20' + '22' + '08' + '00000000' + '%LEN%' +
  '22000040' + SA_BODY + //                          SA, next KE
  '28000028' + '001f0000' + KE_DATA + //             KE group 31, next Nonce
  '29000024' + NONCE + //                            Nonce, next N
  '2900001c' + '00004004' + NATD_S + //              N(NAT_DETECTION_SOURCE_IP)
  '2900001c' + '00004005' + NATD_D + //              N(NAT_DETECTION_DESTINATION_IP)
  '29000008' + '0000402e' + //                       N(IKEV2_FRAGMENTATION_SUPPORTED)
  '29000010' + '0000402f' + '0002000300040005' + //  N(SIGNATURE_HASH_ALGORITHMS) SHA2-256/384/512, Identity
  '2b000008' + '00004016' + //                       N(REDIRECT_SUPPORTED), next V
  '00000014' + toHex(MESHGATE_VENDOR_ID); //        V (meshgate)

function withLength(h: string): Uint8Array {
  const total = (h.length - '%LEN%'.length + 8) / 2;
  return hex(h.replace('%LEN%', total.toString(16).padStart(8, '0')));
}

test('strongSwan-shaped IKE_SA_INIT request decodes to the expected model', () => {
  const wire = withLength(REQUEST_HEX);
  const d = decodeMessage(wire);
  assert.ok(d.ok, d.ok ? '' : `${d.reason} at ${d.offset}`);
  const m = d.message;
  assert.equal(m.spiI, 0xa1b2c3d4e5f60718n);
  assert.equal(m.spiR, 0n);
  assert.equal(m.exchangeType, ExchangeType.IKE_SA_INIT);
  assert.ok(m.initiator && !m.response);
  assert.equal(
    stringifyMessage(m),
    'IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) V ]',
  );
  assert.equal(checkPayloadRules(m, ExchangeType.IKE_SA_INIT, false), undefined);

  const sa = findPayload(m, PayloadType.SA)!;
  assert.equal(sa.proposals.length, 1);
  assert.deepEqual(sa.proposals[0]!.transforms, [
    { type: TransformType.ENCR, id: EncrTransformId.ENCR_AES_GCM_16, keyLength: 256 },
    { type: TransformType.ENCR, id: EncrTransformId.ENCR_CHACHA20_POLY1305 },
    { type: TransformType.PRF, id: PrfTransformId.PRF_HMAC_SHA2_256 },
    { type: TransformType.PRF, id: PrfTransformId.PRF_HMAC_SHA2_512 },
    { type: TransformType.DH, id: DhTransformId.CURVE25519 },
    { type: TransformType.DH, id: DhTransformId.ECP_256 },
  ]);
  const ke = findPayload(m, PayloadType.KE)!;
  assert.equal(ke.group, DhTransformId.CURVE25519);
  assert.equal(toHex(ke.data), KE_DATA);
  assert.equal(toHex(findPayload(m, PayloadType.Nonce)!.data), NONCE);
  assert.equal(toHex(findNotify(m, NotifyType.NAT_DETECTION_SOURCE_IP)!.data), NATD_S);
  assert.equal(toHex(findNotify(m, NotifyType.NAT_DETECTION_DESTINATION_IP)!.data), NATD_D);
  const hashes = findNotify(m, NotifyType.SIGNATURE_HASH_ALGORITHMS)!.data;
  assert.deepEqual(Array.from({ length: hashes.length / 2 }, (_, i) => (hashes[2 * i]! << 8) | hashes[2 * i + 1]!), [
    HashAlgorithm.SHA2_256,
    HashAlgorithm.SHA2_384,
    HashAlgorithm.SHA2_512,
    HashAlgorithm.IDENTITY,
  ]);
  assert.deepEqual(findPayload(m, PayloadType.V)!.data, Uint8Array.from(MESHGATE_VENDOR_ID));
  assert.equal(
    stringifyMessage(m, { verbose: true }),
    'IKE_SA_INIT request 0 [ SA(#1 IKE: ENCR_AES_GCM_16/256, ENCR_CHACHA20_POLY1305, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_512, CURVE25519, ECP_256) ' +
      'KE(CURVE25519, 32 bytes) No(32 bytes) N(NATD_S_IP, 20 bytes) N(NATD_D_IP, 20 bytes) N(FRAG_SUP, 0 bytes) N(HASH_ALG, 8 bytes) ' +
      'N(REDIR_SUP, 0 bytes) V(meshgate) ]',
  );
  // Nothing of the key exchange data or nonce reaches the log line.
  assert.ok(!stringifyMessage(m, { verbose: true }).includes(KE_DATA.slice(0, 8)));
  assert.ok(!stringifyMessage(m, { verbose: true }).includes(NONCE.slice(0, 8)));
});

test('strongSwan-shaped IKE_SA_INIT request: re-encoding gives the same octets', () => {
  const wire = withLength(REQUEST_HEX);
  const d = decodeMessage(wire);
  assert.ok(d.ok);
  assert.equal(toHex(encodeMessage(d.message)), toHex(wire));
});

test('IKE_SA_INIT responses as meshgate answers them: full, COOKIE, INVALID_KE_PAYLOAD', () => {
  const base = { spiI: 0xa1b2c3d4e5f60718n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, response: true, messageId: 0 };
  const full: Message = {
    ...base,
    spiR: 0x1020304050607080n,
    payloads: [
      { type: PayloadType.SA, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 28 }, { type: 2, id: 5 }, { type: 4, id: 31 }] }] },
      { type: PayloadType.KE, group: 31, data: hex(KE_DATA) },
      { type: PayloadType.Nonce, data: hex(NONCE) },
      { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_SOURCE_IP, data: hex(NATD_S) },
      { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_DESTINATION_IP, data: hex(NATD_D) },
      { type: PayloadType.CERTREQ, encoding: 4, data: new Uint8Array(20) },
      { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.IKEV2_FRAGMENTATION_SUPPORTED, data: new Uint8Array(0) },
    ],
  };
  const cookie: Message = { ...base, spiR: 0n, payloads: [{ type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE, data: new Uint8Array(32) }] };
  const invalidKe: Message = { ...base, spiR: 0n, payloads: [{ type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.INVALID_KE_PAYLOAD, data: Uint8Array.of(0, 19) }] };
  const expected = [
    'IKE_SA_INIT response 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) CERTREQ N(FRAG_SUP) ]',
    'IKE_SA_INIT response 0 [ N(COOKIE) ]',
    'IKE_SA_INIT response 0 [ N(INVAL_KE) ]',
  ];
  [full, cookie, invalidKe].forEach((m, i) => {
    const d = decodeMessage(encodeMessage(m));
    assert.ok(d.ok);
    assert.deepEqual(d.message, m);
    assert.equal(stringifyMessage(d.message), expected[i]);
    assert.equal(checkPayloadRules(d.message, ExchangeType.IKE_SA_INIT, true), undefined, expected[i]);
  });
});
