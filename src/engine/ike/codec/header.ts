/**
 * The IKE header (RFC 7296 section 3.1), 28 octets:
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Initiator's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Responder's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Message ID                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Length                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { HeaderFlag, IKE_MAJOR_VERSION, IKE_MINOR_VERSION, NotifyType } from '../constants.js';
import type { DecodeFailure } from './types.js';
import { IkeEncodeError } from './errors.js';
import { byteView } from './payloads/bytes.js';

export const IKE_HEADER_LENGTH = 28;
export const IKE_HEADER_OFFSET_NEXT_PAYLOAD = 16;
export const IKE_HEADER_OFFSET_VERSION = 17;
export const IKE_HEADER_OFFSET_EXCHANGE_TYPE = 18;
export const IKE_HEADER_OFFSET_FLAGS = 19;
export const IKE_HEADER_OFFSET_MESSAGE_ID = 20;
export const IKE_HEADER_OFFSET_LENGTH = 24;

/** The header as on the wire, for the receive path's dispatch (SA lookup, retransmit check). */
export interface IkeHeader {
  spiI: bigint;
  spiR: bigint;
  nextPayload: number;
  majorVersion: number;
  minorVersion: number;
  exchangeType: number;
  initiator: boolean;
  response: boolean;
  higherVersion: boolean;
  messageId: number;
  length: number;
}

export type HeaderResult = { ok: true; header: IkeHeader } | DecodeFailure;

const MAX_U64 = (1n << 64n) - 1n;


/**
 * Reads and checks the header of a datagram: at least 28 octets, major version 2, and the
 * Length field equal to the datagram length. Never throws.
 */
export function decodeHeader(bytes: Uint8Array): HeaderResult {
  if (bytes.length < IKE_HEADER_LENGTH) return { ok: false, reason: 'truncated-header', offset: 0 };
  const dv = byteView(bytes);
  const version = dv.getUint8(IKE_HEADER_OFFSET_VERSION);
  const majorVersion = version >>> 4;
  if (majorVersion !== IKE_MAJOR_VERSION) {
    // Section 2.5: a higher major version is answered with INVALID_MAJOR_VERSION (unencrypted,
    // our version in the header); a lower one (IKEv1) is not ours to answer.
    const failure: DecodeFailure = { ok: false, reason: 'unsupported-major-version', offset: IKE_HEADER_OFFSET_VERSION };
    if (majorVersion > IKE_MAJOR_VERSION) failure.notify = { notifyType: NotifyType.INVALID_MAJOR_VERSION, data: new Uint8Array(0) };
    return failure;
  }
  const length = dv.getUint32(IKE_HEADER_OFFSET_LENGTH);
  if (length !== bytes.length) return { ok: false, reason: 'length-mismatch', offset: IKE_HEADER_OFFSET_LENGTH };
  const flags = dv.getUint8(IKE_HEADER_OFFSET_FLAGS);
  return {
    ok: true,
    header: {
      spiI: dv.getBigUint64(0),
      spiR: dv.getBigUint64(8),
      nextPayload: dv.getUint8(IKE_HEADER_OFFSET_NEXT_PAYLOAD),
      majorVersion,
      minorVersion: version & 0x0f,
      exchangeType: dv.getUint8(IKE_HEADER_OFFSET_EXCHANGE_TYPE),
      // Section 3.1: the other flag bits are reserved, ignored on receipt.
      initiator: (flags & HeaderFlag.INITIATOR) !== 0,
      response: (flags & HeaderFlag.RESPONSE) !== 0,
      higherVersion: (flags & HeaderFlag.VERSION) !== 0,
      messageId: dv.getUint32(IKE_HEADER_OFFSET_MESSAGE_ID),
      length,
    },
  };
}

export interface HeaderFields {
  spiI: bigint;
  spiR: bigint;
  exchangeType: number;
  initiator: boolean;
  response: boolean;
  higherVersion?: boolean;
  messageId: number;
}

/** Writes a 28-octet header at offset 0 of `out`. */
export function writeHeader(out: Uint8Array, h: HeaderFields, nextPayload: number, length: number): void {
  if (h.spiI < 0n || h.spiI > MAX_U64 || h.spiR < 0n || h.spiR > MAX_U64) throw new IkeEncodeError('IKE SPI out of 64-bit range');
  if (!isU8(h.exchangeType)) throw new IkeEncodeError(`exchange type ${h.exchangeType} out of range`);
  if (!isU32(h.messageId)) throw new IkeEncodeError(`message ID ${h.messageId} out of range`);
  if (!isU32(length)) throw new IkeEncodeError(`message length ${length} out of range`);
  const dv = byteView(out);
  dv.setBigUint64(0, h.spiI);
  dv.setBigUint64(8, h.spiR);
  dv.setUint8(IKE_HEADER_OFFSET_NEXT_PAYLOAD, nextPayload);
  dv.setUint8(IKE_HEADER_OFFSET_VERSION, (IKE_MAJOR_VERSION << 4) | IKE_MINOR_VERSION);
  dv.setUint8(IKE_HEADER_OFFSET_EXCHANGE_TYPE, h.exchangeType);
  dv.setUint8(
    IKE_HEADER_OFFSET_FLAGS,
    (h.initiator ? HeaderFlag.INITIATOR : 0) | (h.response ? HeaderFlag.RESPONSE : 0) | (h.higherVersion ? HeaderFlag.VERSION : 0),
  );
  dv.setUint32(IKE_HEADER_OFFSET_MESSAGE_ID, h.messageId);
  dv.setUint32(IKE_HEADER_OFFSET_LENGTH, length);
}

export const isU8 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xff;
export const isU16 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;
export const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
