/** Small helpers shared by the payload codecs: a DataView over a Uint8Array, and range checks. */
import { IkeEncodeError } from '../errors.js';

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Copies `bytes` into a fresh Uint8Array (decoded fields never alias the receive buffer). */
export function copy(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function checkU8(n: number, what: string, payloadType: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new IkeEncodeError(`${what} ${n} is not an 8-bit value`, payloadType);
}

export function checkU16(n: number, what: string, payloadType: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new IkeEncodeError(`${what} ${n} is not a 16-bit value`, payloadType);
}

/** Largest payload body: the generic header's 16-bit Payload Length minus the header itself. */
export const MAX_PAYLOAD_BODY_LENGTH = 0xffff - 4;

export function checkBodyLength(n: number, payloadType: number): void {
  if (n > MAX_PAYLOAD_BODY_LENGTH) throw new IkeEncodeError(`payload body of ${n} octets exceeds the 16-bit length`, payloadType);
}
