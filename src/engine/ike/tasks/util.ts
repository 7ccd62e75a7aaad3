/** Small pieces shared by the tasks: nonces, NAT detection hashes, PSK AUTH, DH. */
import { networkInterfaces } from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { createDhKeyPair } from '../../crypto/dh.js';
import type { DhKeyPair, Prf } from '../../crypto/types.js';
import type { Endpoint } from '../../net/types.js';
import { MESHGATE_VENDOR_ID, NotifyType, PayloadType } from '../constants.js';
import type { IdPayload, Message } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import { concatBytes, findNotify, notifyPayload, spi64Bytes } from '../message.js';

/** Nonce length: at least half the PRF key size and 16 octets (RFC 7296 section 2.10); 32 covers SHA-512's half. */
export const NONCE_LENGTH = 32;

export function newNonce(sa: IkeSa): Uint8Array {
  return sa.ctx.random.bytes(NONCE_LENGTH);
}

export function newDh(sa: IkeSa, group: number): DhKeyPair {
  return createDhKeyPair(group, sa.ctx.random);
}

/**
 * NAT detection hash (RFC 7296 section 2.23): SHA-1(SPIi | SPIr | IP | Port), the SPIs as
 * in the header of the message that carries it.
 */
export function natdHash(spiI: bigint, spiR: bigint, e: Endpoint): Uint8Array {
  const ip = Uint8Array.from(ipaddr.parse(e.address).toByteArray());
  const port = Uint8Array.of(e.port >>> 8, e.port & 0xff);
  return new Uint8Array(createHash('sha1').update(concatBytes(spi64Bytes(spiI), spi64Bytes(spiR), ip, port)).digest());
}

/** At most this many NAT_DETECTION_SOURCE_IP payloads for a socket bound to every address. */
const MAX_NATD_SOURCES = 8;

/**
 * The addresses this end may send from. A socket bound to a specific address sends from it;
 * one bound to the wildcard (:: or 0.0.0.0) sends from whichever interface address the
 * kernel picks, which Node does not tell: then every interface address of the peer's family
 * is a candidate, and RFC 7296 section 2.23 allows one NAT_DETECTION_SOURCE_IP per candidate.
 */
export function localCandidates(sa: IkeSa): Endpoint[] {
  const local = sa.local;
  if (local.address !== '::' && local.address !== '0.0.0.0') return [local];
  const family = sa.remote.address.includes(':') ? 'IPv6' : 'IPv4';
  const out: Endpoint[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== family || (family === 'IPv6' && a.scopeid)) continue;
      out.push({ address: a.address, port: local.port });
    }
  }
  return out.length ? out.slice(0, MAX_NATD_SOURCES) : [local];
}

/**
 * The true NAT_DETECTION_SOURCE_IP hashes for a meshgate peer, when the standard ones are
 * forced not to match (private-use status notify: other implementations ignore it).
 */
export const MESHGATE_NATD_SOURCE = 0xca10;

/**
 * Adds N(NAT_DETECTION_SOURCE_IP) and N(NAT_DETECTION_DESTINATION_IP) (RFC 7296 section 2.23).
 *
 * meshgate has no raw ESP (IP protocol 50): ESP must travel in UDP (RFC 3948) whatever the
 * path. So, as strongSwan does with encap=yes, the source hash is forced not to match (random
 * bytes): the peer believes this end is behind a NAT, floats IKE to port 4500 and encapsulates
 * ESP. `force` is false only towards a peer known to be meshgate (it encapsulates anyway).
 * The true source hashes go along in a private notify, so a meshgate peer still sees the
 * real NAT situation (show ike, the log).
 */
export function addNatd(sa: IkeSa, m: Message, force = true): void {
  const real = localCandidates(sa).map((c) => natdHash(m.spiI, m.spiR, c));
  if (force) {
    m.payloads.push(notifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, sa.ctx.random.bytes(20)));
    if (sa.initiator && sa.config?.sendVendorId) for (const h of real) m.payloads.push(notifyPayload(MESHGATE_NATD_SOURCE, h));
  } else for (const h of real) m.payloads.push(notifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, h));
  m.payloads.push(notifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, natdHash(m.spiI, m.spiR, sa.remote)));
}

/** Evaluates the peer's NAT detection payloads of `m` (RFC 7296 section 2.23). */
export function checkNatd(sa: IkeSa, m: Message): void {
  const src = m.payloads.filter((p) => p.type === PayloadType.N && p.notifyType === NotifyType.NAT_DETECTION_SOURCE_IP);
  const dst = findNotify(m, NotifyType.NAT_DETECTION_DESTINATION_IP);
  if (src.length === 0 || !dst) {
    sa.count('peer-without-natd');
    return; // the peer does not do NAT-T detection
  }
  // A meshgate peer (its Vendor ID in the same message) forced its standard hash and sent the true ones privately.
  const meshgate = m.payloads.some((p) => p.type === PayloadType.V && p.data.length === MESHGATE_VENDOR_ID.length && bytesEq(p.data, Uint8Array.from(MESHGATE_VENDOR_ID)));
  const privateSrc = meshgate ? m.payloads.filter((p) => p.type === PayloadType.N && p.notifyType === MESHGATE_NATD_SOURCE) : [];
  const remoteHash = natdHash(m.spiI, m.spiR, sa.remote);
  sa.natRemote = !(privateSrc.length > 0 ? privateSrc : src).some((n) => n.type === PayloadType.N && bytesEq(n.data, remoteHash));
  // We are behind a NAT when the address the peer sent to is none of ours.
  sa.natLocal = !localCandidates(sa).some((c) => bytesEq(dst.data, natdHash(m.spiI, m.spiR, c)));
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const KEY_PAD = new TextEncoder().encode('Key Pad for IKEv2');

/** RestOfInitIDPayload / RestOfRespIDPayload: ID Type, three reserved octets, data. */
export function idBody(id: IdPayload): Uint8Array {
  return concatBytes(Uint8Array.of(id.idType, 0, 0, 0), id.data);
}

/**
 * AUTH for a pre-shared key (RFC 7296 section 2.15):
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
 *   SignedOctets = RealMessage | Nonce of the peer | prf(SK_p, RestOfIDPayload)
 */
export function pskAuth(prf: Prf, psk: Uint8Array, realMessage: Uint8Array, peerNonce: Uint8Array, skP: Uint8Array, id: IdPayload): Uint8Array {
  const maced = prf.compute(skP, idBody(id));
  const signed = concatBytes(realMessage, peerNonce, maced);
  return prf.compute(prf.compute(psk, KEY_PAD), signed);
}

export function authEquals(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEq(a, b);
}

export function group16(g: number): Uint8Array {
  return Uint8Array.of(g >>> 8, g & 0xff);
}
