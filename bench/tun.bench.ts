/**
 * TUN read path throughput (root): packets per second through the addon's batched reads.
 *   node --import tsx bench/tun.bench.ts [seconds=3] [batchSize=64] [payload=18]
 *
 * Topology, all inside a fresh namespace mg-bench-* (removed at the end):
 *   worker thread --write()--> mgbtx0 (10.88.0.1/24) --kernel forwarding--> mgbrx0 (10.99.0.1/24) --batched read--> main thread
 * The worker writes UDP packets 10.88.0.2 -> 10.99.0.2 into mgbtx0 as fast as it can; the
 * kernel routes them out of mgbrx0, where the main thread reads them in batches and counts.
 * The payload default of 18 bytes makes 46-byte IP packets (64-byte Ethernet frames).
 * MG_BENCH_QLEN=n sets the reader device's kernel queue (default TUN_DEFAULT_TX_QUEUE_LENGTH).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const seconds = Number(process.argv[2] ?? 3);
const batchSize = Number(process.argv[3] ?? 64);
const payload = Number(process.argv[4] ?? 18);
const self = fileURLToPath(import.meta.url);

async function inside(): Promise<void> {
  const { TunDevice } = await import('../src/engine/dataplane/tun-device.js');
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  writeFileSync('/proc/sys/net/ipv4/conf/all/rp_filter', '0');
  const qlen = process.env.MG_BENCH_QLEN ? Number(process.env.MG_BENCH_QLEN) : undefined;
  const rx = TunDevice.open({ name: 'mgbrx0', mtu: 1500, batchSize, ...(qlen ? { txQueueLength: qlen } : {}) });
  const tx = TunDevice.open({ name: 'mgbtx0', mtu: 1500 });
  execFileSync('ip', ['addr', 'add', '10.99.0.1/24', 'dev', rx.name]);
  execFileSync('ip', ['addr', 'add', '10.88.0.1/24', 'dev', tx.name]);
  let packets = 0;
  let bytes = 0;
  let batches = 0;
  let counting = false;
  rx.startReading((b) => {
    if (!counting) return;
    batches++;
    packets += b.count;
    for (let i = 0; i < b.count; i++) bytes += b.lengths[i]!;
  });
  const worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { fd: tx.fd, seconds, payload } });
  const done = new Promise<{ written: number; failed: number; ms: number }>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  counting = true;
  const t0 = performance.now();
  const w = await done;
  await new Promise((r) => setTimeout(r, 200)); // drain what is still queued
  const ms = performance.now() - t0;
  counting = false;
  const stats = rx.readStats();
  const kernel = (dev: string): string => {
    const j = JSON.parse(execFileSync('ip', ['-s', '-j', 'link', 'show', dev]).toString()) as {
      stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } };
    }[];
    const st = j[0]!.stats64;
    return `${dev} rx ${st.rx.packets} (dropped ${st.rx.dropped}) tx ${st.tx.packets} (dropped ${st.tx.dropped})`;
  };
  const kernelLine = `${kernel(tx.name)}; ${kernel(rx.name)}`;
  rx.close();
  tx.close();
  const pps = (packets / ms) * 1000;
  console.log(`tun.bench: ${seconds} s, batch size ${batchSize}, ${payload + 28}-byte IP packets`);
  console.log(`  written into mgbtx0 by the worker : ${w.written} packets (${((w.written / w.ms) * 1000).toFixed(0)} pps), ${w.failed} write errors`);
  console.log(`  read from mgbrx0 in batches       : ${packets} packets = ${pps.toFixed(0)} pps, ${((bytes * 8) / ms / 1000).toFixed(1)} Mbit/s of IP`);
  console.log(`  batches ${batches}, average ${(packets / Math.max(1, batches)).toFixed(1)} packets per batch (max ${batchSize})`);
  console.log(`  kernel: ${kernelLine}`);
  console.log(`  addon: readErrors ${stats.readErrors}, truncated ${stats.truncated}; lost between write and read: ${Math.max(0, w.written - packets)}`);
}

/** The writer runs as plain JavaScript in an eval worker (tsx does not hook worker threads on Node 20). */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, seconds, payload } = workerData;
const len = 28 + payload;
const p = new Uint8Array(len);
// IPv4 header 10.88.0.2 -> 10.99.0.2, UDP 1234 -> 9, UDP checksum 0 (none)
p.set([0x45, 0, len >> 8, len & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 88, 0, 2, 10, 99, 0, 2]);
let sum = 0;
for (let i = 0; i < 20; i += 2) sum += (p[i] << 8) | p[i + 1];
while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
const c = ~sum & 0xffff;
p[10] = c >> 8;
p[11] = c & 0xff;
p.set([0x04, 0xd2, 0, 9, (8 + payload) >> 8, (8 + payload) & 0xff, 0, 0], 20);
let written = 0;
let failed = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
while (performance.now() < end) {
  for (let i = 0; i < 256; i++) {
    try { writeSync(fd, p); written++; } catch { failed++; }
  }
}
parentPort.postMessage({ written, failed, ms: performance.now() - t0 });
`;

if (!process.env.MG_BENCH_NS) {
  // outer process: create the namespace, run this script inside it, always clean up
  if (process.getuid?.() !== 0) {
    console.error('tun.bench: needs root (network namespace and TUN devices)');
    process.exit(2);
  }
  const ns = `mg-bench-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', self, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, MG_BENCH_NS: ns },
      timeout: (seconds + 30) * 1000,
    });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
} else {
  await inside();
}
