import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  encodeMessage,
  IkeEncodeError,
  type Message,
  type Payload,
} from '../../../../src/engine/ike/codec/index.js';
import {
  AuthMethod,
  CertEncoding,
  CfgAttributeType,
  CfgType,
  DhTransformId,
  EncrTransformId,
  EsnTransformId,
  ExchangeType,
  IdType,
  MESHGATE_VENDOR_ID,
  NotifyType,
  PayloadType,
  PrfTransformId,
  ProtocolId,
  TransformType,
  TsType,
} from '../../../../src/engine/ike/constants.js';
import { bytes, hex, toHex } from './fixtures.js';
import { datagram, fill, SPI_I, u16 } from './wire.js';

function message(payloads: Payload[]): Message {
  return { spiI: SPI_I, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: true, response: false, messageId: 0, payloads };
}

const ikeProposal: Payload = {
  type: PayloadType.SA,
  proposals: [
    {
      number: 1,
      protocolId: ProtocolId.IKE,
      spi: new Uint8Array(0),
      transforms: [
        { type: TransformType.ENCR, id: EncrTransformId.ENCR_AES_GCM_16, keyLength: 256 },
        { type: TransformType.PRF, id: PrfTransformId.PRF_HMAC_SHA2_256 },
        { type: TransformType.DH, id: DhTransformId.CURVE25519 },
      ],
    },
    {
      number: 2,
      protocolId: ProtocolId.IKE,
      spi: new Uint8Array(0),
      transforms: [
        { type: TransformType.ENCR, id: EncrTransformId.ENCR_CHACHA20_POLY1305 },
        { type: TransformType.PRF, id: PrfTransformId.PRF_HMAC_SHA2_512, unknownAttributes: [{ format: 'tv', type: 99, value: 7 }] },
        { type: TransformType.DH, id: DhTransformId.ECP_256, unknownAttributes: [{ format: 'tlv', type: 100, value: Uint8Array.of(1, 2, 3) }] },
      ],
    },
  ],
};

