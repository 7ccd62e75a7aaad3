/**
 * One meshgate node's tunnel engine: IKE, the ESP data path, forwarding, routes, flows,
 * licences and the mesh controller, on an injected clock, transport and LAN ports.
 * It knows nothing of shells, menus or files: the Router maps its configuration to an
 * EngineConfig and calls apply(), which works out the smallest set of changes.
 *
 *   LAN port -> Forwarder -> route -> EspDatapath -> Transport (UDP / memory)
 *   Transport -> IkeEngine -(ESP)-> EspDatapath -> mesh hooks -> Forwarder -> LAN | SA
 *   IkeEngine events -> routes (ike / mesh), licence, mesh controller, event log
 */
import type { Clock } from './clock.js';
import type { Random } from './crypto/random.js';
import { parseAddress, type Prefix } from './dataplane/address.js';
import { FlowTable, type Flow } from './dataplane/flow-table.js';
import { Forwarder } from './dataplane/forwarder.js';
import type { LanPort } from './dataplane/lan-port.js';
import { RouteTable, type RouteSource } from './dataplane/route-table.js';
import type { SaId } from './dataplane/seams.js';
import { EspDatapath } from './esp-datapath.js';
import { NotifyType, PayloadType } from './ike/constants.js';
import type { NotifyPayload } from './ike/codec/index.js';
import { TypedEmitter, type IkeEventMap } from './ike/events.js';
import { IkeEngine } from './ike/ike-engine.js';
import type { PeerConfig, PeerConfigInput } from './ike/peer-config.js';
import type { AuthDecision, AuthorizeInfo } from './ike/auth-hooks.js';
import type { IkeSa } from './ike/ike-sa.js';
import { tsToString } from './ike/traffic-selector.js';
import { LicenceCounter, type LicenceProfile } from './mesh/licence.js';
import { decodeMeshMessage, encodeMeshMessage, MeshStatus, stringifyMeshMessage, type MeshEndpoint, type MeshMessage } from './mesh/messages.js';
import { MeshHubController } from './mesh/hub-controller.js';
import { MeshSpokeController, type MeshFailureReason } from './mesh/spoke-controller.js';
import { DEFAULT_MESH_SETTINGS, type MeshSettings, type MeshTunnelSpec } from './mesh/types.js';
import type { Endpoint, Transport } from './net/types.js';
import { SiteConcentrator, type SiteDirectoryEngineSettings } from './sites/concentrator.js';

/** The notify type that carries every mesh control message (private-use status range). */
export const MESH_CONTROL_NOTIFY = NotifyType.MESH_SHORTCUT_REQUEST;
/** Peer names of mesh tunnels built from the template: 'mesh_' and the peer's identity. */
export const MESH_PEER_PREFIX = 'mesh_';
/** The responder config that accepts mesh tunnels from other spokes. */
export const MESH_RESPONDER_PEER = 'mesh-responder';

export type StaticPeerKind = 'hub' | 'spoke' | 'static';

/** A static IKEv2 peer from the peer table, with its role in the hub-and-spoke design. */
export interface EnginePeer extends PeerConfigInput {
  kind: StaticPeerKind;
  /** Install routes to the networks the child SAs carry (Routing profile Accept-Routes; default yes). */
  acceptRoutes?: boolean;
  /** Metric of those routes (Routing profile Metric; default 0). */
  routeMetric?: number;
}

export interface EngineStaticRoute {
  prefix: string;
  target: { kind: 'peer'; peer: string } | { kind: 'lan' } | { kind: 'reject' };
  distance?: number;
}

/** The template mesh tunnels are built from (ciphers, authentication, identities). */
export interface MeshTemplate {
  localId: string;
  psk: string;
  /** Certificate authentication of mesh tunnels (node certificates of the site CA); PSK when absent. */
  auth?: Pick<PeerConfigInput, 'authMethod' | 'remoteAuthMethod' | 'credential' | 'trust' | 'remoteCertIdCheck'>;
  ikeProposals?: string[];
  espProposals?: string[];
  dpdIntervalMs?: number;
}

export interface EngineConfig {
  name: string;
  /** The node's own LAN prefixes and its address on each (e.g. 10.1.0.1/24). */
  lanAddresses: string[];
  peers: EnginePeer[];
  staticRoutes: EngineStaticRoute[];
  /** The licence model's caps. */
  licence: LicenceProfile;
  mesh: MeshSettings;
  meshTemplate?: MeshTemplate;
  /** Where other branches reach this node's IKE port (public address), if anywhere. */
  publicEndpoint?: MeshEndpoint;
  /** Concentrator mode: base routes and the Base-Peer template (the backend is attached separately). */
  siteDirectory?: SiteDirectoryEngineSettings;
  /** Half-open IKE_SA_INIT exchanges answered before COOKIEs are demanded (Negotiation-Control). */
  cookieThreshold?: number;
}

