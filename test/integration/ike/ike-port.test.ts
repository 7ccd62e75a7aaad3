/**
 * UDP 500 next to the NAT-T port (RFC 7296 section 2.23, RFC 3948), on the in-memory network
 * with a fake clock: a peer that starts on port 500 gets bare IKE answers from port 500, and
 * IKE_AUTH, everything after it and ESP move to port 4500. meshgate forces that move (its
 * NAT_DETECTION_SOURCE_IP never matches), since it has no raw ESP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import { decodeMessage } from '../../../src/engine/ike/codec/message.js';
import type { PeerConfigInput } from '../../../src/engine/ike/peer-config.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { MemoryNetwork } from '../../../src/engine/net/memory-network.js';
import { endpointKey, type Endpoint, type ReceiveHandler, type Transport } from '../../../src/engine/net/types.js';

const HUB = '192.0.2.1';
const SPOKE = '198.51.100.1';
const PSK = 'port five hundred pre-shared key';

interface Wire {
  from: string;
  to: string;
  /** 'ike' (bare), 'ike-marked' (non-ESP marker first), 'other' (ESP, keepalive). */
  kind: 'ike' | 'ike-marked' | 'other';
  exchange: number | undefined;
}

/** A transport that records what it sends. */
class Tap implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly log: Wire[],
  ) {}
  get local(): Endpoint {
    return this.inner.local;
  }
  send(p: Uint8Array, to: Endpoint): boolean {
    const marked = p.length > 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0;
    const d = decodeMessage(marked ? p.subarray(4) : p);
    const ike = d.ok && p.length >= 28;
    this.log.push({ from: endpointKey(this.local), to: endpointKey(to), kind: ike ? (marked ? 'ike-marked' : 'ike') : 'other', exchange: d.ok ? d.message.exchangeType : undefined });
    return this.inner.send(p, to);
  }
  onReceive(h: ReceiveHandler): void {
    this.inner.onReceive(h);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function node(net: MemoryNetwork, clock: FakeClock, address: string, seed: number, log: Wire[], withIkePort = true) {
  const installer = new RecordingSaInstaller();
  const engine = new IkeEngine({
    clock,
    transport: new Tap(net.attach(address, 4500), log),
    ...(withIkePort ? { ikeTransport: new Tap(net.attach(address, 500), log) } : {}),
    installer,
    random: new DeterministicRandom(seed),
  });
  return { engine, installer };
}

function spoke(gateway: string, over: Partial<PeerConfigInput> = {}): PeerConfigInput {
  return { name: 'hub', role: 'initiator', remoteGateways: [gateway], localId: 'spoke.example', remoteId: 'hub.example', psk: PSK, localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/16'], ...over };
}

function hubPeer(over: Partial<PeerConfigInput> = {}): PeerConfigInput {
  return { name: 'spoke', role: 'responder', localId: 'hub.example', remoteId: 'spoke.example', psk: PSK, localTs: ['10.0.0.0/16'], remoteTs: ['10.1.0.0/16'], ...over };
}

const IKE_SA_INIT = 34;
const IKE_AUTH = 35;

for (const vendorId of [true, false]) {
  test(`a peer that starts on port 500 floats to 4500 after IKE_SA_INIT; ESP in UDP on 4500 (${vendorId ? 'meshgate peer' : 'peer without meshgate Vendor ID'})`, () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
    const wire: Wire[] = [];
    const hub = node(net, clock, HUB, 1, wire);
    const sp = node(net, clock, SPOKE, 2, wire);
    hub.engine.addPeer(hubPeer());
    sp.engine.addPeer(spoke(`${HUB}:500`, { sendVendorId: vendorId }));
    assert.ok(clock.advanceUntil(() => sp.engine.snapshot().peers[0]!.state === 'up' && hub.engine.snapshot().peers[0]!.state === 'up', 5_000, 5));

    const ike = wire.filter((w) => w.kind !== 'other');
    // IKE_SA_INIT: bare, port 500 to port 500, both ways.
    assert.deepEqual(ike.filter((w) => w.exchange === IKE_SA_INIT).map((w) => `${w.from}>${w.to} ${w.kind}`), [`${SPOKE}:500>${HUB}:500 ike`, `${HUB}:500>${SPOKE}:500 ike`]);
    // IKE_AUTH and later: port 4500, non-ESP marker.
    const later = ike.filter((w) => w.exchange !== IKE_SA_INIT);
    assert.ok(later.some((w) => w.exchange === IKE_AUTH));
    for (const w of later) assert.deepEqual([w.from.endsWith(':4500'), w.to.endsWith(':4500'), w.kind], [true, true, 'ike-marked'], JSON.stringify(w));
    assert.equal(sp.engine.counters['nat-t-float'], 1, 'the initiator moved to 4500');
    assert.equal(hub.engine.counters['nat-t-float'], 1, 'the responder followed');
    assert.equal(hub.engine.counters['no-nat-t-float'], undefined);

    // Both SAs now live on 4500, and the ESP SAs point at port 4500.
    const s = sp.engine.snapshot().ikeSas[0]!;
    const hsa = hub.engine.snapshot().ikeSas[0]!;
    assert.deepEqual([s.local, s.remote], [`${SPOKE}:4500`, `${HUB}:4500`]);
    assert.deepEqual([hsa.local, hsa.remote], [`${HUB}:4500`, `${SPOKE}:4500`]);
    assert.equal(sp.installer.list('out')[0]!.remote.port, 4500);
    assert.equal(hub.installer.list('out')[0]!.remote.port, 4500);
    assert.ok(hub.installer.has(sp.installer.list('out')[0]!.spi, 'in'));
    // No real NAT here: the private true hashes tell a meshgate peer so; a standard peer only
    // sees the forced hash and believes the spoke is behind a NAT (and keeps ESP in UDP).
    assert.equal(s.natLocal, false);
    assert.equal(hsa.natLocal, false);
    assert.equal(hsa.natRemote, !vendorId, 'the hub sees a NAT only without the private hashes');
    assert.equal(s.natRemote, !vendorId, 'the hub forces its hash towards a peer it does not know as meshgate');

    // Later exchanges (DPD, rekey) stay on 4500.
    const before = wire.length;
    sp.engine.sa(s.ikeId)!.queueIkeRekey();
    clock.advance(1_000);
    const after = wire.slice(before).filter((w) => w.kind !== 'other');
    assert.ok(after.length >= 4, 'IKE rekey and delete of the old SA');
    for (const w of after) assert.ok(w.from.endsWith(':4500') && w.to.endsWith(':4500') && w.kind === 'ike-marked', JSON.stringify(w));
    assert.equal(sp.engine.snapshot().peers[0]!.state, 'up');
  });
}

test('a gateway on port 500 is reached from the NAT-T port when there is no IKE port; the hub answers bare from its port 500', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const wire: Wire[] = [];
  const hub = node(net, clock, HUB, 3, wire);
  const sp = node(net, clock, SPOKE, 4, wire, false);
  hub.engine.addPeer(hubPeer());
  sp.engine.addPeer(spoke(`${HUB}:500`));
  assert.ok(clock.advanceUntil(() => sp.engine.snapshot().peers[0]!.state === 'up', 5_000, 5));
  const init = wire.filter((w) => w.exchange === IKE_SA_INIT);
  assert.deepEqual(init.map((w) => `${w.from}>${w.to} ${w.kind}`), [`${SPOKE}:4500>${HUB}:500 ike`, `${HUB}:500>${SPOKE}:4500 ike`]);
  const auth = wire.filter((w) => w.exchange === IKE_AUTH);
  assert.deepEqual(auth.map((w) => `${w.from}>${w.to} ${w.kind}`), [`${SPOKE}:4500>${HUB}:4500 ike-marked`, `${HUB}:4500>${SPOKE}:4500 ike-marked`]);
  assert.equal(sp.installer.list('out')[0]!.remote.port, 4500);
});

