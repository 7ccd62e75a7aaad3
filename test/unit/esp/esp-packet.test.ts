import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EncrId, createAead, type Aead } from '../../../src/engine/crypto/index.js';
import {
  ESP_DROP_REASONS,
  ESP_PAYLOAD_OFFSET,
  EspOpenResult,
  InboundSa,
  OutboundSa,
  SaTable,
  espOpen,
  espPacketLength,
  espPadLength,
  espSeal,
  espSpiOf,
  type EspDropReason,
  type EspLimitKind,
  type EspLimitLevel,
} from '../../../src/engine/esp/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Cipher {
  name: string;
  encrId: number;
  keyBits: number | undefined;
  keyLength: number;
}
const CIPHERS: Cipher[] = [
  { name: 'chacha20-poly1305', encrId: EncrId.ENCR_CHACHA20_POLY1305, keyBits: undefined, keyLength: 36 },
  { name: 'aes128-gcm16', encrId: EncrId.ENCR_AES_GCM_16, keyBits: 128, keyLength: 20 },
  { name: 'aes256-gcm16', encrId: EncrId.ENCR_AES_GCM_16, keyBits: 256, keyLength: 36 },
];

function keyMaterial(c: Cipher, seed: number): Uint8Array {
  return Uint8Array.from({ length: c.keyLength }, (_, i) => (i * 31 + seed) & 0xff);
}

function aeadFor(c: Cipher, seed = 1): Aead {
  return createAead(c.encrId, c.keyBits, keyMaterial(c, seed));
}

/** A syntactically plausible IPv4 packet of `length` octets (>= 20). */
function ipv4(length: number, fill = 0xab): Uint8Array {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 0x45;
  p[2] = length >>> 8;
  p[3] = length & 0xff;
  return p;
}

/** A syntactically plausible IPv6 packet of `length` octets (>= 40). */
function ipv6(length: number, fill = 0xcd): Uint8Array {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 0x60;
  p[4] = (length - 40) >>> 8;
  p[5] = (length - 40) & 0xff;
  return p;
}

interface Pair {
  out: OutboundSa;
  in: InboundSa;
  table: SaTable;
}

function pair(c: Cipher, spi = 0x01020304, opts: { replayWindowSize?: number } = {}): Pair {
  const out = new OutboundSa({ spi, aead: aeadFor(c) });
  const inbound = new InboundSa({ spi, aead: aeadFor(c), ...opts });
  const table = new SaTable();
  table.add(inbound);
  return { out, in: inbound, table };
}

function seal(sa: OutboundSa, inner: Uint8Array): Uint8Array {
  const buf = new Uint8Array(espPacketLength(inner.length));
  const n = espSeal(sa, inner, buf);
  assert.equal(typeof n, 'number', `seal failed: ${String(n)}`);
  assert.equal(n, buf.length);
  return buf;
}

/** Builds an ESP packet around an arbitrary plaintext payload (trailer included) with a raw AEAD. */
function craft(aead: Aead, spi: number, seq: number, payload: Uint8Array): Uint8Array {
  const packet = new Uint8Array(16 + payload.length + 16);
  const view = new DataView(packet.buffer);
  view.setUint32(0, spi);
  view.setUint32(4, seq);
  view.setUint32(12, seq);
  aead.seal(packet.subarray(8, 16), packet.subarray(0, 8), payload, packet, 16);
  return packet;
}

function payloadOf(inner: Uint8Array, nextHeader: number, pad?: number[]): Uint8Array {
  const padding = pad ?? Array.from({ length: espPadLength(inner.length) }, (_, i) => i + 1);
  return Uint8Array.from([...inner, ...padding, padding.length, nextHeader]);
}

