/**
 * Dynamic routes of the site directory (concentrator mode, DESIGN.md item 4).
 *
 * A base route points a network (say 10.0.0.0/8) at a site directory. A packet that matches
 * it has no tunnel yet: the manager looks the site up by the destination masked with the
 * directory's mask, creates a dynamic route from the row, asks the engine to build the
 * tunnel (hooks.connect) and, once the engine reports it up (tunnelUp), installs the route
 * into the RouteTable as source 'site' — more specific than the base route and with a lower
 * distance, so it is found first — and releases the packets queued meanwhile.
 *
 *   resolve(dir, dst, pkt)
 *     ├─ dynamic route up ........................ 'route' (touch)
 *     ├─ dynamic route connecting ................ queue the packet
 *     ├─ negative cache (no site / inactive / DB failed recently) .. drop, counted
 *     ├─ lookup in flight for the network ........ queue the packet (coalesced: one query)
 *     └─ new lookup: attempt ─timeout/error─> backoff ─> attempt ... ─> give up
 *            hit  -> dynamic route 'connecting' -> hooks.connect -> tunnelUp | tunnelFailed
 *            miss -> negative cache, queued packets dropped ('no-site')
 *
 * Slots: the number of dynamic routes is bounded by a capacity (the licence's VPN tunnel
 * cap, or a number). When fewer than 10 % of the slots would be free, the least recently
 * used routes are removed (hooks.removed tears down their SAs) until more than 10 % are.
 * LRU order is an intrusive doubly linked list: touch() is O(1) and allocates nothing.
 * Idle routes time out through one Clock timer that always points at the oldest route.
 *
 * A backend that is down or slow never blocks: every attempt has a timeout, attempts are
 * retried with exponential backoff, a network whose lookup failed is held off briefly,
 * existing routes keep working, and status() shows up/degraded/down with the last error.
 * Rows are not cached beyond the connected routes: a row changed or deleted in the database
 * takes effect on the next lookup, and refresh(site) re-reads a connected site.
 */
import type { Clock, Timer } from '../clock.js';
import { formatPrefix, makePrefix, type Prefix } from '../dataplane/address.js';
import type { RouteTable } from '../dataplane/route-table.js';
import type { SaId, SiteTrigger } from '../dataplane/seams.js';
import type { Identity } from '../ike/peer-config.js';
import type { LicenceCounter } from '../mesh/licence.js';
import type { SiteDirectoryBackend } from './backend.js';
import { SiteDirectoryConfigError, SiteLookupTimeoutError } from './errors.js';
import { formatIdentity, identityKey, maskFor, sameSiteSettings, type Site } from './site.js';

export type DynamicRouteState = 'connecting' | 'up';

/** Why a dynamic route went away (hooks.removed). */
export type RemovalReason =
  | 'evicted'
  | 'idle'
  | 'connect-timeout'
  | 'connect-failed'
  | 'tunnel-down'
  | 'deleted'
  | 'inactive'
  | 'changed'
  | 'directory-removed'
  | 'closed';

/** Why a packet waiting for a site was dropped. Every drop is counted under one of these. */
export type SiteDropReason =
  | 'queue-full'
  | 'no-site'
  | 'inactive'
  | 'lookup-failed'
  | 'lookup-limit'
  | 'capacity'
  | 'no-mask'
  | 'unknown-directory'
  | 'no-base-route'
  | 'directory-down'
  | RemovalReason;

export const SITE_DROP_REASONS: readonly SiteDropReason[] = [
  'queue-full',
  'no-site',
  'inactive',
  'lookup-failed',
  'lookup-limit',
  'capacity',
  'no-mask',
  'unknown-directory',
  'no-base-route',
  'directory-down',
  'evicted',
  'idle',
  'connect-timeout',
  'connect-failed',
  'tunnel-down',
  'deleted',
  'changed',
  'directory-removed',
  'closed',
];

/** A packet held while its site is looked up and its tunnel built (a copy: callers reuse buffers). */
export interface QueuedPacket {
  data: Uint8Array;
  queuedAt: number;
}

export interface SiteEvent {
  level: 'info' | 'warning' | 'error';
  directoryId: string;
  site?: string;
  message: string;
}

/** What the engine plugs in. */
export interface DynamicRouteHooks {
  /** Build the tunnel to route.site (IKE initiator, the row's PSK or certificate); then call tunnelUp or tunnelFailed. */
  connect(route: DynamicRoute): void;
  /** The route is installed: forward these packets (they were queued in arrival order). */
  release(route: DynamicRoute, packets: QueuedPacket[]): void;
  /** The route is gone: tear down its SAs (if any). Not called back into the manager. */
  removed(route: DynamicRoute, reason: RemovalReason): void;
  /**
   * When the route's tunnel last carried traffic, as the data path saw it (optional). Consulted
   * before a route is removed as idle or evicted, so traffic that never passed through
   * touch() still counts as use.
   */
  lastActivity?(route: DynamicRoute): number | undefined;
  /** Every drop of a queued or arriving packet (optional; counters are kept regardless). */
  dropped?(reason: SiteDropReason, directoryId: string, bytes: number): void;
  /** State changes worth the event log (directory down/up, lookup failures, evictions). */
  log?(event: SiteEvent): void;
}

