/**
 * Liveness between meshgate and strongSwan: dead peer detection by either side on a live
 * tunnel (the empty INFORMATIONAL is answered, nothing is torn down), and a meshgate
 * crash and restart (SIGKILL, nothing sent): the new IKE SA carries INITIAL_CONTACT and charon
 * drops the stale one, so exactly one tunnel remains and traffic flows.
 * (A dead charon is noticed by meshgate only after about 52 s: DPD-Inact-Timer plus three
 * retransmissions at 4 s x 1.8^n, which the General profile's Retries does not shorten; too long
 * for this suite, so it is not tested here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sleep } from '../helpers/netns.js';
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
