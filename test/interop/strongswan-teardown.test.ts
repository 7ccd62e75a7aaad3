/**
 * Teardown by either side between meshgate and strongSwan, in both roles:
 *  - `swanctl --terminate --ike` (charon sends DELETE): meshgate shows the peer not UP, no SAs,
 *    traffic stops; as initiator it schedules a reconnect (WAITING), as responder it stays DOWN;
 *  - `do /Other/VPN/Disconnect` on meshgate: charon holds no SA afterwards, meshgate stays down
 *    (no reconnect until Connect); `do /Other/VPN/Connect` brings it back with traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, parseCharonSas, pingCount, pings, waitAgreed, withInterop } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';

for (const role of ['initiator', 'responder'] as const) {
  test(`teardown by strongSwan (swanctl --terminate), meshgate ${role}`, { timeout: 60_000 }, (t) =>
    withInterop(t, { role, suite: CHACHA }, async ({ lab, topo, charon, mg }) => {
      await agreedSas(mg, charon);
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 2), 2);
      const out = charon.terminateIke();
      assert.match(out, /terminate completed successfully/, out);
      assert.equal(parseCharonSas(charon.listSas()).ike.length, 0, charon.listSas());
      const down = await waitFor(async () => (await mg.vpn('charon'))?.['State'] !== 'UP' && (await mg.ikeSas()).length === 0 && (await mg.childSas()).length === 0, 5000, 200);
      assert.ok(down, 'meshgate took the tunnel down on the DELETE');
      const vpn = await mg.vpn('charon');
      // An initiator schedules a reconnect (LCOS-like 30 s +/- 10 s); a responder waits for the peer.
      assert.equal(vpn?.['State'], role === 'initiator' ? 'WAITING' : 'DOWN', JSON.stringify(vpn));
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 2), 0, 'no traffic without the tunnel');
      await sleep(2000);
      assert.equal(parseCharonSas(charon.listSas()).ike.length, 0, 'meshgate did not reconnect at once');

      // Back up: meshgate connects (initiator) or charon initiates again (responder).
      if (role === 'initiator') assert.equal((await mg.sh('do /Other/VPN/Connect charon')).code, 0);
      else assert.match(charon.initiate(8), /initiate completed successfully/);
      assert.ok(await mg.waitUp('charon', 10_000));
      await waitAgreed(mg, charon);
      assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'traffic again after the new tunnel');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 2, BEHIND_CHARON), 2);
    }),
  );

  test(`teardown by meshgate (do /Other/VPN/Disconnect), meshgate ${role}`, { timeout: 60_000 }, (t) =>
    withInterop(t, { role, suite: CHACHA }, async ({ lab, topo, charon, mg }) => {
      await agreedSas(mg, charon);
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 2, BEHIND_CHARON), 2);
      const r = await mg.sh('do /Other/VPN/Disconnect charon');
      assert.equal(r.code, 0, r.out);
      const gone = await waitFor(() => parseCharonSas(charon.listSas()).ike.length === 0 && parseCharonSas(charon.listSas()).children.length === 0, 5000, 200);
      assert.ok(gone, `charon holds no SA after meshgate's DELETE:\n${charon.listSas()}`);
      assert.equal((await mg.ikeSas()).length, 0);
      assert.equal((await mg.childSas()).length, 0);
      assert.equal((await mg.vpn('charon'))?.['State'], 'DOWN');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 2, BEHIND_CHARON), 0, 'no traffic without the tunnel');
      await sleep(2000);
      assert.equal((await mg.vpn('charon'))?.['State'], 'DOWN', 'no reconnect after a local disconnect');
      assert.equal(parseCharonSas(charon.listSas()).ike.length, 0);

      if (role === 'initiator') assert.equal((await mg.sh('do /Other/VPN/Connect charon')).code, 0);
      else assert.match(charon.initiate(8), /initiate completed successfully/);
      assert.ok(await mg.waitUp('charon', 10_000));
      await waitAgreed(mg, charon);
      assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'traffic again after the new tunnel');
    }),
  );
}
