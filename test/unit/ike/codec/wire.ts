/** Hand assembly of IKE datagrams for the malformed-input tests (independent of the encoder). */
export const SPI_I = 0x0102030405060708n;

export interface RawPayload {
  type: number;
  body: Uint8Array | number[];
  critical?: boolean;
  /** Overrides the Payload Length field. */
  length?: number;
  /** Overrides the Next Payload field. */
  next?: number;
}

export function header(opts: { next: number; length: number; exchange?: number; flags?: number; version?: number; messageId?: number }): Uint8Array {
  const h = new Uint8Array(28);
  const dv = new DataView(h.buffer);
  dv.setBigUint64(0, SPI_I);
  dv.setBigUint64(8, 0n);
  h[16] = opts.next;
  h[17] = opts.version ?? 0x20;
  h[18] = opts.exchange ?? 34;
  h[19] = opts.flags ?? 0x08;
  dv.setUint32(20, opts.messageId ?? 0);
  dv.setUint32(24, opts.length);
  return h;
}

/** A generic payload chain; Next Payload of each is the type of the one after (0 at the end). */
export function chain(payloads: RawPayload[]): Uint8Array {
  const parts: number[] = [];
  payloads.forEach((p, i) => {
    const body = Array.from(p.body);
    const length = p.length ?? 4 + body.length;
    parts.push(p.next ?? payloads[i + 1]?.type ?? 0, p.critical ? 0x80 : 0, length >> 8, length & 0xff, ...body);
  });
  return Uint8Array.from(parts);
}

/** A whole datagram with a correct header Length (unless overridden). */
export function datagram(payloads: RawPayload[], opts: { exchange?: number; flags?: number; length?: number; version?: number; first?: number } = {}): Uint8Array {
  const c = chain(payloads);
  const h = header({ next: opts.first ?? payloads[0]?.type ?? 0, length: opts.length ?? 28 + c.length, exchange: opts.exchange, flags: opts.flags, version: opts.version });
  const out = new Uint8Array(28 + c.length);
  out.set(h);
  out.set(c, 28);
  return out;
}

export const u16 = (n: number): number[] => [n >> 8, n & 0xff];
export const fill = (n: number, v = 0x11): number[] => new Array<number>(n).fill(v);
