/**
 * The node's configuration (the menu tree's values) as the engine's EngineConfig. Pure:
 * the same function checks a candidate before a commit (problems refuse it) and produces
 * what engine.apply() diffs against the running engine.
 */
import { isIP } from 'node:net';
import {
  interfaceSettings,
  licenceSettings,
  meshSettings,
  peerSettings,
  siteDirectorySettings,
  staticRoutes,
  type ConfigData,
  type EncryptionProfile,
  type PeerSettings,
} from '../config/index.js';
import { emptyEngineConfig, type EngineConfig, type EnginePeer, type MeshTemplate } from '../engine/engine.js';
import type { Identity, PeerConfigInput } from '../engine/ike/peer-config.js';
import { certificateFiles, type CertificateFiles } from './certificate-files.js';
import type { SitePeerTemplate } from '../engine/sites/site-peer.js';

const CIPHERS: Record<string, string | undefined> = {
  'AES-GCM-256': 'aes256gcm16',
  'AES-GCM-128': 'aes128gcm16',
  'CHACHA20-POLY1305': 'chacha20poly1305',
};
const PRFS: Record<string, string> = { 'SHA-256': 'prfsha256', 'SHA-384': 'prfsha384', 'SHA-512': 'prfsha512' };
const GROUPS: Record<string, string | undefined> = { DH19: 'ecp256', DH31: 'x25519' };
const ID_TYPES: Record<string, Identity['type'] | undefined> = {
  FQDN: 'fqdn',
  'USER-FQDN': 'user-fqdn',
  IPv4: 'ipv4',
  IPv6: 'ipv6',
  'KEY-ID': 'key-id',
};

/** Where the engine config comes from besides the config tree: the certificate files. */
export interface MapContext {
  /** The config directory (relative certificate paths); without it, certificates cannot be used. */
  configDir?: string;
  /** Loads certificate files (tests substitute one; default: files in configDir, cached by mtime). */
  files?: CertificateFiles;
}

/** Local-Auth / Remote-Auth values and the key type each signature method needs. */
const AUTH_KEY_TYPES: Record<string, string | undefined> = { RSA: 'rsa', ECDSA: 'ec', EdDSA: 'ed25519' };
const KEY_NAMES: Record<string, string> = { rsa: 'RSA', 'rsa-pss': 'RSA', ec: 'ECDSA', ed25519: 'EdDSA (Ed25519)', ed448: 'EdDSA (Ed448)' };

type AuthInput = Pick<PeerConfigInput, 'psk' | 'remotePsk' | 'authMethod' | 'remoteAuthMethod' | 'credential' | 'trust' | 'remoteCertIdCheck'>;

/**
 * The authentication of an Auth profile: PSK, or a certificate (RSA, ECDSA, EdDSA) from the
 * files of /Setup/VPN/IKEv2/Certificates or the profile's Local-Certificate.
 */