export interface DynamicRouteManagerOptions {
  clock: Clock;
  routes: RouteTable;
  hooks: DynamicRouteHooks;
  /** Dynamic route slots: a number, a function read on every use, or the licence (its VPN tunnel cap). */
  capacity: number | (() => number) | LicenceCounter;
  /** Share of slots that must stay free (default 0.1: "fewer than 10 % free" triggers eviction). */
  freeShare?: number;
  /** A route without traffic for this long is removed (default 300 s). */
  idleTimeoutMs?: number;
  /** A route whose tunnel is not up after this long is removed (default 30 s). */
  connectTimeoutMs?: number;
  /** One database attempt (default 2 s). */
  lookupTimeoutMs?: number;
  /** Attempts after the first (default 2). */
  retries?: number;
  /** Backoff before retry n is retryBaseMs * 2^(n-1), at most retryMaxMs (defaults 250 ms, 4 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** "No such site" / "inactive" is remembered this long (default 10 s). */
  negativeTtlMs?: number;
  /** After a lookup failed for good, the network is not looked up again for this long (default 2 s). */
  failureHoldMs?: number;
  /** Negative cache entries kept at most (oldest go first; default 10,000). */
  negativeMax?: number;
  /** Lookups in flight at most (default 256; keep it below what the backend queues); beyond, packets are dropped 'lookup-limit'. */
  maxPendingLookups?: number;
  /** Per destination network (default 32 packets, 64 KiB). */
  queueMaxPackets?: number;
  queueMaxBytes?: number;
  /** All queues together (default 8 MiB). */
  queueMaxTotalBytes?: number;
  /** Distances of the installed routes (defaults: dynamic = 10, base = 250). */
  dynamicDistance?: number;
  baseDistance?: number;
  /** While a directory is down, its health is probed this often (default 5 s). */
  probeIntervalMs?: number;
  /**
   * While a directory is down (a lookup failed after every retry and no probe has succeeded
   * since), new lookups are not sent: their packets are dropped at once as 'directory-down'
   * and the probe finds the recovery (default true). False: every new network still tries.
   */
  failFastWhenDown?: boolean;
}

export interface SiteCounters {
  /** Network lookups started (one per coalesced group, however many packets). */
  lookups: number;
  hits: number;
  misses: number;
  /** Rows found but inactive. */
  inactive: number;
  /** Packets that joined a lookup already in flight. */
  coalesced: number;
  /** Answered from the negative cache without a query. */
  negativeHits: number;
  /** Attempts that timed out / failed otherwise. */
  timeouts: number;
  failures: number;
  retries: number;
  /** Lookups given up after every retry. */
  lookupFailures: number;
  /** Lookups not sent because the directory was down. */
  shortCircuited: number;
  routesCreated: number;
  routesRemoved: number;
  evictions: number;
  idleTimeouts: number;
  queued: number;
  released: number;
  queueDrops: number;
  identityLookups: number;
  identityHits: number;
  identityMisses: number;
  identityFailures: number;
}

export type DirectoryState = 'up' | 'degraded' | 'down';

export interface DirectoryStatus {
  id: string;
  kind: string;
  state: DirectoryState;
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: Date;
  lastSuccessAt?: Date;
  routes: number;
  baseRoutes: string[];
}

export interface SiteManagerStatus {
  capacity: number;
  used: number;
  free: number;
  connecting: number;
  up: number;
  pendingLookups: number;
  negativeEntries: number;
  queuedPackets: number;
  queuedBytes: number;
  counters: SiteCounters;
  drops: Record<SiteDropReason, number>;
  directories: DirectoryStatus[];
}

export type ResolveResult =
  | { kind: 'route'; route: DynamicRoute }
  | { kind: 'queued' }
  /** A lookup or tunnel is under way; no packet was given to queue. */
  | { kind: 'pending' }
  | { kind: 'dropped'; reason: SiteDropReason };

export type IdentityResult =
  | { kind: 'found'; directoryId: string; site: Site; /** From a connected route because the database failed. */ stale?: boolean }
  | { kind: 'not-found' }
  | { kind: 'inactive'; directoryId: string; site: Site }
  | { kind: 'failed'; error: string };

export type RefreshResult = 'not-connected' | 'unchanged' | 'updated' | 'deleted' | 'inactive' | 'changed' | 'failed';

/** A dynamic route: one connected (or connecting) site. */
export class DynamicRoute {
  state: DynamicRouteState = 'connecting';
  saId: SaId | undefined;
  lastUsed: number;
  /** @internal LRU links (head = least recently used). */
  prev: DynamicRoute | null = null;
  /** @internal */
  next: DynamicRoute | null = null;
  /** @internal */
  queue: QueuedPacket[] = [];
  /** @internal */
  queueBytes = 0;
  /** @internal */
  connectTimer: Timer | undefined;
  /** @internal */
  linked = false;

  constructor(
    readonly directoryId: string,
    /** The network text, the route's key within its directory. */
    readonly network: string,
    public site: Site,
    readonly prefix: Prefix,
    readonly createdAt: number,
  ) {
    this.lastUsed = createdAt;
  }

  get name(): string {
    return this.site.name;
  }
}

interface Directory {
  id: string;
  backend: SiteDirectoryBackend;
  state: DirectoryState;
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: Date;
  lastSuccessAt?: Date;
  baseRoutes: Prefix[];
  probeTimer?: Timer;
}

interface PendingLookup {
  directoryId: string;
  network: string;
  masked: Uint8Array;
  queue: QueuedPacket[];
  queueBytes: number;
}

interface NegativeEntry {
  until: number;
  reason: SiteDropReason;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: string };

