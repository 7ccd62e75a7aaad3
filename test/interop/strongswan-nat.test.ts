/**
 * meshgate behind a NAT talking to strongSwan: a UDP NAT with one mapping (fixtures/udp-nat.mjs,
 * no iptables needed) between meshgate (172.16.0.2) and charon (192.0.2.2); charon sees meshgate
 * as 192.0.2.1 on a port the NAT picked. NAT detection on both sides, NAT keepalives from
 * meshgate, traffic both ways, and charon-initiated exchanges (rekeys) that must find meshgate
 * through the mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, pingCount, pings, waitAgreed, withInterop } from './fixtures/meshgate-node.js';

test('NAT: meshgate initiator behind a NAT, keepalives, traffic both ways, charon rekeys through the mapping', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, nat: true, keepaliveSec: 2 }, async ({ lab, topo, charon, mg, nat }) => {
    await agreedSas(mg, charon);
    const mapped = Number(/READY (\d+)/.exec(nat!.output())?.[1]);
    const list = charon.listSas();
    assert.match(list, new RegExp(`remote 'mg\\.test' @ 192\\.0\\.2\\.1\\[${mapped}\\]`), `charon sees meshgate at the NAT's mapping:\n${list}`);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /remote host is behind NAT/, 'charon detected the NAT in front of meshgate');
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'), 'host behind meshgate -> charon side through the NAT');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3, 'charon side -> host through the NAT mapping');
    assert.ok(await waitFor(() => /KEEPALIVE/.test(nat!.output()), 6000, 200), 'meshgate sends NAT keepalives (every 2 s here)');

    const before = await agreedSas(mg, charon);
    assert.match(charon.rekeyChild(), /rekey completed successfully/);
    assert.match(charon.rekeyIke(), /rekey completed successfully/);
    const after = await waitAgreed(mg, charon);
    assert.notEqual(after.ike, before.ike);
    assert.notEqual(after.childIn, before.childIn);
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3, 'traffic after the rekeys through the NAT');
    assert.equal(pingCount(lab, topo.hostNs, '10.2.0.1', 3), 3);
  }),
);
