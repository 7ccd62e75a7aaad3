/**
 * Issue 5, item 6, at the level of the whole engine: a concentrator whose SITES sites (default
 * 2,000) live in a site directory (SQLite in a temp file, or BACKEND=memory) and as many site
 * routers on the in-memory network. One datagram from the hub's LAN to every site at once:
 * each is queued, its site looked up by destination, the tunnel built with IKE (X25519 + PSK,
 * both ends in this process), the dynamic route installed and the datagram released.
 *   node --expose-gc --import tsx bench/concentrator.bench.ts        (SITES=500 for a quick run)
 * Reports: site tunnels up per CPU-second (lookup + IKE at both ends + route), the released
 * first packets, and the heap the concentrator's own state costs per connected site.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../src/engine/clock.js';
import { MemoryLanPort } from '../src/engine/dataplane/memory-lan-port.js';
import { Engine, emptyEngineConfig, type EngineConfig } from '../src/engine/engine.js';
import { MemoryNetwork } from '../src/engine/net/memory-network.js';
import type { SiteDirectoryBackend } from '../src/engine/sites/backend.js';
import { MemorySiteBackend } from '../src/engine/sites/memory-backend.js';
import { SqliteSiteBackend } from '../src/engine/sites/sqlite-backend.js';
import { buildUdp } from '../src/lab/simulated-lan.js';

const SITES = Number(process.env.SITES ?? 2000);
const BACKEND = process.env.BACKEND ?? 'sqlite';
const PROPOSALS = { ikeProposals: ['chacha20poly1305-prfsha256-x25519'], espProposals: ['chacha20poly1305'] };
const gc = (globalThis as { gc?: () => void }).gc;
const psk = (k: number) => `bench-site-psk-${k}-0123456789`;
// Site k: network 10.(64 + k>>8).(k&255).0/24 behind WAN 100.(64 + k>>16).((k>>8 & 255) + 1).(k&255).
const siteBytes = (k: number) => Uint8Array.of(10, 64 + (k >> 8), k & 255, 0);
const siteNet = (k: number) => `10.${64 + (k >> 8)}.${k & 255}.0/24`;
const siteWan = (k: number) => `100.${64 + (k >> 16)}.${((k >> 8) & 255) + 1}.${k & 255}`;

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function siteConfig(k: number): EngineConfig {
  const c = emptyEngineConfig(`site${k}`);
  c.lanAddresses = [`${siteNet(k).replace('.0/24', '.1')}/24`];
  c.peers.push({ kind: 'static', name: 'hq', role: 'responder', localId: `site${k}.bench`, remoteId: 'hq.bench', psk: psk(k), localTs: [siteNet(k)], remoteTs: ['10.0.0.0/24'], ...PROPOSALS });
  return c;
}

const dir = mkdtempSync(join(tmpdir(), 'mg-bench-conc-'));
const backend: SiteDirectoryBackend = BACKEND === 'memory' ? new MemorySiteBackend({ v4: 24 }) : new SqliteSiteBackend({ file: join(dir, 'sites.db'), masks: { v4: 24 } });
for (let k = 0; k < SITES; k++) {
  await backend.put({ name: `site${k}`, identity: { type: 'fqdn', value: `site${k}.bench` }, gateway: { host: siteWan(k) }, network: { family: 4, bytes: siteBytes(k), length: 24 }, psk: psk(k), active: true, comment: '' });
}

const clock = new FakeClock();
const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 1 } });
const sites: Engine[] = [];
for (let k = 0; k < SITES; k++) sites.push(new Engine({ clock, transport: net.attach(siteWan(k), 4500), lanPorts: [new MemoryLanPort({ name: 'lan' })], config: siteConfig(k) }));
const heapSites = heapMb();

const hubCfg = emptyEngineConfig('hq');
hubCfg.lanAddresses = ['10.0.0.1/24'];
hubCfg.licence = { name: 'bench', vpn: 1_000_000, mesh: 200 };
hubCfg.siteDirectory = { baseRoutes: ['10.64.0.0/10'], template: { localId: 'hq.bench', localTs: ['10.0.0.0/24'], ...PROPOSALS }, maxDynamicRoutes: 1_000_000, freeShare: 0.1, lookupTimeoutMs: 60_000, connectTimeoutMs: 600_000 };
const hubPort = new MemoryLanPort({ name: 'lan' });
const hub = new Engine({ clock, transport: net.attach('198.51.100.1', 4500), lanPorts: [hubPort], config: hubCfg });
hub.sites.attach(backend);
const heapHub0 = heapMb();

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const src = Uint8Array.of(10, 0, 0, 5);
// Waves of 200 new sites every 50 ms: below the 256 lookups the directory keeps in flight
// (beyond that, first packets are dropped as 'lookup-limit' by design).
let next = 0;
let up = 0;
for (let step = 0; step < 40_000 && up < SITES; step++) {
  if (step % 10 === 0 && next < SITES) {
    for (const end = Math.min(SITES, next + 200); next < end; next++) {
      const dst = siteBytes(next);
      dst[3] = 9;
      hubPort.inject(buildUdp(src, 40000, dst, 9, next, 64));
    }
  }
  clock.advance(5);
  await new Promise<void>((r) => setImmediate(r));
  if (step % 20 === 19) up = hub.sites.status()!.up;
}
up = hub.sites.status()!.up;
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const heapHub1 = heapMb();
const st = hub.sites.status()!;

console.log(`| measurement (${SITES} sites, ${BACKEND} directory) | figure |`);
console.log('| --- | ---: |');
console.log(`| site tunnels up | ${up} / ${SITES} (simulated time ${(clock.now() / 1000).toFixed(1)} s) |`);
console.log(`| site tunnels built per CPU-second (lookup + IKE at both ends + route) | ${((up / cpuMs) * 1000).toFixed(0)} (${(cpuMs / 1000).toFixed(1)} s CPU, ${(wall / 1000).toFixed(1)} s wall) |`);
console.log(`| first packets queued / released / dropped waiting | ${hub.forwarder.counters.siteQueued} / ${st.counters.released} / ${st.counters.queueDrops} |`);
console.log(`| heap: ${SITES} site engines / + concentrator / + ${up} site tunnels | ${heapSites.toFixed(0)} / ${heapHub0.toFixed(0)} / ${heapHub1.toFixed(0)} MiB |`);
console.log(`| heap per connected site (hub's IKE + ESP + route + the sites' own SAs) | ${up ? (((heapHub1 - heapHub0) * 1024) / up).toFixed(1) : '-'} KiB |`);
for (const s of sites) await s.stop();
await hub.stop();
await backend.close();
rmSync(dir, { recursive: true, force: true });