const DEFAULTS = {
  freeShare: 0.1,
  idleTimeoutMs: 300_000,
  connectTimeoutMs: 30_000,
  lookupTimeoutMs: 2_000,
  retries: 2,
  retryBaseMs: 250,
  retryMaxMs: 4_000,
  negativeTtlMs: 10_000,
  failureHoldMs: 2_000,
  negativeMax: 10_000,
  maxPendingLookups: 256,
  queueMaxPackets: 32,
  queueMaxBytes: 64 * 1024,
  queueMaxTotalBytes: 8 * 1024 * 1024,
  dynamicDistance: 10,
  baseDistance: 250,
  probeIntervalMs: 5_000,
};

function zeroCounters(): SiteCounters {
  return {
    lookups: 0,
    hits: 0,
    misses: 0,
    inactive: 0,
    coalesced: 0,
    negativeHits: 0,
    timeouts: 0,
    failures: 0,
    retries: 0,
    lookupFailures: 0,
    shortCircuited: 0,
    routesCreated: 0,
    routesRemoved: 0,
    evictions: 0,
    idleTimeouts: 0,
    queued: 0,
    released: 0,
    queueDrops: 0,
    identityLookups: 0,
    identityHits: 0,
    identityMisses: 0,
    identityFailures: 0,
  };
}

export class DynamicRouteManager implements SiteTrigger {
  private readonly o: Required<Omit<DynamicRouteManagerOptions, 'capacity' | 'clock' | 'routes' | 'hooks' | 'failFastWhenDown'>>;
  private readonly failFast: boolean;
  private readonly clock: Clock;
  private readonly routes: RouteTable;
  private readonly hooks: DynamicRouteHooks;
  private readonly capacityOf: () => number;
  private readonly directories = new Map<string, Directory>();
  /** `${directoryId}\n${network}` -> route */
  private readonly byNetwork = new Map<string, DynamicRoute>();
  /** `${directoryId}\n${site name}` -> route */
  private readonly byName = new Map<string, DynamicRoute>();
  private readonly bySa = new Map<SaId, DynamicRoute>();
  private readonly pending = new Map<string, PendingLookup>();
  private readonly negative = new Map<string, NegativeEntry>();
  private readonly identityInFlight = new Map<string, Promise<IdentityResult>>();
  private head: DynamicRoute | null = null;
  private tail: DynamicRoute | null = null;
  private count = 0;
  private queuedTotalBytes = 0;
  private idleTimer: Timer | undefined;
  private idleTimerDue = Infinity;
  private closed = false;
  readonly counters: SiteCounters = zeroCounters();
  private readonly drops = Object.fromEntries(SITE_DROP_REASONS.map((r) => [r, 0])) as Record<SiteDropReason, number>;

  constructor(options: DynamicRouteManagerOptions) {
    this.clock = options.clock;
    this.routes = options.routes;
    this.hooks = options.hooks;
    const cap = options.capacity;
    this.capacityOf = typeof cap === 'number' ? () => cap : typeof cap === 'function' ? cap : () => cap.cap('vpn');
    const o = { ...DEFAULTS };
    for (const [k, v] of Object.entries(options)) if (k in DEFAULTS && v !== undefined) (o as Record<string, number>)[k] = v as number;
    if (!(o.freeShare >= 0 && o.freeShare < 1)) throw new SiteDirectoryConfigError(`freeShare ${o.freeShare} is not in [0, 1)`);
    this.o = o;
    this.failFast = options.failFastWhenDown ?? true;
  }

  // ---- directories and base routes -------------------------------------------------

  addDirectory(id: string, backend: SiteDirectoryBackend): void {
    if (this.directories.has(id)) throw new SiteDirectoryConfigError(`site directory '${id}' exists`);
    this.directories.set(id, { id, backend, state: 'up', consecutiveFailures: 0, baseRoutes: [] });
  }

  /** Removes the directory with its base and dynamic routes; the backend is not closed here. */
  removeDirectory(id: string): boolean {
    const dir = this.directories.get(id);
    if (!dir) return false;
    for (const r of [...this.byNetwork.values()]) if (r.directoryId === id) this.removeRoute(r, 'directory-removed');
    for (const [k, p] of [...this.pending]) {
      if (p.directoryId !== id) continue;
      this.pending.delete(k);
      this.dropQueue(p.queue, p.queueBytes, 'directory-removed', id);
    }
    for (const p of dir.baseRoutes) this.routes.remove(p, 'site', { kind: 'site-directory', directoryId: id });
    dir.probeTimer?.cancel();
    this.directories.delete(id);
    return true;
  }

  /** A route that sends packets without a dynamic route to the directory (source 'site', distance 250). */
  addBaseRoute(directoryId: string, prefix: Prefix | string, distance = this.o.baseDistance): void {
    const dir = this.dir(directoryId);
    const route = this.routes.add({
      prefix,
      source: 'site',
      target: { kind: 'site-directory', directoryId },
      distance,
      comment: `site directory ${directoryId}`,
    });
    if (maskFor(dir.backend.masks, route.prefix.family) === undefined) {
      this.routes.remove(route.prefix, 'site', route.target);
      throw new SiteDirectoryConfigError(`site directory '${directoryId}' has no IPv${route.prefix.family} mask`);
    }
    dir.baseRoutes.push(route.prefix);
  }

