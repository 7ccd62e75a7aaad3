/**
 * The IKEv2 message model the codec decodes into and encodes from (RFC 7296 section 3).
 *
 * Payloads are a discriminated union on `type` (the RFC's payload type number, see
 * PayloadType). Fields hold wire values: numbers for the IANA-registered fields, and
 * Uint8Array for opaque data, addresses and payload SPIs. Lengths, "Next Payload" chains,
 * counts and reserved fields are not part of the model: the encoder computes them and the
 * decoder checks them.
 *
 * SPIs: the two IKE SPIs of the header are `bigint` (always 8 octets; bigints compare by
 * value, so they are usable as Map keys for the IKE SA table and print as hex without a
 * helper). SPIs inside payloads (Proposal, Notify, Delete) are `Uint8Array` because their size
 * varies with the protocol (0 or 8 for IKE, 4 for ESP/AH); spi32()/spiFrom32() convert an ESP
 * SPI to and from a number.
 */
import type { PayloadType } from '../constants.js';

/** RFC 7296 section 3.3.5: a transform attribute other than Key Length (kept so that the
 * negotiator can reject the transform, as section 3.3.6 requires for unknown attributes). */
export type TransformAttribute =
  | { readonly format: 'tv'; readonly type: number; readonly value: number }
  | { readonly format: 'tlv'; readonly type: number; readonly value: Uint8Array };

/** RFC 7296 section 3.3.2. */
export interface Transform {
  /** TransformType (ENCR, PRF, INTEG, DH, ESN). */
  type: number;
  /** Transform ID within the type, e.g. EncrTransformId.ENCR_AES_GCM_16. */
  id: number;
  /** Key Length attribute (type 14, TV) in bits, when present. */
  keyLength?: number;
  /** Any other attributes, in wire order; non-empty means "unknown attribute" (section 3.3.6). */
  unknownAttributes?: TransformAttribute[];
}

/** RFC 7296 section 3.3.1. */
export interface Proposal {
  /** Proposal Num: 1 for the first proposal, each next one more; a response echoes the chosen one. */
  number: number;
  /** ProtocolId.IKE, ESP or AH. */
  protocolId: number;
  /** Empty (IKE in IKE_SA_INIT), 8 octets (IKE rekey) or 4 octets (ESP, AH). */
  spi: Uint8Array;
  transforms: Transform[];
}

export interface SaPayload {
  type: typeof PayloadType.SA;
  proposals: Proposal[];
}

