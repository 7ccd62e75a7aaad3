/**
 * INVALID_IKE_SPI (RFC 7296 section 2.21.4) on the in-memory network with a fake clock:
 * a restarted hub answers the spoke's liveness check for the forgotten SA with an
 * unprotected N(INVALID_IKE_SPI); the spoke takes it as the hint it is (it answers the request
 * in flight) and rebuilds at once instead of waiting out the retransmissions. Answers are
 * rate-limited and counted; responses and forged hints are not acted on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { ExchangeType, NotifyType, PayloadType } from '../../../src/engine/ike/constants.js';
import { decodeMessage, encodeMessage } from '../../../src/engine/ike/codec/message.js';
import type { Message } from '../../../src/engine/ike/codec/types.js';
import { INVALID_SPI_PER_SECOND, IkeEngine } from '../../../src/engine/ike/ike-engine.js';
import { notifyPayload } from '../../../src/engine/ike/message.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import { frameIke } from '../../../src/engine/net/udp-demux.js';
import { MemoryNetwork, type MemoryTransport } from '../../../src/engine/net/memory-network.js';
import type { Endpoint } from '../../../src/engine/net/types.js';

const HUB = '192.0.2.1';
const SPOKE = '198.51.100.1';
const PSK = 'invalid spi pre-shared key';

let seed = 300;
function hub(net: MemoryNetwork, clock: FakeClock): IkeEngine {
  const e = new IkeEngine({ clock, transport: net.attach(HUB), installer: new RecordingSaInstaller(), random: new DeterministicRandom(seed++) });
  e.addPeer({ name: 'spoke', role: 'responder', localId: 'hub.example', remoteId: 'spoke.example', psk: PSK, localTs: ['10.0.0.0/16'], remoteTs: ['10.1.0.0/16'], dpdIntervalMs: 0 });
  return e;
}

function spoke(net: MemoryNetwork, clock: FakeClock): IkeEngine {
  const e = new IkeEngine({ clock, transport: net.attach(SPOKE), installer: new RecordingSaInstaller(), random: new DeterministicRandom(seed++) });
  e.addPeer({ name: 'hub', role: 'initiator', remoteGateways: [HUB], localId: 'spoke.example', remoteId: 'hub.example', psk: PSK, localTs: ['10.1.0.0/16'], remoteTs: ['10.0.0.0/16'], dpdIntervalMs: 30_000 });
  return e;
}

const up = (e: IkeEngine) => e.snapshot().peers[0]?.state === 'up';

/** A bare request or response for SPIs nobody knows. */
function stray(spiI: bigint, spiR: bigint, response = false, exchangeType: number = ExchangeType.INFORMATIONAL): Uint8Array {
  const m: Message = { spiI, spiR, exchangeType, initiator: true, response, messageId: 7, payloads: [] };
  return frameIke(encodeMessage(m));
}

function listener(net: MemoryNetwork, address: string): { t: MemoryTransport; got: Message[] } {
  const t = net.attach(address);
  const got: Message[] = [];
  t.onReceive((p) => {
    const d = decodeMessage(p.subarray(4));
    if (d.ok) got.push(d.message);
  });
  return { t, got };
}

test('a restarted hub answers the old SA’s liveness check with INVALID_IKE_SPI; the spoke rebuilds at once', async () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  let h = hub(net, clock);
  const s = spoke(net, clock);
  assert.ok(clock.advanceUntil(() => up(s) && up(h), 5_000, 5));
  const old = s.allSas()[0]!;
  await h.stop(); // crash: nothing sent
  h = hub(net, clock);
  const downs: { reason: string; detail?: string; at: number }[] = [];
  s.events.on('ike-down', (e) => downs.push({ reason: e.reason, ...(e.detail ? { detail: e.detail } : {}), at: clock.now() }));
  const t0 = clock.now();
  assert.ok(clock.advanceUntil(() => downs.length > 0, 60_000, 10));
  assert.equal(h.counters['tx-invalid-ike-spi'], 1, 'the new hub answered the unknown SA');
  assert.equal(s.counters['rx-invalid-ike-spi'], 1);
  assert.equal(s.counters['invalid-ike-spi-accepted'], 1);
  assert.equal(s.counters['retransmits'], undefined, 'no retransmission was needed');
  assert.equal(downs[0]!.reason, 'deleted-by-peer');
  assert.match(downs[0]!.detail ?? '', /INVALID_IKE_SPI/);
  assert.ok(downs[0]!.at - t0 <= 30_000 + 20, `down right after the first liveness check (${downs[0]!.at - t0} ms), not after the retransmissions`);
  assert.equal(old.alive, false);
  assert.ok(clock.advanceUntil(() => up(s) && up(h), 10_000, 10), 'rebuilt 5 s later');
  assert.ok(clock.now() - t0 <= 30_000 + 5_000 + 100);
});

