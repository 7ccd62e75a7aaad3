/** The PKI: credentials and trust for certificate authentication; creation is in create.ts (lazy). */
export {
  PkiError,
  certificateMatchesIdentity,
  loadCredential,
  parseCertificates,
  spkiKeyId,
  subjectDer,
  subjectText,
  summarize,
  trustStore,
  validity,
  verifyPeerCertificate,
  type CertCheck,
  type CertificateSummary,
  type Credential,
  type TrustStore,
} from './certificate.js';
export { loadCredentialFiles, loadPemPair, loadTrustFile, resolvePath, savePemPair } from './files.js';
export type { CaOptions, IssueOptions, KeyAlgorithm, PemPair } from './create.js';
