/**
 * Checks the interop harness itself: two strongSwan charons in two namespaces build a
 * tunnel with the configuration the meshgate interop tests use (port 4500 with the
 * non-ESP marker from the first message, ESP in UDP, PSK). If this fails, the interop
 * failures that follow are the harness's, not meshgate's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, rootOrSkip, waitFor } from '../helpers/netns.js';
import { Charon, strongswanInstalled } from '../helpers/strongswan.js';

test('harness: strongSwan <-> strongSwan over port 4500 with PSK', { timeout: 60_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  assert.ok(strongswanInstalled(), 'strongSwan (strongswan-charon, strongswan-swanctl) must be installed');
  const lab = new Lab();
  try {
    const a = lab.ns('ssa');
    const b = lab.ns('ssb');
    lab.link(a, 'wan0', '192.0.2.1/24', b, 'wan0', '192.0.2.2/24');
    lab.exec(a, 'ip', ['addr', 'add', '10.91.0.1/32', 'dev', 'lo']);
    lab.exec(b, 'ip', ['addr', 'add', '10.92.0.1/32', 'dev', 'lo']);
    const common = { proposals: 'chacha20poly1305-prfsha256-x25519', espProposals: 'chacha20poly1305-x25519', psk: 'harness-psk-0123456789' };
    const ca = new Charon(lab, { ...common, name: 'a', ns: a, localAddr: '192.0.2.1', remoteAddr: '192.0.2.2', localId: 'a.mg', remoteId: 'b.mg', localTs: '10.91.0.1/32', remoteTs: '10.92.0.1/32' });
    const cb = new Charon(lab, { ...common, name: 'b', ns: b, localAddr: '192.0.2.2', remoteAddr: '192.0.2.1', localId: 'b.mg', remoteId: 'a.mg', localTs: '10.92.0.1/32', remoteTs: '10.91.0.1/32' });
    await ca.start();
    await cb.start();
    ca.initiate();
    assert.ok(ca.established(), ca.listSas());
    const pinged = await waitFor(() => {
      lab.exec(a, 'ping', ['-n', '-c', '1', '-W', '1', '-I', '10.91.0.1', '10.92.0.1']);
      return true;
    }, 10_000, 200);
    assert.ok(pinged, 'ping through the strongSwan tunnel');
    assert.match(cb.listSas(), /192\.0\.2\.1\[4500\]/, 'the peer talked from port 4500');
  } finally {
    await lab.cleanup();
  }
});
