/**
 * Helpers over the codec's message model (codec/types.ts) for the tasks.
 *
 * Tasks see one flat payload list: `Message.payloads`. The task manager moves them into
 * the SK payload (`Message.encrypted`) before it encodes any message other than
 * IKE_SA_INIT, and the engine flattens `encrypted` back into `payloads` after it opened a
 * received message (and drops messages that carry clear payloads outside IKE_SA_INIT).
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, exchangeTypeName, isErrorNotify, notifyShortName, payloadTypeName } from './constants.js';
import type { Message, NotifyPayload, Payload } from './codec/types.js';

export type { Message, Payload } from './codec/types.js';

type Distribute<P, T> = P extends { type: infer X } ? (T extends X ? P : never) : never;
/** The payload interface for a payload type (IDi and IDr share IdPayload, TSi and TSr TsPayload). */
export type PayloadOf<T extends Payload['type']> = Distribute<Payload, T>;

export interface HeaderFields {
  spiI: bigint;
  spiR: bigint;
  exchangeType: number;
  initiator: boolean;
  response: boolean;
  messageId: number;
}

export function newMessage(h: HeaderFields): Message {
  return { ...h, payloads: [] };
}

export function first<T extends Payload['type']>(m: Message, type: T): PayloadOf<T> | undefined {
  return m.payloads.find((p): p is PayloadOf<T> => p.type === type);
}

export function all<T extends Payload['type']>(m: Message, type: T): PayloadOf<T>[] {
  return m.payloads.filter((p): p is PayloadOf<T> => p.type === type);
}

export function findNotify(m: Message, notifyType: number): NotifyPayload | undefined {
  return m.payloads.find((p): p is NotifyPayload => p.type === PayloadType.N && p.notifyType === notifyType);
}

/** The first error notify (type below 16384), if any. */
export function errorNotify(m: Message): NotifyPayload | undefined {
  return m.payloads.find((p): p is NotifyPayload => p.type === PayloadType.N && isErrorNotify(p.notifyType));
}

const EMPTY = new Uint8Array(0);

export function notifyPayload(notifyType: number, data: Uint8Array = EMPTY, protocolId: number = ProtocolId.NONE, spi: Uint8Array = EMPTY): NotifyPayload {
  return { type: PayloadType.N, protocolId, spi, notifyType, data };
}

/** An error-only response or request body: `{ N(type) }`. */
export function addNotify(m: Message, notifyType: number, data?: Uint8Array): void {
  m.payloads.push(notifyPayload(notifyType, data));
}

/** `IKE_AUTH request 1 { IDi, AUTH, SA, TSi, TSr }`-style rendering for logs and test failures. */
export function describe(m: Message): string {
  const parts = m.payloads.map((p) => {
    if (p.type === PayloadType.N) return `N(${notifyShortName(p.notifyType)})`;
    if (p.type === PayloadType.D) return `D`;
    return payloadTypeName(p.type);
  });
  return `${exchangeTypeName(m.exchangeType)} ${m.response ? 'response' : 'request'} ${m.messageId} { ${parts.join(', ')} }`;
}

/** Payload kinds in order, with notifies spelled out, for assertions: ['SA','KE','Nonce','N(NATD_S_IP)',...]. */
export function payloadNames(m: Message): string[] {
  return m.payloads.map((p) => (p.type === PayloadType.N ? `N(${notifyShortName(p.notifyType)})` : payloadTypeName(p.type)));
}

export const isInit = (m: Message): boolean => m.exchangeType === ExchangeType.IKE_SA_INIT;
export { NotifyType, PayloadType, ExchangeType, ProtocolId };

/** 8-octet big-endian encoding of an IKE SPI. */
export function spi64Bytes(spi: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, spi);
  return b;
}

export function spi64FromBytes(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic comparison of octet strings (nonces in collision handling, RFC 7296 section 2.8.1). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
