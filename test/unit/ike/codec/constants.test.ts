import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as c from '../../../../src/engine/ike/constants.js';

test('meshgate Vendor ID is the first 16 octets of SHA-256("meshgate-mesh-v1")', () => {
  const digest = createHash('sha256').update(c.MESHGATE_VENDOR_ID_STRING).digest();
  assert.deepEqual(Buffer.from(c.MESHGATE_VENDOR_ID), digest.subarray(0, 16));
});

test('mesh notify types are private-use status types and distinct', () => {
  const values = Object.values(c.MeshNotifyType);
  assert.equal(new Set(values).size, values.length);
  for (const v of values) {
    assert.ok(v >= c.NOTIFY_PRIVATE_STATUS_MIN && v <= c.NOTIFY_PRIVATE_STATUS_MAX, String(v));
    assert.equal(c.isErrorNotify(v), false);
  }
  assert.equal(c.notifyTypeName(c.MeshNotifyType.MESH_SHORTCUT_REQUEST), 'MESH_SHORTCUT_REQUEST');
});

test('IANA numbers that interop depends on', () => {
  assert.equal(c.ExchangeType.IKE_SA_INIT, 34);
  assert.equal(c.ExchangeType.INFORMATIONAL, 37);
  assert.equal(c.PayloadType.SA, 33);
  assert.equal(c.PayloadType.SK, 46);
  assert.equal(c.PayloadType.EAP, 48);
  assert.equal(c.EncrTransformId.ENCR_AES_GCM_16, 20);
  assert.equal(c.EncrTransformId.ENCR_CHACHA20_POLY1305, 28);
  assert.deepEqual([c.DhTransformId.ECP_256, c.DhTransformId.ECP_384, c.DhTransformId.ECP_521, c.DhTransformId.CURVE25519], [19, 20, 21, 31]);
  assert.deepEqual([c.AuthMethod.RSA_DIGITAL_SIGNATURE, c.AuthMethod.SHARED_KEY_MIC, c.AuthMethod.ECDSA_SHA256_P256, c.AuthMethod.DIGITAL_SIGNATURE], [1, 2, 9, 14]);
  assert.equal(c.NotifyType.COOKIE, 16390);
  assert.equal(c.NotifyType.INVALID_KE_PAYLOAD, 17);
  assert.equal(c.NotifyType.IKEV2_FRAGMENTATION_SUPPORTED, 16430);
  assert.equal(c.NotifyType.SIGNATURE_HASH_ALGORITHMS, 16431);
  assert.equal(c.CertEncoding.X509_SIGNATURE, 4);
  assert.deepEqual([c.ProtocolId.IKE, c.ProtocolId.ESP], [1, 3]);
  assert.deepEqual([c.TsType.TS_IPV4_ADDR_RANGE, c.TsType.TS_IPV6_ADDR_RANGE], [7, 8]);
});

test('no two names share a number within a group (lookups stay unambiguous)', () => {
  const groups = { ExchangeType: c.ExchangeType, PayloadType: c.PayloadType, NotifyType: c.NotifyType, EncrTransformId: c.EncrTransformId, PrfTransformId: c.PrfTransformId, IntegTransformId: c.IntegTransformId, DhTransformId: c.DhTransformId, IdType: c.IdType, AuthMethod: c.AuthMethod, CertEncoding: c.CertEncoding, CfgAttributeType: c.CfgAttributeType };
  for (const [name, table] of Object.entries(groups)) {
    const values = Object.values(table as Record<string, number>);
    assert.equal(new Set(values).size, values.length, name);
  }
});

test('error notify types are below 16384, status types from 16384', () => {
  assert.ok(c.isErrorNotify(c.NotifyType.AUTHENTICATION_FAILED));
  assert.ok(c.isErrorNotify(c.NotifyType.CHILD_SA_NOT_FOUND));
  assert.ok(!c.isErrorNotify(c.NotifyType.INITIAL_CONTACT));
  assert.ok(!c.isErrorNotify(c.NotifyType.REKEY_SA));
});

test('name lookups for logs', () => {
  assert.equal(c.exchangeTypeName(35), 'IKE_AUTH');
  assert.equal(c.exchangeTypeName(99), '99');
  assert.equal(c.payloadTypeName(40), 'Nonce');
  assert.equal(c.notifyTypeName(16388), 'NAT_DETECTION_SOURCE_IP');
  assert.equal(c.notifyShortName(16388), 'NATD_S_IP');
  assert.equal(c.notifyShortName(16403), 'AUTH_LIFETIME');
  assert.equal(c.notifyShortName(12345), '12345');
  assert.equal(c.transformIdName(c.TransformType.ENCR, 28), 'ENCR_CHACHA20_POLY1305');
  assert.equal(c.transformIdName(c.TransformType.INTEG, 12), 'AUTH_HMAC_SHA2_256_128');
  assert.equal(c.transformIdName(c.TransformType.DH, 31), 'CURVE25519');
  assert.equal(c.transformIdName(9, 1), '9:1');
  assert.equal(c.authMethodName(14), 'DIGITAL_SIGNATURE');
  assert.equal(c.idTypeName(2), 'ID_FQDN');
  assert.equal(c.protocolIdName(3), 'ESP');
  assert.equal(c.cfgTypeName(1), 'CFG_REQUEST');
  assert.equal(c.tsTypeName(8), 'TS_IPV6_ADDR_RANGE');
});
