/**
 * A meshgate VPN in network namespaces, shared by test/e2e/vpn-*.test.ts and
 * bench/netns/: a hub and spokes, each a real `meshgate daemon --engine tun` in its own
 * namespace, configured beforehand with the lab's command scripts (`-f`), plus one host
 * namespace behind every spoke.
 *
 *   host1 (10.1.0.5/24) --veth-- spoke1 (LAN 10.1.0.1/24, TUN LAN-1)  \
 *                                                    WAN 198.51.100.11  \
 *                                                                      bridge (mg-wan-*) -- hub 198.51.100.1
 *                                                    WAN 198.51.100.12  /
 *   host2 (10.2.0.5/24) --veth-- spoke2 (LAN 10.2.0.1/24, TUN LAN-1)  /
 *
 * Everything lives in namespaces named mg-<role>-<tag>; documentation addresses exist
 * only there. Daemons are started through Lab.spawn (killed by PID in cleanup()).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ensureBuilt, runBin } from './shell-harness.js';
import { Lab, sleep, type Proc } from '../helpers/netns.js';
import { branchScript, branchWanAddress, hubScript, hubWanAddress, type LabScriptOptions } from '../../src/lab/lab-scripts.js';

export interface VpnNode {
  name: string;
  ns: string;
  dir: string;
  daemon?: Proc;
}

export interface VpnLabOptions extends LabScriptOptions {
  /** Command lines appended to the hub's script (after its commit: applied one by one). */
  hubExtra?: string[];
  /** Command lines appended to every spoke's script (after its commit: applied one by one). */
  spokeExtra?: string[];
  /** Command lines appended to one spoke's script (by its number, 1-based), after spokeExtra. */
  spokeExtraFor?: Record<number, string[]>;
  /** The hub's whole script instead of the lab's hub script (e.g. a concentrator). */
  hubScript?: string[];
  /** A host namespace behind the hub too (10.0.0.5/24 on the hub's LAN 10.0.0.0/24). */
  hubHost?: boolean;
}

export class VpnLab {
  readonly lab = new Lab();
  readonly hub: VpnNode;
  readonly spokes: VpnNode[] = [];
  readonly hosts: { ns: string; address: string }[] = [];
  readonly wan: string;
  /** The host behind the hub (hubHost option). */
  readonly hubHost: { ns: string; address: string } | undefined;

