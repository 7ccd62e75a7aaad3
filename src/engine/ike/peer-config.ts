/**
 * A peer of the IKE engine: where it is, who it is, how to authenticate it, which
 * algorithms, networks and timers apply. `resolvePeerConfig` fills in the defaults
 * (strongSwan's where the issue names none, LCOS's for reconnection) and validates;
 * an invalid input is rejected with an IkeConfigError naming the field.
 *
 * All times are milliseconds.
 */
import ipaddr from 'ipaddr.js';
import type { Endpoint } from '../net/types.js';
import { IkeConfigError } from './errors.js';
import { IdType } from './constants.js';
import type { TrafficSelector } from './traffic-selector.js';
import type { Credential, TrustStore } from '../pki/certificate.js';
import { parseEspProposal, parseIkeProposal, type EspProposalSpec, type IkeProposalSpec } from './proposal.js';
import { tsFromCidr } from './traffic-selector.js';

export type IdentityType = 'fqdn' | 'ipv4' | 'ipv6' | 'key-id' | 'user-fqdn';

export interface Identity {
  type: IdentityType;
  /** fqdn / user-fqdn / address text; key-id as text or `0x`-prefixed hex. */
  value: string;
}

export type PeerRole = 'initiator' | 'responder' | 'both';

export type AuthMethodName = 'psk' | 'cert';

/**
 * How both ends authenticate (LCOS Local-Auth / Remote-Auth): each by pre-shared key or by
 * certificate. PSKs are empty when no side uses one.
 */
export interface AuthConfig {
  /** How this end authenticates. */
  method: AuthMethodName;
  /** How the peer must authenticate. */
  remoteMethod: AuthMethodName;
  /** The secret this end authenticates itself with. Never printed or logged. */
  psk: Uint8Array;
  /** The secret the peer authenticates with (LCOS Remote-Password); the same as `psk` unless set. */
  remotePsk: Uint8Array;
  /** Own certificate and private key (method 'cert'). */
  credential?: Credential;
  /** The site CA(s) the peer's certificate must chain to (remoteMethod 'cert'). */
  trust?: TrustStore;
  /** The peer's IKE identity must be named by its certificate (LCOS Remote-Cert-ID-Check); default true. */
  remoteCertIdCheck: boolean;
}

/** The PSK-only form of earlier versions. */
export type PskAuth = AuthConfig;

export interface LifetimeConfig {
  /** Soft lifetime: the SA is rekeyed after this (minus a random share of jitterMs). */
  rekeyMs: number;
  /** Extra time after rekeyMs until the hard lifetime deletes the SA. */
  overMs: number;
  /** Up to this much is subtracted at random from rekeyMs, so both ends do not rekey at once. */
  jitterMs: number;
}

export interface RetransmitConfig {
  /** First retransmission after this (strongSwan retransmit_timeout, 4 s). */
  timeoutMs: number;
  /** Each further wait is multiplied by this (retransmit_base, 1.8). */
  base: number;
  /** Retransmissions before giving up (retransmit_tries, 5). */
  tries: number;
}

export interface ReconnectConfig {
  /** Delay before a new attempt after a failure (LCOS: 30 s). */
  delayMs: number;
  /** +/- random part of the delay (LCOS: 10 s). */
  jitterMs: number;
  /** Consecutive failures double the delay up to this. */
  maxDelayMs: number;
}