export function emptyEngineConfig(name: string): EngineConfig {
  return { name, lanAddresses: [], peers: [], staticRoutes: [], licence: { name: 'Branch-5', vpn: 5, mesh: 10 }, mesh: { ...DEFAULT_MESH_SETTINGS } };
}

export interface EngineLogEvent {
  level: 'info' | 'warn';
  topic: 'vpn' | 'mesh' | 'licence' | 'routing';
  text: string;
}

export interface EngineEventMap extends IkeEventMap {
  log: EngineLogEvent;
}

export interface EngineOptions {
  clock: Clock;
  transport: Transport;
  lanPorts?: LanPort[];
  random?: Random;
  config?: EngineConfig;
  /** Host name -> address for site gateways given by name (the daemon passes DNS). */
  resolveHost?: (host: string) => Promise<string>;
}

export class Engine {
  readonly events = new TypedEmitter<EngineEventMap>();
  readonly clock: Clock;
  readonly routes: RouteTable;
  readonly flows: FlowTable;
  readonly datapath: EspDatapath;
  readonly forwarder: Forwarder;
  readonly ike: IkeEngine;
  readonly licence: LicenceCounter;
  readonly spoke: MeshSpokeController;
  readonly hub: MeshHubController;
  /** The site directory (concentrator mode): dynamic routes and site tunnels. */
  readonly sites: SiteConcentrator;
  /** Mesh messages refused before any controller saw them. */
  readonly meshCounters = { malformed: 0, refusedFromNonHub: 0 };
  private cfg: EngineConfig;
  private readonly transport: Transport;
  /** Static peer name -> the config applied (JSON, for the diff). */
  private readonly appliedPeers = new Map<string, string>();
  private readonly peerKind = new Map<string, StaticPeerKind>();
  /** The IKE SA of each peer that is up (for mesh messages). */
  private readonly ikeIdOf = new Map<string, number>();
  private readonly remoteNets = new Map<string, string[]>();
  private lanPrefixes: string[] = [];
  private readonly localListeners = new Set<(packet: Uint8Array) => void>();
  /** Mesh peer config name <-> the remote identity it was built for. */
  private readonly meshPeerIds = new Map<string, string>();
  /** Incoming mesh IKE SAs (responder side): ikeId -> tunnel name. */
  private readonly responderNames = new Map<number, string>();
  private readonly acceptedIncoming = new Set<number>();
  private stopped = false;

  constructor(options: EngineOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    this.cfg = options.config ?? emptyEngineConfig('node');
    this.routes = new RouteTable(() => this.clock.now());
    this.flows = new FlowTable({ clock: this.clock });
    this.datapath = new EspDatapath(this.transport, this.clock);
    this.forwarder = new Forwarder({
      clock: this.clock,
      routes: this.routes,
      flows: this.flows,
      tunnels: this.datapath,
      siteTrigger: { onSiteMiss: (dir, dst, packet) => this.sites.onSiteMiss(dir, dst, packet) },
      onLocal: (p) => {
        for (const fn of this.localListeners) fn(p);
      },
    });
    this.datapath.setSink({ fromTunnel: (id, data, off, len) => this.fromTunnel(id, data, off, len) });
    this.datapath.tunnelName = (s) => (s.peer === MESH_RESPONDER_PEER ? this.responderTunnelName(s.ikeId) : s.peer);
    this.ike = new IkeEngine({
      clock: this.clock,
      transport: this.transport,
      installer: this.datapath,
      ...(options.random ? { random: options.random } : {}),
      onEsp: (d, from) => this.datapath.receive(d, from),
      // Incoming mesh tunnels are accepted or refused (licence, collision) inside IKE_AUTH.
      authorize: (sa, config, info) => this.authorizeIncoming(sa, config, info),
      // An identity no configured peer has may be a site of the directory (concentrator mode).
      resolveResponderConfig: (identity, remote) => this.sites.resolveResponder(identity, remote),
    });
    this.licence = new LicenceCounter(this.cfg.licence, () => this.clock.now());
    this.spoke = new MeshSpokeController(this.spokePorts(), this.clock, this.identity(), this.cfg.mesh);
    this.hub = new MeshHubController(this.hubPorts(), this.clock, this.cfg.mesh);
    this.sites = new SiteConcentrator({
      clock: this.clock,
      routes: this.routes,
      ike: this.ike,
      forwarder: this.forwarder,
      licence: this.licence,
      lastActivity: (tunnel) => this.datapath.lastActivity(tunnel),
      log: (level, text) => this.log(level, 'vpn', text),
      ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
    });
    for (const port of options.lanPorts ?? []) this.forwarder.attachLan(port);
    this.wireIkeEvents();
    this.apply(this.cfg);
  }

