/**
 * RFC 3948 demultiplexing of one UDP port that carries IKE and ESP:
 *  - a single 0xFF byte is a NAT-keepalive (section 2.3);
 *  - four zero bytes (the non-ESP marker) precede an IKE message (section 2.2);
 *  - anything else starts with the non-zero ESP SPI (section 2.1).
 */

export const NON_ESP_MARKER_LENGTH = 4;
export const NAT_KEEPALIVE_BYTE = 0xff;
/** SPI + sequence number: the least an ESP packet can be before it is worth a lookup. */
export const ESP_MIN_HEADER = 8;
/** The IKE header is 28 bytes (RFC 7296 section 3.1). */
const IKE_HEADER_LENGTH = 28;

export type UdpPayloadKind =
  | { kind: 'ike'; offset: number }
  | { kind: 'esp' }
  | { kind: 'keepalive' }
  | { kind: 'malformed'; reason: 'empty' | 'short-ike' | 'short-esp' };

/** Classifies a datagram received on the IKE/ESP port. Never throws. */
export function classifyUdpPayload(p: Uint8Array): UdpPayloadKind {
  if (p.length === 0) return { kind: 'malformed', reason: 'empty' };
  if (p.length === 1) return p[0] === NAT_KEEPALIVE_BYTE ? { kind: 'keepalive' } : { kind: 'malformed', reason: 'short-esp' };
  if (p.length >= NON_ESP_MARKER_LENGTH && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) {
    return p.length - NON_ESP_MARKER_LENGTH >= IKE_HEADER_LENGTH
      ? { kind: 'ike', offset: NON_ESP_MARKER_LENGTH }
      : { kind: 'malformed', reason: 'short-ike' };
  }
  return p.length >= ESP_MIN_HEADER ? { kind: 'esp' } : { kind: 'malformed', reason: 'short-esp' };
}

/** An IKE message framed for the shared port: non-ESP marker followed by the message. */
export function frameIke(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(NON_ESP_MARKER_LENGTH + message.length);
  out.set(message, NON_ESP_MARKER_LENGTH);
  return out;
}

export const NAT_KEEPALIVE = Uint8Array.of(NAT_KEEPALIVE_BYTE);
