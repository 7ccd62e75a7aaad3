/**
 * SPI allocation: random, non-zero, unique among the SPIs in use on this node.
 * IKE SPIs are 8 octets (RFC 7296 section 2.6); ESP SPIs 4 octets, 1..255 reserved (RFC 4303 section 2.1).
 */
import type { Random } from '../crypto/random.js';

export class SpiAllocator {
  private readonly ike = new Set<bigint>();
  private readonly esp = new Set<number>();

  constructor(private readonly random: Random) {}

  allocateIke(): bigint {
    for (;;) {
      const b = this.random.bytes(8);
      const spi = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
      if (spi !== 0n && !this.ike.has(spi)) {
        this.ike.add(spi);
        return spi;
      }
    }
  }

  allocateEsp(): number {
    for (;;) {
      const b = this.random.bytes(4);
      const spi = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
      if (spi > 255 && !this.esp.has(spi)) {
        this.esp.add(spi);
        return spi;
      }
    }
  }

  releaseIke(spi: bigint): void {
    this.ike.delete(spi);
  }

  releaseEsp(spi: number): void {
    this.esp.delete(spi);
  }

  get inUse(): { ike: number; esp: number } {
    return { ike: this.ike.size, esp: this.esp.size };
  }
}