  get config(): EngineConfig {
    return this.cfg;
  }

  // ---- configuration ------------------------------------------------------------------

  /** Applies a new configuration: only what changed is touched. */
  apply(next: EngineConfig): void {
    const prev = this.cfg;
    this.cfg = next;
    const l = this.licence.profile;
    if (next.licence.name !== l.name || next.licence.vpn !== l.vpn || next.licence.mesh !== l.mesh) this.licence.setProfile(next.licence);

    // LAN addresses: connected routes and the node's own addresses.
    this.routes.removeWhere((r) => r.source === 'connected');
    this.lanPrefixes = [];
    for (const cidr of next.lanAddresses) {
      const [addr, len] = cidr.split('/');
      const bytes = parseAddress(addr!);
      if (!bytes) continue;
      const net = networkOf(bytes, Number(len ?? bytes.length * 8));
      this.lanPrefixes.push(net);
      this.routes.add({ prefix: net, source: 'connected', target: { kind: 'lan' }, comment: 'LAN' });
      this.routes.add({ prefix: `${addr}/${bytes.length * 8}`, source: 'connected', target: { kind: 'local' }, comment: 'this node' });
    }
    this.forwarder.setRouterAddresses(next.lanAddresses.map((c) => parseAddress(c.split('/')[0]!)).filter((b): b is Uint8Array => !!b));

    // Static routes.
    this.routes.removeWhere((r) => r.source === 'static');
    for (const r of next.staticRoutes) {
      const target = r.target.kind === 'peer' ? { kind: 'sa' as const, id: r.target.peer } : r.target.kind === 'lan' ? { kind: 'lan' as const } : { kind: 'reject' as const };
      this.routes.add({ prefix: r.prefix, source: 'static', target, ...(r.distance !== undefined ? { distance: r.distance } : {}), comment: 'static' });
    }

    // Peers: add, replace, remove by name.
    const wanted = new Map(next.peers.map((p) => [p.name, p]));
    for (const name of [...this.appliedPeers.keys()]) {
      if (!wanted.has(name)) {
        this.ike.removePeer(name);
        this.appliedPeers.delete(name);
        this.peerKind.delete(name);
        this.withdrawPeer(name);
        this.log('info', 'vpn', `peer ${name} removed`);
      }
    }
    for (const p of next.peers) {
      const json = JSON.stringify(p);
      const old = this.appliedPeers.get(p.name);
      if (old === json) continue;
      const { kind, ...input } = p;
      this.peerKind.set(p.name, kind);
      if (old === undefined) this.ike.addPeer(input);
      else {
        this.withdrawPeer(p.name);
        this.ike.replacePeer(input);
      }
      this.appliedPeers.set(p.name, json);
    }

    // Mesh: controllers and the responder config for incoming mesh tunnels.
    this.spoke.updateIdentity(this.identity());
    this.spoke.updateSettings(next.mesh);
    this.hub.updateSettings(next.mesh);
    this.applyMeshResponder(prev);

    // Site directory: base routes, template and slots (the backend is attached by the caller).
    this.sites.configure(next.siteDirectory);
    this.ike.setCookieThreshold(next.cookieThreshold);
  }

  private applyMeshResponder(_prev: EngineConfig): void {
    const t = this.cfg.meshTemplate;
    const want = this.cfg.mesh.operationMode === 'Spoke' && t && this.lanPrefixes.length > 0;
    const exists = this.ike.peerConfig(MESH_RESPONDER_PEER) !== undefined;
    if (!want) {
      if (exists) this.ike.removePeer(MESH_RESPONDER_PEER);
      return;
    }
    const input: PeerConfigInput = {
      name: MESH_RESPONDER_PEER,
      role: 'responder',
      localId: t.localId,
      ...(t.psk ? { psk: t.psk } : {}),
      ...t.auth,
      ...(t.ikeProposals ? { ikeProposals: t.ikeProposals } : {}),
      ...(t.espProposals ? { espProposals: t.espProposals } : {}),
      localTs: this.lanPrefixes,
      remoteTs: ['0.0.0.0/0', '::/0'],
    };
    if (exists) this.ike.replacePeer(input);
    else this.ike.addPeer(input);
  }