  removeBaseRoute(directoryId: string, prefix: Prefix | string): boolean {
    const dir = this.dir(directoryId);
    const text = typeof prefix === 'string' ? prefix : formatPrefix(prefix);
    const removed = this.routes.remove(prefix, 'site', { kind: 'site-directory', directoryId }) > 0;
    dir.baseRoutes = dir.baseRoutes.filter((p) => formatPrefix(p) !== text);
    return removed;
  }

  private dir(id: string): Directory {
    const d = this.directories.get(id);
    if (!d) throw new SiteDirectoryConfigError(`no site directory '${id}'`);
    return d;
  }

  // ---- initiator: resolve a destination ----------------------------------------------

  /**
   * The SiteTrigger seam of the forwarder: true when the packet was queued (a copy is kept
   * and handed to hooks.release once the route is up); false when it was dropped (counted).
   * Without a packet only the lookup is started.
   */
  onSiteMiss(directoryId: string, destination: Uint8Array, packet?: Uint8Array): boolean {
    return this.resolve(directoryId, destination, packet).kind === 'queued';
  }

  /**
   * A packet to `destination` matched a base route of `directoryId`. Returns the route when
   * one is up; otherwise queues a copy of the packet (bounded) and starts or joins the lookup.
   */
  resolve(directoryId: string, destination: Uint8Array, packet?: Uint8Array): ResolveResult {
    const dir = this.directories.get(directoryId);
    if (!dir || this.closed) return this.dropArriving('unknown-directory', directoryId, packet);
    const len = destination.length === 4 ? dir.backend.masks.v4 : destination.length === 16 ? dir.backend.masks.v6 : undefined;
    const prefix = len === undefined ? undefined : makePrefix(destination, len);
    if (!prefix) return this.dropArriving('no-mask', directoryId, packet);
    const network = formatPrefix(prefix);
    const key = `${directoryId}\n${network}`;

    const route = this.byNetwork.get(key);
    if (route) {
      if (route.state === 'up') {
        this.touch(route);
        return { kind: 'route', route };
      }
      return this.enqueue(route, directoryId, packet);
    }

    const neg = this.negative.get(key);
    if (neg) {
      if (neg.until > this.clock.now()) {
        this.counters.negativeHits++;
        return this.dropArriving(neg.reason, directoryId, packet);
      }
      this.negative.delete(key);
    }

    const inFlight = this.pending.get(key);
    if (inFlight) {
      this.counters.coalesced++;
      return this.enqueue(inFlight, directoryId, packet);
    }
    if (this.pending.size >= this.o.maxPendingLookups) return this.dropArriving('lookup-limit', directoryId, packet);
    if (dir.state === 'down' && this.failFast) {
      this.counters.shortCircuited++;
      return this.dropArriving('directory-down', directoryId, packet);
    }

    const p: PendingLookup = { directoryId, network, masked: prefix.bytes, queue: [], queueBytes: 0 };
    this.pending.set(key, p);
    const result = this.enqueue(p, directoryId, packet);
    this.counters.lookups++;
    void this.lookupNetwork(dir, key, p);
    return result;
  }

  /** resolve() for a destination whose base route is found in the route table. */
  resolveDestination(destination: Uint8Array, packet?: Uint8Array): ResolveResult {
    const r = this.routes.lookup(destination);
    if (r?.target.kind === 'site-directory') return this.resolve(r.target.directoryId, destination, packet);
    if (r?.source === 'site' && r.target.kind === 'sa') {
      const route = this.bySa.get(r.target.id);
      if (route) {
        this.touch(route);
        return { kind: 'route', route };
      }
    }
    return this.dropArriving('no-base-route', '', packet);
  }

  private async lookupNetwork(dir: Directory, key: string, p: PendingLookup): Promise<void> {
    const res = await this.withRetries(dir, `lookup ${p.network}`, () => dir.backend.lookupByNetwork(p.masked));
    if (this.pending.get(key) !== p) return; // directory removed or manager closed meanwhile
    this.pending.delete(key);
    if (!res.ok) {
      this.counters.lookupFailures++;
      this.setNegative(key, 'lookup-failed', this.o.failureHoldMs);
      this.dropQueue(p.queue, p.queueBytes, 'lookup-failed', dir.id);
      return;
    }
    const site = res.value;
    if (!site || formatPrefix(site.network) !== p.network) {
      this.counters.misses++;
      this.setNegative(key, 'no-site', this.o.negativeTtlMs);
      this.dropQueue(p.queue, p.queueBytes, 'no-site', dir.id);
      return;
    }
    if (!site.active) {
      this.counters.inactive++;
      this.setNegative(key, 'inactive', this.o.negativeTtlMs);
      this.dropQueue(p.queue, p.queueBytes, 'inactive', dir.id);
      return;
    }
    this.counters.hits++;
    const route = this.createRoute(dir, site);
    if (!route) {
      this.dropQueue(p.queue, p.queueBytes, 'capacity', dir.id);
      return;
    }
    route.queue = p.queue;
    route.queueBytes = p.queueBytes;
    route.connectTimer = this.clock.setTimer(this.o.connectTimeoutMs, () => {
      if (this.byNetwork.get(`${route.directoryId}\n${route.network}`) === route && route.state === 'connecting') {
        this.removeRoute(route, 'connect-timeout');
        this.setNegative(`${route.directoryId}\n${route.network}`, 'connect-timeout', this.o.failureHoldMs);
      }
    });
    this.hooks.connect(route);
  }

  // ---- engine callbacks -----------------------------------------------------------------

