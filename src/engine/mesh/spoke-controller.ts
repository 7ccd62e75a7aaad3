/**
 * The mesh controller of a branch (Operation-Mode Spoke).
 *
 * Egress trigger (default), seen from the two branches A (sender) and B (receiver):
 *
 *   A --pkt--> hub --pkt--> B      B: onPacketViaHub(src in A's LAN, dst in B's LAN)
 *                                  B -> hub: shortcutRequest { src, dst net, B's endpoint, B's id }
 *              hub --offer--> A    A: shortcut offer -> licence -> connect(B) (IKE from the template)
 *   A <======= mesh SA =======> B  both: tunnelUp -> routes more specific than the hub's,
 *                                  flows of the pair switched over, idle timer armed
 *   ... no traffic for SH-Time ... disconnect -> routes withdrawn, flows back to the hub path
 *
 * Hub-redirect trigger: the hub sends A a redirect for a destination it hairpins;
 * A asks the hub to resolve it and builds the tunnel from the offer that comes back.
 *
 * Per tunnel (keyed by the peer's IKE identity):
 *
 *   (none) --offer/redirect--> connecting --tunnelUp--> up --idle/down--> closing --tunnelDown--> (none)
 *      \--incoming accepted--------------------------/        connecting --tunnelFailed--> (none)
 *
 * Failures (licence, policy, unreachable peer, authentication) leave the traffic on the
 * hub path, are logged with the reason, and back off per destination (RequestBackoff).
 */
import type { Clock, Timer } from '../clock.js';
import { MeshStatus, meshStatusName, stringifyMeshMessage, type MeshEndpoint, type MeshMessage } from './messages.js';
import { containsAddress, coversPrefix, hostPrefix, networkOf } from './networks.js';
import { RequestBackoff } from './request-backoff.js';
import type { FlowMove, LocalIdentity, MeshSettings, MeshSpokePorts, MeshTrigger } from './types.js';

export type MeshTunnelState = 'connecting' | 'up' | 'closing';

export interface MeshTunnel {
  peerId: string;
  endpoint: MeshEndpoint;
  localNetworks: string[];
  remoteNetworks: string[];
  state: MeshTunnelState;
  initiator: 'local' | 'remote';
  trigger: MeshTrigger;
  createdAt: number;
  upAt?: number;
  switchovers: number;
  /** Remote networks whose routes are installed. */
  routed: Set<string>;
  idleTimer?: Timer;
}

export interface SwitchoverRecord extends FlowMove {
  at: number;
  peerId: string;
  direction: 'to-mesh' | 'to-hub';
}

export type MeshFailureReason = 'unreachable' | 'auth-failed' | 'ike-error' | 'policy' | 'licence' | 'collision';

const FAILURE_STATUS: Record<MeshFailureReason, number> = {
  unreachable: MeshStatus.peerUnreachable,
  'auth-failed': MeshStatus.authFailed,
  'ike-error': MeshStatus.ikeError,
  policy: MeshStatus.policyDenied,
  licence: MeshStatus.licenceExceeded,
  collision: MeshStatus.ikeError,
};

export interface RequestedPrefixRow {
  prefix: string;
  requests: number;
  lastRequestAt?: number;
  direction: 'sent' | 'received';
  status: string;
  rateLimitedForMs: number;
  validForMs: number;
}

export interface WhyAnswer {
  path: 'direct' | 'hub' | 'local';
  reason:
    | 'mesh-up'
    | 'mesh-connecting'
    | 'mesh-disabled'
    | 'local-network'
    | 'no-request-yet'
    | 'rate-limited'
    | 'waiting-for-hub'
    | 'refused'
    | 'failed';
  text: string;
}

export interface SpokeCounters {
  triggers: number;
  requestsSent: number;
  rateLimited: number;
  offersReceived: number;
  refusalsReceived: number;
  licenceDenied: number;
  tunnelsUp: number;
  tunnelsFailed: number;
  idleTeardowns: number;
  switchedFlows: number;
  malformedMessages: number;
}

