/**
 * Prefix questions the mesh controller asks ("which of my networks holds this
 * address?", "is this address behind that tunnel?"), on the dataplane's byte prefixes.
 * Control-plane only: these parse text and are not for the packet path.
 */
import { formatPrefix, makePrefix, parseAddress, parsePrefix, prefixContains, type Prefix } from '../dataplane/address.js';

export function containsAddress(prefix: string, address: string): boolean {
  const p = parsePrefix(prefix);
  const a = parseAddress(address);
  return !!p && !!a && a.length === p.bytes.length && prefixContains(p, a);
}

/** The first of `prefixes` that contains `address`. */
export function networkOf(prefixes: readonly string[], address: string): string | undefined {
  return prefixes.find((p) => containsAddress(p, address));
}

/** Whether `inner` lies entirely inside `outer`. */
export function coversPrefix(outer: string, inner: string): boolean {
  const o = parsePrefix(outer);
  const i = parsePrefix(inner);
  return !!o && !!i && o.family === i.family && o.length <= i.length && prefixContains(o, i.bytes);
}

/** The host prefix (/32 or /128) of an address, in canonical text. */
export function hostPrefix(address: string): string {
  const a = parseAddress(address);
  if (!a) throw new RangeError(`not an IP address: ${address}`);
  return formatPrefix(makePrefix(a, a.length * 8) as Prefix);
}

/** Canonical text of a prefix (host bits cleared), or undefined when it is not one. */
export function canonicalPrefix(text: string): string | undefined {
  const p = parsePrefix(text);
  return p ? formatPrefix(p) : undefined;
}

/** The address part of a prefix. */
export function prefixAddress(prefix: string): string {
  const slash = prefix.indexOf('/');
  return slash < 0 ? prefix : prefix.slice(0, slash);
}
