/**
 * Security Association payload (RFC 7296 section 3.3): proposals (3.3.1), transforms (3.3.2)
 * and transform attributes (3.3.5).
 *
 * Proposal substructure:
 *  | Last Substruc |   RESERVED    |         Proposal Length       |
 *  | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
 *  ~                        SPI (variable)                         ~
 *  ~                        <Transforms>                           ~
 *
 * Transform substructure:
 *  | Last Substruc |   RESERVED    |        Transform Length       |
 *  |Transform Type |   RESERVED    |          Transform ID         |
 *  ~                      Transform Attributes                     ~
 *
 * Data attribute:  |A|  Attribute Type  |  AF=0 Length / AF=1 Value  |  [AF=0 Value]
 */
import { CHILD_SPI_SIZE, IKE_SPI_SIZE, PayloadType, ProtocolId, TransformAttributeType } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type { DecodeFailureReason, Proposal, SaPayload, Transform, TransformAttribute } from '../types.js';
import { checkBodyLength, checkU16, checkU8, concat, copy, byteView } from './bytes.js';

export const PROPOSAL_HEADER_LENGTH = 8;
export const TRANSFORM_HEADER_LENGTH = 8;
export const ATTRIBUTE_HEADER_LENGTH = 4;
/** Last Substruc values (section 3.3.1, 3.3.2). */
export const LAST_SUBSTRUC_LAST = 0;
export const LAST_SUBSTRUC_MORE_PROPOSALS = 2;
export const LAST_SUBSTRUC_MORE_TRANSFORMS = 3;
/** The AF bit of a data attribute: set = TV (2-octet value inline), clear = TLV. */
const ATTRIBUTE_FORMAT_TV = 0x8000;

/** SPI sizes a protocol admits in an SA proposal (section 3.3.1). */
export function spiSizeValid(protocolId: number, size: number): boolean {
  switch (protocolId) {
    case ProtocolId.IKE:
      return size === 0 || size === IKE_SPI_SIZE;
    case ProtocolId.ESP:
    case ProtocolId.AH:
      return size === CHILD_SPI_SIZE;
    default:
      return false;
  }
}

export function decodeSa(body: Uint8Array): SaPayload | DecodeFailureReason {
  const dv = byteView(body);
  const proposals: Proposal[] = [];
  let off = 0;
  let last = false;
  while (!last) {
    if (off + PROPOSAL_HEADER_LENGTH > body.length) return 'sa-malformed';
    const lastSubstruc = dv.getUint8(off);
    if (lastSubstruc === LAST_SUBSTRUC_LAST) last = true;
    else if (lastSubstruc !== LAST_SUBSTRUC_MORE_PROPOSALS) return 'sa-malformed';
    const length = dv.getUint16(off + 2);
    if (length < PROPOSAL_HEADER_LENGTH || off + length > body.length) return 'sa-malformed';
    const number = dv.getUint8(off + 4);
    const protocolId = dv.getUint8(off + 5);
    const spiSize = dv.getUint8(off + 6);
    const numTransforms = dv.getUint8(off + 7);
    if (number === 0) return 'sa-proposal-numbering';
    const prev = proposals[proposals.length - 1];
    if (prev ? number !== prev.number + 1 : !last && number !== 1) return 'sa-proposal-numbering';
    if (!spiSizeValid(protocolId, spiSize)) return 'sa-spi-size-invalid';
    if (PROPOSAL_HEADER_LENGTH + spiSize > length) return 'sa-malformed';
    const spi = copy(body.subarray(off + PROPOSAL_HEADER_LENGTH, off + PROPOSAL_HEADER_LENGTH + spiSize));
    const transforms = decodeTransforms(body.subarray(off + PROPOSAL_HEADER_LENGTH + spiSize, off + length));
    if (typeof transforms === 'string') return transforms;
    if (transforms.length !== numTransforms) return 'sa-transform-count-mismatch';
    if (numTransforms === 0) return 'sa-malformed';
    proposals.push({ number, protocolId, spi, transforms });
    off += length;
  }
  if (off !== body.length) return 'sa-malformed';
  return { type: PayloadType.SA, proposals };
}

function decodeTransforms(bytes: Uint8Array): Transform[] | DecodeFailureReason {
  const dv = byteView(bytes);
  const transforms: Transform[] = [];
  let off = 0;
  let last = bytes.length === 0;
  while (!last) {
    if (off + TRANSFORM_HEADER_LENGTH > bytes.length) return 'sa-malformed';
    const lastSubstruc = dv.getUint8(off);
    if (lastSubstruc === LAST_SUBSTRUC_LAST) last = true;
    else if (lastSubstruc !== LAST_SUBSTRUC_MORE_TRANSFORMS) return 'sa-malformed';
    const length = dv.getUint16(off + 2);
    if (length < TRANSFORM_HEADER_LENGTH || off + length > bytes.length) return 'sa-malformed';
    const transform: Transform = { type: dv.getUint8(off + 4), id: dv.getUint16(off + 6) };
    let a = off + TRANSFORM_HEADER_LENGTH;
    const end = off + length;
    while (a < end) {
      if (a + ATTRIBUTE_HEADER_LENGTH > end) return 'sa-malformed';
      const word = dv.getUint16(a);
      const type = word & 0x7fff;
      const tv = (word & ATTRIBUTE_FORMAT_TV) !== 0;
      if (tv) {
        const value = dv.getUint16(a + 2);
        if (type === TransformAttributeType.KEY_LENGTH) {
          if (transform.keyLength !== undefined) return 'sa-malformed';
          transform.keyLength = value;
        } else {
          (transform.unknownAttributes ??= []).push({ format: 'tv', type, value });
        }
        a += ATTRIBUTE_HEADER_LENGTH;
      } else {
        // Key Length is defined as TV only (section 3.3.5).
        if (type === TransformAttributeType.KEY_LENGTH) return 'sa-malformed';
        const valueLength = dv.getUint16(a + 2);
        if (a + ATTRIBUTE_HEADER_LENGTH + valueLength > end) return 'sa-malformed';
        const value = copy(bytes.subarray(a + ATTRIBUTE_HEADER_LENGTH, a + ATTRIBUTE_HEADER_LENGTH + valueLength));
        (transform.unknownAttributes ??= []).push({ format: 'tlv', type, value });
        a += ATTRIBUTE_HEADER_LENGTH + valueLength;
      }
    }
    transforms.push(transform);
    off += length;
  }
  if (off !== bytes.length) return 'sa-malformed';
  return transforms;
}

