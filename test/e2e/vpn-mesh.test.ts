/**
 * Dynamic mesh tunnels in network namespaces (issue 6, item 9): the topology of
 * vpn-hub-spoke.test.ts with the hub in Operation-Mode Hub and the spokes in Spoke with the
 * MESH template (src/lab/lab-scripts.ts), egress trigger. Root only (rootOrSkip).
 *
 * 1. ping host1 -> host2: the first packets cross the hub (its hairpin counter), the rest
 *    go straight spoke1 <-> spoke2; `show mesh` at both spokes lists the tunnel, `show
 *    switchovers` the moved ICMP flow; a second ping does not touch the hub at all.
 * 2. an iperf3 TCP transfer host1 -> host2 runs on the hub path (the hub starts with mesh
 *    Disabled and refuses the spokes' requests), the hub is switched to Hub while it runs,
 *    the spokes' next request (after their rate limit) is relayed, the shortcut forms,
 *    the running TCP flows move onto it, and the transfer completes without error with
 *    the bytes sent received.
 *
 *   node --import tsx --test test/e2e/vpn-mesh.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rootOrSkip, sleep } from '../helpers/netns.js';
import { VpnLab } from './vpn-lab.js';

const hairpin = async (v: VpnLab) => VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

test('mesh in namespaces: ping host1 -> host2, first packets through the hub, the rest direct', { timeout: 180_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({ branches: 2, mesh: true });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  const [s1, s2] = v.spokes as [(typeof v.spokes)[0], (typeof v.spokes)[0]];
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];

  const mesh0 = await v.cli(s1, 'show mesh');
  assert.match(mesh0, /Mesh-Tunnels\s*:?\s*0 \//, mesh0);
  const hp0 = await hairpin(v);
  const ping = v.lab.exec(h1.ns, 'ping', ['-n', '-c', '40', '-i', '0.05', '-W', '3', h2.address], { timeoutMs: 30_000 });
  assert.match(ping, / 40 received/, ping);
  const hubPackets = (await hairpin(v)) - hp0;
  // 80 packets in all (40 requests, 40 replies, 50 ms apart): the first took the hub, the
  // rest did not. The shortcut takes ~20-50 ms; 20 packets (0.5 s) leave room for a loaded CI.
  t.diagnostic(`hub hairpinned ${hubPackets} of 80 packets`);
  assert.ok(hubPackets >= 1, 'the first packet must take the hub path');
  assert.ok(hubPackets <= 20, `hub hairpinned ${hubPackets} of 80 packets: the shortcut came too late or not at all`);

  // Both ends list the mesh tunnel up, and the flow's switchover.
  const m1 = await v.cli(s1, 'show mesh');
  // Trigger column: egress, or hub-redirect when spoke1's own request crossed the offer
  // (a mislabel, see the todo test at the end).
  assert.match(m1, /^\s*branch2\.lab\s+198\.51\.100\.12:4500\s+10\.2\.0\.0\/24\s+(egress|hub-redirect)\s+local\s+UP\b/m, m1);
  const m2 = await v.cli(s2, 'show mesh');
  assert.match(m2, /^\s*branch1\.lab\s+198\.51\.100\.11:4500\s+10\.1\.0\.0\/24\s+egress\s+remote\s+UP\b/m, m2);
  const sw = await v.cli(s1, 'show switchovers');
  assert.match(sw, /icmp 10\.1\.0\.5\S* > 10\.2\.0\.5\S*\s+HUB\s+mesh_branch2\.lab\s+[1-9]/, sw);
  assert.ok(VpnLab.num(sw, 'To-Mesh') >= 1, sw);
  const why = await v.cli(s1, `show mesh why ${h2.address}`);
  assert.match(why, /Path\s*:?\s*direct/, why);

  // Once the shortcut is up, nothing crosses the hub any more.
  const hp1 = await hairpin(v);
  const again = v.lab.exec(h1.ns, 'ping', ['-n', '-c', '10', '-i', '0.05', '-W', '3', h2.address], { timeoutMs: 30_000 });
  assert.match(again, / 10 received/, again);
  assert.equal((await hairpin(v)) - hp1, 0, 'packets crossed the hub with the mesh tunnel up');
});

test('mesh in namespaces: an iperf3 TCP transfer started on the hub path survives the switchover', { timeout: 180_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  // The hub starts with mesh Disabled, so the transfer certainly starts on the hub path.
  // (One switch at the hub, not two at the spokes: see the report on offers to a Disabled spoke.)
  const v = new VpnLab({ branches: 2, mesh: true, hubExtra: ['set /Setup/VPN/IKEv2/Mesh/Operation-Mode Disabled'] });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  const [s1, s2] = v.spokes as [(typeof v.spokes)[0], (typeof v.spokes)[0]];
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];

  v.lab.spawn(h2.ns, 'iperf3', ['-s', '-1', '-B', h2.address]);
  assert.ok(await v.waitListening(h2.ns, 5201, 10_000), 'iperf3 server did not start');
  const hp0 = await hairpin(v);
  const client = spawn('ip', ['netns', 'exec', h1.ns, 'iperf3', '-c', h2.address, '-t', '8', '-J', '--connect-timeout', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  client.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  client.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<number | null>((r) => client.once('exit', (c) => r(c)));
  t.after(() => {
    if (client.exitCode === null && client.signalCode === null && client.pid) process.kill(client.pid, 'SIGKILL');
  });

  // The transfer runs through the hub for a while ...
  await until('TCP traffic through the hub', async () => (await hairpin(v)) - hp0 > 500, 10_000);
  assert.match(await v.cli(s1, 'show mesh'), /Mesh-Tunnels\s*:?\s*0 \//);
  // ... then mesh is switched on at the hub (live), and the shortcut forms under the running transfer.
  const tOn = Date.now();
  await v.cli(v.hub, 'set /Setup/VPN/IKEv2/Mesh/Operation-Mode Hub');
  await until('the mesh tunnel spoke1 -> spoke2', async () => /^\s*branch2\.lab\s.*\bUP\b/m.test(await v.cli(s1, 'show mesh')), 20_000);
  t.diagnostic(`mesh tunnel up ${Date.now() - tOn} ms after switching the hub to Hub (waits for the spokes' rate limit)`);
  assert.equal(client.exitCode, null, `iperf3 ended before the switchover: ${out}`);
  const hpSwitch = await hairpin(v);

  const code = await Promise.race([done, sleep(40_000).then(() => 'timeout' as const)]);
  assert.notEqual(code, 'timeout', 'iperf3 did not finish within 40 s');
  assert.equal(code, 0, `iperf3 failed: ${out.slice(0, 2000)}`);
  const r = JSON.parse(out) as { error?: string; end?: { sum_sent?: { bytes: number }; sum_received?: { bytes: number; bits_per_second: number } } };
  assert.equal(r.error, undefined, `iperf3 error: ${r.error}`);
  const sent = r.end?.sum_sent?.bytes ?? 0;
  const received = r.end?.sum_received?.bytes ?? 0;
  t.diagnostic(`iperf3 TCP across the switchover: ${((r.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(1)} Mbit/s, ${received} of ${sent} bytes`);
  assert.ok(received > 0, 'nothing received');
  // iperf3 stops counting at the end of -t with the socket buffers still in flight, so the
  // receiver's count lags the sender's by up to a few MB even on a perfect path.
  assert.ok(received >= 0.9 * sent, `received ${received} of ${sent} bytes`);

  // The running TCP flows moved onto the mesh tunnel after packets on the hub path.
  const sw = await v.cli(s1, 'show switchovers');
  const moved = [...sw.matchAll(/tcp 10\.1\.0\.5\S* > 10\.2\.0\.5:5201\s+HUB\s+mesh_branch2\.lab\s+(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(moved.length >= 1, `no TCP flow of the transfer was switched over:\n${sw}`);
  assert.ok(Math.max(...moved) > 100, `the data flow had only ${Math.max(...moved)} packets on the hub path before the switchover:\n${sw}`);
  // After the switchover the hub carried (almost) nothing of the transfer any more.
  const hpAfter = (await hairpin(v)) - hpSwitch;
  assert.ok(hpAfter < 50, `the hub hairpinned ${hpAfter} packets after the mesh tunnel was up`);
  const m2 = await v.cli(s2, 'show mesh');
  assert.match(m2, /^\s*branch1\.lab\s.*\bremote\s+UP\b/m, m2);
});

/**
 * Engine bug (reported, not fixed here). With Trigger egress everywhere, both spokes send a
 * shortcutRequest when a conversation crosses the hub (each sees the other's packets
 * arrive through the hub). The spoke that then receives the hub's offer labels its tunnel
 * 'hub-redirect' (an offer for a destination we "sent" a request about was taken as the
 * answer to a resolve), although no redirect happened; fixed: only resolves count. Made
 * deterministic here: the hub starts with mesh Disabled and refuses both spokes' requests,
 * so both have 'sent' rows when the hub is switched on and relays.
 */
