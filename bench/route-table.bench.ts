/**
 * Route table lookups: random IPv4 and IPv6 tables, lookups straight from a buffer.
 *   node --import tsx bench/route-table.bench.ts [routes=100000] [lookups=2000000]
 */
import { RouteTable } from '../src/engine/dataplane/route-table.js';
import { makePrefix } from '../src/engine/dataplane/address.js';

const routes = Number(process.argv[2] ?? 100_000);
const lookups = Number(process.argv[3] ?? 2_000_000);

let seed = 12345;
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed >>> 8;
};

for (const family of [4, 6] as const) {
  const n = family === 4 ? 4 : 16;
  const t = new RouteTable();
  const t0 = performance.now();
  for (let i = 0; i < routes; i++) {
    const a = new Uint8Array(n);
    for (let j = 0; j < n; j++) a[j] = rnd() & 0xff;
    a[0] = family === 4 ? 10 : 0x20;
    const len = family === 4 ? 16 + (rnd() % 17) : 32 + (rnd() % 97);
    t.replace({ prefix: makePrefix(a, len)!, source: 'site', target: { kind: 'sa', id: i } });
  }
  const built = performance.now() - t0;
  const buf = new Uint8Array(lookups > 65536 ? 65536 * n : lookups * n);
  for (let i = 0; i < buf.length; i++) buf[i] = rnd() & 0xff;
  for (let i = 0; i < buf.length; i += n) buf[i] = family === 4 ? 10 : 0x20;
  const slots = buf.length / n;
  let hits = 0;
  const t1 = process.hrtime.bigint();
  for (let k = 0; k < lookups; k++) {
    const off = (k % slots) * n;
    if ((family === 4 ? t.lookup4(buf, off) : t.lookup6(buf, off)) !== undefined) hits++;
  }
  const ns = Number(process.hrtime.bigint() - t1) / lookups;
  console.log(
    `IPv${family}: ${t.size} routes (${t.counters().prefixes} prefixes) built in ${built.toFixed(0)} ms; ` +
      `lookup ${ns.toFixed(0)} ns (${(1e3 / ns).toFixed(2)} M/s), ${((hits / lookups) * 100).toFixed(0)} % matched`,
  );
}
