/**
 * One meshgate IKE node for the strongSwan interop script (run.sh): binds 192.0.2.1:4500 in
 * the namespace it is started in and prints every IKE message and event.
 *   node --import tsx mg-node.mts initiator|responder SECONDS
 * Environment: IKE, ESP (proposals), PSK, REKEY=1 (child then IKE rekey), DEL=1 (delete at 7 s).
 */
import { RealClock } from '../../../../src/engine/clock.js';
import { IkeEngine } from '../../../../src/engine/ike/ike-engine.js';
import { describe } from '../../../../src/engine/ike/message.js';
import { RecordingSaInstaller } from '../../../../src/engine/ike/sa-installer.js';
import { UdpTransport } from '../../../../src/engine/net/udp-transport.js';

const role = process.argv[2] as 'initiator' | 'responder';
const seconds = Number(process.argv[3] ?? 10);
const t = await UdpTransport.open({ address: '192.0.2.1', port: 4500 });
const e = new IkeEngine({
  clock: new RealClock(),
  transport: t,
  installer: new RecordingSaInstaller(),
  trace: (d, sa, m) => console.log(`${d === 'in' ? '<-' : '->'} [${sa.ikeId}] ${describe(m)}`),
});
for (const ev of ['ike-up', 'ike-down', 'child-up', 'child-down', 'child-rekeyed', 'ike-rekeyed', 'auth-failed', 'timeout', 'retransmit'] as const) {
  e.events.on(ev, (x) => console.log('EVENT', ev, JSON.stringify(x)));
}
e.addPeer({
  name: 'charon',
  role,
  remoteGateways: role === 'initiator' ? ['192.0.2.2'] : [],
  localId: 'mg.test',
  remoteId: 'charon.test',
  psk: process.env.PSK ?? 'interop-psk-0123456789',
  ikeProposals: [process.env.IKE ?? 'chacha20poly1305-prfsha256-x25519'],
  espProposals: [process.env.ESP ?? 'chacha20poly1305'],
  localTs: ['10.1.0.0/16'],
  remoteTs: ['10.2.0.0/16'],
  dpdIntervalMs: 5000,
});
const first = () => e.allSas()[0];
if (process.env.REKEY) {
  setTimeout(() => {
    const sa = first();
    const c = sa && [...sa.children.values()][0];
    if (sa && c) sa.queueChildRekey(c);
  }, 2000);
  setTimeout(() => first()?.queueIkeRekey(), 4000);
}
if (process.env.DEL) setTimeout(() => e.disconnect('charon'), 7000);
setTimeout(async () => {
  const drops = Object.fromEntries(Object.entries(e.counters).filter(([k]) => k.startsWith('drop')));
  console.log('DROPS', JSON.stringify(drops));
  await e.stop();
  process.exit(0);
}, seconds * 1000);
