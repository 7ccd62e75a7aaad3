/**
 * Concentrator mode: the site directory joined to a running engine (DESIGN.md item 4).
 *
 *   Forwarder ── base route ──> onSiteMiss ──> DynamicRouteManager.resolve (queue, lookup)
 *   manager.connect(route) ──> IKE peer 'site_<name>' from Base-Peer + row ──> IKE_SA_INIT ...
 *   IKE child up ──> manager.tunnelUp ──> dynamic route installed ──> queued packets released
 *   IKE down / retry / eviction / idle ──> peer removed (DELETE sent), licence returned
 *   IKE responder, unknown identity ──> resolveResponder ──> directory by identity ──> peer
 *
 * Each site tunnel holds one VPN licence; the dynamic route slots are the smaller of
 * Max-Dynamic-Routes and the VPN licences not held by static peers, so a concentrator never
 * builds more tunnels than its model allows. Idle detection and LRU order use the ESP data
 * path's last-activity time per tunnel (no per-packet bookkeeping here).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../clock.js';
import type { Forwarder } from '../dataplane/forwarder.js';
import type { RouteTable } from '../dataplane/route-table.js';
import type { SaId, SiteTrigger } from '../dataplane/seams.js';
import type { IkeEngine } from '../ike/ike-engine.js';
import type { Identity, PeerConfig } from '../ike/peer-config.js';
import type { LicenceCounter } from '../mesh/licence.js';
import type { Endpoint } from '../net/types.js';
import type { SiteDirectoryBackend } from './backend.js';
import { DynamicRouteManager, type DynamicRoute, type RefreshResult, type RemovalReason, type SiteManagerStatus } from './dynamic-routes.js';
import { gatewayNeedsResolving, sitePeerConfigInput, type SitePeerTemplate } from './site-peer.js';
import type { Site } from './site.js';

/** IKE peer names of site tunnels: 'site_' and the site's name. */
export const SITE_PEER_PREFIX = 'site_';
/** The one directory of a node (the manager can hold several; the shell configures one). */
export const SITE_DIRECTORY_ID = 'sites';
/**
 * A responder config that only lends the Base-Peer's IKE proposals to IKE_SA_INIT from a site
 * that calls in (the IKE engine answers IKE_SA_INIT from its responder configs). Its remote
 * identity is random and its key unknown to anyone, so it never authenticates a peer: in
 * IKE_AUTH the site's own config comes from resolveResponder.
 */
export const SITE_RESPONDER_PEER = 'site-directory';

export interface SiteDirectoryEngineSettings {
  /** Networks routed to the directory ('10.0.0.0/8'); a base route each. */
  baseRoutes: string[];
  /** The Base-Peer row's settings: proposals, identities, lifetimes, DPD, local networks. */
  template: SitePeerTemplate;
  maxDynamicRoutes: number;
  /** Evict least recently used routes when fewer than this share of slots is free (0.1). */
  freeShare: number;
  /** A site tunnel without traffic for this long is removed (default 300 s). */
  idleTimeoutMs?: number;
  /** Lookup timing (tests and labs shorten them). */
  lookupTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface ConcentratorPorts {
  clock: Clock;
  routes: RouteTable;
  ike: IkeEngine;
  forwarder: Forwarder;
  licence: LicenceCounter;
  /** When the tunnel last carried a packet (ESP data path), if ever. */
  lastActivity(tunnel: string): number | undefined;
  log(level: 'info' | 'warn', text: string): void;
  /** Host name of a site gateway -> address. Absent: rows with host names fail to connect. */
  resolveHost?(host: string): Promise<string>;
}

export interface ConcentratorState {
  attached: boolean;
  backend?: string;
  status?: SiteManagerStatus;
}

export class SiteConcentrator implements SiteTrigger {
  private manager: DynamicRouteManager | undefined;
  private backend: SiteDirectoryBackend | undefined;
  private settings: SiteDirectoryEngineSettings | undefined;
  private installedBase: string[] = [];
  /** Site tunnels the directory built (initiator) or accepted (responder): peer name -> site name. */
  private readonly sitePeers = new Map<string, string>();
  private readonly responderPeers = new Set<string>();
  /** Responder site peers whose child SA is not up yet: peer name -> the row. */
  private readonly pendingResponder = new Map<string, Site>();
  private sweepTimer: Timer | undefined;

