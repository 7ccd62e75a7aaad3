/**
 * Rekeying the IKE SA (RFC 7296 sections 1.3.2 and 2.18):
 *
 *   HDR, SK { SA, Ni, KEi }  -->  <--  HDR, SK { SA, Nr, KEr }
 *
 * The SA payload carries the new SA's SPI of each side. SKEYSEED of the new SA is
 * prf(SK_d (old), g^ir (new) | Ni | Nr); the children move to the new SA, whose
 * initiator is the initiator of the rekey; the old SA is deleted by the rekey's initiator.
 *
 * Collision (section 2.8.1): both ends rekey at once. Each answers the other's request;
 * when our own exchange completes, the exchange with the lowest nonce loses: its new SA is
 * deleted by its initiator, and the winner's initiator deletes the old SA.
 */
import type { DhKeyPair } from '../../crypto/types.js';
import { ExchangeType, NotifyType, PayloadType, notifyTypeName } from '../constants.js';
import type { Message, Proposal } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import { addNotify, compareBytes, errorNotify, first, spi64Bytes, spi64FromBytes } from '../message.js';
import { acceptIkeChoice, chooseIke, ikeProposals, type IkeSuite } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';
import { ChildCreateTask, retryDelay } from './child-create.js';
import { ChildDeleteTask } from './child-delete.js';
import { IkeDeleteTask } from './ike-delete.js';
import { group16, newDh, newNonce } from './util.js';


export class IkeRekeyTask implements Task {
  readonly type = 'ike-rekey' as const;
  readonly exchangeType = ExchangeType.CREATE_CHILD_SA;
  private dh: DhKeyPair | undefined;
  private newSpi: bigint | undefined;
  private nonceI: Uint8Array | undefined;
  private nonceR: Uint8Array | undefined;
  // responder
  private error: { notify: number; data?: Uint8Array } | undefined;
  private chosen: { proposal: Proposal; suite: IkeSuite } | undefined;
  private peerSpi: bigint | undefined;
  private shared: Uint8Array | undefined;

  constructor(
    private readonly sa: IkeSa,
    readonly initiator = true,
  ) {}

  build(m: Message): TaskStatus {
    return this.initiator ? this.buildI(m) : this.buildR(m);
  }

  process(m: Message): TaskStatus {
    return this.initiator ? this.processI(m) : this.processR(m);
  }

  private buildI(m: Message): TaskStatus {
    const sa = this.sa;
    if (sa.state !== 'established' || !sa.suite) return 'failed';
    this.newSpi = sa.ctx.spis.allocateIke();
    this.dh = newDh(sa, sa.suite.dh);
    this.nonceI = newNonce(sa);
    sa.setState('rekeying');
    m.payloads.push({ type: PayloadType.SA, proposals: ikeProposals(sa.config!.ikeProposals, spi64Bytes(this.newSpi), sa.suite.dh) });
    m.payloads.push({ type: PayloadType.Nonce, data: this.nonceI });
    m.payloads.push({ type: PayloadType.KE, group: this.dh.group, data: this.dh.publicValue });
    return 'success';
  }

  private retryLater(detail: string): TaskStatus {
    const sa = this.sa;
    sa.lastError = detail;
    sa.count('ike-rekey-failed');
    if (this.newSpi !== undefined) sa.ctx.spis.releaseIke(this.newSpi);
    if (sa.state === 'rekeying') {
      sa.setState('established');
      const c = sa.rekeyCollision;
      if (c) {
        // The peer's rekey went through while ours failed: it is the successor.
        sa.rekeyCollision = undefined;
        completeRekey(sa, c.newSa, false);
        return 'failed';
      }
      sa.setTimer(retryDelay(sa), () => sa.queueIkeRekey());
    }
    return 'failed';
  }

