/**
 * Both sides initiate at once (meshgate Role auto, charon `swanctl --initiate`): the WAN link
 * is cut, both forget the tunnel and start a new one into the void, and the link comes back
 * between their retransmissions, so both IKE_SA_INITs are answered and two IKE SAs can come up.
 * strongSwan settles duplicates by its uniqueids policy (the newer replaces the older) and
 * meshgate by the lowest nonce, deleting a loser that charon initiated itself after a grace
 * period when charon leaves it: either way exactly one IKE SA remains, the same on both sides,
 * and traffic flows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sleep, waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, parseCharonSas, pingCount, pings, withInterop } from './fixtures/meshgate-node.js';

test('simultaneous initiation by meshgate (Role auto) and charon: one IKE SA remains on both sides, traffic flows', { timeout: 90_000 }, (t) =>
  withInterop(t, { role: 'auto', suite: CHACHA }, async ({ lab, topo, charon, mg }) => {
    const first = await agreedSas(mg, charon);
    lab.exec(topo.ssNs, 'ip', ['link', 'set', 'wan0', 'down']);
    const d = await mg.sh('do /Other/VPN/Disconnect charon');
    assert.equal(d.code, 0, d.out);
    try {
      charon.swanctl(['--terminate', '--ike', 'mg', '--force', '--timeout', '1']);
    } catch {
      /* --force destroys the SA without waiting for the DELETE's answer and exits non-zero */
    }
    assert.equal(parseCharonSas(charon.listSas()).ike.length, 0, charon.listSas());
    // Both start over while the link is down.
    const t0 = Date.now();
    const init = lab.spawn(topo.ssNs, 'swanctl', ['--initiate', '--child', 'mg', '--timeout', '30', '--uri', `unix://${charon.vici}`]);
    const c = await mg.sh('do /Other/VPN/Connect charon');
    assert.equal(c.code, 0, c.out);
    // charon retransmits at 2 s and 5.6 s, meshgate at 4 s: the link is back in between.
    await sleep(Math.max(0, 3000 - (Date.now() - t0)));
    lab.exec(topo.ssNs, 'ip', ['link', 'set', 'wan0', 'up']);
    await init.exited;
    let maxCharon = 0;
    let maxMg = 0;
    const settled = await waitFor(async () => {
      maxCharon = Math.max(maxCharon, parseCharonSas(charon.listSas()).ike.filter((s) => s.state === 'ESTABLISHED').length);
      const mine = (await mg.ikeSas()).filter((r) => r['Peer'] === 'charon' && r['State'] === 'ESTABLISHED');
      maxMg = Math.max(maxMg, mine.length);
      try {
        const now = await agreedSas(mg, charon);
        return now.ike !== first.ike;
      } catch {
        return false;
      }
    }, 40_000, 500);
    const log = readFileSync(charon.logFile, 'utf8');
    // Both attempts got through: charon established two IKE SAs after the cut (one is deleted again).
    const after = log.slice(log.indexOf('vici terminate IKE_SA'));
    const established = (after.match(/IKE_SA mg\[\d+\] established between/g) ?? []).length;
    t.diagnostic(`IKE SAs established by charon after the cut: ${established}; at once: charon up to ${maxCharon}, meshgate up to ${maxMg}; ${(log.match(/deleting duplicate IKE_SA/g) ?? []).length} deleted by charon's uniqueids`);
    assert.ok(settled, 'one IKE SA that both sides agree on');
    assert.equal(established, 2, 'both sides\' attempts came up (a duplicate existed), and one was deleted');
    // Stable: still exactly one a while later (no late deletes of the survivor).
    await sleep(12_000);
    await agreedSas(mg, charon);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'), 'traffic through the surviving tunnel');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3);
  }),
);