for (const c of CIPHERS) {
  test(`${c.name}: IPv4 and IPv6 inner packets round-trip with the RFC 4303 layout`, () => {
    const p = pair(c);
    const lengths4 = [20, 21, 22, 23, 24, 64, 1400, 1500];
    const lengths6 = [40, 41, 42, 43, 1280, 1400];
    let seq = 0;
    for (const [make, lengths, nh] of [
      [ipv4, lengths4, 4],
      [ipv6, lengths6, 41],
    ] as const) {
      for (const len of lengths) {
        const inner = make(len);
        const packet = seal(p.out, inner);
        seq++;
        assert.equal(toHex(packet.subarray(0, 4)), '01020304', 'SPI');
        assert.equal(new DataView(packet.buffer).getUint32(4), seq, 'sequence number');
        assert.equal(toHex(packet.subarray(8, 12)), '00000000', 'IV high half');
        assert.equal(new DataView(packet.buffer).getUint32(12), seq, 'IV = 64-bit counter');
        assert.equal((packet.length - 32) % 4, 0, 'payload aligned to 4');
        assert.notDeepEqual(packet.subarray(16, 16 + len), inner, 'payload is encrypted');

        // The plaintext trailer: padding 1, 2, ..., pad length, next header.
        const raw = new Uint8Array(packet.length - 32);
        assert.equal(aeadFor(c).open(packet.subarray(8, 16), packet.subarray(0, 8), packet.subarray(16), raw), raw.length);
        const padLength = espPadLength(len);
        assert.deepEqual([...raw.subarray(len)], [...Array.from({ length: padLength }, (_, i) => i + 1), padLength, nh]);

        const r = espOpen(p.table, packet);
        assert.equal(r.ok, true, `open failed: ${String(r.reason)}`);
        assert.equal(r.sa, p.in);
        assert.equal(r.seq, seq);
        assert.equal(r.nextHeader, nh);
        assert.equal(r.innerOffset, ESP_PAYLOAD_OFFSET);
        assert.equal(r.innerLength, len);
        assert.deepEqual(r.inner(), inner);
      }
    }
    assert.equal(p.out.packets, seq);
    assert.equal(p.in.packets, seq);
    const bytes = [...lengths4, ...lengths6].reduce((a, b) => a + b, 0);
    assert.equal(p.out.bytes, bytes);
    assert.equal(p.in.bytes, bytes);
    assert.equal(p.table.totalDrops, 0);
  });

  test(`${c.name}: zero-copy seal of an inner packet already at the payload offset gives the same packet`, () => {
    const a = pair(c);
    const b = pair(c);
    const inner = ipv4(333, 0x5a);
    const copied = seal(a.out, inner);
    const buf = new Uint8Array(8 + espPacketLength(inner.length) + 5);
    buf.set(inner, 8 + ESP_PAYLOAD_OFFSET);
    const n = espSeal(b.out, buf.subarray(8 + ESP_PAYLOAD_OFFSET, 8 + ESP_PAYLOAD_OFFSET + inner.length), buf, 8);
    assert.equal(n, copied.length);
    assert.deepEqual(buf.subarray(8, 8 + copied.length), copied);
    const r = espOpen(b.table, buf.subarray(8, 8 + copied.length));
    assert.equal(r.ok, true);
    assert.deepEqual(r.inner(), inner);
  });
}

test('an inner packet that overlaps the header area of the output buffer is copied before the header is written', () => {
  const p = pair(CIPHERS[0]!);
  const inner = ipv4(200, 0x3c);
  const buf = new Uint8Array(espPacketLength(200) + 10);
  buf.set(inner, 0); // the inner packet sits where the ESP header will go
  const n = espSeal(p.out, buf.subarray(0, 200), buf, 0);
  assert.equal(n, espPacketLength(200));
  const r = espOpen(p.table, buf.subarray(0, n as number));
  assert.equal(r.ok, true);
  assert.deepEqual(r.inner(), inner);
});

test('KAT: draft-mcgrew-gcm-test-01 section 4 ESP packet (AES-256-GCM, SPI 4a2cbfe3, seq 2) decrypts in place', () => {
  // Key, salt || IV nonce, AAD = SPI || sequence number, plaintext, ciphertext || ICV as
  // published in draft-mcgrew-gcm-test-01. The plaintext's trailer carries Next Header 1,
  // which tunnel mode refuses after authentication; the decrypted bytes are still checked.
  const key = hex('abbccddef00112233445566778899aababbccddef00112233445566778899aab');
  const salt = hex('11223344');
  const iv = hex('0102030405060708');
  const aad = hex('4a2cbfe300000002');
  const plaintext = hex(
    '4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201',
  );
  const sealed = hex(
    'ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c4915956c96',
  );
  const packet = Uint8Array.from([...aad, ...iv, ...sealed]);
  const sa = new InboundSa({ spi: 0x4a2cbfe3, aead: createAead(EncrId.ENCR_AES_GCM_16, 256, Uint8Array.from([...key, ...salt])) });
  const table = new SaTable();
  table.add(sa);
  const r = espOpen(table, packet);
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'bad-next-header');
  assert.equal(r.nextHeader, 1);
  assert.deepEqual(packet.subarray(16, 16 + plaintext.length), plaintext, 'decrypted in place');
  assert.equal(sa.replay.check(2), false, 'authentic: sequence number committed');
  assert.equal(sa.drops['bad-next-header'], 1);
  assert.equal(sa.drops['auth-failed'], 0);
});