function authInput(c: Readonly<ConfigData>, a: PeerSettings['auth'], where: string, problems: string[], ctx: MapContext): AuthInput | undefined {
  const local = a.localAuth === 'PSK' ? 'psk' : AUTH_KEY_TYPES[a.localAuth] ? 'cert' : undefined;
  const remote = a.remoteAuth === 'PSK' ? 'psk' : AUTH_KEY_TYPES[a.remoteAuth] ? 'cert' : undefined;
  if (!local || !remote) {
    problems.push(`${where}: Local-Auth/Remote-Auth must be PSK, RSA, ECDSA or EdDSA (is ${a.localAuth}/${a.remoteAuth})`);
    return undefined;
  }
  const out: AuthInput = { authMethod: local, remoteAuthMethod: remote, remoteCertIdCheck: a.remoteCertIdCheck };
  if (local === 'psk' || remote === 'psk') {
    if (!a.localPassword) {
      problems.push(`${where}: Auth profile ${a.name} has no Local-Password (the pre-shared key)`);
      return undefined;
    }
    out.psk = a.localPassword;
    if (a.remotePassword) out.remotePsk = a.remotePassword;
  }
  if (local === 'psk' && remote === 'psk') return out;
  const files = ctx.files ?? (ctx.configDir ? certificateFiles(ctx.configDir) : undefined);
  if (!files) {
    problems.push(`${where}: certificate authentication needs the config directory (certificate files)`);
    return undefined;
  }
  const V = '/Setup/VPN/IKEv2/Certificates';
  try {
    if (local === 'cert') {
      const certFile = a.localCertificate || c.values[`${V}/Own-Certificate`] || 'pki/node.crt';
      const keyFile = a.localCertificate ? a.localCertificate.replace(/\.(crt|pem|cer)$/i, '') + '.key' : c.values[`${V}/Own-Key`] || 'pki/node.key';
      const cred = files.credential(certFile, keyFile);
      const type = cred.key.asymmetricKeyType ?? '?';
      const want = AUTH_KEY_TYPES[a.localAuth]!;
      if (type !== want && !(want === 'rsa' && type === 'rsa-pss')) {
        problems.push(`${where}: Local-Auth ${a.localAuth}, but the key of ${certFile} is ${KEY_NAMES[type] ?? type} (set Local-Auth ${KEY_NAMES[type]?.split(' ')[0] ?? 'to match'})`);
        return undefined;
      }
      out.credential = cred;
    }
    if (remote === 'cert') out.trust = files.trust(c.values[`${V}/CA-Certificate`] || 'pki/ca.crt');
  } catch (e) {
    problems.push(`${where}: ${(e as Error).message} (meshgate pki creates the site CA and node certificates)`);
    return undefined;
  }
  return out;
}

export interface MappedConfig {
  config: EngineConfig;
  /** What the engine cannot do with this configuration, each naming the setting. */
  problems: string[];
}

function proposals(e: EncryptionProfile, where: string, problems: string[]): { ike: string; esp: string } | undefined {
  const ike = e.ikeSaCiphers.map((c) => CIPHERS[c]).filter(Boolean);
  const esp = e.childSaCiphers.map((c) => CIPHERS[c]).filter(Boolean);
  const prf = e.ikeSaIntegrity.map((i) => PRFS[i]).filter(Boolean);
  const dh = e.dhGroups.map((g) => GROUPS[g]).filter(Boolean);
  const missing: string[] = [];
  if (ike.length === 0) missing.push(`IKE-SA-Ciphers (supported: ${Object.keys(CIPHERS).join(', ')})`);
  if (esp.length === 0) missing.push(`Child-SA-Ciphers (supported: ${Object.keys(CIPHERS).join(', ')})`);
  if (prf.length === 0) missing.push(`IKE-SA-Integrity (supported: ${Object.keys(PRFS).join(', ')})`);
  if (dh.length === 0) missing.push(`DH-Groups (supported: ${Object.keys(GROUPS).join(', ')})`);
  if (missing.length) {
    problems.push(`${where}: no supported ${missing.join('; ')}`);
    return undefined;
  }
  return { ike: [...ike, ...prf, ...dh].join('-'), esp: e.pfs ? [...esp, dh[0]].join('-') : esp.join('-') };
}

function identity(type: string, value: string): Identity | string {
  const t = ID_TYPES[type];
  return t ? { type: t, value } : value;
}

