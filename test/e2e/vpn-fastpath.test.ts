/**
 * The native fast path in namespaces (issue 4): hub and two spokes as real daemons (the fast
 * path is on by default). An iperf3 TCP transfer host1 -> hub -> host2 must be offloaded at
 * every node (the packets of the transfer go through the addon, not the JavaScript path),
 * the counters must reach `show forwarding`, `show sessions` and `show ipsec`, and an IKE
 * rekey in the middle of the transfer must not disturb it. With MESHGATE_FAST_PATH=off the
 * same lab runs on the JavaScript path and says so. Root only (rootOrSkip).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rootOrSkip, sleep } from '../helpers/netns.js';
import { VpnLab } from './vpn-lab.js';

function iperf(v: VpnLab, ns: string, to: string, seconds: number) {
  const client = spawn('ip', ['netns', 'exec', ns, 'iperf3', '-c', to, '-t', String(seconds), '-J', '--connect-timeout', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  client.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  client.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<number | null>((r) => client.once('exit', (c) => r(c)));
  return {
    client,
    done: async () => {
      const code = await Promise.race([done, sleep((seconds + 30) * 1000).then(() => 'timeout' as const)]);
      if (code === 'timeout' && client.pid) process.kill(client.pid, 'SIGKILL');
      return { code, out };
    },
  };
}

test('fast path: TCP through the hub is offloaded at all three nodes, counted in the show commands, and survives an IKE rekey', { timeout: 180_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({ branches: 2, mesh: false });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  const [s1, s2] = v.spokes as [(typeof v.spokes)[0], (typeof v.spokes)[0]];
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];
  for (const n of [v.hub, s1, s2]) assert.match(n.daemon!.output(), /fast path: on \(native/, `${n.name}: ${n.daemon!.output()}`);

  const srv = v.lab.spawn(h2.ns, 'iperf3', ['-s', '-1', '-B', h2.address]);
  assert.ok(await v.waitListening(h2.ns, 5201, 10_000), `iperf3 server did not start: ${srv.output()}`);
  const ike0 = await v.cli(s1, 'show ike');
  const run = iperf(v, h1.ns, h2.address, 6);
  t.after(() => {
    if (run.client.exitCode === null && run.client.pid) process.kill(run.client.pid, 'SIGKILL');
  });
  await sleep(2500);
  // an IKE rekey at spoke 1 in the middle of the transfer (its child SA moves to the new IKE SA)
  assert.match(await v.cli(s1, 'do /Other/VPN/Rekey HUB'), /rekeying HUB/);
  const { code, out } = await run.done();
  assert.equal(code, 0, `iperf3 failed: ${out.slice(0, 2000)}`);
  const r = JSON.parse(out) as { error?: string; end?: { sum_sent?: { bytes: number }; sum_received?: { bytes: number; bits_per_second: number } } };
  assert.equal(r.error, undefined);
  const sent = r.end?.sum_sent?.bytes ?? 0;
  const received = r.end?.sum_received?.bytes ?? 0;
  t.diagnostic(`iperf3 TCP host1 -> hub -> host2 with the fast path: ${((r.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(1)} Mbit/s, ${received} of ${sent} bytes`);
  assert.ok(received >= 0.9 * sent && received > 10_000_000, `received ${received} of ${sent} bytes`);
  const ike1 = await v.cli(s1, 'show ike');
  assert.notEqual(ike1, ike0, 'the IKE SA was rekeyed (new SPIs)');

  const segments = Math.floor(received / 1500);
  // spoke 1: the data left through the addon (TUN read -> seal -> sendmmsg)
  const f1 = await v.cli(s1, 'show forwarding');
  const out1 = VpnLab.num(f1, 'Offloaded-Packets-Out');
  assert.ok(out1 >= 0.9 * segments, `spoke 1 offloaded ${out1} packets out for ${segments} segments:\n${f1}`);
  assert.ok(VpnLab.num(f1, 'To-Tunnel') >= out1, `show forwarding totals include the offloaded packets:\n${f1}`);
  assert.ok(VpnLab.num(f1, 'UDP-Tx-Batches') < VpnLab.num(f1, 'UDP-Tx-Packets'), `sendmmsg carried several packets per call:\n${f1}`);
  // hub: hairpinned in the addon (open -> seal into the other spoke's SA)
  const fh = await v.cli(v.hub, 'show forwarding');
  const hp = VpnLab.num(fh, 'Offloaded-Hairpin');
  assert.ok(hp >= 0.9 * segments, `hub offloaded ${hp} hairpins for ${segments} segments:\n${fh}`);
  assert.ok(VpnLab.num(fh, 'Hairpin') >= hp, `the hub's Hairpin total includes the offloaded ones:\n${fh}`);
  // spoke 2: decrypted into its TUN by the addon
  const f2 = await v.cli(s2, 'show forwarding');
  assert.ok(VpnLab.num(f2, 'Offloaded-Packets-In') >= 0.9 * segments, f2);
  for (const f of [f1, fh, f2]) {
    for (const k of ['esp-auth-failed', 'esp-malformed']) assert.equal(VpnLab.num(f, k), 0, `${k}:\n${f}`);
    assert.equal(VpnLab.num(f, 'ESP-Rx-Dropped'), 0, f);
  }
  // the flow table and the SAs saw the offloaded traffic (pulled from the addon)
  const sess = await v.cli(s1, 'show sessions');
  const rows = sess.split('\n').filter((l) => /TCP\s+10\.1\.0\.5:\d+\s+10\.2\.0\.5:5201\s+HUB/.test(l));
  const row = rows[0];
  // columns: Protocol Source Destination Path Pkts-Out Pkts-In Bytes Idle Switchovers
  const bytes = Math.max(...rows.map((l) => Number((/\s([\d,]+)\s+\S+\s+\d+\s*$/.exec(l)?.[1] ?? '0').replace(/,/g, ''))));
  assert.ok(row, `no session row for the transfer:\n${sess}`);
  assert.ok(bytes >= 0.9 * received, `show sessions counts ${bytes} bytes for a transfer of ${received}:\n${sess}`);
  const vpn = await v.cli(s1, 'show vpn');
  const vpnBytes = Math.max(...[...vpn.matchAll(/\b(\d{7,})\b/g)].map((m) => Number(m[1])));
  assert.ok(vpnBytes >= 0.9 * received, `show vpn traffic ${vpnBytes} for ${received} bytes sent:\n${vpn}`);
  // still working after the transfer (the flow entries can be gone: new packets go up to JavaScript)
  assert.match(v.lab.exec(h1.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', h2.address]), / 3 received/);
});

test('fast path switched off (MESHGATE_FAST_PATH=off): the daemons say so and forward on the JavaScript path', { timeout: 120_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const prev = process.env['MESHGATE_FAST_PATH'];
  process.env['MESHGATE_FAST_PATH'] = 'off';
  t.after(() => {
    if (prev === undefined) delete process.env['MESHGATE_FAST_PATH'];
    else process.env['MESHGATE_FAST_PATH'] = prev;
  });
  const v = new VpnLab({ branches: 2, mesh: false });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  for (const n of [v.hub, ...v.spokes]) assert.match(n.daemon!.output(), /fast path: off \(switched off/, n.daemon!.output());
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];
  assert.match(v.lab.exec(h1.ns, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', h2.address]), / 5 received/);
  const fh = await v.cli(v.hub, 'show forwarding');
  assert.ok(VpnLab.num(fh, 'Hairpin') >= 10, fh);
  assert.doesNotMatch(fh, /Offloaded-Flows/, 'no fast-path block without the fast path');
});