const cases: Array<[string, Payload]> = [
  ['SA, two IKE proposals with key length and unknown attributes', ikeProposal],
  [
    'SA, ESP proposal with a 4-octet SPI and ESN',
    {
      type: PayloadType.SA,
      proposals: [
        {
          number: 3,
          protocolId: ProtocolId.ESP,
          spi: hex('c0ffee01'),
          transforms: [
            { type: TransformType.ENCR, id: EncrTransformId.ENCR_AES_GCM_16, keyLength: 128 },
            { type: TransformType.ESN, id: EsnTransformId.NO_ESN },
          ],
        },
      ],
    },
  ],
  [
    'SA, IKE rekey proposal with an 8-octet SPI',
    { type: PayloadType.SA, proposals: [{ number: 1, protocolId: ProtocolId.IKE, spi: hex('0011223344556677'), transforms: [{ type: 1, id: 28 }] }] },
  ],
  ['KE, Curve25519', { type: PayloadType.KE, group: DhTransformId.CURVE25519, data: bytes(32, 0x42) }],
  ['KE, P-256', { type: PayloadType.KE, group: DhTransformId.ECP_256, data: bytes(64, 0x43) }],
  ['IDi, FQDN', { type: PayloadType.IDi, idType: IdType.ID_FQDN, data: new TextEncoder().encode('spoke1.example') }],
  ['IDr, IPv4', { type: PayloadType.IDr, idType: IdType.ID_IPV4_ADDR, data: Uint8Array.of(192, 0, 2, 1) }],
  ['IDr, IPv6', { type: PayloadType.IDr, idType: IdType.ID_IPV6_ADDR, data: hex('20010db8000000000000000000000001') }],
  ['IDi, ID_NULL', { type: PayloadType.IDi, idType: IdType.ID_NULL, data: new Uint8Array(0) }],
  ['CERT, X.509', { type: PayloadType.CERT, encoding: CertEncoding.X509_SIGNATURE, data: bytes(300, 0x30) }],
  ['CERTREQ, two SHA-1 hashes', { type: PayloadType.CERTREQ, encoding: CertEncoding.X509_SIGNATURE, data: bytes(40, 0x55) }],
  ['CERTREQ, empty (any CA)', { type: PayloadType.CERTREQ, encoding: CertEncoding.X509_SIGNATURE, data: new Uint8Array(0) }],
  ['AUTH, shared key', { type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: bytes(32, 0x99) }],
  ['AUTH, digital signature', { type: PayloadType.AUTH, method: AuthMethod.DIGITAL_SIGNATURE, data: bytes(80, 0x98) }],
  ['Nonce, 16 octets', { type: PayloadType.Nonce, data: bytes(16, 1) }],
  ['Nonce, 256 octets', { type: PayloadType.Nonce, data: bytes(256, 2) }],
  ['N, COOKIE', { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE, data: bytes(32, 7) }],
  ['N, REKEY_SA with ESP SPI', { type: PayloadType.N, protocolId: ProtocolId.ESP, spi: hex('00000457'), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) }],
  ['N, INVALID_KE_PAYLOAD', { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.INVALID_KE_PAYLOAD, data: Uint8Array.of(0, 19) }],
  ['N, mesh private type', { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.MESH_SHORTCUT_REQUEST, data: bytes(12, 3) }],
  ['D, IKE', { type: PayloadType.D, protocolId: ProtocolId.IKE, spis: [] }],
  ['D, two ESP SPIs', { type: PayloadType.D, protocolId: ProtocolId.ESP, spis: [hex('c0ffee01'), hex('c0ffee02')] }],
  ['V, meshgate', { type: PayloadType.V, data: Uint8Array.from(MESHGATE_VENDOR_ID) }],
  ['V, empty', { type: PayloadType.V, data: new Uint8Array(0) }],
  [
    'TSi, IPv4 range and IPv6 TCP port range',
    {
      type: PayloadType.TSi,
      selectors: [
        { tsType: TsType.TS_IPV4_ADDR_RANGE, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, 1, 0, 0), endAddress: Uint8Array.of(10, 1, 255, 255) },
        { tsType: TsType.TS_IPV6_ADDR_RANGE, ipProtocol: 6, startPort: 443, endPort: 443, startAddress: hex('20010db8000000000000000000000000'), endAddress: hex('20010db8ffffffffffffffffffffffff') },
      ],
    },
  ],
  [
    'TSr, opaque ports',
    { type: PayloadType.TSr, selectors: [{ tsType: TsType.TS_IPV4_ADDR_RANGE, ipProtocol: 17, startPort: 65535, endPort: 0, startAddress: Uint8Array.of(0, 0, 0, 0), endAddress: Uint8Array.of(255, 255, 255, 255) }] },
  ],
  [
    'CP, request',
    { type: PayloadType.CP, cfgType: CfgType.CFG_REQUEST, attributes: [{ type: CfgAttributeType.INTERNAL_IP4_ADDRESS, value: new Uint8Array(0) }, { type: CfgAttributeType.INTERNAL_IP4_DNS, value: new Uint8Array(0) }] },
  ],
  ['CP, reply', { type: PayloadType.CP, cfgType: CfgType.CFG_REPLY, attributes: [{ type: CfgAttributeType.INTERNAL_IP4_ADDRESS, value: Uint8Array.of(10, 9, 0, 7) }] }],
  ['CP, no attributes', { type: PayloadType.CP, cfgType: CfgType.CFG_ACK, attributes: [] }],
  ['EAP', { type: PayloadType.EAP, data: Uint8Array.of(1, 0, 0, 5, 1) }],
];

for (const [name, payload] of cases) {
  test(`round trip: ${name}`, () => {
    const m = message([payload]);
    const wire = encodeMessage(m);
    const d = decodeMessage(wire);
    assert.ok(d.ok, d.ok ? '' : d.reason);
    assert.deepEqual(d.message, m);
    // The encoding is canonical: re-encoding the decoded message gives the same octets.
    assert.deepEqual(encodeMessage(d.message), wire);
  });
}

test('round trip: every payload type in one message, chain order kept', () => {
  const m = message(cases.map(([, p]) => p));
  const d = decodeMessage(encodeMessage(m));
  assert.ok(d.ok);
  assert.deepEqual(d.message, m);
});

test('golden bytes: header and Notify payload as laid out in RFC 7296 sections 3.1 and 3.10', () => {
  const wire = encodeMessage({
    spiI: 0x0102030405060708n,
    spiR: 0x1112131415161718n,
    exchangeType: ExchangeType.INFORMATIONAL,
    initiator: true,
    response: true,
    messageId: 7,
    payloads: [{ type: PayloadType.N, protocolId: ProtocolId.ESP, spi: hex('aabbccdd'), notifyType: NotifyType.REKEY_SA, data: Uint8Array.of(0xee) }],
  });
  assert.equal(
    toHex(wire),
    '0102030405060708' + '1112131415161718' + '29' + '20' + '25' + '28' + '00000007' + '00000029' +
      '00' + '00' + '000d' + '03' + '04' + '4009' + 'aabbccdd' + 'ee',
  );
});