  private processI(m: Message): TaskStatus {
    const sa = this.sa;
    const err = errorNotify(m);
    const saP = first(m, PayloadType.SA);
    const ke = first(m, PayloadType.KE);
    const nonce = first(m, PayloadType.Nonce);
    if (err || !saP || !ke || !nonce) return this.retryLater(`IKE rekey refused: ${err ? notifyTypeName(err.notifyType) : 'malformed response'}`);
    const suite = acceptIkeChoice(saP.proposals, sa.config!.ikeProposals);
    const spi = saP.proposals[0]?.spi;
    if (!suite || suite.dh !== this.dh!.group || ke.group !== this.dh!.group || !spi || spi.length !== 8) return this.retryLater('IKE rekey: unacceptable answer');
    let shared: Uint8Array;
    try {
      shared = this.dh!.computeShared(ke.data);
    } catch {
      return this.retryLater('IKE rekey: invalid KE');
    }
    this.nonceR = nonce.data;
    const newSa = spawn(sa, true, this.newSpi!, spi64FromBytes(spi), this.nonceI!, this.nonceR, suite, shared);
    shared.fill(0);
    const c = sa.rekeyCollision;
    if (c) {
      sa.rekeyCollision = undefined;
      const weLost = compareBytes(minBytes(this.nonceI!, this.nonceR), minBytes(c.nonceI, c.nonceR)) < 0;
      sa.count('ike-rekey-collision');
      sa.ctx.events.emit('rekey-collision', { ...sa.ref, kind: 'ike', won: !weLost });
      if (weLost) {
        // Our new SA is redundant: delete it; the peer (winner) deletes the old one.
        newSa.setState('established');
        newSa.establishedAt = sa.ctx.clock.now();
        newSa.startTimers(); // DPD, lifetimes: it must not outlive a lost DELETE
        sa.ctx.register(newSa);
        newSa.queue(new IkeDeleteTask(newSa, 'rekeyed'));
        completeRekey(sa, c.newSa, false);
        return 'success';
      }
      // We won: the peer deletes its new SA (c.newSa); we delete the old one.
    }
    completeRekey(sa, newSa, true);
    return 'success';
  }

  abandon(): void {
    if (this.newSpi !== undefined && this.initiator && !this.nonceR) this.sa.ctx.spis.releaseIke(this.newSpi);
  }

  // ---- responder -------------------------------------------------------------