const T = PayloadType.SA;

export function encodeSa(p: SaPayload): Uint8Array {
  if (p.proposals.length === 0) throw new IkeEncodeError('SA payload without proposals', T);
  const parts: Uint8Array[] = [];
  p.proposals.forEach((proposal, i) => {
    checkU8(proposal.number, 'proposal number', T);
    if (proposal.number === 0) throw new IkeEncodeError('proposal number 0', T);
    if (i > 0 && proposal.number !== p.proposals[i - 1]!.number + 1) throw new IkeEncodeError('proposal numbers not consecutive', T);
    if (i === 0 && p.proposals.length > 1 && proposal.number !== 1) throw new IkeEncodeError('first of several proposals is not 1', T);
    checkU8(proposal.protocolId, 'protocol ID', T);
    if (!spiSizeValid(proposal.protocolId, proposal.spi.length)) {
      throw new IkeEncodeError(`SPI of ${proposal.spi.length} octets for protocol ${proposal.protocolId}`, T);
    }
    if (proposal.transforms.length === 0 || proposal.transforms.length > 0xff) {
      throw new IkeEncodeError(`${proposal.transforms.length} transforms in a proposal`, T);
    }
    const transforms = proposal.transforms.map((t, j) => encodeTransform(t, j === proposal.transforms.length - 1));
    const length = PROPOSAL_HEADER_LENGTH + proposal.spi.length + transforms.reduce((n, t) => n + t.length, 0);
    checkU16(length, 'proposal length', T);
    const head = new Uint8Array(PROPOSAL_HEADER_LENGTH);
    const dv = byteView(head);
    dv.setUint8(0, i === p.proposals.length - 1 ? LAST_SUBSTRUC_LAST : LAST_SUBSTRUC_MORE_PROPOSALS);
    dv.setUint16(2, length);
    dv.setUint8(4, proposal.number);
    dv.setUint8(5, proposal.protocolId);
    dv.setUint8(6, proposal.spi.length);
    dv.setUint8(7, proposal.transforms.length);
    parts.push(head, proposal.spi, ...transforms);
  });
  const body = concat(parts);
  checkBodyLength(body.length, T);
  return body;
}

function encodeTransform(t: Transform, isLast: boolean): Uint8Array {
  checkU8(t.type, 'transform type', T);
  checkU16(t.id, 'transform ID', T);
  const attrs: Uint8Array[] = [];
  if (t.keyLength !== undefined) attrs.push(encodeAttribute({ format: 'tv', type: TransformAttributeType.KEY_LENGTH, value: t.keyLength }));
  for (const a of t.unknownAttributes ?? []) {
    if (a.type === TransformAttributeType.KEY_LENGTH) throw new IkeEncodeError('Key Length belongs in Transform.keyLength', T);
    attrs.push(encodeAttribute(a));
  }
  const length = TRANSFORM_HEADER_LENGTH + attrs.reduce((n, a) => n + a.length, 0);
  checkU16(length, 'transform length', T);
  const head = new Uint8Array(TRANSFORM_HEADER_LENGTH);
  const dv = byteView(head);
  dv.setUint8(0, isLast ? LAST_SUBSTRUC_LAST : LAST_SUBSTRUC_MORE_TRANSFORMS);
  dv.setUint16(2, length);
  dv.setUint8(4, t.type);
  dv.setUint16(6, t.id);
  return concat([head, ...attrs]);
}

function encodeAttribute(a: TransformAttribute): Uint8Array {
  if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) throw new IkeEncodeError(`attribute type ${a.type} out of range`, T);
  if (a.format === 'tv') {
    checkU16(a.value, 'attribute value', T);
    const out = new Uint8Array(ATTRIBUTE_HEADER_LENGTH);
    const dv = byteView(out);
    dv.setUint16(0, ATTRIBUTE_FORMAT_TV | a.type);
    dv.setUint16(2, a.value);
    return out;
  }
  checkU16(a.value.length, 'attribute length', T);
  const out = new Uint8Array(ATTRIBUTE_HEADER_LENGTH + a.value.length);
  const dv = byteView(out);
  dv.setUint16(0, a.type);
  dv.setUint16(2, a.value.length);
  out.set(a.value, ATTRIBUTE_HEADER_LENGTH);
  return out;
}
