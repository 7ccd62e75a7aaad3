/**
 * A concentrator on the in-memory network (fake clock) with N site routers, for the
 * site-directory scenarios: the hub's engine gets a site directory (any backend) with base
 * route 10.64.0.0/10; site k is 10.64.k.0/24 behind WAN 100.64.x.y, with its own PSK.
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { emptyEngineConfig, Engine, type EngineConfig } from '../../../src/engine/engine.js';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';
import { SimulatedLan } from '../../../src/lab/simulated-lan.js';
import type { SiteDirectoryEngineSettings } from '../../../src/engine/sites/concentrator.js';
import type { SiteDirectoryBackend } from '../../../src/engine/sites/backend.js';

export const PORT = 4500;
const HUB_WAN = '198.51.100.1';
const HUB_ID = 'hub.lab';

interface Node {
  engine: Engine;
  lan: SimulatedLan;
}

export function siteNet(k: number): string {
  return `10.64.${k}.0/24`;
}
export function siteWan(k: number): string {
  return `100.64.${k >> 8}.${(k & 255) + 1}`;
}
export function sitePsk(k: number): string {
  return `site-psk-${k}-0123456789`;
}

/** Lets promise callbacks run; with realMs > 0 also waits that long (a real database answering). */
export async function settle(realMs = 0): Promise<void> {
  if (realMs > 0) await new Promise<void>((r) => setTimeout(r, realMs));
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Steps the fake clock, letting database answers arrive between steps. */
export async function advance(clock: FakeClock, ms: number, step = 10, realMs = 0): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle(realMs);
  }
}

export async function until(clock: FakeClock, pred: () => boolean, maxMs: number, step = 10, realMs = 0): Promise<boolean> {
  for (let t = 0; t <= maxMs; t += step) {
    if (pred()) return true;
    clock.advance(step);
    await settle(realMs);
  }
  return pred();
}

export class ConcentratorLab {
  readonly clock = new FakeClock();
  readonly net = new MemoryNetwork(this.clock, { seed: 3, defaultLink: { latencyMs: 5, jitterMs: 0, loss: 0 } });
  readonly sites = new Map<number, Node>();
  hub!: Node;
  /** Real milliseconds to wait per clock step while a lookup is in flight (a real database). */
  realWaitMs = 0;

  constructor(
    readonly backend: SiteDirectoryBackend,
    private readonly settings: Partial<SiteDirectoryEngineSettings> = {},
    private readonly licence = { name: 'Central-250', vpn: 250, mesh: 200 },
  ) {}

  async start(siteCount: number): Promise<void> {
    for (let k = 0; k < siteCount; k++) {
      await this.backend.put({ name: `site${k}`, identity: { type: 'fqdn', value: `site${k}.lab` }, gateway: { host: siteWan(k) }, network: { family: 4, bytes: Uint8Array.of(10, 64, k & 255, 0), length: 24 }, psk: sitePsk(k), active: true, comment: '' });
      this.sites.set(k, this.node(siteWan(k), siteConfig(k), siteNet(k).replace('.0/24', '.1')));
    }
    const cfg = emptyEngineConfig('hub');
    cfg.lanAddresses = ['10.0.0.1/24'];
    cfg.licence = this.licence;
    cfg.siteDirectory = {
      baseRoutes: ['10.64.0.0/10'],
      template: { localId: HUB_ID, localTs: ['10.0.0.0/24'] },
      maxDynamicRoutes: 10_000,
      freeShare: 0.1,
      ...this.settings,
    };
    this.hub = this.node(HUB_WAN, cfg, '10.0.0.1');
    this.hub.engine.sites.attach(this.backend);
  }

  private node(wan: string, config: EngineConfig, router: string): Node {
    const transport = this.net.attach(wan, PORT);
    let lan: SimulatedLan | undefined;
    const port = new MemoryLanPort({ name: 'lan', onSend: (p) => lan?.receive(p) });
    const net = config.lanAddresses[0]!.replace(/\.1\/24$/, '.0/24');
    lan = new SimulatedLan(port, net, router, this.clock);
    const engine = new Engine({ clock: this.clock, transport, lanPorts: [port], config });
    return { engine, lan };
  }

  site(k: number): Node {
    return this.sites.get(k)!;
  }

  /** Pings host .5 of site k from host 10.0.0.5 behind the hub; drives the clock until done. */
  async ping(k: number, count = 3, intervalMs = 200): Promise<{ sent: number; received: number }> {
    let report: { sent: number; received: number } | undefined;
    void this.hub.lan.ping('10.0.0.5', `10.64.${k}.5`, { count, intervalMs, timeoutMs: 2000 }).then((r) => (report = r));
    const pending = () => (this.hub.engine.sites.status()?.pendingLookups ?? 0) > 0;
    for (let t = 0; report === undefined && t <= count * intervalMs + 10_000; t += 10) {
      this.clock.advance(10);
      await settle(pending() ? this.realWaitMs : 0);
    }
    assert.ok(report, `ping to site ${k} finished`);
    return report;
  }

  async stop(): Promise<void> {
    await this.hub.engine.stop();
    for (const s of this.sites.values()) await s.engine.stop();
  }
}

/** A site router: its concentrator is a responder peer (the hub calls in), its own PSK. */
export function siteConfig(k: number): EngineConfig {
  const cfg = emptyEngineConfig(`site${k}`);
  cfg.lanAddresses = [siteNet(k).replace('.0/24', '.1/24')];
  cfg.peers.push({ kind: 'static', name: 'concentrator', role: 'responder', localId: `site${k}.lab`, remoteId: HUB_ID, psk: sitePsk(k), localTs: [siteNet(k)], remoteTs: ['10.0.0.0/24'] });
  return cfg;
}

