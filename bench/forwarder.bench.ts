/**
 * The forwarding stage alone (no TUN, no crypto): LAN batches of UDP packets through parse,
 * route lookup, TTL decrement, flow accounting and into a counting TunnelSender.
 *   node --import tsx bench/forwarder.bench.ts [flows=1000] [batches=50000]
 */
import { RealClock } from '../src/engine/clock.js';
import { FlowTable } from '../src/engine/dataplane/flow-table.js';
import { Forwarder } from '../src/engine/dataplane/forwarder.js';
import { writeIpv4Header } from '../src/engine/dataplane/ip-packet.js';
import { allocateBatch } from '../src/engine/dataplane/packet-batch.js';
import { RouteTable } from '../src/engine/dataplane/route-table.js';
import type { TunnelSender } from '../src/engine/dataplane/seams.js';

const flows = Number(process.argv[2] ?? 1000);
const batches = Number(process.argv[3] ?? 50_000);
const BATCH = 64;
const LEN = 46;

const routes = new RouteTable();
routes.add({ prefix: '10.0.0.0/8', source: 'ike', target: { kind: 'sa', id: 'hub' } });
routes.add({ prefix: '10.2.0.0/16', source: 'mesh', target: { kind: 'sa', id: 'b' } });
for (let i = 0; i < 200; i++) routes.add({ prefix: `10.${10 + i}.0.0/16`, source: 'site', target: { kind: 'sa', id: i } });
let sent = 0;
const tunnels: TunnelSender = {
  innerMtu: () => 1400,
  send: () => {
    sent++;
    return true;
  },
};
const clock = new RealClock();
const fwd = new Forwarder({ clock, routes, flows: new FlowTable({ clock }), tunnels });

// prebuilt packets for `flows` flows; each batch slot gets one, TTL refreshed per round
const templates: Uint8Array[] = [];
for (let i = 0; i < flows; i++) {
  const p = new Uint8Array(LEN);
  writeIpv4Header(p, 0, LEN, 17, Uint8Array.of(10, 1, (i >> 8) & 0xff, i & 0xff), Uint8Array.of(10, 2, 0, 9), 64);
  p.set([0x13, 0x88, 0, 53, 0, 26, 0, 0], 20);
  templates.push(p);
}
const batch = allocateBatch(BATCH, 256, 64);
const t0 = process.hrtime.bigint();
for (let b = 0; b < batches; b++) {
  for (let i = 0; i < BATCH; i++) {
    batch.data.set(templates[(b * BATCH + i) % flows]!, batch.offsets[i]!);
    batch.lengths[i] = LEN;
  }
  batch.count = BATCH;
  fwd.fromLanBatch('lan0', batch);
}
const ns = Number(process.hrtime.bigint() - t0) / (batches * BATCH);
const c = fwd.counters;
console.log(
  `forwarder: ${batches * BATCH} packets in batches of ${BATCH}, ${flows} flows: ${ns.toFixed(0)} ns/packet ` +
    `(${(1e3 / ns).toFixed(2)} Mpps incl. copying the packet into the batch); toTunnel ${c.toTunnel}, sent ${sent}, ` +
    `drops ${Object.values(c.drops).reduce((a, b) => a + b, 0)}`,
);
