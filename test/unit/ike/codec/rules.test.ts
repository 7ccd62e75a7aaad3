import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPayloadRules, type Message, type Payload } from '../../../../src/engine/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId } from '../../../../src/engine/ike/constants.js';
import { bytes } from './fixtures.js';

const { IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL } = ExchangeType;

const none = new Uint8Array(0);
const sa = (n = 1, count = 1): Payload => ({
  type: PayloadType.SA,
  proposals: Array.from({ length: count }, (_, i) => ({ number: n + i, protocolId: ProtocolId.ESP, spi: bytes(4), transforms: [{ type: 1, id: 28 }] })),
});
const ke: Payload = { type: PayloadType.KE, group: 31, data: bytes(32) };
const no: Payload = { type: PayloadType.Nonce, data: bytes(32) };
const n = (notifyType: number): Payload => ({ type: PayloadType.N, protocolId: 0, spi: none, notifyType, data: none });
const idi: Payload = { type: PayloadType.IDi, idType: 2, data: bytes(4, 0x61) };
const idr: Payload = { type: PayloadType.IDr, idType: 2, data: bytes(4, 0x62) };
const auth: Payload = { type: PayloadType.AUTH, method: 2, data: bytes(32) };
const ts = (type: typeof PayloadType.TSi | typeof PayloadType.TSr): Payload => ({
  type,
  selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: bytes(4, 0), endAddress: bytes(4, 255) }],
});
const tsi = ts(PayloadType.TSi);
const tsr = ts(PayloadType.TSr);
const del: Payload = { type: PayloadType.D, protocolId: ProtocolId.ESP, spis: [bytes(4)] };
const eap: Payload = { type: PayloadType.EAP, data: bytes(5) };
const v: Payload = { type: PayloadType.V, data: bytes(16) };
const cert: Payload = { type: PayloadType.CERT, encoding: 4, data: bytes(10) };

function clear(exchangeType: number, response: boolean, payloads: Payload[]): Message {
  return { spiI: 1n, spiR: response ? 2n : 0n, exchangeType, initiator: !response, response, messageId: 0, payloads };
}
function sk(exchangeType: number, response: boolean, encrypted: Payload[]): Message {
  return { ...clear(exchangeType, response, []), messageId: 1, encrypted };
}

type Case = [name: string, message: Message, expected: string | undefined, payloadType?: number];

