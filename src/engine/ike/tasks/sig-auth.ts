/**
 * Certificate authentication in IKE_AUTH (RFC 7296 sections 2.15, 3.6, 3.7; RFC 7427;
 * RFC 8420):
 *
 *   SignedOctets = RealMessage | Nonce of the peer | prf(SK_p, RestOfIDPayload)
 *   AUTH (method 14) = len | AlgorithmIdentifier | signature over SignedOctets
 *
 * CERT carries the DER certificate (encoding 4, X.509 Certificate - Signature); CERTREQ the
 * SHA-1 hashes of the trusted CAs' SubjectPublicKeyInfo. SIGNATURE_HASH_ALGORITHMS (RFC 7427
 * section 4) goes into IKE_SA_INIT: by an initiator whose peer config uses certificates, by a
 * responder whenever the initiator sent it.
 */
import { decodeMessage } from '../codec/message.js';
import type { AuthPayload, IdPayload, Message } from '../codec/types.js';
import { AuthMethod, CertEncoding, IdType, NotifyType, PayloadType } from '../constants.js';
import type { IkeSa } from '../ike-sa.js';
import { all, concatBytes, findNotify, notifyPayload } from '../message.js';
import type { Identity, PeerConfig } from '../peer-config.js';
import {
  SIG_HASH,
  SUPPORTED_SIG_HASHES,
  decodeSignatureAuth,
  encodeSignatureAuth,
  keyKind,
  legacyAlgorithm,
  schemeHashNumber,
  sign,
  verify,
  type SignatureScheme,
} from '../../crypto/signature.js';
import { verifyPeerCertificate, type Credential } from '../../pki/certificate.js';
import { idBody } from './util.js';

/** RFC 7296 section 2.15: the octets a signature (or the PSK MAC) covers. */
export function signedOctets(sa: IkeSa, ofInitiator: boolean, id: IdPayload): Uint8Array {
  const real = ofInitiator ? sa.initRequest! : sa.initResponse!;
  const nonce = ofInitiator ? sa.nonceR! : sa.nonceI!;
  const skP = ofInitiator ? sa.keys!.skPi : sa.keys!.skPr;
  return concatBytes(real, nonce, sa.prf!.compute(skP, idBody(id)));
}

