/**
 * CREATE_CHILD_SA for a child SA (RFC 7296 sections 1.3.1 and 1.3.3):
 *
 *   new:    HDR, SK { SA, Ni, [KEi], TSi, TSr }  -->  <--  HDR, SK { SA, Nr, [KEr], TSi, TSr }
 *   rekey:  HDR, SK { N(REKEY_SA), SA, Ni, [KEi], TSi, TSr }  -->  <--  HDR, SK { SA, Nr, [KEr], TSi, TSr }
 *
 * Make before break: the new child is installed (inbound first) before the old one is
 * deleted by a separate INFORMATIONAL exchange. A KE payload (PFS) is sent when the ESP
 * proposal names a DH group.
 *
 * Simultaneous rekeys of the same child (section 2.8.1): each end answers the other's
 * request; when our own exchange completes, the exchange whose lowest nonce is the lowest
 * of all four loses. The loser's initiator deletes the child that its exchange created;
 * the winner's initiator deletes the old child.
 */
import type { DhKeyPair } from '../../crypto/types.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId, notifyTypeName } from '../constants.js';
import type { Message, Proposal } from '../codec/types.js';
import type { ChildSa } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { addNotify, compareBytes, errorNotify, findNotify, first, notifyPayload } from '../message.js';
import { acceptEspChoice, chooseEsp, espProposals, spiFromBytes, spiToBytes } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';
import { narrowTs, tsSubset, tsToWire, type TrafficSelector } from '../traffic-selector.js';
import { readTs } from './ike-auth.js';
import { ChildDeleteTask } from './child-delete.js';
import { group16, newDh, newNonce } from './util.js';

/** Wait before retrying a rekey that the peer answered with TEMPORARY_FAILURE: 10 s +/- 5 s, so two retrying ends drift apart. */
export const REKEY_RETRY_MS = 10_000;

export function retryDelay(sa: IkeSa): number {
  return Math.round(REKEY_RETRY_MS / 2 + (sa.ctx.random.bytes(1)[0]! / 255) * REKEY_RETRY_MS);
}

export class ChildCreateTask implements Task {
  readonly type: 'child-create' | 'child-rekey';
  readonly exchangeType = ExchangeType.CREATE_CHILD_SA;
  private newChild: ChildSa | undefined;
  private dh: DhKeyPair | undefined;
  private nonceI: Uint8Array | undefined;
  private nonceR: Uint8Array | undefined;
  // responder
  private error: { notify: number; data?: Uint8Array } | undefined;
  private rekeyed: ChildSa | undefined;
  private chosen: Proposal | undefined;

  constructor(
    private readonly sa: IkeSa,
    readonly initiator: boolean,
    /** Initiator: the child to rekey; undefined creates a new child with the config's selectors. */
    readonly child?: ChildSa,
    /** Initiator, new child: selectors other than the config's (narrowed by the responder). */
    private readonly selectors?: { localTs: TrafficSelector[]; remoteTs: TrafficSelector[] },
  ) {
    this.type = child ? 'child-rekey' : 'child-create';
  }

  build(m: Message): TaskStatus {
    return this.initiator ? this.buildI(m) : this.buildR(m);
  }

  process(m: Message): TaskStatus {
    return this.initiator ? this.processI(m) : this.processR(m);
  }

  // ---- initiator -------------------------------------------------------------

  private buildI(m: Message): TaskStatus {
    const sa = this.sa;
    const cfg = sa.config!;
    const old = this.child;
    if (old && (old.state !== 'installed' || sa.children.get(old.childId) !== old)) return 'failed';
    const nc = sa.newChild();
    nc.initiatedByUs = true;
    nc.localTs = old ? old.localTs : this.selectors?.localTs ?? cfg.localTs;
    nc.remoteTs = old ? old.remoteTs : this.selectors?.remoteTs ?? cfg.remoteTs;
    this.newChild = nc;
    const pfsGroup = cfg.espProposals[0]!.dh[0];
    if (old) {
      old.setState('rekeying');
      m.payloads.push(notifyPayload(NotifyType.REKEY_SA, undefined, ProtocolId.ESP, spiToBytes(old.spiIn)));
    }
    this.nonceI = newNonce(sa);
    m.payloads.push({ type: PayloadType.SA, proposals: espProposals(cfg.espProposals, nc.spiIn, pfsGroup !== undefined) });
    m.payloads.push({ type: PayloadType.Nonce, data: this.nonceI });
    if (pfsGroup !== undefined) {
      this.dh = newDh(sa, pfsGroup);
      m.payloads.push({ type: PayloadType.KE, group: pfsGroup, data: this.dh.publicValue });
    }
    m.payloads.push({ type: PayloadType.TSi, selectors: nc.localTs.map(tsToWire) });
    m.payloads.push({ type: PayloadType.TSr, selectors: nc.remoteTs.map(tsToWire) });
    return 'success';
  }

