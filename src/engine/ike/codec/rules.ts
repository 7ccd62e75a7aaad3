/**
 * Which payloads each exchange carries (RFC 7296 sections 1.2-1.5 and 2.x), as data, in the
 * manner of strongSwan's message.c payload_rule_t tables: per exchange and direction, the
 * payload types allowed, their minimum and maximum counts, and whether they travel inside SK.
 *
 * checkPayloadRules() runs after decodeMessage()/openMessage() and before any exchange logic,
 * so that the state machines can rely on the required payloads being there.
 *
 * Not covered: IKE fragmentation (RFC 7383, SKF payloads) is not implemented; an SKF payload
 * is skipped by the decoder as unknown, and the message then fails here as 'sk-missing'.
 * IKE_SESSION_RESUME, IKE_INTERMEDIATE and IKE_FOLLOWUP_KE have no rules: 'exchange-unsupported'.
 */
import { ExchangeType, isErrorNotify, NotifyType, PayloadType } from '../constants.js';
import type { Message, NotifyHint, Payload } from './types.js';

/** Caps from strongSwan's message.c (MAX_NOTIFY_PAYLOADS etc.). */
export const MAX_NOTIFY_PAYLOADS = 20;
export const MAX_DELETE_PAYLOADS = 20;
export const MAX_CERT_PAYLOADS = 8;
export const MAX_CERTREQ_PAYLOADS = 20;
export const MAX_VID_PAYLOADS = 20;

export interface PayloadRule {
  type: number;
  min: number;
  max: number;
}

export interface MessageRules {
  /** Whether the payloads travel inside SK (true for every exchange after IKE_SA_INIT). */
  encrypted: boolean;
  /** Allowed payload types with their counts; a type not listed is not allowed. */
  payloads: readonly PayloadRule[];
  /** Groups of types that appear all together or not at all (e.g. SA, TSi, TSr for a child SA). */
  together?: readonly (readonly number[])[];
  /**
   * When the message carries an error notify (or COOKIE, for IKE_SA_INIT), the minimum counts
   * do not apply: e.g. "HDR, N(NO_PROPOSAL_CHOSEN)" or "HDR, N(COOKIE)" as a whole response.
   */
  errorRelaxesMinimum?: boolean;
  /** An SA here answers a request: exactly one proposal (section 2.7). */
  singleProposal?: boolean;
}

const N = { type: PayloadType.N, min: 0, max: MAX_NOTIFY_PAYLOADS };
const V = { type: PayloadType.V, min: 0, max: MAX_VID_PAYLOADS };
const one = (type: number) => ({ type, min: 1, max: 1 });
const optional = (type: number) => ({ type, min: 0, max: 1 });

/** RFC 7296 section 1.2: HDR, SAi1, KEi, Ni  -->  <-- HDR, SAr1, KEr, Nr, [CERTREQ] */
const IKE_SA_INIT_REQUEST: MessageRules = {
  encrypted: false,
  payloads: [N, one(PayloadType.SA), one(PayloadType.KE), one(PayloadType.Nonce), V],
};
const IKE_SA_INIT_RESPONSE: MessageRules = {
  encrypted: false,
  payloads: [N, one(PayloadType.SA), one(PayloadType.KE), one(PayloadType.Nonce), { type: PayloadType.CERTREQ, min: 0, max: MAX_CERTREQ_PAYLOADS }, V],
  errorRelaxesMinimum: true,
  singleProposal: true,
};

/**
 * Section 1.2: HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}  -->
 *           <-- HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
 * SA/TSi/TSr are optional together (childless IKE SAs, RFC 6023, and failed child SAs).
 */
const IKE_AUTH_REQUEST: MessageRules = {
  encrypted: true,
  payloads: [
    N,
    one(PayloadType.IDi),
    { type: PayloadType.CERT, min: 0, max: MAX_CERT_PAYLOADS },
    { type: PayloadType.CERTREQ, min: 0, max: MAX_CERTREQ_PAYLOADS },
    optional(PayloadType.IDr),
    one(PayloadType.AUTH),
    optional(PayloadType.CP),
    optional(PayloadType.SA),
    optional(PayloadType.TSi),
    optional(PayloadType.TSr),
    V,
  ],
  together: [[PayloadType.SA, PayloadType.TSi, PayloadType.TSr]],
};
const IKE_AUTH_RESPONSE: MessageRules = {
  encrypted: true,
  payloads: [
    N,
    one(PayloadType.IDr),
    { type: PayloadType.CERT, min: 0, max: MAX_CERT_PAYLOADS },
    one(PayloadType.AUTH),
    optional(PayloadType.CP),
    optional(PayloadType.SA),
    optional(PayloadType.TSi),
    optional(PayloadType.TSr),
    V,
  ],
  together: [[PayloadType.SA, PayloadType.TSi, PayloadType.TSr]],
  errorRelaxesMinimum: true,
  singleProposal: true,
};

/**
 * Section 1.3: HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}  -->
 *           <-- HDR, SK {SA, Nr, [KEr], [TSi, TSr]}
 * (IKE SA rekey, section 1.3.2, has no TS.)
 */
const CREATE_CHILD_SA_REQUEST: MessageRules = {
  encrypted: true,
  payloads: [N, one(PayloadType.SA), one(PayloadType.Nonce), optional(PayloadType.KE), optional(PayloadType.TSi), optional(PayloadType.TSr), V],
  together: [[PayloadType.TSi, PayloadType.TSr]],
};
const CREATE_CHILD_SA_RESPONSE: MessageRules = {
  ...CREATE_CHILD_SA_REQUEST,
  errorRelaxesMinimum: true,
  singleProposal: true,
};

