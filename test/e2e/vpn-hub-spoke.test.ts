/**
 * Hub and spoke in network namespaces (issue 4, item 8): a hub and two spokes, each a real
 * `meshgate daemon --engine tun`, a host namespace behind each spoke, the WAN a bridge.
 * Mesh is off, so host1 -> host2 traffic goes spoke1 -> hub -> spoke2 and the hub's
 * forwarder counts it as hairpin (`show forwarding`). Root only (rootOrSkip: a failure in CI).
 *
 *   node --import tsx --test test/e2e/vpn-hub-spoke.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootOrSkip } from '../helpers/netns.js';
import { VpnLab } from './vpn-lab.js';

test('hub and spoke in namespaces: tunnels up, ping and iperf3 TCP host1 -> host2 hairpinned at the hub', { timeout: 180_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({ branches: 2, mesh: false });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);

  const hubVpn = await v.cli(v.hub, 'show vpn');
  assert.match(hubVpn, /^\s*branch1\s+UP\b/m, hubVpn);
  assert.match(hubVpn, /^\s*branch2\s+UP\b/m, hubVpn);

  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];
  // Ping host1 -> host2: every echo request and every reply crosses the hub (hairpin).
  const before = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');
  const ping = v.lab.exec(h1.ns, 'ping', ['-n', '-c', '5', '-i', '0.2', '-W', '3', h2.address], { timeoutMs: 30_000 });
  assert.match(ping, / 5 received/, ping);
  const after = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');
  assert.ok(after - before >= 10, `hub hairpin grew by ${after - before} for 5 echo requests + 5 replies`);
  // No mesh: the spokes hold no mesh tunnel, and the path to host2 is the hub.
  const why = await v.cli(v.spokes[0]!, `show mesh why ${h2.address}`);
  assert.match(why, /Path\s*:?\s*hub/i, why);

  // iperf3 TCP, a few seconds, through the hub.
  const srv = v.lab.spawn(h2.ns, 'iperf3', ['-s', '-1', '-B', h2.address]);
  assert.ok(await v.waitListening(h2.ns, 5201, 10_000), `iperf3 server did not start: ${srv.output()}`);
  const hp0 = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');
  const out = v.lab.exec(h1.ns, 'iperf3', ['-c', h2.address, '-t', '3', '-J', '--connect-timeout', '5000'], { timeoutMs: 60_000 });
  const r = JSON.parse(out) as { error?: string; end?: { sum_received?: { bytes: number; bits_per_second: number } } };
  assert.equal(r.error, undefined, `iperf3 error: ${r.error}`);
  const rx = r.end?.sum_received;
  assert.ok(rx && rx.bytes > 0 && rx.bits_per_second > 0, `iperf3 received nothing: ${out.slice(0, 2000)}`);
  t.diagnostic(`iperf3 TCP host1 -> host2 through the hub: ${(rx.bits_per_second / 1e6).toFixed(1)} Mbit/s, ${rx.bytes} bytes`);
  const hp1 = VpnLab.num(await v.cli(v.hub, 'show forwarding'), 'Hairpin');
  // At least one hairpinned packet per full-size segment received.
  assert.ok(hp1 - hp0 >= Math.floor(rx.bytes / 1500), `hairpin grew by ${hp1 - hp0} for ${rx.bytes} bytes`);
  const fwd = await v.cli(v.hub, 'show forwarding');
  assert.equal(VpnLab.num(fwd, 'ESP-Rx-Dropped'), 0, fwd);
});

/**
 * The daemons' UDP sockets bind the wildcard '::' (no WAN Bind-Address). NAT detection must
 * not mistake that for a NAT: the engine sends a NAT_DETECTION_SOURCE_IP per interface
 * address and matches the peer's NAT_DETECTION_DESTINATION_IP against all of them
 * (src/engine/ike/tasks/util.ts). Before that fix every SA here reported "(NAT)".
 */
test('NAT detection: hub and spokes on one bridge see no NAT', { timeout: 120_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({ branches: 1, mesh: false });
  t.after(() => v.cleanup());
  await v.configure();
  await v.start();
  await v.waitTunnelsUp(30_000);
  const log = await v.cli(v.spokes[0]!, 'show log');
  const up = log.split('\n').filter((l) => /IKE SA \d+ with HUB up/.test(l));
  assert.ok(up.length >= 1, log);
  for (const l of up) assert.doesNotMatch(l, /\(NAT\)/, `no NAT between 198.51.100.11 and 198.51.100.1, yet: ${l.trim()}`);
});
