/**
 * One-line summaries of messages for logs and `trace`, in strongSwan's style:
 *
 *   IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) V ]
 *
 * Encrypted payloads are listed inline after the clear ones once openMessage() has run; a
 * still-sealed SK shows as "SK". The verbose form adds details but never prints key
 * exchange data, nonces, AUTH data, or notify data: only their lengths.
 */
import {
  authMethodName,
  cfgAttributeTypeName,
  CfgType,
  exchangeTypeName,
  idTypeName,
  IdType,
  MESHGATE_VENDOR_ID,
  notifyShortName,
  PayloadType,
  protocolIdName,
  transformIdName,
} from '../constants.js';
import type { Message, Payload, Proposal, TrafficSelector } from './types.js';

export interface StringifyOptions {
  /** Add payload details (algorithms, identities, selectors, lengths). */
  verbose?: boolean;
}

export function stringifyMessage(m: Message, options: StringifyOptions = {}): string {
  const items = m.payloads.map((p) => stringifyPayload(p, options));
  if (m.encrypted) items.push(...m.encrypted.map((p) => stringifyPayload(p, options)));
  else if (m.sealed) items.push('SK');
  for (const t of m.skipped ?? []) items.push(`U(${t})`);
  const body = items.length > 0 ? `[ ${items.join(' ')} ]` : '[ ]';
  return `${exchangeTypeName(m.exchangeType)} ${m.response ? 'response' : 'request'} ${m.messageId} ${body}`;
}

const cpNames: ReadonlyMap<number, string> = new Map([
  [CfgType.CFG_REQUEST, 'CPRQ'],
  [CfgType.CFG_REPLY, 'CPRP'],
  [CfgType.CFG_SET, 'CPS'],
  [CfgType.CFG_ACK, 'CPA'],
]);

/** The short name of a payload ("No", "N(COOKIE)", "TSi"), with details when verbose. */
export function stringifyPayload(p: Payload, options: StringifyOptions = {}): string {
  const v = options.verbose === true;
  switch (p.type) {
    case PayloadType.SA:
      return v ? `SA(${p.proposals.map(proposalText).join('; ')})` : 'SA';
    case PayloadType.KE:
      return v ? `KE(${transformIdName(4, p.group)}, ${p.data.length} bytes)` : 'KE';
    case PayloadType.IDi:
    case PayloadType.IDr:
      return v ? `${p.type === PayloadType.IDi ? 'IDi' : 'IDr'}(${idText(p.idType, p.data)})` : p.type === PayloadType.IDi ? 'IDi' : 'IDr';
    case PayloadType.CERT:
      return v ? `CERT(${p.encoding}, ${p.data.length} bytes)` : 'CERT';
    case PayloadType.CERTREQ:
      return v ? `CERTREQ(${p.encoding}, ${p.data.length} bytes)` : 'CERTREQ';
    case PayloadType.AUTH:
      return v ? `AUTH(${authMethodName(p.method)}, ${p.data.length} bytes)` : 'AUTH';
    case PayloadType.Nonce:
      return v ? `No(${p.data.length} bytes)` : 'No';
    case PayloadType.N: {
      const name = notifyShortName(p.notifyType);
      if (!v) return `N(${name})`;
      const spi = p.spi.length > 0 ? `, ${protocolIdName(p.protocolId)} SPI ${hex(p.spi)}` : '';
      return `N(${name}${spi}, ${p.data.length} bytes)`;
    }
    case PayloadType.D:
      return v ? `D(${protocolIdName(p.protocolId)}${p.spis.map((s) => ` ${hex(s)}`).join('')})` : 'D';
    case PayloadType.V:
      if (!v) return 'V';
      return equalBytes(p.data, MESHGATE_VENDOR_ID) ? 'V(meshgate)' : `V(${p.data.length} bytes)`;
    case PayloadType.TSi:
    case PayloadType.TSr: {
      const name = p.type === PayloadType.TSi ? 'TSi' : 'TSr';
      return v ? `${name}(${p.selectors.map(selectorText).join(' ')})` : name;
    }
    case PayloadType.CP: {
      const name = cpNames.get(p.cfgType) ?? `CP${p.cfgType}`;
      return v ? `${name}(${p.attributes.map((a) => cfgAttributeTypeName(a.type)).join(' ')})` : name;
    }
    case PayloadType.EAP:
      return 'EAP';
  }
}

function proposalText(pr: Proposal): string {
  const spi = pr.spi.length > 0 ? ` ${hex(pr.spi)}` : '';
  const transforms = pr.transforms.map((t) => transformIdName(t.type, t.id) + (t.keyLength !== undefined ? `/${t.keyLength}` : ''));
  return `#${pr.number} ${protocolIdName(pr.protocolId)}${spi}: ${transforms.join(', ')}`;
}

function idText(idType: number, data: Uint8Array): string {
  switch (idType) {
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      return formatAddress(data);
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
      return `${idTypeName(idType)} ${JSON.stringify(new TextDecoder().decode(data))}`;
    default:
      return `${idTypeName(idType)}, ${data.length} bytes`;
  }
}

function selectorText(s: TrafficSelector): string {
  const range = rangeText(s.startAddress, s.endAddress);
  const anyPort = s.startPort === 0 && s.endPort === 0xffff;
  if (s.ipProtocol === 0 && anyPort) return range;
  return `${range}[${s.ipProtocol}${anyPort ? '' : `/${s.startPort}-${s.endPort}`}]`;
}

/** "10.1.0.0/16" when the range is a prefix, else "start..end". */
export function rangeText(start: Uint8Array, end: Uint8Array): string {
  const bits = start.length * 8;
  let prefix = 0;
  while (prefix < bits && bit(start, prefix) === bit(end, prefix)) prefix++;
  let isPrefix = true;
  for (let i = prefix; i < bits; i++) {
    if (bit(start, i) !== 0 || bit(end, i) !== 1) {
      isPrefix = false;
      break;
    }
  }
  return isPrefix ? `${formatAddress(start)}/${prefix}` : `${formatAddress(start)}..${formatAddress(end)}`;
}

const bit = (b: Uint8Array, i: number): number => (b[i >> 3]! >> (7 - (i & 7))) & 1;

/** Dotted quad for 4 octets; RFC 5952 text (lower case, longest zero run compressed) for 16. */
export function formatAddress(a: Uint8Array): string {
  if (a.length === 4) return Array.from(a).join('.');
  if (a.length !== 16) return hex(a);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i]! << 8) | a[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = words.map((w) => w.toString(16));
  if (bestStart < 0) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLen).join(':')}`;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