function peerInput(c: Readonly<ConfigData>, p: PeerSettings, lanNets: string[], problems: string[], ctx: MapContext): EnginePeer | undefined {
  const where = `/Setup/VPN/IKEv2/Peers ${p.name}`;
  const auth = authInput(c, p.auth, `${where} (Auth ${p.auth.name})`, problems, ctx);
  if (!auth) return undefined;
  const prop = proposals(p.encryption, `${where} (Encryption ${p.encryption.name})`, problems);
  if (!prop) return undefined;
  // What the engine cannot do is refused, never silently ignored.
  const unsupported = [
    p.general.natT === 'off' ? `General ${p.general.name}: NAT-T off is not possible (meshgate has no raw ESP: ESP always travels in UDP, as with force)` : '',
    p.general.mobike ? `General ${p.general.name}: MOBIKE (RFC 4555) is not supported: set no` : '',
    p.general.fragmentation ? `General ${p.general.name}: IKEv2 fragmentation (RFC 7383) is not supported: set no` : '',
    p.routing && !p.routing.announceRoutes ? `Routing ${p.routing.name}: Announce-Routes no is not supported (the Local-Networks are always proposed as traffic selectors)` : '',
  ].filter(Boolean);
  if (unsupported.length) {
    problems.push(...unsupported.map((u) => `${where} (${u})`));
    return undefined;
  }
  if (p.lifetimes.ikeSaKb > 0) {
    problems.push(`${where} (Lifetimes ${p.lifetimes.name}): IKE-SA-KB ${p.lifetimes.ikeSaKb} is not supported (an IKEv2 SA has no volume lifetime here; IKE-SA-Sec limits it): set 0`);
    return undefined;
  }
  const gw = p.remoteGateway;
  const fmt = (g: { host: string; port?: number }) => `${g.host.includes(':') ? `[${g.host}]` : g.host}:${g.port ?? 4500}`;
  // The Remote-Gateway first, then the backups (failover in order, failback to the first).
  const gateways = gw && gw !== '*' ? [fmt(gw), ...p.backupGateways.map(fmt)] : [];
  if (gw === undefined || gw === '*') {
    if (p.backupGateways.length > 0) {
      problems.push(`${where}: Backup-Gateways need a Remote-Gateway (the gateway to fail back to)`);
      return undefined;
    }
  }
  const role = p.role === 'auto' ? (gateways.length ? 'both' : 'responder') : p.role;
  if (role === 'initiator' && gateways.length === 0) {
    problems.push(`${where}: Role initiator needs a Remote-Gateway`);
    return undefined;
  }
  for (const [col, type, value] of [['Local-ID-Type', p.auth.localIdType, p.auth.localId], ['Remote-ID-Type', p.auth.remoteIdType, p.auth.remoteId]] as const) {
    if (value && !ID_TYPES[type]) {
      problems.push(`${where} (Auth ${p.auth.name}): ${col} ${type} is not supported (supported: ${Object.keys(ID_TYPES).join(', ')})`);
      return undefined;
    }
  }
  const localId = p.auth.localId ? identity(p.auth.localIdType, p.auth.localId) : p.name;
  const remoteId = p.auth.remoteId ? identity(p.auth.remoteIdType, p.auth.remoteId) : undefined;
  const localTs = p.routing?.localNetworks.length ? p.routing.localNetworks : lanNets;
  const remoteTs = p.routing?.remoteNetworks.length ? p.routing.remoteNetworks : ['0.0.0.0/0'];
  return {
    kind: p.type,
    name: p.name,
    role,
    remoteGateways: gateways,
    localId,
    ...(remoteId ? { remoteId } : {}),
    ...auth,
    ikeProposals: [prop.ike],
    espProposals: [prop.esp],
    ...profileTimers(p),
    localTs,
    remoteTs,
    shortHoldMs: p.shortHoldSec * 1000,
    ...(p.routing ? { acceptRoutes: p.routing.acceptRoutes, routeMetric: p.routing.metric } : {}),
  };
}

