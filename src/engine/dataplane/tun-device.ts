/**
 * A Linux TUN device through meshgate's own addon (src/native/tun.cc): IFF_TUN | IFF_NO_PI,
 * non-blocking, read in batches on the main event loop, written directly.
 *
 * Addresses and routes into the device are set with iproute2 (`ip addr add`, `ip route add`)
 * by {@link InterfaceAddressing}, which remembers what it added and removes it at shutdown.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import {
  InterfaceConfigError,
  TunAddonMissingError,
  TunDeviceError,
  TunPermissionError,
  TunUnavailableError,
} from './errors.js';
import { allocateBatch, type BatchHandler, type PacketBatch } from './packet-batch.js';

/** Linux IFNAMSIZ less the terminating NUL. */
export const TUN_MAX_NAME_LENGTH = 15;
export const TUN_DEFAULT_MTU = 1420;
/** Packets read per poll wake-up at most. */
export const TUN_DEFAULT_BATCH_SIZE = 64;
/** Bytes reserved before every received packet for headers built in place (ESP-in-UDP, IPv6 outer). */
export const TUN_DEFAULT_HEADROOM = 128;
export const TUN_MIN_MTU = 68;
/**
 * Packets the kernel queues on the device for us to read (the TUN default is 500). At
 * several hundred thousand packets per second a reader descheduled for a few milliseconds
 * overflows 500; bench/tun.bench.ts lost 60 % at 500 and nothing at 8192 on a loaded host.
 */
export const TUN_DEFAULT_TX_QUEUE_LENGTH = 4096;
export const TUN_MAX_MTU = 65535;

/** The shape of the native module (src/native/tun.cc). */
interface NativeTun {
  readonly fd: number;
  readonly name: string;
  setMtu(mtu: number): void;
  setUp(up: boolean): void;
  setTxQueueLen(length: number): void;
  startReading(
    data: Uint8Array,
    slotSize: number,
    headroom: number,
    maxPackets: number,
    lengths: Uint32Array,
    onBatch: (count: number) => void,
  ): void;
  stopReading(): void;
  write(packet: Uint8Array): number;
  writeAt(data: Uint8Array, offset: number, length: number): number;
  stats(): NativeTunStats;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativeTunStats {
  readBatches: number;
  readPackets: number;
  readErrors: number;
  /** Packets longer than a slot: dropped in the addon. */
  truncated: number;
  lastReadErrno: number;
}

interface NativeTunModule {
  Tun: new (name: string) => NativeTun;
  EAGAIN: number;
}

const ADDON_CANDIDATES = [
  // from src/engine/dataplane/ (tsx, tests)
  '../../native/build/Release/meshgate_tun.node',
  // from dist/src/engine/dataplane/ (compiled build): the addon stays in src/native
  '../../../../src/native/build/Release/meshgate_tun.node',
  // from dist/bundle/ (the bundled CLI)
  '../../src/native/build/Release/meshgate_tun.node',
];

let cachedAddon: NativeTunModule | undefined;

/** Loads the built addon; throws TunAddonMissingError when it was not built. */
export function loadTunAddon(): NativeTunModule {
  if (cachedAddon) return cachedAddon;
  const require = createRequire(import.meta.url);
  for (const rel of ADDON_CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      cachedAddon = require(path) as NativeTunModule;
      return cachedAddon;
    } catch (err) {
      throw new TunAddonMissingError(`TUN addon at ${path} cannot be loaded: ${(err as Error).message}`, { cause: err });
    }
  }
  throw new TunAddonMissingError('TUN addon not built (src/native/build/Release/meshgate_tun.node): run npm install or npm run build:native');
}

/** Maps an error of the addon to the data plane's typed errors, keeping its message. */
export function mapTunError(err: unknown): Error {
  if (!(err instanceof Error)) return new TunDeviceError(String(err));
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EPERM' || code === 'EACCES') return new TunPermissionError(err.message, { cause: err });
  if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') return new TunUnavailableError(err.message, { cause: err });
  if (err instanceof TypeError) return err;
  return new TunDeviceError(err.message, { cause: err });
}

export interface TunDeviceOptions {
  /** Requested interface name (may contain %d for the kernel to number it). */
  name: string;
  mtu?: number;
  /** Bring the link up at open (default true). */
  up?: boolean;
  /** Kernel queue towards the reader, in packets (default TUN_DEFAULT_TX_QUEUE_LENGTH). */
  txQueueLength?: number;
  batchSize?: number;
  headroom?: number;
  /**
   * Bytes per receive slot including headroom. Default: headroom + 65535, so no packet the
   * kernel can hand us is ever cut, whatever MTU is set later. Longer packets are dropped
   * and counted as `truncated`.
   */
  slotSize?: number;
}

