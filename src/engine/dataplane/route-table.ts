/**
 * The route table: longest-prefix match for IPv4 and IPv6 over routes from several sources
 * (connected, static, IKEv2-learned, mesh, site directory).
 *
 * Selection: the most specific prefix that has a route wins; among the routes of that
 * prefix, the lowest distance, then the lowest metric, then the oldest.
 *
 * Representation: one path-compressed binary trie per family (as wireguard-go's
 * allowedips), keyed by the address bytes themselves (Uint8Array, 4 or 16 bytes). A node
 * exists only where a prefix has routes or two subtrees fork, so the trie has fewer than
 * 2N nodes for N prefixes. Lookup walks from the root comparing bits of the destination
 * address read straight from the packet buffer: O(prefix length), no allocation, no bigint
 * (a bigint per IPv6 lookup would allocate on the hot path).
 */
import { familyBits, formatPrefix, makePrefix, parsePrefix, type IpFamily, type Prefix } from './address.js';
import { RouteError } from './errors.js';

export type RouteSource = 'connected' | 'static' | 'ike' | 'mesh' | 'site';

/** Where a matching packet goes. The forwarding stage interprets it; the table does not. */
export type NextHop =
  /** Into an IPsec child SA (the ESP module's SA id). */
  | { kind: 'sa'; id: string | number }
  /** Out of a LAN port (by name; omitted: the node's only/primary LAN port). */
  | { kind: 'lan'; port?: string }
  /** To the node itself (its own addresses): ping replies, IKE. */
  | { kind: 'local' }
  /** Dropped with ICMP administratively prohibited / unreachable. */
  | { kind: 'reject' }
  /** A base route of the site directory: look the site up, then build the tunnel. */
  | { kind: 'site-directory'; directoryId: string };

/** Default administrative distances per source (lower wins among equal prefixes). */
export const DEFAULT_DISTANCE: Readonly<Record<RouteSource, number>> = {
  connected: 0,
  static: 1,
  mesh: 5,
  site: 10,
  ike: 20,
};

export interface RouteInput {
  prefix: Prefix | string;
  source: RouteSource;
  target: NextHop;
  distance?: number;
  metric?: number;
  /** Free text for `show routes` (peer name, site id). */
  comment?: string;
}

export interface Route {
  readonly prefix: Prefix;
  readonly source: RouteSource;
  readonly target: NextHop;
  readonly distance: number;
  readonly metric: number;
  readonly comment?: string;
  /** Insertion sequence: ties of distance and metric go to the oldest. */
  readonly seq: number;
  /** Clock time the route was installed. */
  readonly installedAt: number;
}

interface TrieNode {
  /** Prefix bits (masked to cidr). */
  bits: Uint8Array;
  /**
   * The same bits as big-endian 32-bit words (int32, so they stay small integers inside the
   * node object): lookups compare these and never touch `bits`, one memory access per node.
   */
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  cidr: number;
  zero: TrieNode | null;
  one: TrieNode | null;
  /** Routes of exactly this prefix, best first; empty for a fork node. */
  routes: Route[];
  /** routes[0] or null, kept in the node itself so a lookup step touches one object. */
  top: Route | null;
}

/** Identity of a route within the table: prefix + source + target. */
export function nextHopKey(t: NextHop): string {
  switch (t.kind) {
    case 'sa':
      return `sa:${typeof t.id}:${t.id}`;
    case 'lan':
      return `lan:${t.port ?? ''}`;
    case 'site-directory':
      return `site-directory:${t.directoryId}`;
    default:
      return t.kind;
  }
}

function bitAt(bytes: Uint8Array, offset: number, bit: number): number {
  return (bytes[offset + (bit >>> 3)]! >>> (7 - (bit & 7))) & 1;
}

/** Number of leading bits in which a[0..] and b[bOff..] agree, at most `max`. */
function commonBits(a: Uint8Array, b: Uint8Array, bOff: number, max: number): number {
  const bytes = max >>> 3;
  let i = 0;
  for (; i < bytes; i++) {
    const x = a[i]! ^ b[bOff + i]!;
    if (x !== 0) return Math.min(max, i * 8 + Math.clz32(x) - 24);
  }
  if ((max & 7) === 0) return max;
  const x = a[i]! ^ b[bOff + i]!;
  return Math.min(max, i * 8 + (x === 0 ? 8 : Math.clz32(x) - 24));
}

