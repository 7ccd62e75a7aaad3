/**
 * The IKEv2 wire codec (RFC 7296 section 3) and its per-exchange payload rules.
 *
 * Receive path:
 *   const d = decodeMessage(datagram);            // never throws
 *   if (!d.ok) { count(d.reason); maybe answer d.notify; return; }
 *   const o = d.message.sealed ? openMessage(d.message, inboundAead) : d;
 *   if (!o.ok) { count(o.reason); ... }
 *   const v = checkPayloadRules(o.message, o.message.exchangeType, o.message.response);
 *
 * Decoded payload fields are copies; only `message.sealed.raw` references the datagram, so
 * call openMessage() before the receive buffer is reused.
 *
 * Send path:
 *   encodeMessage({ spiI, spiR, exchangeType, initiator, response, messageId,
 *                   payloads: [], encrypted: [idi, auth, sa, tsi, tsr] },
 *                 { aead: outboundAead, nextIv });
 */
export { IkeEncodeError } from './errors.js';
export { decodeHeader, IKE_HEADER_LENGTH, type HeaderResult, type IkeHeader } from './header.js';
export { CRITICAL_FLAG, GENERIC_PAYLOAD_HEADER_LENGTH, MAX_PAYLOADS } from './chain.js';
export { decodeMessage, encodeMessage } from './message.js';
export { DECODE_FAILURE_REASONS } from './types.js';
export { openMessage, skPayloadLength, type SkProtection } from './sk.js';
export {
  checkPayloadRules,
  PAYLOAD_RULE_VIOLATION_REASONS,
  PAYLOAD_RULES,
  type MessageRules,
  type PayloadRule,
  type PayloadRuleViolation,
  type PayloadRuleViolationReason,
} from './rules.js';
export { formatAddress, rangeText, stringifyMessage, stringifyPayload, type StringifyOptions } from './stringify.js';
export { isKnownPayloadType } from './payloads/index.js';
export { spiSizeValid } from './payloads/sa.js';
export { nonceLengthValid } from './payloads/simple.js';
export { tsAddressLength } from './payloads/ts.js';
export type {
  AuthPayload,
  CertPayload,
  CertReqPayload,
  CfgAttribute,
  CpPayload,
  DecodeFailure,
  DecodeFailureReason,
  DecodeResult,
  DeletePayload,
  EapPayload,
  IdPayload,
  KePayload,
  Message,
  NoncePayload,
  NotifyHint,
  NotifyPayload,
  Payload,
  Proposal,
  SaPayload,
  SealedSk,
  TrafficSelector,
  Transform,
  TransformAttribute,
  TsPayload,
  VendorIdPayload,
} from './types.js';
export {
  COOKIE_MAX_LENGTH,
  COOKIE_MIN_LENGTH,
  cookieLengthValid,
  decodeHashAlgorithms,
  decodeInvalidKeGroup,
  decodeWindowSize,
  encodeHashAlgorithms,
  encodeInvalidKeGroup,
  encodeWindowSize,
  NAT_DETECTION_DATA_LENGTH,
} from './notify-data.js';
export { findNotify, findPayload, findPayloads, spi32, spiFrom32, spiFrom64, spi64, type PayloadOf } from './helpers.js';
