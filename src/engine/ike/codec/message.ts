/**
 * Whole IKEv2 messages: decodeMessage() parses a datagram (never throws; failures carry a
 * closed reason for counters), encodeMessage() lays out header, payloads and, when
 * Message.encrypted is set, the sealed SK payload.
 */
import { PayloadType } from '../constants.js';
import { decodeChain, encodeBodies, writeChain } from './chain.js';
import { IkeEncodeError } from './errors.js';
import { decodeHeader, IKE_HEADER_LENGTH, writeHeader } from './header.js';
import { sealSk, skPayloadLength, type SkProtection } from './sk.js';
import type { DecodeResult, Message } from './types.js';

/**
 * Decodes a datagram (without the 4-octet non-ESP marker of port 4500). An SK payload is
 * left sealed in `message.sealed` (which references `bytes`); call openMessage() with the
 * inbound Aead to read it.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult<Message> {
  const h = decodeHeader(bytes);
  if (!h.ok) return h;
  const { header } = h;
  const chain = decodeChain(bytes, IKE_HEADER_LENGTH, bytes.length, header.nextPayload, true);
  if ('ok' in chain) return chain;
  const message: Message = {
    spiI: header.spiI,
    spiR: header.spiR,
    exchangeType: header.exchangeType,
    initiator: header.initiator,
    response: header.response,
    messageId: header.messageId,
    payloads: chain.payloads,
  };
  if (header.higherVersion) message.higherVersion = true;
  if (chain.sk) message.sealed = { firstPayload: chain.sk.firstPayload, skOffset: chain.sk.offset, raw: bytes };
  if (chain.skipped.length > 0) message.skipped = chain.skipped;
  return { ok: true, message };
}

/**
 * Encodes a message. With `encrypted` set, `protection` is required and the SK payload goes
 * last; `skipped` is ignored (meshgate never sends payloads it does not understand).
 * Throws IkeEncodeError for a message that cannot go on the wire.
 */
export function encodeMessage(message: Message, protection?: SkProtection): Uint8Array {
  if (message.sealed && message.encrypted === undefined) throw new IkeEncodeError('a sealed message must be opened before it is re-encoded');
  const clear = encodeBodies(message.payloads);
  const encrypted = message.encrypted;
  if (encrypted === undefined) {
    const out = new Uint8Array(IKE_HEADER_LENGTH + clear.length);
    writeHeader(out, message, clear.types[0] ?? PayloadType.NONE, out.length);
    writeChain(out, IKE_HEADER_LENGTH, clear, PayloadType.NONE);
    return out;
  }
  if (!protection) throw new IkeEncodeError('message has encrypted payloads but no SK protection was given');
  const padLength = protection.padLength ?? 0;
  if (!Number.isInteger(padLength) || padLength < 0 || padLength > 0xff) throw new IkeEncodeError(`pad length ${padLength}`);
  const innerChain = encodeBodies(encrypted);
  const inner = new Uint8Array(innerChain.length);
  writeChain(inner, 0, innerChain, PayloadType.NONE);
  const skLength = skPayloadLength(protection.aead, inner.length, padLength);
  if (skLength > 0xffff) throw new IkeEncodeError(`SK payload of ${skLength} octets`, PayloadType.SK);
  const out = new Uint8Array(IKE_HEADER_LENGTH + clear.length + skLength);
  writeHeader(out, message, clear.types[0] ?? PayloadType.SK, out.length);
  const skOffset = writeChain(out, IKE_HEADER_LENGTH, clear, PayloadType.SK);
  out[skOffset] = innerChain.types[0] ?? PayloadType.NONE;
  out[skOffset + 1] = 0;
  out[skOffset + 2] = skLength >>> 8;
  out[skOffset + 3] = skLength & 0xff;
  sealSk(out, skOffset, inner, protection);
  return out;
}
