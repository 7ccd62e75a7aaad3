import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPayloadRules,
  decodeMessage,
  encodeMessage,
  IkeEncodeError,
  openMessage,
  stringifyMessage,
  type Message,
} from '../../../../src/engine/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId } from '../../../../src/engine/ike/constants.js';
import { bytes, chacha20Poly1305, counterIv, hex, toHex } from './fixtures.js';

/**
 * RFC 7634 Appendix B, "ChaCha20-Poly1305 for IKEv2 Example", as transcribed in strongSwan's
 * src/libstrongswan/plugins/test_vectors/test_vectors/chacha20poly1305.c (chacha20poly1305_4,
 * "IKEv2 example from RFC 7634"): key material 80..9f || salt a0 a1 a2 a3, IV 10..17.
 * The AAD is the IKE header (SPIs c0.., d0.., next payload SK, INFORMATIONAL, message ID 9,
 * length 0x45) and the SK generic header (next payload N, length 0x29); the plaintext is a
 * Notify SET_WINDOW_SIZE (data 0000000a) followed by a zero pad length.
 */
const RFC7634_KEY = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3');
const RFC7634_IV = hex('1011121314151617');
const RFC7634_AAD = hex('c0c1c2c3c4c5c6c7 d0d1d2d3d4d5d6d7 2e202500 00000009 00000045 29000029');
const RFC7634_CIPHERTEXT_AND_ICV = hex('61039470 1f8d017f 7c129248 896b71bf e25236ef d7cdc670 66906315 b2');
const RFC7634_MESSAGE = new Uint8Array([...RFC7634_AAD, ...RFC7634_IV, ...RFC7634_CIPHERTEXT_AND_ICV]);

const rfc7634Message: Message = {
  spiI: 0xc0c1c2c3c4c5c6c7n,
  spiR: 0xd0d1d2d3d4d5d6d7n,
  exchangeType: ExchangeType.INFORMATIONAL,
  initiator: false,
  response: false,
  messageId: 9,
  payloads: [],
  encrypted: [{ type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.SET_WINDOW_SIZE, data: hex('0000000a') }],
};

test('RFC 7634 Appendix B: decoding and opening the IKEv2 example', () => {
  assert.equal(RFC7634_MESSAGE.length, 0x45);
  const d = decodeMessage(RFC7634_MESSAGE);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  assert.equal(d.message.sealed?.firstPayload, PayloadType.N);
  assert.equal(stringifyMessage(d.message), 'INFORMATIONAL request 9 [ SK ]');
  const o = openMessage(d.message, chacha20Poly1305(RFC7634_KEY));
  assert.ok(o.ok, o.ok ? '' : o.reason);
  assert.deepEqual(o.message, rfc7634Message);
  assert.equal(stringifyMessage(o.message), 'INFORMATIONAL request 9 [ N(SET_WINSIZE) ]');
});

test('RFC 7634 Appendix B: encoding the IKEv2 example gives the same octets', () => {
  const wire = encodeMessage(rfc7634Message, { aead: chacha20Poly1305(RFC7634_KEY), nextIv: () => RFC7634_IV });
  assert.equal(toHex(wire), toHex(RFC7634_MESSAGE));
});

test('RFC 7634 Appendix B: any flipped bit fails authentication, nothing is decoded', () => {
  const aead = chacha20Poly1305(RFC7634_KEY);
  for (let i = 0; i < RFC7634_MESSAGE.length; i++) {
    // Octets whose change makes the outer decode fail first are fine too; none may decode.
    const m = Uint8Array.from(RFC7634_MESSAGE);
    m[i]! ^= 0x01;
    const d = decodeMessage(m);
    if (!d.ok) continue;
    const o = openMessage(d.message, aead);
    assert.equal(o.ok, false, `bit flip at ${i} was accepted`);
    if (!o.ok) assert.equal(o.reason, 'sk-auth-failed', `flip at ${i}`);
  }
});

function authRequest(): Message {
  return {
    spiI: 0x1111111111111111n,
    spiR: 0x2222222222222222n,
    exchangeType: ExchangeType.IKE_AUTH,
    initiator: true,
    response: false,
    messageId: 1,
    payloads: [],
    encrypted: [
      { type: PayloadType.IDi, idType: 2, data: new TextEncoder().encode('spoke1.example') },
      { type: PayloadType.N, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) },
      { type: PayloadType.AUTH, method: 2, data: bytes(32, 0x77) },
      {
        type: PayloadType.SA,
        proposals: [{ number: 1, protocolId: ProtocolId.ESP, spi: hex('c0ffee01'), transforms: [{ type: 1, id: 28 }, { type: 5, id: 0 }] }],
      },
      { type: PayloadType.TSi, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, 1, 0, 0), endAddress: Uint8Array.of(10, 1, 255, 255) }] },
      { type: PayloadType.TSr, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, 2, 0, 0), endAddress: Uint8Array.of(10, 2, 255, 255) }] },
    ],
  };
}

