/**
 * Proposals (RFC 7296 section 3.3) as meshgate configures them, their wire form, and the
 * responder's choice (section 2.7): the first of the initiator's proposals for which
 * every transform type has an algorithm that local policy also allows.
 *
 * Configured proposals use strongSwan's keywords so that an administrator can copy them
 * from a peer: `chacha20poly1305-prfsha256-x25519`, `aes256gcm16-prfsha384-ecp256`;
 * ESP: `aes128gcm16`, `chacha20poly1305-x25519` (a DH group requests PFS on rekeys).
 */
import { DhGroup, EncrId, PrfId } from '../crypto/ids.js';
import { IkeConfigError } from './errors.js';
import { ProtocolId, TransformType } from './constants.js';
import type { Proposal, Transform } from './codec/types.js';

export interface EncrAlg {
  id: number;
  keyBits?: number;
}

export interface IkeProposalSpec {
  encr: EncrAlg[];
  prf: number[];
  dh: number[];
}

export interface EspProposalSpec {
  encr: EncrAlg[];
  /** DH groups for PFS in CREATE_CHILD_SA; empty = no PFS. */
  dh: number[];
}

/** The algorithms agreed for an IKE SA. */
export interface IkeSuite {
  encr: EncrAlg;
  prf: number;
  dh: number;
}

/** The algorithms agreed for a child SA. */
export interface EspSuite {
  encr: EncrAlg;
  /** The PFS group, when a KE was exchanged. */
  dh?: number;
}

const ENCR_KEYWORDS: Record<string, EncrAlg> = {
  chacha20poly1305: { id: EncrId.ENCR_CHACHA20_POLY1305 },
  aes128gcm16: { id: EncrId.ENCR_AES_GCM_16, keyBits: 128 },
  aes192gcm16: { id: EncrId.ENCR_AES_GCM_16, keyBits: 192 },
  aes256gcm16: { id: EncrId.ENCR_AES_GCM_16, keyBits: 256 },
  aes128gcm: { id: EncrId.ENCR_AES_GCM_16, keyBits: 128 },
  aes256gcm: { id: EncrId.ENCR_AES_GCM_16, keyBits: 256 },
};
const PRF_KEYWORDS: Record<string, number> = {
  prfsha256: PrfId.PRF_HMAC_SHA2_256,
  prfsha384: PrfId.PRF_HMAC_SHA2_384,
  prfsha512: PrfId.PRF_HMAC_SHA2_512,
};
const DH_KEYWORDS: Record<string, number> = {
  x25519: DhGroup.CURVE25519,
  curve25519: DhGroup.CURVE25519,
  ecp256: DhGroup.ECP_256,
};

export function encrName(e: EncrAlg): string {
  if (e.id === EncrId.ENCR_CHACHA20_POLY1305) return 'chacha20poly1305';
  if (e.id === EncrId.ENCR_AES_GCM_16) return `aes${e.keyBits ?? '?'}gcm16`;
  return `encr${e.id}`;
}
export function prfName(id: number): string {
  return Object.entries(PRF_KEYWORDS).find(([, v]) => v === id)?.[0] ?? `prf${id}`;
}
export function dhName(id: number): string {
  if (id === DhGroup.CURVE25519) return 'x25519';
  if (id === DhGroup.ECP_256) return 'ecp256';
  return `dh${id}`;
}
export function ikeSuiteName(s: IkeSuite): string {
  return `${encrName(s.encr)}-${prfName(s.prf)}-${dhName(s.dh)}`;
}
export function espSuiteName(s: EspSuite): string {
  return s.dh === undefined ? encrName(s.encr) : `${encrName(s.encr)}-${dhName(s.dh)}`;
}

function sameEncr(a: EncrAlg, b: EncrAlg): boolean {
  return a.id === b.id && (a.keyBits ?? 0) === (b.keyBits ?? 0);
}

/** Parses `aes256gcm16-prfsha384-x25519` (several of each kind allowed). */
export function parseIkeProposal(text: string, field = 'ike proposal'): IkeProposalSpec {
  const spec: IkeProposalSpec = { encr: [], prf: [], dh: [] };
  for (const word of text.toLowerCase().split('-').filter(Boolean)) {
    if (ENCR_KEYWORDS[word]) spec.encr.push(ENCR_KEYWORDS[word]);
    else if (PRF_KEYWORDS[word] !== undefined) spec.prf.push(PRF_KEYWORDS[word]);
    else if (DH_KEYWORDS[word] !== undefined) spec.dh.push(DH_KEYWORDS[word]);
    else throw new IkeConfigError(field, `unknown algorithm '${word}' in '${text}' (allowed: ${[...Object.keys(ENCR_KEYWORDS), ...Object.keys(PRF_KEYWORDS), ...Object.keys(DH_KEYWORDS)].join(', ')})`);
  }
  if (spec.encr.length === 0) throw new IkeConfigError(field, `'${text}' names no encryption algorithm`);
  if (spec.prf.length === 0) throw new IkeConfigError(field, `'${text}' names no PRF`);
  if (spec.dh.length === 0) throw new IkeConfigError(field, `'${text}' names no DH group`);
  return spec;
}