const SWITCHOVER_LOG_SIZE = 1000;

export class MeshSpokeController {
  readonly counters: SpokeCounters = {
    triggers: 0,
    requestsSent: 0,
    rateLimited: 0,
    offersReceived: 0,
    refusalsReceived: 0,
    licenceDenied: 0,
    tunnelsUp: 0,
    tunnelsFailed: 0,
    idleTeardowns: 0,
    switchedFlows: 0,
    malformedMessages: 0,
  };
  private readonly tunnelsByPeer = new Map<string, MeshTunnel>();
  private readonly backoff: RequestBackoff;
  /** Backoff keys we asked for (sent) vs were offered (received), for the status table. */
  private readonly direction = new Map<string, 'sent' | 'received'>();
  /** Destinations we sent a resolve for (hub-redirect), as opposed to egress requests. */
  private readonly resolved = new Set<string>();
  private readonly lastStatus = new Map<string, number>();
  private readonly switchoverLog: SwitchoverRecord[] = [];
  private switchoverTotal = { toMesh: 0, toHub: 0, packetsBefore: 0 };
  private nextRequestId = 1;

  constructor(
    private readonly ports: MeshSpokePorts,
    private readonly clock: Clock,
    private identity: LocalIdentity,
    private settings: MeshSettings,
  ) {
    this.backoff = new RequestBackoff(settings, () => clock.now());
  }

  // ---- configuration -------------------------------------------------------------------

  updateSettings(settings: MeshSettings): void {
    const wasSpoke = this.settings.operationMode === 'Spoke';
    this.settings = settings;
    this.backoff.update(settings);
    if (wasSpoke && settings.operationMode !== 'Spoke') {
      for (const t of [...this.tunnelsByPeer.values()]) this.ports.disconnect(t.peerId, 'mesh disabled');
    }
    for (const t of this.tunnelsByPeer.values()) if (t.state === 'up') this.armIdleTimer(t);
    if (settings.operationMode === 'Spoke') this.announce();
  }

  updateIdentity(identity: LocalIdentity): void {
    this.identity = identity;
  }

  private get active(): boolean {
    return this.settings.operationMode === 'Spoke';
  }

  // ---- events from the engine --------------------------------------------------------

  /** The static tunnel to the hub came up: tell the hub our group membership. */
  onHubTunnelUp(): void {
    if (this.active) this.announce();
  }

  /**
   * A packet arrived through the hub's SA (`viaPeer` = static peer name). Egress trigger:
   * traffic from a network we do not reach directly, for one of our own networks.
   */
  onPacketViaHub(src: string, dst: string, viaPeer: string): void {
    if (!this.active || this.settings.trigger !== 'egress') return;
    if (this.settings.detectOnVpnPeers.length > 0 && !this.settings.detectOnVpnPeers.includes(viaPeer)) return;
    const localNet = networkOf(this.identity.networks, dst);
    if (!localNet || networkOf(this.identity.networks, src)) return;
    if (this.tunnelCovering(src)) return;
    this.counters.triggers++;
    const key = hostPrefix(src);
    if (!this.identity.publicEndpoint) {
      // The accepting branch must be reachable from outside; without a public endpoint the hub path stays.
      if (this.backoff.tryRequest(key)) {
        this.direction.set(key, 'sent');
        this.fail(key, MeshStatus.notPublic, 'this node has no public endpoint: no mesh tunnel, traffic stays on the hub path');
      }
      return;
    }
    if (!this.backoff.tryRequest(key)) {
      this.counters.rateLimited++;
      return;
    }
    this.direction.set(key, 'sent');
    this.sendToHub({
      type: 'shortcutRequest',
      requestId: this.nextRequestId++,
      source: key,
      destination: localNet,
      endpoint: this.identity.publicEndpoint,
      peerId: this.identity.peerId,
      groupId: this.settings.groupId,
      nodeName: this.identity.name,
    });
  }