  private identity() {
    return {
      name: this.cfg.name,
      peerId: this.cfg.meshTemplate?.localId ?? this.cfg.name,
      networks: this.lanPrefixes,
      ...(this.cfg.publicEndpoint ? { publicEndpoint: this.cfg.publicEndpoint } : {}),
    };
  }

  // ---- packet path hooks ----------------------------------------------------------------

  private fromTunnel(id: SaId, data: Uint8Array, off: number, len: number): void {
    const peer = String(id);
    if (this.peerKind.get(peer) === 'hub' && this.cfg.mesh.operationMode === 'Spoke') this.maybeTrigger(peer, data, off);
    else if (this.peerKind.get(peer) === 'spoke' && this.cfg.mesh.operationMode === 'Hub' && this.cfg.mesh.trigger === 'hub-redirect') this.maybeRedirect(peer, data, off);
    this.forwarder.fromTunnel(id, data, off, len);
  }

  /** Egress trigger: a packet via the hub from a network we do not route directly. */
  private maybeTrigger(hubPeer: string, data: Uint8Array, off: number): void {
    const v = data[off]! >>> 4;
    const addrLen = v === 6 ? 16 : 4;
    const srcOff = off + (v === 6 ? 8 : 12);
    const route = v === 6 ? this.routes.lookup6(data, srcOff) : this.routes.lookup4(data, srcOff);
    // Only when the way back is through the hub: a mesh route means we are already direct.
    if (!route || route.target.kind !== 'sa' || route.target.id !== hubPeer) return;
    const src = fmtAddr(data, srcOff, addrLen);
    const dst = fmtAddr(data, srcOff + addrLen, addrLen);
    this.spoke.onPacketViaHub(src, dst, hubPeer);
  }

  /** Hub-redirect: a packet from one spoke that the hub will send out to another. */
  private maybeRedirect(fromPeer: string, data: Uint8Array, off: number): void {
    const v = data[off]! >>> 4;
    const addrLen = v === 6 ? 16 : 4;
    const dstOff = off + (v === 6 ? 24 : 16);
    const route = v === 6 ? this.routes.lookup6(data, dstOff) : this.routes.lookup4(data, dstOff);
    if (!route || route.target.kind !== 'sa' || route.target.id === fromPeer) return;
    const to = String(route.target.id);
    if (this.peerKind.get(to) !== 'spoke') return;
    this.hub.onHairpin(fromPeer, to, fmtAddr(data, dstOff - addrLen, addrLen), fmtAddr(data, dstOff, addrLen));
  }

  // ---- IKE events -> routes, licence, mesh ---------------------------------------------

