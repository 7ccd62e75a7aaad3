/** fast-check generators of valid IKEv2 messages for the codec's property tests. */
import fc from 'fast-check';
import type { Message, Payload, Proposal, TrafficSelector, Transform, TransformAttribute } from '../../../../src/engine/ike/codec/index.js';
import { IdType, PayloadType, ProtocolId, TsType } from '../../../../src/engine/ike/constants.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const blob = (minLength: number, maxLength: number) => fc.uint8Array({ minLength, maxLength });

const attribute: fc.Arbitrary<TransformAttribute> = fc.oneof(
  fc.record({ format: fc.constant('tv' as const), type: fc.integer({ min: 0, max: 0x7fff }).filter((t) => t !== 14), value: u16 }),
  fc.record({ format: fc.constant('tlv' as const), type: fc.integer({ min: 0, max: 0x7fff }).filter((t) => t !== 14), value: blob(0, 8) }),
);

const transform: fc.Arbitrary<Transform> = fc.record(
  { type: u8, id: u16, keyLength: u16, unknownAttributes: fc.array(attribute, { minLength: 1, maxLength: 3 }) },
  { requiredKeys: ['type', 'id'] },
);

const proposalBody: fc.Arbitrary<Omit<Proposal, 'number'>> = fc.oneof(
  fc.record({ protocolId: fc.constant<number>(ProtocolId.IKE), spi: fc.oneof(blob(0, 0), blob(8, 8)), transforms: fc.array(transform, { minLength: 1, maxLength: 6 }) }),
  fc.record({ protocolId: fc.constantFrom<number>(ProtocolId.ESP, ProtocolId.AH), spi: blob(4, 4), transforms: fc.array(transform, { minLength: 1, maxLength: 6 }) }),
);

const sa: fc.Arbitrary<Payload> = fc
  .tuple(fc.array(proposalBody, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 255 }))
  .map(([bodies, single]) => ({
    type: PayloadType.SA,
    proposals: bodies.map((b, i) => ({ number: bodies.length === 1 ? single : i + 1, ...b })),
  }));

const id: fc.Arbitrary<Payload> = fc
  .tuple(
    fc.constantFrom<typeof PayloadType.IDi | typeof PayloadType.IDr>(PayloadType.IDi, PayloadType.IDr),
    fc.oneof(
      fc.record({ idType: fc.constant<number>(IdType.ID_IPV4_ADDR), data: blob(4, 4) }),
      fc.record({ idType: fc.constant<number>(IdType.ID_IPV6_ADDR), data: blob(16, 16) }),
      fc.record({ idType: fc.constant<number>(IdType.ID_NULL), data: blob(0, 0) }),
      fc.record({ idType: fc.constantFrom<number>(IdType.ID_FQDN, IdType.ID_RFC822_ADDR, IdType.ID_KEY_ID, IdType.ID_DER_ASN1_DN), data: blob(1, 40) }),
    ),
  )
  .map(([type, rest]) => ({ type, ...rest }));

const selector: fc.Arbitrary<TrafficSelector> = fc.oneof(
  fc.record({ tsType: fc.constant<number>(TsType.TS_IPV4_ADDR_RANGE), ipProtocol: u8, startPort: u16, endPort: u16, startAddress: blob(4, 4), endAddress: blob(4, 4) }),
  fc.record({ tsType: fc.constant<number>(TsType.TS_IPV6_ADDR_RANGE), ipProtocol: u8, startPort: u16, endPort: u16, startAddress: blob(16, 16), endAddress: blob(16, 16) }),
);

const notifySpi = fc.oneof(blob(0, 0), blob(4, 4), blob(8, 8));

export const payload: fc.Arbitrary<Payload> = fc.oneof(
  sa,
  fc.record({ type: fc.constant(PayloadType.KE), group: u16, data: blob(1, 80) }),
  id,
  fc.record({ type: fc.constant(PayloadType.CERT), encoding: u8, data: blob(1, 64) }),
  fc.record({ type: fc.constant(PayloadType.CERTREQ), encoding: u8, data: blob(0, 60) }),
  fc.record({ type: fc.constant(PayloadType.AUTH), method: u8, data: blob(1, 64) }),
  fc.record({ type: fc.constant(PayloadType.Nonce), data: blob(16, 256) }),
  fc.record({ type: fc.constant(PayloadType.N), protocolId: u8, spi: notifySpi, notifyType: u16, data: blob(0, 40) }),
  fc.oneof(
    fc.record({ type: fc.constant(PayloadType.D), protocolId: fc.constant<number>(ProtocolId.IKE), spis: fc.constant([] as Uint8Array[]) }),
    fc.record({ type: fc.constant(PayloadType.D), protocolId: fc.constantFrom<number>(ProtocolId.ESP, ProtocolId.AH), spis: fc.array(blob(4, 4), { minLength: 1, maxLength: 5 }) }),
  ),
  fc.record({ type: fc.constant(PayloadType.V), data: blob(0, 32) }),
  fc.record({ type: fc.constantFrom<typeof PayloadType.TSi | typeof PayloadType.TSr>(PayloadType.TSi, PayloadType.TSr), selectors: fc.array(selector, { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constant(PayloadType.CP), cfgType: u8, attributes: fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x7fff }), value: blob(0, 20) }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant(PayloadType.EAP), data: blob(0, 20) }),
);

const header = {
  spiI: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  spiR: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  exchangeType: u8,
  initiator: fc.boolean(),
  response: fc.boolean(),
  higherVersion: fc.constant(true as const),
  messageId: u32,
};

/** fast-check may build records with a null prototype; the decoder builds plain objects. */
const plain = (m: Message): Message => structuredClone(m);

/** Messages with clear payloads only. */
export const clearMessage: fc.Arbitrary<Message> = fc
  .record(
    { ...header, payloads: fc.array(payload, { maxLength: 8 }) },
    { requiredKeys: ['spiI', 'spiR', 'exchangeType', 'initiator', 'response', 'messageId', 'payloads'] },
  )
  .map(plain);

/** Messages with an SK payload (possibly empty) and maybe clear payloads before it. */
export const protectedMessage: fc.Arbitrary<Message> = fc
  .record(
    { ...header, payloads: fc.array(payload, { maxLength: 3 }), encrypted: fc.array(payload, { maxLength: 6 }) },
    { requiredKeys: ['spiI', 'spiR', 'exchangeType', 'initiator', 'response', 'messageId', 'payloads', 'encrypted'] },
  )
  .map(plain);

const TYPES = [33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 53, 200];

/**
 * Payload chains whose generic headers are mostly right but whose bodies are random octets:
 * they get past the chain walk into every body decoder. Returns [first type, chain octets].
 */
export const randomChain: fc.Arbitrary<[number, Uint8Array]> = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      critical: fc.boolean(),
      body: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 80 })),
      lengthSkew: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -6, max: 6 }) }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((items) => {
    const parts: number[] = [];
    items.forEach((it, i) => {
      const length = Math.max(0, 4 + it.body.length + it.lengthSkew);
      parts.push(items[i + 1]?.type ?? 0, it.critical ? 0x80 : 0, length >> 8, length & 0xff, ...it.body);
    });
    return [items[0]!.type, Uint8Array.from(parts)];
  });