  constructor(private readonly p: ConcentratorPorts) {}

  /** The settings of the running configuration (undefined: concentrator mode is off). */
  configure(settings: SiteDirectoryEngineSettings | undefined): void {
    const prev = this.settings;
    this.settings = settings;
    if (!settings) {
      // The backend stays referenced: detach() hands it to its owner to close.
      this.detachManager('directory-removed');
      return;
    }
    if (this.manager && prev && (prev.idleTimeoutMs !== settings.idleTimeoutMs || prev.freeShare !== settings.freeShare || prev.lookupTimeoutMs !== settings.lookupTimeoutMs || prev.connectTimeoutMs !== settings.connectTimeoutMs)) {
      // Timers and shares are fixed per manager: start over with the same backend.
      const backend = this.backend;
      this.detachManager('directory-removed');
      if (backend) this.attach(backend);
      return;
    }
    this.syncBaseRoutes();
    this.syncResponderTemplate();
    this.manager?.enforceCapacity();
  }

  private syncResponderTemplate(): void {
    const ike = this.p.ike;
    const s = this.settings;
    if (!this.manager || !s) {
      ike.removePeer(SITE_RESPONDER_PEER);
      return;
    }
    const input = {
      ...s.template,
      name: SITE_RESPONDER_PEER,
      role: 'responder' as const,
      remoteGateways: [],
      remoteId: { type: 'key-id' as const, value: `0x${Buffer.from(randomBytes(16)).toString('hex')}` },
      psk: randomBytes(32),
      remoteTs: ['0.0.0.0/32'],
    };
    const old = ike.peerConfig(SITE_RESPONDER_PEER);
    if (old && this.templateApplied === s.template) return;
    this.templateApplied = s.template;
    if (old) ike.replacePeer(input);
    else ike.addPeer(input);
  }

  private templateApplied: SitePeerTemplate | undefined;

  /** Connects the opened directory (the caller opened it and closes it after detach()). */
  attach(backend: SiteDirectoryBackend): void {
    const s = this.settings;
    if (!s) throw new Error('site directory: configure() before attach()');
    this.detachManager('directory-removed');
    this.backend = backend;
    this.manager = new DynamicRouteManager({
      clock: this.p.clock,
      routes: this.p.routes,
      capacity: () => this.capacity(),
      freeShare: s.freeShare,
      ...(s.idleTimeoutMs !== undefined ? { idleTimeoutMs: s.idleTimeoutMs } : {}),
      ...(s.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: s.lookupTimeoutMs } : {}),
      ...(s.connectTimeoutMs !== undefined ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
      hooks: {
        connect: (route) => this.connect(route),
        release: (_route, packets) => {
          for (const q of packets) this.p.forwarder.forwardReleased(q.data);
        },
        removed: (route, reason) => this.removed(route, reason),
        lastActivity: (route) => (route.saId === undefined ? undefined : this.p.lastActivity(String(route.saId))),
        log: (e) => this.p.log(e.level === 'info' ? 'info' : 'warn', `site directory${e.site ? ` ${e.site}` : ''}: ${e.message}`),
      },
    });
    this.manager.addDirectory(SITE_DIRECTORY_ID, backend);
    this.installedBase = [];
    this.syncBaseRoutes();
    this.syncResponderTemplate();
    this.p.log('info', `site directory attached (${backend.kind}), base routes ${this.installedBase.join(' ') || 'none'}`);
  }