test('golden bytes: SA proposal, transforms and the Key Length attribute (RFC 7296 3.3.1, 3.3.2, 3.3.5)', () => {
  const wire = encodeMessage(
    message([
      {
        type: PayloadType.SA,
        proposals: [{ number: 1, protocolId: ProtocolId.ESP, spi: hex('01020304'), transforms: [{ type: 1, id: 20, keyLength: 256 }, { type: 5, id: 0 }] }],
      },
    ]),
  );
  const body = toHex(wire.subarray(28));
  assert.equal(
    body,
    // generic header: next 0, length 4 + 8 + 4 + 12 + 8 = 36
    '00000024' +
      // proposal: last, reserved, length 32, num 1, ESP, SPI size 4, 2 transforms, SPI
      '00000020' + '01030402' + '01020304' +
      // transform: more (3), length 12, ENCR, id 20, attribute AF|14 = 0x800e, value 256
      '0300000c' + '01000014' + '800e0100' +
      // transform: last, length 8, ESN, id 0
      '00000008' + '05000000',
  );
});

test('golden bytes: TS payload with one IPv4 selector (RFC 7296 3.13.1)', () => {
  const wire = encodeMessage(
    message([
      { type: PayloadType.TSr, selectors: [{ tsType: 7, ipProtocol: 6, startPort: 80, endPort: 443, startAddress: Uint8Array.of(10, 0, 0, 0), endAddress: Uint8Array.of(10, 0, 0, 255) }] },
    ]),
  );
  assert.equal(toHex(wire.subarray(28)), '00000018' + '01000000' + '07060010' + '005001bb' + '0a000000' + '0a0000ff');
});

test('golden bytes: Delete of two ESP SPIs and KE (RFC 7296 3.11, 3.4)', () => {
  const wire = encodeMessage(
    message([
      { type: PayloadType.D, protocolId: 3, spis: [hex('00000001'), hex('00000002')] },
      { type: PayloadType.KE, group: 31, data: Uint8Array.of(9, 9) },
    ]),
  );
  assert.equal(toHex(wire.subarray(28)), '2200001003040002' + '0000000100000002' + '0000000a001f0000' + '0909');
});

// ---- malformed input, hand-built ----------------------------------------------------------

function reject(bytes: Uint8Array, reason: string, payloadType?: number): void {
  const d = decodeMessage(bytes);
  assert.equal(d.ok, false, 'expected a failure');
  if (d.ok) return;
  assert.equal(d.reason, reason);
  if (payloadType !== undefined) assert.equal(d.payloadType, payloadType);
}

const nonce = { type: PayloadType.Nonce, body: fill(32) };

test('malformed: truncated header', () => {
  reject(new Uint8Array(0), 'truncated-header');
  reject(datagram([nonce]).subarray(0, 27), 'truncated-header');
});

test('malformed: header length does not match the datagram', () => {
  reject(datagram([nonce], { length: 28 + 36 + 1 }), 'length-mismatch');
  const d = datagram([nonce]);
  reject(d.subarray(0, d.length - 1), 'length-mismatch');
});

test('malformed: major version 1 dropped silently, version 3 answered with INVALID_MAJOR_VERSION', () => {
  const v1 = decodeMessage(datagram([nonce], { version: 0x10 }));
  assert.ok(!v1.ok && v1.reason === 'unsupported-major-version' && v1.notify === undefined);
  const v3 = decodeMessage(datagram([nonce], { version: 0x30 }));
  assert.ok(!v3.ok && v3.reason === 'unsupported-major-version');
  assert.equal(v3.notify?.notifyType, NotifyType.INVALID_MAJOR_VERSION);
});

test('minor version is ignored (RFC 7296 section 3.1)', () => {
  assert.ok(decodeMessage(datagram([nonce], { version: 0x2f })).ok);
});

test('malformed: payload length shorter than the generic header', () => {
  reject(datagram([{ ...nonce, length: 3 }]), 'payload-length-invalid', PayloadType.Nonce);
});

test('malformed: payload length beyond the end of the message', () => {
  reject(datagram([{ ...nonce, length: 37 }], { length: 28 + 36 }), 'payload-truncated', PayloadType.Nonce);
});