  /** The tunnel of a connecting route is up: install the route, release its queue. */
  tunnelUp(siteName: string, saId: SaId, directoryId?: string): DynamicRoute | undefined {
    const route = this.findByName(siteName, directoryId);
    if (!route) return undefined;
    this.install(route, saId);
    return route;
  }

  /** Building the tunnel failed: drop the route and its queue, hold the network off briefly. */
  tunnelFailed(siteName: string, directoryId?: string): boolean {
    const route = this.findByName(siteName, directoryId);
    if (!route) return false;
    this.removeRoute(route, 'connect-failed');
    this.setNegative(`${route.directoryId}\n${route.network}`, 'connect-failed', this.o.failureHoldMs);
    return true;
  }

  /** The SA went down (DPD, delete from the peer): the route goes with it. */
  tunnelDown(saId: SaId): boolean {
    const route = this.bySa.get(saId);
    if (!route) return false;
    this.removeRoute(route, 'tunnel-down');
    return true;
  }

  /** Traffic through a dynamic route: moves it to the most recently used end (O(1)). */
  touch(route: DynamicRoute): void {
    route.lastUsed = this.clock.now();
    if (!route.linked || route === this.tail) return;
    this.unlink(route);
    this.linkTail(route);
  }

  /** touch() by SA id (what the data path knows). Returns whether the SA belongs to a site. */
  touchSa(saId: SaId): boolean {
    const route = this.bySa.get(saId);
    if (!route) return false;
    this.touch(route);
    return true;
  }

  // ---- responder side --------------------------------------------------------------------

  /**
   * The site of an IKE identity (the responder's peer lookup), searched in every directory
   * (or one). Coalesced per identity; timeouts and retries as for network lookups. When the
   * database fails and the site is connected, its current row is returned (stale: true) so
   * that rekeying and re-authentication of existing tunnels keep working.
   */
  resolveIdentity(identity: Identity | string, directoryId?: string): Promise<IdentityResult> {
    const key = identityKey(identity);
    if (key === undefined) return Promise.resolve({ kind: 'not-found' });
    const flightKey = `${directoryId ?? ''}\n${key}`;
    const neg = this.negative.get(`id\n${flightKey}`);
    if (neg && neg.until > this.clock.now()) {
      this.counters.negativeHits++;
      return Promise.resolve({ kind: 'not-found' });
    }
    const inFlight = this.identityInFlight.get(flightKey);
    if (inFlight) {
      this.counters.coalesced++;
      return inFlight;
    }
    this.counters.identityLookups++;
    const run = this.lookupIdentity(key, directoryId).finally(() => this.identityInFlight.delete(flightKey));
    this.identityInFlight.set(flightKey, run);
    return run.then((r) => {
      if (r.kind === 'not-found') this.setNegative(`id\n${flightKey}`, 'no-site', this.o.negativeTtlMs);
      return r;
    });
  }

  private async lookupIdentity(key: string, directoryId: string | undefined): Promise<IdentityResult> {
    const dirs = directoryId === undefined ? [...this.directories.values()] : [this.dir(directoryId)];
    let failure: string | undefined;
    for (const dir of dirs) {
      if (dir.state === 'down' && this.failFast) {
        this.counters.shortCircuited++;
        failure = `site directory '${dir.id}' is down: ${dir.lastError ?? ''}`;
        continue;
      }
      const res = await this.withRetries(dir, `identity lookup ${key}`, () => dir.backend.lookupByIdentity(key));
      if (!res.ok) {
        failure = res.error;
        continue;
      }
      if (res.value) {
        if (!res.value.active) {
          this.counters.inactive++;
          return { kind: 'inactive', directoryId: dir.id, site: res.value };
        }
        this.counters.identityHits++;
        return { kind: 'found', directoryId: dir.id, site: res.value };
      }
    }
    if (failure === undefined) {
      this.counters.identityMisses++;
      return { kind: 'not-found' };
    }
    this.counters.identityFailures++;
    for (const r of this.byNetwork.values()) {
      if ((directoryId === undefined || r.directoryId === directoryId) && formatIdentity(r.site.identity) === key) {
        return { kind: 'found', directoryId: r.directoryId, site: r.site, stale: true };
      }
    }
    return { kind: 'failed', error: failure };
  }

  /**
   * A peer authenticated as responder with a site's identity and its child SA is up: the
   * site's dynamic route is created (taking a slot, evicting if needed) and installed.
   * Undefined when there is no capacity at all.
   */
  responderUp(directoryId: string, site: Site, saId: SaId): DynamicRoute | undefined {
    const dir = this.dir(directoryId);
    let route = this.byName.get(`${directoryId}\n${site.name}`);
    if (!route) {
      route = this.createRoute(dir, site);
      if (!route) return undefined;
    }
    this.install(route, saId);
    return route;
  }

  // ---- refresh ----------------------------------------------------------------------------

  /**
   * Re-reads a connected site. Deleted, deactivated or changed (identity, gateway, network,
   * key) -> the route and its SAs are removed; the next packet looks the site up again.
   * Only the comment changed -> the row is updated in place.
   */
  async refresh(siteName: string, directoryId?: string): Promise<RefreshResult> {
    const route = this.findByName(siteName, directoryId);
    if (!route) return 'not-connected';
    const dir = this.dir(route.directoryId);
    const res = await this.withRetries(dir, `refresh ${siteName}`, () => dir.backend.get(siteName));
    if (!res.ok) return 'failed';
    if (this.byName.get(`${route.directoryId}\n${siteName}`) !== route) return 'not-connected';
    const row = res.value;
    if (!row) {
      this.removeRoute(route, 'deleted');
      return 'deleted';
    }
    if (!row.active) {
      this.removeRoute(route, 'inactive');
      return 'inactive';
    }
    if (!sameSiteSettings(row, route.site)) {
      this.removeRoute(route, 'changed');
      return 'changed';
    }
    if (row.comment === route.site.comment && row.updatedAt === route.site.updatedAt) return 'unchanged';
    route.site = row;
    return 'updated';
  }

