/**
 * What the engine needs from a network: one datagram endpoint per node that carries
 * IKE and ESP on the same port (RFC 3948). Implemented by real UDP sockets
 * (udp-transport.ts) and by the in-memory network (memory-network.ts).
 */

export interface Endpoint {
  /** Textual IPv4 or IPv6 address, canonical form (no brackets). */
  readonly address: string;
  readonly port: number;
}

export type ReceiveHandler = (payload: Uint8Array, from: Endpoint) => void;

export interface Transport {
  /** The address and port this transport is bound to. */
  readonly local: Endpoint;
  /**
   * Sends one datagram. Returns false when it could not be handed to the network
   * (closed, unroutable); never throws for network conditions.
   */
  send(payload: Uint8Array, to: Endpoint): boolean;
  /** Sets the one receive handler; datagrams arriving without one are counted and dropped. */
  onReceive(handler: ReceiveHandler): void;
  close(): Promise<void>;
}

export function endpointKey(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}
