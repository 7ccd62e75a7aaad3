/**
 * IKEv2 wire constants: the IANA numbers of the "Internet Key Exchange Version 2 (IKEv2)
 * Parameters" registry that RFC 7296 and its extensions define, plus meshgate's own numbers
 * from the private-use ranges. Each group cites the section that defines it.
 *
 * Every group is a frozen `as const` object (name -> number) with a matching numeric type,
 * and a `*Name(n)` lookup for logs that answers the RFC name, or the number for values the
 * table does not know.
 */

type ValueOf<T> = T[keyof T];

/** Builds number -> name from a name -> number table (the first name wins on duplicates). */
function invert(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) if (!names.has(value)) names.set(value, name);
  return names;
}

function lookup(names: ReadonlyMap<number, string>, value: number): string {
  return names.get(value) ?? String(value);
}

/** RFC 7296 section 3.1: the major version this implementation speaks (the minor is 0). */
export const IKE_MAJOR_VERSION = 2;
export const IKE_MINOR_VERSION = 0;

/** RFC 7296 section 3.1: header flags. */
export const HeaderFlag = {
  /** Initiator: set in messages sent by the original initiator of the IKE SA. */
  INITIATOR: 0x08,
  /** Version: the sender can speak a higher major version. Never set by meshgate. */
  VERSION: 0x10,
  /** Response: this message is a response to a message with the same Message ID. */
  RESPONSE: 0x20,
} as const;

/** RFC 7296 section 3.1 exchange types; 43 from RFC 9242, 44 from RFC 9370. */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
  /** RFC 5723 session resumption (not implemented). */
  IKE_SESSION_RESUME: 38,
  /** RFC 9242 (not implemented). */
  IKE_INTERMEDIATE: 43,
  /** RFC 9370 (not implemented). */
  IKE_FOLLOWUP_KE: 44,
} as const;
export type ExchangeType = ValueOf<typeof ExchangeType>;
const exchangeTypeNames = invert(ExchangeType);
export const exchangeTypeName = (n: number): string => lookup(exchangeTypeNames, n);

/**
 * RFC 7296 section 3.2 payload types (the "Next Payload" values). The identifiers are the
 * RFC's own notation (section 1.2 onwards): SA, KE, IDi, IDr, CERT, CERTREQ, AUTH, Nonce
 * (written Ni/Nr), N, D, V, TSi, TSr, SK, CP, EAP.
 */
export const PayloadType = {
  /** No Next Payload. */
  NONE: 0,
  /** Security Association, section 3.3. */
  SA: 33,
  /** Key Exchange, section 3.4. */
  KE: 34,
  /** Identification - Initiator, section 3.5. */
  IDi: 35,
  /** Identification - Responder, section 3.5. */
  IDr: 36,
  /** Certificate, section 3.6. */
  CERT: 37,
  /** Certificate Request, section 3.7. */
  CERTREQ: 38,
  /** Authentication, section 3.8. */
  AUTH: 39,
  /** Nonce (Ni, Nr), section 3.9. */
  Nonce: 40,
  /** Notify, section 3.10. */
  N: 41,
  /** Delete, section 3.11. */
  D: 42,
  /** Vendor ID, section 3.12. */
  V: 43,
  /** Traffic Selector - Initiator, section 3.13. */
  TSi: 44,
  /** Traffic Selector - Responder, section 3.13. */
  TSr: 45,
  /** Encrypted and Authenticated, section 3.14. */
  SK: 46,
  /** Configuration, section 3.15. */
  CP: 47,
  /** Extensible Authentication, section 3.16 (meshgate rejects EAP). */
  EAP: 48,
  /** RFC 6467 Generic Secure Password Methods (not implemented). */
  GSPM: 49,
  /** RFC 7383 Encrypted and Authenticated Fragment (not implemented). */
  SKF: 53,
  /** RFC 8019 Puzzle Solution (not implemented). */
  PS: 54,
} as const;
export type PayloadType = ValueOf<typeof PayloadType>;
const payloadTypeNames = invert(PayloadType);
export const payloadTypeName = (n: number): string => lookup(payloadTypeNames, n);

