/**
 * ESP tunnel mode (RFC 4303) with the AEAD transforms of RFC 4106 / RFC 7634, as the
 * payload of a UDP datagram (RFC 3948: the UDP socket and the non-ESP marker belong to
 * the net module; an ESP packet starts with its non-zero SPI).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |               Security Parameters Index (SPI)                 |  AAD
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      Sequence Number                          |  AAD
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 IV (8 octets: 0 || sequence number)           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ---
 *   |          inner IPv4 / IPv6 packet (variable)                  |  ^
 *   ~                                                               ~  | encrypted
 *   |               |  Padding 1, 2, 3 (0-3 octets)                 |  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |
 *   |                               |  Pad Length   | Next Header   |  v
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ---
 *   |                    ICV (16 octets)                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The explicit IV is the 64-bit packet counter, i.e. the sequence number zero-extended
 * (unique per key, which is all RFC 4106 section 3.1 and RFC 7634 section 2 require).
 *
 * Hot path: no allocation besides the typed-array views the crypto bindings need. The
 * inbound path decrypts in place and reports the inner packet as offset + length in a
 * reusable result object. Nothing on the inbound path throws for malformed input.
 */
import {
  ESP_HEADER_LENGTH,
  ESP_ICV_LENGTH,
  ESP_IV_LENGTH,
  ESP_MIN_PAYLOAD_LENGTH,
  ESP_PAYLOAD_ALIGNMENT,
  ESP_PAYLOAD_OFFSET,
  ESP_SEQUENCE_MAX,
  ESP_TRAILER_LENGTH,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_NONE,
  IPV4_MIN_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
} from './constants.js';
import type { EspDropReason, EspSealFailure, InboundSa, OutboundSa, SaTable } from './sa-table.js';

/** Padding octets needed after an inner packet of `innerLength` octets (0-3). */
export function espPadLength(innerLength: number): number {
  return (ESP_PAYLOAD_ALIGNMENT - ((innerLength + ESP_TRAILER_LENGTH) % ESP_PAYLOAD_ALIGNMENT)) % ESP_PAYLOAD_ALIGNMENT;
}

/** Octets of the ESP packet that carries an inner packet of `innerLength` octets. */
export function espPacketLength(innerLength: number): number {
  return ESP_PAYLOAD_OFFSET + innerLength + espPadLength(innerLength) + ESP_TRAILER_LENGTH + ESP_ICV_LENGTH;
}

/** Next Header for an inner packet by its IP version nibble, or 0 when it is neither 4 nor 6. */
export function nextHeaderFor(inner: Uint8Array): number {
  if (inner.length === 0) return 0;
  const version = inner[0]! >>> 4;
  if (version === 4) return IPPROTO_IPIP;
  if (version === 6) return IPPROTO_IPV6;
  return 0;
}

function writeUint32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

function readUint32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** The SPI of a UDP-encapsulated ESP packet, or 0 when it is too short (RFC 3948: 0 = non-ESP marker). */
export function espSpiOf(packet: Uint8Array): number {
  return packet.length < ESP_HEADER_LENGTH ? 0 : readUint32(packet, 0);
}

/**
 * Seals `inner` (an IPv4 or IPv6 packet, at least one header long) into an ESP packet
 * written to `out` at `outOffset`. Returns the ESP packet length, or the reason it could
 * not be sealed (also counted in sa.errors). For zero-copy, read the inner packet into `out` at
 * `outOffset + ESP_PAYLOAD_OFFSET` and pass that view as `inner`: it is then encrypted in
 * place; `out` needs room for the trailer and ICV after it (espPacketLength).
 */
export function espSeal(sa: OutboundSa, inner: Uint8Array, out: Uint8Array, outOffset = 0): number | EspSealFailure {
  if (sa.seq >= ESP_SEQUENCE_MAX) return sa.failed('sequence-exhausted');
  if (sa.hardExpired) return sa.failed('hard-expired');
  const nextHeader = nextHeaderFor(inner);
  const innerLength = inner.length;
  if (nextHeader === 0 || innerLength < (nextHeader === IPPROTO_IPIP ? IPV4_MIN_HEADER_LENGTH : IPV6_HEADER_LENGTH)) {
    return sa.failed('bad-inner-packet');
  }
  const padLength = espPadLength(innerLength);
  const payloadLength = innerLength + padLength + ESP_TRAILER_LENGTH;
  const total = ESP_PAYLOAD_OFFSET + payloadLength + ESP_ICV_LENGTH;
  if (!(outOffset >= 0) || outOffset + total > out.length) return sa.failed('buffer-too-small');

  const seq = sa.nextSequence();
  const o = outOffset;
  const payload = o + ESP_PAYLOAD_OFFSET;

  // The inner packet first (unless it is already in place): it may overlap the header
  // area of `out`, and TypedArray.set copies overlapping ranges correctly.
  if (!(inner.buffer === out.buffer && inner.byteOffset === out.byteOffset + payload)) out.set(inner, payload);

  // Header and IV, and their preallocated copies for the AEAD call.
  const aad = sa.aad;
  const iv = sa.iv;
  writeUint32(aad, 0, sa.spi);
  writeUint32(aad, 4, seq);
  iv[0] = iv[1] = iv[2] = iv[3] = 0;
  writeUint32(iv, 4, seq);
  out.set(aad, o);
  out.set(iv, o + ESP_HEADER_LENGTH);

  // Padding and trailer after the inner packet.
  let p = payload + innerLength;
  for (let i = 1; i <= padLength; i++) out[p++] = i;
  out[p++] = padLength;
  out[p++] = nextHeader;

  sa.aead.seal(iv, aad, out.subarray(payload, payload + payloadLength), out, payload);
  sa.sealed(innerLength);
  return total;
}

