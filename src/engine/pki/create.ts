/**
 * Creating a site CA and node certificates signed by it, with @peculiar/x509 on Node's
 * WebCrypto (Ed25519, ECDSA P-256/P-384, RSA 3072). Loaded only by the `pki` command and the
 * /Other/PKI actions: the IKE engine parses and checks certificates with node:crypto alone.
 *
 * Node certificates carry the node's IKE identity in subjectAltName (dNSName for an FQDN,
 * rfc822Name for a user FQDN, iPAddress for an address), basicConstraints CA:FALSE and
 * keyUsage digitalSignature; the CA has basicConstraints CA:TRUE (critical) and keyUsage
 * keyCertSign, cRLSign.
 */
import { randomBytes, webcrypto, createPrivateKey } from 'node:crypto';
type WC = typeof webcrypto;
type GenParams = webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm;
type SignParams = webcrypto.EcdsaParams | webcrypto.Algorithm;
type KeyPair = { publicKey: webcrypto.CryptoKey; privateKey: webcrypto.CryptoKey };
import type { Identity } from '../ike/peer-config.js';
import { PkiError } from './certificate.js';

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-3072';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa-3072'];

export interface PemPair {
  certPem: string;
  /** PKCS#8 PEM, unencrypted: write it with mode 0600 (files.ts). */
  keyPem: string;
}

type X509 = typeof import('@peculiar/x509');
let lib: Promise<X509> | undefined;

/** @peculiar/x509 needs the reflect-metadata polyfill (tsyringe) before it loads. */
function x509(): Promise<X509> {
  lib ??= (async () => {
    await import('reflect-metadata');
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as unknown as Parameters<typeof m.cryptoProvider.set>[0]);
    return m;
  })();
  return lib;
}

function keyParams(alg: KeyAlgorithm): { gen: GenParams; sign: SignParams } {
  switch (alg) {
    case 'ed25519':
      return { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
    case 'ecdsa-p256':
      return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'ecdsa-p384':
      return { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'rsa-3072':
      return {
        gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      };
  }
}

/** The KeyAlgorithm of an existing private key (PEM). */
function algorithmOfKey(keyPem: string): KeyAlgorithm {
  const k = createPrivateKey(keyPem);
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (k.asymmetricKeyType === 'ec' && d.namedCurve === 'prime256v1') return 'ecdsa-p256';
  if (k.asymmetricKeyType === 'ec' && d.namedCurve === 'secp384r1') return 'ecdsa-p384';
  if (k.asymmetricKeyType === 'rsa') return 'rsa-3072';
  throw new PkiError(`CA keys of type ${k.asymmetricKeyType}${d.namedCurve ? ` ${d.namedCurve}` : ''} are not supported`);
}

function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive
  b[0]! |= 0x01; // no leading zero octet
  return b.toString('hex');
}

const NAME_TEXT = /^[A-Za-z0-9 ._@:+-]{1,64}$/;

function checkName(field: string, v: string): void {
  if (!NAME_TEXT.test(v)) throw new PkiError(`${field} '${v}' must be 1-64 characters of letters, digits, space and . _ @ : + -`);
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface CaOptions {
  /** Common name, e.g. 'Example Site CA'. */
  commonName: string;
  organization?: string;
  algorithm?: KeyAlgorithm;
  /** Validity in days from now (default 3650). */
  days?: number;
  /** Override of the validity period (tests: an expired CA). */
  notBefore?: Date;
  notAfter?: Date;
}

export async function createCa(o: CaOptions): Promise<PemPair> {
  checkName('commonName', o.commonName);
  if (o.organization) checkName('organization', o.organization);
  const x = await x509();
  const alg = o.algorithm ?? 'ed25519';
  const p = keyParams(alg);
  const keys = (await webcrypto.subtle.generateKey(p.gen as webcrypto.EcKeyGenParams, true, ['sign', 'verify'])) as unknown as KeyPair;
  const name = new x.Name([{ CN: [o.commonName] }, ...(o.organization ? [{ O: [o.organization] }] : [])]);
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore,
    notAfter: o.notAfter ?? new Date(notBefore.getTime() + (o.days ?? 3650) * 86_400_000),
    signingAlgorithm: p.sign,
    keys,
    extensions: [
      new x.BasicConstraintsExtension(true, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: toPem('PRIVATE KEY', pkcs8) };
}

export interface IssueOptions {
  ca: PemPair;
  /** Subject CN (default: the first identity's value). */
  commonName?: string;
  organization?: string;
  /** The node's IKE identities, written into subjectAltName. */
  identities: Identity[];
  algorithm?: KeyAlgorithm;
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
}

export async function issueCertificate(o: IssueOptions): Promise<PemPair> {
  if (o.identities.length === 0) throw new PkiError('a node certificate needs at least one identity (FQDN, e-mail or address)');
  const cn = o.commonName ?? o.identities[0]!.value;
  checkName('commonName', cn);
  if (o.organization) checkName('organization', o.organization);
  const x = await x509();
  const caCert = new x.X509Certificate(o.ca.certPem);
  const caAlg = algorithmOfKey(o.ca.keyPem);
  const caP = keyParams(caAlg);
  const caKeyDer = createPrivateKey(o.ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, caP.gen as Parameters<WC['subtle']['importKey']>[2], false, ['sign']);
  const alg = o.algorithm ?? caAlg;
  const p = keyParams(alg);
  const keys = (await webcrypto.subtle.generateKey(p.gen as webcrypto.EcKeyGenParams, true, ['sign', 'verify'])) as unknown as KeyPair;
  const san = o.identities.map((id) => {
    switch (id.type) {
      case 'fqdn':
        return { type: 'dns' as const, value: id.value };
      case 'user-fqdn':
        return { type: 'email' as const, value: id.value };
      case 'ipv4':
      case 'ipv6':
        return { type: 'ip' as const, value: id.value };
      default:
        throw new PkiError(`identity type ${id.type} cannot go into a certificate (use FQDN, USER-FQDN, IPv4 or IPv6)`);
    }
  });
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x.Name([{ CN: [cn] }, ...(o.organization ? [{ O: [o.organization] }] : [])]),
    issuer: caCert.subjectName,
    notBefore,
    notAfter: o.notAfter ?? new Date(notBefore.getTime() + (o.days ?? 825) * 86_400_000),
    signingAlgorithm: caP.sign,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
      new x.SubjectAlternativeNameExtension(san),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: toPem('PRIVATE KEY', pkcs8) };
}
