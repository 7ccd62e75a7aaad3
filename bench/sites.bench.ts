/**
 * Site directory at scale: a directory of N sites (default 1,000,000) in SQLite, and in
 * MariaDB when the server is installed (started privately by test/helpers/mariadb.ts).
 *
 *   node --expose-gc --import tsx bench/sites.bench.ts [rows] [--no-mariadb] [--no-sqlite]
 *
 * Per backend:
 *   import       the CSV file of N rows through importSitesCsv (stream parse + validate +
 *                one transaction), as `meshgate sites import` does; peak RSS while importing
 *   lookup       lookupByNetwork of random sites (hits) and of absent networks (misses),
 *                one at a time: p50 / p99 / max in microseconds
 *   routes/s     DynamicRouteManager: 10,000 distinct destinations resolved at once, the
 *                (simulated) tunnel up at once: dynamic routes created per second
 *   memory       heap and RSS of the process holding 10,000 dynamic routes (after a GC)
 * Every phase is bounded in count and time.
 */
import { createWriteStream, createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock } from '../src/engine/clock.js';
import { RouteTable } from '../src/engine/dataplane/route-table.js';
import type { SiteDirectoryBackend } from '../src/engine/sites/backend.js';
import { importSitesCsv } from '../src/engine/sites/csv.js';
import { DynamicRouteManager } from '../src/engine/sites/dynamic-routes.js';
import { MysqlSiteBackend } from '../src/engine/sites/mysql-backend.js';
import { SqliteSiteBackend } from '../src/engine/sites/sqlite-backend.js';
import { MariaDbServer, mariadbAvailable } from '../test/helpers/mariadb.js';

const args = process.argv.slice(2);
const ROWS = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const MASK = 28; // 2^20 networks of /28 fit in 10.0.0.0/8
if (ROWS > 1 << 20) throw new Error('at most 1,048,576 rows (10.0.0.0/8 in /28s)');
const LOOKUPS = 20_000;
const LOOKUP_BUDGET_MS = 15_000;
const ROUTES = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;

