/**
 * The formulas that two meshgate ends would agree on even when both got them wrong, checked
 * against an independent computation with node:crypto (they were also checked against
 * strongSwan 5.9 by hand: PSK AUTH, NAT detection, key derivation, rekeys, deletes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { PayloadType, NotifyType } from '../../../src/engine/ike/constants.js';
import { TwoParty } from './harness.js';
import { MESHGATE_NATD_SOURCE } from '../../../src/engine/ike/tasks/util.js';

const hmac = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
};
const be64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

test('PSK AUTH (RFC 7296 2.15): prf(prf(PSK, "Key Pad for IKEv2"), RealMessage | Nonce | prf(SK_p, IDType|000|ID))', () => {
  const h = new TwoParty();
  const { sa } = h.establish();
  const authReq = h.r.received.find((m) => m.exchangeType === 35)!;
  const authResp = h.i.received.find((m) => m.exchangeType === 35)!;
  const psk = new TextEncoder().encode('correct horse battery staple');
  const pad = hmac(psk, new TextEncoder().encode('Key Pad for IKEv2'));
  const idi = authReq.payloads.find((p) => p.type === PayloadType.IDi)!;
  const idr = authResp.payloads.find((p) => p.type === PayloadType.IDr)!;
  assert.ok(idi.type === PayloadType.IDi && idr.type === PayloadType.IDr);
  const body = (id: { idType: number; data: Uint8Array }) => Buffer.concat([Buffer.from([id.idType, 0, 0, 0]), id.data]);
  const expectI = hmac(pad, sa.initRequest!, sa.nonceR!, hmac(sa.keys!.skPi, body(idi)));
  const expectR = hmac(pad, sa.initResponse!, sa.nonceI!, hmac(sa.keys!.skPr, body(idr)));
  const authI = authReq.payloads.find((p) => p.type === PayloadType.AUTH)!;
  const authR = authResp.payloads.find((p) => p.type === PayloadType.AUTH)!;
  assert.ok(authI.type === PayloadType.AUTH && authR.type === PayloadType.AUTH);
  assert.deepEqual(new Uint8Array(authI.data), expectI);
  assert.deepEqual(new Uint8Array(authR.data), expectR);
  assert.equal(authI.method, 2, 'Shared Key Message Integrity Code');
  // RealMessage1 is the IKE_SA_INIT request exactly as sent (header onwards, no non-ESP marker).
  assert.equal(sa.initRequest![17], 0x20, 'IKEv2 version octet at offset 17');
  assert.equal(sa.initRequest![18], 34, 'exchange type IKE_SA_INIT');
});

test('NAT detection (RFC 7296 2.23): SHA-1(SPIi | SPIr | IP | port), SPIr zero in the request; the source hash is forced', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  const req = h.r.received.find((m) => m.exchangeType === 34)!;
  const src = req.payloads.find((p) => p.type === PayloadType.N && p.notifyType === NotifyType.NAT_DETECTION_SOURCE_IP)!;
  const real = req.payloads.find((p) => p.type === PayloadType.N && p.notifyType === MESHGATE_NATD_SOURCE)!;
  const dst = req.payloads.find((p) => p.type === PayloadType.N && p.notifyType === NotifyType.NAT_DETECTION_DESTINATION_IP)!;
  const sha1 = (ip: number[], port: number) => new Uint8Array(createHash('sha1').update(Buffer.concat([be64(req.spiI), be64(0n), Buffer.from(ip), Buffer.from([port >> 8, port & 0xff])])).digest());
  assert.ok(src.type === PayloadType.N && dst.type === PayloadType.N && real.type === PayloadType.N);
  // meshgate has no raw ESP: its source hash never matches (as strongSwan's encap=yes), so a
  // standard peer sees a NAT and keeps ESP in UDP; the true hash goes privately to a meshgate peer.
  assert.equal(src.data.length, 20);
  assert.notDeepEqual(new Uint8Array(src.data), sha1([198, 51, 100, 10], 4500));
  assert.deepEqual(new Uint8Array(real.data), sha1([198, 51, 100, 10], 4500));
  assert.deepEqual(new Uint8Array(dst.data), sha1([192, 0, 2, 1], 4500));
  // The responder knows a meshgate initiator (Vendor ID) and answers with true hashes: no NAT either way.
  const resp = h.i.received.find((m) => m.exchangeType === 34)!;
  const rsrc = resp.payloads.find((p) => p.type === PayloadType.N && p.notifyType === NotifyType.NAT_DETECTION_SOURCE_IP)!;
  assert.ok(rsrc.type === PayloadType.N);
  const sha1r = (ip: number[], port: number) => new Uint8Array(createHash('sha1').update(Buffer.concat([be64(resp.spiI), be64(resp.spiR), Buffer.from(ip), Buffer.from([port >> 8, port & 0xff])])).digest());
  assert.deepEqual(new Uint8Array(rsrc.data), sha1r([192, 0, 2, 1], 4500));
  assert.equal(resp.payloads.some((p) => p.type === PayloadType.N && p.notifyType === MESHGATE_NATD_SOURCE), false);
  assert.deepEqual([sa.natLocal, sa.natRemote, peer.natLocal, peer.natRemote], [false, false, false, false]);
});

test('child KEYMAT wiring (RFC 7296 2.17): prf+(SK_d, Ni | Nr), initiator-to-responder keys first', () => {
  const h = new TwoParty();
  const { sa, peer } = h.establish();
  // Both ends hold the same SK_d and swapped SK_e directions.
  assert.deepEqual(sa.keys!.skD, peer.keys!.skD);
  assert.deepEqual(sa.keys!.skEi, peer.keys!.skEi);
  // Child KEYMAT = prf+(SK_d, Ni | Nr): first block T1 = prf(SK_d, Ni | Nr | 0x01).
  const t1 = hmac(sa.keys!.skD, sa.nonceI!, sa.nonceR!, Uint8Array.of(1));
  const out = h.i.installer.list('out')[0]!; // initiator -> responder keys come first
  const t2 = hmac(sa.keys!.skD, t1, sa.nonceI!, sa.nonceR!, Uint8Array.of(2));
  const keymat = new Uint8Array(Buffer.concat([t1, t2, hmac(sa.keys!.skD, t2, sa.nonceI!, sa.nonceR!, Uint8Array.of(3))]));
  assert.deepEqual(new Uint8Array(out.keyMaterial), keymat.subarray(0, 36), 'ChaCha20 key + salt, initiator to responder');
  const inbound = h.i.installer.list('in')[0]!;
  assert.deepEqual(new Uint8Array(inbound.keyMaterial), keymat.subarray(36, 72), 'then responder to initiator');
});
