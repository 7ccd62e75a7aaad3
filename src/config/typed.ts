/**
 * Typed readers of a config for the modules that act on it (the engine, the SSH server): the
 * stored values are canonical strings; these turn them into numbers, booleans, lists and joined
 * profiles, so that no module parses config strings itself. Pure functions of a ConfigData
 * (e.g. `router.running()` or `set.after` in a config subscriber).
 */
import { licenceProfile, type LicenceProfile } from '../../menus/index.js';
import type { ConfigData, Row } from './tree.js';

const IKE = '/Setup/VPN/IKEv2';
const MESH = `${IKE}/Mesh`;

const num = (v: string | undefined): number => (v === undefined || v === '' ? 0 : Number(v));
const yes = (v: string | undefined): boolean => v === 'yes' || v === 'on';
const list = (v: string | undefined): string[] => (v ? v.split(',') : []);

function value(c: Readonly<ConfigData>, path: string): string {
  return c.values[path] ?? '';
}

function rowsOf(c: Readonly<ConfigData>, table: string): readonly Row[] {
  return c.tables[table] ?? [];
}

function rowByKey(c: Readonly<ConfigData>, table: string, keyCol: string, key: string): Row | undefined {
  if (key === '') return undefined;
  const low = key.toLowerCase();
  return rowsOf(c, table).find((r) => (r[keyCol] ?? '').toLowerCase() === low);
}

export interface HostPort {
  host: string;
  port?: number;
}

/** `host`, `host:port`, `[v6]:port`; undefined for '' ; '*' for any. */
export function parseHostPort(v: string): HostPort | '*' | undefined {
  if (v === '') return undefined;
  if (v === '*') return '*';
  const v6 = /^\[([^\]]+)\]:([0-9]+)$/.exec(v);
  if (v6) return { host: v6[1]!, port: Number(v6[2]) };
  const hp = /^([^:]+):([0-9]+)$/.exec(v);
  if (hp) return { host: hp[1]!, port: Number(hp[2]) };
  return { host: v };
}

export interface ForwardingFilterRule {
  prefix: string;
  rtgTag: number;
  action: 'allow' | 'deny';
  comment: string;
}

/** /Setup/VPN/IKEv2/Mesh with LCOS's names, typed. */
export interface MeshSettings {
  operationMode: 'Disabled' | 'Hub' | 'Spoke';
  /** The Peers row dynamic tunnels copy (undefined: none set). */
  vpnPeerTemplate: string | undefined;
  adminDistance: number;
  initialRateLimitSec: number;
  maxRateLimitSec: number;
  requestValiditySec: number;
  groupId: number;
  /** Empty: only the own group. */
  acceptedGroupIds: number[];
  /** Empty: all hub peers. */
  detectOnVpnPeers: string[];
  /** In table order: first match wins. */
  forwardingFilter: ForwardingFilterRule[];
  trigger: 'egress' | 'hub-redirect';
  switchover: 'move' | 'pin';
}

export function meshSettings(c: Readonly<ConfigData>): MeshSettings {
  const v = (n: string) => value(c, `${MESH}/${n}`);
  return {
    operationMode: v('Operation-Mode') as MeshSettings['operationMode'],
    vpnPeerTemplate: v('VPN-Peer-Template') || undefined,
    adminDistance: num(v('Admin-Distance')),
    initialRateLimitSec: num(v('Initial-Rate-Limit-Sec')),
    maxRateLimitSec: num(v('Max-Rate-Limit-Sec')),
    requestValiditySec: num(v('Request-Validity-Sec')),
    groupId: num(v('Group-ID')),
    acceptedGroupIds: list(v('Accepted-Group-IDs')).map(Number),
    detectOnVpnPeers: list(v('Detect-On-VPN-Peers')),
    forwardingFilter: rowsOf(c, `${MESH}/Forwarding-Filter`).map((r) => ({
      prefix: r['Prefix'] ?? '',
      rtgTag: num(r['Rtg-Tag']),
      action: r['Action'] === 'deny' ? 'deny' : 'allow',
      comment: r['Comment'] ?? '',
    })),
    trigger: v('Trigger') === 'hub-redirect' ? 'hub-redirect' : 'egress',
    switchover: v('Switchover') === 'pin' ? 'pin' : 'move',
  };
}

export interface AuthProfile {
  name: string;
  localAuth: string;
  localIdType: string;
  localId: string;
  /** Pre-shared key (secret: never log). */
  localPassword: string;
  remoteAuth: string;
  remoteIdType: string;
  remoteId: string;
  /** Pre-shared key the peer uses (secret: never log). */
  remotePassword: string;
  localCertificate: string;
  remoteCertIdCheck: boolean;
}