/** RFC 7296 section 3.3.1 (and 3.10, 3.11) Protocol ID values. */
export const ProtocolId = {
  /** Used in Notify payloads that carry no SPI. */
  NONE: 0,
  IKE: 1,
  AH: 2,
  ESP: 3,
} as const;
export type ProtocolId = ValueOf<typeof ProtocolId>;
const protocolIdNames = invert(ProtocolId);
export const protocolIdName = (n: number): string => lookup(protocolIdNames, n);

/** RFC 7296 section 3.3.1: SPI sizes. IKE: 0 in IKE_SA_INIT, 8 when rekeying; ESP/AH: 4. */
export const IKE_SPI_SIZE = 8;
export const CHILD_SPI_SIZE = 4;

/** RFC 7296 section 3.3.2 transform types (4 is "Key Exchange Method" since RFC 9370). */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  DH: 4,
  ESN: 5,
} as const;
export type TransformType = ValueOf<typeof TransformType>;
const transformTypeNames = invert(TransformType);
export const transformTypeName = (n: number): string => lookup(transformTypeNames, n);

/** RFC 7296 section 3.3.2, transform type 1: encryption algorithms (IANA registry). */
export const EncrTransformId = {
  ENCR_3DES: 3,
  ENCR_NULL: 11,
  ENCR_AES_CBC: 12,
  ENCR_AES_CTR: 13,
  /** RFC 5282. */
  ENCR_AES_CCM_8: 14,
  ENCR_AES_CCM_12: 15,
  ENCR_AES_CCM_16: 16,
  /** RFC 5282. */
  ENCR_AES_GCM_8: 18,
  ENCR_AES_GCM_12: 19,
  ENCR_AES_GCM_16: 20,
  ENCR_NULL_AUTH_AES_GMAC: 21,
  /** RFC 7634. */
  ENCR_CHACHA20_POLY1305: 28,
} as const;
export type EncrTransformId = ValueOf<typeof EncrTransformId>;

/** RFC 7296 section 3.3.2, transform type 2: pseudo-random functions. */
export const PrfTransformId = {
  PRF_HMAC_MD5: 1,
  PRF_HMAC_SHA1: 2,
  PRF_AES128_XCBC: 4,
  /** RFC 4868. */
  PRF_HMAC_SHA2_256: 5,
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
  /** RFC 4615. */
  PRF_AES128_CMAC: 8,
} as const;
export type PrfTransformId = ValueOf<typeof PrfTransformId>;

