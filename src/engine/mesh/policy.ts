import ipaddr from 'ipaddr.js';

/**
 * The hub's decision which spokes may mesh with which (DESIGN.md: "Policy: which
 * spokes may mesh with which is the hub's decision"), from the LCOS Mesh settings:
 * the Forwarding-Filter table and the Group-ID / Accepted-Group-IDs pair.
 */

export type FilterAction = 'allow' | 'deny';

export interface ForwardingFilterEntry {
  /** IPv4 or IPv6 prefix in CIDR notation. */
  prefix: string;
  /** Routing tag the entry applies to; 0 matches every tag. */
  routingTag: number;
  action: FilterAction;
}

interface CompiledEntry {
  net: [ipaddr.IPv4 | ipaddr.IPv6, number];
  routingTag: number;
  action: FilterAction;
}

export type PolicyVerdict =
  | { allowed: true }
  | { allowed: false; reason: 'filter-deny' | 'group-not-accepted' | 'same-spoke'; detail: string };

/**
 * The Forwarding-Filter, an ordered table: the first entry that covers the requested
 * prefix (and whose routing tag matches; tag 0 matches every tag) decides, as in an
 * access list. With no covering entry the request is allowed, so an empty table allows
 * everything and a final `0.0.0.0/0 deny` turns the table into an allow-list.
 */
export class ForwardingFilter {
  private readonly entries: CompiledEntry[];

  constructor(entries: readonly ForwardingFilterEntry[]) {
    this.entries = entries.map((e) => ({ net: ipaddr.parseCIDR(e.prefix), routingTag: e.routingTag, action: e.action }));
  }

  /** The action for a destination prefix (CIDR) under a routing tag. */
  decide(prefix: string, routingTag = 0): { action: FilterAction; entry?: string } {
    const [addr, len] = ipaddr.parseCIDR(prefix);
    for (const e of this.entries) {
      if (e.net[0].kind() !== addr.kind()) continue;
      if (e.routingTag !== 0 && e.routingTag !== routingTag) continue;
      if (e.net[1] > len) continue; // the entry is narrower than the request: it does not cover it
      if (addr.match(e.net as [ipaddr.IPv4, number])) {
        return { action: e.action, entry: `${e.net[0].toString()}/${e.net[1]}` };
      }
    }
    return { action: 'allow' };
  }
}

export interface MeshPolicyConfig {
  filter: readonly ForwardingFilterEntry[];
}

export interface SpokeIdentity {
  name: string;
  /** The spoke's Group-ID (LCOS: 0 = no group). */
  groupId: number;
  /** Group IDs this spoke accepts mesh tunnels with; empty accepts its own group only. */
  acceptedGroupIds: readonly number[];
}

/**
 * Decides at the hub whether a mesh request from `requester` (who wants to reach
 * `prefix` behind `target`) may be relayed.
 */
export class MeshPolicy {
  private readonly filter: ForwardingFilter;

  constructor(config: MeshPolicyConfig) {
    this.filter = new ForwardingFilter(config.filter);
  }

  check(requester: SpokeIdentity, target: SpokeIdentity, prefix: string, routingTag = 0): PolicyVerdict {
    if (requester.name === target.name) {
      return { allowed: false, reason: 'same-spoke', detail: `${requester.name} asked for a mesh tunnel to itself` };
    }
    const d = this.filter.decide(prefix, routingTag);
    if (d.action === 'deny') {
      return { allowed: false, reason: 'filter-deny', detail: `forwarding filter ${d.entry ?? ''} denies ${prefix}`.replace('  ', ' ') };
    }
    if (!accepts(target, requester.groupId)) {
      return { allowed: false, reason: 'group-not-accepted', detail: `${target.name} does not accept group ${requester.groupId}` };
    }
    if (!accepts(requester, target.groupId)) {
      return { allowed: false, reason: 'group-not-accepted', detail: `${requester.name} does not accept group ${target.groupId}` };
    }
    return { allowed: true };
  }
}

function accepts(spoke: SpokeIdentity, groupId: number): boolean {
  return spoke.acceptedGroupIds.length === 0 ? groupId === spoke.groupId : spoke.acceptedGroupIds.includes(groupId);
}
