/**
 * Digital signatures for IKEv2 authentication:
 *
 *  - RFC 7427 (AUTH method 14, "Digital Signature"): the AUTH data is
 *      | ASN.1 Length (1) | AlgorithmIdentifier (DER) | Signature Value |
 *    with ECDSA signatures as DER Ecdsa-Sig-Value, RSASSA-PKCS1-v1_5 and RSASSA-PSS with
 *    SHA-2, and Ed25519/Ed448 over the whole signed octets (RFC 8420: "identity" hash).
 *  - the legacy methods, accepted on receipt only: 1 (RSA, PKCS#1 v1.5 with SHA-1,
 *    RFC 7296 section 3.8) and 9/10/11 (ECDSA with SHA-256/384/512 on P-256/384/521,
 *    RFC 4754: r | s fixed-size).
 *
 * Keys are node:crypto KeyObjects; a private key never leaves this module in any form.
 */
import { constants, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { DerError, derChildren, derOid, derParseWhole, derSmallInt, TAG, type DerNode } from './der.js';

export type SignatureScheme =
  | 'ed25519'
  | 'ed448'
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'ecdsa-sha512'
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-sha384'
  | 'rsa-pkcs1-sha512'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'rsa-pss-sha512'
  /** Legacy, receive only. */
  | 'rsa-pkcs1-sha1';

type Hash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** RFC 7427 section 3 hash algorithm numbers (SIGNATURE_HASH_ALGORITHMS). */
export const SIG_HASH = { SHA1: 1, SHA2_256: 2, SHA2_384: 3, SHA2_512: 4, IDENTITY: 5 } as const;
/** What meshgate announces in SIGNATURE_HASH_ALGORITHMS. */
export const SUPPORTED_SIG_HASHES: readonly number[] = [SIG_HASH.SHA2_256, SIG_HASH.SHA2_384, SIG_HASH.SHA2_512, SIG_HASH.IDENTITY];

const OID = {
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  sha1Rsa: '1.2.840.113549.1.1.5',
  sha256Rsa: '1.2.840.113549.1.1.11',
  sha384Rsa: '1.2.840.113549.1.1.12',
  sha512Rsa: '1.2.840.113549.1.1.13',
  pss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

const HASH_OF_OID: Record<string, Hash> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
const HASH_LEN: Record<Hash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

// ---- a few DER builders (short forms only; every structure here is < 128 octets) ----------

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  if (len > 127) throw new DerError('long form not needed here');
  const out = new Uint8Array(2 + len);
  out[0] = tag;
  out[1] = len;
  let o = 2;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const push = (v: number) => {
    const tmp = [v & 0x7f];
    while ((v = Math.floor(v / 128)) > 0) tmp.unshift((v & 0x7f) | 0x80);
    bytes.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Uint8Array.from(bytes));
}

const NULL = Uint8Array.of(TAG.NULL, 0);
const hashAlgId = (h: Hash) => tlv(TAG.SEQUENCE, oid(OID[h]), NULL);

function pssAlgId(h: Hash): Uint8Array {
  const params = tlv(
    TAG.SEQUENCE,
    tlv(0xa0, hashAlgId(h)),
    tlv(0xa1, tlv(TAG.SEQUENCE, oid(OID.mgf1), hashAlgId(h))),
    tlv(0xa2, tlv(TAG.INTEGER, Uint8Array.of(HASH_LEN[h]))),
  );
  return tlv(TAG.SEQUENCE, oid(OID.pss), params);
}

interface SchemeInfo {
  keyType: 'ed25519' | 'ed448' | 'ec' | 'rsa';
  hash: Hash | null;
  pss?: boolean;
  algId: Uint8Array;
  /** RFC 7427 hash number the peer must support. */
  sigHash: number;
}

const SCHEMES: Record<SignatureScheme, SchemeInfo> = {
  ed25519: { keyType: 'ed25519', hash: null, algId: tlv(TAG.SEQUENCE, oid(OID.ed25519)), sigHash: SIG_HASH.IDENTITY },
  ed448: { keyType: 'ed448', hash: null, algId: tlv(TAG.SEQUENCE, oid(OID.ed448)), sigHash: SIG_HASH.IDENTITY },
  'ecdsa-sha256': { keyType: 'ec', hash: 'sha256', algId: tlv(TAG.SEQUENCE, oid(OID.ecdsaSha256)), sigHash: SIG_HASH.SHA2_256 },
  'ecdsa-sha384': { keyType: 'ec', hash: 'sha384', algId: tlv(TAG.SEQUENCE, oid(OID.ecdsaSha384)), sigHash: SIG_HASH.SHA2_384 },
  'ecdsa-sha512': { keyType: 'ec', hash: 'sha512', algId: tlv(TAG.SEQUENCE, oid(OID.ecdsaSha512)), sigHash: SIG_HASH.SHA2_512 },
  'rsa-pkcs1-sha1': { keyType: 'rsa', hash: 'sha1', algId: tlv(TAG.SEQUENCE, oid(OID.sha1Rsa), NULL), sigHash: SIG_HASH.SHA1 },
  'rsa-pkcs1-sha256': { keyType: 'rsa', hash: 'sha256', algId: tlv(TAG.SEQUENCE, oid(OID.sha256Rsa), NULL), sigHash: SIG_HASH.SHA2_256 },
  'rsa-pkcs1-sha384': { keyType: 'rsa', hash: 'sha384', algId: tlv(TAG.SEQUENCE, oid(OID.sha384Rsa), NULL), sigHash: SIG_HASH.SHA2_384 },
  'rsa-pkcs1-sha512': { keyType: 'rsa', hash: 'sha512', algId: tlv(TAG.SEQUENCE, oid(OID.sha512Rsa), NULL), sigHash: SIG_HASH.SHA2_512 },
  'rsa-pss-sha256': { keyType: 'rsa', hash: 'sha256', pss: true, algId: pssAlgId('sha256'), sigHash: SIG_HASH.SHA2_256 },
  'rsa-pss-sha384': { keyType: 'rsa', hash: 'sha384', pss: true, algId: pssAlgId('sha384'), sigHash: SIG_HASH.SHA2_384 },
  'rsa-pss-sha512': { keyType: 'rsa', hash: 'sha512', pss: true, algId: pssAlgId('sha512'), sigHash: SIG_HASH.SHA2_512 },
};

/** The DER AlgorithmIdentifier of a scheme (RFC 7427 appendix A). */
export function algorithmIdentifier(scheme: SignatureScheme): Uint8Array {
  return SCHEMES[scheme].algId;
}

export function schemeHashNumber(scheme: SignatureScheme): number {
  return SCHEMES[scheme].sigHash;
}

/** A parsed AlgorithmIdentifier: the scheme and, for PSS, its salt length. */
export interface ParsedAlgorithm {
  scheme: SignatureScheme;
  saltLength?: number;
}

/** Parses an AlgorithmIdentifier; undefined for algorithms meshgate does not verify. Throws DerError when malformed. */
export function parseAlgorithmIdentifier(der: Uint8Array): ParsedAlgorithm | undefined {
  const seq = derParseWhole(der);
  if (seq.tag !== TAG.SEQUENCE) throw new DerError('AlgorithmIdentifier is not a SEQUENCE');
  const [o, params, ...rest] = derChildren(seq);
  if (!o || rest.length) throw new DerError('AlgorithmIdentifier has the wrong number of elements');
  const id = derOid(o);
  const nullOrAbsent = !params || (params.tag === TAG.NULL && params.end === params.contentStart);
  switch (id) {
    case OID.ed25519:
      return params ? undefined : { scheme: 'ed25519' };
    case OID.ed448:
      return params ? undefined : { scheme: 'ed448' };
    case OID.ecdsaSha256:
      return params ? undefined : { scheme: 'ecdsa-sha256' };
    case OID.ecdsaSha384:
      return params ? undefined : { scheme: 'ecdsa-sha384' };
    case OID.ecdsaSha512:
      return params ? undefined : { scheme: 'ecdsa-sha512' };
    case OID.sha256Rsa:
      return nullOrAbsent ? { scheme: 'rsa-pkcs1-sha256' } : undefined;
    case OID.sha384Rsa:
      return nullOrAbsent ? { scheme: 'rsa-pkcs1-sha384' } : undefined;
    case OID.sha512Rsa:
      return nullOrAbsent ? { scheme: 'rsa-pkcs1-sha512' } : undefined;
    case OID.pss:
      return params ? parsePss(params) : undefined;
    default:
      return undefined;
  }
}

/** RSASSA-PSS-params (RFC 4055): SHA-2 only, MGF1 with the same hash, trailer field 1. */
function parsePss(params: DerNode): ParsedAlgorithm | undefined {
  if (params.tag !== TAG.SEQUENCE) throw new DerError('RSASSA-PSS-params is not a SEQUENCE');
  let hash: Hash = 'sha1';
  let mgfHash: Hash = 'sha1';
  let salt = 20;
  for (const f of derChildren(params)) {
    const [inner] = derChildren(f);
    if (!inner) throw new DerError('empty PSS parameter');
    if (f.tag === 0xa0) {
      const h = HASH_OF_OID[derOid(derChildren(inner)[0]!)];
      if (!h) return undefined;
      hash = h;
    } else if (f.tag === 0xa1) {
      const [mo, mp] = derChildren(inner);
      if (!mo || derOid(mo) !== OID.mgf1 || !mp) return undefined;
      const h = HASH_OF_OID[derOid(derChildren(mp)[0]!)];
      if (!h) return undefined;
      mgfHash = h;
    } else if (f.tag === 0xa2) {
      salt = derSmallInt(inner);
    } else if (f.tag === 0xa3) {
      if (derSmallInt(inner) !== 1) return undefined;
    } else throw new DerError('unknown PSS parameter');
  }
  if (hash === 'sha1' || mgfHash !== hash || salt > 512) return undefined;
  return { scheme: `rsa-pss-${hash}` as SignatureScheme, saltLength: salt };
}

/** The key type as node names it, with the curve for EC keys. */
export function keyKind(key: KeyObject): { type: string; curve?: string; bits?: number } {
  const type = key.asymmetricKeyType ?? 'unknown';
  const d = key.asymmetricKeyDetails ?? {};
  return { type, ...(d.namedCurve ? { curve: d.namedCurve } : {}), ...(d.modulusLength ? { bits: d.modulusLength } : {}) };
}

/** The scheme meshgate signs with for a key: Ed25519, ECDSA with the curve's hash, RSA PKCS#1 v1.5 SHA-256. */
export function defaultScheme(key: KeyObject): SignatureScheme {
  const k = keyKind(key);
  switch (k.type) {
    case 'ed25519':
      return 'ed25519';
    case 'ed448':
      return 'ed448';
    case 'ec':
      return k.curve === 'secp384r1' ? 'ecdsa-sha384' : k.curve === 'secp521r1' ? 'ecdsa-sha512' : 'ecdsa-sha256';
    case 'rsa':
      return 'rsa-pkcs1-sha256';
    default:
      throw new DerError(`keys of type ${k.type} cannot sign IKE AUTH`);
  }
}

function keyFits(scheme: SignatureScheme, key: KeyObject): boolean {
  const want = SCHEMES[scheme].keyType;
  const have = key.asymmetricKeyType;
  return want === have || (want === 'rsa' && have === 'rsa-pss');
}

export function sign(scheme: SignatureScheme, key: KeyObject, data: Uint8Array): Uint8Array {
  const s = SCHEMES[scheme];
  if (!keyFits(scheme, key)) throw new DerError(`a ${key.asymmetricKeyType} key cannot make ${scheme} signatures`);
  if (s.keyType === 'ed25519' || s.keyType === 'ed448') return new Uint8Array(nodeSign(null, data, key));
  if (s.keyType === 'ec') return new Uint8Array(nodeSign(s.hash!, data, { key, dsaEncoding: 'der' }));
  if (s.pss) return new Uint8Array(nodeSign(s.hash!, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[s.hash!] }));
  return new Uint8Array(nodeSign(s.hash!, data, { key, padding: constants.RSA_PKCS1_PADDING }));
}