test('malformed: chain names a next payload but the message ends', () => {
  reject(datagram([{ ...nonce, next: PayloadType.V }]), 'payload-truncated', PayloadType.V);
});

test('malformed: sum of payload lengths shorter than the header length (trailing octets)', () => {
  const d = datagram([nonce, { type: 0 as number, body: [] }].slice(0, 1));
  const padded = new Uint8Array(d.length + 4);
  padded.set(d);
  new DataView(padded.buffer).setUint32(24, padded.length);
  reject(padded, 'chain-length-mismatch');
});

test('malformed: header says no payloads but octets follow', () => {
  reject(datagram([nonce], { first: 0 }), 'chain-length-mismatch');
});

test('malformed: nonce too short and too long', () => {
  reject(datagram([{ type: PayloadType.Nonce, body: fill(15) }]), 'nonce-length-invalid', PayloadType.Nonce);
  reject(datagram([{ type: PayloadType.Nonce, body: fill(257) }]), 'nonce-length-invalid', PayloadType.Nonce);
  assert.throws(() => encodeMessage(message([{ type: PayloadType.Nonce, data: bytes(15) }])), IkeEncodeError);
});

test('unknown payload with the critical bit: UNSUPPORTED_CRITICAL_PAYLOAD carrying the type', () => {
  const d = decodeMessage(datagram([nonce, { type: 200, body: [1, 2, 3], critical: true }]));
  assert.ok(!d.ok);
  assert.equal(d.reason, 'unsupported-critical-payload');
  assert.equal(d.payloadType, 200);
  assert.equal(d.notify?.notifyType, NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD);
  assert.deepEqual(d.notify?.data, Uint8Array.of(200));
});

test('unknown non-critical payload is skipped and recorded; the chain continues after it', () => {
  const d = decodeMessage(datagram([{ type: 200, body: [1, 2, 3] }, nonce, { type: PayloadType.SKF, body: fill(8) }]));
  assert.ok(d.ok);
  assert.equal(d.message.payloads.length, 1);
  assert.equal(d.message.payloads[0]!.type, PayloadType.Nonce);
  assert.deepEqual(d.message.skipped, [200, PayloadType.SKF]);
});

test('critical bit on a known payload is ignored (RFC 7296 section 3.2)', () => {
  const d = decodeMessage(datagram([{ ...nonce, critical: true }]));
  assert.ok(d.ok);
});

// SA substructures: proposal(last=0, len, num, proto, spisize, ntrans) + transforms
const transform = (last: number, type: number, id: number, attrs: number[] = []) => [last, 0, ...u16(8 + attrs.length), type, 0, ...u16(id), ...attrs];
const proposal = (last: number, num: number, proto: number, spi: number[], transforms: number[][], count = transforms.length) => {
  const t = transforms.flat();
  return [last, 0, ...u16(8 + spi.length + t.length), num, proto, spi.length, count, ...spi, ...t];
};
const sa = (...proposals: number[][]) => ({ type: PayloadType.SA, body: proposals.flat() });

test('SA: a valid hand-built proposal decodes', () => {
  const d = decodeMessage(datagram([sa(proposal(0, 1, 1, [], [transform(3, 1, 28), transform(3, 2, 5), transform(0, 4, 31)]))]));
  assert.ok(d.ok, d.ok ? '' : d.reason);
});

test('SA: Num Transforms does not match the transforms present', () => {
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(3, 1, 28), transform(0, 4, 31)], 3))]), 'sa-transform-count-mismatch', PayloadType.SA);
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(3, 1, 28), transform(0, 4, 31)], 1))]), 'sa-transform-count-mismatch', PayloadType.SA);
});

test('SA: Last Substruc values', () => {
  // A transform marked "more" with nothing after it, and a proposal marked with a transform's value.
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(3, 1, 28), transform(3, 4, 31)]))]), 'sa-malformed');
  reject(datagram([sa(proposal(3, 1, 1, [], [transform(0, 1, 28)]), proposal(0, 2, 1, [], [transform(0, 1, 28)]))]), 'sa-malformed');
  // "last" proposal followed by another one.
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(0, 1, 28)]), proposal(0, 2, 1, [], [transform(0, 1, 28)]))]), 'sa-malformed');
});