export interface EncryptionProfile {
  name: string;
  dhGroups: string[];
  pfs: boolean;
  ikeSaCiphers: string[];
  ikeSaIntegrity: string[];
  childSaCiphers: string[];
  childSaIntegrity: string[];
}

export interface LifetimeProfile {
  name: string;
  ikeSaSec: number;
  ikeSaKb: number;
  childSaSec: number;
  childSaKb: number;
}

export interface GeneralProfile {
  name: string;
  dpdInactTimerSec: number;
  natT: 'auto' | 'force' | 'off';
  mobike: boolean;
  fragmentation: boolean;
  retries: number;
  keepaliveSec: number;
}

export interface RoutingProfile {
  name: string;
  localNetworks: string[];
  remoteNetworks: string[];
  acceptRoutes: boolean;
  announceRoutes: boolean;
  metric: number;
}

/** A row of /Setup/VPN/IKEv2/Peers with its profiles joined in. */
export interface PeerSettings {
  name: string;
  active: boolean;
  remoteGateway: HostPort | '*' | undefined;
  /** Further gateways of the same peer, in order (failover, then failback to remoteGateway). */
  backupGateways: HostPort[];
  role: 'auto' | 'initiator' | 'responder';
  type: 'static' | 'hub' | 'spoke';
  /** Short-hold time: idle seconds before the tunnel is cleared; 0 = never. */
  shortHoldSec: number;
  rtgTag: number;
  comment: string;
  auth: AuthProfile;
  encryption: EncryptionProfile;
  lifetimes: LifetimeProfile;
  general: GeneralProfile;
  routing: RoutingProfile | undefined;
}

function authProfile(c: Readonly<ConfigData>, name: string): AuthProfile {
  const r = rowByKey(c, `${IKE}/Auth/Parameter`, 'Name', name) ?? {};
  return {
    name: r['Name'] ?? name,
    localAuth: r['Local-Auth'] ?? 'PSK',
    localIdType: r['Local-ID-Type'] ?? 'FQDN',
    localId: r['Local-ID'] ?? '',
    localPassword: r['Local-Password'] ?? '',
    remoteAuth: r['Remote-Auth'] ?? 'PSK',
    remoteIdType: r['Remote-ID-Type'] ?? 'FQDN',
    remoteId: r['Remote-ID'] ?? '',
    remotePassword: r['Remote-Password'] ?? '',
    localCertificate: r['Local-Certificate'] ?? '',
    remoteCertIdCheck: yes(r['Remote-Cert-ID-Check'] ?? 'yes'),
  };
}

function encryptionProfile(c: Readonly<ConfigData>, name: string): EncryptionProfile {
  const r = rowByKey(c, `${IKE}/Encryption`, 'Name', name) ?? {};
  return {
    name: r['Name'] ?? name,
    dhGroups: list(r['DH-Groups']),
    pfs: yes(r['PFS']),
    ikeSaCiphers: list(r['IKE-SA-Ciphers']),
    ikeSaIntegrity: list(r['IKE-SA-Integrity']),
    childSaCiphers: list(r['Child-SA-Ciphers']),
    childSaIntegrity: list(r['Child-SA-Integrity']),
  };
}

function lifetimeProfile(c: Readonly<ConfigData>, name: string): LifetimeProfile {
  const r = rowByKey(c, `${IKE}/Lifetimes`, 'Name', name) ?? {};
  return { name: r['Name'] ?? name, ikeSaSec: num(r['IKE-SA-Sec']), ikeSaKb: num(r['IKE-SA-KB']), childSaSec: num(r['Child-SA-Sec']), childSaKb: num(r['Child-SA-KB']) };
}

function generalProfile(c: Readonly<ConfigData>, name: string): GeneralProfile {
  const r = rowByKey(c, `${IKE}/General`, 'Name', name) ?? {};
  return {
    name: r['Name'] ?? name,
    dpdInactTimerSec: num(r['DPD-Inact-Timer']),
    natT: (r['NAT-T'] ?? 'auto') as GeneralProfile['natT'],
    mobike: yes(r['MOBIKE']),
    fragmentation: yes(r['Fragmentation']),
    retries: num(r['Retries']),
    keepaliveSec: num(r['Keepalive']),
  };
}

function routingProfile(c: Readonly<ConfigData>, name: string): RoutingProfile | undefined {
  const r = rowByKey(c, `${IKE}/Routing`, 'Name', name);
  if (!r) return undefined;
  return {
    name: r['Name'] ?? name,
    localNetworks: list(r['Local-Networks']),
    remoteNetworks: list(r['Remote-Networks']),
    acceptRoutes: yes(r['Accept-Routes']),
    announceRoutes: yes(r['Announce-Routes']),
    metric: num(r['Metric']),
  };
}