  private processR(m: Message): TaskStatus {
    const sa = this.sa;
    if (sa.state !== 'established' && sa.state !== 'rekeying') {
      this.error = { notify: NotifyType.TEMPORARY_FAILURE };
      return 'failed';
    }
    if (sa.tasks.has((t) => t.type === 'child-rekey' || t.type === 'child-create') && sa.tasks.activeTask?.exchangeType === ExchangeType.CREATE_CHILD_SA && sa.tasks.activeTask.type !== 'ike-rekey') {
      this.error = { notify: NotifyType.TEMPORARY_FAILURE }; // a child exchange of ours is in flight (section 2.25)
      return 'failed';
    }
    const saP = first(m, PayloadType.SA);
    const ke = first(m, PayloadType.KE);
    const nonce = first(m, PayloadType.Nonce);
    if (!saP || !ke || !nonce) {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    const chosen = chooseIke(saP.proposals, sa.config!.ikeProposals, ke.group);
    if (!chosen) {
      this.error = { notify: NotifyType.NO_PROPOSAL_CHOSEN };
      return 'failed';
    }
    if (chosen.suite.dh !== ke.group) {
      this.error = { notify: NotifyType.INVALID_KE_PAYLOAD, data: group16(chosen.suite.dh) };
      return 'failed';
    }
    if (chosen.proposal.spi.length !== 8) {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    this.peerSpi = spi64FromBytes(chosen.proposal.spi);
    this.dh = newDh(sa, chosen.suite.dh);
    try {
      this.shared = this.dh.computeShared(ke.data);
    } catch {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    this.nonceI = nonce.data;
    this.nonceR = newNonce(sa);
    this.newSpi = sa.ctx.spis.allocateIke();
    this.chosen = chosen;
    return 'success';
  }

  private buildR(m: Message): TaskStatus {
    const sa = this.sa;
    if (this.error || !this.chosen || !this.dh || !this.shared) {
      addNotify(m, this.error?.notify ?? NotifyType.NO_PROPOSAL_CHOSEN, this.error?.data);
      sa.count('ike-rekey-refused');
      return 'failed';
    }
    const newSa = spawn(sa, false, this.newSpi!, this.peerSpi!, this.nonceI!, this.nonceR!, this.chosen.suite, this.shared);
    this.shared.fill(0);
    if (sa.state === 'rekeying') {
      // Our own rekey is in flight: the winner is decided when it completes.
      newSa.setState('established');
      newSa.establishedAt = sa.ctx.clock.now();
      newSa.startTimers();
      sa.ctx.register(newSa);
      sa.rekeyCollision = { newSa, nonceI: this.nonceI!, nonceR: this.nonceR! };
    } else {
      completeRekey(sa, newSa, false); // the peer deletes the old SA
    }
    m.payloads.push({ type: PayloadType.SA, proposals: [{ ...this.chosen.proposal, spi: spi64Bytes(this.newSpi!) }] });
    m.payloads.push({ type: PayloadType.Nonce, data: this.nonceR! });
    m.payloads.push({ type: PayloadType.KE, group: this.dh.group, data: this.dh.publicValue });
    return 'success';
  }
}

/** Creates the successor SA of `old` with fresh keys. */
function spawn(old: IkeSa, weInitiated: boolean, ourSpi: bigint, peerSpi: bigint, ni: Uint8Array, nr: Uint8Array, suite: IkeSuite, shared: Uint8Array): IkeSa {
  const n = old.ctx.createIkeSa({
    initiator: weInitiated,
    spiI: weInitiated ? ourSpi : peerSpi,
    spiR: weInitiated ? peerSpi : ourSpi,
    local: old.local,
    remote: old.remote,
    ...(old.config ? { config: old.config } : {}),
  });
  n.nonceI = ni;
  n.nonceR = nr;
  n.deriveKeys(suite, shared, old);
  n.remoteIdentity = old.remoteIdentity;
  n.natLocal = old.natLocal;
  n.natRemote = old.natRemote;
  n.peerIsMeshgate = old.peerIsMeshgate;
  n.rekeys = old.rekeys + 1;
  n.upSince = old.upSince;
  return n;
}

/**
 * `successor` replaces `old`: children move, the successor is established and indexed,
 * the old SA is marked rekeyed; `deleteOld` queues the old SA's DELETE (the rekey's
 * initiator or the collision's winner does that).
 */
export function completeRekey(old: IkeSa, successor: IkeSa, deleteOld: boolean): void {
  old.moveChildrenTo(successor);
  old.passCountersTo(successor);
  if (successor.state === 'created') successor.setState('established');
  old.ctx.register(successor);
  // Child work still queued on the old SA continues on the successor, once the answer that
  // tells the peer about the successor is out (a 0 ms job runs after the current message).
  const moved = old.tasks.takeQueued((t) => t.type === 'child-delete' || t.type === 'child-rekey');
  if (moved.length > 0) {
    successor.setTimer(0, () => {
      for (const t of moved) {
        if (t instanceof ChildDeleteTask) for (const c of t.children) successor.queueChildDelete(c, t.reason);
        else if (t instanceof ChildCreateTask && t.child) successor.queueChildRekey(t.child);
      }
    });
  }
  successor.establishedAt = old.ctx.clock.now();
  successor.startTimers();
  old.replacedBy = successor;
  if (old.state === 'established' || old.state === 'rekeying') old.setState('rekeyed');
  old.ctx.events.emit('ike-rekeyed', { ...old.ref, newIkeId: successor.ikeId });
  old.ctx.onRekeyed(old, successor);
  if (deleteOld) old.queue(new IkeDeleteTask(old, 'rekeyed'));
}

function minBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? a : b;
}

export { spawn as spawnRekeyedSa };