function compareRoutes(a: Route, b: Route): number {
  return a.distance - b.distance || a.metric - b.metric || a.seq - b.seq;
}

class FamilyTrie {
  root: TrieNode | null = null;
  prefixes = 0;

  constructor(readonly maxBits: number) {}

  /** The node for exactly this prefix, creating it (and a fork above it) when needed. */
  nodeFor(p: Prefix): TrieNode {
    const key = p.bytes;
    const cidr = p.length;
    const fresh = (): TrieNode => {
      this.prefixes++;
      return makeNode(key.slice(), cidr);
    };
    // parent === null means the slot is the root
    let parent: TrieNode | null = null;
    let parentBit = 0;
    const setSlot = (n: TrieNode): void => {
      if (parent === null) this.root = n;
      else if (parentBit === 0) parent.zero = n;
      else parent.one = n;
    };
    let node: TrieNode | null = this.root;
    for (;;) {
      if (node === null) {
        const n = fresh();
        setSlot(n);
        return n;
      }
      const common = commonBits(node.bits, key, 0, Math.min(node.cidr, cidr));
      if (node.cidr === cidr && common === cidr) {
        if (node.routes.length === 0) this.prefixes++; // a fork becomes a prefix node
        return node;
      }
      if (node.cidr > cidr || common < node.cidr) break;
      parent = node;
      parentBit = bitAt(key, 0, node.cidr);
      node = parentBit === 0 ? node.zero : node.one;
    }
    // `node` does not contain the new prefix: the new node goes above it, or a fork does.
    const n = fresh();
    const common = commonBits(node.bits, key, 0, Math.min(node.cidr, cidr));
    if (common === cidr) {
      if (bitAt(node.bits, 0, cidr) === 0) n.zero = node;
      else n.one = node;
      setSlot(n);
      return n;
    }
    const forkBits = key.slice();
    maskBits(forkBits, common);
    const fork = makeNode(forkBits, common);
    if (bitAt(node.bits, 0, common) === 0) {
      fork.zero = node;
      fork.one = n;
    } else {
      fork.one = node;
      fork.zero = n;
    }
    setSlot(fork);
    return n;
  }

  /** The node of exactly this prefix with its parent chain, or undefined. */
  find(p: Prefix): { node: TrieNode; path: TrieNode[] } | undefined {
    const path: TrieNode[] = [];
    let node = this.root;
    while (node !== null) {
      if (node.cidr > p.length) return undefined;
      if (commonBits(node.bits, p.bytes, 0, node.cidr) < node.cidr) return undefined;
      if (node.cidr === p.length) return { node, path };
      path.push(node);
      node = bitAt(p.bytes, 0, node.cidr) === 0 ? node.zero : node.one;
    }
    return undefined;
  }

  /** Removes route-less nodes along `path` + `node` that no longer fork. */
  prune(node: TrieNode, path: TrieNode[]): void {
    if (node.routes.length > 0) return;
    this.prefixes--;
    let cur: TrieNode | null = node;
    for (let depth = path.length; cur !== null && depth >= 0; depth--) {
      if (cur.routes.length > 0 || (cur.zero !== null && cur.one !== null)) return;
      const only: TrieNode | null = cur.zero ?? cur.one;
      const parent = depth > 0 ? path[depth - 1]! : null;
      if (parent === null) this.root = only;
      else if (parent.zero === cur) parent.zero = only;
      else parent.one = only;
      cur = parent;
    }
  }

  /** Longest-prefix match of the address at addr[off ..] (4 or 16 bytes per maxBits). */
  lookup(addr: Uint8Array, off: number): Route | undefined {
    const a0 = word(addr, off);
    const six = this.maxBits === 128;
    const a1 = six ? word(addr, off + 4) : 0;
    const a2 = six ? word(addr, off + 8) : 0;
    const a3 = six ? word(addr, off + 12) : 0;
    let best: Route | undefined;
    let node = this.root;
    while (node !== null) {
      const c = node.cidr;
      if (!prefixMatches(node, c, a0, a1, a2, a3)) break;
      if (node.top !== null) best = node.top;
      if (c === this.maxBits) break;
      const w = c < 32 ? a0 : c < 64 ? a1 : c < 96 ? a2 : a3;
      node = ((w >>> (31 - (c & 31))) & 1) === 0 ? node.zero : node.one;
    }
    return best;
  }

