/**
 * The site row: what the site directory stores per site, its text form (the CSV columns
 * and the shell's table) and the validation of a row. Validation returns every problem of
 * a row, each with the column it concerns, so an import report can list them all.
 *
 *   name       unique, 1..64 of [A-Za-z0-9._-], starting with a letter or digit
 *   identity   IKE ID: 'fqdn:', 'user-fqdn:', 'ipv4:', 'ipv6:', 'key-id:' + value, or a bare
 *              value (an address is an IP identity, 'a@b' a USER-FQDN, else an FQDN)
 *   gateway    remote gateway: host name or address, optional port ('gw.example:4500',
 *              '192.0.2.1', '[2001:db8::1]:4500')
 *   network    the remote network; its prefix length must equal the directory's mask
 *   psk        the pre-shared key (secret), or
 *   cert       a certificate reference (exactly one of psk and cert)
 *   active     yes/no (1/0, true/false, on/off); empty means yes
 *   comment    free text, up to 255 characters
 *   updated_at set by the directory on every write (ISO 8601 on export, ignored on import)
 */
import ipaddr from 'ipaddr.js';
import { formatPrefix, makePrefix, parseAddress, parsePrefix, type IpFamily, type Prefix } from '../dataplane/address.js';
import type { Identity, IdentityType } from '../ike/peer-config.js';
import type { SiteProblem } from './errors.js';

export type { Identity, IdentityType };

/** The remote-network prefix length of a directory, per family ("the same for all sites"). */
export interface DirectoryMasks {
  v4?: number;
  v6?: number;
}

export interface SiteGateway {
  /** Host name (lower case) or canonical address text. */
  host: string;
  /** Omitted: the IKE default port of the engine. */
  port?: number;
}

/** A site as the directory stores it. */
export interface Site {
  name: string;
  /** Canonical: FQDN and USER-FQDN in lower case, addresses canonical, KEY-ID as 0x-hex. */
  identity: Identity;
  gateway: SiteGateway;
  network: Prefix;
  /** The pre-shared key. Never printed or logged. */
  psk?: string;
  /** Certificate reference (name in the node's certificate store). */
  cert?: string;
  active: boolean;
  comment: string;
  /** Last write, milliseconds since the Unix epoch. */
  updatedAt: number;
}

/** A validated site before the directory stamps it. */
export type SiteInput = Omit<Site, 'updatedAt'>;

/** The columns of the text form, in export order. */
export const SITE_COLUMNS = ['name', 'identity', 'gateway', 'network', 'psk', 'cert', 'active', 'comment', 'updated_at'] as const;
export type SiteColumn = (typeof SITE_COLUMNS)[number];
/** Columns a CSV header must name. */
export const REQUIRED_COLUMNS: readonly SiteColumn[] = ['name', 'identity', 'gateway', 'network'];

/** A row in text form (CSV, shell). Missing columns are empty. */
export type SiteRecord = Partial<Record<SiteColumn, string>>;

export const MAX_NAME_LENGTH = 64;
export const MAX_COMMENT_LENGTH = 255;
export const MIN_PSK_LENGTH = 8;
export const MAX_PSK_LENGTH = 256;
export const MAX_CERT_LENGTH = 128;
export const MAX_IDENTITY_LENGTH = 255;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CERT_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;
const LABEL_RE = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
// C0/C1 controls, DEL, and U+FFFD (what bytes that are not UTF-8 decode to).
// eslint-disable-next-line no-control-regex
const BAD_CHARS_RE = /[\u0000-\u001f\u007f-\u009f\ufffd]/;

const TRUE_WORDS = new Set(['', '1', 'yes', 'true', 'on', 'y']);
const FALSE_WORDS = new Set(['0', 'no', 'false', 'off', 'n']);