/** Parses `aes128gcm16` or `chacha20poly1305-x25519` (the group turns PFS on). */
export function parseEspProposal(text: string, field = 'esp proposal'): EspProposalSpec {
  const spec: EspProposalSpec = { encr: [], dh: [] };
  for (const word of text.toLowerCase().split('-').filter(Boolean)) {
    if (ENCR_KEYWORDS[word]) spec.encr.push(ENCR_KEYWORDS[word]);
    else if (DH_KEYWORDS[word] !== undefined) spec.dh.push(DH_KEYWORDS[word]);
    else throw new IkeConfigError(field, `unknown algorithm '${word}' in '${text}'`);
  }
  if (spec.encr.length === 0) throw new IkeConfigError(field, `'${text}' names no encryption algorithm`);
  return spec;
}

function encrTransforms(encr: EncrAlg[]): Transform[] {
  return encr.map((e) => (e.keyBits === undefined ? { type: TransformType.ENCR, id: e.id } : { type: TransformType.ENCR, id: e.id, keyLength: e.keyBits }));
}

/** The SA payload proposals for an IKE SA (spi empty in IKE_SA_INIT, 8 octets for a rekey). */
export function ikeProposals(specs: readonly IkeProposalSpec[], spi: Uint8Array = new Uint8Array(0), firstDh?: number): Proposal[] {
  return specs.map((s, i) => {
    // When a group was already chosen (INVALID_KE_PAYLOAD retry, rekey), list it first.
    const dh = firstDh !== undefined && s.dh.includes(firstDh) ? [firstDh, ...s.dh.filter((g) => g !== firstDh)] : s.dh;
    return {
      number: i + 1,
      protocolId: ProtocolId.IKE,
      spi,
      transforms: [
        ...encrTransforms(s.encr),
        ...s.prf.map((id): Transform => ({ type: TransformType.PRF, id })),
        ...dh.map((id): Transform => ({ type: TransformType.DH, id })),
      ],
    };
  });
}

/** The SA payload proposals for a child SA with our inbound SPI. `pfsGroup` adds a DH transform. */
export function espProposals(specs: readonly EspProposalSpec[], spi: number, withPfs: boolean): Proposal[] {
  const spiBytes = spiToBytes(spi);
  return specs.map((s, i) => ({
    number: i + 1,
    protocolId: ProtocolId.ESP,
    spi: spiBytes,
    transforms: [
      ...encrTransforms(s.encr),
      ...(withPfs ? s.dh.map((id): Transform => ({ type: TransformType.DH, id })) : []),
      { type: TransformType.ESN, id: 0 },
    ],
  }));
}

function ofType(p: Proposal, type: number): Transform[] {
  return p.transforms.filter((t) => t.type === type);
}

function pickEncr(offered: Transform[], allowed: EncrAlg[]): EncrAlg | undefined {
  for (const t of offered) {
    const e: EncrAlg = t.keyLength === undefined ? { id: t.id } : { id: t.id, keyBits: t.keyLength };
    if (allowed.some((a) => sameEncr(a, e))) return e;
  }
  return undefined;
}

/**
 * Responder choice for an IKE SA. `requireDh` is the group of the KE payload received; the
 * choice prefers it (a different choice leads to INVALID_KE_PAYLOAD).
 */
export function chooseIke(offered: readonly Proposal[], local: readonly IkeProposalSpec[], keGroup?: number): { proposal: Proposal; suite: IkeSuite } | undefined {
  let fallback: { proposal: Proposal; suite: IkeSuite } | undefined;
  for (const p of offered) {
    if (p.protocolId !== ProtocolId.IKE) continue;
    if (ofType(p, TransformType.INTEG).some((t) => t.id !== 0)) continue; // AEAD only: no integrity transform
    for (const l of local) {
      const encr = pickEncr(ofType(p, TransformType.ENCR), l.encr);
      const prf = ofType(p, TransformType.PRF).find((t) => l.prf.includes(t.id))?.id;
      const dhs = ofType(p, TransformType.DH).map((t) => t.id).filter((g) => l.dh.includes(g));
      if (!encr || prf === undefined || dhs.length === 0) continue;
      const dh = keGroup !== undefined && dhs.includes(keGroup) ? keGroup : dhs[0]!;
      const choice = { proposal: chosenProposal(p, encr, [{ type: TransformType.PRF, id: prf }, { type: TransformType.DH, id: dh }]), suite: { encr, prf, dh } };
      if (keGroup === undefined || dh === keGroup) return choice;
      fallback ??= choice;
    }
  }
  return fallback;
}

