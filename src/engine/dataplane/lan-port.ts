/**
 * A LAN port: where packets of the branch LAN enter and leave a node. Two implementations
 * behind one interface, as wireguard-go's tun.Device and tuntest.ChannelTUN:
 * - TunLanPort: a real TUN device (needs root or CAP_NET_ADMIN);
 * - MemoryLanPort: in memory, for tests and labs (inject packets, collect what is sent).
 */
import type { BatchHandler } from './packet-batch.js';
import { MemoryLanPort } from './memory-lan-port.js';
import { TunLanPort } from './tun-lan-port.js';
import { TunAddonMissingError, TunPermissionError, TunUnavailableError } from './errors.js';

export interface LanPortCounters {
  rxPackets: number;
  rxBytes: number;
  rxBatches: number;
  /** Received packets dropped by the port itself (too long for a slot, read errors). */
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  /** Packets handed to send() that were not delivered (queue full, link down, closed, too long). */
  txDropped: number;
}

export interface LanPort {
  readonly kind: 'tun' | 'memory';
  readonly name: string;
  /** The largest packet the port carries. */
  readonly mtu: number;
  /** Starts delivery of received packets in batches; replaces an earlier handler. */
  onReceive(handler: BatchHandler): void;
  /** Sends one packet out to the LAN; false when it was dropped (counted). Never throws. */
  send(packet: Uint8Array): boolean;
  /** send() of data[offset .. offset+length) without a view per packet (the forwarding path). */
  sendAt(data: Uint8Array, offset: number, length: number): boolean;
  readonly counters: Readonly<LanPortCounters>;
  /** Stops delivery, removes addresses and routes that were set up, closes. Idempotent. */
  close(): Promise<void>;
}

export function emptyLanPortCounters(): LanPortCounters {
  return { rxPackets: 0, rxBytes: 0, rxBatches: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txDropped: 0 };
}

export interface OpenLanPortOptions {
  name: string;
  mtu?: number;
  /** Interface addresses of the node on this LAN, e.g. ['10.1.0.1/24']. */
  addresses?: string[];
  /** Extra prefixes routed into the port (beyond the connected ones of the addresses). */
  routes?: string[];
  /** 'auto' (default): TUN, else memory with a reason; 'tun': TUN or throw; 'memory': memory. */
  mode?: 'auto' | 'tun' | 'memory';
  /** Opens the TUN port (default TunLanPort.open); injectable so the fallback can be tested unprivileged. */
  openTun?: (o: { name: string; mtu?: number | undefined; addresses: string[]; routes: string[] }) => Promise<LanPort>;
}

export interface OpenedLanPort {
  port: LanPort;
  /** Set when a TUN was wanted ('auto') but the in-memory port was used instead: why. */
  fallbackReason?: string;
}

/**
 * Opens a LAN port: a TUN device when possible; in 'auto' mode, without root (or without
 * /dev/net/tun, or without the built addon) it falls back to an in-memory port and says why.
 * Other failures (name busy, `ip` failing) are thrown: they are configuration errors.
 */
export async function openLanPort(options: OpenLanPortOptions): Promise<OpenedLanPort> {
  const mode = options.mode ?? 'auto';
  const memory = (): MemoryLanPort => new MemoryLanPort({ name: options.name, mtu: options.mtu });
  if (mode === 'memory') return { port: memory() };
  try {
    const open = options.openTun ?? ((o) => TunLanPort.open(o));
    const port = await open({
      name: options.name,
      mtu: options.mtu,
      addresses: options.addresses ?? [],
      routes: options.routes ?? [],
    });
    return { port };
  } catch (err) {
    const fallback =
      err instanceof TunPermissionError || err instanceof TunUnavailableError || err instanceof TunAddonMissingError;
    if (mode === 'tun' || !fallback) throw err;
    return { port: memory(), fallbackReason: `LAN port ${options.name} runs in memory: ${(err as Error).message}` };
  }
}
