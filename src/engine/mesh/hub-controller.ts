/**
 * The mesh controller of a hub (Operation-Mode Hub). The hub never carries mesh tunnels
 * itself; it decides and relays:
 *
 *  - shortcutRequest from B (egress trigger): find the spoke A that owns the request's
 *    source, check policy (forwarding filter, groups), and relay a shortcutOffer with
 *    B's endpoint and identity to A inside A's SA. One request in flight per pair.
 *  - hairpinned traffic (hub-redirect trigger): tell the sending spoke, rate-limited,
 *    to resolve the destination; answer its resolve with an offer for the owner.
 *  - result from the initiator: the outcome, for the Requested-Prefixes status table.
 *
 * Mesh messages are accepted only from spokes (the engine hands them over with the
 * static peer whose SA they arrived in); anything else is refused and counted.
 */
import type { Clock } from '../clock.js';
import { MeshStatus, meshStatusName, stringifyMeshMessage, type MeshMessage } from './messages.js';
import { hostPrefix, networkOf, prefixAddress } from './networks.js';
import { MeshPolicy, type SpokeIdentity } from './policy.js';
import { RequestBackoff } from './request-backoff.js';
import type { HubSpokeInfo, MeshHubPorts, MeshSettings } from './types.js';

export interface HubRequestRow {
  requester: string;
  target: string;
  prefix: string;
  direction: 'egress' | 'hub-redirect';
  requests: number;
  lastRequestAt: number;
  status: string;
  reason?: string;
  validUntil?: number;
}

export interface HubCounters {
  requests: number;
  relayed: number;
  deduplicated: number;
  refused: number;
  redirects: number;
  redirectsRateLimited: number;
  results: number;
  unexpected: number;
}

/** How long a relayed request blocks a second one for the same pair without a result. */
const IN_FLIGHT_MS = 15_000;
const MAX_ROWS = 10_000;

interface Group {
  groupId: number;
  acceptedGroupIds: number[];
}

export class MeshHubController {
  readonly counters: HubCounters = { requests: 0, relayed: 0, deduplicated: 0, refused: 0, redirects: 0, redirectsRateLimited: 0, results: 0, unexpected: 0 };
  private policy: MeshPolicy;
  private readonly groups = new Map<string, Group>();
  private readonly announcedEndpoint = new Map<string, { address: string; port: number }>();
  /** The identity a spoke's mesh tunnels authenticate with (its template's local ID). */
  private readonly announcedPeerId = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  private readonly rows = new Map<string, HubRequestRow>();
  private readonly redirectLimiter: RequestBackoff;
  private nextRequestId = 1;

  constructor(
    private readonly ports: MeshHubPorts,
    private readonly clock: Clock,
    private settings: MeshSettings,
  ) {
    this.policy = new MeshPolicy({ filter: settings.forwardingFilter });
    this.redirectLimiter = new RequestBackoff(settings, () => clock.now());
  }

  updateSettings(settings: MeshSettings): void {
    this.settings = settings;
    this.policy = new MeshPolicy({ filter: settings.forwardingFilter });
    this.redirectLimiter.update(settings);
  }

  private get active(): boolean {
    return this.settings.operationMode === 'Hub';
  }

  /** A mesh message that arrived inside the SA of static peer `from`. */
  onMeshMessage(from: string, m: MeshMessage): void {
    const spoke = this.ports.spoke(from);
    if (!spoke) {
      this.counters.unexpected++;
      this.ports.log('warn', `mesh: ${stringifyMeshMessage(m)} from ${from}, which is not a spoke of this hub: ignored`);
      return;
    }
    switch (m.type) {
      case 'announce':
        this.groups.set(from, { groupId: m.groupId ?? 0, acceptedGroupIds: m.acceptedGroupIds ?? [] });
        if (m.endpoint) this.announcedEndpoint.set(from, m.endpoint);
        else this.announcedEndpoint.delete(from);
        if (m.peerId) this.announcedPeerId.set(from, m.peerId);
        return;
      case 'shortcutRequest':
        return this.onRequest(spoke, m);
      case 'resolve':
        return this.onResolve(spoke, m);
      case 'result':
        return this.onResult(spoke, m);
      default:
        this.counters.unexpected++;
        this.ports.log('warn', `mesh: unexpected ${stringifyMeshMessage(m)} from spoke ${from}`);
    }
  }