test('replay: duplicates and too-old packets are dropped before decryption; reordering inside the window is fine', () => {
  const p = pair(CIPHERS[0]!, 0x0a0b0c0d, { replayWindowSize: 64 });
  const packets = Array.from({ length: 100 }, (_, i) => seal(p.out, ipv4(40 + i)));
  const copy = (i: number): Uint8Array => packets[i]!.slice();
  assert.equal(espOpen(p.table, copy(99)).ok, true); // seq 100
  assert.equal(espOpen(p.table, copy(50)).ok, true); // seq 51: 100 - 51 < 64
  const again = espOpen(p.table, copy(50));
  assert.equal(again.ok, false);
  assert.equal(again.reason, 'replay');
  const old = copy(10); // seq 11: too old
  const before = old.slice();
  const r = espOpen(p.table, old);
  assert.equal(r.reason, 'replay');
  assert.deepEqual(old, before, 'not decrypted: the replay check comes first');
  assert.equal(p.in.drops.replay, 2);
  assert.equal(p.table.drops.replay, 2);
  assert.equal(p.in.packets, 2);
});

test('every inbound drop reason is reachable, counted on the table and the SA, and reported', () => {
  const c = CIPHERS[1]!;
  const spi = 0x11110001;
  const seen: Array<[EspDropReason, number]> = [];
  const table = new SaTable({ onDrop: (reason, s) => seen.push([reason, s]) });
  const sa = new InboundSa({ spi, aead: aeadFor(c), limits: { hardPackets: 1000 } });
  table.add(sa);
  const raw = aeadFor(c);
  let seq = 1;
  const expectDrop = (packet: Uint8Array, reason: EspDropReason, committed: boolean): void => {
    const s = packet.length >= 8 ? new DataView(packet.buffer, packet.byteOffset).getUint32(4) : 0;
    const state = sa.replay.state();
    const r = espOpen(table, packet);
    assert.equal(r.ok, false, reason);
    assert.equal(r.reason, reason);
    if (committed) assert.equal(sa.replay.check(s), false, `${reason}: committed`);
    else assert.deepEqual(sa.replay.state(), state, `${reason}: window unchanged`);
  };

  expectDrop(new Uint8Array(7), 'short-packet', false);
  expectDrop(hex('0000000000000001' + '00'.repeat(40)), 'unknown-spi', false);
  expectDrop(hex('2222222200000001' + '00'.repeat(40)), 'unknown-spi', false);
  expectDrop(hex('11110001000000010000000000000001' + '00'.repeat(16)), 'short-packet', false);
  const good = craft(raw, spi, seq++, payloadOf(ipv4(22), 4));
  expectDrop(Uint8Array.from([...good, 0]), 'bad-length', false);
  const forged = craft(raw, spi, seq++, payloadOf(ipv4(22), 4));
  forged[20]! ^= 1;
  expectDrop(forged, 'auth-failed', false);
  expectDrop(craft(raw, spi, 0, payloadOf(ipv4(22), 4)), 'replay', false);
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv4(20), 4, [1, 3])), 'bad-padding', true);
  expectDrop(craft(raw, spi, seq++, Uint8Array.from([0x45, 0, 200, 4])), 'bad-padding', true); // pad length 200
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv4(22), 17)), 'bad-next-header', true);
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv6(42), 4)), 'bad-inner-packet', true); // IPv6 behind NH 4
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv4(10), 4)), 'bad-inner-packet', true); // shorter than a header
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv4(30), 41)), 'bad-inner-packet', true);
  expectDrop(craft(raw, spi, seq++, payloadOf(new Uint8Array(2), 59)), 'dummy-packet', true);

  const ok = espOpen(table, craft(raw, spi, seq++, payloadOf(ipv4(22), 4)));
  assert.equal(ok.ok, true);
  assert.equal(sa.packets, 1);

  // Hard limit reached: the SA drops everything until IKE deletes it.
  sa.hardExpired = true;
  expectDrop(craft(raw, spi, seq++, payloadOf(ipv4(22), 4)), 'sa-expired', false);

  for (const reason of ESP_DROP_REASONS) assert.ok(table.drops[reason] >= 1, `${reason} never counted`);
  assert.equal(table.drops['unknown-spi'], 2);
  assert.equal(sa.drops['unknown-spi'], 0, 'no SA to count on');
  assert.equal(table.drops['short-packet'], 2);
  assert.equal(sa.drops['short-packet'], 1);
  assert.equal(seen.length, table.totalDrops);
  assert.deepEqual(seen[1], ['unknown-spi', 0]);
});