  private wireIkeEvents(): void {
    const e = this.ike.events;
    // Forward every IKE event to the engine's listeners.
    const forward = <K extends keyof IkeEventMap>(name: K) => e.on(name, (ev) => this.events.emit(name, ev as EngineEventMap[K]));
    for (const name of ['ike-state', 'child-state', 'ike-up', 'ike-down', 'ike-rekeyed', 'child-up', 'child-down', 'child-rekeyed', 'auth-failed', 'retransmit', 'timeout', 'rekey-collision', 'peer-retry', 'peer-failover', 'private-notify'] as const) {
      forward(name);
    }
    e.on('ike-up', (ev) => {
      this.ikeIdOf.set(ev.peer, ev.ikeId);
      const kind = this.peerKind.get(ev.peer);
      if (kind && !this.licence.acquire('vpn', ev.peer)) {
        this.log('warn', 'licence', `VPN licence exhausted (${this.licence.usage('vpn').cap} tunnels): ${ev.peer} refused`);
        this.ike.disconnect(ev.peer);
        return;
      }
      if (kind === 'hub') this.spoke.onHubTunnelUp();
    });
    e.on('ike-down', (ev) => {
      if (this.ikeIdOf.get(ev.peer) === ev.ikeId) this.ikeIdOf.delete(ev.peer);
      if (this.sites.isSitePeer(ev.peer)) {
        // A rekeyed IKE SA has a successor; any other end takes the site's route with it.
        if (ev.reason !== 'rekeyed' && ev.reason !== 'duplicate' && !this.ike.sasOf(ev.peer).some((s) => s.alive && s.ikeId !== ev.ikeId && s.state === 'established')) {
          this.remoteNets.delete(ev.peer);
          this.sites.ikeDown(ev.peer, ev.detail ?? ev.reason);
        }
        return;
      }
      const incoming = this.responderNames.get(ev.ikeId);
      if (incoming !== undefined) {
        this.responderNames.delete(ev.ikeId);
        // A refused attempt never became a tunnel here; only an accepted one goes down.
        if (this.acceptedIncoming.delete(ev.ikeId)) {
          if (!this.datapath.hasTunnel(incoming)) this.withdrawPeer(incoming);
          const t = this.spoke.tunnelTo(this.meshPeerId(incoming));
          if (t?.initiator === 'remote') this.spoke.tunnelDown(this.meshPeerId(incoming), ev.reason);
        }
        return;
      }
      if (this.peerKind.has(ev.peer)) this.licence.release('vpn', ev.peer);
      if (ev.peer.startsWith(MESH_PEER_PREFIX)) {
        // Removed on purpose (idle, disabled, a collision the peer's attempt won): already handled.
        if (ev.reason === 'peer-removed') return;
        const peerId = this.meshPeerId(ev.peer);
        const t = this.spoke.tunnelTo(peerId);
        if (t?.initiator === 'local') {
          if (t.state === 'connecting') this.spoke.tunnelFailed(peerId, failureOf(ev.reason), ev.detail ?? ev.reason);
          else this.spoke.tunnelDown(peerId, ev.reason);
        }
        this.ike.removePeer(ev.peer);
      }
    });
    e.on('peer-retry', (ev) => {
      // A site tunnel does not retry on its own: the next packet looks the site up again.
      if (this.sites.isSitePeer(ev.peer)) return this.sites.ikeDown(ev.peer, ev.reason);
      if (!ev.peer.startsWith(MESH_PEER_PREFIX)) return;
      // Mesh tunnels do not retry on their own: the controller backs off per destination.
      const peerId = this.meshPeerId(ev.peer);
      this.spoke.tunnelFailed(peerId, /auth/i.test(ev.reason) ? 'auth-failed' : /timeout|no answer|timed out/i.test(ev.reason) ? 'unreachable' : 'ike-error', ev.reason);
      this.ike.removePeer(ev.peer);
    });
    e.on('child-up', (ev) => {
      if (this.sites.isSitePeer(ev.peer)) {
        // The directory installs the site's route (source 'site'), not the IKE-learned one.
        this.remoteNets.set(ev.peer, ev.remoteTs);
        if (this.sites.isPendingResponder(ev.peer)) this.sites.responderChildUp(ev.peer, ev.peer);
        else this.sites.childUp(ev.peer);
        return;
      }
      const incoming = ev.peer === MESH_RESPONDER_PEER;
      const tunnel = incoming ? this.responderTunnelName(ev.ikeId) : ev.peer;
      const mesh = incoming || ev.peer.startsWith(MESH_PEER_PREFIX);
      const localNets = ev.localTs.map(tsToPrefix).filter(isString);
      const remoteNets = ev.remoteTs.map(tsToPrefix).filter(isString);
      if (incoming) {
        const peerId = this.meshPeerId(tunnel);
        const sa = this.ike.sa(ev.ikeId);
        const endpoint = sa ? { address: sa.remote.address, port: sa.remote.port } : { address: '0.0.0.0', port: 0 };
        // Normally decided in IKE_AUTH already (authorizeIncoming); this covers children of an accepted SA.
        const verdict = this.acceptedIncoming.has(ev.ikeId) ? ({ ok: true } as const) : this.spoke.acceptIncoming(peerId, endpoint, remoteNets);
        if (!verdict.ok) {
          this.log('warn', 'mesh', `refused the mesh tunnel from ${peerId}: ${verdict.reason}`);
          sa?.queueIkeDelete('deleted-locally');
          return;
        }
        this.acceptedIncoming.add(ev.ikeId);
      }
      this.remoteNets.set(tunnel, ev.remoteTs);
      const source: RouteSource = mesh ? 'mesh' : 'ike';
      const distance = mesh ? this.cfg.mesh.adminDistance : undefined;
      const staticPeer = mesh ? undefined : this.cfg.peers.find((p) => p.name === tunnel);
      // Accept-Routes no: the tunnel carries the networks, but routes to them come from elsewhere (static routes).
      const install = staticPeer?.acceptRoutes !== false;
      const metric = staticPeer?.routeMetric;
      for (const prefix of install ? remoteNets : []) {
        if (prefix === '0.0.0.0/0' || prefix === '::/0') continue;
        this.routes.replace({ prefix, source, target: { kind: 'sa', id: tunnel }, ...(distance !== undefined ? { distance } : {}), ...(metric !== undefined ? { metric } : {}), comment: tunnel });
      }
      if (mesh) this.spoke.tunnelUp(this.meshPeerId(tunnel), localNets, remoteNets);
    });
    e.on('child-down', (ev) => {
      if (ev.reason === 'rekeyed') return;
      if (this.sites.isSitePeer(ev.peer)) {
        if (!this.datapath.hasTunnel(ev.peer)) this.sites.ikeDown(ev.peer, `child SA down: ${ev.reason}`);
        return;
      }
      const tunnel = ev.peer === MESH_RESPONDER_PEER ? this.responderTunnelName(ev.ikeId) : ev.peer;
      if (!this.datapath.hasTunnel(tunnel)) this.withdrawPeer(tunnel);
    });
    e.on('private-notify', (ev) => {
      if (ev.notifyType !== MESH_CONTROL_NOTIFY) return;
      const r = decodeMeshMessage(ev.data);
      if (!r.ok) {
        this.meshCounters.malformed++;
        this.log('warn', 'mesh', `malformed mesh message from ${ev.peer}: ${r.error} (${r.detail})`);
        return;
      }
      const kind = this.peerKind.get(ev.peer);
      if (this.cfg.mesh.operationMode === 'Hub' && kind === 'spoke') this.hub.onMeshMessage(ev.peer, r.message);
      else if (this.cfg.mesh.operationMode === 'Spoke' && kind === 'hub') this.spoke.onMeshMessage(r.message);
      else if (kind === 'hub' && r.message.type === 'shortcutOffer') {
        // Mesh is off here: say so, so the hub frees the pair at once instead of waiting.
        this.log('info', 'mesh', `mesh offer from ${ev.peer} for ${r.message.destination} declined: mesh is ${this.cfg.mesh.operationMode} on this node`);
        this.sendMesh(ev.peer, { type: 'result', requestId: r.message.requestId, destination: r.message.destination!, status: MeshStatus.policyDenied, reason: 'mesh is disabled on this spoke' });
      }
      else {
        // Mesh messages are the hub's (or, at a hub, its spokes'): from anyone else they are refused.
        this.meshCounters.refusedFromNonHub++;
        this.log('warn', 'mesh', `mesh message from ${ev.peer}, which is not a ${this.cfg.mesh.operationMode === 'Hub' ? 'spoke' : 'hub'} of this node: refused (${stringifyMeshMessage(r.message)})`);
      }
    });
  }