test('INVALID_IKE_SPI answers: SPIs and message ID copied, unprotected, one per sender per second, limited in all', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 1 } });
  const h = hub(net, clock);
  const senders = Array.from({ length: INVALID_SPI_PER_SECOND + 10 }, (_, i) => listener(net, `203.0.113.${i + 1}`));
  const to: Endpoint = { address: HUB, port: 4500 };
  // Two requests from each sender within the same second.
  for (const [i, x] of senders.entries()) {
    x.t.send(stray(BigInt(1000 + i), 77n), to);
    x.t.send(stray(BigInt(1000 + i), 77n), to);
  }
  clock.advance(10);
  const answered = senders.filter((x) => x.got.length > 0);
  assert.equal(answered.length, INVALID_SPI_PER_SECOND, 'the global limit');
  assert.ok(senders.every((x) => x.got.length <= 1), 'one per sender per second');
  assert.equal(h.counters['tx-invalid-ike-spi'], INVALID_SPI_PER_SECOND);
  assert.equal(h.counters['invalid-ike-spi-rate-limited'], 2 * senders.length - INVALID_SPI_PER_SECOND);
  assert.equal(h.counters['drop-unknown-spi'], 2 * senders.length);
  const a = answered[0]!.got[0]!;
  const i = senders.indexOf(answered[0]!);
  assert.deepEqual([a.spiI, a.spiR, a.messageId, a.exchangeType, a.response, a.initiator], [BigInt(1000 + i), 77n, 7, ExchangeType.INFORMATIONAL, true, false]);
  assert.equal(a.sealed, undefined, 'not protected');
  assert.deepEqual(a.payloads.map((p) => (p.type === PayloadType.N ? p.notifyType : -1)), [NotifyType.INVALID_IKE_SPI]);
  // A second later the budget is back.
  clock.advance(1_000);
  senders[0]!.t.send(stray(5000n, 78n), to);
  clock.advance(10);
  assert.equal(h.counters['tx-invalid-ike-spi'], INVALID_SPI_PER_SECOND + 1);
  // Responses for unknown SPIs, and IKE_SA_INIT responses, are never answered.
  senders[1]!.t.send(stray(6000n, 79n, true), to);
  senders[2]!.t.send(stray(6001n, 80n, true, ExchangeType.IKE_SA_INIT), to);
  clock.advance(10);
  assert.equal(h.counters['tx-invalid-ike-spi'], INVALID_SPI_PER_SECOND + 1);
});

test('a forged or stale INVALID_IKE_SPI (no request in flight, wrong message ID) is counted and ignored', () => {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, { defaultLink: { latencyMs: 5 } });
  const h = hub(net, clock);
  const s = spoke(net, clock);
  assert.ok(clock.advanceUntil(() => up(s) && up(h), 5_000, 5));
  const sa = s.allSas()[0]!;
  const forger = net.attach('203.0.113.66');
  const forged = (messageId: number) =>
    frameIke(encodeMessage({ spiI: sa.spiI, spiR: sa.spiR, exchangeType: ExchangeType.INFORMATIONAL, initiator: false, response: true, messageId, payloads: [notifyPayload(NotifyType.INVALID_IKE_SPI)] }));
  // Nothing in flight.
  forger.send(forged(sa.tasks.messageIds.initiating), { address: SPOKE, port: 4500 });
  clock.advance(10);
  assert.equal(s.counters['invalid-ike-spi-ignored'], 1);
  assert.equal(sa.state, 'established');
  // A request in flight (DPD), but the wrong message ID.
  assert.ok(clock.advanceUntil(() => sa.tasks.busy, 31_000, 1), 'the liveness check is in flight');
  forger.send(forged(sa.tasks.messageIds.initiating + 5), { address: SPOKE, port: 4500 });
  clock.advance(6); // arrives before the answer to the liveness check (10 ms round trip)
  assert.equal(sa.tasks.busy, true);
  assert.equal(s.counters['invalid-ike-spi-ignored'], 2);
  clock.advance(100);
  assert.equal(sa.state, 'established', 'the liveness check was answered');
  assert.equal(s.counters['invalid-ike-spi-accepted'], undefined);
});
