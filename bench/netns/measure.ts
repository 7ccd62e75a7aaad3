/**
 * Measurements for bench/netns/run.ts, the same ones as ../shared/bench-peers/lib.sh
 * (`measure`), so meshgate's figures line up with the peers' JSON: ping RTT (median of
 * 20), iperf3 TCP 8 s with the daemons' CPU, iperf3 UDP -b 0 for 5 s at -l 1372 and
 * -l 1400 (rx rate over the sender's time, loss against datagrams sent), plus packets per
 * second at 64-byte IP packets (UDP -l 36). All commands run inside namespaces of a Lab.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Lab } from '../../test/helpers/netns.js';
import { sleep } from '../../test/helpers/netns.js';

export interface UdpFigure {
  rx_mbps: number;
  tx_mbps: number;
  loss_pct: number | null;
  rx_pps?: number;
}

export interface PeerResult {
  peer: string;
  config?: string;
  error?: string;
  setup_ms?: number | null;
  /** meshgate only: from the initiating daemon's engine being up to the first ping reply. */
  setup_engine_ms?: number | null;
  rtt_ms?: number | null;
  tcp_mbps?: number;
  tcp_daemon_cpu_pct?: number | null;
  udp1372?: UdpFigure;
  udp1400?: UdpFigure;
  udp64?: UdpFigure;
}

const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export function cpuTicks(pids: number[]): number {
  let s = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      // fields 14 and 15 of stat (utime, stime); rest[0] is field 3
      s += Number(rest[11]) + Number(rest[12]);
    } catch {
      /* gone */
    }
  }
  return s;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

function tryExec(lab: Lab, ns: string, cmd: string, args: string[], timeoutMs: number): string {
  try {
    return lab.exec(ns, cmd, args, { timeoutMs });
  } catch (err) {
    const e = err as { stdout?: string | Buffer };
    return String(e.stdout ?? '');
  }
}

/** Polls a ping from nsA until one reply comes back (10 ms apart, as lib.sh wait_ping). */
export async function waitPing(lab: Lab, nsA: string, dst: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      lab.exec(nsA, 'ping', ['-n', '-q', '-c', '1', '-i', '0.01', '-w', '1', dst], { timeoutMs: 3000 });
      return true;
    } catch {
      await sleep(10);
    }
  }
  return false;
}

async function waitListening(lab: Lab, ns: string, addr: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (lab.exec(ns, 'ss', ['-ltnH']).includes(`${addr}:5201`)) return true;
    await sleep(50);
  }
  return false;
}

interface IperfJson {
  error?: string;
  end?: {
    sum_sent?: { seconds: number; bytes: number; bits_per_second: number; packets?: number };
    sum_received?: { bytes: number; bits_per_second: number };
    sum?: { packets?: number };
  };
}

function udpFigure(j: IperfJson, len: number): UdpFigure {
  const sent = j.end?.sum_sent;
  if (!sent) return { rx_mbps: 0, tx_mbps: 0, loss_pct: null };
  const rx = j.end?.sum_received?.bytes ?? 0;
  const pkts = sent.packets ?? j.end?.sum?.packets ?? sent.bytes / len;
  return {
    rx_mbps: (rx * 8) / sent.seconds / 1e6,
    tx_mbps: sent.bits_per_second / 1e6,
    loss_pct: pkts ? 100 * (1 - rx / len / pkts) : null,
    rx_pps: rx / len / sent.seconds,
  };
}

function parse(out: string): IperfJson {
  try {
    return JSON.parse(out) as IperfJson;
  } catch {
    return { error: `no JSON from iperf3: ${out.slice(0, 200)}` };
  }
}

export interface MeasureOptions {
  lab: Lab;
  nsA: string;
  nsB: string;
  dst: string;
  /** Daemon PIDs whose CPU is summed during the TCP test. */
  pids: number[];
  tcpSeconds?: number;
  udpSeconds?: number;
  /** Also UDP -l 36 (64-byte IP packets): packets per second. */
  pps?: boolean;
  /** Only the TCP test (e.g. while profiling). */
  tcpOnly?: boolean;
}

export async function measure(o: MeasureOptions): Promise<Omit<PeerResult, 'peer'>> {
  const { lab, nsA, nsB, dst } = o;
  const pingOut = tryExec(lab, nsA, 'ping', ['-n', '-c', '20', '-i', '0.05', '-w', '10', dst], 15_000);
  const rtt = median([...pingOut.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1])));
  const srv = lab.spawn(nsB, 'iperf3', ['-s', '-B', dst]);
  try {
    if (!(await waitListening(lab, nsB, dst, 5000))) throw new Error('iperf3 server did not listen');
    const c0 = cpuTicks(o.pids);
    const t0 = Date.now();
    const tcp = parse(tryExec(lab, nsA, 'timeout', ['30', 'iperf3', '-c', dst, '-t', String(o.tcpSeconds ?? 8), '-J'], 40_000));
    const c1 = cpuTicks(o.pids);
    const t1 = Date.now();
    const cpu = o.pids.length ? Math.round(((c1 - c0) / HZ / ((t1 - t0) / 1000)) * 100) : null;
    const r: Omit<PeerResult, 'peer'> = { rtt_ms: rtt, tcp_mbps: (tcp.end?.sum_received?.bits_per_second ?? 0) / 1e6, tcp_daemon_cpu_pct: cpu };
    if (tcp.error) r.error = `tcp: ${tcp.error}`;
    if (o.tcpOnly) return r;
    const lens: [keyof PeerResult, number][] = [['udp1372', 1372], ['udp1400', 1400]];
    if (o.pps) lens.push(['udp64', 36]);
    for (const [key, len] of lens) {
      await sleep(500);
      const j = parse(tryExec(lab, nsA, 'timeout', ['30', 'iperf3', '-c', dst, '-u', '-b', '0', '-l', String(len), '-t', String(o.udpSeconds ?? 5), '-J'], 40_000));
      (r as Record<string, unknown>)[key] = udpFigure(j, len);
    }
    return r;
  } finally {
    try {
      process.kill(srv.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    await Promise.race([srv.exited, sleep(2000)]);
  }
}
