/**
 * meshgate against the kernel-assisted VPN peers, on the peers' own two-namespace topology
 * (issue 4, item 9), and mesh switchover timing in namespaces (issue 6, item 10). Root only.
 *
 *   sudo node --import tsx bench/netns/run.ts [--peers "baseline strongswan openvpn tinc nebula"]
 *        [--no-peers] [--ciphers AES-GCM-256,CHACHA20-POLY1305] [--mesh-rounds 3]
 *        [--profile] [--js-path] [--json FILE]
 *
 * Build first (`npx tsc -p tsconfig.build.json`): the daemons run bin/meshgate (dist/).
 * Needs the Debian packages iperf3 jq iproute2 iputils-ping, and for the peers
 * strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins
 * openvpn tinc nebula.
 *
 * 1. The peers: each script of ../shared/bench-peers (baseline = bare veth, strongswan =
 *    charon with kernel-libipsec, openvpn, tinc, nebula) runs from that folder, in this same
 *    run, with OUT_DIR in a temporary directory; its last output line is its JSON result.
 *    They use their own namespaces pb-a / pb-b and clean up after themselves.
 * 2. meshgate on the same topology, in namespaces mg-pa-<tag> / mg-pb-<tag>: one veth
 *    192.0.2.1/24 <-> 192.0.2.2/24, inner addresses 10.99.0.1 <-> 10.99.0.2 (the LAN address
 *    of each node, on its TUN LAN-1, MTU 1400 as the peers' inner MTU), one static IKEv2
 *    tunnel (PSK, ESP in UDP/4500), node A initiates. Per cipher: setup time (B's daemon up;
 *    from spawning A's daemon to the first ping reply, 10 ms polling, as the peers measure
 *    it; also from A's engine being up), then the same figures as lib.sh's `measure`, plus
 *    64-byte packets per second (iperf3 UDP -l 36), measured also on the bare veth of the
 *    same namespaces before the daemons start.
 *    The daemons run with the native fast path (the default; the row fails when a daemon says
 *    it is off). With --js-path every cipher is measured a second time with
 *    `--fast-path off` (the JavaScript packet path), in the same run.
 * 3. With --profile: one more pair (first cipher), both daemons under node --cpu-prof during
 *    an 8 s TCP transfer; the top functions by self time.
 * 4. Mesh: the hub + two spokes + hosts topology of test/e2e/vpn-lab.ts, fresh per round:
 *    host1 pings host2 every 2 ms; the time from the first echo request to the first reply
 *    on the direct path (TTL one higher than through the hub), the packets the hub
 *    hairpinned, and the switchover's Packets-Before.
 *
 * Prints one table (markdown). Everything created is removed at the end, also on errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, sleep, type Proc } from '../../test/helpers/netns.js';
import { BIN, ensureBuilt, runBin } from '../../test/e2e/shell-harness.js';
import { VpnLab } from '../../test/e2e/vpn-lab.js';
import { measure, waitPing, type PeerResult } from './measure.js';
import { summarise } from './profile-summary.js';

const PEERS_DIR = '/work/shared/bench-peers';
const PSK = 'mg-bench-psk-0123456789abcdef';

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: 'baseline strongswan openvpn tinc nebula' },
    'no-peers': { type: 'boolean', default: false },
    ciphers: { type: 'string', default: 'AES-GCM-256,CHACHA20-POLY1305' },
    'mesh-rounds': { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    'js-path': { type: 'boolean', default: false },
    json: { type: 'string' },
    'peers-dir': { type: 'string', default: PEERS_DIR },
  },
});

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ---- 1. the peers ------------------------------------------------------------------------
function runPeers(): PeerResult[] {
  const out = mkdtempSync(join(tmpdir(), 'mg-bench-peers-'));
  const results: PeerResult[] = [];
  try {
    for (const p of args.peers!.split(/\s+/).filter(Boolean)) {
      log(`peer ${p}`);
      const r = spawnSync('timeout', ['300', `./${p}.sh`], { cwd: args['peers-dir'], env: { ...process.env, OUT_DIR: out }, encoding: 'utf8', maxBuffer: 1 << 24 });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      try {
        results.push(JSON.parse(last) as PeerResult);
      } catch {
        results.push({ peer: p, error: `script exit ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` });
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return results;
}

// ---- 2. meshgate on the pair topology ----------------------------------------------------
function nodeScript(me: 'a' | 'b', cipher: string): string {
  const [myIn, peerIn, myWan, peerWan, peer] = me === 'a' ? ['10.99.0.1', '10.99.0.2', '192.0.2.1', '192.0.2.2', 'B'] : ['10.99.0.2', '10.99.0.1', '192.0.2.2', '192.0.2.1', 'A'];
  return [
    'begin',
    `set /Setup/Name ${me}`,
    'cd /Setup/Interfaces/LAN',
    `set LAN-1 yes ${myIn}/32`,
    'cd /Setup/Interfaces/WAN',
    `set WAN-1 {Public-Endpoint} ${myWan}:4500`,
    'cd /Setup/VPN/IKEv2/Encryption',
    `set BENCH {IKE-SA-Ciphers} ${cipher} {Child-SA-Ciphers} ${cipher}`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
    `set ${peer} {Local-ID} ${me}.pb {Local-Password} ${PSK} {Remote-ID} ${peer.toLowerCase()}.pb`,
    'cd /Setup/VPN/IKEv2/Routing',
    `set ${peer} {Local-Networks} ${myIn}/32 {Remote-Networks} ${peerIn}/32`,
    'cd /Setup/VPN/IKEv2/Peers',
    me === 'a' ? `set B yes ${peerWan}:4500 initiator static {Auth} B {Routing} B {Encryption} BENCH` : `set A yes * responder static {Auth} A {Routing} A {Encryption} BENCH`,
    `commit comment "bench ${me}"`,
  ].join('\n');
}

async function startDaemon(lab: Lab, ns: string, dir: string, nodeArgs: string[], fastPath: 'on' | 'off'): Promise<Proc> {
  const p = lab.spawn(ns, process.execPath, [...nodeArgs, BIN, 'daemon', '--config-dir', dir, '--engine', 'tun', '--fast-path', fastPath]);
  const end = Date.now() + 20_000;
  while (!/fast path: (on|off)/.test(p.output())) {
    if (p.child.exitCode !== null || /engine not started/.test(p.output())) throw new Error(`daemon in ${ns}: ${p.output()}`);
    if (Date.now() > end) throw new Error(`daemon in ${ns} not ready: ${p.output()}`);
    await sleep(5);
  }
  if (fastPath === 'on' && !/fast path: on/.test(p.output())) throw new Error(`daemon in ${ns} runs without the fast path: ${p.output()}`);
  return p;
}

async function stopDaemon(p: Proc): Promise<void> {
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([p.exited, sleep(10_000)]);
}

interface PairRun {
  result: PeerResult;
  veth?: PeerResult;
  profile?: string[];
}

async function meshgatePair(cipher: string, o: { profileDir?: string; withVeth?: boolean; fastPath?: 'on' | 'off' }): Promise<PairRun> {
  const lab = new Lab();
  const fastPath = o.fastPath ?? 'on';
  const label = `meshgate (${cipher}, ${fastPath === 'on' ? 'fast path' : 'JavaScript path'}${o.profileDir ? ', --cpu-prof' : ''})`;
  try {
    const nsA = lab.ns('pa');
    const nsB = lab.ns('pb');
    lab.link(nsA, 'wan0', '192.0.2.1/24', nsB, 'wan0', '192.0.2.2/24');
    const out: PairRun = { result: { peer: label } };
    if (o.withVeth) {
      log('bare veth of the meshgate namespaces (for 64-byte packets per second)');
      out.veth = { peer: 'veth (mg namespaces)', config: 'veth, MTU 1500, no encryption', ...(await measure({ lab, nsA, nsB, dst: '192.0.2.2', pids: [], pps: true })) };
    }
    const dirs = { a: join(lab.dir, 'a'), b: join(lab.dir, 'b') };
    for (const me of ['a', 'b'] as const) {
      mkdirSync(dirs[me]);
      const f = join(dirs[me], 'setup.lcs');
      writeFileSync(f, nodeScript(me, cipher) + '\n');
      const r = await runBin(['--config-dir', dirs[me], '-f', f], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`configuring ${me}: ${r.stdout}${r.stderr}`);
    }
    const prof = (side: string) => (o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(o.profileDir, side)] : []);
    const b = await startDaemon(lab, nsB, dirs.b, prof('b'), fastPath);
    const t0 = Date.now();
    const a = await startDaemon(lab, nsA, dirs.a, prof('a'), fastPath);
    const tEngine = Date.now();
    if (!(await waitPing(lab, nsA, '10.99.0.2', 30_000))) throw new Error(`no ping through the tunnel; A: ${a.output()} B: ${b.output()}`);
    const tPing = Date.now();
    log(`${label}: first ping ${tPing - t0} ms after spawning A (${tPing - tEngine} ms after its engine was up)`);
    const m = await measure({ lab, nsA, nsB, dst: '10.99.0.2', pids: [a.pid, b.pid], pps: !o.profileDir, tcpOnly: !!o.profileDir });
    out.result = {
      peer: label,
      config: `meshgate daemon --engine tun --fast-path ${fastPath}, IKEv2 PSK, ESP ${cipher} in UDP/4500, TUN MTU 1400, Node ${process.version}`,
      setup_ms: tPing - t0,
      setup_engine_ms: tPing - tEngine,
      ...m,
    };
    if (o.profileDir) {
      await stopDaemon(a);
      await stopDaemon(b);
      out.profile = [];
      for (const side of ['a', 'b']) {
        const d = join(o.profileDir, side);
        const files = (() => {
          try {
            return readdirSync(d).filter((f) => f.endsWith('.cpuprofile'));
          } catch {
            return [];
          }
        })();
        if (!files.length) {
          out.profile.push(`node ${side}: no profile written (daemon did not exit cleanly)`);
          continue;
        }
        const s = summarise(join(d, files[0]!), 12);
        out.profile.push(`node ${side === 'a' ? 'A (iperf3 client side: TUN read, seal, send)' : 'B (server side: receive, open, TUN write)'}: ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s sampled`);
        out.profile.push('', '| self % of busy | function |', '|---:|---|');
        for (const l of s.lines) out.profile.push(`| ${l.pct.toFixed(1)} | \`${l.fn.length > 90 ? `${l.fn.slice(0, 87)}...` : l.fn}\` |`);
        out.profile.push('');
      }
    }
    return out;
  } catch (err) {
    return { result: { peer: label, error: (err as Error).message.slice(0, 500) } };
  } finally {
    await lab.cleanup();
  }
}

// ---- 4. mesh switchover timing --------------------------------------------------------------
interface MeshRound {
  timeToDirectMs: number | null;
  hubPackets: number;
  packetsBefore: number | null;
  lost: number;
  error?: string;
}

async function meshRound(): Promise<MeshRound> {
  const v = new VpnLab({ branches: 2, mesh: true });
  try {
    await v.configure();
    await v.start();
    await v.waitTunnelsUp(30_000);
    const h0 = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');
    let out = '';
    try {
      out = v.lab.exec(v.hosts[0]!.ns, 'ping', ['-D', '-n', '-c', '250', '-i', '0.002', '-W', '1', v.hosts[1]!.address], { timeoutMs: 20_000 });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    const replies = [...out.matchAll(/^\[([0-9.]+)\] .*icmp_seq=(\d+) ttl=(\d+) time=([0-9.]+) ms/gm)].map((m) => ({ at: Number(m[1]) * 1000, seq: Number(m[2]), ttl: Number(m[3]), rtt: Number(m[4]) }));
    const tx = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
    const first = replies.find((r) => r.seq === 1) ?? replies[0];
    const hubTtl = first?.ttl;
    const direct = replies.find((r) => hubTtl !== undefined && r.ttl > hubTtl);
    // send time of echo request 1: its reply's arrival minus its RTT
    const sent1 = first ? first.at - first.rtt - (first.seq - 1) * 2 : undefined;
    const hubPackets = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin') - h0;
    const sw = await v.cli(v.spokes[0]!, 'show switchovers');
    const pb = /icmp 10\.1\.0\.5\S* > 10\.2\.0\.5\S*\s+HUB\s+\S+\s+(\d+)/.exec(sw);
    return {
      timeToDirectMs: direct && sent1 !== undefined ? direct.at - sent1 : null,
      hubPackets,
      packetsBefore: pb ? Number(pb[1]) : null,
      lost: tx - replies.length,
    };
  } catch (err) {
    return { timeToDirectMs: null, hubPackets: 0, packetsBefore: null, lost: 0, error: (err as Error).message.slice(0, 300) };
  } finally {
    await v.cleanup();
  }
}

// ---- table ---------------------------------------------------------------------------------
const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

function row(r: PeerResult): string {
  if (r.error && r.tcp_mbps === undefined) return `| ${r.peer} | FAILED: ${r.error} |||||||||`;
  const cpg = r.tcp_daemon_cpu_pct !== null && r.tcp_daemon_cpu_pct !== undefined && r.tcp_mbps ? r.tcp_daemon_cpu_pct / 100 / (r.tcp_mbps / 1000) : null;
  const udp = (u: PeerResult['udp1372']) => (u ? `${f(u.rx_mbps)} (${f(u.loss_pct, 1)} %)` : '-');
  const setup = r.setup_engine_ms !== undefined ? `${f(r.setup_ms)} (${f(r.setup_engine_ms)})` : f(r.setup_ms);
  return `| ${r.peer} | ${setup} | ${f(r.rtt_ms, 3)} | ${f(r.tcp_mbps)} | ${f(r.tcp_daemon_cpu_pct)} | ${f(cpg, 2)} | ${udp(r.udp1372)} | ${udp(r.udp1400)} | ${r.udp64?.rx_pps !== undefined ? f(r.udp64.rx_pps) : '-'} |`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces, TUN devices)');
  ensureBuilt();
  const started = new Date();
  const results: PeerResult[] = [];
  if (!args['no-peers']) results.push(...runPeers());
  const ciphers = args.ciphers!.split(',').filter(Boolean);
  let veth: PeerResult | undefined;
  for (const [i, c] of ciphers.entries()) {
    log(`meshgate ${c}`);
    const r = await meshgatePair(c, { withVeth: i === 0 });
    if (r.veth) veth = r.veth;
    results.push(r.result);
    if (args['js-path']) {
      log(`meshgate ${c}, JavaScript path`);
      results.push((await meshgatePair(c, { fastPath: 'off' })).result);
    }
  }
  if (veth) results.splice(results.findIndex((r) => r.peer.startsWith('meshgate')), 0, veth);
  let profile: string[] | undefined;
  if (args.profile) {
    const dir = mkdtempSync(join(tmpdir(), 'mg-bench-prof-'));
    try {
      // node --cpu-prof sees JavaScript only: profile the JavaScript path
      log(`meshgate ${ciphers[0]} under --cpu-prof (JavaScript path)`);
      const r = await meshgatePair(ciphers[0]!, { profileDir: dir, fastPath: 'off' });
      results.push(r.result);
      profile = r.profile;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const rounds: MeshRound[] = [];
  for (let i = 0; i < Number(args['mesh-rounds']); i++) {
    log(`mesh round ${i + 1}`);
    rounds.push(await meshRound());
  }

  const lines: string[] = [];
  lines.push(`Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}, Node ${process.version}.`);
  lines.push('');
  lines.push('| peer | setup ms (from engine up) | RTT ms (median) | TCP Mbit/s | daemon CPU % (TCP) | CPU cores per Gbit/s | UDP -l 1372 rx Mbit/s (loss) | UDP -l 1400 rx Mbit/s (loss) | UDP 64-byte packets/s rx |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) lines.push(row(r));
  lines.push('');
  lines.push('| mesh round | first packet -> direct path, ms | packets hairpinned at the hub | switchover Packets-Before | pings lost |');
  lines.push('|---|---:|---:|---:|---:|');
  rounds.forEach((m, i) => lines.push(m.error ? `| ${i + 1} | FAILED: ${m.error} ||||` : `| ${i + 1} | ${f(m.timeToDirectMs, 1)} | ${m.hubPackets} | ${f(m.packetsBefore)} | ${m.lost} |`));
  if (profile) lines.push('', ...profile);
  console.log(lines.join('\n'));
  if (args.json) writeFileSync(args.json, JSON.stringify({ started, results, rounds, profile }, null, 2));
}

try {
  await main();
} catch (err) {
  console.error(`bench/netns/run.ts: ${(err as Error).message}`);
  process.exitCode = 1;
}
