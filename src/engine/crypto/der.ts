/**
 * A minimal DER reader: enough to walk a certificate to its subject, read an
 * AlgorithmIdentifier and its RSASSA-PSS parameters. It never builds certificates (that is
 * @peculiar/x509's job in src/engine/pki/create.ts). Every function throws DerError on
 * malformed input; callers on the receive path catch it.
 */
export class DerError extends Error {
  override name = 'DerError';
}

export interface DerNode {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** Offset of the identifier octet in `buf`. */
  start: number;
  /** Offset of the contents. */
  contentStart: number;
  /** Offset after the contents. */
  end: number;
  buf: Uint8Array;
}

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30, SET: 0x31 } as const;

/** Reads the element at `offset` of `buf` (within `limit`). */
export function derRead(buf: Uint8Array, offset = 0, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new DerError('element extends beyond its container');
  return { tag, start: offset, contentStart: p, end: p + len, buf };
}

/** The children of a constructed element. */
export function derChildren(node: DerNode): DerNode[] {
  if (!(node.tag & 0x20)) throw new DerError('not a constructed element');
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.end) {
    const c = derRead(node.buf, p, node.end);
    out.push(c);
    p = c.end;
    if (out.length > 4096) throw new DerError('too many elements');
  }
  return out;
}

export function derBytes(node: DerNode): Uint8Array {
  return node.buf.subarray(node.start, node.end);
}

export function derContent(node: DerNode): Uint8Array {
  return node.buf.subarray(node.contentStart, node.end);
}

/** Dotted text of an OBJECT IDENTIFIER element. */
export function derOid(node: DerNode): string {
  if (node.tag !== TAG.OID) throw new DerError('not an OBJECT IDENTIFIER');
  const c = derContent(node);
  if (c.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    v = v * 128 + (c[i]! & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(c[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    } else if (i === c.length - 1) throw new DerError('truncated OBJECT IDENTIFIER');
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

/** A small non-negative INTEGER. */
export function derSmallInt(node: DerNode): number {
  if (node.tag !== TAG.INTEGER) throw new DerError('not an INTEGER');
  const c = derContent(node);
  if (c.length === 0 || c.length > 4 || c[0]! & 0x80) throw new DerError('INTEGER out of range');
  return c.reduce((a, b) => a * 256 + b, 0);
}

/** Parses one whole element: `buf` must hold exactly it. */
export function derParseWhole(buf: Uint8Array): DerNode {
  const n = derRead(buf, 0);
  if (n.end !== buf.length) throw new DerError('trailing octets');
  return n;
}
