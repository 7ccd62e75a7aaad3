/**
 * The native fast path (src/native/fastpath.cc) as TypeScript sees it, and its loader.
 * See fast-path.ts for the division of work between it and the JavaScript engine.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Punt kinds: what the fast path hands up to JavaScript. */
export const PUNT_UDP = 1;
export const PUNT_DECRYPTED = 2;
export const PUNT_TUN = 3;
/** Flow actions. */
export const ACTION_TUN = 1;
export const ACTION_TUNNEL = 2;
/** Cipher suites as the addon numbers them. */
export const SUITE_CHACHA20_POLY1305 = 0;
export const SUITE_AES_GCM_16 = 1;

/** Counters kept by the addon (all monotonic except flows / SAs / pendingPunts). */
export interface NativeFastPathStats {
  udpRxPackets: number;
  udpRxBatches: number;
  udpTxPackets: number;
  udpTxBatches: number;
  udpTxErrors: number;
  tunRxPackets: number;
  tunRxBatches: number;
  tunTxPackets: number;
  tunTxErrors: number;
  espRxPackets: number;
  espRxBytes: number;
  espTxPackets: number;
  espTxBytes: number;
  offloadedIn: number;
  offloadedOut: number;
  hairpin: number;
  puntUdp: number;
  puntDecrypted: number;
  puntTun: number;
  puntOverflow: number;
  dropReplay: number;
  dropAuthFailed: number;
  dropMalformed: number;
  dropDummy: number;
  dropSeqExhausted: number;
  dropTooLong: number;
  flows: number;
  inboundSas: number;
  outboundSas: number;
  running: boolean;
  pendingPunts: number;
}

export interface NativeOpenResult {
  result: 'ok' | 'not-esp' | 'unknown-spi' | 'malformed' | 'replay' | 'auth-failed' | 'dummy';
  spi?: number;
  inner?: Buffer;
}

export interface NativePunt {
  kind: number;
  tag: number;
  data: Buffer;
}

export interface NativeFastPath {
  readonly port: number;
  readonly family: 4 | 6;
  attachTun(fd: number, mtu: number): void;
  start(onPunt: (data: Buffer, meta: Uint32Array, count: number) => void): void;
  stop(): void;
  addSa(inbound: boolean, spi: number, suite: number, keyMaterial: Uint8Array, tunnel: number, peerAddress: string, peerPort: number, windowSize?: number): void;
  removeSa(inbound: boolean, spi: number): void;
  setTunnel(tunnel: number, outboundSpi: number): void;
  setPeer(spi: number, address: string, port: number): boolean;
  offload(ingress: number, data: Uint8Array, offset: number, length: number, action: number, tunnel: number, mtu: number): number;
  removeFlow(id: number): void;
  clearFlows(): number;
  flowStats(out: Float64Array): number;
  saStats(inbound: boolean, spi: number): Float64Array | undefined;
  stats(): NativeFastPathStats;
  sendUdp(payload: Uint8Array, address: string, port: number): boolean;
  sealSend(spi: number, data: Uint8Array, offset: number, length: number): boolean;
  sealPacket(spi: number, inner: Uint8Array): Buffer | null;
  openPacket(packet: Uint8Array): NativeOpenResult;
  receiveDatagram(datagram: Uint8Array, fromAddress: string, fromPort: number): NativePunt[];
}

export interface NativeFastPathModule {
  FastPath: new (address: string, port: number, bufferBytes: number) => NativeFastPath;
  META_WORDS: number;
  OPENSSL_VERSION: string;
}

const CANDIDATES = [
  '../../native/build/Release/meshgate_fastpath.node',
  '../../../../src/native/build/Release/meshgate_fastpath.node',
  '../../src/native/build/Release/meshgate_fastpath.node',
];

let cached: NativeFastPathModule | undefined;

/** The addon, or a reason why it cannot be used. Never throws. */
export function loadFastPathAddon(): { addon: NativeFastPathModule } | { reason: string } {
  if (cached) return { addon: cached };
  const require = createRequire(import.meta.url);
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      cached = require(path) as NativeFastPathModule;
      return { addon: cached };
    } catch (err) {
      return { reason: `fast path addon at ${path} cannot be loaded: ${(err as Error).message}` };
    }
  }
  return { reason: 'fast path addon not built (src/native/build/Release/meshgate_fastpath.node): run npm install or npm run build:native' };
}