  /** Disconnects the directory: every site tunnel is removed. Returns the backend to close. */
  detach(): SiteDirectoryBackend | undefined {
    const b = this.backend;
    this.detachManager('directory-removed');
    this.backend = undefined;
    return b;
  }

  get attached(): boolean {
    return this.manager !== undefined;
  }

  get backendKind(): string | undefined {
    return this.manager ? this.backend?.kind : undefined;
  }

  private detachManager(_reason: RemovalReason): void {
    if (!this.manager) return;
    this.manager.removeDirectory(SITE_DIRECTORY_ID);
    this.manager.close();
    this.manager = undefined;
    this.installedBase = [];
    this.templateApplied = undefined;
    this.p.ike.removePeer(SITE_RESPONDER_PEER);
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    // removeDirectory called removed() for every route; anything left is a half-built responder.
    for (const peer of [...this.sitePeers.keys()]) this.dropPeer(peer);
  }

  private syncBaseRoutes(): void {
    const m = this.manager;
    const s = this.settings;
    if (!m || !s) return;
    const want = new Set(s.baseRoutes);
    for (const prefix of this.installedBase) if (!want.has(prefix)) m.removeBaseRoute(SITE_DIRECTORY_ID, prefix);
    const have = new Set(this.installedBase);
    const installed: string[] = this.installedBase.filter((x) => want.has(x));
    for (const prefix of s.baseRoutes) {
      if (have.has(prefix)) continue;
      try {
        m.addBaseRoute(SITE_DIRECTORY_ID, prefix);
        installed.push(prefix);
      } catch (e) {
        this.p.log('warn', `site directory: base route ${prefix} not installed: ${(e as Error).message}`);
      }
    }
    this.installedBase = installed;
  }

  /** Slots: Max-Dynamic-Routes, and no more than the VPN licences static peers leave free. */
  private capacity(): number {
    const s = this.settings;
    if (!s) return 0;
    const vpn = this.p.licence.usage('vpn');
    const byStatic = vpn.used - (this.sitePeers.size - this.pendingResponder.size);
    return Math.max(0, Math.min(s.maxDynamicRoutes, vpn.cap - byStatic));
  }

  // ---- the forwarder's seam ------------------------------------------------------------------

  onSiteMiss(directoryId: string, destination: Uint8Array, packet?: Uint8Array): boolean {
    return this.manager?.onSiteMiss(directoryId, destination, packet) ?? false;
  }

  // ---- initiator ------------------------------------------------------------------------------

  private connect(route: DynamicRoute): void {
    const name = sitePeerName(route.site.name);
    if (gatewayNeedsResolving(route.site)) {
      const resolve = this.p.resolveHost;
      if (!resolve) {
        this.failLater(route, `gateway ${route.site.gateway.host} is a host name and no resolver is available`);
        return;
      }
      resolve(route.site.gateway.host).then(
        (address) => {
          if (this.manager?.routeOf(route.site.name, SITE_DIRECTORY_ID) === route) this.addPeer(route, name, address);
        },
        (e: unknown) => this.failLater(route, `gateway ${route.site.gateway.host} does not resolve: ${(e as Error).message}`),
      );
      return;
    }
    this.addPeer(route, name, undefined);
  }

  private addPeer(route: DynamicRoute, name: string, address: string | undefined): void {
    const s = this.settings!;
    if (!this.p.licence.acquire('vpn', name)) {
      this.failLater(route, `no VPN licence free (${this.p.licence.usage('vpn').cap})`);
      return;
    }
    try {
      const input = sitePeerConfigInput(route.site, { ...s.template, role: 'initiator' }, address);
      this.sitePeers.set(name, route.site.name);
      if (this.p.ike.peerConfig(name)) this.p.ike.replacePeer({ ...input, name });
      else this.p.ike.addPeer({ ...input, name });
    } catch (e) {
      this.sitePeers.delete(name);
      this.p.licence.release('vpn', name);
      this.failLater(route, (e as Error).message);
    }
  }