export interface TunWriteCounters {
  writePackets: number;
  writeBytes: number;
  /** Writes refused because the device queue was full (EAGAIN); the packet is dropped. */
  writeEagain: number;
  /** Writes that failed otherwise (EIO when the link is down, ...). */
  writeErrors: number;
  lastWriteErrno: number;
}

/** An open TUN device. */
export class TunDevice {
  readonly name: string;
  readonly fd: number;
  readonly batch: PacketBatch;
  readonly writeCounters: TunWriteCounters = {
    writePackets: 0,
    writeBytes: 0,
    writeEagain: 0,
    writeErrors: 0,
    lastWriteErrno: 0,
  };
  private currentMtu: number;
  private readonly native: NativeTun;
  private readonly eagain: number;
  private readonly slotSize: number;
  private closed = false;
  private reading = false;

  private constructor(native: NativeTun, eagain: number, mtu: number, batch: PacketBatch, slotSize: number) {
    this.native = native;
    this.eagain = eagain;
    this.name = native.name;
    this.fd = native.fd;
    this.currentMtu = mtu;
    this.batch = batch;
    this.slotSize = slotSize;
  }

  /**
   * Opens /dev/net/tun, creates or attaches the interface, sets its MTU and brings it up.
   * Throws TunPermissionError ("needs root or CAP_NET_ADMIN"), TunUnavailableError
   * ("/dev/net/tun missing"), TunAddonMissingError or TunDeviceError.
   */
  static open(options: TunDeviceOptions): TunDevice {
    const mtu = options.mtu ?? TUN_DEFAULT_MTU;
    const batchSize = options.batchSize ?? TUN_DEFAULT_BATCH_SIZE;
    const headroom = options.headroom ?? TUN_DEFAULT_HEADROOM;
    const slotSize = options.slotSize ?? headroom + 65535;
    const txQueueLength = options.txQueueLength ?? TUN_DEFAULT_TX_QUEUE_LENGTH;
    if (!Number.isInteger(txQueueLength) || txQueueLength < 1 || txQueueLength > 1_000_000)
      throw new TunDeviceError(`invalid queue length ${txQueueLength}: allowed 1..1000000`);
    if (Buffer.byteLength(options.name) > TUN_MAX_NAME_LENGTH || /[\s/]/.test(options.name))
      throw new TunDeviceError(`invalid interface name '${options.name}': at most ${TUN_MAX_NAME_LENGTH} bytes, no spaces or '/'`);
    if (!Number.isInteger(mtu) || mtu < TUN_MIN_MTU || mtu > TUN_MAX_MTU)
      throw new TunDeviceError(`invalid MTU ${mtu}: allowed ${TUN_MIN_MTU}..${TUN_MAX_MTU}`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096)
      throw new TunDeviceError(`invalid batch size ${batchSize}: allowed 1..4096`);
    if (!Number.isInteger(headroom) || headroom < 0 || slotSize < headroom + 64)
      throw new TunDeviceError(`invalid slot layout: slot ${slotSize}, headroom ${headroom}`);
    const addon = loadTunAddon();
    let native: NativeTun;
    try {
      native = new addon.Tun(options.name);
    } catch (err) {
      throw mapTunError(err);
    }
    try {
      native.setMtu(mtu);
      native.setTxQueueLen(txQueueLength);
      if (options.up ?? true) native.setUp(true);
    } catch (err) {
      native.close();
      throw mapTunError(err);
    }
    return new TunDevice(native, addon.EAGAIN, mtu, allocateBatch(batchSize, slotSize, headroom), slotSize);
  }

  get mtu(): number {
    return this.currentMtu;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  setMtu(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < TUN_MIN_MTU || mtu > TUN_MAX_MTU || mtu > this.slotSize - this.batch.headroom)
      throw new TunDeviceError(`invalid MTU ${mtu} for ${this.name}`);
    try {
      this.native.setMtu(mtu);
    } catch (err) {
      throw mapTunError(err);
    }
    this.currentMtu = mtu;
  }

  setUp(up: boolean): void {
    try {
      this.native.setUp(up);
    } catch (err) {
      throw mapTunError(err);
    }
  }