  /** A mesh message from the hub (the engine has checked it came inside the hub's SA). */
  onMeshMessage(m: MeshMessage): void {
    if (!this.active) return;
    switch (m.type) {
      case 'shortcutOffer':
        this.onOffer(m);
        break;
      case 'refused':
        this.onRefused(m);
        break;
      case 'redirect':
        this.onRedirect(m);
        break;
      default:
        // Spoke-to-hub messages arriving at a spoke are out of place.
        this.counters.malformedMessages++;
        this.ports.log('warn', `mesh: unexpected ${stringifyMeshMessage(m)} from the hub`);
    }
  }

  private onOffer(m: MeshMessage): void {
    this.counters.offersReceived++;
    const dest = m.destination!;
    const key = dest;
    this.direction.set(key, this.direction.get(key) ?? 'received');
    if (this.tunnelsByPeer.get(m.peerId!)?.remoteNetworks.some((n) => coversPrefix(n, dest))) return;
    if (m.peerId === this.identity.peerId) return;
    const existing = this.tunnelsByPeer.get(m.peerId!);
    if (existing) {
      existing.remoteNetworks.push(dest);
      if (existing.state === 'up') this.ports.connect(this.specOf(existing));
      return;
    }
    if (!this.ports.acquireLicence(m.peerId!)) {
      this.counters.licenceDenied++;
      this.fail(key, MeshStatus.licenceExceeded, `mesh licence exhausted: no tunnel to ${m.peerId} for ${dest}, traffic stays on the hub path`);
      this.sendToHub({ type: 'result', requestId: m.requestId, destination: dest, status: MeshStatus.licenceExceeded });
      return;
    }
    const t: MeshTunnel = {
      peerId: m.peerId!,
      endpoint: m.endpoint!,
      localNetworks: [...this.identity.networks],
      remoteNetworks: [dest],
      state: 'connecting',
      initiator: 'local',
      // An offer answering our own resolve (a destination we asked the hub about) comes from a hub redirect.
      trigger: this.backoffKeysCoveredBy(dest).concat(key).some((k) => this.resolved.has(k)) ? 'hub-redirect' : 'egress',
      createdAt: this.clock.now(),
      switchovers: 0,
      routed: new Set(),
    };
    this.tunnelsByPeer.set(t.peerId, t);
    this.ports.log('info', `mesh: building direct tunnel to ${t.peerId} at ${fmtEndpoint(t.endpoint)} for ${dest}`);
    this.ports.connect(this.specOf(t));
  }

  private onRefused(m: MeshMessage): void {
    this.counters.refusalsReceived++;
    const key = this.pendingKeyFor(m.destination!, m.source);
    this.fail(key, m.status ?? MeshStatus.policyDenied, `mesh request for ${m.source ?? m.destination} refused by the hub: ${m.reason ?? meshStatusName(m.status ?? 0)}`);
  }

  private onRedirect(m: MeshMessage): void {
    const dest = m.destination!;
    if (this.tunnelCovering(dest.split('/')[0]!)) return;
    const key = dest;
    if (!this.backoff.tryRequest(key)) {
      this.counters.rateLimited++;
      return;
    }
    this.direction.set(key, 'sent');
    this.resolved.add(key);
    const src = m.source ?? this.identity.networks[0];
    if (!src) return;
    this.sendToHub({ type: 'resolve', requestId: this.nextRequestId++, source: src, destination: dest, peerId: this.identity.peerId, groupId: this.settings.groupId });
  }