/**
 * The outcome of espOpen, reused across packets so the receive path allocates nothing.
 * On success the inner packet is packet[innerOffset, innerOffset + innerLength).
 */
export class EspOpenResult {
  ok = false;
  reason: EspDropReason | undefined = undefined;
  spi = 0;
  seq = 0;
  sa: InboundSa | undefined = undefined;
  nextHeader = 0;
  innerOffset = 0;
  innerLength = 0;
  packet: Uint8Array | undefined = undefined;

  /** A view of the inner packet (allocates a view; use innerOffset/innerLength to avoid it). */
  inner(): Uint8Array {
    if (!this.ok || this.packet === undefined) return new Uint8Array(0);
    return this.packet.subarray(this.innerOffset, this.innerOffset + this.innerLength);
  }

  reset(packet: Uint8Array): void {
    this.ok = false;
    this.reason = undefined;
    this.spi = 0;
    this.seq = 0;
    this.sa = undefined;
    this.nextHeader = 0;
    this.innerOffset = 0;
    this.innerLength = 0;
    this.packet = packet;
  }
}

function dropped(table: SaTable, result: EspOpenResult, reason: EspDropReason, sa: InboundSa | undefined): EspOpenResult {
  result.reason = reason;
  table.drop(reason, result.spi, sa);
  return result;
}

/**
 * Opens a UDP-encapsulated ESP packet in place. Checks, in this order: length, SPI,
 * alignment, SA expiry, the replay window (before decryption), the ICV, then commits the
 * sequence number to the window (only after authentication), then padding, Next Header
 * and the inner packet's IP version. Every failure is a counted drop; nothing throws.
 * The packet's encrypted part is overwritten by the plaintext (or by zeros, when
 * authentication fails with ChaCha20-Poly1305).
 */
export function espOpen(table: SaTable, packet: Uint8Array, result: EspOpenResult = new EspOpenResult()): EspOpenResult {
  result.reset(packet);
  const length = packet.length;
  if (length < ESP_HEADER_LENGTH) return dropped(table, result, 'short-packet', undefined);
  const spi = readUint32(packet, 0);
  const seq = readUint32(packet, 4);
  result.spi = spi;
  result.seq = seq;
  const sa = spi === 0 ? undefined : table.get(spi);
  if (sa === undefined) return dropped(table, result, 'unknown-spi', undefined);
  result.sa = sa;

  const payloadLength = length - ESP_PAYLOAD_OFFSET - ESP_ICV_LENGTH;
  if (payloadLength < ESP_MIN_PAYLOAD_LENGTH) return dropped(table, result, 'short-packet', sa);
  if (payloadLength % ESP_PAYLOAD_ALIGNMENT !== 0) return dropped(table, result, 'bad-length', sa);
  if (sa.hardExpired) return dropped(table, result, 'sa-expired', sa);
  if (!sa.replay.check(seq)) return dropped(table, result, 'replay', sa);

  const aad = sa.aad;
  const iv = sa.iv;
  for (let i = 0; i < ESP_HEADER_LENGTH; i++) aad[i] = packet[i]!;
  for (let i = 0; i < ESP_IV_LENGTH; i++) iv[i] = packet[ESP_HEADER_LENGTH + i]!;
  const opened = sa.aead.open(iv, aad, packet.subarray(ESP_PAYLOAD_OFFSET), packet, ESP_PAYLOAD_OFFSET);
  if (opened !== payloadLength) return dropped(table, result, 'auth-failed', sa);

  // Authentic: the sequence number is consumed whatever the payload turns out to hold.
  sa.replay.commit(seq);

  const end = ESP_PAYLOAD_OFFSET + payloadLength;
  const padLength = packet[end - 2]!;
  const nextHeader = packet[end - 1]!;
  result.nextHeader = nextHeader;
  if (padLength + ESP_TRAILER_LENGTH > payloadLength) return dropped(table, result, 'bad-padding', sa);
  const innerLength = payloadLength - ESP_TRAILER_LENGTH - padLength;
  const padStart = ESP_PAYLOAD_OFFSET + innerLength;
  for (let i = 0; i < padLength; i++) {
    if (packet[padStart + i] !== i + 1) return dropped(table, result, 'bad-padding', sa);
  }
  if (nextHeader === IPPROTO_NONE) return dropped(table, result, 'dummy-packet', sa);
  if (nextHeader !== IPPROTO_IPIP && nextHeader !== IPPROTO_IPV6) return dropped(table, result, 'bad-next-header', sa);

  const version = innerLength > 0 ? packet[ESP_PAYLOAD_OFFSET]! >>> 4 : 0;
  if (nextHeader === IPPROTO_IPIP ? version !== 4 || innerLength < IPV4_MIN_HEADER_LENGTH : version !== 6 || innerLength < IPV6_HEADER_LENGTH) {
    return dropped(table, result, 'bad-inner-packet', sa);
  }

  result.ok = true;
  result.innerOffset = ESP_PAYLOAD_OFFSET;
  result.innerLength = innerLength;
  sa.accepted(innerLength);
  return result;
}