const KEY = Uint8Array.from({ length: 36 }, (_, i) => i * 7);

test('SK round trip: IKE_AUTH request, padding lengths 0..255', () => {
  const aead = chacha20Poly1305(KEY);
  const nextIv = counterIv(1000n);
  for (const padLength of [0, 1, 3, 16, 255]) {
    const m = authRequest();
    const wire = encodeMessage(m, { aead, nextIv, padLength });
    const d = decodeMessage(wire);
    assert.ok(d.ok, d.ok ? '' : d.reason);
    assert.deepEqual(d.message.payloads, []);
    const o = openMessage(d.message, aead);
    assert.ok(o.ok, o.ok ? '' : o.reason);
    assert.deepEqual(o.message, m);
    assert.equal(checkPayloadRules(o.message, ExchangeType.IKE_AUTH, false), undefined);
    assert.equal(stringifyMessage(o.message), 'IKE_AUTH request 1 [ IDi N(INIT_CONTACT) AUTH SA TSi TSr ]');
  }
});

test('SK round trip: clear payloads before SK, and an empty SK (liveness check)', () => {
  const aead = chacha20Poly1305(KEY);
  const withClear: Message = { ...authRequest(), payloads: [{ type: PayloadType.V, data: bytes(16, 1) }] };
  const o1 = openMessage((decodeMessage(encodeMessage(withClear, { aead, nextIv: counterIv() })) as { ok: true; message: Message }).message, aead);
  assert.ok(o1.ok);
  assert.deepEqual(o1.message, withClear);

  const liveness: Message = { spiI: 1n, spiR: 2n, exchangeType: ExchangeType.INFORMATIONAL, initiator: true, response: false, messageId: 5, payloads: [], encrypted: [] };
  const wire = encodeMessage(liveness, { aead, nextIv: counterIv() });
  assert.equal(wire.length, 28 + 4 + 8 + 1 + 16);
  assert.equal(wire[16], PayloadType.SK);
  assert.equal(wire[28], 0, 'SK next payload is 0 when it is empty');
  const d = decodeMessage(wire);
  assert.ok(d.ok);
  const o = openMessage(d.message, aead);
  assert.ok(o.ok);
  assert.deepEqual(o.message, liveness);
  assert.equal(stringifyMessage(o.message), 'INFORMATIONAL request 5 [ ]');
  assert.equal(checkPayloadRules(o.message, ExchangeType.INFORMATIONAL, false), undefined);
});

test('SK: each message gets the next IV from the caller', () => {
  const aead = chacha20Poly1305(KEY);
  const nextIv = counterIv(0x0102030405060708n);
  const a = encodeMessage(authRequest(), { aead, nextIv });
  const b = encodeMessage(authRequest(), { aead, nextIv });
  assert.equal(toHex(a.subarray(32, 40)), '0102030405060708');
  assert.equal(toHex(b.subarray(32, 40)), '0102030405060709');
  assert.notEqual(toHex(a), toHex(b));
});

test('SK: wrong key, truncation and tampering are refused', () => {
  const aead = chacha20Poly1305(KEY);
  const wire = encodeMessage(authRequest(), { aead, nextIv: counterIv() });
  const d = decodeMessage(wire);
  assert.ok(d.ok);
  const wrong = openMessage(d.message, chacha20Poly1305(Uint8Array.from(KEY, (b) => b ^ 1)));
  assert.ok(!wrong.ok && wrong.reason === 'sk-auth-failed' && wrong.notify === undefined);

  // The header is authenticated: a changed message ID fails the ICV.
  const tampered = Uint8Array.from(wire);
  tampered[23]! ^= 1;
  const dt = decodeMessage(tampered);
  assert.ok(dt.ok);
  assert.equal((openMessage(dt.message, aead) as { reason: string }).reason, 'sk-auth-failed');
});

/** Builds a message whose SK plaintext is exactly `plaintext` (pad length included). */
function sealRaw(plaintext: Uint8Array, firstInner: number, exchange: number = ExchangeType.INFORMATIONAL): Uint8Array {
  const aead = chacha20Poly1305(KEY);
  const skLength = 4 + 8 + plaintext.length + 16;
  const out = new Uint8Array(28 + skLength);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, 1n);
  dv.setBigUint64(8, 2n);
  out[16] = PayloadType.SK;
  out[17] = 0x20;
  out[18] = exchange;
  out[19] = 0x08;
  dv.setUint32(20, 3);
  dv.setUint32(24, out.length);
  out[28] = firstInner;
  dv.setUint16(30, skLength);
  const iv = hex('0000000000000001');
  out.set(iv, 32);
  aead.seal(iv, out.subarray(0, 32), plaintext, out, 40);
  return out;
}

function openRaw(wire: Uint8Array) {
  const d = decodeMessage(wire);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  return openMessage(d.message, chacha20Poly1305(KEY));
}