test('SA: proposal numbering', () => {
  reject(datagram([sa(proposal(2, 1, 1, [], [transform(0, 1, 28)]), proposal(0, 3, 1, [], [transform(0, 1, 28)]))]), 'sa-proposal-numbering');
  reject(datagram([sa(proposal(2, 2, 1, [], [transform(0, 1, 28)]), proposal(0, 3, 1, [], [transform(0, 1, 28)]))]), 'sa-proposal-numbering');
  reject(datagram([sa(proposal(0, 0, 1, [], [transform(0, 1, 28)]))]), 'sa-proposal-numbering');
  // A single proposal (a response) may carry any number but 0.
  assert.ok(decodeMessage(datagram([sa(proposal(0, 4, 1, [], [transform(0, 1, 28)]))])).ok);
});

test('SA: SPI sizes per protocol (IKE 0/8, ESP 4)', () => {
  reject(datagram([sa(proposal(0, 1, 1, [1, 2, 3, 4], [transform(0, 1, 28)]))]), 'sa-spi-size-invalid');
  reject(datagram([sa(proposal(0, 1, 3, [], [transform(0, 1, 28)]))]), 'sa-spi-size-invalid');
  reject(datagram([sa(proposal(0, 1, 9, [], [transform(0, 1, 28)]))]), 'sa-spi-size-invalid');
  assert.ok(decodeMessage(datagram([sa(proposal(0, 1, 1, fill(8), [transform(0, 1, 28)]))])).ok);
  assert.ok(decodeMessage(datagram([sa(proposal(0, 1, 3, fill(4), [transform(0, 1, 28)]))])).ok);
});

test('SA: proposal and transform lengths', () => {
  const good = proposal(0, 1, 1, [], [transform(0, 1, 28)]);
  const shortProposal = [...good];
  shortProposal[3] = 7; // proposal length below its header
  reject(datagram([sa(shortProposal)]), 'sa-malformed');
  const longTransform = proposal(0, 1, 1, [], [[0, 0, 0, 12, 1, 0, 0, 28]]);
  reject(datagram([sa(longTransform)]), 'sa-malformed');
  // Attribute cut short, TLV attribute running past the transform, Key Length as TLV, twice.
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(0, 1, 20, [0x80, 0x0e])]))]), 'sa-malformed');
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(0, 1, 20, [0x00, 0x63, 0x00, 0x09, 1])]))]), 'sa-malformed');
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(0, 1, 20, [0x00, 0x0e, 0x00, 0x02, 1, 0])]))]), 'sa-malformed');
  reject(datagram([sa(proposal(0, 1, 1, [], [transform(0, 1, 20, [0x80, 0x0e, 1, 0, 0x80, 0x0e, 1, 0])]))]), 'sa-malformed');
  reject(datagram([sa()]), 'sa-malformed');
});

test('KE, ID, AUTH, CERT: fixed parts and lengths', () => {
  reject(datagram([{ type: PayloadType.KE, body: [0, 31, 0, 0] }]), 'ke-malformed');
  reject(datagram([{ type: PayloadType.IDi, body: [1, 0, 0, 0, 10, 0, 0] }]), 'id-malformed');
  reject(datagram([{ type: PayloadType.IDi, body: [2, 0, 0] }]), 'id-malformed');
  reject(datagram([{ type: PayloadType.IDr, body: [5, 0, 0, 0, ...fill(15)] }]), 'id-malformed');
  reject(datagram([{ type: PayloadType.AUTH, body: [2, 0, 0, 0] }]), 'auth-malformed');
  reject(datagram([{ type: PayloadType.CERT, body: [4] }]), 'cert-malformed');
  reject(datagram([{ type: PayloadType.CERTREQ, body: [] }]), 'cert-malformed');
});

test('reserved fields are ignored on receipt', () => {
  const d = decodeMessage(datagram([{ type: PayloadType.IDi, body: [2, 0xff, 0xff, 0xff, 0x61] }, { type: PayloadType.KE, body: [0, 31, 0xff, 0xff, 1] }]));
  assert.ok(d.ok);
  assert.deepEqual(d.message.payloads[0], { type: PayloadType.IDi, idType: 2, data: Uint8Array.of(0x61) });
});

test('Notify: SPI size must be 0, 4 or 8 and fit', () => {
  reject(datagram([{ type: PayloadType.N, body: [3, 3, 0x40, 0x09, 1, 2, 3] }]), 'notify-malformed');
  reject(datagram([{ type: PayloadType.N, body: [3, 4, 0x40, 0x09, 1, 2] }]), 'notify-malformed');
  reject(datagram([{ type: PayloadType.N, body: [0, 0, 0x40] }]), 'notify-malformed');
});