test('mesh in namespaces: a tunnel built on an egress offer is labelled egress', { timeout: 120_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({ branches: 2, mesh: true, hubExtra: ['set /Setup/VPN/IKEv2/Mesh/Operation-Mode Disabled'] });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  const [s1, s2] = v.spokes as [(typeof v.spokes)[0], (typeof v.spokes)[0]];
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];
  v.lab.spawn(h1.ns, 'ping', ['-n', '-c', '400', '-i', '0.05', h2.address]);
  await until('both spokes requested a shortcut', async () => /\bsent\b/.test(await v.cli(s1, 'show mesh requests')) && /\bsent\b/.test(await v.cli(s2, 'show mesh requests')), 10_000);
  await v.cli(v.hub, 'set /Setup/VPN/IKEv2/Mesh/Operation-Mode Hub');
  let initiatorRow = '';
  await until('a mesh tunnel up', async () => {
    for (const s of [s1, s2]) {
      const m = /^\s*branch\d\.lab\s.*\blocal\s+UP\b.*$/m.exec(await v.cli(s, 'show mesh'));
      if (m) initiatorRow = m[0];
    }
    return initiatorRow !== '';
  }, 20_000);
  assert.match(initiatorRow, /\segress\s+local\s/, `Trigger is egress on every node, yet the initiator shows: ${initiatorRow.trim()}`);
});