test('outbound: sequence numbers start at 1, the soft limit fires, and 2^32 - 1 is the last one', () => {
  const events: Array<[EspLimitLevel, EspLimitKind, number]> = [];
  const sa = new OutboundSa({
    spi: 7,
    aead: aeadFor(CIPHERS[0]!),
    initialSequence: 0xffff_fffc,
    sequenceSoftLimit: 0xffff_fffe,
    onLimit: (s, level, kind) => events.push([level, kind, (s as OutboundSa).seq]),
  });
  const inner = ipv4(60);
  const buf = new Uint8Array(espPacketLength(60));
  assert.equal(espSeal(sa, inner, buf), buf.length); // fffffffd
  assert.deepEqual(events, []);
  assert.equal(espSeal(sa, inner, buf), buf.length); // fffffffe
  assert.deepEqual(events, [['soft', 'sequence', 0xffff_fffe]]);
  assert.equal(espSeal(sa, inner, buf), buf.length); // ffffffff
  assert.equal(new DataView(buf.buffer).getUint32(4), 0xffff_ffff);
  assert.deepEqual(events[1], ['hard', 'sequence', 0xffff_ffff]);
  assert.equal(espSeal(sa, inner, buf), 'sequence-exhausted');
  assert.equal(espSeal(sa, inner, buf), 'sequence-exhausted');
  assert.equal(sa.seq, 0xffff_ffff, 'never wraps');
  assert.equal(sa.errors['sequence-exhausted'], 2);
  assert.equal(sa.packets, 3);
  assert.equal(events.length, 2, 'each level fires once');

  const fresh = new OutboundSa({ spi: 8, aead: aeadFor(CIPHERS[0]!) });
  espSeal(fresh, inner, buf);
  assert.equal(new DataView(buf.buffer).getUint32(4), 1);
});

test('outbound: packet and byte limits; refusals for bad inner packets and small buffers', () => {
  const events: string[] = [];
  const sa = new OutboundSa({
    spi: 9,
    aead: aeadFor(CIPHERS[2]!),
    limits: { softPackets: 3, hardPackets: 5, softBytes: 1_000_000 },
    onLimit: (_s, level, kind) => events.push(`${level}:${kind}`),
  });
  const inner = ipv6(100);
  const buf = new Uint8Array(espPacketLength(100));
  for (let i = 0; i < 5; i++) assert.equal(espSeal(sa, inner, buf), buf.length);
  assert.deepEqual(events, ['soft:packets', 'hard:packets']);
  assert.equal(sa.softReason, 'packets');
  assert.equal(espSeal(sa, inner, buf), 'hard-expired');
  assert.equal(sa.errors['hard-expired'], 1);

  const b = new OutboundSa({ spi: 10, aead: aeadFor(CIPHERS[2]!), limits: { softBytes: 150, hardBytes: 250 } });
  const fired: string[] = [];
  b.onLimit = (_s, level, kind) => fired.push(`${level}:${kind}`);
  espSeal(b, inner, buf);
  espSeal(b, inner, buf);
  assert.deepEqual(fired, ['soft:bytes']);
  espSeal(b, inner, buf);
  assert.deepEqual(fired, ['soft:bytes', 'hard:bytes']);

  const c = new OutboundSa({ spi: 11, aead: aeadFor(CIPHERS[0]!) });
  assert.equal(espSeal(c, new Uint8Array(0), buf), 'bad-inner-packet');
  assert.equal(espSeal(c, Uint8Array.of(0x55, 1, 2, 3), buf), 'bad-inner-packet');
  assert.equal(espSeal(c, ipv4(40).subarray(0, 19), buf), 'bad-inner-packet');
  assert.equal(espSeal(c, ipv6(60).subarray(0, 39), buf), 'bad-inner-packet');
  assert.equal(espSeal(c, inner, new Uint8Array(buf.length - 1)), 'buffer-too-small');
  assert.equal(espSeal(c, inner, buf, 1), 'buffer-too-small');
  assert.equal(c.seq, 0, 'refusals consume no sequence number');
  assert.equal(c.errors['bad-inner-packet'], 4);
  assert.equal(c.errors['buffer-too-small'], 2);
});

test('inbound byte limit: soft then hard, then sa-expired drops', () => {
  const c = CIPHERS[0]!;
  const out = new OutboundSa({ spi: 0x77, aead: aeadFor(c) });
  const events: string[] = [];
  const inbound = new InboundSa({
    spi: 0x77,
    aead: aeadFor(c),
    limits: { softBytes: 100, hardBytes: 200 },
    onLimit: (_s, level, kind) => events.push(`${level}:${kind}`),
  });
  const table = new SaTable();
  table.add(inbound);
  const results = [0, 1, 2].map(() => espOpen(table, seal(out, ipv4(90))));
  assert.deepEqual(results.map((r) => r.ok), [true, true, true]);
  assert.deepEqual(events, ['soft:bytes', 'hard:bytes']);
  const after = espOpen(table, seal(out, ipv4(90)));
  assert.equal(after.reason, 'sa-expired');
});