test('Delete: shapes per protocol and exact length', () => {
  reject(datagram([{ type: PayloadType.D, body: [1, 0, 0, 1] }]), 'delete-malformed');
  reject(datagram([{ type: PayloadType.D, body: [3, 4, 0, 2, 0, 0, 0, 1] }]), 'delete-malformed');
  reject(datagram([{ type: PayloadType.D, body: [3, 4, 0, 0] }]), 'delete-malformed');
  reject(datagram([{ type: PayloadType.D, body: [3, 8, 0, 1, ...fill(8)] }]), 'delete-malformed');
  reject(datagram([{ type: PayloadType.D, body: [3, 4, 0, 1, 0, 0, 0, 1, 9] }]), 'delete-malformed');
});

test('TS: counts, selector lengths and types', () => {
  const v4 = [7, 0, 0, 16, 0, 0, 255, 255, 10, 0, 0, 0, 10, 0, 0, 255];
  assert.ok(decodeMessage(datagram([{ type: PayloadType.TSi, body: [1, 0, 0, 0, ...v4] }])).ok);
  reject(datagram([{ type: PayloadType.TSi, body: [2, 0, 0, 0, ...v4] }]), 'ts-malformed');
  reject(datagram([{ type: PayloadType.TSi, body: [0, 0, 0, 0] }]), 'ts-malformed');
  reject(datagram([{ type: PayloadType.TSi, body: [1, 0, 0, 0, ...v4, 0] }]), 'ts-malformed');
  reject(datagram([{ type: PayloadType.TSi, body: [1, 0, 0, 0, 8, ...v4.slice(1)] }]), 'ts-malformed');
  reject(datagram([{ type: PayloadType.TSi, body: [1, 0, 0, 0, 9, ...v4.slice(1)] }]), 'ts-malformed');
});

test('CP: attribute running past the payload', () => {
  reject(datagram([{ type: PayloadType.CP, body: [1, 0, 0, 0, 0, 1, 0, 4, 10, 0] }]), 'cp-malformed');
  reject(datagram([{ type: PayloadType.CP, body: [1, 0, 0] }]), 'cp-malformed');
  const d = decodeMessage(datagram([{ type: PayloadType.CP, body: [1, 0, 0, 0, 0x80, 1, 0, 0] }]));
  assert.ok(d.ok, 'the reserved R bit is ignored');
  assert.deepEqual(d.message.payloads[0], { type: PayloadType.CP, cfgType: 1, attributes: [{ type: 1, value: new Uint8Array(0) }] });
});

test('too many payloads in one chain', () => {
  const many = Array.from({ length: 129 }, () => ({ type: PayloadType.V, body: [] as number[] }));
  reject(datagram(many), 'too-many-payloads');
  assert.ok(decodeMessage(datagram(many.slice(0, 128))).ok);
});

test('encoder refuses what the decoder would refuse', () => {
  const bad: Payload[] = [
    { type: PayloadType.SA, proposals: [] },
    { type: PayloadType.SA, proposals: [{ number: 1, protocolId: 3, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20 }] }] },
    { type: PayloadType.SA, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [] }] },
    { type: PayloadType.SA, proposals: [{ number: 2, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20 }] }, { number: 3, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20 }] }] },
    { type: PayloadType.IDi, idType: IdType.ID_IPV4_ADDR, data: Uint8Array.of(1, 2, 3) },
    { type: PayloadType.KE, group: 31, data: new Uint8Array(0) },
    { type: PayloadType.N, protocolId: 3, spi: Uint8Array.of(1, 2, 3), notifyType: 1, data: new Uint8Array(0) },
    { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: 70000, data: new Uint8Array(0) },
    { type: PayloadType.D, protocolId: ProtocolId.ESP, spis: [] },
    { type: PayloadType.D, protocolId: ProtocolId.IKE, spis: [hex('00000001')] },
    { type: PayloadType.TSi, selectors: [] },
    { type: PayloadType.TSi, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: new Uint8Array(16), endAddress: new Uint8Array(16) }] },
    { type: PayloadType.V, data: new Uint8Array(70000) },
  ];
  for (const p of bad) assert.throws(() => encodeMessage(message([p])), IkeEncodeError, JSON.stringify(p.type));
});
