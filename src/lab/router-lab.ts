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
import { SqliteSiteBackend } from '../engine/sites/sqlite-backend.js';
import { branchScript, branchWanAddress, hubScript, hubWanAddress, siteNetwork, sitePsk, siteScript, siteWanAddress, type LabScriptOptions } from './lab-scripts.js';
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
    const o: LabScriptOptions = {
      branches: options.branches ?? 3,
      mesh: options.mesh ?? true,
      ...(options.shortHoldSec !== undefined ? { shortHoldSec: options.shortHoldSec } : {}),
      ...(options.trigger ? { trigger: options.trigger } : {}),
      ...(options.sites ? { sites: options.sites } : {}),
    };
    try {
      // The hub's site directory, as `meshgate sites import` would leave it.
      if (o.sites) await lab.writeSiteDirectory(o.sites);
      await lab.addNode('hub', hubWanAddress(), '10.0.0.0/24', '10.0.0.1', hubScript(o));
      for (let i = 1; i <= o.branches; i++) await lab.addNode(`branch${i}`, branchWanAddress(i), `10.${i}.0.0/24`, `10.${i}.0.1`, branchScript(i, o));
      for (let k = 1; k <= (o.sites ?? 0); k++) await lab.addNode(`site${k}`, siteWanAddress(k), siteNetwork(k), siteNetwork(k).replace('.0/24', '.1'), siteScript(k));
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

  private async writeSiteDirectory(sites: number): Promise<void> {
    const db = new SqliteSiteBackend({ file: join(this.dir, 'hub', 'sites.db'), masks: { v4: 24 } });
    try {
      for (let k = 1; k <= sites; k++) {
        const [a, b, c] = siteNetwork(k).split('.').map(Number) as [number, number, number];
        await db.put({ name: `site${k}`, identity: { type: 'fqdn', value: `site${k}.lab` }, gateway: { host: siteWanAddress(k) }, network: { family: 4, bytes: Uint8Array.of(a, b, c, 0), length: 24 }, psk: sitePsk(k), active: true, comment: 'lab site' });
      }
    } finally {
      await db.close();
    }
  }

  node(name: string): RouterLabNode | undefined {
    return this.nodes.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.nodes.keys()];
  }

  /** The branches (the site directory's sites have no standing tunnel: the hub calls them). */
  branches(): RouterLabNode[] {
    return [...this.nodes.values()].filter((n) => n.name.startsWith('branch'));
  }

  allUp(): boolean {
    return this.branches().every((n) => n.engine.datapath.hasTunnel('HUB'));
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
   * another (pairs in turn), so tunnels form, carry traffic, idle out and form again. With a
   * site directory, a host behind the hub also calls a site now and then (the hub builds that
   * site's tunnel on the first packet; idle sites go after the Base-Peer's SH-Time).
   */
  startTraffic(opts: { everyMs?: number; pings?: number } = {}): void {
    const clock = this.options.clock;
    const host = (n: RouterLabNode, h: number) => n.lanNetwork.replace(/0\/24$/, String(h));
    const every = (ms: number, fn: (k: number) => void) => {
      let k = 0;
      let stopped = false;
      const tick = () => {
        if (stopped) return;
        fn(k++);
        timer = clock.setTimer(ms, tick);
      };
      let timer = clock.setTimer(500, tick);
      this.traffic.push({
        stop: () => {
          stopped = true;
          timer.cancel();
        },
      });
    };
    const branches = this.branches();
    if (branches.length >= 2) {
      every(opts.everyMs ?? 3000, (k) => {
        const a = branches[k % branches.length]!;
        const b = branches[(k + 1 + Math.floor(k / branches.length)) % branches.length]!;
        if (a !== b) void a.lan.ping(host(a, 10 + (k % 50)), host(b, 20 + (k % 50)), { count: opts.pings ?? 5, intervalMs: 200 });
      });
    }
    const sites = [...this.nodes.values()].filter((n) => n.name.startsWith('site'));
    const hub = this.nodes.get('hub');
    if (sites.length > 0 && hub) {
      // A stride through the sites: some are called again soon, others stay idle and go.
      every(opts.everyMs ?? 3000, (k) => {
        const site = sites[(k * 7) % sites.length]!;
        void hub.lan.ping(host(hub, 10 + (k % 50)), host(site, 20), { count: opts.pings ?? 3, intervalMs: 200 });
      });
    }
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
