/**
 * The native fast path against strongSwan (charon 5.9, kernel-libipsec) under load: an iperf3
 * TCP transfer from the host behind meshgate to charon's side while charon rekeys the child
 * SA every few seconds. Every rekey installs new SAs in the addon before the old ones go
 * (make before break): the transfer must go on, meshgate must carry it in the addon
 * (offloaded packets), and no packet may fail authentication or the replay check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/netns.js';
import { CHACHA, AESGCM, agreedSas, waitAgreed, withInterop } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';

function num(out: string, key: string): number {
  const m = new RegExp(`^\\s*${key.replace(/-/g, '\\-')}\\s*[:=]?\\s+([\\d,]+)`, 'm').exec(out);
  if (!m) throw new Error(`no ${key} in:\n${out}`);
  return Number(m[1]!.replace(/,/g, ''));
}

for (const suite of [CHACHA, AESGCM]) {
  test(`fast path (${suite === CHACHA ? 'chacha20poly1305' : 'aes256gcm16'}): iperf3 TCP to charon while charon rekeys the child SA every 4 s`, { timeout: 90_000 }, (t) =>
    withInterop(t, { role: 'initiator', suite, charon: { rekeyTime: '4s' } }, async ({ lab, topo, charon, mg }) => {
      assert.match(mg.output(), /fast path: on \(native/, mg.output());
      const first = await agreedSas(mg, charon);
      const srv = lab.spawn(topo.ssNs, 'iperf3', ['-s', '-1', '-B', BEHIND_CHARON]);
      assert.ok(await waitFor(() => /:5201\s/.test(lab.exec(topo.ssNs, 'ss', ['-ltnH'])), 5_000, 50), `iperf3 server: ${srv.output()}`);
      const client = lab.spawn(topo.hostNs, 'iperf3', ['-c', BEHIND_CHARON, '-t', '14', '-J', '--connect-timeout', '5000']);
      // count the distinct child SAs seen while the transfer runs
      const seen = new Set<string>([first.childIn]);
      await waitFor(async () => {
        try {
          seen.add((await agreedSas(mg, charon)).childIn);
        } catch {
          /* mid-rekey */
        }
        return client.child.exitCode !== null;
      }, 40_000, 400);
      await client.exited;
      const r = JSON.parse(client.output()) as { error?: string; end?: { sum_sent?: { bytes: number }; sum_received?: { bytes: number; bits_per_second: number } } };
      assert.equal(r.error, undefined, client.output().slice(0, 2000));
      const sent = r.end?.sum_sent?.bytes ?? 0;
      const received = r.end?.sum_received?.bytes ?? 0;
      t.diagnostic(`iperf3 TCP host -> charon across ${seen.size - 1} child rekeys: ${((r.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(1)} Mbit/s, ${received} of ${sent} bytes`);
      assert.ok(seen.size >= 3, `at least two child rekeys during the transfer (child SAs seen: ${[...seen].join(', ')})`);
      assert.ok(received >= 0.9 * sent && received > 1_000_000, `received ${received} of ${sent} bytes`);
      const f = (await mg.sh('show forwarding')).out;
      const segments = Math.floor(received / 1500);
      assert.ok(num(f, 'Offloaded-Packets-Out') >= 0.8 * segments, `the transfer went through the addon:\n${f}`);
      assert.ok(num(f, 'Offloaded-Packets-In') > 0, `the ACKs came back through the addon:\n${f}`);
      assert.equal(num(f, 'esp-auth-failed'), 0, f);
      assert.equal(num(f, 'esp-replay'), 0, f);
      assert.equal(num(f, 'esp-malformed'), 0, f);
      // charon keeps rekeying: wait for a moment when both ends agree
      const last = await waitAgreed(mg, charon);
      assert.notEqual(last.childIn, first.childIn);
    }),
  );
}