const cases: Case[] = [
  // IKE_SA_INIT, RFC 7296 section 1.2
  ['INIT request', clear(IKE_SA_INIT, false, [sa(), ke, no, n(NotifyType.NAT_DETECTION_SOURCE_IP), v]), undefined],
  ['INIT request with COOKIE first', clear(IKE_SA_INIT, false, [n(NotifyType.COOKIE), sa(), ke, no]), undefined],
  ['INIT request without KE', clear(IKE_SA_INIT, false, [sa(), no]), 'payload-missing', PayloadType.KE],
  ['INIT request with two nonces', clear(IKE_SA_INIT, false, [sa(), ke, no, no]), 'payload-too-many', PayloadType.Nonce],
  ['INIT request with an ID', clear(IKE_SA_INIT, false, [sa(), ke, no, idi]), 'payload-not-allowed', PayloadType.IDi],
  ['INIT request with EAP', clear(IKE_SA_INIT, false, [sa(), ke, no, eap]), 'payload-not-allowed', PayloadType.EAP],
  ['INIT request, SA first proposal 2', clear(IKE_SA_INIT, false, [sa(2), ke, no]), 'sa-proposal-numbering', PayloadType.SA],
  ['INIT request, SA of three proposals', clear(IKE_SA_INIT, false, [sa(1, 3), ke, no]), undefined],
  ['INIT request inside SK', sk(IKE_SA_INIT, false, [sa(), ke, no]), 'sk-unexpected', PayloadType.SK],
  ['INIT response with CERTREQ', clear(IKE_SA_INIT, true, [sa(), ke, no, { type: PayloadType.CERTREQ, encoding: 4, data: none }]), undefined],
  ['INIT response of two proposals', clear(IKE_SA_INIT, true, [sa(1, 2), ke, no]), 'sa-proposal-count', PayloadType.SA],
  ['INIT response, chosen proposal 3', clear(IKE_SA_INIT, true, [sa(3), ke, no]), undefined],
  ['INIT response N(NO_PROPOSAL_CHOSEN) alone', clear(IKE_SA_INIT, true, [n(NotifyType.NO_PROPOSAL_CHOSEN)]), undefined],
  ['INIT response N(COOKIE) alone', clear(IKE_SA_INIT, true, [n(NotifyType.COOKIE)]), undefined],
  ['INIT response without KE and no error', clear(IKE_SA_INIT, true, [sa(), no, n(NotifyType.NAT_DETECTION_SOURCE_IP)]), 'payload-missing', PayloadType.KE],
  ['INIT request direction mismatch', clear(IKE_SA_INIT, true, [sa(), ke, no]), 'response-flag-mismatch'],
  // IKE_AUTH
  ['AUTH request', sk(IKE_AUTH, false, [idi, n(NotifyType.INITIAL_CONTACT), cert, idr, auth, sa(), tsi, tsr]), undefined],
  ['AUTH request childless', sk(IKE_AUTH, false, [idi, auth]), undefined],
  ['AUTH request, SA without TS', sk(IKE_AUTH, false, [idi, auth, sa()]), 'payload-group-incomplete', PayloadType.TSi],
  ['AUTH request without AUTH (EAP)', sk(IKE_AUTH, false, [idi, sa(), tsi, tsr, eap]), 'payload-not-allowed', PayloadType.EAP],
  ['AUTH request without AUTH', sk(IKE_AUTH, false, [idi, sa(), tsi, tsr]), 'payload-missing', PayloadType.AUTH],
  ['AUTH request in the clear', clear(IKE_AUTH, false, [idi, auth]), 'payload-not-encrypted', PayloadType.IDi],
  ['AUTH request, nine CERTs', sk(IKE_AUTH, false, [idi, ...Array<Payload>(9).fill(cert), auth]), 'payload-too-many', PayloadType.CERT],
  ['AUTH response', sk(IKE_AUTH, true, [idr, auth, sa(), tsi, tsr]), undefined],
  ['AUTH response with IDi', sk(IKE_AUTH, true, [idi, idr, auth]), 'payload-not-allowed', PayloadType.IDi],
  ['AUTH response N(AUTHENTICATION_FAILED) alone', sk(IKE_AUTH, true, [n(NotifyType.AUTHENTICATION_FAILED)]), undefined],
  ['AUTH response with N(TS_UNACCEPTABLE), no child', sk(IKE_AUTH, true, [idr, auth, n(NotifyType.TS_UNACCEPTABLE)]), undefined],
  ['AUTH response without IDr', sk(IKE_AUTH, true, [auth, sa(), tsi, tsr]), 'payload-missing', PayloadType.IDr],
  ['AUTH response still sealed', { ...clear(IKE_AUTH, true, []), sealed: { firstPayload: 36, skOffset: 28, raw: new Uint8Array(60) } }, 'sk-sealed'],
  ['AUTH response without SK', clear(IKE_AUTH, true, []), 'sk-missing'],
  // CREATE_CHILD_SA, section 1.3
  ['CHILD request', sk(CREATE_CHILD_SA, false, [sa(), no, ke, tsi, tsr]), undefined],
  ['CHILD rekey request', sk(CREATE_CHILD_SA, false, [n(NotifyType.REKEY_SA), sa(), no, tsi, tsr]), undefined],
  ['IKE rekey request (no TS)', sk(CREATE_CHILD_SA, false, [sa(), no, ke]), undefined],
  ['CHILD request, TSi only', sk(CREATE_CHILD_SA, false, [sa(), no, tsi]), 'payload-group-incomplete', PayloadType.TSr],
  ['CHILD request without nonce', sk(CREATE_CHILD_SA, false, [sa(), tsi, tsr]), 'payload-missing', PayloadType.Nonce],
  ['CHILD response', sk(CREATE_CHILD_SA, true, [sa(2), no, tsi, tsr]), undefined],
  ['CHILD response N(NO_ADDITIONAL_SAS)', sk(CREATE_CHILD_SA, true, [n(NotifyType.NO_ADDITIONAL_SAS)]), undefined],
  ['CHILD response N(TEMPORARY_FAILURE)', sk(CREATE_CHILD_SA, true, [n(NotifyType.TEMPORARY_FAILURE)]), undefined],
  ['CHILD response with AUTH', sk(CREATE_CHILD_SA, true, [sa(), no, auth]), 'payload-not-allowed', PayloadType.AUTH],
  // INFORMATIONAL, section 1.4
  ['INFO liveness', sk(INFORMATIONAL, false, []), undefined],
  ['INFO delete', sk(INFORMATIONAL, false, [del, del]), undefined],
  ['INFO mesh notifies with V', sk(INFORMATIONAL, false, [n(NotifyType.MESH_SHORTCUT_REQUEST), v]), undefined],
  ['INFO response empty', sk(INFORMATIONAL, true, []), undefined],
  ['INFO with SA', sk(INFORMATIONAL, false, [sa()]), 'payload-not-allowed', PayloadType.SA],
  ['INFO with 21 notifies', sk(INFORMATIONAL, false, Array<Payload>(21).fill(n(NotifyType.MESH_REFUSED))), 'payload-too-many', PayloadType.N],
  ['INFO in the clear', clear(INFORMATIONAL, false, [del]), 'payload-not-encrypted', PayloadType.D],
  // Other exchanges
  ['IKE_INTERMEDIATE', sk(ExchangeType.IKE_INTERMEDIATE, false, []), 'exchange-unsupported'],
];

for (const [name, message, expected, payloadType] of cases) {
  test(`payload rules: ${name} -> ${expected ?? 'ok'}`, () => {
    const violation = checkPayloadRules(message, message.exchangeType, name.includes('direction mismatch') ? false : message.response);
    assert.equal(violation?.reason, expected);
    if (payloadType !== undefined) assert.equal(violation?.payloadType, payloadType);
    if (violation) assert.equal(violation.notify.notifyType, NotifyType.INVALID_SYNTAX);
  });
}
