/**
 * The native fast path's ESP seal and open (src/native/fastpath.cc) against the TypeScript
 * codec (src/engine/esp/esp-packet.ts) byte for byte, the AEAD known-answer vectors, the
 * anti-replay window, and random or mutated ESP input: counted drops, never a crash.
 * Needs the built addon (npm install builds it); opens a UDP socket on 127.0.0.1 only.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EncrId, createAead } from '../../../src/engine/crypto/index.js';
import { EspOpenResult, InboundSa, OutboundSa, SaTable, espOpen, espPacketLength, espSeal } from '../../../src/engine/esp/index.js';
import { loadFastPathAddon, SUITE_AES_GCM_16, SUITE_CHACHA20_POLY1305, type NativeFastPath } from '../../../src/engine/fastpath/native.js';

const loaded = loadFastPathAddon();
if (!('addon' in loaded)) throw new Error(loaded.reason);
const { FastPath } = loaded.addon;
const FastPathStatic = FastPath as unknown as { aead(encrypt: boolean, suite: number, km: Uint8Array, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Buffer | null };

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Cipher {
  name: string;
  encrId: number;
  keyBits: number | undefined;
  keyLength: number;
  suite: number;
}
const CIPHERS: Cipher[] = [
  { name: 'chacha20-poly1305', encrId: EncrId.ENCR_CHACHA20_POLY1305, keyBits: undefined, keyLength: 36, suite: SUITE_CHACHA20_POLY1305 },
  { name: 'aes128-gcm16', encrId: EncrId.ENCR_AES_GCM_16, keyBits: 128, keyLength: 20, suite: SUITE_AES_GCM_16 },
  { name: 'aes256-gcm16', encrId: EncrId.ENCR_AES_GCM_16, keyBits: 256, keyLength: 36, suite: SUITE_AES_GCM_16 },
];

const keyMaterial = (c: Cipher, seed: number): Uint8Array => Uint8Array.from({ length: c.keyLength }, (_, i) => (i * 31 + seed) & 0xff);

function ipv4(length: number, fill = 0xab): Uint8Array {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 0x45;
  p[2] = length >>> 8;
  p[3] = length & 0xff;
  p[8] = 64;
  p[9] = 17;
  return p;
}
function ipv6(length: number, fill = 0xcd): Uint8Array {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 0x60;
  p[4] = (length - 40) >>> 8;
  p[5] = (length - 40) & 0xff;
  p[6] = 17;
  p[7] = 64;
  return p;
}

const opened: NativeFastPath[] = [];
function fastPath(): NativeFastPath {
  const fp = new FastPath('127.0.0.1', 0, 1 << 20);
  opened.push(fp);
  return fp;
}
after(() => {
  for (const fp of opened) fp.stop();
});

function tsSeal(c: Cipher, spi: number, seed: number, inners: Uint8Array[]): Uint8Array[] {
  const sa = new OutboundSa({ spi, aead: createAead(c.encrId, c.keyBits, keyMaterial(c, seed)) });
  return inners.map((inner) => {
    const out = new Uint8Array(espPacketLength(inner.length));
    const n = espSeal(sa, inner, out);
    assert.equal(typeof n, 'number');
    return out;
  });
}

const SIZES = [20, 21, 22, 23, 24, 40, 41, 99, 576, 1279, 1400, 1500, 9000];

for (const c of CIPHERS) {
  test(`${c.name}: the native seal is byte-for-byte the TypeScript espSeal (IPv4 and IPv6, every padding length)`, () => {
    const fp = fastPath();
    const spi = 0x1234abcd;
    fp.addSa(false, spi, c.suite, keyMaterial(c, 7), 1, '127.0.0.1', 9);
    const inners = SIZES.flatMap((n, i) => [ipv4(n, i), ...(n >= 40 ? [ipv6(n, i + 100)] : [])]);
    const expected = tsSeal(c, spi, 7, inners);
    inners.forEach((inner, i) => {
      const got = fp.sealPacket(spi, inner);
      assert.ok(got, `sealed ${inner.length}`);
      assert.equal(toHex(got), toHex(expected[i]!), `packet ${i} (${inner.length} octets)`);
    });
    const st = fp.saStats(false, spi)!;
    assert.equal(st[0], inners.length, 'packets');
    assert.equal(st[1], inners.reduce((n, p) => n + p.length, 0), 'inner bytes');
    assert.equal(st[2], inners.length, 'last sequence number');
  });

  test(`${c.name}: the native open takes the TypeScript codec's packets, and TypeScript opens the native ones`, () => {
    const fp = fastPath();
    const spi = 0x00c0ffee;
    fp.addSa(true, spi, c.suite, keyMaterial(c, 9), 1, '', 0);
    const inners = SIZES.flatMap((n, i) => [ipv4(n, i), ...(n >= 40 ? [ipv6(n, i)] : [])]);
    const packets = tsSeal(c, spi, 9, inners);
    packets.forEach((p, i) => {
      const r = fp.openPacket(p);
      assert.equal(r.result, 'ok', `packet ${i}`);
      assert.equal(toHex(r.inner!), toHex(inners[i]!));
    });
    // and the other way round
    const out = fastPath();
    out.addSa(false, 0x5151, c.suite, keyMaterial(c, 3), 1, '127.0.0.1', 9);
    const table = new SaTable();
    table.add(new InboundSa({ spi: 0x5151, aead: createAead(c.encrId, c.keyBits, keyMaterial(c, 3)) }));
    const res = new EspOpenResult();
    for (const inner of inners) {
      const sealed = out.sealPacket(0x5151, inner)!;
      const r = espOpen(table, Uint8Array.from(sealed), res);
      assert.equal(r.ok, true, r.reason);
      assert.equal(toHex(r.inner()), toHex(inner));
    }
  });

  test(`${c.name}: replay window (2048): duplicates and packets older than the window are dropped before decryption`, () => {
    const fp = fastPath();
    const spi = 0x77;
    fp.addSa(true, spi, c.suite, keyMaterial(c, 5), 1, '', 0, 2048);
    const sa = new OutboundSa({ spi, aead: createAead(c.encrId, c.keyBits, keyMaterial(c, 5)) });
    const seal = (seq: number): Uint8Array => {
      sa.seq = seq - 1;
      const out = new Uint8Array(espPacketLength(60));
      espSeal(sa, ipv4(60), out);
      return out;
    };
    assert.equal(fp.openPacket(seal(5000)).result, 'ok');
    assert.equal(fp.openPacket(seal(5000)).result, 'replay', 'duplicate');
    assert.equal(fp.openPacket(seal(4000)).result, 'ok', 'inside the window');
    assert.equal(fp.openPacket(seal(5000 - 2048)).result, 'replay', 'just outside');
    assert.equal(fp.openPacket(seal(5000 - 2047)).result, 'ok', 'the oldest inside');
    assert.equal(fp.openPacket(seal(100_000)).result, 'ok', 'a jump');
    assert.equal(fp.openPacket(seal(4000)).result, 'replay', 'left behind by the jump');
    // a forged packet with a fresh number neither authenticates nor advances the window
    const forged = seal(100_001);
    forged[forged.length - 1]! ^= 1;
    assert.equal(fp.openPacket(forged).result, 'auth-failed');
    assert.equal(fp.openPacket(seal(100_001)).result, 'ok', 'the number is still free after the forgery');
    const st = fp.stats();
    assert.equal(st.dropReplay, 3);
    assert.equal(st.dropAuthFailed, 1);
    assert.equal(fp.saStats(true, spi)![2], 100_001, 'window top');
  });
}

// RFC 8439 2.8.2 (its constant 07000000 is the RFC 7634 salt, 4041..47 the explicit IV).
test('ChaCha20-Poly1305 (RFC 7634): RFC 8439 2.8.2 known answer through the native cipher', () => {
  const pt = Uint8Array.from(Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", 'latin1'));
  const km = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f 07000000');
  const iv = hex('4041424344454647');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const ct = hex(`d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
    1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116`);
  const tag = hex('1ae10b594f09e26a7e902ecbd0600691');
  const sealed = FastPathStatic.aead(true, SUITE_CHACHA20_POLY1305, km, iv, aad, pt)!;
  assert.equal(toHex(sealed), toHex(ct) + toHex(tag));
  assert.equal(toHex(FastPathStatic.aead(false, SUITE_CHACHA20_POLY1305, km, iv, aad, sealed)!), toHex(pt));
  const bad = Uint8Array.from(sealed);
  bad[3]! ^= 1;
  assert.equal(FastPathStatic.aead(false, SUITE_CHACHA20_POLY1305, km, iv, aad, bad), null);
});

// McGrew & Viega GCM test cases 4 and 16; the IV cafebabe facedbaddecaf888 is salt || explicit IV (RFC 4106).
test('AES-GCM-16 (RFC 4106): GCM test cases 4 (AES-128) and 16 (AES-256) through the native cipher', () => {
  const pt = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39');
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const cases = [
    { key: 'feffe9928665731c6d6a8f9467308308', ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091', tag: '5bc94fbc3221a5db94fae95ae7121a47' },
    { key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662', tag: '76fc6ece0f4e1768cddf8853bb2d551b' },
  ];
  for (const c of cases) {
    const km = hex(c.key + 'cafebabe');
    const sealed = FastPathStatic.aead(true, SUITE_AES_GCM_16, km, hex('facedbaddecaf888'), aad, pt)!;
    assert.equal(toHex(sealed), c.ct + c.tag);
    assert.equal(toHex(FastPathStatic.aead(false, SUITE_AES_GCM_16, km, hex('facedbaddecaf888'), aad, sealed)!), toHex(pt));
  }
});

test('random and mutated ESP datagrams into the native receive path: counted as drops or punted, never accepted forged, never a crash', () => {
  const fp = fastPath();
  const c = CIPHERS[0]!;
  const spi = 0xabcdef01;
  fp.addSa(true, spi, c.suite, keyMaterial(c, 11), 3, '', 0);
  const valid = tsSeal(c, spi, 11, [ipv4(100), ipv4(1400), ipv6(80)]);
  let accepted = 0;
  let total = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        // known SPI, random rest
        fc.uint8Array({ minLength: 0, maxLength: 1600 }).map((b) => Uint8Array.from([0xab, 0xcd, 0xef, 0x01, ...b])),
        // a valid packet with flipped bytes, cut or extended
        fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -40, max: 40 })).map(([i, pos, x, cut]) => {
          const p = Uint8Array.from(valid[i]!);
          p[8 + (pos % (p.length - 8))]! ^= x;
          const n = Math.max(0, p.length + cut);
          const out = new Uint8Array(n);
          out.set(p.subarray(0, Math.min(n, p.length)));
          return out;
        }),
      ),
      (dgram) => {
        total++;
        const punts = fp.receiveDatagram(dgram, '192.0.2.9', 4500);
        for (const p of punts) {
          // only raw datagrams (not ESP of a known SA) or authentic decrypted packets come up
          if (p.kind === 2) accepted++;
          assert.ok(p.kind === 1 || p.kind === 2);
        }
      },
    ),
    { numRuns: 3000, seed: 4 },
  );
  const st = fp.stats();
  assert.equal(accepted, 0, 'no mutated packet authenticated');
  assert.ok(st.dropMalformed + st.dropAuthFailed + st.dropReplay + st.puntUdp >= total, 'every datagram accounted');
  assert.ok(st.dropAuthFailed > 0 && st.dropMalformed > 0, 'both kinds of drops seen');
  // the valid packets still open after all that (the window was not advanced by forgeries)
  for (const v of valid) assert.equal(fp.receiveDatagram(v, '192.0.2.9', 4500)[0]?.kind, 2);
});

test('offload eligibility: established TCP, UDP and ICMP echo are offloaded; SYN/FIN/RST, ICMP errors, fragments, other protocols are not', () => {
  const fp = fastPath();
  const v4 = (proto: number, l4: number[], opts: { frag?: boolean } = {}): Uint8Array => {
    const p = ipv4(20 + Math.max(l4.length, 20));
    p[9] = proto;
    p[6] = opts.frag ? 0x20 : 0; // flags and fragment offset
    p[7] = 0;
    p.set([10, 1, 0, 5, 10, 2, 0, 7], 12);
    p.set(l4, 20);
    return p;
  };
  const tcp = (flags: number) => v4(6, [0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
  const offload = (p: Uint8Array) => fp.offload(0, p, 0, p.length, 2, 1, 1500);
  assert.ok(offload(tcp(0x10)) > 0, 'TCP ACK');
  assert.ok(offload(tcp(0x18)) > 0, 'TCP PSH|ACK');
  for (const flags of [0x02, 0x12, 0x11, 0x04]) assert.equal(offload(tcp(flags)), 0, `TCP flags ${flags.toString(16)}`);
  assert.ok(offload(v4(17, [0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0])) > 0, 'UDP');
  assert.ok(offload(v4(1, [8, 0, 0, 0, 0x12, 0x34, 0, 1])) > 0, 'ICMP echo request');
  assert.ok(offload(v4(1, [0, 0, 0, 0, 0x12, 0x34, 0, 1])) > 0, 'ICMP echo reply');
  assert.equal(offload(v4(1, [3, 1, 0, 0, 0, 0, 0, 0])), 0, 'ICMP destination unreachable');
  assert.equal(offload(v4(1, [11, 0, 0, 0, 0, 0, 0, 0])), 0, 'ICMP time exceeded');
  assert.equal(offload(v4(17, [0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0], { frag: true })), 0, 'a fragment');
  assert.equal(offload(v4(47, [0, 0, 8, 0])), 0, 'GRE');
  const six = ipv6(48);
  six[6] = 0; // hop-by-hop extension header first
  assert.equal(offload(six), 0, 'IPv6 with an extension header');
  const echo6 = ipv6(48);
  echo6[6] = 58;
  echo6.set([128, 0, 0, 0, 0, 7, 0, 1], 40);
  assert.ok(offload(echo6) > 0, 'ICMPv6 echo request');
  // TCP (both packets are one flow), UDP, echo request, echo reply (keyed by type), ICMPv6 echo
  assert.equal(fp.stats().flows, 5, 'one entry per offloaded flow');
  assert.equal(offload(tcp(0x10)), offload(tcp(0x18)), 'the same flow, the same entry');
  assert.equal(fp.clearFlows(), 5);
});
