/**
 * Liveness between meshgate and strongSwan: dead peer detection by either side on a live
 * tunnel (the empty INFORMATIONAL is answered, nothing is torn down), and a meshgate
 * crash and restart (SIGKILL, nothing sent): the new IKE SA carries INITIAL_CONTACT and charon
 * drops the stale one, so exactly one tunnel remains and traffic flows.
 * A dead charon (its WAN link cut) is noticed by meshgate DPD-Inact-Timer + (Retries + 1) x 5 s
 * after charon's last packet, as the General profile's help text says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sleep, waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, parseCharonSas, pingCount, pings, waitAgreed, withInterop } from './fixtures/meshgate-node.js';

test('DPD by charon (dpd_delay 2 s, meshgate DPD off): meshgate answers, the SAs stay', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, dpdSec: 0, charon: { dpdDelay: '2s' } }, async ({ lab, topo, charon, mg }) => {
    const before = await agreedSas(mg, charon);
    await sleep(5000);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /generating INFORMATIONAL request \d+ \[ \]/, 'charon sent a liveness check');
    assert.match(log, /parsed INFORMATIONAL response \d+ \[ \]/, 'meshgate answered it');
    assert.deepEqual(await agreedSas(mg, charon), before, 'the same SAs');
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
  }),
);

test('DPD by meshgate (DPD-Inact-Timer 2 s, charon DPD off): charon answers, the SAs stay', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, dpdSec: 2 }, async ({ lab, topo, charon, mg }) => {
    const before = await agreedSas(mg, charon);
    await sleep(5000);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed INFORMATIONAL request \d+ \[ \]/, 'meshgate sent a liveness check');
    assert.match(log, /generating INFORMATIONAL response \d+ \[ \]/, 'charon answered it');
    assert.deepEqual(await agreedSas(mg, charon), before, 'the same SAs');
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
  }),
);

test('meshgate crashes and restarts: INITIAL_CONTACT, charon keeps only the new tunnel', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA }, async ({ lab, topo, charon, mg }) => {
    const before = await agreedSas(mg, charon);
    await mg.kill();
    await mg.startDaemon();
    assert.ok(await mg.waitUp('charon', 15_000), 'meshgate reconnected after the restart');
    const after = await waitAgreed(mg, charon, 10_000);
    assert.notEqual(after.ike, before.ike);
    const sas = parseCharonSas(charon.listSas());
    assert.equal(sas.ike.length, 1, `charon dropped the stale IKE SA:\n${charon.listSas()}`);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_AUTH request 1 \[[^\]]*N\(INIT_CONTACT\)/);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'), 'traffic through the new tunnel');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3, 'charon routes into the new child SA');
  }),
);

test('a dead charon (WAN link cut): meshgate with DPD-Inact-Timer 3 s and Retries 2 declares it dead after 3 + 3 x 5 = 18 s', { timeout: 90_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, dpdSec: 3, retries: 2 }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
    lab.exec(topo.ssNs, 'ip', ['link', 'set', 'wan0', 'down']);
    const cut = Date.now();
    let vpn: Record<string, string> | undefined;
    const down = await waitFor(async () => {
      vpn = await mg.vpn('charon');
      return vpn?.['State'] !== 'UP';
    }, 40_000, 250);
    const took = (Date.now() - cut) / 1000;
    assert.ok(down, `meshgate noticed the dead peer: ${JSON.stringify(vpn)}`);
    t.diagnostic(`dead peer declared ${took.toFixed(1)} s after the link cut`);
    // 3 + 3 x 5 = 18 s after charon's last packet; ESP is sampled once per DPD-Inact-Timer, so when
    // the last packet was ESP the silence counts from up to 3 s later; plus this loop's polling.
    assert.ok(took >= 14 && took <= 23, `declared dead after ${took.toFixed(1)} s (expected 18 s to 21 s)`);
    assert.match(vpn?.['Last-Error'] ?? '', /no response to INFORMATIONAL request \d+ after 2 retransmissions/, JSON.stringify(vpn));
  }),
);