export function engineConfigFrom(c: Readonly<ConfigData>, ctx: MapContext = {}): MappedConfig {
  const problems: string[] = [];
  const cfg = emptyEngineConfig(c.values['/Setup/Name'] || 'meshgate');
  const ifs = interfaceSettings(c);
  cfg.lanAddresses = ifs.lan.filter((l) => l.active && l.address).map((l) => l.address);
  const lanNets = cfg.lanAddresses.map(networkOfCidr).filter((n): n is string => !!n);
  const wan = ifs.wan.find((w) => w.active && w.publicEndpoint && isIP(w.publicEndpoint.host));
  if (wan?.publicEndpoint) cfg.publicEndpoint = { address: wan.publicEndpoint.host, port: wan.publicEndpoint.port ?? wan.natTPort };

  // /Setup/VPN/Operating no: the VPN module is off (no peers, no mesh, no site directory).
  const vpnOn = (c.values['/Setup/VPN/Operating'] ?? 'yes') === 'yes';
  cfg.cookieThreshold = NEGOTIATION_CONTROL[c.values['/Setup/VPN/Negotiation-Control'] ?? 'Normal'] ?? 100;
  const all = vpnOn ? peerSettings(c) : [];
  const sd = siteDirectorySettings(c);
  const basePeer = sd.operating && sd.basePeer ? all.find((p) => p.name.toLowerCase() === sd.basePeer!.toLowerCase()) : undefined;
  for (const p of all) {
    if (!p.active) continue;
    // The Base-Peer row is a template for the directory's sites, not a tunnel of its own.
    if (p === basePeer) continue;
    const input = peerInput(c, p, lanNets, problems, ctx);
    if (input) cfg.peers.push(input);
  }
  const siteBaseRoutes: string[] = [];
  for (const r of staticRoutes(c)) {
    if (!r.active || !r.prefix) continue;
    if (r.via.toUpperCase() === SITE_DIRECTORY_NEXT_HOP) {
      siteBaseRoutes.push(r.prefix);
      continue;
    }
    const peer = all.find((p) => p.name.toLowerCase() === r.via.toLowerCase());
    const target = r.via === '' ? { kind: 'reject' as const } : peer ? { kind: 'peer' as const, peer: peer.name } : { kind: 'lan' as const };
    cfg.staticRoutes.push({ prefix: r.prefix, target, distance: r.distance });
  }

  const l = licenceSettings(c);
  cfg.licence = { name: l.model, vpn: l.vpnTunnels, mesh: l.meshTunnels };

  const m = meshSettings(c);
  const templatePeer = m.vpnPeerTemplate ? all.find((p) => p.name.toLowerCase() === m.vpnPeerTemplate!.toLowerCase()) : undefined;
  cfg.mesh = {
    operationMode: m.operationMode,
    trigger: m.trigger,
    switchover: m.switchover,
    adminDistance: m.adminDistance,
    initialRateLimitSec: m.initialRateLimitSec,
    maxRateLimitSec: m.maxRateLimitSec,
    requestValiditySec: m.requestValiditySec,
    groupId: m.groupId,
    acceptedGroupIds: m.acceptedGroupIds,
    detectOnVpnPeers: m.detectOnVpnPeers,
    shortHoldSec: templatePeer?.shortHoldSec ?? 0,
    forwardingFilter: m.forwardingFilter.map((f) => ({ prefix: f.prefix, routingTag: f.rtgTag, action: f.action })),
  };
  if (!vpnOn) cfg.mesh.operationMode = 'Disabled';
  if (vpnOn && m.operationMode === 'Spoke') {
    if (!templatePeer) problems.push('/Setup/VPN/IKEv2/Mesh/VPN-Peer-Template: a spoke needs the peer row whose profiles mesh tunnels use');
    else {
      const prop = proposals(templatePeer.encryption, `mesh template ${templatePeer.name} (Encryption ${templatePeer.encryption.name})`, problems);
      const auth = authInput(c, templatePeer.auth, `mesh template ${templatePeer.name} (Auth ${templatePeer.auth.name})`, problems, ctx);
      if (auth && prop) {
        const { psk, ...certAuth } = auth;
        const t: MeshTemplate = {
          localId: templatePeer.auth.localId || cfg.name,
          psk: typeof psk === 'string' ? psk : '',
          ...(auth.authMethod === 'cert' || auth.remoteAuthMethod === 'cert' ? { auth: certAuth } : {}),
          ikeProposals: [prop.ike],
          espProposals: [prop.esp],
          dpdIntervalMs: templatePeer.general.dpdInactTimerSec * 1000,
        };
        cfg.meshTemplate = t;
      }
    }
  }
  if (vpnOn && sd.operating) {
    if (!basePeer) problems.push(`/Setup/VPN/Site-Directory/Base-Peer: concentrator mode needs the peer row whose settings the sites inherit${sd.basePeer ? ` ('${sd.basePeer}' is no peer)` : ''}`);
    else {
      const template = siteTemplate(c, basePeer, lanNets, problems, ctx);
      if (template) {
        cfg.siteDirectory = {
          baseRoutes: siteBaseRoutes,
          template,
          maxDynamicRoutes: sd.maxDynamicRoutes,
          freeShare: sd.minFreePercent / 100,
          // The Base-Peer's short-hold time is the sites' idle timeout (0: the directory's 300 s).
          ...(basePeer.shortHoldSec > 0 ? { idleTimeoutMs: basePeer.shortHoldSec * 1000 } : {}),
        };
      }
    }
  }
  return { config: cfg, problems };
}

