/**
 * The seam between IKE (control plane) and the ESP data path, after strongSwan's
 * kernel_ipsec_t: IKE tells the data path which SAs exist; the data path owns packets.
 *
 * Order on a child rekey (make before break): installInbound(new), installOutbound(new),
 * and only after the DELETE exchange for the old child: remove(old in), remove(old out).
 * The data path must therefore let the most recently installed outbound SA for a pair of
 * selectors win, and keep accepting on the old inbound SA until it is removed.
 */
import type { Endpoint } from '../net/types.js';
import type { TrafficSelector } from './traffic-selector.js';

export type SaDirection = 'in' | 'out';

export interface ChildSaInstall {
  direction: SaDirection;
  /** The ESP SPI: ours for 'in', the peer's for 'out'. */
  spi: number;
  peer: string;
  ikeId: number;
  childId: number;
  /** ENCR transform id (ENCR_CHACHA20_POLY1305 = 28, ENCR_AES_GCM_16 = 20) and key bits (AES). */
  encrId: number;
  keyBits?: number;
  /** Cipher key followed by the 4-octet salt (createAead(encrId, keyBits, keyMaterial)). */
  keyMaterial: Uint8Array;
  /** The gateways: ESP goes in UDP (RFC 3948) from local to remote on the shared port. */
  local: Endpoint;
  remote: Endpoint;
  localTs: TrafficSelector[];
  remoteTs: TrafficSelector[];
}

export interface SaUsage {
  bytes: number;
  packets: number;
}

export interface SaInstaller {
  installInbound(sa: ChildSaInstall): void;
  installOutbound(sa: ChildSaInstall): void;
  remove(spi: number, direction: SaDirection): void;
  /** The peer's address or port changed (NAT rebinding): outbound ESP for `spi` goes to `remote` now. */
  updateRemote?(spi: number, remote: Endpoint): void;
  /** Traffic counted by the data path; used for `show vpn`, DPD inactivity and short hold. */
  usage?(spi: number, direction: SaDirection): SaUsage | undefined;
}

export type InstallerCall =
  | { op: 'install'; sa: ChildSaInstall }
  | { op: 'remove'; spi: number; direction: SaDirection }
  | { op: 'update-remote'; spi: number; remote: Endpoint };

/** A recording installer for tests and for running IKE without a data path. */
export class RecordingSaInstaller implements SaInstaller {
  readonly calls: InstallerCall[] = [];
  readonly installed = new Map<string, ChildSaInstall>();
  private readonly usageBySa = new Map<string, SaUsage>();

  private static key(spi: number, d: SaDirection): string {
    return `${d}:${spi >>> 0}`;
  }

  installInbound(sa: ChildSaInstall): void {
    this.calls.push({ op: 'install', sa });
    this.installed.set(RecordingSaInstaller.key(sa.spi, 'in'), sa);
  }

  installOutbound(sa: ChildSaInstall): void {
    this.calls.push({ op: 'install', sa });
    this.installed.set(RecordingSaInstaller.key(sa.spi, 'out'), sa);
  }

  remove(spi: number, direction: SaDirection): void {
    this.calls.push({ op: 'remove', spi, direction });
    this.installed.delete(RecordingSaInstaller.key(spi, direction));
    this.usageBySa.delete(RecordingSaInstaller.key(spi, direction));
  }

  updateRemote(spi: number, remote: Endpoint): void {
    const sa = this.installed.get(RecordingSaInstaller.key(spi, 'out'));
    if (sa) sa.remote = remote;
    this.calls.push({ op: 'update-remote', spi, remote });
  }

  usage(spi: number, direction: SaDirection): SaUsage | undefined {
    return this.usageBySa.get(RecordingSaInstaller.key(spi, direction));
  }

  /** Test hook: pretend the data path moved traffic on an SA. */
  addTraffic(spi: number, direction: SaDirection, bytes: number, packets = 1): void {
    const k = RecordingSaInstaller.key(spi, direction);
    const u = this.usageBySa.get(k) ?? { bytes: 0, packets: 0 };
    u.bytes += bytes;
    u.packets += packets;
    this.usageBySa.set(k, u);
  }

  has(spi: number, direction: SaDirection): boolean {
    return this.installed.has(RecordingSaInstaller.key(spi, direction));
  }

  list(direction?: SaDirection): ChildSaInstall[] {
    return [...this.installed.values()].filter((s) => direction === undefined || s.direction === direction);
  }
}