  /** Re-reads every connected site (e.g. after a bulk import); returns what happened per site. */
  async refreshAll(directoryId?: string): Promise<Map<string, RefreshResult>> {
    const out = new Map<string, RefreshResult>();
    for (const r of [...this.byName.values()]) {
      if (directoryId !== undefined && r.directoryId !== directoryId) continue;
      out.set(r.name, await this.refresh(r.name, r.directoryId));
    }
    return out;
  }

  // ---- capacity ---------------------------------------------------------------------------

  get capacity(): number {
    return Math.max(0, Math.floor(this.capacityOf()));
  }

  get size(): number {
    return this.count;
  }

  /** Network lookups in flight (cheap; status() counts more). */
  get pendingLookups(): number {
    return this.pending.size;
  }

  /** Evicts least recently used routes while fewer than freeShare of the slots would be free after adding `adding`. */
  enforceCapacity(adding = 0, keep?: DynamicRoute): number {
    const cap = this.capacity;
    const threshold = cap * this.o.freeShare;
    let evicted = 0;
    if (cap - (this.count + adding) >= threshold) return 0;
    let victim = this.head;
    // Routes found in use are moved to the tail once each: at most `count` of them.
    let spared = 0;
    const maxSpared = this.count;
    while (victim && cap - (this.count + adding) <= threshold) {
      const next: DynamicRoute | null = victim.next;
      if (victim !== keep) {
        if (spared < maxSpared && this.refreshFromActivity(victim)) spared++;
        else {
          this.removeRoute(victim, 'evicted');
          evicted++;
        }
      }
      victim = next === victim ? null : next;
    }
    if (evicted > 0) {
      this.hooks.log?.({ level: 'info', directoryId: '', message: `evicted ${evicted} least recently used dynamic route(s): ${this.count}/${cap} slots in use` });
    }
    return evicted;
  }

  private createRoute(dir: Directory, site: Site): DynamicRoute | undefined {
    const network = formatPrefix(site.network);
    // The site may hold a route under an old network (row changed while connected).
    const old = this.byName.get(`${dir.id}\n${site.name}`);
    if (old) this.removeRoute(old, 'changed');
    const cap = this.capacity;
    if (cap <= 0) return undefined;
    this.enforceCapacity(1);
    if (this.count >= cap) return undefined;
    const route = new DynamicRoute(dir.id, network, site, site.network, this.clock.now());
    this.byNetwork.set(`${dir.id}\n${network}`, route);
    this.byName.set(`${dir.id}\n${site.name}`, route);
    this.linkTail(route);
    this.count++;
    this.counters.routesCreated++;
    this.armIdleTimer();
    return route;
  }

  private install(route: DynamicRoute, saId: SaId): void {
    route.connectTimer?.cancel();
    route.connectTimer = undefined;
    if (route.saId !== undefined && route.saId !== saId) {
      this.routes.remove(route.prefix, 'site', { kind: 'sa', id: route.saId });
      this.bySa.delete(route.saId);
    }
    route.state = 'up';
    route.saId = saId;
    this.bySa.set(saId, route);
    this.routes.replace({
      prefix: route.prefix,
      source: 'site',
      target: { kind: 'sa', id: saId },
      distance: this.o.dynamicDistance,
      comment: `site ${route.site.name}`,
    });
    this.touch(route);
    if (route.queue.length > 0) {
      const packets = route.queue;
      this.queuedTotalBytes -= route.queueBytes;
      route.queue = [];
      route.queueBytes = 0;
      this.counters.released += packets.length;
      this.hooks.release(route, packets);
    }
  }

  private removeRoute(route: DynamicRoute, reason: RemovalReason): void {
    const key = `${route.directoryId}\n${route.network}`;
    if (this.byNetwork.get(key) !== route) return;
    this.byNetwork.delete(key);
    this.byName.delete(`${route.directoryId}\n${route.site.name}`);
    if (route.saId !== undefined) {
      this.bySa.delete(route.saId);
      this.routes.remove(route.prefix, 'site', { kind: 'sa', id: route.saId });
    }
    route.connectTimer?.cancel();
    route.connectTimer = undefined;
    this.unlink(route);
    this.count--;
    this.counters.routesRemoved++;
    if (reason === 'evicted') this.counters.evictions++;
    if (reason === 'idle') this.counters.idleTimeouts++;
    const q = route.queue;
    const qb = route.queueBytes;
    route.queue = [];
    route.queueBytes = 0;
    this.queuedTotalBytes -= qb;
    this.dropQueue(q, 0, reason, route.directoryId);
    this.hooks.removed(route, reason);
  }

  // ---- LRU list and idle timer ------------------------------------------------------------

  private linkTail(r: DynamicRoute): void {
    r.prev = this.tail;
    r.next = null;
    if (this.tail) this.tail.next = r;
    else this.head = r;
    this.tail = r;
    r.linked = true;
  }