  private withdrawPeer(peer: string): void {
    this.routes.removeWhere((r) => r.target.kind === 'sa' && r.target.id === peer && (r.source === 'ike' || r.source === 'mesh'));
    this.remoteNets.delete(peer);
  }

  // ---- mesh ports ------------------------------------------------------------------------

  private sendMesh(peer: string, m: MeshMessage): boolean {
    const ikeId = this.ikeIdOf.get(peer);
    if (ikeId === undefined) return false;
    // Private notifies only go to peers that announced meshgate's Vendor ID (a strongSwan hub did not).
    if (!this.ike.sa(ikeId)?.peerIsMeshgate) return false;
    const n: NotifyPayload = { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: MESH_CONTROL_NOTIFY, data: encodeMeshMessage(m) };
    return this.ike.sendInformational(ikeId, [n]);
  }

  private spokePorts() {
    return {
      sendToHub: (m: MeshMessage) => {
        for (const [peer, kind] of this.peerKind) if (kind === 'hub' && this.sendMesh(peer, m)) return true;
        return false;
      },
      connect: (spec: MeshTunnelSpec) => this.connectMesh(spec),
      disconnect: (peerId: string, reason: string) => this.deleteMeshTunnel(peerId, reason),
      cancelConnect: (peerId: string) => void this.ike.removePeer(this.meshName(peerId)),
      installRoute: () => {},
      withdrawRoute: () => {},
      moveFlows: (localNetworks: string[], remote: string, to: string) => {
        // Flows through the hub carry the hub peer's SA id as their path; mesh ones the mesh peer's.
        const remoteP = prefixOf(remote);
        const hubPeer = this.activeHubPeer();
        if (!remoteP || !hubPeer) return [];
        const [from, target] = to === 'hub' ? [undefined, hubPeer] : [hubPeer, this.meshName(to)];
        const moves = [];
        for (const local of localNetworks) {
          const localP = prefixOf(local);
          if (!localP) continue;
          for (const mv of this.flows.moveFlows(localP, remoteP, from, target)) {
            moves.push({ flow: describeFlow(mv.flow), from: String(mv.from), to: String(mv.to), packetsBefore: mv.flow.packetsAtoB + mv.flow.packetsBtoA });
          }
        }
        return moves;
      },
      pinFlows: (localNetworks: string[], remote: string) => {
        const remoteP = prefixOf(remote);
        if (!remoteP) return 0;
        let n = 0;
        for (const local of localNetworks) {
          const localP = prefixOf(local);
          if (localP) n += this.flows.pinFlows(localP, remoteP);
        }
        return n;
      },
      lastActivity: (peerId: string) => this.datapath.lastActivity(this.meshName(peerId)),
      acquireLicence: (holder: string) => this.licence.acquire('mesh', holder),
      releaseLicence: (holder: string) => void this.licence.release('mesh', holder),
      log: (level: 'info' | 'warn', text: string) => this.log(level, 'mesh', text),
    };
  }