  /**
   * The engine asks, during IKE_AUTH of an incoming mesh SA, whether to accept it.
   * Takes the licence slot when accepted.
   */
  acceptIncoming(peerId: string, endpoint: MeshEndpoint, remoteNetworks: string[]): { ok: true } | { ok: false; reason: MeshFailureReason } {
    if (!this.active) return { ok: false, reason: 'policy' };
    const mine = this.tunnelsByPeer.get(peerId);
    if (mine && mine.initiator === 'local' && mine.state === 'connecting') {
      // Both ends started at once: the attempt of the lower identity wins, the other is abandoned.
      if (this.identity.peerId < peerId) return { ok: false, reason: 'collision' };
      this.ports.cancelConnect(peerId);
      mine.initiator = 'remote';
      mine.endpoint = endpoint;
      return { ok: true };
    }
    if (mine) return { ok: true };
    if (!this.ports.acquireLicence(peerId)) {
      this.counters.licenceDenied++;
      for (const n of remoteNetworks) this.fail(n, MeshStatus.licenceExceeded, `mesh licence exhausted: refused the tunnel from ${peerId}`);
      return { ok: false, reason: 'licence' };
    }
    this.tunnelsByPeer.set(peerId, {
      peerId,
      endpoint,
      localNetworks: [...this.identity.networks],
      remoteNetworks: [...remoteNetworks],
      state: 'connecting',
      initiator: 'remote',
      trigger: this.settings.trigger,
      createdAt: this.clock.now(),
      switchovers: 0,
      routed: new Set(),
    });
    return { ok: true };
  }

  /** The mesh SA to peerId is established with these traffic selectors. */
  tunnelUp(peerId: string, localNetworks: string[], remoteNetworks: string[]): void {
    const t = this.tunnelsByPeer.get(peerId);
    if (!t) {
      this.ports.log('warn', `mesh: tunnel up for unknown peer ${peerId}; deleting it`);
      this.ports.disconnect(peerId, 'not requested');
      return;
    }
    const wasUp = t.state === 'up';
    t.state = 'up';
    t.upAt ??= this.clock.now();
    t.localNetworks = localNetworks;
    for (const n of remoteNetworks) if (!t.remoteNetworks.includes(n)) t.remoteNetworks.push(n);
    if (!wasUp) this.counters.tunnelsUp++;
    for (const remote of t.remoteNetworks) {
      if (t.routed.has(remote)) continue;
      this.ports.installRoute(remote, peerId, this.settings.adminDistance);
      t.routed.add(remote);
      if (this.settings.switchover === 'move') this.recordMoves(peerId, this.ports.moveFlows(localNetworks, remote, peerId), 'to-mesh', t);
      else {
        const n = this.ports.pinFlows(localNetworks, remote);
        if (n) this.ports.log('info', `mesh: ${n} running flow(s) to ${remote} stay on the hub path (Switchover pin)`);
      }
      for (const key of this.backoffKeysCoveredBy(remote)) {
        this.backoff.succeeded(key);
        this.lastStatus.set(key, MeshStatus.ok);
      }
      const key = remote;
      this.backoff.succeeded(key);
      this.lastStatus.set(key, MeshStatus.ok);
      if (t.initiator === 'local') this.sendToHub({ type: 'result', requestId: 0, destination: remote, status: MeshStatus.ok });
    }
    this.ports.log('info', `mesh: direct tunnel to ${peerId} up for ${t.remoteNetworks.join(', ')}`);
    this.armIdleTimer(t);
  }

  /** Building the mesh SA failed; traffic stays on the hub path. */
  tunnelFailed(peerId: string, reason: MeshFailureReason, detail = ''): void {
    const t = this.tunnelsByPeer.get(peerId);
    if (!t) return;
    this.counters.tunnelsFailed++;
    this.tunnelsByPeer.delete(peerId);
    t.idleTimer?.cancel();
    this.ports.releaseLicence(peerId);
    const status = FAILURE_STATUS[reason];
    for (const remote of t.remoteNetworks) {
      const keys = [remote, ...this.backoffKeysCoveredBy(remote)];
      for (const key of new Set(keys)) this.fail(key, status, `mesh tunnel to ${peerId} failed (${reason}${detail ? `: ${detail}` : ''}); traffic stays on the hub path`);
      if (t.initiator === 'local') this.sendToHub({ type: 'result', requestId: 0, destination: remote, status, reason: detail || reason });
    }
  }

