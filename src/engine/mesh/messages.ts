import ipaddr from 'ipaddr.js';

/**
 * meshgate's mesh control messages: the data of the private IKEv2 notifies that spokes
 * and hub exchange inside their (encrypted) INFORMATIONAL exchanges. The IKE layer
 * carries the bytes; this module defines them.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    Version    |   Msg Type    |           Reserved            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                          Request ID                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   Attributes: Type (16) | Length (16) | Value ...             ~
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Unknown attribute types are skipped (so later versions can add some); a known one
 * with a bad length, a truncated attribute, or a missing required attribute makes the
 * whole message invalid.
 */

export const MESH_MESSAGE_VERSION = 1;
const HEADER_LENGTH = 8;
const ATTR_HEADER_LENGTH = 4;
/** Notify data stays well below what an IKE message can carry. */
export const MESH_MESSAGE_MAX_LENGTH = 1024;

export const MeshMessageType = {
  /** Spoke -> hub (egress trigger): traffic from `source` arrived via the hub for my `destination`; tell its owner to connect to me. */
  shortcutRequest: 1,
  /** Hub -> spoke: build a direct tunnel to `endpoint` (identity `peerId`) for `destination`. */
  shortcutOffer: 2,
  /** Hub -> spoke: the request was refused (`status`, `reason`). */
  refused: 3,
  /** Hub -> spoke (hub-redirect trigger): you send traffic for `destination` through me; resolve it. */
  redirect: 4,
  /** Spoke -> hub: who owns `destination`, and at which public endpoint? */
  resolve: 5,
  /** Spoke -> hub: outcome of an offer (`status` 0 = tunnel up), for the hub's status tables. */
  result: 6,
  /** Spoke -> hub when its hub tunnel comes up or its mesh settings change: group membership. */
  announce: 7,
} as const;
export type MeshMessageTypeName = keyof typeof MeshMessageType;
const TYPE_NAMES = new Map<number, MeshMessageTypeName>(
  Object.entries(MeshMessageType).map(([k, v]) => [v, k as MeshMessageTypeName]),
);

/** Attribute types (TLV). */
const Attr = {
  source: 1,
  destination: 2,
  endpoint: 3,
  peerId: 4,
  groupId: 5,
  status: 6,
  reason: 7,
  validitySec: 8,
  nodeName: 9,
  acceptedGroupIds: 10,
} as const;

/** Status codes, shown in /Status/VPN/Mesh Requested-Prefixes. */
export const MeshStatus = {
  ok: 0,
  licenceExceeded: 1,
  policyDenied: 2,
  groupNotAccepted: 3,
  unknownDestination: 4,
  peerUnreachable: 5,
  authFailed: 6,
  ikeError: 7,
  notPublic: 8,
  hubDisabled: 9,
} as const;
export type MeshStatusName = keyof typeof MeshStatus;
const STATUS_NAMES = new Map<number, MeshStatusName>(Object.entries(MeshStatus).map(([k, v]) => [v, k as MeshStatusName]));

export function meshStatusName(code: number): string {
  return STATUS_NAMES.get(code) ?? `status-${code}`;
}

export interface MeshEndpoint {
  address: string;
  port: number;
}

export interface MeshMessage {
  type: MeshMessageTypeName;
  requestId: number;
  /** Network the conversation comes from (CIDR). */
  source?: string;
  /** Network the conversation goes to (CIDR). */
  destination?: string;
  /** Public address and port where the sender (or the offered peer) accepts IKE. */
  endpoint?: MeshEndpoint;
  /** IKE identity the tunnel must authenticate (FQDN or key id as text). */
  peerId?: string;
  groupId?: number;
  status?: number;
  reason?: string;
  validitySec?: number;
  nodeName?: string;
  acceptedGroupIds?: number[];
}

/** Which attributes each message type must carry. */
const REQUIRED: Record<MeshMessageTypeName, (keyof MeshMessage)[]> = {
  shortcutRequest: ['source', 'destination', 'endpoint', 'peerId'],
  shortcutOffer: ['destination', 'endpoint', 'peerId', 'validitySec'],
  refused: ['destination', 'status'],
  redirect: ['destination'],
  resolve: ['source', 'destination'],
  result: ['destination', 'status'],
  announce: ['groupId', 'acceptedGroupIds'],
};

