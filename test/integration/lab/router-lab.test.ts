/**
 * The lab as `meshgate lab` runs it: Routers configured by command scripts, engines bound
 * to them, on the in-memory network with a fake clock. The show topics an operator would
 * type report what happened, and a live edit in the shell reaches the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { RouterLab } from '../../../src/lab/router-lab.js';
import { createShellSession, renderPlain, type OutputBlock } from '../../../src/shell/index.js';
import type { Router } from '../../../src/router/index.js';

async function run(router: Router, line: string): Promise<{ code: number; text: string }> {
  const s = createShellSession({ router, user: 'admin', access: 'admin' });
  const blocks: OutputBlock[] = [];
  const r = await s.execute(line, { sink: { write: (b) => blocks.push(b) } });
  s.close();
  return { code: r.exitCode, text: blocks.map(renderPlain).join('\n') };
}

test('lab: scripted nodes come up; branch traffic builds a mesh tunnel; show commands tell the story', async () => {
  const clock = new FakeClock();
  const lab = await RouterLab.start({ clock, branches: 3, mesh: true });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'hub tunnels up');
    const b1 = lab.node('branch1')!;
    const b2 = lab.node('branch2')!;
    const ping = b1.lan.ping('10.1.0.5', '10.2.0.7', { count: 10, intervalMs: 100 });
    clock.advance(3000);
    const r = await ping;
    assert.equal(r.received, 10);
    assert.equal(r.rtts.at(-1), 10, 'direct at the end');

    const vpn = await run(b1.router, 'show vpn');
    assert.equal(vpn.code, 0);
    assert.match(vpn.text, /HUB\s+UP\s+198\.51\.100\.11:4500\s+198\.51\.100\.1:4500\s+10\.1\.0\.0\/24\s+10\.0\.0\.0\/8/);
    const mesh = await run(b1.router, 'show mesh');
    assert.match(mesh.text, /branch2\.lab\s+198\.51\.100\.12:4500\s+10\.2\.0\.0\/24\s+egress\s+local\s+UP\s+\S+\s+\S+\s+18\s+1512\s+1/);
    const why = await run(b1.router, 'show mesh why 10.2.0.7');
    assert.match(why.text, /direct: mesh tunnel to branch2\.lab/);
    const why3 = await run(b1.router, 'show mesh why 10.3.0.7');
    assert.match(why3.text, /no mesh request/);
    const sw = await run(b1.router, 'show switchovers');
    assert.match(sw.text, /icmp 10\.1\.0\.5 > 10\.2\.0\.7\s+HUB\s+mesh_branch2\.lab/);
    const lic = await run(b2.router, 'show licence');
    assert.match(lic.text, /Mesh-Tunnels:\s+1 \/ 50/);
    const routes = await run(b1.router, 'show routes');
    assert.match(routes.text, /10\.2\.0\.0\/24\s+mesh\s+SA mesh_branch2\.lab/);
    const status = await run(b1.router, 'ls /Status/VPN/Mesh/Connected-Prefixes');
    // Prefix, peer, address, established, idle, packets: 9 pings and 9 replies went direct.
    assert.match(status.text, /10\.2\.0\.0\/24\s+branch2\.lab\s+198\.51\.100\.12:4500\s+\S+\s+\S+\s+18\b/);
    const vpnStatus = await run(b1.router, 'ls /Status/VPN/Peers');
    assert.match(vpnStatus.text, /HUB\s+hub\s+UP\s+\S+\s+\S+\s+\d+\s+\d+\s+1\b/, 'one child SA installed');
    const hubReq = await run(lab.node('hub')!.router, 'show mesh requests');
    assert.match(hubReq.text, /branch2>branch1/);
    // No PSK anywhere in what an operator sees.
    for (const t of [vpn.text, mesh.text, (await run(b1.router, 'show config')).text, (await run(b1.router, 'show log')).text]) {
      assert.doesNotMatch(t, /meshgate-lab-(mesh-)?psk/);
    }
  } finally {
    await lab.stop();
  }
});

test('lab: a live edit applies to the engine; an edit the engine cannot apply is refused whole', async () => {
  const clock = new FakeClock();
  const lab = await RouterLab.start({ clock, branches: 2, mesh: true });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10));
    const b1 = lab.node('branch1')!;
    // Turning mesh off at branch1 is applied at once.
    assert.equal((await run(b1.router, 'set /Setup/VPN/IKEv2/Mesh/Operation-Mode Disabled')).code, 0);
    assert.equal(b1.engine.config.mesh.operationMode, 'Disabled');
    // A cipher set the engine cannot use (only AES-CBC) is refused before it is committed.
    const bad = await run(b1.router, 'cd /Setup/VPN/IKEv2/Encryption; set DEFAULT {IKE-SA-Ciphers} AES-CBC-256');
    assert.notEqual(bad.code, 0);
    assert.match(bad.text, /IKE-SA-Ciphers/);
    assert.equal(b1.router.running().tables['/Setup/VPN/IKEv2/Encryption']![0]!['IKE-SA-Ciphers'], 'CHACHA20-POLY1305,AES-GCM-256', 'the refused edit changed nothing');
    // The shortest child lifetime the menu allows (120 s) is accepted: rekey jitter scales with it.
    const short = await run(b1.router, 'cd /Setup/VPN/IKEv2/Lifetimes; set DEFAULT {Child-SA-Sec} 120');
    assert.equal(short.code, 0, short.text);
    assert.equal(b1.engine.ike.peerConfig('HUB')?.childLifetime.rekeyMs, 120_000);
    // Removing the hub peer takes its tunnel down.
    assert.equal((await run(b1.router, 'cd /Setup/VPN/IKEv2/Peers; del HUB')).code, 0);
    clock.advance(1000);
    assert.equal(b1.engine.datapath.hasTunnel('HUB'), false);
    assert.equal(b1.engine.ike.snapshot().peers.filter((p) => p.peer === 'HUB').length, 0);
  } finally {
    await lab.stop();
  }
});

test('lab: ping from the shell goes through the engine; trace + packet shows each packet\'s path', async () => {
  const clock = new FakeClock();
  const lab = await RouterLab.start({ clock, branches: 2, mesh: false });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10));
    const hub = lab.node('hub')!;
    const s = createShellSession({ router: lab.node('branch1')!.router, user: 'admin', access: 'admin' });
    const hubShell = createShellSession({ router: hub.router, user: 'admin', access: 'admin' });
    const events: OutputBlock[] = [];
    await hubShell.execute('trace + packet', { sink: { write: (b) => events.push(b) } });
    const blocks: OutputBlock[] = [];
    const done = s.execute('ping 10.2.0.7 -c 3 -i 100', { sink: { write: (b) => blocks.push(b) } });
    await Promise.resolve();
    clock.advance(3000);
    const r = await done;
    const text = blocks.map(renderPlain).join('\n');
    assert.equal(r.exitCode, 0, text);
    assert.match(text, /PING 10\.2\.0\.7 from 10\.1\.0\.1/);
    assert.equal((text.match(/bytes from 10\.2\.0\.7: seq=\d ttl=\d+ time=20\.0 ms/g) ?? []).length, 3, text);
    assert.match(text, /3 packets transmitted, 3 received, 0% packet loss/);
    const traced = events.filter((e) => e.kind === 'event').map((e) => (e as { text: string }).text);
    assert.ok(traced.some((t) => /10\.1\.0\.1 > 10\.2\.0\.7 .*from SA branch1 .*into SA branch2 \(hub hairpin\)/.test(t)), traced.join('\n'));
    // Bad input is refused with the allowed range.
    const bad: OutputBlock[] = [];
    const rb = await s.execute('ping 10.2.0.7 -c 0', { sink: { write: (b) => bad.push(b) } });
    assert.notEqual(rb.exitCode, 0);
    assert.match(bad.map(renderPlain).join('\n'), /-c count must be 1\.\.10000/);
    // Unrouted destination: not sent, reason given.
    const nr: OutputBlock[] = [];
    const pn = s.execute('ping 192.0.2.50 -c 1', { sink: { write: (b) => nr.push(b) } });
    await Promise.resolve();
    clock.advance(3000);
    await pn;
    assert.match(nr.map(renderPlain).join('\n'), /not sent \(no-route\)[\s\S]*1 packets transmitted, 0 received, 100% packet loss/);
    s.close();
    hubShell.close();
  } finally {
    await lab.stop();
  }
});

test('lab session: node switches the shell between nodes; nodes lists them; everything else goes to the node', async () => {
  const { LabSession } = await import('../../../src/lab/lab-session.js');
  const clock = new FakeClock();
  const lab = await RouterLab.start({ clock, branches: 2, mesh: true });
  try {
    clock.advanceUntil(() => lab.allUp(), 10_000, 10);
    const s = new LabSession(lab);
    const out: OutputBlock[] = [];
    const sink = { write: (b: OutputBlock) => out.push(b) };
    assert.equal(s.prompt(), 'hub:/');
    assert.equal((await s.execute('node branch2', { sink })).exitCode, 0);
    assert.equal(s.prompt(), 'branch2:/');
    assert.equal((await s.execute('node b', { sink })).exitCode, 3, 'ambiguous');
    assert.equal((await s.execute('node nowhere', { sink })).exitCode, 4);
    assert.equal((await s.execute('cd /Setup/VPN', { sink })).exitCode, 0);
    assert.equal(s.prompt(), 'branch2:/Setup/VPN');
    await s.execute('node hub', { sink });
    assert.equal(s.prompt(), 'hub:/', 'each node keeps its own shell');
    out.length = 0;
    await s.execute('nodes', { sink });
    const text = out.map(renderPlain).join('\n');
    assert.match(text, /branch1\s+10\.1\.0\.0\/24\s+UP/);
    assert.match(text, /hub\s+10\.0\.0\.0\/24\s+2 spokes up\s+0\s+\*/);
    assert.deepEqual(s.complete('node br', 7).candidates, ['branch1', 'branch2']);
    assert.ok(s.complete('no', 2).candidates.includes('node'));
    s.close();
  } finally {
    await lab.stop();
  }
});

