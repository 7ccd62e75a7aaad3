/**
 * The seams between the data plane and the modules around it. The ESP module implements
 * {@link TunnelSender} and calls {@link InboundSink.fromTunnel}; the site directory
 * implements {@link SiteTrigger}; the shell's `ping` and `trace + packet` use
 * {@link ForwardTrace} and Forwarder.originate().
 *
 *   LAN port --batch--> Forwarder.fromLan --route--> TunnelSender.send(sa)   (encrypt, UDP)
 *                                       \--route--> LanPort.send / local
 *   ESP inbound (decrypted, replay-checked) --> Forwarder.fromTunnel --route--> LAN | other SA (hub hairpin)
 */

/** Identifier of a child SA as the route table's `{ kind: 'sa', id }` names it. */
export type SaId = string | number;

/** Outbound: where packets routed into an SA go. Implemented by the ESP module. */
export interface TunnelSender {
  /**
   * The largest inner IP packet the SA carries without outer fragmentation (path MTU less
   * ESP, UDP and outer IP overhead), or undefined when the SA does not exist or is not
   * installed (the packet is then dropped as 'sa-unavailable').
   */
  innerMtu(id: SaId): number | undefined;
  /**
   * Encrypts and sends the inner packet data[offset .. offset+length). The `headroom` bytes
   * before `offset` (PacketBatch.headroom, or 0) may be overwritten to build headers in place.
   * The bytes must be consumed before returning (the buffer is reused). Returns false when
   * the packet was dropped (the sender counts why: no key, queue full, ...).
   */
  send(id: SaId, data: Uint8Array, offset: number, length: number, headroom: number): boolean;
  /**
   * Inbound policy: whether a decrypted packet with this inner source address may arrive
   * through this SA (its remote traffic selectors). Optional; absent means yes.
   */
  allowsInbound?(id: SaId, data: Uint8Array, srcOffset: number, addressLength: number): boolean;
}

/** Inbound: what the ESP module calls after decryption and the anti-replay commit. */
export interface InboundSink {
  /** Routes one decrypted inner packet data[offset .. offset+length) that arrived through SA `id`. */
  fromTunnel(id: SaId, data: Uint8Array, offset: number, length: number): void;
}

/**
 * Site directory: a packet matched a base route `{ kind: 'site-directory' }` and no dynamic
 * route exists. The directory looks the site up by destination, installs a dynamic route and
 * asks IKE for the tunnel. It may keep a copy of the packet (bounded queue) and hand it back
 * through Forwarder.forwardReleased() once the route is up: then it returns true. False: the
 * packet is dropped here (counted as 'site-pending'; the directory counts its own reason).
 */
export interface SiteTrigger {
  onSiteMiss(directoryId: string, destination: Uint8Array, packet?: Uint8Array): boolean;
}

/** Why the forwarder dropped a packet. Every drop is counted under one of these. */
export type DropReason =
  | 'malformed'
  | 'no-route'
  | 'rejected'
  | 'ttl-exceeded'
  | 'too-big'
  | 'sa-unavailable'
  | 'tunnel-send-failed'
  | 'lan-send-failed'
  | 'lan-port-missing'
  | 'policy'
  | 'reflected'
  | 'site-pending'
  | 'local-unhandled';

export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'no-route',
  'rejected',
  'ttl-exceeded',
  'too-big',
  'sa-unavailable',
  'tunnel-send-failed',
  'lan-send-failed',
  'lan-port-missing',
  'policy',
  'reflected',
  'site-pending',
  'local-unhandled',
];

/** Where a packet came from. */
export type Ingress = { kind: 'lan'; port: string } | { kind: 'sa'; id: SaId } | { kind: 'local' };

/** Where it went, or why not. One per packet when tracing is on (`trace + packet`). */
export interface ForwardTrace {
  ingress: Ingress;
  /** Source and destination as text, protocol number. */
  src: string;
  dst: string;
  protocol: number;
  /** The route chosen ('10.2.0.0/24 mesh'), if any. */
  route?: string;
  egress?: Ingress;
  hairpin?: boolean;
  /** Held by the site directory until the site's tunnel is up. */
  queued?: boolean;
  drop?: DropReason;
  /** ICMP message sent back, e.g. 'net-unreachable'. */
  icmp?: string;
}
