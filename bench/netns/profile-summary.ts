/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N, and the
 * share of idle, GC and program (native) time.
 *   node --import tsx bench/netns/profile-summary.ts FILE.cpuprofile [top=15]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  fn: string;
  ms: number;
  pct: number;
}

export function summarise(file: string, top = 15): { totalMs: number; busyMs: number; lines: ProfileLine[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    if (!n) continue;
    const cf = n.callFrame;
    const where = cf.url ? ` ${basename(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  const lines = [...self.entries()]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, ms, pct: busy ? (100 * ms) / busy : 0 }));
  return { totalMs: total, busyMs: busy, lines };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
  const s = summarise(file, Number(process.argv[3] ?? 15));
  console.log(`profile ${basename(file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy`);
  console.log('| self % of busy | self ms | function |\n|---:|---:|---|');
  for (const l of s.lines) console.log(`| ${l.pct.toFixed(1)} | ${l.ms.toFixed(0)} | ${l.fn} |`);
}