  /** Reports a failed connect after the manager's call returned (it is not re-entrant). */
  private failLater(route: DynamicRoute, why: string): void {
    this.p.log('warn', `site ${route.site.name}: ${why}`);
    this.p.clock.setTimer(0, () => this.manager?.tunnelFailed(route.site.name, SITE_DIRECTORY_ID));
  }

  private removed(route: DynamicRoute, reason: RemovalReason): void {
    const name = sitePeerName(route.site.name);
    if (reason !== 'tunnel-down' && reason !== 'connect-failed') this.p.log('info', `site ${route.site.name} (${route.network}) removed: ${reason}`);
    this.dropPeer(name);
  }

  private dropPeer(name: string, holdsLicence = true): void {
    if (!this.sitePeers.has(name)) return;
    // A responder still pending never took a licence.
    const licensed = holdsLicence && !this.pendingResponder.has(name);
    this.sitePeers.delete(name);
    this.responderPeers.delete(name);
    this.pendingResponder.delete(name);
    if (licensed) this.p.licence.release('vpn', name);
    this.p.ike.removePeer(name);
  }

  // ---- IKE events (called by the engine) ------------------------------------------------------

  isSitePeer(peer: string): boolean {
    return this.sitePeers.has(peer);
  }

  /** A site peer's child SA is up: install its dynamic route and release its queue. */
  childUp(peer: string): void {
    const site = this.sitePeers.get(peer);
    const m = this.manager;
    if (site === undefined || !m) return;
    const route = m.tunnelUp(site, peer, SITE_DIRECTORY_ID);
    if (route) this.armSweep();
  }

  /** A site peer's IKE SA went down or an attempt failed: the route goes (no retry of its own). */
  ikeDown(peer: string, detail: string): void {
    const site = this.sitePeers.get(peer);
    const m = this.manager;
    if (site === undefined || !m) return;
    const route = m.routeOf(site, SITE_DIRECTORY_ID);
    if (route?.state === 'connecting') {
      this.p.log('warn', `site ${site}: tunnel failed: ${detail}`);
      m.tunnelFailed(site, SITE_DIRECTORY_ID);
    } else if (route) {
      this.p.log('info', `site ${site}: tunnel down: ${detail}`);
      m.tunnelDown(peer);
    }
    this.dropPeer(peer);
  }

  // ---- responder --------------------------------------------------------------------------------

  /**
   * The IKE responder met an identity no configured peer has: look the site up by identity and
   * add a responder peer for it (with the row's PSK). The child SA's coming up then creates the
   * site's dynamic route (responderUp).
   */
  async resolveResponder(identity: Identity | undefined, _remote: Endpoint): Promise<PeerConfig | undefined> {
    const m = this.manager;
    const s = this.settings;
    if (!m || !s || !identity) return undefined;
    const r = await m.resolveIdentity(identity, SITE_DIRECTORY_ID);
    if (r.kind === 'inactive') {
      this.p.log('warn', `site ${r.site.name}: IKE from an inactive site refused`);
      return undefined;
    }
    if (r.kind === 'failed') {
      this.p.log('warn', `site directory: identity lookup failed: ${r.error}`);
      return undefined;
    }
    if (r.kind !== 'found' || this.manager !== m) return undefined;
    return this.responderPeer(r.site);
  }