  private processI(m: Message): TaskStatus {
    const sa = this.sa;
    const old = this.child;
    const nc = this.newChild!;
    const err = errorNotify(m);
    const saP = first(m, PayloadType.SA);
    const nonce = first(m, PayloadType.Nonce);
    if (err || !saP || !nonce) {
      const name = err ? notifyTypeName(err.notifyType) : 'malformed response';
      sa.lastError = `${this.type} refused: ${name}`;
      sa.count(`${this.type}-refused`);
      sa.discardChild(nc);
      if (old?.collision) {
        // The peer's rekey of the same child went through while ours was refused: it stands.
        const c = old.collision;
        old.collision = undefined;
        resolveRekey(sa, old, c.newChild);
        return 'failed';
      }
      if (old && old.state === 'rekeying') old.setState('installed');
      if (old && err?.notifyType === NotifyType.TEMPORARY_FAILURE) {
        // Retry on whichever IKE SA owns the child by then (an IKE rekey may be under way).
        sa.ctx.clock.setTimer(retryDelay(sa), () => {
          if (old.state === 'installed' && old.owner?.state === 'established') old.owner.queueChildRekey(old);
        });
      }
      if (old && err?.notifyType === NotifyType.CHILD_SA_NOT_FOUND) sa.removeChild(old, 'deleted-by-peer');
      return 'failed';
    }
    const ke = first(m, PayloadType.KE);
    const choice = acceptEspChoice(saP.proposals, sa.config!.espProposals, this.dh ? ke?.group : undefined);
    const ts = readTs(m);
    if (!choice || !ts || !tsSubset(ts.tsi, nc.localTs) || !tsSubset(ts.tsr, nc.remoteTs) || (this.dh && !ke)) {
      sa.lastError = `${this.type}: responder answered with a proposal or selectors we did not offer`;
      sa.count(`${this.type}-refused`);
      sa.discardChild(nc);
      if (old && old.state === 'rekeying') old.setState('installed');
      return 'failed';
    }
    let shared: Uint8Array | undefined;
    if (this.dh && ke) {
      try {
        shared = this.dh.computeShared(ke.data);
      } catch {
        sa.discardChild(nc);
        if (old && old.state === 'rekeying') old.setState('installed');
        return 'failed';
      }
    }
    this.nonceR = nonce.data;
    nc.suite = choice.suite;
    nc.spiOut = choice.peerSpi;
    nc.localTs = ts.tsi;
    nc.remoteTs = ts.tsr;
    nc.keys = sa.childKeys(choice.suite, this.nonceI!, this.nonceR, true, shared);
    shared?.fill(0);
    if (!old) {
      sa.installChild(nc);
      return 'success';
    }
    if (old.state === 'deleted' || (old.replacedBy && old.replacedBy !== nc)) {
      // The peer settled a collision before our answer came (it deleted the old child and
      // kept the child of its own exchange): ours is redundant. The peer installed it, so
      // install and delete it.
      sa.count('child-rekey-redundant');
      sa.installChild(nc, undefined, true);
      sa.queue(new ChildDeleteTask(sa, [nc], 'rekeyed'));
      return 'success';
    }
    const collision = old.collision;
    if (collision) {
      old.collision = undefined;
      const ours = minBytes(this.nonceI!, this.nonceR);
      const theirs = minBytes(collision.nonceI, collision.nonceR);
      const weLost = compareBytes(ours, theirs) < 0;
      sa.count('child-rekey-collision');
      sa.ctx.events.emit('rekey-collision', { ...sa.ref, kind: 'child', won: !weLost });
      if (weLost) {
        // Ours is redundant: install it (the peer did) and delete it; the peer deletes the old one.
        sa.installChild(nc, undefined, true);
        resolveRekey(sa, old, collision.newChild);
        sa.queue(new ChildDeleteTask(sa, [nc], 'rekeyed'));
        return 'success';
      }
      // We won: the peer deletes its new child, we delete the old one.
      sa.installChild(nc, undefined, true);
      resolveRekey(sa, old, nc);
      sa.queue(new ChildDeleteTask(sa, [old], 'rekeyed'));
      return 'success';
    }
    sa.installChild(nc, old);
    if (old.state === 'rekeying') old.setState('rekeyed');
    sa.queue(new ChildDeleteTask(sa, [old], 'rekeyed'));
    return 'success';
  }

  abandon(): void {
    if (this.newChild && this.newChild.state === 'created') this.sa.discardChild(this.newChild);
    if (this.child && this.child.state === 'rekeying') this.child.setState('installed');
  }

  // ---- responder -------------------------------------------------------------