export interface PeerConfig {
  name: string;
  role: PeerRole;
  /** Remote gateways in order of preference: a spoke lists its hubs (failover). Empty: responder only. */
  remoteGateways: Endpoint[];
  localId: Identity;
  /** Undefined accepts any identity that authenticates with this peer's secret. */
  remoteId?: Identity;
  auth: AuthConfig;
  ikeProposals: IkeProposalSpec[];
  espProposals: EspProposalSpec[];
  ikeLifetime: LifetimeConfig;
  childLifetime: LifetimeConfig;
  /** Liveness check after this much inbound silence; 0 turns DPD off. */
  dpdIntervalMs: number;
  /** Retransmissions of a liveness check before the peer is declared dead. */
  dpdRetries: number;
  retransmit: RetransmitConfig;
  reconnect: ReconnectConfig;
  localTs: TrafficSelector[];
  remoteTs: TrafficSelector[];
  /** Idle time after which the tunnel is taken down; 0 keeps it up for good (and reconnects). */
  shortHoldMs: number;
  /** Child SA volume lifetime in bytes per direction (0: none): rekeyed at 90 %, deleted at 100 %. */
  childVolumeBytes: number;
  /** NAT keepalive interval when this end is behind a NAT (RFC 3948: 20 s). */
  natKeepaliveMs: number;
  /** A meshgate private vendor id is sent in IKE_SA_INIT (announces the mesh extension). */
  sendVendorId: boolean;
}

export interface PeerConfigInput {
  name: string;
  role?: PeerRole;
  /** 'host', 'host:port', '[v6]:port' or an Endpoint; port defaults to 4500. */
  remoteGateways?: (string | Endpoint)[];
  localId: Identity | string;
  remoteId?: Identity | string;
  /** The pre-shared key (text or bytes); needed when either end authenticates by PSK. */
  psk?: string | Uint8Array;
  /** How this end authenticates (default 'psk'; 'cert' needs `credential`). */
  authMethod?: AuthMethodName;
  /** How the peer authenticates (default: as this end; 'cert' needs `trust`). */
  remoteAuthMethod?: AuthMethodName;
  credential?: Credential;
  trust?: TrustStore;
  remoteCertIdCheck?: boolean;
  /** A different key for the peer's side (LCOS Local-Password / Remote-Password); defaults to psk. */
  remotePsk?: string | Uint8Array;
  /** strongSwan keywords, e.g. ['aes256gcm16-prfsha384-x25519']. */
  ikeProposals?: (string | IkeProposalSpec)[];
  espProposals?: (string | EspProposalSpec)[];
  ikeLifetime?: Partial<LifetimeConfig>;
  childLifetime?: Partial<LifetimeConfig>;
  dpdIntervalMs?: number;
  dpdRetries?: number;
  retransmit?: Partial<RetransmitConfig>;
  reconnect?: Partial<ReconnectConfig>;
  localTs?: (string | TrafficSelector)[];
  remoteTs?: (string | TrafficSelector)[];
  shortHoldMs?: number;
  /** Child SA volume lifetime in bytes per direction (LCOS Child-SA-KB); 0 or absent: none. */
  childVolumeBytes?: number;
  natKeepaliveMs?: number;
  sendVendorId?: boolean;
}

export const DEFAULT_IKE_PROPOSALS = ['chacha20poly1305-aes256gcm16-aes128gcm16-prfsha256-prfsha384-prfsha512-x25519-ecp256'];
export const DEFAULT_ESP_PROPOSALS = ['chacha20poly1305-aes256gcm16-aes128gcm16'];
export const DEFAULT_RETRANSMIT: RetransmitConfig = { timeoutMs: 4000, base: 1.8, tries: 5 };
export const DEFAULT_RECONNECT: ReconnectConfig = { delayMs: 30_000, jitterMs: 10_000, maxDelayMs: 300_000 };
/** strongSwan: IKE rekey_time 4 h, over_time and rand_time 10 % of it. */
export const DEFAULT_IKE_LIFETIME: LifetimeConfig = { rekeyMs: 4 * 3600_000, overMs: 1440_000, jitterMs: 1440_000 };
/** strongSwan: CHILD rekey_time 1 h, over_time and rand_time 10 % of it. */
export const DEFAULT_CHILD_LIFETIME: LifetimeConfig = { rekeyMs: 3600_000, overMs: 360_000, jitterMs: 360_000 };
export const DEFAULT_DPD_INTERVAL_MS = 30_000;
export const DEFAULT_DPD_RETRIES = 3;
export const DEFAULT_NAT_KEEPALIVE_MS = 20_000;

