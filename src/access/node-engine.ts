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
import { RealClock } from '../engine/clock.js';
import { openLanPort, type LanPort } from '../engine/dataplane/lan-port.js';
import { Engine } from '../engine/engine.js';
import { UdpTransport } from '../engine/net/udp-transport.js';
import { interfaceSettings, peerSettings } from '../config/index.js';
import { bindEngine, type EngineBinding } from '../router/engine-binding.js';
import type { Router } from '../router/index.js';

export type EngineMode = 'off' | 'auto' | 'tun' | 'memory';

export const ENGINE_MODES: readonly EngineMode[] = ['off', 'auto', 'tun', 'memory'];

export interface NodeEngine {
  engine: Engine;
  binding: EngineBinding;
  lanPorts: LanPort[];
  transport: UdpTransport;
  stop(): Promise<void>;
}

/** Linux interface names: at most 15 characters. */
function ifName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 15) || 'mg0';
}

export async function startNodeEngine(router: Router, mode: Exclude<EngineMode, 'off'>, say: (line: string) => void): Promise<NodeEngine> {
  const ifs = interfaceSettings(router.running());
  const wan = ifs.wan.find((w) => w.active);
  const port = wan?.natTPort || 4500;
  const transport = await UdpTransport.open({ address: wan?.bindAddress || '::', port });
  const lanPorts: LanPort[] = [];
  const remote = remoteNetworks(router);
  try {
    for (const lan of ifs.lan.filter((l) => l.active)) {
      const host = lan.address ? hostAddress(lan.address) : undefined;
      const opened = await openLanPort({ name: ifName(lan.name), mtu: lan.mtu, addresses: host ? [host] : [], routes: remote, mode });
      if (opened.fallbackReason) {
        say(opened.fallbackReason);
        router.log('interfaces', opened.fallbackReason);
      }
      lanPorts.push(opened.port);
    }
  } catch (err) {
    for (const p of lanPorts) await p.close();
    await transport.close();
    throw err;
  }
  const engine = new Engine({ clock: new RealClock(), transport, lanPorts });
  const binding = bindEngine(router, engine);
  say(`engine: IKE and ESP on UDP ${transport.local.address}:${transport.local.port}; LAN ${lanPorts.map((p) => `${p.name} (${p.kind})`).join(', ') || 'none'}`);
  return {
    engine,
    binding,
    lanPorts,
    transport,
    async stop() {
      binding.unbind();
      await engine.stop();
      for (const p of lanPorts) await p.close();
      await transport.close();
    },
  };
}

/** The address of a CIDR as a host prefix: 10.1.0.1/24 -> 10.1.0.1/32. */
function hostAddress(cidr: string): string {
  const addr = cidr.split('/')[0]!;
  return `${addr}/${addr.includes(':') ? 128 : 32}`;
}

/** The networks behind the configured peers (what the kernel routes into the TUN). */
function remoteNetworks(router: Router): string[] {
  const nets = new Set<string>();
  for (const p of peerSettings(router.running())) {
    if (!p.active) continue;
    for (const n of p.routing?.remoteNetworks ?? []) if (n !== '0.0.0.0/0' && n !== '::/0') nets.add(n);
  }
  return [...nets];
}