/** RFC 7296 section 3.3.2, transform type 3: integrity algorithms (none with AEAD). */
export const IntegTransformId = {
  NONE: 0,
  AUTH_HMAC_MD5_96: 1,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_AES_XCBC_96: 5,
  AUTH_AES_CMAC_96: 8,
  /** RFC 4868. */
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;
export type IntegTransformId = ValueOf<typeof IntegTransformId>;

/** RFC 7296 section 3.3.2, transform type 4: Diffie-Hellman groups (RFC 3526, 5903, 8031). */
export const DhTransformId = {
  NONE: 0,
  MODP_1024: 2,
  MODP_1536: 5,
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  /** RFC 5903: NIST P-256, KE data x || y (64 octets). */
  ECP_256: 19,
  /** RFC 5903: NIST P-384 (96 octets). */
  ECP_384: 20,
  /** RFC 5903: NIST P-521 (132 octets). */
  ECP_521: 21,
  /** RFC 8031: Curve25519 (32 octets). */
  CURVE25519: 31,
  /** RFC 8031: Curve448 (56 octets). */
  CURVE448: 32,
} as const;
export type DhTransformId = ValueOf<typeof DhTransformId>;

/** RFC 7296 section 3.3.2, transform type 5: extended sequence numbers. */
export const EsnTransformId = {
  NO_ESN: 0,
  ESN: 1,
} as const;
export type EsnTransformId = ValueOf<typeof EsnTransformId>;

const transformIdNames: ReadonlyMap<number, ReadonlyMap<number, string>> = new Map([
  [TransformType.ENCR, invert(EncrTransformId)],
  [TransformType.PRF, invert(PrfTransformId)],
  [TransformType.INTEG, invert(IntegTransformId)],
  [TransformType.DH, invert(DhTransformId)],
  [TransformType.ESN, invert(EsnTransformId)],
]);
/** Name of a transform ID within its type, e.g. (1, 28) -> "ENCR_CHACHA20_POLY1305". */
export function transformIdName(type: number, id: number): string {
  const names = transformIdNames.get(type);
  return names ? lookup(names, id) : `${transformTypeName(type)}:${id}`;
}

/** RFC 7296 section 3.3.5 transform attribute types: only Key Length (TV format). */
export const TransformAttributeType = {
  KEY_LENGTH: 14,
} as const;

/** RFC 7296 section 3.5 identification types; ID_NULL from RFC 7619. */
export const IdType = {
  ID_IPV4_ADDR: 1,
  ID_FQDN: 2,
  ID_RFC822_ADDR: 3,
  ID_IPV6_ADDR: 5,
  ID_DER_ASN1_DN: 9,
  ID_DER_ASN1_GN: 10,
  ID_KEY_ID: 11,
  /** RFC 4595. */
  ID_FC_NAME: 12,
  /** RFC 7619. */
  ID_NULL: 13,
} as const;
export type IdType = ValueOf<typeof IdType>;
const idTypeNames = invert(IdType);
export const idTypeName = (n: number): string => lookup(idTypeNames, n);

/** RFC 7296 section 3.6 certificate encodings. */
export const CertEncoding = {
  PKCS7_WRAPPED_X509: 1,
  PGP: 2,
  DNS_SIGNED_KEY: 3,
  X509_SIGNATURE: 4,
  KERBEROS_TOKEN: 6,
  CRL: 7,
  ARL: 8,
  SPKI: 9,
  X509_ATTRIBUTE: 10,
  HASH_AND_URL_X509: 12,
  HASH_AND_URL_X509_BUNDLE: 13,
  /** RFC 4806. */
  OCSP_CONTENT: 14,
  /** RFC 7670. */
  RAW_PUBLIC_KEY: 15,
} as const;
export type CertEncoding = ValueOf<typeof CertEncoding>;
const certEncodingNames = invert(CertEncoding);
export const certEncodingName = (n: number): string => lookup(certEncodingNames, n);

/** RFC 7296 section 3.8 authentication methods; 9-11 RFC 4754, 13 RFC 7619, 14 RFC 7427. */
export const AuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  SHARED_KEY_MIC: 2,
  DSS_DIGITAL_SIGNATURE: 3,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  NULL_AUTH: 13,
  DIGITAL_SIGNATURE: 14,
} as const;
export type AuthMethod = ValueOf<typeof AuthMethod>;
const authMethodNames = invert(AuthMethod);
export const authMethodName = (n: number): string => lookup(authMethodNames, n);

/** RFC 7427 section 3: hash algorithms in the SIGNATURE_HASH_ALGORITHMS notify (16-bit each); 5 from RFC 8420. */
export const HashAlgorithm = {
  SHA1: 1,
  SHA2_256: 2,
  SHA2_384: 3,
  SHA2_512: 4,
  IDENTITY: 5,
} as const;
export type HashAlgorithm = ValueOf<typeof HashAlgorithm>;

/**
 * RFC 7296 section 3.10.1 notify message types. Values below 16384 are errors, from 16384
 * status. Ranges (section 3.10.1 and the IANA registry): 8192-16383 private use for errors,
 * 40960-65535 private use for status types.
 */
