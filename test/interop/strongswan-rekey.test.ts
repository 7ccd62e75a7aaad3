/**
 * Rekeying between meshgate and strongSwan: charon with short lifetimes (child rekey_time 8 s,
 * IKE rekey_time 14 s) rekeys on its own; charon rekeys on command (swanctl --rekey); meshgate
 * rekeys the IKE SA on command (do /Other/VPN/Rekey; its own lifetimes cannot go below 120 s).
 * After every rekey both sides agree on the new SPIs, the old ones are gone, and traffic flows;
 * a ping running across the rekeys loses (almost) nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/netns.js';
import { AESGCM, CHACHA, agreedSas, pingCount, pings, waitAgreed, withInterop } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';

test('rekey: strongSwan lifetimes (child 8 s, IKE 14 s) with meshgate as initiator; SPIs change, traffic flows', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, charon: { rekeyTime: '8s', ikeRekeyTime: '14s' } }, async ({ lab, topo, charon, mg }) => {
    const first = await agreedSas(mg, charon);
    // ping across the rekeys: 22 s at 5 per second, in the background.
    const pinger = lab.spawn(topo.hostNs, 'ping', ['-n', '-q', '-i', '0.2', '-w', '22', '-W', '1', BEHIND_CHARON]);
    let childRekeyed = false;
    let ikeRekeyed = false;
    const seen = await waitFor(async () => {
      try {
        const now = await agreedSas(mg, charon);
        childRekeyed ||= now.childIn !== first.childIn && now.childOut !== first.childOut;
        ikeRekeyed ||= now.ike !== first.ike;
      } catch {
        /* mid-rekey: two SAs for a moment */
      }
      return childRekeyed && ikeRekeyed;
    }, 25_000, 500);
    assert.ok(seen, `child rekeyed: ${childRekeyed}, IKE rekeyed: ${ikeRekeyed}`);
    const settled = await waitAgreed(mg, charon);
    assert.notEqual(settled.ike, first.ike);
    assert.notEqual(settled.childIn, first.childIn);
    assert.ok(!charon.listSas().includes(first.childIn) && !charon.listSas().includes(first.childOut), 'the old child SA is gone at charon');
    const vpn = await mg.vpn('charon');
    // show vpn's Rekeys counts IKE SA rekeys (child rekeys are not counted there).
    assert.ok(Number(vpn?.['Rekeys']) >= 1, `show vpn counts the IKE rekey: ${JSON.stringify(vpn)}`);
    await pinger.exited;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(pinger.output());
    assert.ok(m, pinger.output());
    const [sent, got] = [Number(m[1]), Number(m[2])];
    assert.ok(got >= sent - 2, `a ping across the rekeys lost at most 2 packets: ${pinger.output()}`);
    assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 3), 3, 'host -> charon side after the rekeys');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3, 'charon side -> host after the rekeys');
  }),
);

for (const role of ['initiator', 'responder'] as const) {
  test(`rekey on command, aes256gcm16, meshgate ${role}: charon rekeys child and IKE SA, meshgate rekeys the IKE SA`, { timeout: 60_000 }, (t) =>
    withInterop(t, { role, suite: AESGCM }, async ({ lab, topo, charon, mg }) => {
      const first = await agreedSas(mg, charon);
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 3), 3, 'traffic on the first child');

      assert.match(charon.rekeyChild(), /rekey completed successfully/);
      const afterChild = await waitAgreed(mg, charon);
      assert.equal(afterChild.ike, first.ike, 'a child rekey keeps the IKE SA');
      assert.notEqual(afterChild.childIn, first.childIn);
      assert.notEqual(afterChild.childOut, first.childOut);
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 3), 3, 'traffic after charon rekeyed the child');
      const vpnChild = await mg.vpn('charon');
      assert.equal(Number(vpnChild?.['Child-Rekeys']), 1, `show vpn counts the child rekey: ${JSON.stringify(vpnChild)}`);
      // The first child's packets are still counted after it is gone (3 echo requests before, 3 after).
      const pktsAfterChild = Number(vpnChild?.['Tx-Pkts']);
      assert.ok(pktsAfterChild >= 6, `Tx-Pkts counts both children: ${JSON.stringify(vpnChild)}`);

      assert.match(charon.rekeyIke(), /rekey completed successfully/);
      const afterIke = await waitAgreed(mg, charon);
      assert.notEqual(afterIke.ike, first.ike, 'new IKE SPIs after charon rekeyed the IKE SA');
      assert.equal(afterIke.childIn, afterChild.childIn, 'the child moved over to the new IKE SA');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3, 'traffic after charon rekeyed the IKE SA');

      const r = await mg.sh('do /Other/VPN/Rekey charon');
      assert.equal(r.code, 0, r.out);
      const ours = await waitFor(async () => {
        try {
          return (await agreedSas(mg, charon)).ike !== afterIke.ike;
        } catch {
          return false;
        }
      }, 10_000, 300);
      assert.ok(ours, 'meshgate rekeyed the IKE SA and charon took the new one');
      const afterOurs = await waitAgreed(mg, charon);
      assert.equal(afterOurs.childIn, afterChild.childIn, 'the child moved over again');
      assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 3), 3, 'traffic after meshgate rekeyed the IKE SA');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3);
      const vpn = await mg.vpn('charon');
      assert.equal(vpn?.['State'], 'UP');
      assert.equal(Number(vpn?.['Rekeys']), 2, `show vpn counts the two IKE rekeys: ${JSON.stringify(vpn)}`);
      assert.equal(Number(vpn?.['Child-Rekeys']), 1, 'still one child rekey');
      assert.ok(Number(vpn?.['Tx-Pkts']) >= pktsAfterChild + 9, `traffic counters run on across the rekeys: ${JSON.stringify(vpn)}`);
    }),
  );
}

// charon's reauthentication (swanctl --reauth, or reauth_time in its config) is break-before-make:
// it deletes the IKE SA, then initiates a new one to meshgate. meshgate answers that IKE_SA_INIT
// in every role, Role initiator included (its gateway's address and identity match), so the
// tunnel is back at once; meshgate's own reconnect timer (5 s after a peer's DELETE) is cancelled.
for (const role of ['initiator', 'auto', 'responder'] as const) {
  test(`reauthentication by charon (swanctl --rekey --ike --reauth), meshgate ${role}: one new IKE SA, traffic flows`, { timeout: 60_000 }, (t) =>
    withInterop(t, { role, suite: CHACHA }, async ({ lab, topo, charon, mg }) => {
      const first = await agreedSas(mg, charon);
      let out = '';
      try {
        out = charon.swanctl(['--rekey', '--ike', 'mg', '--reauth'], 15_000);
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? '') + (err as Error).message;
      }
      assert.match(out, /rekey completed successfully/, out);
      const ok = await waitFor(async () => {
        try {
          return (await agreedSas(mg, charon)).ike !== first.ike;
        } catch {
          return false;
        }
      }, 15_000, 300);
      assert.ok(ok, 'a new IKE SA (charon built it from scratch) that both sides agree on');
      const ike = (await mg.ikeSas()).filter((r) => r['Peer'] === 'charon');
      assert.equal(ike.length, 1, JSON.stringify(ike));
      assert.equal(ike[0]!['Role'], 'R', 'meshgate answered charon\'s new IKE SA');
      assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'traffic after the reauthentication');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, BEHIND_CHARON), 3);
    }),
  );
}
