/**
 * ESP constants. Specification values cite their RFC; implementation choices are
 * listed separately.
 */

// ---- Specification constants ------------------------------------------------------

/** RFC 4303 section 2.1: Security Parameters Index, 32 bits. SPI 0 is reserved (and, in
 * UDP encapsulation, is the non-ESP marker of RFC 3948 section 2.2). */
export const ESP_SPI_LENGTH = 4;
/** RFC 4303 section 2.2: Sequence Number, 32 bits (no ESN). */
export const ESP_SEQUENCE_LENGTH = 4;
/** SPI + Sequence Number: the AAD of the AEAD transforms without ESN (RFC 4106 section 5, RFC 7634 section 2.1). */
export const ESP_HEADER_LENGTH = ESP_SPI_LENGTH + ESP_SEQUENCE_LENGTH;
/** RFC 4106 section 3.1 / RFC 7634 section 2: 8-octet explicit IV. */
export const ESP_IV_LENGTH = 8;
/** Where the encrypted payload (the inner IP packet) starts: header + IV. */
export const ESP_PAYLOAD_OFFSET = ESP_HEADER_LENGTH + ESP_IV_LENGTH;
/** RFC 4303 section 2.4/2.5: Pad Length and Next Header octets. */
export const ESP_TRAILER_LENGTH = 2;
/** RFC 4303 section 2.4: the ciphertext ends on a 4-octet boundary. */
export const ESP_PAYLOAD_ALIGNMENT = 4;
/** ICV of the AEAD transforms (RFC 4106 "GCM-16", RFC 7634). */
export const ESP_ICV_LENGTH = 16;
/** Smallest payload that can hold the trailer with 4-octet alignment. */
export const ESP_MIN_PAYLOAD_LENGTH = ESP_PAYLOAD_ALIGNMENT;
/** Smallest well-formed ESP packet: header, IV, minimal payload, ICV. */
export const ESP_MIN_PACKET_LENGTH = ESP_PAYLOAD_OFFSET + ESP_MIN_PAYLOAD_LENGTH + ESP_ICV_LENGTH;
/** Largest overhead added to an inner packet: header, IV, up to 3 pad octets, trailer, ICV. */
export const ESP_MAX_OVERHEAD = ESP_PAYLOAD_OFFSET + (ESP_PAYLOAD_ALIGNMENT - 1) + ESP_TRAILER_LENGTH + ESP_ICV_LENGTH;
/** RFC 4303 section 3.3.3: without ESN the counter must not cycle; 2^32 - 1 is the last usable value. */
export const ESP_SEQUENCE_MAX = 0xffff_ffff;

/** IANA protocol numbers for Next Header in tunnel mode (RFC 4303 section 2.6). */
export const IPPROTO_IPIP = 4;
export const IPPROTO_IPV6 = 41;
/** RFC 4303 section 2.6: a dummy packet ("no next header") is discarded silently. */
export const IPPROTO_NONE = 59;

/** Minimum header lengths of the inner packets. */
export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;

// ---- Implementation constants -----------------------------------------------------

/** Default anti-replay window, in packets (issue 3 asks for at least 1024). */
export const REPLAY_WINDOW_DEFAULT = 2048;
/** RFC 4303 section 3.4.3: a window of at least 32 packets; 64 recommended. */
export const REPLAY_WINDOW_MIN = 32;
/** Largest window this implementation accepts (a 128 KiB bitmap). */
export const REPLAY_WINDOW_MAX = 1 << 20;
/**
 * Default sequence number at which an outbound SA reports a soft 'sequence' limit, so
 * that the IKE layer rekeys long before the counter runs out (about 268 million packets
 * of headroom).
 */
export const ESP_SEQUENCE_SOFT_DEFAULT = 0xf000_0000;