/** RFC 7296 section 3.4. */
export interface KePayload {
  type: typeof PayloadType.KE;
  /** Diffie-Hellman Group Num (DhTransformId). */
  group: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.5 (IDi and IDr share the layout). */
export interface IdPayload {
  type: typeof PayloadType.IDi | typeof PayloadType.IDr;
  /** IdType. ID_IPV4_ADDR data is 4 octets, ID_IPV6_ADDR 16; ID_NULL is empty. */
  idType: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.6. */
export interface CertPayload {
  type: typeof PayloadType.CERT;
  /** CertEncoding, e.g. X509_SIGNATURE (DER certificate). */
  encoding: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.7. For X.509 the data is a concatenation of 20-octet SHA-1 key hashes. */
export interface CertReqPayload {
  type: typeof PayloadType.CERTREQ;
  encoding: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.8. */
export interface AuthPayload {
  type: typeof PayloadType.AUTH;
  /** AuthMethod. */
  method: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.9 (Ni, Nr): 16 to 256 octets. */
export interface NoncePayload {
  type: typeof PayloadType.Nonce;
  data: Uint8Array;
}

/** RFC 7296 section 3.10. */
export interface NotifyPayload {
  type: typeof PayloadType.N;
  /** ProtocolId; NONE (0) when the SPI is empty. */
  protocolId: number;
  /** Empty, 4 octets (ESP/AH SPI) or 8 octets (an IKE SPI). */
  spi: Uint8Array;
  /** NotifyType. */
  notifyType: number;
  data: Uint8Array;
}

/** RFC 7296 section 3.11. IKE: no SPIs (deletes the SA the message belongs to); ESP/AH: 4-octet SPIs. */
export interface DeletePayload {
  type: typeof PayloadType.D;
  protocolId: number;
  spis: Uint8Array[];
}

/** RFC 7296 section 3.12. */
export interface VendorIdPayload {
  type: typeof PayloadType.V;
  data: Uint8Array;
}

/** RFC 7296 section 3.13.1. */
export interface TrafficSelector {
  /** TsType.TS_IPV4_ADDR_RANGE (addresses of 4 octets) or TS_IPV6_ADDR_RANGE (16 octets). */
  tsType: number;
  /** IP protocol number, 0 = any. */
  ipProtocol: number;
  startPort: number;
  endPort: number;
  startAddress: Uint8Array;
  endAddress: Uint8Array;
}

/** RFC 7296 section 3.13 (TSi and TSr share the layout). At least one selector. */
export interface TsPayload {
  type: typeof PayloadType.TSi | typeof PayloadType.TSr;
  selectors: TrafficSelector[];
}

/** RFC 7296 section 3.15.1. */
export interface CfgAttribute {
  /** CfgAttributeType (15 bits). */
  type: number;
  value: Uint8Array;
}

/** RFC 7296 section 3.15. */
export interface CpPayload {
  type: typeof PayloadType.CP;
  /** CfgType. */
  cfgType: number;
  attributes: CfgAttribute[];
}

/** RFC 7296 section 3.16. Decoded only so that the payload rules can refuse it: meshgate has no EAP. */
export interface EapPayload {
  type: typeof PayloadType.EAP;
  data: Uint8Array;
}

/** Every payload the codec understands, except SK, which is modelled by Message.encrypted/sealed. */
export type Payload =
  | SaPayload
  | KePayload
  | IdPayload
  | CertPayload
  | CertReqPayload
  | AuthPayload
  | NoncePayload
  | NotifyPayload
  | DeletePayload
  | VendorIdPayload
  | TsPayload
  | CpPayload
  | EapPayload;

/** The SK payload of a decoded message before openMessage() decrypted it. */
export interface SealedSk {
  /** Type of the first payload inside (the SK payload's Next Payload field); 0 = empty. */
  firstPayload: number;
  /** Octet offset of the SK payload in the message: AAD = message[0, skOffset + 4). */
  skOffset: number;
  /** The raw message the offsets refer to (the decoder's input, not copied). */
  raw: Uint8Array;
}

/** One IKEv2 message: the header fields plus its payloads. */
export interface Message {
  spiI: bigint;
  spiR: bigint;
  /** ExchangeType. */
  exchangeType: number;
  /** The I flag: sent by the original initiator of the IKE SA. */
  initiator: boolean;
  /** The R flag. */
  response: boolean;
  /** The V flag ("can speak a higher major version"). Absent means clear. */
  higherVersion?: boolean;
  messageId: number;
  /** Payloads outside SK, in wire order. */
  payloads: Payload[];
  /**
   * Payloads inside SK, in wire order. Defined iff the message has an SK payload and it is
   * readable: set by the caller before encodeMessage() (which then needs an SkProtection),
   * and by openMessage() after decryption. `[]` is an SK payload with nothing inside (the
   * INFORMATIONAL liveness check).
   */
  encrypted?: Payload[];
  /** Set by decodeMessage() when the message has an SK payload; openMessage() consumes it. */
  sealed?: SealedSk;
  /** Types of unknown non-critical payloads that the decoder skipped (RFC 7296 section 3.2). */
  skipped?: number[];
}

/**
 * Why a message was dropped: a closed set, so that each value can be a counter (the engine
 * can preallocate one per entry of DECODE_FAILURE_REASONS). `notify` in the failure says what
 * the RFC wants sent back, if anything.
 */
export const DECODE_FAILURE_REASONS = [
  /** Fewer than 28 octets. */
  'truncated-header',
  /** Major version other than 2 (section 2.5). */
  'unsupported-major-version',
  /** The header's Length is not the datagram's length. */
  'length-mismatch',
  /** A payload header or body extends beyond the end of its enclosing chain. */
  'payload-truncated',
  /** A payload's length is shorter than its generic header or its fixed part. */
  'payload-length-invalid',
  /** The payload chain ends (Next Payload 0) before the message does. */
  'chain-length-mismatch',
  /** More than MAX_PAYLOADS payloads. */
  'too-many-payloads',
  /** An unknown payload type with the critical bit set (section 2.5). */
  'unsupported-critical-payload',
  /** SK is not the last payload of the message. */
  'sk-not-last',
  /** An SK payload inside an SK payload. */
  'sk-nested',
  /** SK too short for IV, pad length and ICV. */
  'sk-truncated',
  /** The ICV did not verify. */
  'sk-auth-failed',
  /** Pad Length points before the start of the plaintext. */
  'sk-padding-invalid',
  /** openMessage() on a message that has no sealed SK payload. */
  'sk-missing',
  /** SA: substructure lengths, Last Substruc values, or attribute layout wrong. */
  'sa-malformed',
  /** SA: proposal numbers not consecutive. */
  'sa-proposal-numbering',
  /** SA: Num Transforms does not match the transforms present. */
  'sa-transform-count-mismatch',
  /** SA: SPI size does not fit the protocol (IKE 0/8, ESP/AH 4) or unknown protocol. */
  'sa-spi-size-invalid',
  'ke-malformed',
  'id-malformed',
  'cert-malformed',
  'auth-malformed',
  /** Nonce shorter than 16 or longer than 256 octets. */
  'nonce-length-invalid',
  'notify-malformed',
  'delete-malformed',
  'ts-malformed',
  'cp-malformed',
] as const;
export type DecodeFailureReason = (typeof DECODE_FAILURE_REASONS)[number];

/** What the receiver should answer with, when the RFC asks for an answer at all. */
export interface NotifyHint {
  notifyType: number;
  data: Uint8Array;
}

export interface DecodeFailure {
  ok: false;
  reason: DecodeFailureReason;
  /** The payload type involved, when there is one (e.g. the unsupported critical payload). */
  payloadType?: number;
  /** Octet offset in the decoded buffer where the problem was found. */
  offset?: number;
  notify?: NotifyHint;
}

export type DecodeResult<T> = { ok: true; message: T } | DecodeFailure;
