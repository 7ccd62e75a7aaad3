/**
 * Codecs for the Notification Data of the notify types whose data has a fixed layout. The
 * decoders answer `undefined` for data that does not fit (the caller counts and ignores the
 * notify, or answers INVALID_SYNTAX); they never throw.
 */
import { IkeEncodeError } from './errors.js';
import { NotifyType } from '../constants.js';

/** RFC 7296 section 2.6: a cookie is 1 to 64 octets. */
export const COOKIE_MIN_LENGTH = 1;
export const COOKIE_MAX_LENGTH = 64;
/** RFC 7296 section 2.23: NAT detection data is a SHA-1 digest. */
export const NAT_DETECTION_DATA_LENGTH = 20;

export const cookieLengthValid = (data: Uint8Array): boolean => data.length >= COOKIE_MIN_LENGTH && data.length <= COOKIE_MAX_LENGTH;

/** RFC 7296 section 1.3 / 3.10.1: INVALID_KE_PAYLOAD carries the accepted DH group (2 octets). */
export function decodeInvalidKeGroup(data: Uint8Array): number | undefined {
  return data.length === 2 ? (data[0]! << 8) | data[1]! : undefined;
}

export function encodeInvalidKeGroup(group: number): Uint8Array {
  if (!Number.isInteger(group) || group < 0 || group > 0xffff) throw new IkeEncodeError(`DH group ${group}`, NotifyType.INVALID_KE_PAYLOAD);
  return Uint8Array.of(group >> 8, group & 0xff);
}

/** RFC 7427 section 4: SIGNATURE_HASH_ALGORITHMS is a list of 2-octet hash algorithm numbers. */
export function decodeHashAlgorithms(data: Uint8Array): number[] | undefined {
  if (data.length === 0 || data.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

export function encodeHashAlgorithms(algorithms: readonly number[]): Uint8Array {
  if (algorithms.length === 0) throw new IkeEncodeError('empty hash algorithm list', NotifyType.SIGNATURE_HASH_ALGORITHMS);
  const out = new Uint8Array(algorithms.length * 2);
  algorithms.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a > 0xffff) throw new IkeEncodeError(`hash algorithm ${a}`, NotifyType.SIGNATURE_HASH_ALGORITHMS);
    out[2 * i] = a >> 8;
    out[2 * i + 1] = a & 0xff;
  });
  return out;
}

/** RFC 7296 section 2.3: SET_WINDOW_SIZE carries a 4-octet window size. */
export function decodeWindowSize(data: Uint8Array): number | undefined {
  if (data.length !== 4) return undefined;
  return ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
}

export function encodeWindowSize(size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 1 || size > 0xffffffff) throw new IkeEncodeError(`window size ${size}`, NotifyType.SET_WINDOW_SIZE);
  return Uint8Array.of(size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff);
}
