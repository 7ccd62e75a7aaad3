/**
 * An in-memory LAN port for tests and labs (wireguard-go's tuntest.ChannelTUN): `inject()`
 * delivers packets as if they came from the LAN, in batches like the TUN device; whatever the
 * node sends is collected in `sent` (bounded) and passed to an optional `onSend` listener.
 */
import { allocateBatch, type BatchHandler, type PacketBatch } from './packet-batch.js';
import { emptyLanPortCounters, type LanPort, type LanPortCounters } from './lan-port.js';

export const MEMORY_PORT_DEFAULT_MTU = 1420;
export const MEMORY_PORT_BATCH_SIZE = 64;
export const MEMORY_PORT_HEADROOM = 128;
/** Sent packets kept in `sent` at most; older ones are discarded first. */
export const MEMORY_PORT_SENT_LIMIT = 4096;

export interface MemoryLanPortOptions {
  name: string;
  mtu?: number | undefined;
  batchSize?: number;
  /** Called with a copy of every packet sent to the LAN (a lab wires this to a host model). */
  onSend?: (packet: Uint8Array) => void;
}

export class MemoryLanPort implements LanPort {
  readonly kind = 'memory' as const;
  readonly name: string;
  readonly mtu: number;
  readonly counters: LanPortCounters = emptyLanPortCounters();
  /** Packets sent to the LAN, oldest first (copies), at most MEMORY_PORT_SENT_LIMIT. */
  readonly sent: Uint8Array[] = [];
  private handler: BatchHandler | undefined;
  private readonly batch: PacketBatch;
  private readonly slotSize: number;
  private readonly onSend: ((packet: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(options: MemoryLanPortOptions) {
    this.name = options.name;
    this.mtu = options.mtu ?? MEMORY_PORT_DEFAULT_MTU;
    this.slotSize = MEMORY_PORT_HEADROOM + this.mtu;
    this.batch = allocateBatch(options.batchSize ?? MEMORY_PORT_BATCH_SIZE, this.slotSize, MEMORY_PORT_HEADROOM);
    this.onSend = options.onSend;
  }

  onReceive(handler: BatchHandler): void {
    this.handler = handler;
  }

  /**
   * Delivers packets as received from the LAN, synchronously, in batches of at most the
   * batch size. Packets longer than the MTU are dropped and counted, as a TUN would never
   * produce them. Returns the number delivered to the handler.
   */
  inject(...packets: Uint8Array[]): number {
    if (this.closed || !this.handler) {
      this.counters.rxDropped += packets.length;
      return 0;
    }
    const b = this.batch;
    let delivered = 0;
    b.count = 0;
    for (const p of packets) {
      if (p.length > this.mtu || p.length === 0) {
        this.counters.rxDropped++;
        continue;
      }
      const i = b.count;
      b.data.set(p, b.offsets[i]!);
      b.lengths[i] = p.length;
      b.count++;
      this.counters.rxPackets++;
      this.counters.rxBytes += p.length;
      if (b.count === b.offsets.length) delivered += this.flush();
    }
    if (b.count > 0) delivered += this.flush();
    return delivered;
  }

  send(packet: Uint8Array): boolean {
    if (this.closed || packet.length > this.mtu) {
      this.counters.txDropped++;
      return false;
    }
    const copy = new Uint8Array(packet);
    this.sent.push(copy);
    if (this.sent.length > MEMORY_PORT_SENT_LIMIT) this.sent.shift();
    this.counters.txPackets++;
    this.counters.txBytes += packet.length;
    this.onSend?.(copy);
    return true;
  }

  sendAt(data: Uint8Array, offset: number, length: number): boolean {
    if (offset < 0 || length < 0 || offset + length > data.length) {
      this.counters.txDropped++;
      return false;
    }
    return this.send(data.subarray(offset, offset + length));
  }

  /** Removes and returns everything collected in `sent`. */
  drainSent(): Uint8Array[] {
    return this.sent.splice(0, this.sent.length);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
  }

  private flush(): number {
    const b = this.batch;
    const n = b.count;
    this.counters.rxBatches++;
    this.handler!(b);
    b.count = 0;
    return n;
  }
}