function netOf(i: number): [number, number, number, number] {
  return [10, (i >> 12) & 255, (i >> 4) & 255, (i & 15) << 4];
}

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  out.write('name,identity,gateway,network,psk,cert,active,comment\r\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const [a, b, c, d] = netOf(i);
    chunk += `site-${String(i).padStart(7, '0')},fqdn:site-${i}.sites.example,gw-${i % 50_000}.example.net:4500,${a}.${b}.${c}.${d}/${MASK},psk-${(i * 2654435761) >>> 0}-secret,,yes,"bench, site ${i}"\r\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

// Deterministic pseudo-random (xorshift) so runs are comparable.
let seed = 0x2545f491;
function rand(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

interface Figures {
  backend: string;
  importS: number;
  importRowsPerS: number;
  importPeakRss: number;
  importStallMs: number;
  hit: { p50: number; p99: number; max: number; n: number };
  miss: { p50: number; p99: number; max: number; n: number };
  routesPerS: number;
  heapFor10k: number;
  rssFor10k: number;
  heapTotal: number;
  rssTotal: number;
}

async function lookupLatency(b: SiteDirectoryBackend, hits: boolean): Promise<Figures['hit']> {
  const times: number[] = [];
  const deadline = performance.now() + LOOKUP_BUDGET_MS;
  for (let k = 0; k < LOOKUPS && performance.now() < deadline; k++) {
    const i = rand(ROWS);
    const a = netOf(i);
    // a miss: the same /8 but 11.x (no base covers it in the directory)
    const dst = Uint8Array.of(hits ? a[0] : 11, a[1], a[2], a[3] + 5);
    const t0 = performance.now();
    const s = await b.lookupByNetwork(dst);
    times.push((performance.now() - t0) * 1000);
    if (hits !== (s !== undefined)) throw new Error(`lookup ${k}: expected ${hits ? 'a hit' : 'a miss'}`);
  }
  times.sort((x, y) => x - y);
  return { p50: pct(times, 50), p99: pct(times, 99), max: times[times.length - 1]!, n: times.length };
}

async function dynamicRoutes(b: SiteDirectoryBackend): Promise<{ perS: number; heap: number; rss: number; heapTotal: number; rssTotal: number }> {
  gc?.();
  const before = process.memoryUsage();
  const routes = new RouteTable();
  let up = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const m: DynamicRouteManager = new DynamicRouteManager({
    clock: new RealClock(),
    routes,
    capacity: ROUTES * 2,
    lookupTimeoutMs: 30_000,
    idleTimeoutMs: 3_600_000,
    hooks: {
      connect: (r) => {
        m.tunnelUp(r.name, r.name);
        if (++up === ROUTES) done();
      },
      release: () => {},
      removed: () => {},
    },
  });
  m.addDirectory('bench', b);
  m.addBaseRoute('bench', '10.0.0.0/8');
  const picked = new Set<number>();
  while (picked.size < ROUTES) picked.add(rand(ROWS));
  const pkt = new Uint8Array(100);
  const t0 = performance.now();
  // Packets for 10,000 sites arrive as fast as the manager takes new lookups (256 in flight).
  const todo = [...picked];
  let next = 0;
  while (next < todo.length) {
    while (next < todo.length && m.pendingLookups < 256) {
      const a = netOf(todo[next++]!);
      m.resolve('bench', Uint8Array.of(a[0], a[1], a[2], a[3] + 1), pkt);
    }
    await new Promise((r) => setImmediate(r));
  }
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const secs = (performance.now() - t0) / 1000;
  if (up !== ROUTES || m.size !== ROUTES || routes.size !== ROUTES + 1) throw new Error(`only ${up} routes up (${m.size} in the manager, ${routes.size} in the table)`);
  gc?.();
  const after = process.memoryUsage();
  const r = { perS: ROUTES / secs, heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss, heapTotal: after.heapUsed, rssTotal: after.rss };
  m.close();
  return r;
}

async function bench(label: string, file: string, open: () => Promise<SiteDirectoryBackend>): Promise<Figures> {
  const b = await open();
  try {
    gc?.();
    let peak = process.memoryUsage().rss;
    // Worst event-loop stall during the import (a 10 ms timer that fires late).
    let worstLag = 0;
    let last = performance.now();
    const sampler = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 10);
      last = now;
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const t0 = performance.now();
    const report = await importSitesCsv(b, createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Uint8Array>);
    const importS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    if (!report.committed || report.inserted !== ROWS) throw new Error(`${label}: import ${JSON.stringify({ ...report, rejections: report.rejections.slice(0, 3) })}`);
    console.log(`${label}: imported ${ROWS.toLocaleString('en')} rows in ${importS.toFixed(1)} s (peak RSS ${mb(peak)}, worst event-loop stall ${worstLag.toFixed(0)} ms)`);
    const hit = await lookupLatency(b, true);
    const miss = await lookupLatency(b, false);
    console.log(`${label}: lookup hit p50 ${hit.p50.toFixed(1)} µs p99 ${hit.p99.toFixed(1)} µs; miss p50 ${miss.p50.toFixed(1)} µs p99 ${miss.p99.toFixed(1)} µs`);
    const d = await dynamicRoutes(b);
    console.log(`${label}: ${d.perS.toFixed(0)} dynamic routes/s; 10,000 routes: +${mb(d.heap)} heap, +${mb(d.rss)} RSS`);
    return {
      backend: label,
      importS,
      importRowsPerS: ROWS / importS,
      importPeakRss: peak,
      importStallMs: worstLag,
      hit,
      miss,
      routesPerS: d.perS,
      heapFor10k: d.heap,
      rssFor10k: d.rss,
      heapTotal: d.heapTotal,
      rssTotal: d.rssTotal,
    };
  } finally {
    await b.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-sites-bench-'));
  const results: Figures[] = [];
  let server: MariaDbServer | undefined;
  try {
    const csv = join(dir, 'sites.csv');
    const tg = performance.now();
    await writeCsv(csv, ROWS);
    console.log(`# ${ROWS.toLocaleString('en')} sites, mask /${MASK}, CSV ${mb(statSync(csv).size)} written in ${((performance.now() - tg) / 1000).toFixed(1)} s${gc ? '' : ' (run with --expose-gc for exact memory figures)'}`);
    if (!args.includes('--no-sqlite')) {
      results.push(await bench('sqlite', csv, async () => new SqliteSiteBackend({ file: join(dir, 'sites.db'), masks: { v4: MASK } })));
      console.log(`sqlite: database file ${mb(statSync(join(dir, 'sites.db')).size)}`);
    }
    if (!args.includes('--no-mariadb')) {
      if (!mariadbAvailable()) console.log('mariadb: not installed (apt-get install -y mariadb-server mariadb-client); skipped');
      else {
        server = await MariaDbServer.start({ database: 'bench' });
        const s = server;
        results.push(await bench('mariadb', csv, () => MysqlSiteBackend.open({ dsn: s.socketDsn, masks: { v4: MASK }, importBatch: 1000 })));
      }
    }
  } finally {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
  console.log(`| backend | import ${ROWS.toLocaleString('en')} rows | rows/s | peak RSS (import) | worst loop stall (import) | lookup hit p50 / p99 | miss p50 / p99 | dynamic routes/s | 10k routes: heap / RSS delta | process heap / RSS |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.backend} | ${r.importS.toFixed(1)} s | ${r.importRowsPerS.toFixed(0)} | ${mb(r.importPeakRss)} | ${r.importStallMs.toFixed(0)} ms | ${r.hit.p50.toFixed(1)} / ${r.hit.p99.toFixed(1)} µs | ${r.miss.p50.toFixed(1)} / ${r.miss.p99.toFixed(1)} µs | ${r.routesPerS.toFixed(0)} | ${mb(r.heapFor10k)} / ${mb(r.rssFor10k)} | ${mb(r.heapTotal)} / ${mb(r.rssTotal)} |`,
    );
  }
}

await main();
