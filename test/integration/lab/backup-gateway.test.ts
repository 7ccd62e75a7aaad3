/**
 * A spoke with two hubs, configured as an administrator would: the HUB row's Remote-Gateway
 * is the first hub and Backup-Gateways names the second. The first hub stops answering: the
 * spoke moves to the second (DPD), traffic follows; the first comes back: the spoke returns
 * to it (failback probe) without the tunnel going down. Routers with bound engines on the
 * in-memory network, a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Engine } from '../../../src/engine/engine.js';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';
import { SimulatedLan } from '../../../src/lab/simulated-lan.js';
import { bindEngine } from '../../../src/router/engine-binding.js';
import { Router } from '../../../src/router/index.js';
import { createShellSession, renderPlain, type OutputBlock } from '../../../src/shell/index.js';

const PSK = 'two-hubs-psk-0123456789';

async function script(router: Router, lines: string[]): Promise<string> {
  const s = createShellSession({ router, user: 'admin', access: 'admin' });
  const out: OutputBlock[] = [];
  try {
    for (const line of lines) {
      const r = await s.execute(line, { sink: { write: (b) => out.push(b) } });
      assert.equal(r.exitCode, 0, `${line}: ${out.map(renderPlain).join('\n')}`);
    }
    return out.map(renderPlain).join('\n');
  } finally {
    s.close();
  }
}

test('Backup-Gateways: a spoke fails over to its second hub and comes back to the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bk-'));
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const nodes: { router: Router; engine: Engine; lan: SimulatedLan }[] = [];
  const node = async (name: string, wan: string, lanCidr: string, lines: string[]) => {
    const router = await Router.open({ configDir: join(dir, name), clock, name });
    await script(router, lines);
    const net24 = lanCidr.replace(/\.1\/24$/, '.0/24');
    const port = new MemoryLanPort({ name: 'LAN-1', onSend: (p) => lan.receive(p) });
    const lan: SimulatedLan = new SimulatedLan(port, net24, lanCidr.split('/')[0]!, clock);
    const engine = new Engine({ clock, transport: net.attach(wan, 4500), lanPorts: [port] });
    bindEngine(router, engine);
    nodes.push({ router, engine, lan });
    return { router, engine, lan };
  };
  const hubLines = (name: string, lan: string) => [
    'begin',
    `set /Setup/Name ${name}`,
    'cd /Setup/Interfaces/LAN',
    `set LAN-1 yes ${lan}`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
    `set SPOKE {Local-ID} hub.lab {Local-Password} ${PSK} {Remote-ID} spoke.lab`,
    'cd /Setup/VPN/IKEv2/Routing',
    'set SPOKE {Local-Networks} 10.0.0.0/16 {Remote-Networks} 10.9.0.0/24',
    'cd /Setup/VPN/IKEv2/Peers',
    'set SPOKE yes * responder spoke {Auth} SPOKE {Routing} SPOKE',
    'commit',
  ];
  try {
    const hub1 = await node('hub1', '198.51.100.1', '10.0.1.1/24', hubLines('hub1', '10.0.1.1/24'));
    const hub2 = await node('hub2', '198.51.100.2', '10.0.2.1/24', hubLines('hub2', '10.0.2.1/24'));
    const spoke = await node('spoke', '198.51.100.9', '10.9.0.1/24', [
      'begin',
      'set /Setup/Name spoke',
      'cd /Setup/Interfaces/LAN',
      'set LAN-1 yes 10.9.0.1/24',
      'cd /Setup/VPN/IKEv2/Auth/Parameter',
      `set HUB {Local-ID} spoke.lab {Local-Password} ${PSK} {Remote-ID} hub.lab`,
      'cd /Setup/VPN/IKEv2/General',
      'set DEFAULT {DPD-Inact-Timer} 10 {Retries} 1',
      'cd /Setup/VPN/IKEv2/Routing',
      'set HUB {Local-Networks} 10.9.0.0/24 {Remote-Networks} 10.0.0.0/16',
      'cd /Setup/VPN/IKEv2/Peers',
      'set HUB yes 198.51.100.1:4500 initiator hub {Auth} HUB {Routing} HUB {Backup-Gateways} 198.51.100.2:4500',
      'commit',
    ]);
    assert.ok(clock.advanceUntil(() => spoke.engine.datapath.hasTunnel('HUB'), 10_000, 10));
    assert.match(await script(spoke.router, ['show vpn']), /HUB\s+UP\s+\S+\s+198\.51\.100\.1:4500/);
    assert.match(await script(spoke.router, ['ls /Setup/VPN/IKEv2/Peers']), /198\.51\.100\.2:4500/);

    // hub1 goes silent: DPD (10 s + 2 x 5 s) declares it dead, the spoke moves to hub2.
    net.setDown('198.51.100.1', true);
    for (let t = 0; t < 60_000 && !hub2.engine.datapath.hasTunnel('SPOKE'); t += 100) clock.advance(100);
    assert.ok(hub2.engine.datapath.hasTunnel('SPOKE'), 'the spoke reached its backup hub');
    assert.match(await script(spoke.router, ['show vpn']), /HUB\s+UP\s+\S+\s+198\.51\.100\.2:4500/);
    assert.match(await script(spoke.router, ['show log']), /gateway 198\.51\.100\.1:4500 does not answer, trying 198\.51\.100\.2:4500/);
    let r: { received: number } | undefined;
    void spoke.lan.ping('10.9.0.5', '10.0.2.7', { count: 3, intervalMs: 100 }).then((x) => (r = x));
    clock.advance(3000);
    await Promise.resolve();
    assert.equal(r?.received, 3, 'traffic through the backup hub');

    // hub1 is back: the failback probe returns the tunnel to it; it never went down meanwhile.
    net.setDown('198.51.100.1', false);
    let down = 0;
    spoke.engine.events.on('child-down', (e) => void (e.reason !== 'rekeyed' && e.peer === 'HUB' && !spoke.engine.datapath.hasTunnel('HUB') && down++));
    for (let t = 0; t < 20 * 60_000 && !/HUB\s+UP\s+\S+\s+198\.51\.100\.1:4500/.test(await script(spoke.router, ['show vpn'])); t += 5_000) clock.advance(5_000);
    assert.match(await script(spoke.router, ['show vpn']), /HUB\s+UP\s+\S+\s+198\.51\.100\.1:4500/);
    assert.equal(down, 0, 'make before break');
    assert.ok(hub1.engine.datapath.hasTunnel('SPOKE'));

    // A Backup-Gateway without a Remote-Gateway is refused with the reason.
    const s = createShellSession({ router: spoke.router, user: 'admin', access: 'admin' });
    const out: OutputBlock[] = [];
    const bad = await s.execute('cd /Setup/VPN/IKEv2/Peers; set HUB {Remote-Gateway} ""', { sink: { write: (b) => out.push(b) } });
    s.close();
    assert.notEqual(bad.exitCode, 0);
    assert.match(out.map(renderPlain).join('\n'), /Backup-Gateways need a Remote-Gateway/);
  } finally {
    for (const n of nodes) {
      await n.engine.stop();
      n.router.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
