/**
 * A lab on the in-memory network: a hub and N branches, each a full Engine with an
 * in-memory LAN port and simulated hosts. Addresses follow the lab convention:
 *   hub      LAN 10.0.0.0/24 (router 10.0.0.1)   WAN 198.51.100.1
 *   branchI  LAN 10.I.0.0/24 (router 10.I.0.1)   WAN 198.51.100.(10+I)
 * The WAN addresses are documentation addresses that exist only on the in-memory network.
 */
import type { Clock } from '../engine/clock.js';
import { MemoryLanPort } from '../engine/dataplane/memory-lan-port.js';
import { Engine, emptyEngineConfig, type EngineConfig, type EnginePeer } from '../engine/engine.js';
import { DEFAULT_MESH_SETTINGS, type MeshSettings } from '../engine/mesh/types.js';
import { MemoryNetwork, type LinkProps } from '../engine/net/memory-network.js';
import { licenceProfile } from '../../menus/licence.js';
import type { LicenceProfile } from '../engine/mesh/licence.js';
import { SimulatedLan } from './simulated-lan.js';

function caps(model: string): LicenceProfile {
  const p = licenceProfile(model);
  if (!p) throw new RangeError(`no licence model ${model}`);
  return { name: p.model, vpn: p.vpnTunnels, mesh: p.meshTunnels };
}

export const LAB_PSK = 'meshgate-lab-psk-0123456789';
export const LAB_MESH_PSK = 'meshgate-lab-mesh-psk-0123456789';
export const IKE_PORT = 4500;

export interface LabNode {
  name: string;
  wan: string;
  lanNetwork: string;
  routerAddress: string;
  engine: Engine;
  port: MemoryLanPort;
  lan: SimulatedLan;
  config: EngineConfig;
}

export interface LabOptions {
  clock: Clock;
  branches?: number;
  /** Mesh on (hub relays, branches build shortcuts) or off (plain hub and spoke). */
  mesh?: boolean;
  meshSettings?: Partial<MeshSettings>;
  licenceProfile?: string;
  link?: Partial<LinkProps>;
  seed?: number;
  /** Branches that sit behind a NAT without a public address (not reachable from outside). */
  natted?: number[];
}

export function hubWan(): string {
  return '198.51.100.1';
}

export function branchWan(i: number): string {
  return `198.51.100.${10 + i}`;
}

export function lanOf(name: string): { network: string; router: string } {
  const i = name === 'hub' ? 0 : Number(name.replace('branch', ''));
  return { network: `10.${i}.0.0/24`, router: `10.${i}.0.1` };
}

/** The hub's engine configuration: one responder peer per branch. */
export function hubConfig(branches: number, opts: Pick<LabOptions, 'mesh' | 'meshSettings' | 'licenceProfile'>): EngineConfig {
  const cfg = emptyEngineConfig('hub');
  cfg.lanAddresses = ['10.0.0.1/24'];
  cfg.licence = caps(opts.licenceProfile ?? 'Central-250');
  for (let i = 1; i <= branches; i++) {
    const peer: EnginePeer = {
      kind: 'spoke',
      name: `branch${i}`,
      role: 'responder',
      localId: 'hub.lab',
      remoteId: `branch${i}.lab`,
      psk: LAB_PSK,
      localTs: ['10.0.0.0/8'],
      remoteTs: [`10.${i}.0.0/24`],
    };
    cfg.peers.push(peer);
  }
  cfg.mesh = { ...DEFAULT_MESH_SETTINGS, ...opts.meshSettings, operationMode: opts.mesh ? 'Hub' : 'Disabled' };
  return cfg;
}

/** A branch's configuration: one initiator peer to the hub, and the mesh template. */
export function branchConfig(i: number, opts: Pick<LabOptions, 'mesh' | 'meshSettings' | 'licenceProfile'> & { publicEndpoint?: boolean }): EngineConfig {
  const cfg = emptyEngineConfig(`branch${i}`);
  cfg.lanAddresses = [`10.${i}.0.1/24`];
  cfg.licence = caps(opts.licenceProfile ?? 'Branch-25');
  cfg.peers.push({
    kind: 'hub',
    name: 'HUB',
    role: 'initiator',
    remoteGateways: [`${hubWan()}:${IKE_PORT}`],
    localId: `branch${i}.lab`,
    remoteId: 'hub.lab',
    psk: LAB_PSK,
    localTs: [`10.${i}.0.0/24`],
    remoteTs: ['10.0.0.0/8'],
  });
  cfg.mesh = { ...DEFAULT_MESH_SETTINGS, ...opts.meshSettings, operationMode: opts.mesh ? 'Spoke' : 'Disabled' };
  cfg.meshTemplate = { localId: `branch${i}.lab`, psk: LAB_MESH_PSK };
  if (opts.publicEndpoint !== false) cfg.publicEndpoint = { address: branchWan(i), port: IKE_PORT };
  return cfg;
}

export class MemoryLab {
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, LabNode>();

  constructor(readonly options: LabOptions) {
    const clock = options.clock;
    this.net = new MemoryNetwork(clock, { seed: options.seed ?? 7, defaultLink: { latencyMs: 5, jitterMs: 0, loss: 0, ...options.link } });
    const n = options.branches ?? 3;
    this.addNode('hub', hubWan(), hubConfig(n, options));
    for (let i = 1; i <= n; i++) {
      const natted = options.natted?.includes(i) ?? false;
      this.addNode(`branch${i}`, natted ? `192.168.${i}.2` : branchWan(i), branchConfig(i, { ...options, publicEndpoint: !natted }), natted ? `203.0.113.${i}` : undefined);
    }
  }

  private addNode(name: string, wan: string, config: EngineConfig, natPublic?: string): void {
    const clock = this.options.clock;
    const transport = this.net.attach(wan, IKE_PORT, natPublic ? { nat: { publicAddress: natPublic } } : {});
    const { network, router } = lanOf(name);
    let lan: SimulatedLan | undefined;
    const port = new MemoryLanPort({ name: 'lan', onSend: (p) => lan?.receive(p) });
    lan = new SimulatedLan(port, network, router, clock);
    const engine = new Engine({ clock, transport, lanPorts: [port], config });
    this.nodes.set(name, { name, wan, lanNetwork: network, routerAddress: router, engine, port, lan, config });
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  branches(): LabNode[] {
    return [...this.nodes.values()].filter((n) => n.name !== 'hub');
  }

  /** True when every branch has its hub tunnel up. */
  allUp(): boolean {
    return this.branches().every((b) => b.engine.datapath.hasTunnel('HUB'));
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.engine.stop();
  }
}