  /**
   * Starts reading: `onBatch` is called on the main loop with up to batchSize packets per
   * wake-up. The batch object and its storage are reused; see PacketBatch.
   */
  startReading(onBatch: BatchHandler): void {
    if (this.closed) throw new TunDeviceError(`${this.name} is closed`);
    if (this.reading) throw new TunDeviceError(`${this.name} is already being read`);
    const batch = this.batch;
    this.native.startReading(batch.data, this.slotSize, batch.headroom, batch.offsets.length, batch.lengths, (count) => {
      batch.count = count;
      onBatch(batch);
    });
    this.reading = true;
  }

  stopReading(): void {
    if (!this.reading) return;
    this.native.stopReading();
    this.reading = false;
  }

  /** Whether the poll keeps the process alive (default yes while reading). */
  keepAlive(on: boolean): void {
    if (on) this.native.ref();
    else this.native.unref();
  }

  /** Writes one packet to the device. False when it was dropped (queue full, link down, closed); counted. */
  write(packet: Uint8Array): boolean {
    return this.account(this.native.write(packet));
  }

  /** Writes data[offset .. offset+length) (no view allocated). Same result and counting as write(). */
  writeAt(data: Uint8Array, offset: number, length: number): boolean {
    if (offset < 0 || length < 0 || offset + length > data.length) {
      this.writeCounters.writeErrors++;
      return false;
    }
    return this.account(this.native.writeAt(data, offset, length));
  }

  private account(n: number): boolean {
    const c = this.writeCounters;
    if (n >= 0) {
      c.writePackets++;
      c.writeBytes += n;
      return true;
    }
    if (-n === this.eagain) c.writeEagain++;
    else {
      c.writeErrors++;
      c.lastWriteErrno = -n;
    }
    return false;
  }

  /** Read-side statistics kept by the addon. */
  readStats(): NativeTunStats {
    return this.native.stats();
  }

  /** Stops polling and closes the fd; the kernel removes the interface with it. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.native.close();
  }
}

/** Runs a command; resolves with stdout, rejects with stderr in the message. Injectable for tests. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args as string[], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

/**
 * Interface addresses and routes into a device, set with iproute2 and remembered so that
 * `removeAll()` takes away exactly what was added, in reverse order.
 */
export class InterfaceAddressing {
  private readonly added: { kind: 'addr' | 'route'; cidr: string; via?: string }[] = [];

  constructor(
    readonly device: string,
    private readonly run: CommandRunner = execFileRunner,
    private readonly ipCommand = 'ip',
  ) {}

  /** `ip addr add <cidr> dev <device>`, e.g. '10.77.0.1/24' or '2001:db8::1/64'. */
  async addAddress(cidr: string): Promise<void> {
    checkCidrText(cidr);
    await this.exec(['addr', 'add', cidr, 'dev', this.device]);
    this.added.push({ kind: 'addr', cidr });
  }

  /** `ip route add <cidr> dev <device> [via <gateway>]`. */
  async addRoute(cidr: string, via?: string): Promise<void> {
    checkCidrText(cidr);
    const args = ['route', 'add', cidr, 'dev', this.device];
    if (via !== undefined) args.push('via', via);
    await this.exec(args);
    this.added.push(via === undefined ? { kind: 'route', cidr } : { kind: 'route', cidr, via });
  }

  /** What is currently installed by this object, in order of addition. */
  list(): readonly { kind: 'addr' | 'route'; cidr: string }[] {
    return this.added;
  }

  /**
   * Removes every route and address added, newest first. Failures (the device already gone
   * takes its addresses and routes with it) are collected and returned, not thrown.
   */
  async removeAll(): Promise<string[]> {
    const failures: string[] = [];
    while (this.added.length > 0) {
      const item = this.added.pop()!;
      const args =
        item.kind === 'addr' ? ['addr', 'del', item.cidr, 'dev', this.device] : ['route', 'del', item.cidr, 'dev', this.device];
      try {
        await this.run(this.ipCommand, args);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    return failures;
  }

  private async exec(args: string[]): Promise<void> {
    try {
      await this.run(this.ipCommand, args);
    } catch (err) {
      throw new InterfaceConfigError(`cannot configure ${this.device}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Rejects text that is not a plain address/prefix (no option injection into `ip`). */
function checkCidrText(cidr: string): void {
  if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) throw new InterfaceConfigError(`not an address/prefix: '${cidr}'`);
}
