/**
 * Exchange-level interop: meshgate's IkeEngine alone (test/integration/ike/strongswan/mg-node.mts,
 * real UDP on 192.0.2.1:4500 in its own namespace, SAs recorded instead of installed) against
 * charon, for what the daemon cannot be made to do quickly: meshgate initiates a child rekey
 * with PFS (its Child-SA-Sec cannot go below 120 s) and an IKE rekey, then deletes the IKE SA.
 * Every message is printed by mg-node, and nothing may be dropped on meshgate's side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Lab, rootOrSkip, waitFor } from '../helpers/netns.js';
import { Charon } from '../helpers/strongswan.js';
import { AESGCM, CHACHA, REPO_ROOT, assertCharonCan, parseCharonSas, type Suite } from './fixtures/meshgate-node.js';

const MG_NODE = join(REPO_ROOT, 'test/integration/ike/strongswan/mg-node.mts');

for (const suite of [CHACHA, AESGCM] as Suite[]) {
  test(`exchanges, ${suite.label}: meshgate initiates, rekeys the child (PFS) and the IKE SA, deletes; charon follows`, { timeout: 60_000 }, async (t) => {
    if (!rootOrSkip(t)) return;
    assertCharonCan(suite);
    const lab = new Lab();
    let charon: Charon | undefined;
    try {
      const m = lab.ns('m');
      const s = lab.ns('s');
      lab.link(m, 'wan0', '192.0.2.1/24', s, 'wan0', '192.0.2.2/24');
      lab.exec(s, 'ip', ['addr', 'add', '10.2.0.1/32', 'dev', 'lo']);
      charon = new Charon(lab, {
        name: 's',
        ns: s,
        localAddr: '192.0.2.2',
        remoteAddr: '192.0.2.1',
        localId: 'charon.test',
        remoteId: 'mg.test',
        psk: 'interop-psk-0123456789',
        proposals: suite.ike,
        espProposals: suite.esp,
        localTs: '10.2.0.0/16',
        remoteTs: '10.1.0.0/16',
      });
      await charon.start();
      // mg-node: establish at once, child rekey at 2 s, IKE rekey at 4 s, delete at 7 s, exit at 9 s.
      const node = lab.spawn(m, process.execPath, ['--import', 'tsx', MG_NODE, 'initiator', '9'], { IKE: suite.ike, ESP: suite.esp, REKEY: '1', DEL: '1' });
      let mid = '';
      const up = await waitFor(() => {
        mid = charon!.listSas();
        return /ESTABLISHED/.test(mid) && /INSTALLED/.test(mid);
      }, 3000, 100);
      assert.ok(up, `charon established the SA meshgate initiated:\n${mid}\n${node.output()}`);
      const first = parseCharonSas(mid);
      const rekeyed = await waitFor(() => {
        // charon keeps a rekeyed child listed as DELETED for a few seconds (delete_rekeyed_delay).
        const now = parseCharonSas(charon!.listSas());
        const installed = now.children.filter((c) => c.state === 'INSTALLED');
        return now.ike.length === 1 && now.ike[0]!.spiI !== first.ike[0]!.spiI && installed.length === 1 && installed[0]!.spiIn !== first.children[0]!.spiIn;
      }, 6000, 100);
      assert.ok(rekeyed, `charon took both rekeys:\n${charon.listSas()}\n${node.output()}`);
      const code = await node.exited;
      const out = node.output();
      assert.equal(code, 0, out);
      assert.match(out, /EVENT child-rekeyed/, out);
      assert.match(out, /EVENT ike-rekeyed/, out);
      assert.match(out, /EVENT ike-down/, out);
      assert.doesNotMatch(out, /EVENT (auth-failed|timeout)/, out);
      assert.match(out, /DROPS \{\}/, `meshgate dropped nothing: ${out}`);
      assert.equal(parseCharonSas(charon.listSas()).ike.length, 0, `charon deleted the IKE SA on meshgate's DELETE:\n${charon.listSas()}`);
      const log = readFileSync(charon.logFile, 'utf8');
      assert.match(log, /parsed CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]/, 'the child rekey carried a KE payload (PFS)');
      assert.match(log, /parsed CREATE_CHILD_SA request \d+ \[ SA No KE \]/, 'the IKE rekey');
      assert.match(log, /parsed INFORMATIONAL request \d+ \[ D \]/, 'the DELETE');
      assert.doesNotMatch(log, /\[(IKE|ENC)\].*(invalid|failed|unsupported|NO_PROPOSAL_CHOSEN|INVALID_SYNTAX)/i, 'charon found nothing wrong');
    } catch (err) {
      if (charon) (err as Error).message += `\n--- charon log (tail) ---\n${readFileSync(charon.logFile, 'utf8').split('\n').slice(-50).join('\n')}`;
      throw err;
    } finally {
      await lab.cleanup();
    }
  });
}
