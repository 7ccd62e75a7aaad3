import type { Clock } from '../clock.js';
import { endpointKey, type Endpoint, type ReceiveHandler, type Transport } from './types.js';

/**
 * An in-memory datagram network for tests and labs: nodes attach with an address,
 * links have latency, jitter and loss drawn from a seeded generator, delivery is
 * scheduled on the injected Clock. With a FakeClock, a multi-node scenario is fully
 * deterministic and runs in milliseconds.
 *
 * A node may sit behind a NAT: its datagrams leave with the NAT's public address and
 * a mapped port, and inbound datagrams pass only from endpoints the node sent to
 * within the mapping timeout (address-and-port-dependent filtering, RFC 4787), so an
 * unsolicited mesh connection attempt to such a node fails as it would on the Internet.
 */

export interface LinkProps {
  latencyMs: number;
  jitterMs: number;
  /** Probability in [0, 1) that a datagram is lost. */
  loss: number;
}

export interface NatProps {
  publicAddress: string;
  /** How long a mapping and its permissions live without outbound traffic. */
  mappingTimeoutMs?: number;
}

export interface MemoryNetworkCounters {
  sent: number;
  delivered: number;
  lost: number;
  /** No node at the destination, node down, or link cut. */
  unreachable: number;
  /** Dropped by a NAT's filter (unsolicited inbound). */
  natFiltered: number;
}

const DEFAULT_LINK: LinkProps = { latencyMs: 1, jitterMs: 0, loss: 0 };
const DEFAULT_MAPPING_TIMEOUT_MS = 60_000;

/** mulberry32: small, fast, seedable; good enough to decide losses reproducibly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface NatState {
  props: NatProps;
  /** local endpoint key -> public port */
  portByLocal: Map<string, number>;
  /** public port -> local endpoint and the remotes it may hear from (remote key -> last outbound time) */
  byPublicPort: Map<number, { local: Endpoint; permits: Map<string, number>; lastUsed: number }>;
  nextPort: number;
}

export class MemoryNetwork {
  readonly counters: MemoryNetworkCounters = { sent: 0, delivered: 0, lost: 0, unreachable: 0, natFiltered: 0 };
  private readonly transports = new Map<string, MemoryTransport>();
  private readonly links = new Map<string, LinkProps>();
  private readonly cut = new Set<string>();
  private readonly down = new Set<string>();
  private readonly nats = new Map<string, NatState>();
  /** node (local) address -> NAT it sits behind */
  private readonly natOfAddress = new Map<string, NatState>();
  private readonly random: () => number;
  private defaultLink: LinkProps;

  constructor(
    readonly clock: Clock,
    options: { seed?: number; defaultLink?: Partial<LinkProps> } = {},
  ) {
    this.random = seededRandom(options.seed ?? 1);
    this.defaultLink = { ...DEFAULT_LINK, ...options.defaultLink };
  }

  /** Attaches a node's endpoint. `nat` puts the node's address behind a NAT with a public address. */
  attach(address: string, port = 4500, options: { nat?: NatProps } = {}): MemoryTransport {
    const local: Endpoint = { address, port };
    const key = endpointKey(local);
    if (this.transports.has(key)) throw new Error(`memory network: ${key} is already attached`);
    if (options.nat) {
      let nat = this.nats.get(options.nat.publicAddress);
      if (!nat) {
        nat = { props: options.nat, portByLocal: new Map(), byPublicPort: new Map(), nextPort: 40000 };
        this.nats.set(options.nat.publicAddress, nat);
      }
      this.natOfAddress.set(address, nat);
    }
    const t = new MemoryTransport(this, local);
    this.transports.set(key, t);
    return t;
  }

  /** Link properties between two addresses (both directions). */
  setLink(a: string, b: string, props: Partial<LinkProps>): void {
    const current = this.links.get(pairKey(a, b)) ?? this.defaultLink;
    this.links.set(pairKey(a, b), { ...current, ...props });
  }

  setDefaultLink(props: Partial<LinkProps>): void {
    this.defaultLink = { ...this.defaultLink, ...props };
  }

