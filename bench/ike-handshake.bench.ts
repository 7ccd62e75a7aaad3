/**
 * IKE handshakes per second at one responder core: IKE_SA_INIT + IKE_AUTH with PSK and the
 * first child SA, both ends in this process on a synchronous in-process link; the time spent
 * inside the responder's receive path is measured on its own (issue 3 goal: >= 1,000/s with
 * PSK and X25519). Then the same with certificates (Ed25519, ECDSA P-256, RSA 3072) both ways:
 * the responder checks the initiator's certificate against the site CA and its signature, and
 * signs its own AUTH (all initiators share one certificate; the responder skips the
 * certificate-identity check so that each may have its own IKE identity).
 *   node --import tsx bench/ike-handshake.bench.ts [handshakes=2000] [cert handshakes=500]
 */
import { FakeClock } from '../src/engine/clock.js';
import { IkeEngine } from '../src/engine/ike/ike-engine.js';
import { RecordingSaInstaller } from '../src/engine/ike/sa-installer.js';
import type { Endpoint, ReceiveHandler, Transport } from '../src/engine/net/types.js';
import type { PeerConfigInput } from '../src/engine/ike/peer-config.js';
import { createCa, issueCertificate, type KeyAlgorithm } from '../src/engine/pki/create.js';
import { loadCredential, parseCertificates, trustStore } from '../src/engine/pki/index.js';

const N = Number(process.argv[2] ?? 2000);
const NC = Number(process.argv[3] ?? 500);

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

type Auth = Pick<PeerConfigInput, 'psk' | 'authMethod' | 'credential' | 'trust' | 'remoteCertIdCheck'>;

function bench(label: string, n: number, ike: string, esp: string, iAuth: Auth, rAuth: Auth): void {
  const clock = new FakeClock();
  const li = new Link({ address: '198.51.100.1', port: 4500 });
  const lr = new Link({ address: '192.0.2.1', port: 4500 });
  li.peer = lr;
  lr.peer = li;
  const i = new IkeEngine({ clock, transport: li, installer: new RecordingSaInstaller() });
  const r = new IkeEngine({ clock, transport: lr, installer: new RecordingSaInstaller() });
  const common = { ikeProposals: [ike], espProposals: [esp], dpdIntervalMs: 0 };
  r.addPeer({ ...common, ...rAuth, name: 'any', role: 'responder', localId: 'hub.bench', localTs: ['10.0.0.0/8'], remoteTs: ['10.0.0.0/8'] });
  let responderMs = 0;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    i.addPeer({ ...common, ...iAuth, name: `s${k}`, role: 'initiator', remoteGateways: ['192.0.2.1'], localId: `s${k}.bench`, localTs: [`10.${k >> 8}.${k & 255}.0/24`], remoteTs: ['10.0.0.0/8'] });
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
  if (up !== n) throw new Error(`${label}: only ${up} of ${n} handshakes completed`);
  console.log(
    `${label}: ${n} handshakes, ${((n / responderMs) * 1000).toFixed(0)}/s at the responder ` +
      `(${(responderMs / n).toFixed(2)} ms each), ${((n / total) * 1000).toFixed(0)}/s for both ends together`,
  );
}

const PSK: Auth = { psk: 'benchmark pre-shared key' };
for (const [ike, esp] of [
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305'],
  ['aes256gcm16-prfsha384-ecp256', 'aes256gcm16'],
] as const) {
  bench(`PSK ${ike} / ${esp}`, N, ike, esp, PSK, PSK);
}

for (const algorithm of ['ed25519', 'ecdsa-p256', 'rsa-3072'] as KeyAlgorithm[]) {
  // Valid at the FakeClock's wall time (2026-01-01).
  const validity = { notBefore: new Date(Date.UTC(2025, 0, 1)), notAfter: new Date(Date.UTC(2030, 0, 1)) };
  const ca = await createCa({ commonName: 'Bench CA', algorithm, ...validity });
  const trust = trustStore(parseCertificates(ca.certPem));
  const cred = async (id: string) => {
    const p = await issueCertificate({ ca, identities: [{ type: 'fqdn', value: id }], ...validity });
    return loadCredential(p.certPem, p.keyPem);
  };
  const iAuth: Auth = { authMethod: 'cert', credential: await cred('spoke.bench'), trust };
  const rAuth: Auth = { authMethod: 'cert', credential: await cred('hub.bench'), trust, remoteCertIdCheck: false };
  bench(`certificates ${algorithm}, chacha20poly1305-prfsha256-x25519`, NC, 'chacha20poly1305-prfsha256-x25519', 'chacha20poly1305', iAuth, rAuth);
}