/** Responder choice for a child SA; `keGroup` is the group of a received KE (PFS) or undefined. */
export function chooseEsp(offered: readonly Proposal[], local: readonly EspProposalSpec[], keGroup: number | undefined): { proposal: Proposal; suite: EspSuite; peerSpi: number } | undefined {
  for (const p of offered) {
    if (p.protocolId !== ProtocolId.ESP || p.spi.length !== 4) continue;
    if (ofType(p, TransformType.INTEG).some((t) => t.id !== 0)) continue;
    const esn = ofType(p, TransformType.ESN);
    if (esn.length > 0 && !esn.some((t) => t.id === 0)) continue;
    for (const l of local) {
      const encr = pickEncr(ofType(p, TransformType.ENCR), l.encr);
      if (!encr) continue;
      const offeredDh = ofType(p, TransformType.DH).map((t) => t.id).filter((g) => g !== 0);
      let dh: number | undefined;
      if (keGroup !== undefined) {
        if (!offeredDh.includes(keGroup) || !l.dh.includes(keGroup)) continue;
        dh = keGroup;
      } else if (offeredDh.length > 0 && !ofType(p, TransformType.DH).some((t) => t.id === 0)) {
        continue; // PFS demanded without a KE payload
      }
      const extra: Transform[] = [];
      if (dh !== undefined) extra.push({ type: TransformType.DH, id: dh });
      if (esn.length > 0) extra.push({ type: TransformType.ESN, id: 0 });
      return { proposal: chosenProposal(p, encr, extra), suite: dh === undefined ? { encr } : { encr, dh }, peerSpi: spiFromBytes(p.spi) };
    }
  }
  return undefined;
}

function chosenProposal(p: Proposal, encr: EncrAlg, rest: Transform[]): Proposal {
  const e: Transform = encr.keyBits === undefined ? { type: TransformType.ENCR, id: encr.id } : { type: TransformType.ENCR, id: encr.id, keyLength: encr.keyBits };
  return { number: p.number, protocolId: p.protocolId, spi: p.spi, transforms: [e, ...rest] };
}

/**
 * Reads the responder's single chosen proposal back (initiator side) and checks that it is
 * one we offered; undefined when the answer is malformed or not ours.
 */
export function acceptIkeChoice(answer: readonly Proposal[], offered: readonly IkeProposalSpec[]): IkeSuite | undefined {
  if (answer.length !== 1) return undefined;
  const p = answer[0]!;
  const encrT = ofType(p, TransformType.ENCR);
  const prfT = ofType(p, TransformType.PRF);
  const dhT = ofType(p, TransformType.DH);
  if (p.protocolId !== ProtocolId.IKE || encrT.length !== 1 || prfT.length !== 1 || dhT.length !== 1) return undefined;
  const spec = offered[p.number - 1];
  if (!spec) return undefined;
  const encr = pickEncr(encrT, spec.encr);
  if (!encr || !spec.prf.includes(prfT[0]!.id) || !spec.dh.includes(dhT[0]!.id)) return undefined;
  return { encr, prf: prfT[0]!.id, dh: dhT[0]!.id };
}

export function acceptEspChoice(answer: readonly Proposal[], offered: readonly EspProposalSpec[], keGroup: number | undefined): { suite: EspSuite; peerSpi: number } | undefined {
  if (answer.length !== 1) return undefined;
  const p = answer[0]!;
  const encrT = ofType(p, TransformType.ENCR);
  const dhT = ofType(p, TransformType.DH).filter((t) => t.id !== 0);
  if (p.protocolId !== ProtocolId.ESP || p.spi.length !== 4 || encrT.length !== 1 || dhT.length > 1) return undefined;
  const spec = offered[p.number - 1];
  if (!spec) return undefined;
  const encr = pickEncr(encrT, spec.encr);
  if (!encr) return undefined;
  const dh = dhT[0]?.id;
  if (dh !== keGroup) return undefined;
  return { suite: dh === undefined ? { encr } : { encr, dh }, peerSpi: spiFromBytes(p.spi) };
}

export function spiToBytes(spi: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, spi >>> 0);
  return b;
}

export function spiFromBytes(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
}
