/**
 * Certificates for IKE authentication, parsed and checked with node:crypto's X509Certificate:
 * own credentials (certificate + private key), the site CA as trust anchor, CERTREQ key ids,
 * and the check of a peer's certificate against the site CA (signature, validity period,
 * basicConstraints CA on every issuer, the peer's IKE identity in the SAN or subject).
 *
 * Creating certificates needs an ASN.1 writer and lives in create.ts (lazily loaded).
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { DerError, derChildren, derBytes, derParseWhole } from '../crypto/der.js';
import { defaultScheme, keyKind, type SignatureScheme } from '../crypto/signature.js';
import type { Identity } from '../ike/peer-config.js';

export class PkiError extends Error {
  override name = 'PkiError';
}

/** This end's certificate and private key. The key is a KeyObject: it prints as nothing. */
export interface Credential {
  cert: X509Certificate;
  /** DER of `cert` (the CERT payload). */
  der: Uint8Array;
  /** Intermediate CA certificates (DER) sent after the own certificate. */
  chain: Uint8Array[];
  key: KeyObject;
  /** The signature scheme used for AUTH (from the key type). */
  scheme: SignatureScheme;
}

/** The CA certificates a peer's certificate must chain to. */
export interface TrustStore {
  cas: X509Certificate[];
  /** SHA-1 of each CA's SubjectPublicKeyInfo: the CERTREQ content (RFC 7296 section 3.7). */
  keyIds: Uint8Array[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text (or one DER certificate). */
export function parseCertificates(input: string | Uint8Array): X509Certificate[] {
  if (typeof input !== 'string') {
    const text = Buffer.from(input).toString('latin1');
    if (!text.includes('-----BEGIN')) return [parseOne(input)];
    input = text;
  }
  const blocks = input.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new PkiError('no PEM certificate found');
  return blocks.map((b) => parseOne(b));
}

function parseOne(x: string | Uint8Array): X509Certificate {
  try {
    return new X509Certificate(typeof x === 'string' ? x : Buffer.from(x));
  } catch (e) {
    throw new PkiError(`certificate does not parse: ${(e as Error).message}`);
  }
}

/** SHA-1 of the SubjectPublicKeyInfo (CERTREQ, strongSwan's keyid). */
export function spkiKeyId(cert: X509Certificate): Uint8Array {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return new Uint8Array(createHash('sha1').update(spki).digest());
}

export function trustStore(cas: X509Certificate[]): TrustStore {
  for (const ca of cas) if (!ca.ca) throw new PkiError(`${ca.subject.replace(/\n/g, ', ')} is not a CA certificate (basicConstraints CA is not set)`);
  return withJson({ cas, keyIds: cas.map(spkiKeyId) }, () => ({ cas: cas.map((c) => c.fingerprint256) }));
}

/**
 * JSON of credentials and trust stores: fingerprints only (configs are compared and logged
 * as JSON; a key never serialises, and certificates only by fingerprint).
 */
function withJson<T extends object>(o: T, json: () => unknown): T {
  Object.defineProperty(o, 'toJSON', { value: json, enumerable: false });
  return o;
}

/** An own credential from a certificate (PEM, possibly followed by intermediates) and a private key (PEM/DER PKCS#8). */
export function loadCredential(certPem: string | Uint8Array, keyPem: string | Uint8Array): Credential {
  const [cert, ...intermediates] = parseCertificates(certPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(typeof keyPem === 'string' ? keyPem : { key: Buffer.from(keyPem), format: Buffer.from(keyPem).toString('latin1').includes('-----BEGIN') ? 'pem' : 'der', type: 'pkcs8' });
  } catch (e) {
    // The message of node:crypto names the format problem, never the key.
    throw new PkiError(`private key does not parse: ${(e as Error).message}`);
  }
  const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(pub).equals(cert!.publicKey.export({ type: 'spki', format: 'der' }))) throw new PkiError('the private key does not belong to the certificate');
  let scheme: SignatureScheme;
  try {
    scheme = defaultScheme(key);
  } catch (e) {
    throw new PkiError((e as Error).message);
  }
  const chain = intermediates.map((c) => new Uint8Array(c.raw));
  return withJson({ cert: cert!, der: new Uint8Array(cert!.raw), chain, key, scheme }, () => ({ certificate: cert!.fingerprint256, chain: intermediates.map((c) => c.fingerprint256), scheme }));
}

/** The DER of a certificate's subject Name (compared with an ID_DER_ASN1_DN identity). */
export function subjectDer(cert: X509Certificate | Uint8Array): Uint8Array {
  const raw = cert instanceof Uint8Array ? cert : new Uint8Array(cert.raw);
  const top = derParseWhole(raw);
  const tbs = derChildren(top)[0];
  if (!tbs) throw new DerError('certificate without tbsCertificate');
  const f = derChildren(tbs);
  // [0] version is optional (v1 certificates); then serial, signature, issuer, validity, subject.
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const subject = f[i + 4];
  if (!subject) throw new DerError('tbsCertificate without subject');
  return derBytes(subject);
}

export function validity(cert: X509Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Whether the certificate names the identity in its subjectAltName (or, without one of that kind, subject CN/E). */
export function certificateMatchesIdentity(cert: X509Certificate, id: Identity): boolean {
  switch (id.type) {
    case 'fqdn':
      return cert.checkHost(id.value, { wildcards: false, subject: 'default' }) !== undefined;
    case 'user-fqdn':
      return cert.checkEmail(id.value, { subject: 'default' }) !== undefined;
    case 'ipv4':
    case 'ipv6':
      return cert.checkIP(id.value) !== undefined;
    default:
      return false;
  }
}

export type CertCheck = { ok: true; cert: X509Certificate; publicKey: KeyObject; issuer: X509Certificate } | { ok: false; reason: string };

/** A one-line name of a certificate's subject. */
export function subjectText(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

function inValidity(cert: X509Certificate, now: number): string | undefined {
  const { notBefore, notAfter } = validity(cert);
  if (!(now >= notBefore.getTime())) return `certificate ${subjectText(cert)} is not valid before ${notBefore.toISOString()}`;
  if (!(now <= notAfter.getTime())) return `certificate ${subjectText(cert)} expired on ${notAfter.toISOString()}`;
  return undefined;
}

/** At most this many intermediates between the peer's certificate and the site CA. */
const MAX_CHAIN = 4;

/**
 * Checks a peer's certificate (DER) against the trust store: a path to one of the CAs
 * through at most MAX_CHAIN intermediates (each a CA certificate, each signature valid),
 * every certificate on it within its validity period at `now` (ms since the epoch).
 * With `identity` (and `checkIdentity`), the leaf must name that identity.
 */
export function verifyPeerCertificate(leafDer: Uint8Array, intermediatesDer: Uint8Array[], trust: TrustStore, now: number, identity?: { id: Identity | undefined; dnDer?: Uint8Array }): CertCheck {
  const key = chainKey(leafDer, intermediatesDer);
  let path = pathCache.get(key)?.get(trust);
  if (!path) {
    const built = buildPath(leafDer, intermediatesDer, trust);
    if (!built.ok) return built;
    path = built.path;
    let byTrust = pathCache.get(key);
    if (!byTrust) {
      if (pathCache.size >= PATH_CACHE_MAX) pathCache.delete(pathCache.keys().next().value!);
      pathCache.set(key, (byTrust = new WeakMap()));
    }
    byTrust.set(trust, path);
  }
  const leaf = path[0]!;
  const leafBad = inValidity(leaf, now);
  if (leafBad) return { ok: false, reason: leafBad };
  if (identity) {
    const { id, dnDer } = identity;
    let named = false;
    if (dnDer) {
      try {
        named = Buffer.from(subjectDer(leaf)).equals(Buffer.from(dnDer));
      } catch {
        named = false;
      }
    } else if (id) named = certificateMatchesIdentity(leaf, id);
    if (!named) return { ok: false, reason: `peer certificate ${subjectText(leaf)} does not name the identity ${id ? `${id.type}:${id.value}` : 'the peer sent (DN)'}` };
  }
  for (let i = 1; i < path.length; i++) {
    const bad = inValidity(path[i]!, now);
    if (bad) return { ok: false, reason: `${i === path.length - 1 ? 'site CA' : 'intermediate CA'}: ${bad}` };
  }
  return { ok: true, cert: leaf, publicKey: publicKeyOf(leaf), issuer: path[path.length - 1]! };
}

/**
 * Verified paths (leaf, intermediates, anchor) by the certificates' bytes and trust store:
 * the signatures of a path are checked once; validity and identity at every use. A new CA
 * file is a new TrustStore object, so its paths are checked afresh.
 */
const PATH_CACHE_MAX = 4096;
const pathCache = new Map<string, WeakMap<TrustStore, X509Certificate[]>>();
const publicKeys = new WeakMap<X509Certificate, KeyObject>();

function publicKeyOf(c: X509Certificate): KeyObject {
  let k = publicKeys.get(c);
  if (!k) publicKeys.set(c, (k = c.publicKey));
  return k;
}

function chainKey(leaf: Uint8Array, rest: Uint8Array[]): string {
  const h = createHash('sha256').update(leaf);
  for (const r of rest) h.update(Uint8Array.of(0)).update(r);
  return h.digest('base64');
}

/** The signature path from the leaf to a trust anchor (validity is checked by the caller). */
function buildPath(leafDer: Uint8Array, intermediatesDer: Uint8Array[], trust: TrustStore): { ok: true; path: X509Certificate[] } | { ok: false; reason: string } {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(Buffer.from(leafDer));
  } catch {
    return { ok: false, reason: 'peer certificate does not parse' };
  }
  const pool: X509Certificate[] = [];
  for (const d of intermediatesDer.slice(0, MAX_CHAIN * 2)) {
    try {
      const c = new X509Certificate(Buffer.from(d));
      if (c.ca) pool.push(c);
    } catch {
      /* an unusable extra certificate is ignored */
    }
  }
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= MAX_CHAIN; depth++) {
    const anchor = trust.cas.find((ca) => current.checkIssued(ca) && safeVerify(current, ca));
    if (anchor) return { ok: true, path: [...path, anchor] };
    const next = pool.find((c) => !path.includes(c) && current.checkIssued(c) && safeVerify(current, c));
    if (!next) break;
    path.push(next);
    current = next;
  }
  return { ok: false, reason: `peer certificate ${subjectText(leaf)} (issuer ${leaf.issuer.split('\n').join(', ')}) is not signed by the site CA` };
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return issuer.ca && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** What `show` prints of a certificate: never anything of a private key. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  altNames: string;
  key: string;
  ca: boolean;
  fingerprint: string;
}

export function summarize(cert: X509Certificate): CertificateSummary {
  const k = keyKind(cert.publicKey);
  const { notBefore, notAfter } = validity(cert);
  return {
    subject: subjectText(cert),
    issuer: cert.issuer.split('\n').join(', '),
    serial: cert.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    altNames: cert.subjectAltName ?? '',
    key: k.type === 'ec' ? `ECDSA ${k.curve}` : k.type === 'rsa' ? `RSA ${k.bits}` : k.type === 'ed25519' ? 'Ed25519' : k.type,
    ca: cert.ca,
    fingerprint: `SHA256:${cert.fingerprint256}`,
  };
}