export type MeshDecodeError =
  | 'too-short'
  | 'too-long'
  | 'bad-version'
  | 'unknown-type'
  | 'truncated-attribute'
  | 'bad-attribute'
  | 'duplicate-attribute'
  | 'missing-attribute';

export type MeshDecodeResult = { ok: true; message: MeshMessage } | { ok: false; error: MeshDecodeError; detail: string };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMeshMessage(m: MeshMessage): Uint8Array {
  const attrs: Uint8Array[] = [];
  const put = (type: number, value: Uint8Array) => {
    const a = new Uint8Array(ATTR_HEADER_LENGTH + value.length);
    const v = new DataView(a.buffer);
    v.setUint16(0, type);
    v.setUint16(2, value.length);
    a.set(value, ATTR_HEADER_LENGTH);
    attrs.push(a);
  };
  if (m.source !== undefined) put(Attr.source, encodePrefix(m.source));
  if (m.destination !== undefined) put(Attr.destination, encodePrefix(m.destination));
  if (m.endpoint !== undefined) put(Attr.endpoint, encodeEndpoint(m.endpoint));
  if (m.peerId !== undefined) put(Attr.peerId, textEncoder.encode(m.peerId));
  if (m.groupId !== undefined) put(Attr.groupId, u32(m.groupId));
  if (m.status !== undefined) put(Attr.status, u16(m.status));
  if (m.reason !== undefined) put(Attr.reason, textEncoder.encode(m.reason));
  if (m.validitySec !== undefined) put(Attr.validitySec, u32(m.validitySec));
  if (m.nodeName !== undefined) put(Attr.nodeName, textEncoder.encode(m.nodeName));
  if (m.acceptedGroupIds !== undefined) {
    const b = new Uint8Array(4 * m.acceptedGroupIds.length);
    const v = new DataView(b.buffer);
    m.acceptedGroupIds.forEach((g, i) => v.setUint32(4 * i, g >>> 0));
    put(Attr.acceptedGroupIds, b);
  }
  const total = HEADER_LENGTH + attrs.reduce((n, a) => n + a.length, 0);
  if (total > MESH_MESSAGE_MAX_LENGTH) throw new RangeError(`mesh message of ${total} bytes exceeds ${MESH_MESSAGE_MAX_LENGTH}`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint8(0, MESH_MESSAGE_VERSION);
  view.setUint8(1, MeshMessageType[m.type]);
  view.setUint32(4, m.requestId >>> 0);
  let off = HEADER_LENGTH;
  for (const a of attrs) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

/** Decodes notify data from a peer. Never throws. */
export function decodeMeshMessage(data: Uint8Array): MeshDecodeResult {
  const fail = (error: MeshDecodeError, detail: string): MeshDecodeResult => ({ ok: false, error, detail });
  if (data.length < HEADER_LENGTH) return fail('too-short', `${data.length} bytes, the header alone is ${HEADER_LENGTH}`);
  if (data.length > MESH_MESSAGE_MAX_LENGTH) return fail('too-long', `${data.length} bytes exceeds ${MESH_MESSAGE_MAX_LENGTH}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint8(0) !== MESH_MESSAGE_VERSION) return fail('bad-version', `version ${view.getUint8(0)}`);
  const type = TYPE_NAMES.get(view.getUint8(1));
  if (!type) return fail('unknown-type', `message type ${view.getUint8(1)}`);
  const m: MeshMessage = { type, requestId: view.getUint32(4) };
  const seen = new Set<number>();
  let off = HEADER_LENGTH;
  while (off < data.length) {
    if (data.length - off < ATTR_HEADER_LENGTH) return fail('truncated-attribute', `attribute header at ${off}`);
    const t = view.getUint16(off);
    const len = view.getUint16(off + 2);
    const start = off + ATTR_HEADER_LENGTH;
    if (start + len > data.length) return fail('truncated-attribute', `attribute ${t} of ${len} bytes at ${off}`);
    const value = data.subarray(start, start + len);
    off = start + len;
    if (seen.has(t)) return fail('duplicate-attribute', `attribute ${t}`);
    seen.add(t);
    const bad = (what: string) => fail('bad-attribute', `attribute ${t}: ${what}`);
    switch (t) {
      case Attr.source:
      case Attr.destination: {
        const p = decodePrefix(value);
        if (p === undefined) return bad('not a prefix');
        if (t === Attr.source) m.source = p;
        else m.destination = p;
        break;
      }
      case Attr.endpoint: {
        const e = decodeEndpoint(value);
        if (!e) return bad('not an endpoint');
        m.endpoint = e;
        break;
      }
      case Attr.peerId:
      case Attr.reason:
      case Attr.nodeName: {
        if (len === 0 || len > 255) return bad('text length out of range 1..255');
        let s: string;
        try {
          s = textDecoder.decode(value);
        } catch {
          return bad('not UTF-8');
        }
        if (/[\u0000-\u001f\u007f]/.test(s)) return bad('control characters');
        if (t === Attr.peerId) m.peerId = s;
        else if (t === Attr.reason) m.reason = s;
        else m.nodeName = s;
        break;
      }
      case Attr.groupId:
      case Attr.validitySec:
        if (len !== 4) return bad('length must be 4');
        if (t === Attr.groupId) m.groupId = view.getUint32(start);
        else m.validitySec = view.getUint32(start);
        break;
      case Attr.status:
        if (len !== 2) return bad('length must be 2');
        m.status = view.getUint16(start);
        break;
      case Attr.acceptedGroupIds: {
        if (len % 4 !== 0 || len > 4 * 64) return bad('a list of at most 64 32-bit group ids');
        const ids: number[] = [];
        for (let i = 0; i < len; i += 4) ids.push(view.getUint32(start + i));
        m.acceptedGroupIds = ids;
        break;
      }
      default:
        break; // unknown attributes are skipped
    }
  }
  for (const k of REQUIRED[type]) {
    if (m[k] === undefined) return fail('missing-attribute', `${type} needs ${k}`);
  }
  return { ok: true, message: m };
}

function u16(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n);
  return b;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

/** family (4|6), prefix length, address bytes. */
function encodePrefix(cidr: string): Uint8Array {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bytes = addr.toByteArray();
  return Uint8Array.from([addr.kind() === 'ipv4' ? 4 : 6, len, ...bytes]);
}

function decodePrefix(v: Uint8Array): string | undefined {
  if (v.length < 2) return undefined;
  const family = v[0];
  const len = v[1]!;
  const size = family === 4 ? 4 : family === 6 ? 16 : 0;
  if (size === 0 || v.length !== 2 + size || len > size * 8) return undefined;
  const addr = ipaddr.fromByteArray([...v.subarray(2)]);
  return `${addr.toString()}/${len}`;
}

/** family (4|6), port, address bytes. */
function encodeEndpoint(e: MeshEndpoint): Uint8Array {
  const addr = ipaddr.parse(e.address);
  const bytes = addr.toByteArray();
  return Uint8Array.from([addr.kind() === 'ipv4' ? 4 : 6, (e.port >> 8) & 0xff, e.port & 0xff, ...bytes]);
}

function decodeEndpoint(v: Uint8Array): MeshEndpoint | undefined {
  if (v.length < 3) return undefined;
  const family = v[0];
  const size = family === 4 ? 4 : family === 6 ? 16 : 0;
  if (size === 0 || v.length !== 3 + size) return undefined;
  const port = (v[1]! << 8) | v[2]!;
  if (port === 0) return undefined;
  return { address: ipaddr.fromByteArray([...v.subarray(3)]).toString(), port };
}

/** One line for logs and traces; identities are not secret, keys never appear here. */
export function stringifyMeshMessage(m: MeshMessage): string {
  const parts: string[] = [`${m.type}#${m.requestId}`];
  if (m.source) parts.push(`src=${m.source}`);
  if (m.destination) parts.push(`dst=${m.destination}`);
  if (m.endpoint) parts.push(`at=${m.endpoint.address.includes(':') ? `[${m.endpoint.address}]` : m.endpoint.address}:${m.endpoint.port}`);
  if (m.peerId) parts.push(`id=${m.peerId}`);
  if (m.groupId !== undefined) parts.push(`group=${m.groupId}`);
  if (m.status !== undefined) parts.push(`status=${meshStatusName(m.status)}`);
  if (m.reason) parts.push(`reason="${m.reason}"`);
  if (m.validitySec !== undefined) parts.push(`valid=${m.validitySec}s`);
  if (m.acceptedGroupIds !== undefined) parts.push(`accepts=${m.acceptedGroupIds.length ? m.acceptedGroupIds.join(',') : 'all'}`);
  return parts.join(' ');
}
