/**
 * The SQL row of a site, shared by the SQLite and MySQL backends. Columns hold canonical
 * text, so a lookup is an exact match on an index:
 *
 *   name       primary key
 *   identity   'type:value' canonical (unique index) — lookupByIdentity
 *   network    canonical prefix text '10.1.2.0/24' (unique index) — lookupByNetwork
 *   gateway    'host[:port]'
 *   psk, cert  one of them set
 *   active     1 / 0
 *   comment    text
 *   updated_at milliseconds since the Unix epoch
 *
 * Rows written by other tools must use the same canonical forms (RFC 5952 for IPv6,
 * lower-case FQDNs); `meshgate sites import` writes them so.
 */
import { formatPrefix, parsePrefix } from '../dataplane/address.js';
import type { Identity, IdentityType } from '../ike/peer-config.js';
import { SiteDirectoryError } from './errors.js';
import { formatGateway, formatIdentity, parseGateway, type Site, type SiteInput } from './site.js';

export interface SiteRow {
  name: string;
  identity: string;
  gateway: string;
  network: string;
  psk: string | null;
  cert: string | null;
  active: number;
  comment: string;
  updated_at: number | string | bigint;
}

const IDENTITY_TYPES = new Set<IdentityType>(['fqdn', 'user-fqdn', 'ipv4', 'ipv6', 'key-id']);

/** A stored row as a Site; a row that does not parse (edited by hand) is an error naming the site. */
export function rowToSite(row: SiteRow): Site {
  const colon = row.identity.indexOf(':');
  const type = row.identity.slice(0, colon) as IdentityType;
  const network = parsePrefix(row.network);
  const gateway = parseGateway(row.gateway);
  if (colon <= 0 || !IDENTITY_TYPES.has(type) || !network || typeof gateway === 'string') {
    throw new SiteDirectoryError(`site '${row.name}': the stored row is corrupt (identity, network or gateway does not parse)`);
  }
  const identity: Identity = { type, value: row.identity.slice(colon + 1) };
  const site: Site = {
    name: row.name,
    identity,
    gateway,
    network,
    active: Number(row.active) !== 0,
    comment: row.comment ?? '',
    updatedAt: Number(row.updated_at),
  };
  if (row.psk !== null && row.psk !== '') site.psk = row.psk;
  if (row.cert !== null && row.cert !== '') site.cert = row.cert;
  return site;
}

/** Parameters in column order: name, identity, gateway, network, psk, cert, active, comment, updated_at. */
export function siteParams(site: SiteInput, updatedAt: number): [string, string, string, string, string | null, string | null, number, string, number] {
  return [
    site.name,
    formatIdentity(site.identity),
    formatGateway(site.gateway),
    formatPrefix(site.network),
    site.psk ?? null,
    site.cert ?? null,
    site.active ? 1 : 0,
    site.comment,
    updatedAt,
  ];
}

export const SITE_SELECT_COLUMNS = 'name, identity, gateway, network, psk, cert, active, comment, updated_at';