  /** Cuts (or restores) the path between two addresses in both directions. */
  setCut(a: string, b: string, isCut: boolean): void {
    if (isCut) this.cut.add(pairKey(a, b));
    else this.cut.delete(pairKey(a, b));
  }

  /** Takes a node's address off the network (a crashed or unplugged node), or back on. */
  setDown(address: string, isDown: boolean): void {
    if (isDown) this.down.add(address);
    else this.down.delete(address);
  }

  /** The address a peer sees for this endpoint (the NAT mapping if behind one). */
  publicEndpointOf(local: Endpoint): Endpoint {
    const nat = this.natOfAddress.get(local.address);
    if (!nat) return local;
    return { address: nat.props.publicAddress, port: this.natPortFor(nat, local) };
  }

  /** @internal called by MemoryTransport.send */
  transmit(from: Endpoint, payload: Uint8Array, to: Endpoint): boolean {
    this.counters.sent++;
    if (this.down.has(from.address)) {
      this.counters.unreachable++;
      return true; // the sender cannot tell; the datagram just vanishes
    }
    const now = this.clock.now();
    let source = from;
    const nat = this.natOfAddress.get(from.address);
    if (nat) {
      const port = this.natPortFor(nat, from);
      const mapping = nat.byPublicPort.get(port)!;
      mapping.permits.set(endpointKey(to), now);
      mapping.lastUsed = now;
      source = { address: nat.props.publicAddress, port };
    }
    const link = this.links.get(pairKey(from.address, to.address)) ?? this.defaultLink;
    if (link.loss > 0 && this.random() < link.loss) {
      this.counters.lost++;
      return true;
    }
    const copy = new Uint8Array(payload); // the sender may reuse its buffer at once (Buffer#slice would not copy)
    const delay = link.latencyMs + (link.jitterMs > 0 ? this.random() * link.jitterMs : 0);
    this.clock.setTimer(delay, () => this.deliver(source, from.address, copy, to));
    return true;
  }

  private deliver(source: Endpoint, senderAddress: string, payload: Uint8Array, to: Endpoint): void {
    if (this.down.has(to.address) || this.down.has(senderAddress) || this.cut.has(pairKey(senderAddress, to.address))) {
      this.counters.unreachable++;
      return;
    }
    let target: Endpoint = to;
    const nat = this.nats.get(to.address);
    if (nat) {
      const mapping = nat.byPublicPort.get(to.port);
      const timeout = nat.props.mappingTimeoutMs ?? DEFAULT_MAPPING_TIMEOUT_MS;
      const permitted = mapping?.permits.get(endpointKey(source));
      if (!mapping || permitted === undefined || this.clock.now() - permitted > timeout) {
        this.counters.natFiltered++;
        return;
      }
      target = mapping.local;
    }
    const t = this.transports.get(endpointKey(target));
    if (!t) {
      this.counters.unreachable++;
      return;
    }
    this.counters.delivered++;
    t.receive(payload, source);
  }

  private natPortFor(nat: NatState, local: Endpoint): number {
    const key = endpointKey(local);
    let port = nat.portByLocal.get(key);
    if (port === undefined) {
      port = nat.nextPort++;
      nat.portByLocal.set(key, port);
      nat.byPublicPort.set(port, { local, permits: new Map(), lastUsed: this.clock.now() });
    }
    return port;
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    this.transports.delete(endpointKey(t.local));
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export class MemoryTransport implements Transport {
  private handler: ReceiveHandler | undefined;
  private closed = false;
  rxNoHandler = 0;

  constructor(
    private readonly network: MemoryNetwork,
    readonly local: Endpoint,
  ) {}

  send(payload: Uint8Array, to: Endpoint): boolean {
    if (this.closed) return false;
    return this.network.transmit(this.local, payload, to);
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** @internal */
  receive(payload: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    if (this.handler) this.handler(payload, from);
    else this.rxNoHandler++;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.network.detach(this);
    }
    return Promise.resolve();
  }
}
