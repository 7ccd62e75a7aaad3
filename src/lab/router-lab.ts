/**
 * The lab behind `meshgate lab` (and `npm start`): a hub and N branches, each a full node
 * (Router with its own config directory, Engine, binding) on the in-memory network, each
 * configured by the command script an administrator would type (lab-scripts.ts). Hosts on
 * every branch LAN are simulated; `startTraffic()` makes branches talk to each other so
 * mesh tunnels form while you watch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../engine/clock.js';
import { MemoryLanPort } from '../engine/dataplane/memory-lan-port.js';
import { Engine } from '../engine/engine.js';
import { MemoryNetwork } from '../engine/net/memory-network.js';
import { bindEngine, type EngineBinding } from '../router/engine-binding.js';
import { Router } from '../router/index.js';
import { createShellSession, type OutputBlock } from '../shell/index.js';
import { branchScript, branchWanAddress, hubScript, hubWanAddress, type LabScriptOptions } from './lab-scripts.js';
import { SimulatedLan } from './simulated-lan.js';

export interface RouterLabNode {
  name: string;
  router: Router;
  engine: Engine;
  binding: EngineBinding;
  lan: SimulatedLan;
  lanNetwork: string;
}

export interface RouterLabOptions extends Partial<LabScriptOptions> {
  clock: Clock;
  /** Where the nodes' config directories go (default: a new temp dir, removed on stop). */
  dir?: string;
  latencyMs?: number;
}

export class RouterLabError extends Error {
  override name = 'RouterLabError';
}

export class RouterLab {
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, RouterLabNode>();
  private readonly ownDir: boolean;
  readonly dir: string;
  private traffic: { stop(): void }[] = [];

  private constructor(readonly options: RouterLabOptions) {
    this.net = new MemoryNetwork(options.clock, { defaultLink: { latencyMs: options.latencyMs ?? 5 } });
    this.ownDir = !options.dir;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mg-lab-'));
  }

  static async start(options: RouterLabOptions): Promise<RouterLab> {
    const lab = new RouterLab(options);
    const o: LabScriptOptions = { branches: options.branches ?? 3, mesh: options.mesh ?? true, ...(options.shortHoldSec !== undefined ? { shortHoldSec: options.shortHoldSec } : {}), ...(options.trigger ? { trigger: options.trigger } : {}) };
    try {
      await lab.addNode('hub', hubWanAddress(), '10.0.0.0/24', '10.0.0.1', hubScript(o));
      for (let i = 1; i <= o.branches; i++) await lab.addNode(`branch${i}`, branchWanAddress(i), `10.${i}.0.0/24`, `10.${i}.0.1`, branchScript(i, o));
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  }

  private async addNode(name: string, wan: string, lanNetwork: string, routerAddress: string, script: string[]): Promise<void> {
    const clock = this.options.clock;
    const router = await Router.open({ configDir: join(this.dir, name), clock, name });
    const shell = createShellSession({ router, user: 'lab', access: 'admin' });
    const errors: string[] = [];
    const sink = { write: (b: OutputBlock) => void (b.kind === 'error' && errors.push(b.message)) };
    for (const line of script) {
      const r = await shell.execute(line, { sink });
      if (r.exitCode !== 0) throw new RouterLabError(`lab ${name}: '${line}' failed: ${errors.join('; ')}`);
    }
    shell.close();
    const transport = this.net.attach(wan, 4500);
    let lan: SimulatedLan | undefined;
    const port = new MemoryLanPort({ name: 'LAN-1', onSend: (p) => lan?.receive(p) });
    lan = new SimulatedLan(port, lanNetwork, routerAddress, clock);
    const engine = new Engine({ clock, transport, lanPorts: [port] });
    const binding = bindEngine(router, engine);
    this.nodes.set(name, { name, router, engine, binding, lan, lanNetwork });
  }

  node(name: string): RouterLabNode | undefined {
    return this.nodes.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.nodes.keys()];
  }

  allUp(): boolean {
    return [...this.nodes.values()].filter((n) => n.name !== 'hub').every((n) => n.engine.datapath.hasTunnel('HUB'));
  }

  /** Resolves true once every branch has its hub tunnel, false after timeoutMs (on the lab's clock). */
  whenUp(timeoutMs = 10_000): Promise<boolean> {
    const clock = this.options.clock;
    const start = clock.now();
    return new Promise((resolve) => {
      const check = () => {
        if (this.allUp()) resolve(true);
        else if (clock.now() - start >= timeoutMs) resolve(false);
        else clock.setTimer(20, check);
      };
      check();
    });
  }

  /**
   * Conversations between branches: every `everyMs`, a host on one branch pings a host on
   * another (pairs in turn), so tunnels form, carry traffic, idle out and form again.
   */
  startTraffic(opts: { everyMs?: number; pings?: number } = {}): void {
    const branches = [...this.nodes.values()].filter((n) => n.name !== 'hub');
    if (branches.length < 2) return;
    const clock = this.options.clock;
    let k = 0;
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      const a = branches[k % branches.length]!;
      const b = branches[(k + 1 + Math.floor(k / branches.length)) % branches.length]!;
      k++;
      if (a !== b) {
        const host = (n: RouterLabNode, h: number) => n.lanNetwork.replace(/0\/24$/, String(h));
        void a.lan.ping(host(a, 10 + (k % 50)), host(b, 20 + (k % 50)), { count: opts.pings ?? 5, intervalMs: 200 });
      }
      timer = clock.setTimer(opts.everyMs ?? 3000, tick);
    };
    let timer = clock.setTimer(500, tick);
    this.traffic.push({
      stop: () => {
        stopped = true;
        timer.cancel();
      },
    });
  }

  async stop(): Promise<void> {
    for (const t of this.traffic.splice(0)) t.stop();
    for (const n of this.nodes.values()) {
      n.binding.unbind();
      await n.engine.stop();
      await n.router.close();
    }
    this.nodes.clear();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