function peerFromRow(c: Readonly<ConfigData>, r: Row): PeerSettings {
  return {
    name: r['Peer'] ?? '',
    active: yes(r['Active']),
    remoteGateway: parseHostPort(r['Remote-Gateway'] ?? ''),
    backupGateways: list(r['Backup-Gateways'])
      .map(parseHostPort)
      .filter((g): g is HostPort => typeof g === 'object'),
    role: (r['Role'] ?? 'auto') as PeerSettings['role'],
    type: (r['Type'] ?? 'static') as PeerSettings['type'],
    shortHoldSec: num(r['SH-Time']),
    rtgTag: num(r['Rtg-Tag']),
    comment: r['Comment'] ?? '',
    auth: authProfile(c, r['Auth'] ?? ''),
    encryption: encryptionProfile(c, r['Encryption'] ?? ''),
    lifetimes: lifetimeProfile(c, r['Lifetimes'] ?? ''),
    general: generalProfile(c, r['General'] ?? ''),
    routing: routingProfile(c, r['Routing'] ?? ''),
  };
}

/** Every IKEv2 peer, in table order, profiles joined. */
export function peerSettings(c: Readonly<ConfigData>): PeerSettings[] {
  return rowsOf(c, `${IKE}/Peers`).map((r) => peerFromRow(c, r));
}

/** One peer by name (case-insensitive). */
export function peerSetting(c: Readonly<ConfigData>, name: string): PeerSettings | undefined {
  const r = rowByKey(c, `${IKE}/Peers`, 'Peer', name);
  return r ? peerFromRow(c, r) : undefined;
}

/** The licence profile of /Setup/Licence/Model. */
export function licenceSettings(c: Readonly<ConfigData>): LicenceProfile {
  const model = value(c, '/Setup/Licence/Model');
  return licenceProfile(model) ?? { model, vpnTunnels: 0, meshTunnels: 0, centralSite: false };
}

export interface InterfaceSettings {
  lan: { name: string; active: boolean; address: string; mtu: number; rtgTag: number }[];
  wan: { name: string; active: boolean; bindAddress: string; ikePort: number; natTPort: number; publicEndpoint: HostPort | undefined }[];
}

export function interfaceSettings(c: Readonly<ConfigData>): InterfaceSettings {
  return {
    lan: rowsOf(c, '/Setup/Interfaces/LAN').map((r) => ({
      name: r['Name'] ?? '',
      active: yes(r['Active']),
      address: r['Address'] ?? '',
      mtu: num(r['MTU']),
      rtgTag: num(r['Rtg-Tag']),
    })),
    wan: rowsOf(c, '/Setup/Interfaces/WAN').map((r) => {
      const pe = parseHostPort(r['Public-Endpoint'] ?? '');
      return {
        name: r['Name'] ?? '',
        active: yes(r['Active']),
        bindAddress: r['Bind-Address'] ?? '',
        ikePort: num(r['IKE-Port']),
        natTPort: num(r['NAT-T-Port']),
        publicEndpoint: pe === '*' ? undefined : pe,
      };
    }),
  };
}

export interface StaticRoute {
  prefix: string;
  rtgTag: number;
  /** A peer name or a gateway address; '' = discard. */
  via: string;
  distance: number;
  active: boolean;
}

export function staticRoutes(c: Readonly<ConfigData>): StaticRoute[] {
  return rowsOf(c, '/Setup/IP-Router/Routing-Table').map((r) => ({
    prefix: r['Prefix'] ?? '',
    rtgTag: num(r['Rtg-Tag']),
    via: r['Peer-or-IP'] ?? '',
    distance: num(r['Distance']),
    active: yes(r['Active']),
  }));
}

export interface SiteDirectorySettings {
  operating: boolean;
  backend: 'sqlite' | 'mysql';
  sqliteFile: string;
  /** Contains a password: never log. */
  mysqlDsn: string;
  basePeer: string | undefined;
  remoteMask: number;
  maxDynamicRoutes: number;
  minFreePercent: number;
}

export function siteDirectorySettings(c: Readonly<ConfigData>): SiteDirectorySettings {
  const v = (n: string) => value(c, `/Setup/VPN/Site-Directory/${n}`);
  return {
    operating: yes(v('Operating')),
    backend: v('Backend') === 'mysql' ? 'mysql' : 'sqlite',
    sqliteFile: v('SQLite-File'),
    mysqlDsn: v('MySQL-DSN'),
    basePeer: v('Base-Peer') || undefined,
    remoteMask: num(v('Remote-Mask')),
    maxDynamicRoutes: num(v('Max-Dynamic-Routes')),
    minFreePercent: num(v('Min-Free-Percent')),
  };
}