  private unlink(r: DynamicRoute): void {
    if (!r.linked) return;
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    else this.tail = r.prev;
    r.prev = r.next = null;
    r.linked = false;
  }

  /** Least recently used first. */
  *lru(): Generator<DynamicRoute> {
    for (let r = this.head; r; r = r.next) yield r;
  }

  private armIdleTimer(): void {
    if (this.closed || !this.head) return;
    const due = this.head.lastUsed + this.o.idleTimeoutMs;
    if (this.idleTimer?.pending && this.idleTimerDue <= due) return;
    this.idleTimer?.cancel();
    this.idleTimerDue = due;
    this.idleTimer = this.clock.setTimer(due - this.clock.now(), () => this.expiredIdleRoutes());
  }

  private expiredIdleRoutes(): void {
    this.idleTimer = undefined;
    this.idleTimerDue = Infinity;
    const now = this.clock.now();
    while (this.head && now - this.head.lastUsed >= this.o.idleTimeoutMs) {
      const head = this.head;
      // Traffic the data path saw since: the route moves to the tail instead (its lastUsed is recent now).
      if (this.refreshFromActivity(head) && now - head.lastUsed < this.o.idleTimeoutMs) continue;
      this.removeRoute(head, 'idle');
    }
    this.armIdleTimer();
  }

  /** Moves a route to the most recently used end when the data path saw traffic after lastUsed. */
  private refreshFromActivity(route: DynamicRoute): boolean {
    const seen = this.hooks.lastActivity?.(route);
    if (seen === undefined || seen <= route.lastUsed) return false;
    route.lastUsed = Math.min(seen, this.clock.now());
    if (route.linked && route !== this.tail) {
      this.unlink(route);
      this.linkTail(route);
    }
    return true;
  }

  // ---- queues ----------------------------------------------------------------------------

  private enqueue(holder: { queue: QueuedPacket[]; queueBytes: number }, directoryId: string, packet: Uint8Array | undefined): ResolveResult {
    if (!packet) return { kind: 'pending' };
    const n = packet.length;
    if (
      holder.queue.length >= this.o.queueMaxPackets ||
      holder.queueBytes + n > this.o.queueMaxBytes ||
      this.queuedTotalBytes + n > this.o.queueMaxTotalBytes
    ) {
      return this.dropArriving('queue-full', directoryId, packet);
    }
    // A copy (new Uint8Array: Buffer#slice would be a view of the port's batch buffer).
    holder.queue.push({ data: new Uint8Array(packet), queuedAt: this.clock.now() });
    holder.queueBytes += n;
    this.queuedTotalBytes += n;
    this.counters.queued++;
    return { kind: 'queued' };
  }

  private dropArriving(reason: SiteDropReason, directoryId: string, packet: Uint8Array | undefined): ResolveResult {
    if (packet) this.countDrop(reason, directoryId, packet.length);
    return { kind: 'dropped', reason };
  }

  /** Drops a queue; `bytes` is subtracted from the total (0 when the caller already did). */
  private dropQueue(queue: QueuedPacket[], bytes: number, reason: SiteDropReason, directoryId: string): void {
    this.queuedTotalBytes -= bytes;
    for (const p of queue) this.countDrop(reason, directoryId, p.data.length);
  }

  private countDrop(reason: SiteDropReason, directoryId: string, bytes: number): void {
    this.drops[reason]++;
    this.counters.queueDrops++;
    this.hooks.dropped?.(reason, directoryId, bytes);
  }

  private setNegative(key: string, reason: SiteDropReason, ttl: number): void {
    this.negative.delete(key);
    this.negative.set(key, { until: this.clock.now() + ttl, reason });
    while (this.negative.size > this.o.negativeMax) {
      const oldest = this.negative.keys().next().value as string;
      this.negative.delete(oldest);
    }
  }

  // ---- backend calls: timeout, retry with backoff, directory state -------------------------

