/** Conveniences for the exchange code built on the codec. */
import { PayloadType } from '../constants.js';
import { byteView } from './payloads/bytes.js';
import type { Message, NotifyPayload, Payload } from './types.js';

/** A 4-octet ESP/AH SPI as an unsigned number. */
export function spi32(spi: Uint8Array): number {
  if (spi.length !== 4) throw new RangeError(`spi32: ${spi.length} octets`);
  return ((spi[0]! << 24) | (spi[1]! << 16) | (spi[2]! << 8) | spi[3]!) >>> 0;
}

/** An ESP/AH SPI number as the 4 octets payloads carry. */
export function spiFrom32(spi: number): Uint8Array {
  if (!Number.isInteger(spi) || spi < 0 || spi > 0xffffffff) throw new RangeError(`spiFrom32: ${spi}`);
  return Uint8Array.of(spi >>> 24, (spi >>> 16) & 0xff, (spi >>> 8) & 0xff, spi & 0xff);
}

/** An 8-octet IKE SPI (as in a rekey proposal or a notify) as the bigint the header uses. */
export function spi64(spi: Uint8Array): bigint {
  if (spi.length !== 8) throw new RangeError(`spi64: ${spi.length} octets`);
  return byteView(spi).getBigUint64(0);
}

export function spiFrom64(spi: bigint): Uint8Array {
  const out = new Uint8Array(8);
  byteView(out).setBigUint64(0, BigInt.asUintN(64, spi));
  return out;
}

/** The payload interface(s) whose `type` admits T (IDi -> IdPayload, N -> NotifyPayload). */
export type PayloadOf<T extends number> = Payload extends infer P ? (P extends { type: infer U } ? (T extends U ? P : never) : never) : never;

/** All payloads of a message, clear then encrypted. */
function all(m: Message): Payload[] {
  return m.encrypted ? [...m.payloads, ...m.encrypted] : m.payloads;
}

export function findPayloads<T extends Payload['type']>(m: Message, type: T): PayloadOf<T>[] {
  return all(m).filter((p): p is PayloadOf<T> => p.type === type);
}

export function findPayload<T extends Payload['type']>(m: Message, type: T): PayloadOf<T> | undefined {
  return findPayloads(m, type)[0];
}

/** The first notify of a type, clear or encrypted. */
export function findNotify(m: Message, notifyType: number): NotifyPayload | undefined {
  return findPayloads(m, PayloadType.N).find((n) => n.notifyType === notifyType);
}
