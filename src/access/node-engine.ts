/**
 * The tunnel engine of a node run by the daemon: the UDP endpoint of the first active WAN
 * row (IKE and ESP on its NAT-T port), a LAN port per active LAN row (a TUN device when
 * the process may create one, else in memory, and it says so), and the binding that keeps
 * the engine in step with the Router's configuration.
 */
import { RealClock } from '../engine/clock.js';
import { openLanPort, type LanPort } from '../engine/dataplane/lan-port.js';
import { Engine } from '../engine/engine.js';
import { UdpTransport } from '../engine/net/udp-transport.js';
import { interfaceSettings } from '../config/index.js';
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
  try {
    for (const lan of ifs.lan.filter((l) => l.active)) {
      const opened = await openLanPort({ name: ifName(lan.name), mtu: lan.mtu, addresses: lan.address ? [lan.address] : [], mode });
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
