/**
 * Issue 6, item 10, on the in-memory network: a hub with SPOKES spokes (default 1,000)
 * building PER_SPOKE shortcuts each (default 10, so 10,000 mesh tunnels). Every engine is
 * complete (IKE with X25519 handshakes, ESP, forwarding); the clock is a FakeClock, so the
 * figures are CPU time of this one process, not network time.
 *   node --expose-gc --import tsx bench/mesh-scale.bench.ts      (SPOKES=200 PER_SPOKE=5 for a quick run)
 * Reports: hub tunnels up, mesh setups per second (as relayed by the hub and as tunnels
 * established), and the memory each mesh tunnel costs (both ends' IKE and ESP state).
 */
import { FakeClock } from '../src/engine/clock.js';
import { MemoryLanPort } from '../src/engine/dataplane/memory-lan-port.js';
import { parseAddress } from '../src/engine/dataplane/address.js';
import { Engine, emptyEngineConfig, type EngineConfig } from '../src/engine/engine.js';
import { DEFAULT_MESH_SETTINGS } from '../src/engine/mesh/types.js';
import { MemoryNetwork } from '../src/engine/net/memory-network.js';
import { buildUdp } from '../src/lab/simulated-lan.js';

const SPOKES = Number(process.env.SPOKES ?? 1000);
const PER_SPOKE = Number(process.env.PER_SPOKE ?? 10);
const PSK = 'bench-psk-0123456789abcdef';
const gc = (globalThis as { gc?: () => void }).gc;

const lanOf = (i: number) => `10.${1 + (i >> 8)}.${i & 255}`;
const wanOf = (i: number) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const mesh = { ...DEFAULT_MESH_SETTINGS, shortHoldSec: 3600, initialRateLimitSec: 5, maxRateLimitSec: 60 };

function hubConfig(): EngineConfig {
  const c = emptyEngineConfig('hub');
  c.lanAddresses = ['10.0.0.1/24'];
  c.licence = { name: 'bench', vpn: 1_000_000, mesh: 200 };
  c.mesh = { ...mesh, operationMode: 'Hub' };
  for (let i = 1; i <= SPOKES; i++) {
    c.peers.push({ kind: 'spoke', name: `s${i}`, role: 'responder', localId: 'hub.bench', remoteId: `s${i}.bench`, psk: PSK, localTs: ['10.0.0.0/8'], remoteTs: [`${lanOf(i)}.0/24`], ikeProposals: ['chacha20poly1305-prfsha256-x25519'], espProposals: ['chacha20poly1305'] });
  }
  return c;
}

function spokeConfig(i: number): EngineConfig {
  const c = emptyEngineConfig(`s${i}`);
  c.lanAddresses = [`${lanOf(i)}.1/24`];
  c.licence = { name: 'bench', vpn: 10, mesh: 200 };
  c.mesh = { ...mesh, operationMode: 'Spoke' };
  c.publicEndpoint = { address: wanOf(i), port: 4500 };
  c.meshTemplate = { localId: `s${i}.bench`, psk: PSK, ikeProposals: ['chacha20poly1305-prfsha256-x25519'], espProposals: ['chacha20poly1305'] };
  c.peers.push({ kind: 'hub', name: 'HUB', role: 'initiator', remoteGateways: ['100.64.255.254:4500'], localId: `s${i}.bench`, remoteId: 'hub.bench', psk: PSK, localTs: [`${lanOf(i)}.0/24`], remoteTs: ['10.0.0.0/8'], ikeProposals: ['chacha20poly1305-prfsha256-x25519'], espProposals: ['chacha20poly1305'] });
  return c;
}

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const clock = new FakeClock();
const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 1 } });
const heap0 = heapMb();
const t0 = performance.now();
const hub = new Engine({ clock, transport: net.attach('100.64.255.254', 4500), config: hubConfig() });
const spokes: { engine: Engine; port: MemoryLanPort }[] = [];
for (let i = 1; i <= SPOKES; i++) {
  const port = new MemoryLanPort({ name: 'lan' });
  spokes.push({ engine: new Engine({ clock, transport: net.attach(wanOf(i), 4500), lanPorts: [port], config: spokeConfig(i) }), port });
}
const allUp = () => spokes.every((s) => s.engine.datapath.hasTunnel('HUB'));
if (!clock.advanceUntil(allUp, 120_000, 50)) throw new Error('not every spoke reached the hub');
const tStatic = performance.now() - t0;
const heapStatic = heapMb();

// Every spoke sends one datagram to each of its next PER_SPOKE neighbours; the receiver
// sees it arrive through the hub and asks for the shortcut (egress trigger).
const t1 = performance.now();
for (let i = 1; i <= SPOKES; i++) {
  const src = parseAddress(`${lanOf(i)}.10`)!;
  for (let k = 1; k <= PER_SPOKE; k++) {
    const j = ((i - 1 + k) % SPOKES) + 1;
    spokes[i - 1]!.port.inject(buildUdp(src, 40000 + k, parseAddress(`${lanOf(j)}.20`)!, 9, 0, 32));
  }
}
const want = SPOKES * PER_SPOKE;
const meshUp = () => spokes.reduce((n, s) => n + s.engine.spoke.tunnels().filter((t) => t.state === 'up' && t.initiator === 'local').length, 0);
let up = 0;
for (let step = 0; step < 600 && up < want; step++) {
  clock.advance(100);
  if (step % 10 === 9) up = meshUp();
}
up = meshUp();
const tMesh = performance.now() - t1;
const heapMesh = heapMb();

const relayed = hub.hub.counters.relayed;
console.log('| measurement | figure |');
console.log('| --- | ---: |');
console.log(`| spokes with their hub tunnel up | ${SPOKES} in ${(tStatic / 1000).toFixed(1)} s CPU (${((SPOKES / tStatic) * 1000).toFixed(0)} static setups/s, hub as responder) |`);
console.log(`| mesh tunnels wanted / up | ${want} / ${up} (simulated time ${(clock.now() / 1000).toFixed(0)} s) |`);
console.log(`| mesh requests relayed by the hub | ${relayed} (${((relayed / tMesh) * 1000).toFixed(0)} per second of CPU) |`);
console.log(`| mesh tunnels established per second (both ends' IKE_SA_INIT + IKE_AUTH) | ${((up / tMesh) * 1000).toFixed(0)} |`);
console.log(`| heap: empty / ${SPOKES} spokes up / with ${up} mesh tunnels | ${heap0.toFixed(0)} / ${heapStatic.toFixed(0)} / ${heapMesh.toFixed(0)} MiB |`);
console.log(`| memory per spoke (engine + hub SA, both ends) | ${(((heapStatic - heap0) * 1024) / SPOKES).toFixed(0)} KiB |`);
console.log(`| memory per mesh tunnel (IKE + ESP state at both ends) | ${up ? (((heapMesh - heapStatic) * 1024) / up).toFixed(1) : '-'} KiB |`);
for (const s of spokes) await s.engine.stop();
await hub.stop();