test('SK: a valid hand-sealed plaintext opens (the negative cases below differ in one thing)', () => {
  const notify = [0, 0, 0, 8, 0, 0, 0x40, 0x00];
  const o = openRaw(sealRaw(Uint8Array.from([...notify, 0xaa, 0xbb, 2]), PayloadType.N));
  assert.ok(o.ok, o.ok ? '' : o.reason);
  assert.equal(o.message.encrypted?.length, 1);
});

test('SK: pad length pointing before the plaintext is a syntax error after authentication', () => {
  const o = openRaw(sealRaw(Uint8Array.from([0, 0, 0, 8, 0, 0, 0x40, 0x00, 9]), PayloadType.N));
  assert.ok(!o.ok);
  assert.equal(o.reason, 'sk-padding-invalid');
  assert.equal(o.notify?.notifyType, NotifyType.INVALID_SYNTAX);
});

test('SK: inner chain errors carry INVALID_SYNTAX; critical unknown keeps its own notify', () => {
  const shortNonce = openRaw(sealRaw(Uint8Array.from([0, 0, 0, 8, 1, 2, 3, 4, 0]), PayloadType.Nonce));
  assert.ok(!shortNonce.ok && shortNonce.reason === 'nonce-length-invalid');
  assert.equal(shortNonce.notify?.notifyType, NotifyType.INVALID_SYNTAX);

  const mismatch = openRaw(sealRaw(Uint8Array.from([0, 0, 0, 4, 0xee, 0]), PayloadType.V));
  assert.ok(!mismatch.ok && mismatch.reason === 'chain-length-mismatch');

  const critical = openRaw(sealRaw(Uint8Array.from([0, 0x80, 0, 4, 0]), 222));
  assert.ok(!critical.ok && critical.reason === 'unsupported-critical-payload');
  assert.equal(critical.payloadType, 222);
  assert.equal(critical.notify?.notifyType, NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD);

  const skipped = openRaw(sealRaw(Uint8Array.from([0, 0, 0, 4, 0]), 222));
  assert.ok(skipped.ok);
  assert.deepEqual(skipped.message.skipped, [222]);
  assert.deepEqual(skipped.message.encrypted, []);
});

test('SK: an SK payload inside SK is refused', () => {
  const o = openRaw(sealRaw(Uint8Array.from([0, 0, 0, 4, 0]), PayloadType.SK));
  assert.ok(!o.ok && o.reason === 'sk-nested');
});

test('SK must be the last payload; SK too short for IV and ICV', () => {
  const aead = chacha20Poly1305(KEY);
  const wire = encodeMessage(authRequest(), { aead, nextIv: counterIv() });
  // Shorten the SK payload's length by 4 and pretend 4 octets of another payload follow.
  const cut = Uint8Array.from(wire);
  const dv = new DataView(cut.buffer);
  dv.setUint16(30, dv.getUint16(30) - 4);
  const d = decodeMessage(cut);
  assert.ok(!d.ok && d.reason === 'sk-not-last');

  const tiny = new Uint8Array(28 + 4 + 8 + 10);
  tiny.set(wire.subarray(0, 28));
  new DataView(tiny.buffer).setUint32(24, tiny.length);
  tiny[28] = 0;
  new DataView(tiny.buffer).setUint16(30, tiny.length - 28);
  const dt = decodeMessage(tiny);
  assert.ok(dt.ok);
  const o = openMessage(dt.message, aead);
  assert.ok(!o.ok && o.reason === 'sk-truncated');
});

test('openMessage on a message without SK; encodeMessage misuse', () => {
  const m: Message = { spiI: 1n, spiR: 0n, exchangeType: 34, initiator: true, response: false, messageId: 0, payloads: [] };
  const d = decodeMessage(encodeMessage(m));
  assert.ok(d.ok);
  const o = openMessage(d.message, chacha20Poly1305(KEY));
  assert.ok(!o.ok && o.reason === 'sk-missing');
  assert.throws(() => encodeMessage({ ...m, encrypted: [] }), IkeEncodeError);
  const aead = chacha20Poly1305(KEY);
  assert.throws(() => encodeMessage({ ...m, encrypted: [] }, { aead, nextIv: () => new Uint8Array(12) }), IkeEncodeError);
  assert.throws(() => encodeMessage({ ...m, encrypted: [] }, { aead, nextIv: counterIv(), padLength: 256 }), IkeEncodeError);
  const sealed = decodeMessage(encodeMessage({ ...m, encrypted: [] }, { aead, nextIv: counterIv() }));
  assert.ok(sealed.ok);
  assert.throws(() => encodeMessage(sealed.message), IkeEncodeError);
});

test('an Aead that throws is counted as an authentication failure, not thrown', () => {
  const aead = chacha20Poly1305(KEY);
  const d = decodeMessage(encodeMessage(authRequest(), { aead, nextIv: counterIv() }));
  assert.ok(d.ok);
  const throwing = { ...aead, open: () => { throw new Error('boom'); } };
  const o = openMessage(d.message, throwing);
  assert.ok(!o.ok && o.reason === 'sk-auth-failed');
});