export const NotifyType = {
  // Errors, RFC 7296 section 3.10.1.
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  /** RFC 4555. */
  UNACCEPTABLE_ADDRESSES: 40,
  UNEXPECTED_NAT_DETECTED: 41,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  // Status, RFC 7296 section 3.10.1 and extensions.
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  /** RFC 4555 (MOBIKE). */
  MOBIKE_SUPPORTED: 16396,
  ADDITIONAL_IP4_ADDRESS: 16397,
  ADDITIONAL_IP6_ADDRESS: 16398,
  NO_ADDITIONAL_ADDRESSES: 16399,
  UPDATE_SA_ADDRESSES: 16400,
  COOKIE2: 16401,
  NO_NATS_ALLOWED: 16402,
  /** RFC 4478. */
  AUTH_LIFETIME: 16403,
  /** RFC 4739. */
  MULTIPLE_AUTH_SUPPORTED: 16404,
  ANOTHER_AUTH_FOLLOWS: 16405,
  /** RFC 5685. */
  REDIRECT_SUPPORTED: 16406,
  REDIRECT: 16407,
  REDIRECTED_FROM: 16408,
  /** RFC 5998. */
  EAP_ONLY_AUTHENTICATION: 16417,
  /** RFC 6023. */
  CHILDLESS_IKEV2_SUPPORTED: 16418,
  /** RFC 6290. */
  QUICK_CRASH_DETECTION: 16419,
  /** RFC 6311. */
  IKEV2_MESSAGE_ID_SYNC_SUPPORTED: 16420,
  IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED: 16421,
  IKEV2_MESSAGE_ID_SYNC: 16422,
  IPSEC_REPLAY_COUNTER_SYNC: 16423,
  /** RFC 7383. */
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
  /** RFC 7427. */
  SIGNATURE_HASH_ALGORITHMS: 16431,
  /** RFC 8019. */
  PUZZLE: 16434,
  /** RFC 8784. */
  USE_PPK: 16435,
  /** RFC 9242. */
  INTERMEDIATE_EXCHANGE_SUPPORTED: 16438,
  /** RFC 8983. */
  IP4_ALLOWED: 16439,
  IP6_ALLOWED: 16440,
  /** RFC 9370. */
  ADDITIONAL_KEY_EXCHANGE: 16441,
  /** RFC 9347. */
  USE_AGGFRAG: 16442,
  // meshgate's private status types (see MeshNotifyType).
  MESH_SHORTCUT_REQUEST: 0xca00,
  MESH_SHORTCUT_OFFER: 0xca01,
  MESH_REDIRECT: 0xca02,
  MESH_REFUSED: 0xca03,
} as const;
export type NotifyType = ValueOf<typeof NotifyType>;

/** RFC 7296 section 3.10.1: the first status type; every lower value is an error type. */
export const NOTIFY_STATUS_MIN = 16384;
/** RFC 7296 section 3.10.1 / IANA: private-use error types. */
export const NOTIFY_PRIVATE_ERROR_MIN = 8192;
export const NOTIFY_PRIVATE_ERROR_MAX = 16383;
/** RFC 7296 section 3.10.1 / IANA: private-use status types. */
export const NOTIFY_PRIVATE_STATUS_MIN = 40960;
export const NOTIFY_PRIVATE_STATUS_MAX = 65535;

export const isErrorNotify = (type: number): boolean => type < NOTIFY_STATUS_MIN;

/**
 * meshgate's mesh extension (issue 3): private-use status notify types, valid only between
 * peers that both sent MESHGATE_VENDOR_ID, carried inside SK in INFORMATIONAL exchanges.
 * 0xCA00.. sits in 40960-65535 and away from the 40960-40970 block strongSwan uses for its
 * own private types (IKE-ME, BEET), so a mis-sent notify is never misread by a strongSwan peer.
 */
export const MeshNotifyType = {
  /** Spoke -> hub -> spoke: "build a shortcut to me for these subnets" (egress trigger). */
  MESH_SHORTCUT_REQUEST: NotifyType.MESH_SHORTCUT_REQUEST,
  /** Answer to a request: the accepting side's public address and validity. */
  MESH_SHORTCUT_OFFER: NotifyType.MESH_SHORTCUT_OFFER,
  /** Hub -> spoke: traffic is hairpinning, resolve and build the shortcut (hub-redirect trigger). */
  MESH_REDIRECT: NotifyType.MESH_REDIRECT,
  /** A request refused (policy, licence, rate limit); the data carries the reason code. */
  MESH_REFUSED: NotifyType.MESH_REFUSED,
} as const;
export type MeshNotifyType = ValueOf<typeof MeshNotifyType>;