export function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const t = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = t.split('.');
  if (labels.some((l) => !LABEL_RE.test(l))) return false;
  // An all-numeric last label would read as a (bad) address: refuse it.
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/** Parses an identity as text ('fqdn:x', bare 'x'); the canonical form, or a problem. */
export function parseSiteIdentity(text: string): Identity | string {
  const t = text.trim();
  if (t === '') return 'is empty';
  if (t.length > MAX_IDENTITY_LENGTH) return `is longer than ${MAX_IDENTITY_LENGTH} characters`;
  if (BAD_CHARS_RE.test(t)) return 'contains control characters or bytes that are not UTF-8';
  const m = /^(fqdn|user-fqdn|ipv4|ipv6|key-id):(.*)$/i.exec(t);
  let type: IdentityType;
  let value: string;
  if (m) {
    type = m[1]!.toLowerCase() as IdentityType;
    value = m[2]!;
  } else if (isIpv4Text(t) || isIpv6Text(t)) {
    type = isIpv4Text(t) ? 'ipv4' : 'ipv6';
    value = t;
  } else {
    type = t.includes('@') ? 'user-fqdn' : 'fqdn';
    value = t;
  }
  if (value === '') return `has an empty ${type} value`;
  switch (type) {
    case 'fqdn':
      if (!isHostName(value)) return `'${value}' is not a valid FQDN`;
      return { type, value: value.toLowerCase() };
    case 'user-fqdn': {
      const at = value.lastIndexOf('@');
      if (at <= 0 || !isHostName(value.slice(at + 1)) || /\s/.test(value)) return `'${value}' is not a valid user FQDN (local@domain)`;
      return { type, value: value.toLowerCase() };
    }
    case 'ipv4':
      if (!isIpv4Text(value)) return `'${value}' is not an IPv4 address`;
      return { type, value: ipaddr.IPv4.parse(value).toString() };
    case 'ipv6':
      if (!isIpv6Text(value)) return `'${value}' is not an IPv6 address`;
      return { type, value: ipaddr.IPv6.parse(value).toRFC5952String() };
    case 'key-id': {
      if (/^0x([0-9a-f]{2})+$/i.test(value)) return { type, value: value.toLowerCase() };
      if (/^0x/i.test(value)) return `'${value}' is not an even number of hex digits`;
      return { type, value: '0x' + Buffer.from(value, 'utf8').toString('hex') };
    }
  }
}

/** The canonical text of an identity, as stored and looked up ('fqdn:gw.example'). */
export function identityKey(id: Identity | string): string | undefined {
  const parsed = typeof id === 'string' ? parseSiteIdentity(id) : parseSiteIdentity(`${id.type}:${id.value}`);
  return typeof parsed === 'string' ? undefined : `${parsed.type}:${parsed.value}`;
}

export function formatIdentity(id: Identity): string {
  return `${id.type}:${id.value}`;
}

const DOTTED_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Cheap shape checks first: ipaddr.js validates by throwing, which costs tens of microseconds. */
function isIpv4Text(t: string): boolean {
  return DOTTED_RE.test(t) && ipaddr.IPv4.isValidFourPartDecimal(t);
}

function isIpv6Text(t: string): boolean {
  return t.includes(':') && /^[0-9A-Fa-f:.]+$/.test(t) && ipaddr.IPv6.isValid(t);
}

