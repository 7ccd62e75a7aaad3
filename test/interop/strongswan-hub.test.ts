/**
 * A strongSwan gateway as the hub of one meshgate spoke (issue 4, item 8): the spoke's peer row
 * is of Type hub, it initiates to charon with its branch network 10.5.0.0/24 and the whole
 * 10.0.0.0/8 behind the hub. Behind charon: the hub's own LAN (10.0.0.1) and another branch's
 * network (10.7.0.1), both on charon's loopback. A host behind the spoke reaches both and is
 * reached from both. With the spoke's mesh mode on, the spoke must not talk mesh to a hub
 * that never announced meshgate's Vendor ID: no private notifies reach charon, and the tunnel
 * stays as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/netns.js';
import { CHACHA, AESGCM, agreedSas, pingCount, pings, withInterop } from './fixtures/meshgate-node.js';

const HUB_LAN = '10.0.0.1';

interface IperfResult {
  error?: string;
  end?: { sum_received?: { bytes: number; bits_per_second: number } };
}
const OTHER_BRANCH = '10.7.0.1';

const MESH_SPOKE = [
  'cd /Setup/VPN/IKEv2/Auth/Parameter',
  'set MESH {Local-ID} mg.test {Local-Password} interop-mesh-psk-0123456789',
  'cd /Setup/VPN/IKEv2/Peers',
  'set MESH no "" responder static {Auth} MESH {SH-Time} 60',
  'cd /Setup/VPN/IKEv2/Mesh',
  'set Operation-Mode Spoke',
  'set VPN-Peer-Template MESH',
  'set Initial-Rate-Limit-Sec 1',
];

for (const mesh of [false, true]) {
  test(`strongSwan hub, meshgate spoke (10.5.0.0/24 <-> 10.0.0.0/8)${mesh ? ', spoke mesh mode on' : ''}: traffic both ways`, { timeout: 60_000 }, (t) =>
    withInterop(
      t,
      {
        role: 'initiator',
        type: 'hub',
        suite: mesh ? AESGCM : CHACHA,
        lan: '10.5.0.1/24',
        host: '10.5.0.10/24',
        charonLo: [`${HUB_LAN}/32`, `${OTHER_BRANCH}/32`],
        mgLocal: '10.5.0.0/24',
        mgRemote: '10.0.0.0/8',
        charonLocal: '10.0.0.0/8',
        charonRemote: '10.5.0.0/24',
        ...(mesh ? { extra: MESH_SPOKE } : {}),
      },
      async ({ lab, topo, charon, mg }) => {
        await agreedSas(mg, charon);
        const child = (await mg.childSas()).find((r) => r['Peer'] === 'charon')!;
        assert.equal(child['Local-TS'], '10.5.0.0/24');
        assert.equal(child['Remote-TS'], '10.0.0.0/8');
        assert.match(charon.listSas(), /local\s+10\.0\.0\.0\/8\s+remote\s+10\.5\.0\.0\/24/);
        for (const dst of [HUB_LAN, OTHER_BRANCH]) {
          assert.ok(await pings(lab, topo.hostNs, dst), `host behind the spoke -> ${dst} behind the hub`);
          assert.equal(pingCount(lab, topo.hostNs, dst, 4), 4, `4 of 4 to ${dst}`);
          assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 4, dst), 4, `4 of 4 from ${dst} to the host behind the spoke`);
        }
        // A TCP-sized packet both ways (1200 bytes fits the TUN MTU 1400 with ESP in UDP).
        assert.equal(pingCount(lab, topo.hostNs, HUB_LAN, 2, undefined, 1200), 2, 'large packets cross');
        // TCP: a 2-second iperf3 transfer each way between the host behind the spoke and the hub's LAN.
        const server = lab.spawn(topo.ssNs, 'iperf3', ['-s', '-B', HUB_LAN, '-1']);
        await waitFor(() => /Server listening/.test(server.output()), 5000, 100);
        const up = JSON.parse(lab.exec(topo.hostNs, 'iperf3', ['-c', HUB_LAN, '-t', '2', '-J'], { timeoutMs: 15_000 })) as IperfResult;
        await server.exited;
        const server2 = lab.spawn(topo.ssNs, 'iperf3', ['-s', '-B', HUB_LAN, '-1']);
        await waitFor(() => /Server listening/.test(server2.output()), 5000, 100);
        const down = JSON.parse(lab.exec(topo.hostNs, 'iperf3', ['-c', HUB_LAN, '-t', '2', '-R', '-J'], { timeoutMs: 15_000 })) as IperfResult;
        await server2.exited;
        for (const [dir, r] of [['spoke -> hub', up], ['hub -> spoke', down]] as const) {
          assert.equal(r.error, undefined, `${dir}: ${r.error}`);
          const bytes = r.end?.sum_received?.bytes ?? 0;
          assert.ok(bytes > 1_000_000, `${dir}: TCP moved ${bytes} bytes in 2 s`);
          t.diagnostic(`iperf3 TCP ${dir}: ${((r.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(0)} Mbit/s`);
        }
        const vpn = await mg.vpn('charon');
        assert.equal(vpn?.['State'], 'UP');
        assert.ok(Number(vpn?.['Rx-Pkts']) >= 18, JSON.stringify(vpn));
        if (mesh) {
          // Traffic from another branch arrived through the hub: a meshgate hub would be asked for
          // a shortcut. charon never sent meshgate's Vendor ID, so it is no meshgate hub and the
          // private mesh notifies (status type 0xCA00.., valid only between peers that both sent
          // the Vendor ID) must not reach it. charon 5.9 answers them with an empty response, so
          // the tunnel survives, but the spoke must not send them.
          await agreedSas(mg, charon);
          const log = readFileSync(charon.logFile, 'utf8');
          assert.doesNotMatch(log, /received DELETE/, 'charon deleted nothing');
          assert.doesNotMatch(log, /\[ENC\] generating IKE_SA_INIT response 0 \[[^\]]* V /, 'charon sent no Vendor ID');
          const privates = log.split('\n').filter((l) => /parsed INFORMATIONAL request \d+ \[[^\]]*N\(\(\d+\)\)/.test(l));
          assert.deepEqual(privates, [], 'the spoke sent private (mesh) notifies to a hub that is not meshgate');
        }
      },
    ),
  );
}
