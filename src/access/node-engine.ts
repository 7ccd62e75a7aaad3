/**
 * The tunnel engine of a node run by the daemon: the UDP endpoint of the first active WAN
 * row (IKE and ESP on its NAT-T port), a LAN port per active LAN row (a TUN device when
 * the process may create one, else in memory, and it says so), and the binding that keeps
 * the engine in step with the Router's configuration.
 *
 * The TUN device carries what goes through tunnels; the LAN itself stays on the host's own
 * interface. So the TUN gets the node's LAN address as a host address (/32, /128) and the
 * kernel routes the remote networks of the configured peers into it; the node's own LAN
 * prefix keeps its connected route on the real interface.
 */
import { lookup } from 'node:dns/promises';
import { RealClock } from '../engine/clock.js';
import { openLanPort, type LanPort } from '../engine/dataplane/lan-port.js';
import { TunLanPort } from '../engine/dataplane/tun-lan-port.js';
import { Engine } from '../engine/engine.js';
import { FastPath } from '../engine/fastpath/fast-path.js';
import type { Transport } from '../engine/net/types.js';
import { UdpTransport } from '../engine/net/udp-transport.js';
import { interfaceSettings, peerSettings, siteDirectorySettings, staticRoutes } from '../config/index.js';
import { SITE_DIRECTORY_NEXT_HOP } from '../router/engine-config.js';
import { bindEngine, type EngineBinding } from '../router/engine-binding.js';
import type { Router } from '../router/index.js';

export type EngineMode = 'off' | 'auto' | 'tun' | 'memory';

export const ENGINE_MODES: readonly EngineMode[] = ['off', 'auto', 'tun', 'memory'];

/**
 * The native fast path (src/engine/fastpath): 'on' (default) uses it when the addon is built
 * and a TUN LAN port is open, and says why not otherwise; 'off' keeps every packet on the
 * JavaScript path.
 */
export type FastPathMode = 'on' | 'off';
export const FAST_PATH_MODES: readonly FastPathMode[] = ['on', 'off'];

export interface NodeEngine {
  engine: Engine;
  binding: EngineBinding;
  lanPorts: LanPort[];
  /** IKE and ESP on the NAT-T port: the fast path's socket, or a UdpTransport without it. */
  transport: Transport;
  /** The native fast path, when it runs. */
  fastPath: FastPath | undefined;
  /** The plain IKE port (WAN IKE-Port, 500), when it could be opened. */
  ikeTransport: UdpTransport | undefined;
  stop(): Promise<void>;
}

/** Linux interface names: at most 15 characters. */
function ifName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 15) || 'mg0';
}