/** Short names in strongSwan's style for `stringifyMessage` (N(NATD_S_IP) etc.). */
const notifyShortNames: ReadonlyMap<number, string> = new Map([
  [NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, 'UNSUPPORTED_CRITICAL_PAYLOAD'],
  [NotifyType.INVALID_IKE_SPI, 'INVAL_IKE_SPI'],
  [NotifyType.INVALID_MAJOR_VERSION, 'INVAL_MAJOR'],
  [NotifyType.INVALID_SYNTAX, 'INVAL_SYN'],
  [NotifyType.INVALID_MESSAGE_ID, 'INVAL_MID'],
  [NotifyType.INVALID_SPI, 'INVAL_SPI'],
  [NotifyType.NO_PROPOSAL_CHOSEN, 'NO_PROP'],
  [NotifyType.INVALID_KE_PAYLOAD, 'INVAL_KE'],
  [NotifyType.AUTHENTICATION_FAILED, 'AUTH_FAILED'],
  [NotifyType.SINGLE_PAIR_REQUIRED, 'SINGLE_PAIR'],
  [NotifyType.NO_ADDITIONAL_SAS, 'NO_ADD_SAS'],
  [NotifyType.INTERNAL_ADDRESS_FAILURE, 'INT_ADDR_FAIL'],
  [NotifyType.FAILED_CP_REQUIRED, 'FAIL_CP_REQ'],
  [NotifyType.TS_UNACCEPTABLE, 'TS_UNACCEPT'],
  [NotifyType.INVALID_SELECTORS, 'INVAL_SEL'],
  [NotifyType.TEMPORARY_FAILURE, 'TEMP_FAIL'],
  [NotifyType.CHILD_SA_NOT_FOUND, 'NO_CHILD_SA'],
  [NotifyType.INITIAL_CONTACT, 'INIT_CONTACT'],
  [NotifyType.SET_WINDOW_SIZE, 'SET_WINSIZE'],
  [NotifyType.ADDITIONAL_TS_POSSIBLE, 'ADD_TS_POSS'],
  [NotifyType.IPCOMP_SUPPORTED, 'IPCOMP_SUP'],
  [NotifyType.NAT_DETECTION_SOURCE_IP, 'NATD_S_IP'],
  [NotifyType.NAT_DETECTION_DESTINATION_IP, 'NATD_D_IP'],
  [NotifyType.COOKIE, 'COOKIE'],
  [NotifyType.USE_TRANSPORT_MODE, 'USE_TRANSP'],
  [NotifyType.HTTP_CERT_LOOKUP_SUPPORTED, 'HTTP_CERT_LOOK'],
  [NotifyType.REKEY_SA, 'REKEY_SA'],
  [NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED, 'ESP_TFC_PAD_N'],
  [NotifyType.NON_FIRST_FRAGMENTS_ALSO, 'NON_FIRST_FRAG'],
  [NotifyType.MOBIKE_SUPPORTED, 'MOBIKE_SUP'],
  [NotifyType.ADDITIONAL_IP4_ADDRESS, 'ADD_4_ADDR'],
  [NotifyType.ADDITIONAL_IP6_ADDRESS, 'ADD_6_ADDR'],
  [NotifyType.NO_ADDITIONAL_ADDRESSES, 'NO_ADD_ADDR'],
  [NotifyType.UPDATE_SA_ADDRESSES, 'UPD_SA_ADDR'],
  [NotifyType.COOKIE2, 'COOKIE2'],
  [NotifyType.NO_NATS_ALLOWED, 'NO_NATS'],
  [NotifyType.MULTIPLE_AUTH_SUPPORTED, 'MULT_AUTH'],
  [NotifyType.ANOTHER_AUTH_FOLLOWS, 'AUTH_FOLLOWS'],
  [NotifyType.REDIRECT_SUPPORTED, 'REDIR_SUP'],
  [NotifyType.REDIRECT, 'REDIR'],
  [NotifyType.REDIRECTED_FROM, 'REDIR_FROM'],
  [NotifyType.EAP_ONLY_AUTHENTICATION, 'EAP_ONLY'],
  [NotifyType.CHILDLESS_IKEV2_SUPPORTED, 'CHDLESS_SUP'],
  [NotifyType.IKEV2_MESSAGE_ID_SYNC_SUPPORTED, 'MSG_ID_SYN_SUP'],
  [NotifyType.IKEV2_FRAGMENTATION_SUPPORTED, 'FRAG_SUP'],
  [NotifyType.SIGNATURE_HASH_ALGORITHMS, 'HASH_ALG'],
  [NotifyType.USE_PPK, 'USE_PPK'],
  [NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED, 'IKE_INT_SUP'],
  [NotifyType.MESH_SHORTCUT_REQUEST, 'MESH_SC_REQ'],
  [NotifyType.MESH_SHORTCUT_OFFER, 'MESH_SC_OFFER'],
  [NotifyType.MESH_REDIRECT, 'MESH_REDIR'],
  [NotifyType.MESH_REFUSED, 'MESH_REFUSED'],
]);

