/**
 * A LAN port on a real TUN device: opens it, sets addresses and routes with iproute2, and
 * delivers the device's read batches. close() removes what was set up, then closes the fd.
 */
import type { BatchHandler, PacketBatch } from './packet-batch.js';
import { emptyLanPortCounters, type LanPort, type LanPortCounters } from './lan-port.js';
import { InterfaceAddressing, TunDevice, execFileRunner, type CommandRunner } from './tun-device.js';

export interface TunLanPortOptions {
  name: string;
  mtu?: number | undefined;
  addresses?: string[];
  routes?: string[];
  batchSize?: number;
  runner?: CommandRunner;
}

export class TunLanPort implements LanPort {
  readonly kind = 'tun' as const;
  private readonly own: LanPortCounters = emptyLanPortCounters();
  private handler: BatchHandler | undefined;
  private closed = false;

  private constructor(
    readonly device: TunDevice,
    readonly addressing: InterfaceAddressing,
  ) {}

  /** Opens the device and applies addresses and routes; on a failure undoes what was done. */
  static async open(options: TunLanPortOptions): Promise<TunLanPort> {
    const openOpts: Parameters<typeof TunDevice.open>[0] = { name: options.name };
    if (options.mtu !== undefined) openOpts.mtu = options.mtu;
    if (options.batchSize !== undefined) openOpts.batchSize = options.batchSize;
    const device = TunDevice.open(openOpts);
    const addressing = new InterfaceAddressing(device.name, options.runner ?? execFileRunner);
    try {
      for (const a of options.addresses ?? []) await addressing.addAddress(a);
      for (const r of options.routes ?? []) await addressing.addRoute(r);
    } catch (err) {
      await addressing.removeAll();
      device.close();
      throw err;
    }
    return new TunLanPort(device, addressing);
  }

  get name(): string {
    return this.device.name;
  }

  get mtu(): number {
    return this.device.mtu;
  }

  get counters(): Readonly<LanPortCounters> {
    const s = this.device.readStats();
    const w = this.device.writeCounters;
    const c = this.own;
    // Read-side drops happen in the addon, write-side results in TunDevice; `own` adds the
    // packets this port refused itself (closed, longer than the MTU).
    return {
      ...c,
      rxDropped: s.truncated + s.readErrors,
      txPackets: w.writePackets,
      txBytes: w.writeBytes,
      txDropped: c.txDropped + w.writeEagain + w.writeErrors,
    };
  }

  onReceive(handler: BatchHandler): void {
    const first = this.handler === undefined;
    this.handler = handler;
    if (first && !this.closed) this.device.startReading((batch) => this.deliver(batch));
  }

  send(packet: Uint8Array): boolean {
    if (this.closed || packet.length > this.device.mtu) {
      this.own.txDropped++;
      return false;
    }
    return this.device.write(packet);
  }

  sendAt(data: Uint8Array, offset: number, length: number): boolean {
    if (this.closed || length > this.device.mtu) {
      this.own.txDropped++;
      return false;
    }
    return this.device.writeAt(data, offset, length);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.device.stopReading();
    await this.addressing.removeAll();
    this.device.close();
  }

  private deliver(batch: PacketBatch): void {
    const c = this.own;
    c.rxBatches++;
    c.rxPackets += batch.count;
    for (let i = 0; i < batch.count; i++) c.rxBytes += batch.lengths[i]!;
    this.handler?.(batch);
  }
}