  constructor(readonly o: VpnLabOptions) {
    ensureBuilt();
    const lab = this.lab;
    this.wan = lab.ns('wan');
    lab.exec(this.wan, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    lab.exec(this.wan, 'ip', ['link', 'set', 'br0', 'up']);
    this.hub = { name: 'hub', ns: lab.ns('hub'), dir: join(lab.dir, 'hub') };
    this.attachWan(this.hub.ns, 'w-hub', hubWanAddress());
    if (o.hubHost) {
      const host = lab.ns('h0');
      lab.link(this.hub.ns, 'lan0', '10.0.0.1/24', host, 'eth0', '10.0.0.5/24');
      lab.exec(host, 'ip', ['route', 'add', 'default', 'via', '10.0.0.1']);
      this.hubHost = { ns: host, address: '10.0.0.5' };
    }
    for (let i = 1; i <= o.branches; i++) {
      const s: VpnNode = { name: `branch${i}`, ns: lab.ns(`s${i}`), dir: join(lab.dir, `branch${i}`) };
      this.attachWan(s.ns, `w-s${i}`, branchWanAddress(i));
      const host = lab.ns(`h${i}`);
      lab.link(s.ns, 'lan0', `10.${i}.0.1/24`, host, 'eth0', `10.${i}.0.5/24`);
      lab.exec(host, 'ip', ['route', 'add', 'default', 'via', `10.${i}.0.1`]);
      this.spokes.push(s);
      this.hosts.push({ ns: host, address: `10.${i}.0.5` });
    }
    for (const n of this.nodes()) {
      lab.exec(n.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      mkdirSync(n.dir, { recursive: true });
    }
  }

  private attachWan(ns: string, bridgePort: string, address: string): void {
    this.lab.link(this.wan, bridgePort, null, ns, 'wan0', `${address}/24`);
    this.lab.exec(this.wan, 'ip', ['link', 'set', bridgePort, 'master', 'br0']);
  }

  nodes(): VpnNode[] {
    return [this.hub, ...this.spokes];
  }

  /** Writes each node's configuration with `meshgate --config-dir DIR -f script` (no daemon yet). */
  async configure(): Promise<void> {
    const scripts: [VpnNode, string[]][] = [[this.hub, this.o.hubScript ?? hubScript(this.o)], ...this.spokes.map((s, i) => [s, branchScript(i + 1, this.o)] as [VpnNode, string[]])];
    for (const [node, lines] of scripts) {
      const i = this.spokes.indexOf(node) + 1;
      const extra = node === this.hub ? (this.o.hubExtra ?? []) : [...(this.o.spokeExtra ?? []), ...(this.o.spokeExtraFor?.[i] ?? [])];
      const file = join(node.dir, 'setup.lcs');
      writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
      const r = await runBin(['--config-dir', node.dir, '-f', file], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`configuring ${node.name} failed (${r.code}): ${r.stdout}${r.stderr}`);
    }
  }

  /** Starts a daemon per node (hub first) and waits until each control socket answers. */
  async start(extraNodeArgs: Record<string, string[]> = {}): Promise<void> {
    for (const n of this.nodes()) {
      n.daemon = this.lab.spawn(n.ns, process.execPath, [...(extraNodeArgs[n.name] ?? []), BIN, 'daemon', '--config-dir', n.dir, '--engine', 'tun']);
      const end = Date.now() + 20_000;
      for (;;) {
        if (n.daemon.child.exitCode !== null) throw new Error(`daemon of ${n.name} exited (${n.daemon.child.exitCode}): ${n.daemon.output()}`);
        if (/engine: IKE and ESP on UDP/.test(n.daemon.output())) break;
        if (/engine not started/.test(n.daemon.output())) throw new Error(`engine of ${n.name} not started: ${n.daemon.output()}`);
        if (Date.now() > end) throw new Error(`daemon of ${n.name} not ready within 20 s: ${n.daemon.output()}`);
        await sleep(50);
      }
    }
  }

  /** Runs shell commands on a node's running daemon (over its control socket). */
  async cli(node: VpnNode, command: string, timeoutMs = 20_000): Promise<string> {
    const r = await runBin(['--config-dir', node.dir, '-c', command], { timeoutMs });
    if (r.code !== 0) throw new Error(`${node.name}: '${command}' failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** The value of `Key` in a keyvalue block of a show command's plain output. */
  static value(out: string, key: string): string | undefined {
    const m = new RegExp(`^\\s*${key.replace(/[-]/g, '\\-')}\\s*[:=]?\\s+(\\S+)`, 'm').exec(out);
    return m?.[1];
  }

  static num(out: string, key: string): number {
    const v = VpnLab.value(out, key);
    const n = v === undefined ? NaN : Number(v.replace(/,/g, ''));
    if (!Number.isFinite(n)) throw new Error(`no number for ${key} in:\n${out}`);
    return n;
  }

  /** Polls `show vpn` on every spoke until its HUB row is UP (bounded). */
  async waitTunnelsUp(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (const s of this.spokes) {
      for (;;) {
        last = await this.cli(s, 'show vpn');
        if (/^\s*HUB\s+UP\b/m.test(last)) break;
        if (Date.now() > end) throw new Error(`${s.name}: HUB tunnel not up within ${timeoutMs} ms:\n${last}\n${s.daemon?.output() ?? ''}`);
        await sleep(200);
      }
    }
  }

  /** Polls `ss` in a namespace until a TCP port listens (bounded). */
  async waitListening(ns: string, port: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (new RegExp(`:${port}\\s`).test(this.lab.exec(ns, 'ss', ['-ltnH']))) return true;
      await sleep(50);
    }
    return false;
  }

  async cleanup(): Promise<void> {
    await this.lab.cleanup();
  }
}