  /** Egress trigger: B (requester) saw traffic from `source` for its `destination`. */
  private onRequest(b: HubSpokeInfo, m: MeshMessage): void {
    this.counters.requests++;
    const srcAddr = prefixAddress(m.source!);
    const a = this.ports.spokeFor(srcAddr);
    const row = this.row(b.name, a?.name ?? '?', m.destination!, 'egress');
    const refuse = (status: number, reason: string) => {
      this.counters.refused++;
      row.status = meshStatusName(status);
      row.reason = reason;
      this.ports.log('warn', `mesh: refused request of ${b.name} for ${m.source}: ${reason}`);
      this.ports.sendToSpoke(b.name, { type: 'refused', requestId: m.requestId, source: m.source!, destination: m.destination!, status, reason });
    };
    if (!this.active) return refuse(MeshStatus.hubDisabled, 'mesh is disabled at the hub');
    if (!a) return refuse(MeshStatus.unknownDestination, `no spoke of this hub owns ${srcAddr}`);
    const aNet = networkOf(a.networks, srcAddr) ?? m.source!;
    const verdict = this.check(b, a, [m.destination!, aNet]);
    if (verdict) return refuse(verdict.status, verdict.reason);
    if (!this.startRelay(a.name, b.name, row)) return;
    this.ports.sendToSpoke(a.name, {
      type: 'shortcutOffer',
      requestId: m.requestId,
      source: aNet,
      destination: m.destination!,
      endpoint: m.endpoint!,
      peerId: m.peerId!,
      validitySec: this.settings.requestValiditySec,
      ...(m.nodeName ? { nodeName: m.nodeName } : {}),
    });
  }

  /** Hub-redirect: A asks who owns `destination`. */
  private onResolve(a: HubSpokeInfo, m: MeshMessage): void {
    this.counters.requests++;
    const dstAddr = prefixAddress(m.destination!);
    const b = this.ports.spokeFor(dstAddr);
    const row = this.row(a.name, b?.name ?? '?', m.destination!, 'hub-redirect');
    const refuse = (status: number, reason: string) => {
      this.counters.refused++;
      row.status = meshStatusName(status);
      row.reason = reason;
      this.ports.sendToSpoke(a.name, { type: 'refused', requestId: m.requestId, source: m.source!, destination: m.destination!, status, reason });
    };
    if (!this.active) return refuse(MeshStatus.hubDisabled, 'mesh is disabled at the hub');
    if (!b) return refuse(MeshStatus.unknownDestination, `no spoke of this hub owns ${dstAddr}`);
    const bNet = networkOf(b.networks, dstAddr) ?? m.destination!;
    const verdict = this.check(a, b, [bNet, m.source!]);
    if (verdict) return refuse(verdict.status, verdict.reason);
    // Only an announced public endpoint will do: the address the hub sees may be a NAT's.
    const endpoint = this.announcedEndpoint.get(b.name);
    if (!endpoint) return refuse(MeshStatus.notPublic, `${b.name} has no public endpoint`);
    if (!this.startRelay(a.name, b.name, row)) return;
    this.ports.sendToSpoke(a.name, {
      type: 'shortcutOffer',
      requestId: m.requestId,
      source: m.source!,
      destination: bNet,
      endpoint,
      peerId: this.announcedPeerId.get(b.name) ?? b.peerId,
      validitySec: this.settings.requestValiditySec,
      nodeName: b.name,
    });
  }