  /** The mesh SA to peerId is gone (deleted by either end, DPD, idle). */
  tunnelDown(peerId: string, reason: string): void {
    const t = this.tunnelsByPeer.get(peerId);
    if (!t) return;
    this.tunnelsByPeer.delete(peerId);
    t.idleTimer?.cancel();
    for (const remote of t.routed) {
      this.ports.withdrawRoute(remote, peerId);
      this.recordMoves(peerId, this.ports.moveFlows(t.localNetworks, remote, 'hub'), 'to-hub', t);
    }
    this.ports.releaseLicence(peerId);
    this.ports.log('info', `mesh: direct tunnel to ${peerId} down (${reason}); routes fall back to the hub`);
  }

  // ---- idle teardown -----------------------------------------------------------------

  private armIdleTimer(t: MeshTunnel): void {
    t.idleTimer?.cancel();
    delete t.idleTimer;
    const holdMs = this.settings.shortHoldSec * 1000;
    if (holdMs <= 0) return;
    const last = Math.max(this.ports.lastActivity(t.peerId) ?? 0, t.upAt ?? 0);
    const due = Math.max(0, last + holdMs - this.clock.now());
    t.idleTimer = this.clock.setTimer(due, () => this.checkIdle(t));
  }

  private checkIdle(t: MeshTunnel): void {
    if (this.tunnelsByPeer.get(t.peerId) !== t || t.state !== 'up') return;
    const holdMs = this.settings.shortHoldSec * 1000;
    const last = Math.max(this.ports.lastActivity(t.peerId) ?? 0, t.upAt ?? 0);
    if (this.clock.now() - last >= holdMs) {
      this.counters.idleTeardowns++;
      t.state = 'closing';
      this.ports.log('info', `mesh: tunnel to ${t.peerId} idle for ${this.settings.shortHoldSec} s: removing it`);
      this.ports.disconnect(t.peerId, 'idle');
      return;
    }
    // In use: keep the mapping valid, look again when it could next be idle.
    for (const remote of t.remoteNetworks) this.backoff.refresh(remote);
    this.armIdleTimer(t);
  }

  // ---- queries for show commands -----------------------------------------------------

  tunnels(): readonly MeshTunnel[] {
    return [...this.tunnelsByPeer.values()];
  }

  tunnelTo(peerId: string): MeshTunnel | undefined {
    return this.tunnelsByPeer.get(peerId);
  }