/**
 * Section 1.4: HDR, SK {[N,] [D,] [CP,] ...}  -->  <-- HDR, SK {[N,] [D,] [CP], ...}
 * An empty SK is the liveness check. meshgate's mesh notifies (MESH_*) travel here.
 */
const INFORMATIONAL_RULES: MessageRules = {
  encrypted: true,
  payloads: [N, { type: PayloadType.D, min: 0, max: MAX_DELETE_PAYLOADS }, optional(PayloadType.CP), V],
};

export const PAYLOAD_RULES: ReadonlyMap<number, { request: MessageRules; response: MessageRules }> = new Map([
  [ExchangeType.IKE_SA_INIT, { request: IKE_SA_INIT_REQUEST, response: IKE_SA_INIT_RESPONSE }],
  [ExchangeType.IKE_AUTH, { request: IKE_AUTH_REQUEST, response: IKE_AUTH_RESPONSE }],
  [ExchangeType.CREATE_CHILD_SA, { request: CREATE_CHILD_SA_REQUEST, response: CREATE_CHILD_SA_RESPONSE }],
  [ExchangeType.INFORMATIONAL, { request: INFORMATIONAL_RULES, response: INFORMATIONAL_RULES }],
]);

export const PAYLOAD_RULE_VIOLATION_REASONS = [
  /** No rules for this exchange type. */
  'exchange-unsupported',
  /** The header's R flag disagrees with the direction the caller checks. */
  'response-flag-mismatch',
  /** The exchange protects its payloads but the message has no SK payload. */
  'sk-missing',
  /** IKE_SA_INIT carries an SK payload. */
  'sk-unexpected',
  /** The SK payload is still sealed: call openMessage() first. */
  'sk-sealed',
  /** A payload outside SK in an exchange that protects all of them. */
  'payload-not-encrypted',
  /** A payload type the exchange does not carry (EAP, always). */
  'payload-not-allowed',
  'payload-too-many',
  'payload-missing',
  /** Only part of a group that travels together (SA, TSi, TSr). */
  'payload-group-incomplete',
  /** A response SA with other than one proposal. */
  'sa-proposal-count',
  /** A request SA whose first proposal is not number 1 (section 3.3.1). */
  'sa-proposal-numbering',
] as const;
export type PayloadRuleViolationReason = (typeof PAYLOAD_RULE_VIOLATION_REASONS)[number];

export interface PayloadRuleViolation {
  reason: PayloadRuleViolationReason;
  payloadType?: number;
  /** What to answer (to a request) if the message was authenticated: INVALID_SYNTAX. */
  notify: NotifyHint;
}

function violation(reason: PayloadRuleViolationReason, payloadType?: number): PayloadRuleViolation {
  const v: PayloadRuleViolation = { reason, notify: { notifyType: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } };
  if (payloadType !== undefined) v.payloadType = payloadType;
  return v;
}

/** Returns the first rule the message breaks, or undefined when it conforms. */
export function checkPayloadRules(message: Message, exchange: number, isResponse: boolean): PayloadRuleViolation | undefined {
  const pair = PAYLOAD_RULES.get(exchange);
  if (!pair) return violation('exchange-unsupported');
  if (message.response !== isResponse) return violation('response-flag-mismatch');
  const rules = isResponse ? pair.response : pair.request;

  let payloads: readonly Payload[];
  if (rules.encrypted) {
    if (message.payloads.length > 0) return violation('payload-not-encrypted', message.payloads[0]!.type);
    if (message.encrypted === undefined) return violation(message.sealed ? 'sk-sealed' : 'sk-missing');
    payloads = message.encrypted;
  } else {
    if (message.encrypted !== undefined || message.sealed) return violation('sk-unexpected', PayloadType.SK);
    payloads = message.payloads;
  }

  const counts = new Map<number, number>();
  for (const p of payloads) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  for (const type of counts.keys()) {
    if (!rules.payloads.some((r) => r.type === type)) return violation('payload-not-allowed', type);
  }
  for (const r of rules.payloads) if ((counts.get(r.type) ?? 0) > r.max) return violation('payload-too-many', r.type);

  const relaxed =
    rules.errorRelaxesMinimum === true &&
    payloads.some(
      (p) => p.type === PayloadType.N && (isErrorNotify(p.notifyType) || (exchange === ExchangeType.IKE_SA_INIT && p.notifyType === NotifyType.COOKIE)),
    );
  if (!relaxed) for (const r of rules.payloads) if ((counts.get(r.type) ?? 0) < r.min) return violation('payload-missing', r.type);

  for (const group of rules.together ?? []) {
    const present = group.filter((t) => counts.has(t));
    if (present.length > 0 && present.length < group.length) return violation('payload-group-incomplete', group.find((t) => !counts.has(t)));
  }

  for (const p of payloads) {
    if (p.type !== PayloadType.SA) continue;
    if (rules.singleProposal && p.proposals.length !== 1) return violation('sa-proposal-count', PayloadType.SA);
    if (!isResponse && p.proposals[0]?.number !== 1) return violation('sa-proposal-numbering', PayloadType.SA);
  }
  return undefined;
}