  private responderPeer(site: Site): PeerConfig | undefined {
    const name = sitePeerName(site.name);
    const existing = this.p.ike.peerConfig(name);
    if (existing && this.sitePeers.has(name)) return existing;
    // The licence is taken when the tunnel is up (responderChildUp): a failed AUTH holds none.
    const vpn = this.p.licence.usage('vpn');
    if (vpn.used >= vpn.cap) {
      this.p.log('warn', `site ${site.name}: IKE refused, no VPN licence free (${vpn.cap})`);
      return undefined;
    }
    try {
      const input = sitePeerConfigInput(site, { ...this.settings!.template, role: 'responder' }, '0.0.0.0');
      const config = this.p.ike.addPeer({ ...input, name, remoteGateways: [] });
      this.sitePeers.set(name, site.name);
      this.responderPeers.add(name);
      this.pendingResponder.set(name, site);
      // An attempt that never brings a child SA up (wrong key, gone) leaves no peer behind.
      this.p.clock.setTimer(RESPONDER_PENDING_MS, () => {
        if (this.pendingResponder.get(name) === site) this.dropPeer(name, false);
      });
      return config;
    } catch (e) {
      this.p.log('warn', `site ${site.name}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** A responder site peer's child is up: its route takes a slot now. */
  responderChildUp(peer: string, saId: SaId): boolean {
    const site = this.pendingResponder.get(peer);
    const m = this.manager;
    if (!site || !m) return false;
    this.pendingResponder.delete(peer);
    if (!this.p.licence.acquire('vpn', peer)) {
      this.p.log('warn', `site ${site.name}: no VPN licence free (${this.p.licence.usage('vpn').cap}), tunnel removed`);
      this.dropPeer(peer, false);
      return false;
    }
    const route = m.responderUp(SITE_DIRECTORY_ID, site, saId);
    if (!route) {
      this.p.log('warn', `site ${site.name}: no dynamic route slot free, tunnel removed`);
      this.dropPeer(peer);
      return false;
    }
    this.armSweep();
    return true;
  }

  isPendingResponder(peer: string): boolean {
    return this.pendingResponder.has(peer);
  }

  // ---- operator actions and views -------------------------------------------------------------

  /** Removes every dynamic route (their tunnels are deleted); returns how many. */
  flush(): number {
    const m = this.manager;
    if (!m) return 0;
    const n = m.size;
    const backend = this.backend!;
    this.detachManager('directory-removed');
    this.attach(backend);
    return n;
  }

  /** Re-reads a connected site's row (changed or deleted rows take its tunnel down). */
  refresh(site: string): Promise<RefreshResult> {
    return this.manager ? this.manager.refresh(site, SITE_DIRECTORY_ID) : Promise.resolve('not-connected');
  }

  refreshAll(): Promise<Map<string, RefreshResult>> {
    return this.manager ? this.manager.refreshAll(SITE_DIRECTORY_ID) : Promise.resolve(new Map());
  }

  routes(): DynamicRoute[] {
    return this.manager?.list() ?? [];
  }

  status(): SiteManagerStatus | undefined {
    return this.manager?.status();
  }

  checkHealth(): Promise<unknown> {
    return this.manager ? this.manager.checkHealth() : Promise.resolve([]);
  }

  /** The backend for direct row access (`show sites NAME`); undefined when detached. */
  get directory(): SiteDirectoryBackend | undefined {
    return this.manager ? this.backend : undefined;
  }

  /** Periodic pass that feeds the data path's activity into the LRU order (eviction picks idle sites). */
  private armSweep(): void {
    if (this.sweepTimer?.pending || !this.manager) return;
    this.sweepTimer = this.p.clock.setTimer(SWEEP_MS, () => {
      this.sweepTimer = undefined;
      const m = this.manager;
      if (!m || m.size === 0) return;
      for (const r of m.list()) {
        if (r.saId === undefined) continue;
        const seen = this.p.lastActivity(String(r.saId));
        if (seen !== undefined && seen > r.lastUsed) m.touch(r);
      }
      this.armSweep();
    });
  }

  close(): SiteDirectoryBackend | undefined {
    this.settings = undefined;
    return this.detach();
  }
}

const SWEEP_MS = 5_000;
/** A responder site peer whose child SA is not up after this is removed again. */
const RESPONDER_PENDING_MS = 30_000;

export function sitePeerName(site: string): string {
  return (SITE_PEER_PREFIX + site).slice(0, 64);
}
