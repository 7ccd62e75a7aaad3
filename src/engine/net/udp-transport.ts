import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { TransportOpenError } from './errors.js';
import type { Endpoint, ReceiveHandler, Transport } from './types.js';

export interface UdpTransportOptions {
  /** Address to bind; '::' (default) is dual-stack and carries IPv4 and IPv6 peers. */
  address?: string;
  /** Port to bind; 0 picks a free one (tests). Default 4500. */
  port?: number;
  /** Socket buffer sizes in bytes; larger buffers absorb bursts on the ESP path. */
  bufferSize?: number;
}

export interface UdpCounters {
  rxDatagrams: number;
  txDatagrams: number;
  txErrors: number;
  rxNoHandler: number;
}

const V4_MAPPED = '::ffff:';

/** One real UDP socket carrying IKE and ESP (RFC 3948) for a node. */
export class UdpTransport implements Transport {
  readonly counters: UdpCounters = { rxDatagrams: 0, txDatagrams: 0, txErrors: 0, rxNoHandler: 0 };
  private handler: ReceiveHandler | undefined;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
    private readonly dualStack: boolean,
  ) {
    socket.on('message', (msg, rinfo) => {
      this.counters.rxDatagrams++;
      const h = this.handler;
      if (!h) {
        this.counters.rxNoHandler++;
        return;
      }
      const address = rinfo.address.startsWith(V4_MAPPED) && isIPv4(rinfo.address.slice(V4_MAPPED.length))
        ? rinfo.address.slice(V4_MAPPED.length)
        : rinfo.address;
      h(msg, { address, port: rinfo.port });
    });
    // Errors after bind (e.g. ICMP port unreachable surfaced by the kernel) must not kill the node.
    socket.on('error', () => {
      this.counters.txErrors++;
    });
  }

  static async open(options: UdpTransportOptions = {}): Promise<UdpTransport> {
    const address = options.address ?? '::';
    const port = options.port ?? 4500;
    if (!isIPv4(address) && !isIPv6(address)) throw new TransportOpenError(`bind address '${address}' is not an IP address`);
    const v6 = isIPv6(address);
    const socket = dgram.createSocket({
      type: v6 ? 'udp6' : 'udp4',
      ipv6Only: false,
      reuseAddr: false,
      recvBufferSize: options.bufferSize ?? 4 << 20,
      sendBufferSize: options.bufferSize ?? 4 << 20,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new TransportOpenError(`cannot bind UDP ${address} port ${port}: ${err.message}`, { cause: err }));
      socket.once('error', onError);
      socket.bind(port, address, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const bound = socket.address();
    return new UdpTransport(socket, { address: bound.address, port: bound.port }, v6);
  }

  send(payload: Uint8Array, to: Endpoint): boolean {
    if (this.closed) return false;
    const address = this.dualStack && isIPv4(to.address) ? V4_MAPPED + to.address : to.address;
    try {
      this.socket.send(payload, to.port, address, (err) => {
        if (err) this.counters.txErrors++;
      });
      this.counters.txDatagrams++;
      return true;
    } catch {
      this.counters.txErrors++;
      return false;
    }
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
