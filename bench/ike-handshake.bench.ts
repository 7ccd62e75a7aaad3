/**
 * IKE handshakes per second at one responder core: IKE_SA_INIT + IKE_AUTH with PSK and the
 * first child SA, both ends in this process on a synchronous in-process link; the time spent
 * inside the responder's receive path is measured on its own (issue 3 goal: >= 1,000/s with
 * PSK and X25519).
 *   node --import tsx bench/ike-handshake.bench.ts [handshakes=2000]
 */
import { FakeClock } from '../src/engine/clock.js';
import { IkeEngine } from '../src/engine/ike/ike-engine.js';
import { RecordingSaInstaller } from '../src/engine/ike/sa-installer.js';
import type { Endpoint, ReceiveHandler, Transport } from '../src/engine/net/types.js';

const N = Number(process.argv[2] ?? 2000);

class Link implements Transport {
  handler: ReceiveHandler | undefined;
  peer!: Link;
  queue: { data: Uint8Array; from: Endpoint }[] = [];
  constructor(readonly local: Endpoint) {}
  send(payload: Uint8Array, _to: Endpoint): boolean {
    this.peer.queue.push({ data: payload.slice(), from: this.local });
    return true;
  }
  onReceive(h: ReceiveHandler): void {
    this.handler = h;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

for (const [ike, esp] of [
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305'],
  ['aes256gcm16-prfsha384-ecp256', 'aes256gcm16'],
] as const) {
  const clock = new FakeClock();
  const li = new Link({ address: '198.51.100.1', port: 4500 });
  const lr = new Link({ address: '192.0.2.1', port: 4500 });
  li.peer = lr;
  lr.peer = li;
  const i = new IkeEngine({ clock, transport: li, installer: new RecordingSaInstaller() });
  const r = new IkeEngine({ clock, transport: lr, installer: new RecordingSaInstaller() });
  const common = { psk: 'benchmark pre-shared key', ikeProposals: [ike], espProposals: [esp], dpdIntervalMs: 0 };
  r.addPeer({ ...common, name: 'any', role: 'responder', localId: 'hub.bench', localTs: ['10.0.0.0/8'], remoteTs: ['10.0.0.0/8'] });
  let responderMs = 0;
  const t0 = performance.now();
  for (let k = 0; k < N; k++) {
    i.addPeer({ ...common, name: `s${k}`, role: 'initiator', remoteGateways: ['192.0.2.1'], localId: `s${k}.bench`, localTs: [`10.${k >> 8}.${k & 255}.0/24`], remoteTs: ['10.0.0.0/8'] });
    for (;;) {
      const toR = lr.queue.shift();
      if (toR) {
        const a = performance.now();
        lr.handler!(toR.data, toR.from);
        responderMs += performance.now() - a;
        continue;
      }
      const toI = li.queue.shift();
      if (!toI) break;
      li.handler!(toI.data, toI.from);
    }
  }
  const total = performance.now() - t0;
  const up = r.allSas().filter((s) => s.state === 'established').length;
  if (up !== N) throw new Error(`only ${up} of ${N} handshakes completed`);
  console.log(
    `${ike} / ${esp}: ${N} handshakes, ${((N / responderMs) * 1000).toFixed(0)}/s at the responder ` +
      `(${(responderMs / N).toFixed(2)} ms each), ${((N / total) * 1000).toFixed(0)}/s for both ends together`,
  );
}