export function parseIdentity(v: Identity | string, field: string): Identity {
  if (typeof v !== 'string') {
    checkIdentity(v, field);
    return { ...v };
  }
  // A bare string: an address is an IP identity, 'a@b' a user FQDN, otherwise an FQDN.
  const id: Identity = ipaddr.isValid(v)
    ? { type: ipaddr.parse(v).kind() === 'ipv4' ? 'ipv4' : 'ipv6', value: v }
    : v.includes('@')
      ? { type: 'user-fqdn', value: v }
      : { type: 'fqdn', value: v };
  checkIdentity(id, field);
  return id;
}

function checkIdentity(id: Identity, field: string): void {
  if (!id.value) throw new IkeConfigError(field, 'identity is empty');
  if ((id.type === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(id.value)) || (id.type === 'ipv6' && !ipaddr.IPv6.isValid(id.value))) {
    throw new IkeConfigError(field, `'${id.value}' is not an ${id.type} address`);
  }
}

/** The ID payload of an identity (RFC 7296 section 3.5). */
export function identityPayload(id: Identity): { idType: number; data: Uint8Array } {
  switch (id.type) {
    case 'fqdn':
      return { idType: IdType.ID_FQDN, data: new TextEncoder().encode(id.value) };
    case 'user-fqdn':
      return { idType: IdType.ID_RFC822_ADDR, data: new TextEncoder().encode(id.value) };
    case 'ipv4':
      return { idType: IdType.ID_IPV4_ADDR, data: Uint8Array.from(ipaddr.IPv4.parse(id.value).toByteArray()) };
    case 'ipv6':
      return { idType: IdType.ID_IPV6_ADDR, data: Uint8Array.from(ipaddr.IPv6.parse(id.value).toByteArray()) };
    case 'key-id':
      return {
        idType: IdType.ID_KEY_ID,
        data: id.value.startsWith('0x') ? Uint8Array.from(Buffer.from(id.value.slice(2), 'hex')) : new TextEncoder().encode(id.value),
      };
  }
}