test('port 500: retransmitted IKE_SA_INIT gets the same answer; junk on port 500 is counted, not processed', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const wire: Wire[] = [];
  const hub = node(net, clock, HUB, 5, wire);
  hub.engine.addPeer(hubPeer());
  const sp = node(net, clock, SPOKE, 6, wire);
  // The first IKE_SA_INIT answer is lost: the spoke retransmits to port 500.
  sp.engine.addPeer(spoke(`${HUB}:500`));
  clock.advance(6); // the request arrived (5 ms); the answer is on its way and will be cut
  net.setCut(HUB, SPOKE, true);
  clock.advance(10);
  net.setCut(HUB, SPOKE, false);
  assert.ok(clock.advanceUntil(() => sp.engine.snapshot().peers[0]!.state === 'up', 20_000, 10));
  assert.equal(hub.engine.allSas().length, 1, 'one responder SA for the retransmitted request');
  const inits = wire.filter((w) => w.exchange === IKE_SA_INIT && w.from === `${SPOKE}:500`);
  assert.equal(inits.length, 2, 'the spoke sent IKE_SA_INIT twice');
  // Something that is not IKE on port 500: counted and dropped.
  const junk = net.attach('203.0.113.9', 500);
  junk.send(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), { address: HUB, port: 500 });
  junk.send(new Uint8Array(40).fill(0xab), { address: HUB, port: 500 });
  const decodeDrops = () => Object.entries(hub.engine.counters).filter(([k]) => k.startsWith('drop-decode')).reduce((n, [, v]) => n + v, 0);
  const before = decodeDrops();
  clock.advance(20);
  assert.equal(hub.engine.counters['drop-malformed-short-ike'], 1, 'ten bytes are no IKE header');
  assert.equal(decodeDrops(), before + 1, 'forty bytes of junk do not decode as IKE');
  assert.equal(hub.engine.allSas().length, 1);
});