const notifyTypeNames = invert(NotifyType);
/** Full RFC name of a notify type, e.g. 16388 -> "NAT_DETECTION_SOURCE_IP". */
export const notifyTypeName = (n: number): string => lookup(notifyTypeNames, n);
/** strongSwan-style short name for one-line message summaries, e.g. 16388 -> "NATD_S_IP". */
export const notifyShortName = (n: number): string => notifyShortNames.get(n) ?? lookup(notifyTypeNames, n);

/** RFC 7296 section 3.13.1 traffic selector types. */
export const TsType = {
  TS_IPV4_ADDR_RANGE: 7,
  TS_IPV6_ADDR_RANGE: 8,
} as const;
export type TsType = ValueOf<typeof TsType>;
const tsTypeNames = invert(TsType);
export const tsTypeName = (n: number): string => lookup(tsTypeNames, n);

/** RFC 7296 section 3.15 configuration payload types. */
export const CfgType = {
  CFG_REQUEST: 1,
  CFG_REPLY: 2,
  CFG_SET: 3,
  CFG_ACK: 4,
} as const;
export type CfgType = ValueOf<typeof CfgType>;
const cfgTypeNames = invert(CfgType);
export const cfgTypeName = (n: number): string => lookup(cfgTypeNames, n);

/** RFC 7296 section 3.15.1 configuration attribute types. */
export const CfgAttributeType = {
  INTERNAL_IP4_ADDRESS: 1,
  INTERNAL_IP4_NETMASK: 2,
  INTERNAL_IP4_DNS: 3,
  INTERNAL_IP4_NBNS: 4,
  INTERNAL_IP4_DHCP: 6,
  APPLICATION_VERSION: 7,
  INTERNAL_IP6_ADDRESS: 8,
  INTERNAL_IP6_DNS: 10,
  INTERNAL_IP6_DHCP: 12,
  INTERNAL_IP4_SUBNET: 13,
  SUPPORTED_ATTRIBUTES: 14,
  INTERNAL_IP6_SUBNET: 15,
} as const;
export type CfgAttributeType = ValueOf<typeof CfgAttributeType>;
const cfgAttributeTypeNames = invert(CfgAttributeType);
export const cfgAttributeTypeName = (n: number): string => lookup(cfgAttributeTypeNames, n);

/** RFC 7296 section 3.9: nonce lengths (at least 16 octets, at most 256). */
export const NONCE_MIN_LENGTH = 16;
export const NONCE_MAX_LENGTH = 256;

/**
 * meshgate's Vendor ID (RFC 7296 section 3.12): the first 16 octets of
 * SHA-256("meshgate-mesh-v1"). A peer that sends it in IKE_SA_INIT speaks the mesh
 * extension, i.e. understands the MESH_* notify types above. A test recomputes the hash.
 */
export const MESHGATE_VENDOR_ID_STRING = 'meshgate-mesh-v1';
export const MESHGATE_VENDOR_ID: Readonly<Uint8Array> = Uint8Array.from([
  0x91, 0xe3, 0xa4, 0xd6, 0xb3, 0x74, 0x6a, 0x61, 0x01, 0x05, 0x79, 0xb2, 0x04, 0x84, 0x3f, 0x4d,
]);
