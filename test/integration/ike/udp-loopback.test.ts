/** Two IkeEngines over real UDP sockets on 127.0.0.1 establish, rekey and delete with each cipher. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../../../src/engine/clock.js';
import { IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { UdpTransport } from '../../../src/engine/net/udp-transport.js';

async function waitFor(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const SUITES: [string, string][] = [
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305'],
  ['aes128gcm16-prfsha256-ecp256', 'aes128gcm16'],
  ['aes256gcm16-prfsha384-x25519', 'aes256gcm16-x25519'],
  ['aes256gcm16-prfsha512-ecp256', 'aes256gcm16'],
];

for (const [ike, esp] of SUITES) {
  test(`UDP loopback: ${ike} / ${esp}`, async () => {
    const clock = new RealClock();
    const ta = await UdpTransport.open({ address: '127.0.0.1', port: 0 });
    const tb = await UdpTransport.open({ address: '127.0.0.1', port: 0 });
    const ia = new RecordingSaInstaller();
    const ib = new RecordingSaInstaller();
    const a = new IkeEngine({ clock, transport: ta, installer: ia });
    const b = new IkeEngine({ clock, transport: tb, installer: ib });
    try {
      const common = { psk: 'loopback test key 123', ikeProposals: [ike], espProposals: [esp], dpdIntervalMs: 0 };
      b.addPeer({ ...common, name: 'a', role: 'responder', localId: 'b.test', remoteId: 'a.test', localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
      a.addPeer({ ...common, name: 'b', role: 'initiator', remoteGateways: [`127.0.0.1:${tb.local.port}`], localId: 'a.test', remoteId: 'b.test', localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] });
      await waitFor(() => a.snapshot().peers[0]?.state === 'up' && ia.list().length === 2 && ib.list().length === 2);
      const snap = a.snapshot();
      assert.equal(snap.ikeSas[0]!.proposal, ike);
      // The first child comes from IKE_AUTH, which has no KE: PFS applies from the first rekey on.
      assert.equal(snap.peers[0]!.proposal, `${ike} / ${esp.split('-')[0]}`);
      assert.equal(snap.ikeSas[0]!.natLocal, false);
      assert.equal(ia.list('out')[0]!.spi, ib.list('in')[0]!.spi);
      assert.deepEqual(ia.list('out')[0]!.keyMaterial, ib.list('in')[0]!.keyMaterial);
      // Rekey the child and the IKE SA over the wire.
      const sa = a.allSas()[0]!;
      const child = [...sa.children.values()][0]!;
      sa.queueChildRekey(child);
      await waitFor(() => child.state === 'deleted' && ib.list().length === 2);
      sa.queueIkeRekey();
      await waitFor(() => sa.state === 'destroyed' && b.allSas().length === 1 && b.allSas()[0]!.state === 'established');
      assert.equal(a.allSas().length, 1);
      assert.equal(a.allSas()[0]!.rekeys, 1);
      // Delete from the responder.
      b.disconnect('a');
      await waitFor(() => a.allSas().length === 0 && ia.list().length === 0 && ib.list().length === 0);
      assert.equal((a.counters['drop-internal-error'] ?? 0) + (b.counters['drop-internal-error'] ?? 0), 0);
    } finally {
      a.removePeer('b');
      await a.stop();
      await b.stop();
    }
  });
}
