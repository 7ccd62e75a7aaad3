/**
 * Notify (RFC 7296 section 3.10) and Delete (section 3.11) payloads.
 *
 * Notify: | Protocol ID (1) | SPI Size (1) | Notify Message Type (2) | SPI ~ | Notification Data ~
 * Delete: | Protocol ID (1) | SPI Size (1) | Num of SPIs (2) | SPIs ~
 */
import { CHILD_SPI_SIZE, IKE_SPI_SIZE, PayloadType, ProtocolId } from '../../constants.js';
import { IkeEncodeError } from '../errors.js';
import type { DecodeFailureReason, DeletePayload, NotifyPayload } from '../types.js';
import { checkBodyLength, checkU16, checkU8, concat, copy, byteView } from './bytes.js';

export const NOTIFY_FIXED_LENGTH = 4;
export const DELETE_FIXED_LENGTH = 4;

/** A notify's SPI is empty, an ESP/AH SPI or an IKE SPI. */
const notifySpiSizeValid = (n: number): boolean => n === 0 || n === CHILD_SPI_SIZE || n === IKE_SPI_SIZE;

export function decodeNotify(body: Uint8Array): NotifyPayload | DecodeFailureReason {
  if (body.length < NOTIFY_FIXED_LENGTH) return 'notify-malformed';
  const dv = byteView(body);
  const spiSize = dv.getUint8(1);
  if (!notifySpiSizeValid(spiSize) || NOTIFY_FIXED_LENGTH + spiSize > body.length) return 'notify-malformed';
  return {
    type: PayloadType.N,
    protocolId: dv.getUint8(0),
    spi: copy(body.subarray(NOTIFY_FIXED_LENGTH, NOTIFY_FIXED_LENGTH + spiSize)),
    notifyType: dv.getUint16(2),
    data: copy(body.subarray(NOTIFY_FIXED_LENGTH + spiSize)),
  };
}

export function encodeNotify(p: NotifyPayload): Uint8Array {
  const T = PayloadType.N;
  checkU8(p.protocolId, 'protocol ID', T);
  checkU16(p.notifyType, 'notify type', T);
  if (!notifySpiSizeValid(p.spi.length)) throw new IkeEncodeError(`notify SPI of ${p.spi.length} octets`, T);
  const head = new Uint8Array(NOTIFY_FIXED_LENGTH);
  const dv = byteView(head);
  dv.setUint8(0, p.protocolId);
  dv.setUint8(1, p.spi.length);
  dv.setUint16(2, p.notifyType);
  const body = concat([head, p.spi, p.data]);
  checkBodyLength(body.length, T);
  return body;
}

/** Section 3.11: IKE deletes carry no SPI (size 0, count 0); ESP/AH carry one or more 4-octet SPIs. */
function deleteShapeValid(protocolId: number, spiSize: number, count: number): boolean {
  switch (protocolId) {
    case ProtocolId.IKE:
      return spiSize === 0 && count === 0;
    case ProtocolId.ESP:
    case ProtocolId.AH:
      return spiSize === CHILD_SPI_SIZE && count > 0;
    default:
      return false;
  }
}

export function decodeDelete(body: Uint8Array): DeletePayload | DecodeFailureReason {
  if (body.length < DELETE_FIXED_LENGTH) return 'delete-malformed';
  const dv = byteView(body);
  const protocolId = dv.getUint8(0);
  const spiSize = dv.getUint8(1);
  const count = dv.getUint16(2);
  if (!deleteShapeValid(protocolId, spiSize, count)) return 'delete-malformed';
  if (body.length !== DELETE_FIXED_LENGTH + spiSize * count) return 'delete-malformed';
  const spis: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = DELETE_FIXED_LENGTH + i * spiSize;
    spis.push(copy(body.subarray(at, at + spiSize)));
  }
  return { type: PayloadType.D, protocolId, spis };
}

export function encodeDelete(p: DeletePayload): Uint8Array {
  const T = PayloadType.D;
  checkU8(p.protocolId, 'protocol ID', T);
  const spiSize = p.protocolId === ProtocolId.IKE ? 0 : CHILD_SPI_SIZE;
  if (!deleteShapeValid(p.protocolId, spiSize, p.spis.length) || p.spis.some((s) => s.length !== spiSize)) {
    throw new IkeEncodeError(`delete of ${p.spis.length} SPIs for protocol ${p.protocolId}`, T);
  }
  checkU16(p.spis.length, 'SPI count', T);
  const head = new Uint8Array(DELETE_FIXED_LENGTH);
  const dv = byteView(head);
  dv.setUint8(0, p.protocolId);
  dv.setUint8(1, spiSize);
  dv.setUint16(2, p.spis.length);
  const body = concat([head, ...p.spis]);
  checkBodyLength(body.length, T);
  return body;
}
