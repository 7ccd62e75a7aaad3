/**
 * Flow-table keying: the table's allocation-free numeric hash (FlowTable.track) against a
 * string key per packet in a Map (the obvious alternative), on the same packets.
 *   node --import tsx bench/flow-table.bench.ts [flows] [packets]
 *   node --expose-gc --import tsx bench/flow-table.bench.ts   (heap figures need --expose-gc)
 * Prints ns per packet (parse + keying + counters) and the heap growth during the timed loop
 * (garbage created per packet shows up there until a GC runs).
 */
import { FakeClock } from '../src/engine/clock.js';
import { FlowTable } from '../src/engine/dataplane/flow-table.js';
import { ParsedPacket, parsePacket, writeIpv4Header } from '../src/engine/dataplane/ip-packet.js';
import { formatAddress } from '../src/engine/dataplane/address.js';

const flows = Number(process.argv[2] ?? 10_000);
const packets = Number(process.argv[3] ?? 2_000_000);

// one buffer of `flows` UDP packets, 64 bytes apart, both directions mixed
const SLOT = 64;
const buf = new Uint8Array(flows * SLOT);
for (let i = 0; i < flows; i++) {
  const off = i * SLOT;
  const a = Uint8Array.of(10, 1, (i >> 8) & 0xff, i & 0xff);
  const b = Uint8Array.of(10, 2, 0, 9);
  const fwd = i % 2 === 0;
  writeIpv4Header(buf, off, 28, 17, fwd ? a : b, fwd ? b : a);
  buf[off + 20] = 0x13;
  buf[off + 21] = 0x88;
  buf[off + 22] = 0;
  buf[off + 23] = 53;
  buf[off + 25] = 8;
}
const parsed = new ParsedPacket();
const gc = (globalThis as { gc?: () => void }).gc;
function gcNow(): void {
  gc?.();
}

function runNumeric(): { ns: number; heap: number } {
  const t = new FlowTable({ clock: new FakeClock(), maxFlows: flows * 2 });
  for (let i = 0; i < flows; i++) {
    parsePacket(buf, i * SLOT, 28, parsed);
    t.track(buf, parsed, 'hub');
  }
  gcNow();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < packets; n++) {
    const off = (n % flows) * SLOT;
    parsePacket(buf, off, 28, parsed);
    t.track(buf, parsed);
  }
  const ns = Number(process.hrtime.bigint() - t0) / packets;
  return { ns, heap: process.memoryUsage().heapUsed - h0 };
}

function runStringKey(): { ns: number; heap: number } {
  const m = new Map<string, { packets: number; bytes: number }>();
  const key = (p: ParsedPacket): string => {
    const s = formatAddress(buf, p.srcOffset, 4);
    const d = formatAddress(buf, p.dstOffset, 4);
    return s < d ? `${p.protocol}|${s}|${p.srcPort}|${d}|${p.dstPort}` : `${p.protocol}|${d}|${p.dstPort}|${s}|${p.srcPort}`;
  };
  for (let i = 0; i < flows; i++) {
    parsePacket(buf, i * SLOT, 28, parsed);
    m.set(key(parsed), { packets: 0, bytes: 0 });
  }
  gcNow();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < packets; n++) {
    const off = (n % flows) * SLOT;
    parsePacket(buf, off, 28, parsed);
    const e = m.get(key(parsed))!;
    e.packets++;
    e.bytes += 28;
  }
  const ns = Number(process.hrtime.bigint() - t0) / packets;
  return { ns, heap: process.memoryUsage().heapUsed - h0 };
}

function parseOnly(): { ns: number; heap: number } {
  gcNow();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < packets; n++) parsePacket(buf, (n % flows) * SLOT, 28, parsed);
  const ns = Number(process.hrtime.bigint() - t0) / packets;
  return { ns, heap: process.memoryUsage().heapUsed - h0 };
}

for (const [name, fn] of [
  ['parse only', parseOnly],
  ['FlowTable.track (numeric hash, no allocation)', runNumeric],
  ['string key in a Map (allocates per packet)', runStringKey],
] as const) {
  fn(); // warm up
  const { ns, heap } = fn();
  console.log(
    `${name.padEnd(48)} ${ns.toFixed(1).padStart(7)} ns/packet   heap growth during the loop ${(heap / 1e6).toFixed(1)} MB   (${flows} flows, ${packets} packets${gc ? '' : ', run with --expose-gc for heap figures'})`,
  );
}