function hashList(data: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

/** The hash algorithms the peer announced in IKE_SA_INIT; undefined when it sent none. */
export function peerSignatureHashes(sa: IkeSa): number[] | undefined {
  const raw = sa.initiator ? sa.initResponse : sa.initRequest;
  if (!raw) return undefined;
  const d = decodeMessage(raw);
  if (!d.ok) return undefined;
  const n = findNotify(d.message, NotifyType.SIGNATURE_HASH_ALGORITHMS);
  return n ? hashList(n.data) : undefined;
}

function hashData(list: readonly number[]): Uint8Array {
  const out = new Uint8Array(list.length * 2);
  list.forEach((h, i) => {
    out[2 * i] = h >>> 8;
    out[2 * i + 1] = h & 0xff;
  });
  return out;
}

/** IKE_SA_INIT: N(SIGNATURE_HASH_ALGORITHMS), and a responder's CERTREQ for the CAs it trusts. */
export function addInitAuthPayloads(sa: IkeSa, m: Message): void {
  if (sa.initiator) {
    const a = sa.config?.auth;
    if (a && (a.method === 'cert' || a.remoteMethod === 'cert')) m.payloads.push(notifyPayload(NotifyType.SIGNATURE_HASH_ALGORITHMS, hashData(SUPPORTED_SIG_HASHES)));
    return;
  }
  if (peerSignatureHashes(sa) === undefined) return;
  m.payloads.push(notifyPayload(NotifyType.SIGNATURE_HASH_ALGORITHMS, hashData(SUPPORTED_SIG_HASHES)));
  const ids = sa.ctx.hooks?.certRequestKeyIds?.(sa.remote) ?? [];
  if (ids.length) m.payloads.push({ type: PayloadType.CERTREQ, encoding: CertEncoding.X509_SIGNATURE, data: concatBytes(...ids) });
}

/** CERT payloads of an own credential: the certificate, then intermediates (at most 8 in all). */
export function certPayloads(c: Credential): Message['payloads'] {
  return [c.der, ...c.chain.slice(0, 7)].map((data) => ({ type: PayloadType.CERT, encoding: CertEncoding.X509_SIGNATURE, data }));
}

/** CERTREQ of a peer config that expects the peer's certificate. */
export function certReqPayload(cfg: PeerConfig): Message['payloads'] {
  const ids = cfg.auth.trust?.keyIds ?? [];
  return cfg.auth.remoteMethod === 'cert' && ids.length ? [{ type: PayloadType.CERTREQ, encoding: CertEncoding.X509_SIGNATURE, data: concatBytes(...ids) }] : [];
}

/**
 * The scheme to sign with: the credential's, moved to another SHA-2 hash when the peer
 * announced hashes that exclude it (RSA and ECDSA can use any of them).
 */
function chooseScheme(c: Credential, peer: number[] | undefined): SignatureScheme {
  if (!peer || peer.includes(schemeHashNumber(c.scheme))) return c.scheme;
  const kind = keyKind(c.key).type;
  const prefix = kind === 'ec' ? 'ecdsa' : kind === 'rsa' ? 'rsa-pkcs1' : undefined;
  if (!prefix) return c.scheme;
  for (const [h, name] of [
    [SIG_HASH.SHA2_256, 'sha256'],
    [SIG_HASH.SHA2_384, 'sha384'],
    [SIG_HASH.SHA2_512, 'sha512'],
  ] as const) {
    if (peer.includes(h)) return `${prefix}-${name}` as SignatureScheme;
  }
  return c.scheme;
}

/** Our AUTH payload by signature over the signed octets of our side. */
export function signatureAuthPayload(sa: IkeSa, c: Credential, id: IdPayload): AuthPayload {
  const octets = signedOctets(sa, sa.initiator, id);
  const scheme = chooseScheme(c, peerSignatureHashes(sa));
  return { type: PayloadType.AUTH, method: AuthMethod.DIGITAL_SIGNATURE, data: encodeSignatureAuth(scheme, sign(scheme, c.key, octets)) };
}

export const SIGNATURE_AUTH_METHODS: ReadonlySet<number> = new Set([
  AuthMethod.DIGITAL_SIGNATURE,
  AuthMethod.RSA_DIGITAL_SIGNATURE,
  AuthMethod.ECDSA_SHA256_P256,
  AuthMethod.ECDSA_SHA384_P384,
  AuthMethod.ECDSA_SHA512_P521,
]);

export type SigCheck = { ok: true; subject: string } | { ok: false; reason: string; counter: string };

/**
 * Verifies the peer's AUTH by signature: its CERT chains to the config's site CA, names the
 * identity of its ID payload (unless Remote-Cert-ID-Check is off), and its key signed the
 * peer's signed octets with a supported algorithm.
 */
export function verifySignatureAuth(sa: IkeSa, m: Message, cfg: PeerConfig, id: IdPayload, identity: Identity | undefined, auth: AuthPayload): SigCheck {
  const trust = cfg.auth.trust;
  if (!trust) return { ok: false, reason: 'no site CA configured for the peer', counter: 'auth-no-trust' };
  if (!SIGNATURE_AUTH_METHODS.has(auth.method)) return { ok: false, reason: `peer used AUTH method ${auth.method}, a signature is required`, counter: 'auth-method-mismatch' };
  const certs = all(m, PayloadType.CERT).filter((c) => c.encoding === CertEncoding.X509_SIGNATURE);
  if (certs.length === 0) return { ok: false, reason: 'peer sent no X.509 certificate (CERT)', counter: 'auth-no-cert' };
  const idCheck = cfg.auth.remoteCertIdCheck ? (id.idType === IdType.ID_DER_ASN1_DN ? { id: identity, dnDer: id.data } : { id: identity }) : undefined;
  if (idCheck && !idCheck.dnDer && !identity) return { ok: false, reason: `peer identity of type ${id.idType} cannot be matched with its certificate`, counter: 'auth-cert-id-mismatch' };
  const chk = verifyPeerCertificate(certs[0]!.data, certs.slice(1).map((c) => c.data), trust, sa.ctx.clock.wallTime().getTime(), idCheck);
  if (!chk.ok) return { ok: false, reason: chk.reason, counter: /expired|not valid before/.test(chk.reason) ? 'auth-cert-expired' : /does not name/.test(chk.reason) ? 'auth-cert-id-mismatch' : 'auth-cert-untrusted' };
  const octets = signedOctets(sa, !sa.initiator, id);
  let ok: boolean;
  if (auth.method === AuthMethod.DIGITAL_SIGNATURE) {
    const d = decodeSignatureAuth(auth.data);
    if (!d.ok) return { ok: false, reason: d.reason, counter: 'auth-malformed' };
    ok = verify(d.alg, chk.publicKey, octets, d.signature);
  } else {
    const legacy = legacyAlgorithm(auth.method)!;
    const k = keyKind(chk.publicKey);
    ok = (!legacy.curve || k.curve === legacy.curve) && verify(legacy.alg, chk.publicKey, octets, auth.data, legacy.dsaEncoding);
  }
  const subject = chk.cert.subject.split('\n').join(', ');
  return ok ? { ok: true, subject } : { ok: false, reason: `signature of ${subject} does not verify`, counter: 'auth-failed' };
}
