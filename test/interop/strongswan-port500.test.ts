/**
 * strongSwan as configured out of the box: IKE starts on UDP 500 (remote_port 500, local_port
 * 500) and encap = no, so ESP goes in UDP only when NAT detection says so. meshgate listens on
 * 500 as well as 4500, forces its NAT_DETECTION_SOURCE_IP not to match (it has no raw ESP),
 * and both sides move to 4500 after IKE_SA_INIT (RFC 7296 section 2.23) with ESP in UDP
 * (RFC 3948). Both directions: charon initiates to meshgate's port 500, and meshgate
 * initiates to charon's port 500 (Remote-Gateway 192.0.2.2:500). Real traffic both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CHACHA, agreedSas, parseCharonSas, pingCount, pings, withInterop } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';
const DEFAULT_PORTS = { localPort: 500, remotePort: 500, encap: false };

test('port 500: strongSwan with default ports and encap=no initiates to meshgate, floats to 4500, ESP in UDP, ping both ways', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charon: DEFAULT_PORTS }, async ({ lab, topo, charon, mg }) => {
    const out = charon.initiate(8);
    assert.match(out, /sending packet: from 192\.0\.2\.2\[500\] to 192\.0\.2\.1\[500\]/, `IKE_SA_INIT to port 500:\n${out}`);
    assert.match(out, /remote host is behind NAT/, `meshgate's forced NAT detection:\n${out}`);
    assert.match(out, /sending packet: from 192\.0\.2\.2\[4500\] to 192\.0\.2\.1\[4500\]/, `IKE_AUTH floated to 4500:\n${out}`);
    assert.match(out, /initiate completed successfully/, out);
    assert.ok(await mg.waitUp('charon', 5000), await mg.dump());
    await agreedSas(mg, charon);
    const ike = (await mg.ikeSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(ike['Role'], 'R');
    const list = charon.listSas();
    assert.match(list, /remote\s+'mg\.test' @ 192\.0\.2\.1\[4500\]/, list);
    assert.match(list, /INSTALLED, TUNNEL-in-UDP/, `charon encapsulates ESP in UDP:\n${list}`);

    assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'host behind meshgate -> behind charon');
    assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 5), 5, '5 of 5 pings host -> charon side');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 5, BEHIND_CHARON), 5, '5 of 5 pings charon side -> host');
    const counted = parseCharonSas(charon.listSas()).children[0]!;
    assert.ok(counted.pktsIn >= 10 && counted.pktsOut >= 10, `charon counts the packets:\n${charon.listSas()}`);
    // A rekey initiated by charon reaches meshgate on 4500.
    assert.match(charon.rekeyChild(), /rekey completed successfully/);
    assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 3), 3, 'traffic after the child rekey');
  }),
);

test('port 500: meshgate initiates to strongSwan on port 500 (default ports, encap=no), floats to 4500, ping both ways', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, mgRemotePort: 500, charon: DEFAULT_PORTS }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /received packet: from 192\.0\.2\.1\[500\] to 192\.0\.2\.2\[500\]/, 'IKE_SA_INIT from meshgate port 500 to charon port 500');
    assert.match(log, /remote host is behind NAT/, 'charon believes meshgate is behind a NAT (forced detection)');
    assert.match(log, /received packet: from 192\.0\.2\.1\[4500\] to 192\.0\.2\.2\[4500\]/, 'IKE_AUTH from 4500 to 4500');
    const ike = (await mg.ikeSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(ike['Role'], 'I');
    const list = charon.listSas();
    assert.match(list, /local\s+'charon\.test' @ 192\.0\.2\.2\[4500\]\s+remote\s+'mg\.test' @ 192\.0\.2\.1\[4500\]/, list);
    assert.match(list, /INSTALLED, TUNNEL-in-UDP/, list);
    assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'host behind meshgate -> behind charon');
    assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 5), 5);
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 5, BEHIND_CHARON), 5);
    // meshgate rekeys the IKE SA on command: on 4500 still.
    const r = await mg.sh('do /Other/VPN/Rekey charon');
    assert.equal(r.code, 0, r.out);
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3, 'traffic after meshgate rekeyed');
  }),
);