/** An identity from an ID payload, or undefined for types meshgate does not match on. */
export function identityFromPayload(idType: number, data: Uint8Array): Identity | undefined {
  try {
    switch (idType) {
      case IdType.ID_FQDN:
        return { type: 'fqdn', value: new TextDecoder('utf-8', { fatal: true }).decode(data) };
      case IdType.ID_RFC822_ADDR:
        return { type: 'user-fqdn', value: new TextDecoder('utf-8', { fatal: true }).decode(data) };
      case IdType.ID_IPV4_ADDR:
        return data.length === 4 ? { type: 'ipv4', value: ipaddr.fromByteArray([...data]).toString() } : undefined;
      case IdType.ID_IPV6_ADDR:
        return data.length === 16 ? { type: 'ipv6', value: (ipaddr.fromByteArray([...data]) as ipaddr.IPv6).toRFC5952String() } : undefined;
      case IdType.ID_KEY_ID:
        return { type: 'key-id', value: '0x' + Buffer.from(data).toString('hex') };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Identity equality on the wire form (so 'key-id' text and hex compare equal). */
export function identityEquals(a: Identity, b: Identity): boolean {
  const pa = identityPayload(a);
  const pb = identityPayload(b);
  if (pa.idType !== pb.idType || pa.data.length !== pb.data.length) return false;
  if (a.type === 'fqdn' || a.type === 'user-fqdn') return a.value.toLowerCase() === b.value.toLowerCase();
  return pa.data.every((x, i) => x === pb.data[i]);
}

export function identityToString(id: Identity): string {
  return `${id.type}:${id.value}`;
}

export function parseEndpoint(v: string | Endpoint, field: string): Endpoint {
  if (typeof v !== 'string') {
    if (!ipaddr.isValid(v.address) || !(v.port > 0 && v.port < 65536)) throw new IkeConfigError(field, `'${v.address}:${v.port}' is not an address and port`);
    return { address: canonical(v.address), port: v.port };
  }
  let host = v;
  let port = 4500;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (/^[^:]+:\d+$/.test(v)) {
    const i = v.lastIndexOf(':');
    host = v.slice(0, i);
    port = Number(v.slice(i + 1));
  }
  if (!ipaddr.isValid(host)) throw new IkeConfigError(field, `'${v}' is not an IP address (host names are resolved by the caller)`);
  if (!(port > 0 && port < 65536)) throw new IkeConfigError(field, `port ${port} out of range 1..65535`);
  return { address: canonical(host), port };
}

function canonical(address: string): string {
  const a = ipaddr.parse(address);
  return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
}

function nonNegative(v: number, field: string): number {
  if (!Number.isFinite(v) || v < 0) throw new IkeConfigError(field, `${v} is not a non-negative number`);
  return v;
}

function lifetime(input: Partial<LifetimeConfig> | undefined, def: LifetimeConfig, field: string): LifetimeConfig {
  // As strongSwan: over_time and rand_time default to 10 % of the rekey time given (a short
  // Child-SA-Sec would otherwise meet the default's 6 min jitter and be refused).
  const scaled = input?.rekeyMs !== undefined && input.rekeyMs > 0 ? Math.round(input.rekeyMs / 10) : undefined;
  const base = scaled === undefined ? def : { ...def, overMs: scaled, jitterMs: scaled };
  const l = { ...base, ...input };
  if (!(l.rekeyMs > 0)) throw new IkeConfigError(`${field}.rekeyMs`, `${l.rekeyMs} must be positive`);
  nonNegative(l.overMs, `${field}.overMs`);
  nonNegative(l.jitterMs, `${field}.jitterMs`);
  if (l.jitterMs >= l.rekeyMs) throw new IkeConfigError(`${field}.jitterMs`, 'must be smaller than rekeyMs');
  return l;
}

export function resolvePeerConfig(input: PeerConfigInput): PeerConfig {
  if (!input.name || !/^[A-Za-z0-9._-]{1,64}$/.test(input.name)) {
    throw new IkeConfigError('name', `'${input.name}' must be 1-64 characters of letters, digits, '.', '_' or '-'`);
  }
  const role = input.role ?? 'both';
  if (role !== 'initiator' && role !== 'responder' && role !== 'both') throw new IkeConfigError('role', `'${String(role)}' is not initiator, responder or both`);
  const remoteGateways = (input.remoteGateways ?? []).map((g, i) => parseEndpoint(g, `remoteGateways[${i}]`));
  if (role === 'initiator' && remoteGateways.length === 0) throw new IkeConfigError('remoteGateways', 'an initiator needs at least one remote gateway');
  const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? new TextEncoder().encode(v) : Uint8Array.from(v));
  const method = input.authMethod ?? 'psk';
  const remoteMethod = input.remoteAuthMethod ?? method;
  for (const [field, m] of [['authMethod', method], ['remoteAuthMethod', remoteMethod]] as const) {
    if (m !== 'psk' && m !== 'cert') throw new IkeConfigError(field, `'${String(m)}' is not psk or cert`);
  }
  const psk = input.psk === undefined ? new Uint8Array(0) : bytes(input.psk);
  if ((method === 'psk' || input.psk !== undefined) && psk.length < 8) throw new IkeConfigError('psk', 'a pre-shared key needs at least 8 octets');
  const remotePsk = input.remotePsk === undefined ? psk : bytes(input.remotePsk);
  if (remoteMethod === 'psk' && remotePsk.length < 8) throw new IkeConfigError(input.remotePsk === undefined ? 'psk' : 'remotePsk', 'a pre-shared key needs at least 8 octets');
  if (method === 'cert' && !input.credential) throw new IkeConfigError('credential', 'certificate authentication needs an own certificate and private key');
  if (remoteMethod === 'cert' && !input.trust) throw new IkeConfigError('trust', 'certificate authentication of the peer needs the site CA certificate');
  const auth: AuthConfig = { method, remoteMethod, psk, remotePsk, remoteCertIdCheck: input.remoteCertIdCheck ?? true };
  if (input.credential) auth.credential = input.credential;
  if (input.trust) auth.trust = input.trust;
  const ikeProposals = (input.ikeProposals ?? DEFAULT_IKE_PROPOSALS).map((p, i) => (typeof p === 'string' ? parseIkeProposal(p, `ikeProposals[${i}]`) : p));
  const espProposals = (input.espProposals ?? DEFAULT_ESP_PROPOSALS).map((p, i) => (typeof p === 'string' ? parseEspProposal(p, `espProposals[${i}]`) : p));
  if (ikeProposals.length === 0) throw new IkeConfigError('ikeProposals', 'at least one proposal is needed');
  if (espProposals.length === 0) throw new IkeConfigError('espProposals', 'at least one proposal is needed');
  const retransmit = { ...DEFAULT_RETRANSMIT, ...input.retransmit };
  if (!(retransmit.timeoutMs > 0)) throw new IkeConfigError('retransmit.timeoutMs', 'must be positive');
  if (!(retransmit.base >= 1)) throw new IkeConfigError('retransmit.base', 'must be at least 1');
  if (!Number.isInteger(retransmit.tries) || retransmit.tries < 0 || retransmit.tries > 20) throw new IkeConfigError('retransmit.tries', 'must be an integer 0..20');
  const reconnect = { ...DEFAULT_RECONNECT, ...input.reconnect };
  nonNegative(reconnect.delayMs, 'reconnect.delayMs');
  nonNegative(reconnect.jitterMs, 'reconnect.jitterMs');
  if (reconnect.jitterMs > reconnect.delayMs) throw new IkeConfigError('reconnect.jitterMs', 'must not exceed delayMs');
  const ts = (list: (string | TrafficSelector)[] | undefined, field: string) =>
    (list ?? ['0.0.0.0/0', '::/0']).map((t) => {
      try {
        return typeof t === 'string' ? tsFromCidr(t) : { ...t };
      } catch (err) {
        throw new IkeConfigError(field, (err as Error).message);
      }
    });
  const cfg: PeerConfig = {
    name: input.name,
    role,
    remoteGateways,
    localId: parseIdentity(input.localId, 'localId'),
    auth,
    ikeProposals,
    espProposals,
    ikeLifetime: lifetime(input.ikeLifetime, DEFAULT_IKE_LIFETIME, 'ikeLifetime'),
    childLifetime: lifetime(input.childLifetime, DEFAULT_CHILD_LIFETIME, 'childLifetime'),
    dpdIntervalMs: nonNegative(input.dpdIntervalMs ?? DEFAULT_DPD_INTERVAL_MS, 'dpdIntervalMs'),
    dpdRetries: nonNegative(input.dpdRetries ?? DEFAULT_DPD_RETRIES, 'dpdRetries'),
    retransmit,
    reconnect,
    localTs: ts(input.localTs, 'localTs'),
    remoteTs: ts(input.remoteTs, 'remoteTs'),
    shortHoldMs: nonNegative(input.shortHoldMs ?? 0, 'shortHoldMs'),
    childVolumeBytes: nonNegative(input.childVolumeBytes ?? 0, 'childVolumeBytes'),
    natKeepaliveMs: nonNegative(input.natKeepaliveMs ?? DEFAULT_NAT_KEEPALIVE_MS, 'natKeepaliveMs'),
    sendVendorId: input.sendVendorId ?? true,
  };
  if (input.remoteId !== undefined) cfg.remoteId = parseIdentity(input.remoteId, 'remoteId');
  return cfg;
}

/** A soft lifetime drawn from the config: rekeyMs minus a random share of jitterMs. */
export function softLifetimeMs(l: LifetimeConfig, random01: number): number {
  return Math.max(1, Math.round(l.rekeyMs - random01 * l.jitterMs));
}