  *walk(): Generator<TrieNode> {
    const stack: TrieNode[] = [];
    if (this.root) stack.push(this.root);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.routes.length > 0) yield n;
      if (n.one) stack.push(n.one);
      if (n.zero) stack.push(n.zero);
    }
  }
}

function word(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

function makeNode(bits: Uint8Array, cidr: number): TrieNode {
  const n = bits.length;
  return {
    bits,
    w0: word(bits, 0),
    w1: n > 4 ? word(bits, 4) : 0,
    w2: n > 4 ? word(bits, 8) : 0,
    w3: n > 4 ? word(bits, 12) : 0,
    cidr,
    zero: null,
    one: null,
    routes: [],
    top: null,
  };
}

/** Whether the address words a0..a3 lie inside the node's prefix of length c. */
function prefixMatches(node: TrieNode, c: number, a0: number, a1: number, a2: number, a3: number): boolean {
  if (c === 0) return true;
  if (c < 32) return ((a0 ^ node.w0) & (-1 << (32 - c))) === 0;
  if (a0 !== node.w0) return false;
  if (c === 32) return true;
  if (c < 64) return ((a1 ^ node.w1) & (-1 << (64 - c))) === 0;
  if (a1 !== node.w1) return false;
  if (c === 64) return true;
  if (c < 96) return ((a2 ^ node.w2) & (-1 << (96 - c))) === 0;
  if (a2 !== node.w2) return false;
  if (c === 96) return true;
  if (c < 128) return ((a3 ^ node.w3) & (-1 << (128 - c))) === 0;
  return a3 === node.w3;
}

function maskBits(bytes: Uint8Array, length: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const here = length - i * 8;
    if (here >= 8) continue;
    bytes[i] = here <= 0 ? 0 : bytes[i]! & (0xff << (8 - here));
  }
}

export interface RouteTableCounters {
  routes: number;
  prefixes: number;
}

/** Longest-prefix-match route table for both families. */
export class RouteTable {
  private readonly v4 = new FamilyTrie(32);
  private readonly v6 = new FamilyTrie(128);
  private seq = 0;
  private count = 0;

  /** `now` stamps each route with its install time (clock time; `show routes` ages). */
  constructor(private readonly now: () => number = () => 0) {}

  /** Adds a route; throws RouteError when the same prefix/source/target exists. */
  add(input: RouteInput): Route {
    const route = this.make(input);
    const node = this.trie(route.prefix.family).nodeFor(route.prefix);
    const key = nextHopKey(route.target);
    if (node.routes.some((r) => r.source === route.source && nextHopKey(r.target) === key)) {
      throw new RouteError(`route ${formatPrefix(route.prefix)} (${route.source} -> ${key}) already exists`);
    }
    this.insertSorted(node, route);
    return route;
  }

  /** Adds the route or replaces the one with the same prefix, source and target. */
  replace(input: RouteInput): Route {
    const route = this.make(input);
    const node = this.trie(route.prefix.family).nodeFor(route.prefix);
    const key = nextHopKey(route.target);
    const i = node.routes.findIndex((r) => r.source === route.source && nextHopKey(r.target) === key);
    if (i >= 0) {
      node.routes.splice(i, 1);
      node.top = node.routes[0] ?? null;
      this.count--;
    }
    this.insertSorted(node, route);
    return route;
  }

  /**
   * Removes routes of the prefix from `source` (and to `target` when given). Returns how
   * many were removed.
   */
  remove(prefix: Prefix | string, source: RouteSource, target?: NextHop): number {
    const p = this.prefixOf(prefix);
    const key = target === undefined ? undefined : nextHopKey(target);
    return this.removeAt(p, (r) => r.source === source && (key === undefined || nextHopKey(r.target) === key));
  }

  /** Removes every route for which `pred` holds (e.g. all routes into an SA that went down). */
  removeWhere(pred: (r: Route) => boolean): Route[] {
    const doomed = this.list().filter(pred);
    for (const r of doomed) this.removeAt(r.prefix, (x) => x === r);
    return doomed;
  }

  /** Best route for an address given as 4 or 16 bytes. */
  lookup(address: Uint8Array): Route | undefined {
    if (address.length === 4) return this.v4.lookup(address, 0);
    if (address.length === 16) return this.v6.lookup(address, 0);
    return undefined;
  }