/** Verifies; false (never throws) for a wrong key type, a malformed or a wrong signature. */
export function verify(alg: ParsedAlgorithm, key: KeyObject, data: Uint8Array, signature: Uint8Array, dsaEncoding: 'der' | 'ieee-p1363' = 'der'): boolean {
  const s = SCHEMES[alg.scheme];
  if (!keyFits(alg.scheme, key) || signature.length === 0) return false;
  try {
    if (s.keyType === 'ed25519' || s.keyType === 'ed448') return nodeVerify(null, data, key, signature);
    if (s.keyType === 'ec') return nodeVerify(s.hash!, data, { key, dsaEncoding }, signature);
    if (s.pss) return nodeVerify(s.hash!, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? HASH_LEN[s.hash!] }, signature);
    return nodeVerify(s.hash!, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}

/** AUTH data of method 14: length | AlgorithmIdentifier | signature. */
export function encodeSignatureAuth(scheme: SignatureScheme, signature: Uint8Array): Uint8Array {
  const algId = SCHEMES[scheme].algId;
  const out = new Uint8Array(1 + algId.length + signature.length);
  out[0] = algId.length;
  out.set(algId, 1);
  out.set(signature, 1 + algId.length);
  return out;
}

/** Splits AUTH data of method 14; a reason when malformed or of an algorithm meshgate does not verify. */
export function decodeSignatureAuth(data: Uint8Array): { ok: true; alg: ParsedAlgorithm; signature: Uint8Array } | { ok: false; reason: string } {
  if (data.length < 2) return { ok: false, reason: 'AUTH data too short' };
  const len = data[0]!;
  if (len === 0 || 1 + len >= data.length) return { ok: false, reason: 'AlgorithmIdentifier length out of range' };
  let alg: ParsedAlgorithm | undefined;
  try {
    alg = parseAlgorithmIdentifier(data.subarray(1, 1 + len));
  } catch (e) {
    return { ok: false, reason: `malformed AlgorithmIdentifier: ${(e as Error).message}` };
  }
  if (!alg) return { ok: false, reason: 'signature algorithm not supported' };
  return { ok: true, alg, signature: data.subarray(1 + len) };
}

/** The legacy AUTH methods: 1 (RSA SHA-1), 9/10/11 (ECDSA, RFC 4754). */
export function legacyAlgorithm(method: number): { alg: ParsedAlgorithm; dsaEncoding: 'der' | 'ieee-p1363'; curve?: string } | undefined {
  switch (method) {
    case 1:
      return { alg: { scheme: 'rsa-pkcs1-sha1' }, dsaEncoding: 'der' };
    case 9:
      return { alg: { scheme: 'ecdsa-sha256' }, dsaEncoding: 'ieee-p1363', curve: 'prime256v1' };
    case 10:
      return { alg: { scheme: 'ecdsa-sha384' }, dsaEncoding: 'ieee-p1363', curve: 'secp384r1' };
    case 11:
      return { alg: { scheme: 'ecdsa-sha512' }, dsaEncoding: 'ieee-p1363', curve: 'secp521r1' };
    default:
      return undefined;
  }
}