/** Negotiation-Control: half-open IKE_SA_INIT exchanges the responder takes before it demands COOKIEs. */
const NEGOTIATION_CONTROL: Record<string, number> = { Normal: 100, Medium: 500, Fast: 2000 };

/** The Peer-or-IP of a routing-table row that sends its network to the site directory (a base route). */
export const SITE_DIRECTORY_NEXT_HOP = 'SITE-DIRECTORY';

/** What every site inherits from the Base-Peer row: everything except gateway, identity, key and network. */
function siteTemplate(c: Readonly<ConfigData>, p: PeerSettings, lanNets: string[], problems: string[], ctx: MapContext): SitePeerTemplate | undefined {
  const where = `/Setup/VPN/Site-Directory/Base-Peer ${p.name}`;
  const prop = proposals(p.encryption, `${where} (Encryption ${p.encryption.name})`, problems);
  if (!prop) return undefined;
  // PSK sites bring their keys in their rows; certificate sites need the concentrator's own
  // certificate and the site CA, which the Base-Peer's Auth profile names.
  const pskBoth = p.auth.localAuth === 'PSK' && p.auth.remoteAuth === 'PSK';
  const certBoth = p.auth.localAuth !== 'PSK' && p.auth.remoteAuth !== 'PSK';
  if (!pskBoth && !certBoth) {
    problems.push(`${where}: Auth ${p.auth.name} must use PSK both ways (keys from the site rows) or certificates both ways (Local-Auth/Remote-Auth RSA, ECDSA or EdDSA)`);
    return undefined;
  }
  const cert = certBoth ? authInput(c, p.auth, `${where} (Auth ${p.auth.name})`, problems, ctx) : undefined;
  if (certBoth && !cert) return undefined;
  const localTs = p.routing?.localNetworks.length ? p.routing.localNetworks : lanNets;
  if (localTs.length === 0) {
    problems.push(`${where}: no local networks (a LAN address or the Routing profile's Local-Networks)`);
    return undefined;
  }
  return {
    localId: p.auth.localId ? identity(p.auth.localIdType, p.auth.localId) : p.name,
    ...(cert ? { authMethod: cert.authMethod, remoteAuthMethod: cert.remoteAuthMethod, credential: cert.credential!, trust: cert.trust!, remoteCertIdCheck: true } : {}),
    ikeProposals: [prop.ike],
    espProposals: [prop.esp],
    ...profileTimers(p),
    localTs,
  };
}

/** Lifetimes, DPD, keepalives and retries of a peer row's profiles (peers and the site template alike). */
function profileTimers(p: PeerSettings) {
  return {
    ikeLifetime: { rekeyMs: p.lifetimes.ikeSaSec * 1000 },
    childLifetime: { rekeyMs: p.lifetimes.childSaSec * 1000 },
    dpdIntervalMs: p.general.dpdInactTimerSec * 1000,
    natKeepaliveMs: p.general.keepaliveSec * 1000,
    // Retries: retransmissions of any exchange, and of a DPD check (every 5 s: dead at DPD-Inact-Timer + (Retries + 1) x 5 s).
    retransmit: { tries: p.general.retries },
    dpdRetries: p.general.retries,
    childVolumeBytes: p.lifetimes.childSaKb * 1024,
  };
}

function networkOfCidr(cidr: string): string | undefined {
  const [addr, lenText] = cidr.split('/');
  if (!addr || !lenText) return undefined;
  const len = Number(lenText);
  if (isIP(addr) === 4) {
    const n = addr.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
    const masked = len === 0 ? 0 : (n & (~0 << (32 - len))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${len}`;
  }
  return cidr; // IPv6: the engine masks it
}