  /**
   * One request in flight per pair of spokes: false (counted) while another one for the same
   * pair is younger than IN_FLIGHT_MS; else marks the row relayed.
   */
  private startRelay(a: string, b: string, row: HubRequestRow): boolean {
    const pair = pairKey(a, b);
    const since = this.inFlight.get(pair);
    if (since !== undefined && this.clock.now() - since < IN_FLIGHT_MS) {
      this.counters.deduplicated++;
      return false;
    }
    this.inFlight.set(pair, this.clock.now());
    row.status = 'relayed';
    row.validUntil = this.clock.now() + this.settings.requestValiditySec * 1000;
    this.counters.relayed++;
    return true;
  }

  private onResult(from: HubSpokeInfo, m: MeshMessage): void {
    this.counters.results++;
    const other = this.ports.spokeFor(prefixAddress(m.destination!));
    if (!other) return;
    this.inFlight.delete(pairKey(from.name, other.name));
    // The result is about the offer for `destination`: the row of that pair and prefix.
    for (const key of [`${other.name}|${from.name}|${m.destination}`, `${from.name}|${other.name}|${m.destination}`]) {
      const row = this.rows.get(key);
      if (!row) continue;
      row.status = meshStatusName(m.status ?? 0);
      if (m.reason) row.reason = m.reason;
      else delete row.reason;
    }
  }

  /**
   * Hub-redirect trigger: the hub forwarded a packet from spoke `from` back out to spoke
   * `to`. Tell `from`, rate-limited per destination, to resolve it.
   */
  onHairpin(from: string, to: string, src: string, dst: string): void {
    if (!this.active || this.settings.trigger !== 'hub-redirect') return;
    const target = this.ports.spoke(to);
    const sender = this.ports.spoke(from);
    if (!target || !sender) return;
    const key = `${from}>${networkOf(target.networks, dst) ?? hostPrefix(dst)}`;
    if (!this.redirectLimiter.tryRequest(key)) {
      this.counters.redirectsRateLimited++;
      return;
    }
    this.counters.redirects++;
    this.ports.sendToSpoke(from, {
      type: 'redirect',
      requestId: this.nextRequestId++,
      source: networkOf(sender.networks, src) ?? hostPrefix(src),
      destination: hostPrefix(dst),
    });
  }

  requestRows(): HubRequestRow[] {
    return [...this.rows.values()].sort((x, y) => y.lastRequestAt - x.lastRequestAt);
  }

  groupOf(spoke: string): Group | undefined {
    return this.groups.get(spoke);
  }

  /** Policy for a conversation between the two spokes' networks: both must pass the filter. */
  private check(requester: HubSpokeInfo, target: HubSpokeInfo, prefixes: string[]): { status: number; reason: string } | undefined {
    const r = this.identityOf(requester);
    const t = this.identityOf(target);
    // The hub's own Accepted-Group-IDs: which groups it relays for (empty: all).
    if (this.settings.acceptedGroupIds.length > 0 && !this.settings.acceptedGroupIds.includes(r.groupId)) {
      return { status: MeshStatus.groupNotAccepted, reason: `the hub does not accept group ${r.groupId}` };
    }
    for (const prefix of prefixes) {
      const v = this.policy.check(r, t, prefix);
      if (!v.allowed) return { status: v.reason === 'group-not-accepted' ? MeshStatus.groupNotAccepted : MeshStatus.policyDenied, reason: v.detail };
    }
    return undefined;
  }

  private identityOf(s: HubSpokeInfo): SpokeIdentity {
    const g = this.groups.get(s.name);
    return { name: s.name, groupId: g?.groupId ?? 0, acceptedGroupIds: g?.acceptedGroupIds ?? [] };
  }

  private row(requester: string, target: string, prefix: string, direction: HubRequestRow['direction']): HubRequestRow {
    const key = `${requester}|${target}|${prefix}`;
    let row = this.rows.get(key);
    if (!row) {
      if (this.rows.size >= MAX_ROWS) {
        const oldest = this.requestRows().at(-1);
        if (oldest) this.rows.delete(`${oldest.requester}|${oldest.target}|${oldest.prefix}`);
      }
      row = { requester, target, prefix, direction, requests: 0, lastRequestAt: 0, status: 'pending' };
      this.rows.set(key, row);
    }
    row.requests++;
    row.lastRequestAt = this.clock.now();
    return row;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