export async function startNodeEngine(
  router: Router,
  mode: Exclude<EngineMode, 'off'>,
  say: (line: string) => void,
  options: { fastPath?: FastPathMode } = {},
): Promise<NodeEngine> {
  const ifs = interfaceSettings(router.running());
  const wan = ifs.wan.find((w) => w.active);
  const port = wan?.natTPort || 4500;
  const bindAddress = wan?.bindAddress || '::';
  const lanPorts: LanPort[] = [];
  const remote = remoteNetworks(router);
  let fastPath: FastPath | undefined;
  let fastPathNote: string;
  if ((options.fastPath ?? 'on') === 'off') fastPathNote = 'off (switched off: --fast-path off or MESHGATE_FAST_PATH=off): every packet takes the JavaScript path';
  else if (mode === 'memory') fastPathNote = 'off (in-memory LAN ports): every packet takes the JavaScript path';
  else {
    const opened = FastPath.open({ address: bindAddress, port });
    if ('fastPath' in opened) fastPath = opened.fastPath;
    fastPathNote = 'fastPath' in opened ? '' : `off (${opened.reason}): every packet takes the JavaScript path`;
  }
  let transport: Transport;
  try {
    transport = fastPath ? fastPath.transport : await UdpTransport.open({ address: bindAddress, port });
  } catch (err) {
    throw err;
  }
  try {
    for (const lan of ifs.lan.filter((l) => l.active)) {
      const host = lan.address ? hostAddress(lan.address) : undefined;
      const opened = await openLanPort({ name: ifName(lan.name), mtu: lan.mtu, addresses: host ? [host] : [], routes: remote, mode });
      if (opened.fallbackReason) {
        say(opened.fallbackReason);
        router.log('interfaces', opened.fallbackReason);
      }
      // The fast path reads and writes the first TUN port; further ports stay on the JavaScript path.
      if (fastPath && opened.port instanceof TunLanPort && !lanPorts.some((p) => p.kind === 'tun')) lanPorts.push(fastPath.wrapTun(opened.port));
      else lanPorts.push(opened.port);
    }
  } catch (err) {
    for (const p of lanPorts) await p.close();
    await transport.close();
    throw err;
  }
  if (fastPath && !lanPorts.some((p) => p.kind === 'tun')) {
    // Nothing to read: the socket goes back to the JavaScript path.
    await fastPath.transport.close();
    fastPath = undefined;
    fastPathNote = 'off (no TUN LAN port): every packet takes the JavaScript path';
    transport = await UdpTransport.open({ address: bindAddress, port });
  }
  // IKE's own port (WAN IKE-Port, 500: where a default-configured gateway starts); its SAs float to the NAT-T port.
  let ikeTransport: UdpTransport | undefined;
  const ikePort = wan?.ikePort ?? 500;
  if (ikePort && ikePort !== port) {
    try {
      ikeTransport = await UdpTransport.open({ address: bindAddress, port: ikePort });
    } catch (err) {
      const line = `engine: no IKE listener on UDP ${ikePort} (${(err as Error).message}); peers must start on the NAT-T port ${port}`;
      say(line);
      router.log('interfaces', line);
    }
  }
  // Site gateways given by host name (site directory rows) are resolved through the system's resolver.
  const resolveHost = async (host: string) => (await lookup(host)).address;
  const engine = new Engine({ clock: new RealClock(), transport, lanPorts, resolveHost });
  if (ikeTransport) engine.ike.attachIkeTransport(ikeTransport);
  fastPath?.start(engine);
  const binding = bindEngine(router, engine);
  const unregister = fastPath ? extendForwardingShow(router, fastPath) : () => {};
  say(`engine: IKE and ESP on UDP ${transport.local.address}:${transport.local.port}${ikeTransport ? `, IKE on UDP ${ikeTransport.local.port}` : ''}; LAN ${lanPorts.map((p) => `${p.name} (${p.kind})`).join(', ') || 'none'}`);
  const fpLine = fastPath ? `fast path: on (native ESP and forwarding threads, ${fastPath.openssl}, recvmmsg/sendmmsg batches)` : `fast path: ${fastPathNote}`;
  say(fpLine);
  router.log('vpn', fpLine);
  return {
    engine,
    binding,
    lanPorts,
    transport,
    fastPath,
    ikeTransport,
    async stop() {
      unregister();
      binding.unbind();
      await engine.stop();
      fastPath?.stop();
      for (const p of lanPorts) await p.close();
      await transport.close();
      await ikeTransport?.close();
    },
  };
}

/** `show forwarding` with the fast path's counters and drops added to the engine's. */
function extendForwardingShow(router: Router, fp: FastPath): () => void {
  const base = router.showProvider('forwarding');
  if (!base) return () => {};
  return router.registerShow('forwarding', {
    help: base.help,
    run: async (args, ctx) => {
      const blocks = await base.run(args, ctx);
      for (const b of blocks) if (b.kind === 'keyvalue' && b.title === 'forwarding') fp.addToTotals(b.pairs as [string, unknown][]);
      return [
        ...blocks,
        { kind: 'keyvalue', title: 'fast path', pairs: fp.report() },
        { kind: 'table', title: 'Fast-path drops', columns: ['Reason', 'Packets'], rows: fp.drops() },
      ];
    },
  });
}

/** The address of a CIDR as a host prefix: 10.1.0.1/24 -> 10.1.0.1/32. */
function hostAddress(cidr: string): string {
  const addr = cidr.split('/')[0]!;
  return `${addr}/${addr.includes(':') ? 128 : 32}`;
}

/** What the kernel routes into the TUN: the peers' remote networks, static routes via a peer, site base routes. */
function remoteNetworks(router: Router): string[] {
  const c = router.running();
  const nets = new Set<string>();
  const peers = peerSettings(c);
  for (const p of peers) {
    if (!p.active) continue;
    for (const n of p.routing?.remoteNetworks ?? []) if (n !== '0.0.0.0/0' && n !== '::/0') nets.add(n);
  }
  const names = new Set(peers.filter((p) => p.active).map((p) => p.name.toLowerCase()));
  for (const r of staticRoutes(c)) {
    if (!r.active || !r.prefix || r.prefix === '0.0.0.0/0' || r.prefix === '::/0') continue;
    const via = r.via.toLowerCase();
    if (names.has(via) || (via === SITE_DIRECTORY_NEXT_HOP.toLowerCase() && siteDirectorySettings(c).operating)) nets.add(r.prefix);
  }
  return [...nets];
}