  private attempt<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = this.clock.setTimer(this.o.lookupTimeoutMs, () => {
        if (done) return;
        done = true;
        reject(new SiteLookupTimeoutError(`no answer within ${this.o.lookupTimeoutMs} ms`));
      });
      let p: Promise<T>;
      try {
        p = fn();
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => {
          if (done) return;
          done = true;
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          if (done) return;
          done = true;
          timer.cancel();
          reject(e);
        },
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(ms, resolve));
  }

  private async withRetries<T>(dir: Directory, what: string, fn: () => Promise<T>): Promise<Attempt<T>> {
    let error = 'closed';
    for (let i = 0; i <= this.o.retries && !this.closed; i++) {
      if (i > 0) {
        this.counters.retries++;
        await this.sleep(Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (i - 1)));
        if (this.closed) break;
      }
      try {
        const value = await this.attempt(fn);
        this.markSuccess(dir);
        return { ok: true, value };
      } catch (e) {
        if (e instanceof SiteLookupTimeoutError) this.counters.timeouts++;
        else this.counters.failures++;
        error = e instanceof Error ? e.message : String(e);
        this.markFailure(dir, `${what}: ${error}`, false);
      }
    }
    this.markFailure(dir, `${what}: ${error}`, true);
    return { ok: false, error };
  }

  private markSuccess(dir: Directory): void {
    dir.lastSuccessAt = this.clock.wallTime();
    dir.consecutiveFailures = 0;
    if (dir.state !== 'up') {
      this.hooks.log?.({ level: 'info', directoryId: dir.id, message: `site directory '${dir.id}' is up again` });
      dir.state = 'up';
      dir.probeTimer?.cancel();
      dir.probeTimer = undefined;
    }
  }

  private markFailure(dir: Directory, error: string, gaveUp: boolean): void {
    if (!gaveUp) {
      dir.consecutiveFailures++;
      dir.lastError = error;
      dir.lastErrorAt = this.clock.wallTime();
      if (dir.state === 'up') {
        dir.state = 'degraded';
        this.hooks.log?.({ level: 'warning', directoryId: dir.id, message: `site directory '${dir.id}' degraded: ${error}` });
      }
      return;
    }
    if (dir.state !== 'down') {
      dir.state = 'down';
      this.hooks.log?.({ level: 'error', directoryId: dir.id, message: `site directory '${dir.id}' is down: ${error}` });
      this.scheduleProbe(dir);
    }
  }

  private scheduleProbe(dir: Directory): void {
    if (this.closed || dir.probeTimer?.pending) return;
    dir.probeTimer = this.clock.setTimer(this.o.probeIntervalMs, () => {
      dir.probeTimer = undefined;
      if (this.closed || this.directories.get(dir.id) !== dir || dir.state !== 'down') return;
      void this.probe(dir);
    });
  }

  private async probe(dir: Directory): Promise<void> {
    try {
      const h = await this.attempt(() => dir.backend.health());
      if (h.ok) {
        this.markSuccess(dir);
        return;
      }
      dir.lastError = `health: ${h.error ?? 'not ok'}`;
    } catch (e) {
      dir.lastError = `health: ${e instanceof Error ? e.message : String(e)}`;
    }
    dir.lastErrorAt = this.clock.wallTime();
    this.scheduleProbe(dir);
  }

  /** Probes every directory's health now (e.g. from `do /Status/.../Check`); updates their state. */
  async checkHealth(): Promise<DirectoryStatus[]> {
    for (const dir of this.directories.values()) {
      try {
        const h = await this.attempt(() => dir.backend.health());
        if (h.ok) this.markSuccess(dir);
        else this.markFailure(dir, `health: ${h.error ?? 'not ok'}`, false);
      } catch (e) {
        this.markFailure(dir, `health: ${e instanceof Error ? e.message : String(e)}`, false);
      }
    }
    return this.status().directories;
  }

  // ---- status -----------------------------------------------------------------------------

  private findByName(siteName: string, directoryId?: string): DynamicRoute | undefined {
    if (directoryId !== undefined) return this.byName.get(`${directoryId}\n${siteName}`);
    for (const d of this.directories.keys()) {
      const r = this.byName.get(`${d}\n${siteName}`);
      if (r) return r;
    }
    return undefined;
  }

  /** The dynamic route of a site, if connected or connecting. */
  routeOf(siteName: string, directoryId?: string): DynamicRoute | undefined {
    return this.findByName(siteName, directoryId);
  }

  /** Dynamic routes, most recently used first (for `show sites`). */
  list(): DynamicRoute[] {
    const out: DynamicRoute[] = [];
    for (let r = this.tail; r; r = r.prev) out.push(r);
    return out;
  }

  status(): SiteManagerStatus {
    let connecting = 0;
    let queuedPackets = 0;
    for (const r of this.byNetwork.values()) {
      if (r.state === 'connecting') connecting++;
      queuedPackets += r.queue.length;
    }
    for (const p of this.pending.values()) queuedPackets += p.queue.length;
    const cap = this.capacity;
    const routesPer = new Map<string, number>();
    for (const r of this.byNetwork.values()) routesPer.set(r.directoryId, (routesPer.get(r.directoryId) ?? 0) + 1);
    return {
      capacity: cap,
      used: this.count,
      free: Math.max(0, cap - this.count),
      connecting,
      up: this.count - connecting,
      pendingLookups: this.pending.size,
      negativeEntries: this.negative.size,
      queuedPackets,
      queuedBytes: this.queuedTotalBytes,
      counters: { ...this.counters },
      drops: { ...this.drops },
      directories: [...this.directories.values()].map((d) => {
        const s: DirectoryStatus = {
          id: d.id,
          kind: d.backend.kind,
          state: d.state,
          consecutiveFailures: d.consecutiveFailures,
          routes: routesPer.get(d.id) ?? 0,
          baseRoutes: d.baseRoutes.map(formatPrefix),
        };
        if (d.lastError !== undefined) s.lastError = d.lastError;
        if (d.lastErrorAt) s.lastErrorAt = d.lastErrorAt;
        if (d.lastSuccessAt) s.lastSuccessAt = d.lastSuccessAt;
        return s;
      }),
    };
  }

  /** Forgets the negative cache (e.g. after an import or `do .../Flush`). */
  flushNegativeCache(): void {
    this.negative.clear();
  }

  /** Removes every dynamic route (hooks.removed with 'closed'), drops the queues, stops the timers. */
  close(): void {
    if (this.closed) return;
    for (const r of [...this.byNetwork.values()]) this.removeRoute(r, 'closed');
    for (const p of this.pending.values()) this.dropQueue(p.queue, p.queueBytes, 'closed', p.directoryId);
    this.pending.clear();
    this.closed = true;
    this.idleTimer?.cancel();
    for (const d of this.directories.values()) d.probeTimer?.cancel();
  }
}

/** Dynamic route slots from the licence: its VPN tunnel cap, read on every use. */
export function capacityFromLicence(licence: LicenceCounter): () => number {
  return () => licence.cap('vpn');
}