  /** Best route for the IPv4 address at buf[off .. off+4) — straight from a packet. */
  lookup4(buf: Uint8Array, off: number): Route | undefined {
    return off >= 0 && off + 4 <= buf.length ? this.v4.lookup(buf, off) : undefined;
  }

  /** Best route for the IPv6 address at buf[off .. off+16). */
  lookup6(buf: Uint8Array, off: number): Route | undefined {
    return off >= 0 && off + 16 <= buf.length ? this.v6.lookup(buf, off) : undefined;
  }

  /** Every route of exactly this prefix, best first. */
  routesOf(prefix: Prefix | string): Route[] {
    const p = this.prefixOf(prefix);
    return [...(this.trie(p.family).find(p)?.node.routes ?? [])];
  }

  /** All routes for `show routes`: IPv4 then IPv6, by prefix address and length, best first within a prefix. */
  list(): Route[] {
    const out: Route[] = [];
    for (const t of [this.v4, this.v6]) {
      const nodes = [...t.walk()];
      nodes.sort((a, b) => compareBytes(a.bits, b.bits) || a.cidr - b.cidr);
      for (const n of nodes) out.push(...n.routes);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  counters(): RouteTableCounters {
    return { routes: this.count, prefixes: this.v4.prefixes + this.v6.prefixes };
  }

  private removeAt(p: Prefix, pred: (r: Route) => boolean): number {
    const trie = this.trie(p.family);
    const found = trie.find(p);
    if (!found) return 0;
    const before = found.node.routes.length;
    found.node.routes = found.node.routes.filter((r) => !pred(r));
    found.node.top = found.node.routes[0] ?? null;
    const removed = before - found.node.routes.length;
    this.count -= removed;
    if (removed > 0) trie.prune(found.node, found.path);
    return removed;
  }

  private insertSorted(node: TrieNode, route: Route): void {
    let i = node.routes.length;
    while (i > 0 && compareRoutes(route, node.routes[i - 1]!) < 0) i--;
    node.routes.splice(i, 0, route);
    node.top = node.routes[0]!;
    this.count++;
  }

  private trie(f: IpFamily): FamilyTrie {
    return f === 4 ? this.v4 : this.v6;
  }

  private prefixOf(prefix: Prefix | string): Prefix {
    if (typeof prefix !== 'string') {
      const p = makePrefix(prefix.bytes, prefix.length);
      if (!p) throw new RouteError(`invalid prefix (${prefix.bytes.length} bytes, /${prefix.length})`);
      return p;
    }
    const p = parsePrefix(prefix);
    if (!p) throw new RouteError(`invalid prefix '${prefix}'`);
    return p;
  }

  private make(input: RouteInput): Route {
    const prefix = this.prefixOf(input.prefix);
    const distance = input.distance ?? DEFAULT_DISTANCE[input.source];
    const metric = input.metric ?? 0;
    if (!Number.isInteger(distance) || distance < 0 || distance > 255)
      throw new RouteError(`invalid distance ${distance}: allowed 0..255`);
    if (!Number.isInteger(metric) || metric < 0) throw new RouteError(`invalid metric ${metric}`);
    if (DEFAULT_DISTANCE[input.source] === undefined) throw new RouteError(`unknown route source '${String(input.source)}'`);
    const route: Route = {
      prefix,
      source: input.source,
      target: input.target,
      distance,
      metric,
      seq: this.seq++,
      installedAt: this.now(),
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
    };
    return route;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Formats a next hop for `show routes`. */
export function formatNextHop(t: NextHop): string {
  switch (t.kind) {
    case 'sa':
      return `SA ${t.id}`;
    case 'lan':
      return t.port ? `LAN ${t.port}` : 'LAN';
    case 'local':
      return 'local';
    case 'reject':
      return 'reject';
    case 'site-directory':
      return `site directory ${t.directoryId}`;
  }
}

/** Rows for `show routes` (prefix, source, distance/metric, target, comment). */
export function routeRows(table: RouteTable): [string, string, string, string, string][] {
  return table
    .list()
    .map((r) => [formatPrefix(r.prefix), r.source, `${r.distance}/${r.metric}`, formatNextHop(r.target), r.comment ?? '']);
}

/** Bits in the family of a prefix (re-exported for callers building prefixes). */
export { familyBits };