test('lab --sites: the hub is also a concentrator; ping from its shell builds a site tunnel on the first packet, idle sites go', async () => {
  const clock = new FakeClock();
  const lab = await RouterLab.start({ clock, branches: 2, mesh: false, sites: 4 });
  try {
    assert.ok(clock.advanceUntil(() => lab.allUp(), 10_000, 10), 'branches up; sites need no standing tunnel');
    const hub = lab.node('hub')!;
    for (let i = 0; i < 20 && !/State:\s+up/.test((await run(hub.router, 'show sites')).text); i++) await new Promise((r) => setImmediate(r));
    assert.match((await run(hub.router, 'show sites')).text, /State:\s+up/);
    const s = createShellSession({ router: hub.router, user: 'admin', access: 'admin' });
    const blocks: OutputBlock[] = [];
    const done = s.execute('ping 10.64.3.20 -c 3 -i 100', { sink: { write: (b) => blocks.push(b) } });
    for (let i = 0; i < 400; i++) {
      clock.advance(10);
      await new Promise((r) => setImmediate(r));
    }
    await done;
    s.close();
    assert.match(blocks.map(renderPlain).join('\n'), /3 packets transmitted, 3 received, 0% packet loss/);
    const sites = (await run(hub.router, 'show sites')).text;
    assert.match(sites, /site3\s+sites\s+10\.64\.3\.0\/24\s+fqdn:site3\.lab\s+203\.0\.113\.3\s+up\s+site_site3/);
    assert.ok(lab.node('site3')!.engine.datapath.hasTunnel('HQ'));
    assert.equal(lab.node('site1')!.engine.datapath.hasTunnel('HQ'), false);
    // The Base-Peer's SH-Time (30 s in the lab) takes the idle site down again.
    clock.advance(40_000);
    assert.doesNotMatch((await run(hub.router, 'show sites')).text, /site_site3/);
    assert.match((await run(hub.router, 'show sites counters')).text, /idleTimeouts\s+1/);
  } finally {
    await lab.stop();
  }
});