test('espSpiOf reads the SPI; the result object is reused without allocation', () => {
  assert.equal(espSpiOf(hex('0102030405060708')), 0x01020304);
  assert.equal(espSpiOf(hex('01020304')), 0);
  const p = pair(CIPHERS[0]!);
  const result = new EspOpenResult();
  const a = espOpen(p.table, seal(p.out, ipv4(20)), result);
  assert.equal(a, result);
  assert.equal(a.ok, true);
  const b = espOpen(p.table, new Uint8Array(3), result);
  assert.equal(b, result);
  assert.equal(b.ok, false);
  assert.equal(b.innerLength, 0);
  assert.deepEqual(b.inner(), new Uint8Array(0));
});

test('property: random inner packets round-trip for every cipher', () => {
  const pairs = CIPHERS.map((c) => pair(c));
  fc.assert(
    fc.property(fc.boolean(), fc.integer({ min: 0, max: 1460 }), fc.uint8Array({ minLength: 1500, maxLength: 1500 }), (v6, extra, body) => {
      const len = (v6 ? 40 : 20) + extra;
      const inner = body.slice(0, len);
      inner[0] = v6 ? 0x60 : 0x45;
      for (const p of pairs) {
        const r = espOpen(p.table, seal(p.out, inner));
        assert.equal(r.ok, true, String(r.reason));
        assert.deepEqual(r.inner(), inner);
      }
    }),
    { numRuns: 100 },
  );
});

test('property: random bytes never throw, are counted as drops, and leave the replay window unchanged', () => {
  for (const c of CIPHERS) {
    const p = pair(c, 0xdeadbeef);
    // Some real traffic first so the window is not empty.
    for (let i = 0; i < 5; i++) assert.equal(espOpen(p.table, seal(p.out, ipv4(50))).ok, true);
    const result = new EspOpenResult();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1600, size: 'max' }),
          // With the installed SPI, so the deeper checks run.
          fc.uint8Array({ maxLength: 1600, size: 'max' }).map((b) => Uint8Array.from([0xde, 0xad, 0xbe, 0xef, ...b])),
        ),
        (bytes) => {
          const state = p.in.replay.state();
          const drops = p.table.totalDrops;
          const r = espOpen(p.table, bytes, result);
          assert.equal(r.ok, false);
          assert.equal(p.table.totalDrops, drops + 1);
          assert.deepEqual(p.in.replay.state(), state);
          assert.equal(p.in.packets, 5);
        },
      ),
      { numRuns: 300 },
    );
  }
});

test('property: mutated valid packets never throw, are counted as drops, and leave the replay window unchanged', () => {
  for (const c of CIPHERS) {
    const p = pair(c, 0x0badf00d);
    const originals = Array.from({ length: 40 }, (_, i) => seal(p.out, i % 2 ? ipv6(40 + i * 9) : ipv4(20 + i * 7)));
    // Deliver every third so the window holds a mix of seen and unseen numbers.
    for (let i = 0; i < originals.length; i += 3) assert.equal(espOpen(p.table, originals[i]!.slice()).ok, true);
    const accepted = p.in.packets;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
      fc.record({ kind: fc.constant('seq' as const), seq: fc.integer({ min: 0, max: 0xffff_ffff }) }),
    );
    fc.assert(
      fc.property(fc.nat(originals.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (index, mutations) => {
        let packet = originals[index]!.slice();
        const pristine = originals[index]!;
        for (const m of mutations) {
          if (m.kind === 'flip' && packet.length > 0) packet[m.at % packet.length]! ^= m.xor;
          if (m.kind === 'truncate') packet = packet.slice(0, m.at % Math.max(1, packet.length));
          if (m.kind === 'extend') packet = Uint8Array.from([...packet, ...m.tail]);
          if (m.kind === 'seq' && packet.length >= 8) new DataView(packet.buffer).setUint32(4, m.seq);
        }
        fc.pre(packet.length !== pristine.length || toHex(packet) !== toHex(pristine));
        const state = p.in.replay.state();
        const drops = p.table.totalDrops;
        const r = espOpen(p.table, packet);
        assert.equal(r.ok, false, 'a mutated packet was accepted');
        assert.equal(p.table.totalDrops, drops + 1);
        assert.deepEqual(p.in.replay.state(), state);
        assert.equal(p.in.packets, accepted);
      }),
      { numRuns: 300 },
    );
  }
});