  private hubPorts() {
    const info = (name: string) => {
      const nets = (this.remoteNets.get(name) ?? []).map(tsToPrefix).filter(isString);
      const ikeId = this.ikeIdOf.get(name);
      const sa = ikeId === undefined ? undefined : this.ike.sa(ikeId);
      const peerId = sa?.remoteIdentity?.value ?? name;
      return { name, peerId, networks: nets, ...(sa ? { endpoint: { address: sa.remote.address, port: sa.remote.port } } : {}) };
    };
    return {
      sendToSpoke: (spoke: string, m: MeshMessage) => this.sendMesh(spoke, m),
      spokeFor: (address: string) => {
        // The hub's own routes say which spoke's tunnel carries an address.
        const bytes = parseAddress(address);
        const route = bytes ? this.routes.lookup(bytes) : undefined;
        if (!route || route.target.kind !== 'sa') return undefined;
        const peer = String(route.target.id);
        return this.peerKind.get(peer) === 'spoke' ? info(peer) : undefined;
      },
      spoke: (name: string) => (this.peerKind.get(name) === 'spoke' ? info(name) : undefined),
      log: (level: 'info' | 'warn', text: string) => this.log(level, 'mesh', text),
    };
  }

  private connectMesh(spec: MeshTunnelSpec): void {
    const t = this.cfg.meshTemplate;
    if (!t) {
      this.clock.setTimer(0, () => this.spoke.tunnelFailed(spec.peerId, 'ike-error', 'no mesh template configured'));
      return;
    }
    const name = this.meshName(spec.peerId);
    const input: PeerConfigInput = {
      name,
      role: 'initiator',
      remoteGateways: [spec.endpoint.address.includes(':') ? `[${spec.endpoint.address}]:${spec.endpoint.port}` : `${spec.endpoint.address}:${spec.endpoint.port}`],
      localId: t.localId,
      remoteId: spec.peerId,
      ...(t.psk ? { psk: t.psk } : {}),
      ...t.auth,
      ...(t.ikeProposals ? { ikeProposals: t.ikeProposals } : {}),
      ...(t.espProposals ? { espProposals: t.espProposals } : {}),
      localTs: spec.localNetworks,
      remoteTs: spec.remoteNetworks,
      retransmit: { timeoutMs: 1000, base: 1.5, tries: 3 },
    };
    if (this.ike.peerConfig(name)) this.ike.replacePeer(input);
    else this.ike.addPeer(input);
  }

  /**
   * IKE_AUTH of an incoming tunnel (the IKE engine's authorize hook): an incoming mesh tunnel
   * is accepted or refused (licence exhausted, collision, mesh off) before the response, so a
   * refused one answers AUTHENTICATION_FAILED and never comes up. Other peers pass.
   */
  private authorizeIncoming(sa: IkeSa, config: PeerConfig, info: AuthorizeInfo): AuthDecision {
    if (config.name !== MESH_RESPONDER_PEER) return { ok: true };
    const who = info.identity?.value ?? `ike${sa.ikeId}`;
    const peerId = this.meshPeerId(this.meshName(who));
    const remoteNets = info.remoteTs.map((t) => tsToPrefix(tsToString(t))).filter(isString);
    const verdict = this.spoke.acceptIncoming(peerId, { address: sa.remote.address, port: sa.remote.port }, remoteNets);
    if (!verdict.ok) {
      this.log('warn', 'mesh', `refused the mesh tunnel from ${peerId}: ${verdict.reason}`);
      return { ok: false, reason: `mesh tunnel refused: ${verdict.reason}` };
    }
    this.acceptedIncoming.add(sa.ikeId);
    this.responderTunnelName(sa.ikeId);
    return { ok: true };
  }