  requestedPrefixes(): RequestedPrefixRow[] {
    const rows: RequestedPrefixRow[] = [];
    for (const key of this.backoff.keys()) {
      const s = this.backoff.get(key)!;
      const row: RequestedPrefixRow = {
        prefix: key,
        requests: s.requests,
        direction: this.direction.get(key) ?? 'sent',
        status: s.lastFailure ? meshStatusName(this.lastStatus.get(key) ?? MeshStatus.ikeError) : this.lastStatus.has(key) ? meshStatusName(this.lastStatus.get(key)!) : 'pending',
        rateLimitedForMs: this.backoff.rateLimitedForMs(key),
        validForMs: this.backoff.validForMs(key),
      };
      if (s.lastRequestAt !== undefined) row.lastRequestAt = s.lastRequestAt;
      rows.push(row);
    }
    return rows.sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  switchovers(): { records: readonly SwitchoverRecord[]; toMesh: number; toHub: number; packetsBefore: number } {
    return { records: this.switchoverLog, ...this.switchoverTotal };
  }

  /** `show mesh why <address>`: why traffic to address takes the path it takes, in one answer. */
  why(address: string): WhyAnswer {
    if (networkOf(this.identity.networks, address)) return { path: 'local', reason: 'local-network', text: `${address} is in this node's own networks` };
    if (!this.active) return { path: 'hub', reason: 'mesh-disabled', text: `mesh is off here (Operation-Mode ${this.settings.operationMode}): traffic to ${address} takes the hub path` };
    const t = this.tunnelCovering(address);
    if (t?.state === 'up') {
      const idle = Math.round((this.clock.now() - Math.max(this.ports.lastActivity(t.peerId) ?? 0, t.upAt ?? 0)) / 1000);
      return { path: 'direct', reason: 'mesh-up', text: `direct: mesh tunnel to ${t.peerId} at ${fmtEndpoint(t.endpoint)} (idle ${idle} s of ${this.settings.shortHoldSec} s)` };
    }
    if (t) return { path: 'hub', reason: 'mesh-connecting', text: `hub path for now: the mesh tunnel to ${t.peerId} at ${fmtEndpoint(t.endpoint)} is being built` };
    for (const key of this.backoff.keys()) {
      if (!containsAddress(key, address)) continue;
      const s = this.backoff.get(key)!;
      const waitS = Math.ceil(this.backoff.rateLimitedForMs(key) / 1000);
      if (s.lastFailure) {
        const status = this.lastStatus.get(key);
        return {
          path: 'hub',
          reason: status === MeshStatus.policyDenied || status === MeshStatus.groupNotAccepted ? 'refused' : 'failed',
          text: `hub path: ${s.lastFailure}${waitS > 0 ? `; next request allowed in ${waitS} s` : ''}`,
        };
      }
      if (waitS > 0) return { path: 'hub', reason: 'waiting-for-hub', text: `hub path: mesh request sent ${Math.round((this.clock.now() - (s.lastRequestAt ?? 0)) / 1000)} s ago, waiting for the hub's answer (rate-limited for ${waitS} s)` };
    }
    return {
      path: 'hub',
      reason: 'no-request-yet',
      text: `hub path: no mesh request for ${address} yet (the first packets of a conversation always take the hub path)`,
    };
  }

  // ---- helpers -------------------------------------------------------------------------

  private announce(): void {
    this.sendToHub({
      type: 'announce',
      requestId: 0,
      groupId: this.settings.groupId,
      acceptedGroupIds: this.settings.acceptedGroupIds,
      nodeName: this.identity.name,
      peerId: this.identity.peerId,
      ...(this.identity.publicEndpoint ? { endpoint: this.identity.publicEndpoint } : {}),
    });
  }

  private sendToHub(m: MeshMessage): void {
    if (this.ports.sendToHub(m)) {
      if (m.type === 'shortcutRequest' || m.type === 'resolve') this.counters.requestsSent++;
    } else {
      this.ports.log('warn', `mesh: cannot send ${m.type}: no tunnel to a hub that runs meshgate`);
    }
  }

  private fail(key: string, status: number, text: string): void {
    this.backoff.failed(key, text);
    this.lastStatus.set(key, status);
    this.ports.log('warn', `mesh: ${text}`);
  }

  private specOf(t: MeshTunnel) {
    return { peerId: t.peerId, endpoint: t.endpoint, localNetworks: t.localNetworks, remoteNetworks: t.remoteNetworks };
  }

  private tunnelCovering(address: string): MeshTunnel | undefined {
    for (const t of this.tunnelsByPeer.values()) if (t.remoteNetworks.some((n) => containsAddress(n, address))) return t;
    return undefined;
  }

  private pendingKeyFor(destination: string, source: string | undefined): string {
    // Egress requests are keyed by the remote host (the request's source); resolves by destination.
    if (source && this.direction.get(source) === 'sent') return source;
    return destination;
  }

  /** Backoff keys are the prefixes asked about: host prefixes for egress requests, offered networks otherwise. */
  private backoffKeysCoveredBy(prefix: string): string[] {
    return [...this.backoff.keys()].filter((k) => k !== prefix && coversPrefix(prefix, k));
  }

  private recordMoves(peerId: string, moves: FlowMove[], direction: 'to-mesh' | 'to-hub', t: MeshTunnel): void {
    const at = this.clock.now();
    for (const mv of moves) {
      this.switchoverLog.push({ ...mv, at, peerId, direction });
      if (this.switchoverLog.length > SWITCHOVER_LOG_SIZE) this.switchoverLog.shift();
      if (direction === 'to-mesh') {
        this.switchoverTotal.toMesh++;
        this.switchoverTotal.packetsBefore += mv.packetsBefore;
        t.switchovers++;
        this.counters.switchedFlows++;
      } else this.switchoverTotal.toHub++;
    }
  }
}

function fmtEndpoint(e: MeshEndpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