/** Parses 'host', 'host:port', 'a.b.c.d:port', '[v6]:port' or a bare IPv6 address. */
export function parseGateway(text: string): SiteGateway | string {
  const t = text.trim();
  if (t === '') return 'is empty';
  if (BAD_CHARS_RE.test(t)) return 'contains control characters or bytes that are not UTF-8';
  let host = t;
  let portText: string | undefined;
  const firstColon = t.indexOf(':');
  if (t.startsWith('[')) {
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
    if (!bracket || !isIpv6Text(bracket[1]!)) return `'${t}' is not [IPv6 address]:port`;
    host = bracket[1]!;
    portText = bracket[2];
  } else if (firstColon >= 0 && t.indexOf(':', firstColon + 1) >= 0) {
    if (!isIpv6Text(t)) return `'${t}' is neither a host name nor an IP address (write [IPv6]:port)`;
  } else if (firstColon >= 0) {
    host = t.slice(0, firstColon);
    portText = t.slice(firstColon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `port '${portText}' is not in 1..65535`;
    port = Number(portText);
  }
  let canonicalHost: string;
  if (isIpv4Text(host)) canonicalHost = ipaddr.IPv4.parse(host).toString();
  else if (isIpv6Text(host)) canonicalHost = ipaddr.IPv6.parse(host).toRFC5952String();
  else if (isHostName(host)) canonicalHost = host.toLowerCase();
  else return `'${host}' is neither a host name nor an IP address`;
  return port === undefined ? { host: canonicalHost } : { host: canonicalHost, port };
}

export function formatGateway(g: SiteGateway): string {
  const h = g.host.includes(':') ? `[${g.host}]` : g.host;
  return g.port === undefined ? (g.host.includes(':') ? g.host : h) : `${h}:${g.port}`;
}

export function maskFor(masks: DirectoryMasks, family: IpFamily): number | undefined {
  return family === 4 ? masks.v4 : masks.v6;
}

/** Checks a mask setting; a problem text or undefined. */
export function checkMasks(masks: DirectoryMasks): string | undefined {
  if (masks.v4 === undefined && masks.v6 === undefined) return 'no remote-network mask is configured (IPv4 or IPv6)';
  if (masks.v4 !== undefined && !(Number.isInteger(masks.v4) && masks.v4 >= 1 && masks.v4 <= 32)) return `IPv4 mask /${masks.v4} is not in 1..32`;
  if (masks.v6 !== undefined && !(Number.isInteger(masks.v6) && masks.v6 >= 1 && masks.v6 <= 128)) return `IPv6 mask /${masks.v6} is not in 1..128`;
  return undefined;
}

export function parseNetwork(text: string, masks: DirectoryMasks): Prefix | string {
  const t = text.trim();
  if (t === '') return 'is empty';
  if (BAD_CHARS_RE.test(t)) return 'contains control characters or bytes that are not UTF-8';
  if (!t.includes('/')) return `'${t}' has no prefix length (write address/length)`;
  const p = parsePrefix(t);
  if (!p) return `'${t}' is not a network prefix`;
  const want = maskFor(masks, p.family);
  if (want === undefined) return `this directory has no IPv${p.family} mask configured`;
  if (p.length !== want) return `prefix length /${p.length} differs from the directory's mask /${want}`;
  // Host bits set ('10.1.2.3/24') are a typo more often than not: refuse them.
  const addr = parseAddress(t.slice(0, t.indexOf('/')));
  if (!addr || addr.some((b, i) => b !== p.bytes[i])) return `'${t}' has host bits set (the network is ${formatPrefix(p)})`;
  return p;
}

export function parseActive(text: string): boolean | string {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return `'${text}' is not yes/no (1/0, true/false, on/off)`;
}

/**
 * Validates a row in text form against the directory's masks. Returns the site, or every
 * problem of the row with its column.
 */
export function validateSiteRecord(record: SiteRecord, masks: DirectoryMasks): { site: SiteInput } | { problems: SiteProblem[] } {
  const problems: SiteProblem[] = [];
  const bad = (column: string, problem: string): void => {
    problems.push({ column, problem });
  };

  const name = (record.name ?? '').trim();
  if (name === '') bad('name', 'is empty');
  else if (name.length > MAX_NAME_LENGTH) bad('name', `is longer than ${MAX_NAME_LENGTH} characters`);
  else if (!NAME_RE.test(name)) bad('name', `'${printable(name)}' may hold only letters, digits, '.', '_' and '-' and must start with a letter or digit`);

  const identity = parseSiteIdentity(record.identity ?? '');
  if (typeof identity === 'string') bad('identity', identity);

  const gateway = parseGateway(record.gateway ?? '');
  if (typeof gateway === 'string') bad('gateway', gateway);

  const network = parseNetwork(record.network ?? '', masks);
  if (typeof network === 'string') bad('network', network);

  const psk = record.psk ?? '';
  const cert = (record.cert ?? '').trim();
  if (psk !== '') {
    if (psk.length < MIN_PSK_LENGTH) bad('psk', `is shorter than ${MIN_PSK_LENGTH} characters`);
    else if (psk.length > MAX_PSK_LENGTH) bad('psk', `is longer than ${MAX_PSK_LENGTH} characters`);
    else if (BAD_CHARS_RE.test(psk)) bad('psk', 'contains control characters or bytes that are not UTF-8');
  }
  if (cert !== '') {
    if (cert.length > MAX_CERT_LENGTH) bad('cert', `is longer than ${MAX_CERT_LENGTH} characters`);
    else if (!CERT_RE.test(cert)) bad('cert', `'${printable(cert)}' is not a certificate reference (letters, digits, . _ : / @ -)`);
  }
  if (psk === '' && cert === '') bad('psk', 'a site needs a pre-shared key or a certificate reference (cert)');
  if (psk !== '' && cert !== '') bad('cert', 'give either a pre-shared key or a certificate reference, not both');

  const active = parseActive(record.active ?? '');
  if (typeof active === 'string') bad('active', active);

  const comment = record.comment ?? '';
  if (comment.length > MAX_COMMENT_LENGTH) bad('comment', `is longer than ${MAX_COMMENT_LENGTH} characters`);
  else if (BAD_CHARS_RE.test(comment)) bad('comment', 'contains control characters or bytes that are not UTF-8');

  if (problems.length > 0) return { problems };
  const site: SiteInput = {
    name,
    identity: identity as Identity,
    gateway: gateway as SiteGateway,
    network: network as Prefix,
    active: active as boolean,
    comment,
  };
  if (psk !== '') site.psk = psk;
  if (cert !== '') site.cert = cert;
  return { site };
}

/** The text form of a site; the PSK only when asked for. */
export function siteToRecord(site: Site, withSecrets: boolean): SiteRecord {
  return {
    name: site.name,
    identity: formatIdentity(site.identity),
    gateway: formatGateway(site.gateway),
    network: formatPrefix(site.network),
    psk: withSecrets ? (site.psk ?? '') : '',
    cert: site.cert ?? '',
    active: site.active ? 'yes' : 'no',
    comment: site.comment,
    updated_at: new Date(site.updatedAt).toISOString(),
  };
}

/** Re-validates a stored site (e.g. a row read from a database edited by hand). */
export function revalidateSite(site: Site, masks: DirectoryMasks): { site: SiteInput } | { problems: SiteProblem[] } {
  return validateSiteRecord(siteToRecord(site, true), masks);
}

/**
 * The index key of a destination: the canonical text of its network under the directory's
 * mask ('10.1.2.0/24'), which is what the `network` column holds; undefined when the
 * directory serves no such family.
 */
export function destinationKey(destination: Uint8Array, masks: DirectoryMasks): string | undefined {
  const family: IpFamily | undefined = destination.length === 4 ? 4 : destination.length === 16 ? 6 : undefined;
  if (family === undefined) return undefined;
  const len = maskFor(masks, family);
  if (len === undefined) return undefined;
  const p = makePrefix(destination, len);
  return p ? formatPrefix(p) : undefined;
}

/** Whether two sites hold the same settings (everything but updatedAt and comment). */
export function sameSiteSettings(a: SiteInput, b: SiteInput): boolean {
  return (
    a.name === b.name &&
    formatIdentity(a.identity) === formatIdentity(b.identity) &&
    formatGateway(a.gateway) === formatGateway(b.gateway) &&
    formatPrefix(a.network) === formatPrefix(b.network) &&
    (a.psk ?? '') === (b.psk ?? '') &&
    (a.cert ?? '') === (b.cert ?? '') &&
    a.active === b.active
  );
}

function printable(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