  /** Deletes the mesh tunnel to peerId, whichever end built it (IKE DELETE tells the peer). */
  deleteMeshTunnel(peerId: string, reason: string): void {
    const name = this.meshName(peerId);
    if (this.ike.removePeer(name)) return;
    for (const [ikeId, n] of this.responderNames) {
      if (n !== name) continue;
      const sa = this.ike.sa(ikeId);
      if (sa) {
        sa.queueIkeDelete(reason === 'idle' ? 'idle' : 'deleted-locally');
        return;
      }
    }
    this.spoke.tunnelDown(peerId, reason);
  }

  /** The tunnel name of an incoming mesh IKE SA: the mesh name of its authenticated identity. */
  private responderTunnelName(ikeId: number): string {
    let name = this.responderNames.get(ikeId);
    if (name === undefined) {
      const sa = this.ike.sa(ikeId);
      name = this.meshName(sa?.remoteIdentity?.value ?? `ike${ikeId}`);
      this.responderNames.set(ikeId, name);
    }
    return name;
  }

  /** The IKE peer name of the mesh tunnel to peerId (names allow letters, digits, '.', '_', '-'). */
  meshName(peerId: string): string {
    const name = (MESH_PEER_PREFIX + peerId.replace(/[^A-Za-z0-9._-]/g, '_')).slice(0, 64);
    this.meshPeerIds.set(name, peerId);
    return name;
  }

  private meshPeerId(name: string): string {
    return this.meshPeerIds.get(name) ?? name.slice(MESH_PEER_PREFIX.length);
  }

  /** The hub peer whose tunnel is up (the first, when several hubs are configured). */
  private activeHubPeer(): string | undefined {
    for (const [peer, kind] of this.peerKind) if (kind === 'hub' && this.ikeIdOf.has(peer)) return peer;
    return undefined;
  }

  /** Packets addressed to the node itself (other than echo requests, which it answers): e.g. ping replies. */
  onLocalPacket(fn: (packet: Uint8Array) => void): () => void {
    this.localListeners.add(fn);
    return () => this.localListeners.delete(fn);
  }

  /** The node's own LAN addresses (without prefix length). */
  ownAddresses(): string[] {
    return this.cfg.lanAddresses.map((c) => c.split('/')[0]!);
  }

  private log(level: 'info' | 'warn', topic: EngineLogEvent['topic'], text: string): void {
    this.events.emit('log', { level, topic, text });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sites.close();
    await this.ike.stop();
  }
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };

function describeFlow(f: Flow): string {
  const [src, sport, dst, dport] = f.initiator === 'a' ? [f.addrA, f.portA, f.addrB, f.portB] : [f.addrB, f.portB, f.addrA, f.portA];
  const proto = PROTO_NAMES[f.protocol] ?? `proto-${f.protocol}`;
  const ep = (a: Uint8Array, p: number) => (f.protocol === 6 || f.protocol === 17 ? `${fmtAddr(a, 0, a.length)}:${p}` : fmtAddr(a, 0, a.length));
  return `${proto} ${ep(src, sport)} > ${ep(dst, dport)}`;
}

function failureOf(reason: string): MeshFailureReason {
  if (reason === 'auth-failed') return 'auth-failed';
  if (reason === 'timeout' || reason === 'dpd-timeout') return 'unreachable';
  return 'ike-error';
}

function isString(x: string | undefined): x is string {
  return x !== undefined;
}

function fmtAddr(buf: Uint8Array, off: number, len: number): string {
  if (len === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((buf[off + i]! << 8) | buf[off + i + 1]!).toString(16));
  return w.join(':');
}

function networkOf(bytes: Uint8Array, len: number): string {
  const b = bytes.slice();
  for (let i = 0; i < b.length; i++) {
    const bits = len - i * 8;
    if (bits >= 8) continue;
    b[i] = bits <= 0 ? 0 : b[i]! & (0xff << (8 - bits));
  }
  return `${fmtAddr(b, 0, b.length)}/${len}`;
}

/** A TS as the IKE events print it ('10.1.0.0/24' or 'a-b' ranges) -> a CIDR when it is one. */
function tsToPrefix(ts: string): string | undefined {
  const t = ts.split(/\s|\[/)[0]!;
  return t.includes('/') ? t : undefined;
}

function prefixOf(cidr: string): Prefix | undefined {
  const [a, l] = cidr.split('/');
  const bytes = parseAddress(a ?? '');
  if (!bytes) return undefined;
  const len = Number(l);
  const masked = networkOf(bytes, len).split('/')[0]!;
  return { family: bytes.length === 4 ? 4 : 6, bytes: parseAddress(masked)!, length: len };
}
