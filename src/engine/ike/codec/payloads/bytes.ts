/** Small helpers shared by the codecs: big-endian access to a Uint8Array, and range checks. */
import { IkeEncodeError } from '../errors.js';

/**
 * Big-endian reads and writes on a Uint8Array, DataView-style. Unlike `new DataView(u8.buffer)`
 * it never touches `.buffer`, which for the small arrays the encoder allocates would force V8
 * to move them off the heap (measured: most of the encoder's time). Out-of-range access throws
 * RangeError like DataView does, so a missing length check shows up in the fuzz tests instead
 * of reading `undefined`.
 */
export class ByteView {
  constructor(private readonly b: Uint8Array) {}

  private check(offset: number, size: number): void {
    if (!(offset >= 0 && offset + size <= this.b.length)) throw new RangeError(`offset ${offset}+${size} outside ${this.b.length} octets`);
  }

  getUint8(o: number): number {
    this.check(o, 1);
    return this.b[o]!;
  }

  getUint16(o: number): number {
    this.check(o, 2);
    return (this.b[o]! << 8) | this.b[o + 1]!;
  }

  getUint32(o: number): number {
    this.check(o, 4);
    return ((this.b[o]! << 24) | (this.b[o + 1]! << 16) | (this.b[o + 2]! << 8) | this.b[o + 3]!) >>> 0;
  }

  getBigUint64(o: number): bigint {
    return (BigInt(this.getUint32(o)) << 32n) | BigInt(this.getUint32(o + 4));
  }

  setUint8(o: number, v: number): void {
    this.check(o, 1);
    this.b[o] = v;
  }

  setUint16(o: number, v: number): void {
    this.check(o, 2);
    this.b[o] = v >>> 8;
    this.b[o + 1] = v;
  }

  setUint32(o: number, v: number): void {
    this.check(o, 4);
    this.b[o] = v >>> 24;
    this.b[o + 1] = v >>> 16;
    this.b[o + 2] = v >>> 8;
    this.b[o + 3] = v;
  }

  setBigUint64(o: number, v: bigint): void {
    this.setUint32(o, Number((v >> 32n) & 0xffffffffn));
    this.setUint32(o + 4, Number(v & 0xffffffffn));
  }
}

export function byteView(bytes: Uint8Array): ByteView {
  return new ByteView(bytes);
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