  private processR(m: Message): TaskStatus {
    const sa = this.sa;
    const cfg = sa.config!;
    if (sa.state !== 'established') {
      this.error = { notify: NotifyType.TEMPORARY_FAILURE };
      return 'failed';
    }
    const rekey = findNotify(m, NotifyType.REKEY_SA);
    if (rekey) {
      const old = rekey.spi.length === 4 ? sa.childByOutSpi(spiFromBytes(rekey.spi)) : undefined;
      if (!old) {
        // A child our own exchange in flight is creating may be the one meant (its answer to
        // us was lost): ask the peer to try again rather than have it drop that child.
        const ours = sa.tasks.activeTask;
        const pending = ours !== undefined && ours.exchangeType === ExchangeType.CREATE_CHILD_SA;
        this.error = { notify: pending ? NotifyType.TEMPORARY_FAILURE : NotifyType.CHILD_SA_NOT_FOUND };
        return 'failed';
      }
      if (old.state !== 'installed' && old.state !== 'rekeying') {
        this.error = { notify: NotifyType.TEMPORARY_FAILURE };
        return 'failed';
      }
      this.rekeyed = old;
    }
    const saP = first(m, PayloadType.SA);
    const nonce = first(m, PayloadType.Nonce);
    const ts = readTs(m);
    if (!saP || !nonce || !ts) {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    const ke = first(m, PayloadType.KE);
    const choice = chooseEsp(saP.proposals, cfg.espProposals, ke?.group);
    if (!choice) {
      // A KE for a group we do not take, while a proposal without it or with another would do.
      const alt = ke ? chooseEsp(saP.proposals, cfg.espProposals, cfg.espProposals[0]!.dh[0]) : undefined;
      this.error = alt?.suite.dh !== undefined ? { notify: NotifyType.INVALID_KE_PAYLOAD, data: group16(alt.suite.dh) } : { notify: NotifyType.NO_PROPOSAL_CHOSEN };
      return 'failed';
    }
    const tsi = narrowTs(ts.tsi, cfg.remoteTs);
    const tsr = narrowTs(ts.tsr, cfg.localTs);
    if (tsi.length === 0 || tsr.length === 0) {
      this.error = { notify: NotifyType.TS_UNACCEPTABLE };
      return 'failed';
    }
    let shared: Uint8Array | undefined;
    if (ke && choice.suite.dh !== undefined) {
      this.dh = newDh(sa, choice.suite.dh);
      try {
        shared = this.dh.computeShared(ke.data);
      } catch {
        this.error = { notify: NotifyType.INVALID_SYNTAX };
        return 'failed';
      }
    }
    this.nonceI = nonce.data;
    this.nonceR = newNonce(sa);
    const nc = sa.newChild();
    nc.suite = choice.suite;
    nc.spiOut = choice.peerSpi;
    nc.localTs = tsr;
    nc.remoteTs = tsi;
    nc.keys = sa.childKeys(choice.suite, this.nonceI, this.nonceR, false, shared);
    shared?.fill(0);
    this.newChild = nc;
    this.chosen = { ...choice.proposal, spi: spiToBytes(nc.spiIn) };
    return 'success';
  }

  private buildR(m: Message): TaskStatus {
    const sa = this.sa;
    const nc = this.newChild;
    if (this.error || !nc || !this.chosen) {
      addNotify(m, this.error?.notify ?? NotifyType.NO_PROPOSAL_CHOSEN, this.error?.data);
      sa.count('create-child-refused');
      return 'failed';
    }
    m.payloads.push({ type: PayloadType.SA, proposals: [this.chosen] });
    m.payloads.push({ type: PayloadType.Nonce, data: this.nonceR! });
    if (this.dh) m.payloads.push({ type: PayloadType.KE, group: this.dh.group, data: this.dh.publicValue });
    m.payloads.push({ type: PayloadType.TSi, selectors: nc.remoteTs.map(tsToWire) });
    m.payloads.push({ type: PayloadType.TSr, selectors: nc.localTs.map(tsToWire) });
    const old = this.rekeyed;
    if (!old) {
      sa.installChild(nc);
    } else if (old.state === 'rekeying') {
      // Our own rekey of this child is in flight: decide when it completes.
      sa.installChild(nc, undefined, true);
      old.collision = { newChild: nc, nonceI: this.nonceI!, nonceR: this.nonceR! };
    } else {
      sa.installChild(nc, old);
      old.setState('rekeyed'); // the peer deletes it
    }
    return 'success';
  }
}

/** Rekey outcome after a collision: `old` was replaced by `winner`. */
export function resolveRekey(sa: IkeSa, old: ChildSa, winner: ChildSa): void {
  if (old.state === 'rekeying' || old.state === 'installed') old.setState('rekeyed');
  old.replacedBy = winner;
  sa.childRekeys++;
  sa.ctx.events.emit('child-rekeyed', { ...sa.childRef(old), newChildId: winner.childId, newSpiIn: winner.spiIn, newSpiOut: winner.spiOut });
}

function minBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? a : b;
}

/** The child-rekey task under its own name. */
export class ChildRekeyTask extends ChildCreateTask {
  constructor(sa: IkeSa, child: ChildSa) {
    super(sa, true, child);
  }
}
