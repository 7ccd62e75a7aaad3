/**
 * IKE_SA_INIT (RFC 7296 section 1.2):
 *
 *   HDR, SAi1, KEi, Ni, N(NATD_S_IP), N(NATD_D_IP), [V]  -->
 *                                  <--  HDR, SAr1, KEr, Nr, N(NATD_S_IP), N(NATD_D_IP), [V]
 *
 * Retries of the initiator (same message ID 0): N(COOKIE) (section 2.6: resend with the
 * cookie first), N(INVALID_KE_PAYLOAD) (section 1.2: resend with the requested group).
 */
import type { DhKeyPair } from '../../crypto/types.js';
import { isSupportedDhGroup } from '../../crypto/dh.js';
import { ExchangeType, MESHGATE_VENDOR_ID, NotifyType, PayloadType, notifyTypeName } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import { addNotify, bytesEqual, errorNotify, findNotify, first, notifyPayload } from '../message.js';
import { acceptIkeChoice, chooseIke, ikeProposals, type IkeSuite } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';
import { addNatd, checkNatd, group16, newDh, newNonce } from './util.js';
import { addInitAuthPayloads } from './sig-auth.js';

/** Retries on COOKIE / INVALID_KE_PAYLOAD before giving up (a peer that keeps asking is broken). */
const MAX_INIT_RETRIES = 3;

export class IkeInitTask implements Task {
  readonly type = 'ike-init' as const;
  readonly exchangeType = ExchangeType.IKE_SA_INIT;
  private dh: DhKeyPair | undefined;
  private group: number | undefined;
  private cookie: Uint8Array | undefined;
  private retries = 0;
  // responder
  private error: { notify: number; data?: Uint8Array } | undefined;
  private chosen: { proposal: import('../codec/types.js').Proposal; suite: IkeSuite } | undefined;

  /** Fewer retransmissions for a probe (failback to the primary gateway); the peer config's when absent. */
  readonly maxRetransmits?: number;

  constructor(
    private readonly sa: IkeSa,
    readonly initiator: boolean,
    maxRetransmits?: number,
  ) {
    if (maxRetransmits !== undefined) this.maxRetransmits = maxRetransmits;
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
    this.group ??= cfg.ikeProposals[0]!.dh[0]!;
    if (!this.dh || this.dh.group !== this.group) this.dh = newDh(sa, this.group);
    sa.nonceI ??= newNonce(sa);
    if (this.cookie) m.payloads.push(notifyPayload(NotifyType.COOKIE, this.cookie));
    m.payloads.push({ type: PayloadType.SA, proposals: ikeProposals(cfg.ikeProposals, new Uint8Array(0), this.group) });
    m.payloads.push({ type: PayloadType.KE, group: this.group, data: this.dh.publicValue });
    m.payloads.push({ type: PayloadType.Nonce, data: sa.nonceI });
    addNatd(sa, m);
    addInitAuthPayloads(sa, m);
    if (cfg.sendVendorId) m.payloads.push({ type: PayloadType.V, data: Uint8Array.from(MESHGATE_VENDOR_ID) });
    if (sa.state === 'created') sa.setState('connecting');
    return 'success';
  }

  private processI(m: Message): TaskStatus {
    const sa = this.sa;
    const cookie = findNotify(m, NotifyType.COOKIE);
    if (cookie) {
      if (++this.retries > MAX_INIT_RETRIES) return this.failI('protocol-error', 'peer keeps demanding a cookie');
      this.cookie = cookie.data;
      sa.count('cookie-retry');
      return 'need-more';
    }
    const invalidKe = findNotify(m, NotifyType.INVALID_KE_PAYLOAD);
    if (invalidKe) {
      const g = invalidKe.data.length === 2 ? (invalidKe.data[0]! << 8) | invalidKe.data[1]! : -1;
      const offered = sa.config!.ikeProposals.some((p) => p.dh.includes(g));
      if (!offered || !isSupportedDhGroup(g) || g === this.group || ++this.retries > MAX_INIT_RETRIES) {
        return this.failI('invalid-ke', `peer asked for DH group ${g}, which is not acceptable`);
      }
      sa.count('invalid-ke-retry');
      this.group = g;
      return 'need-more';
    }
    const err = errorNotify(m);
    if (err) {
      const name = notifyTypeName(err.notifyType);
      return this.failI(err.notifyType === NotifyType.NO_PROPOSAL_CHOSEN ? 'no-proposal-chosen' : 'protocol-error', `peer refused IKE_SA_INIT: ${name}`);
    }
    const saP = first(m, PayloadType.SA);
    const ke = first(m, PayloadType.KE);
    const nonce = first(m, PayloadType.Nonce);
    if (!saP || !ke || !nonce || m.spiR === 0n) return this.failI('protocol-error', 'IKE_SA_INIT response lacks SA, KE, Nr or SPIr');
    const suite = acceptIkeChoice(saP.proposals, sa.config!.ikeProposals);
    if (!suite) return this.failI('no-proposal-chosen', 'IKE_SA_INIT response chose a proposal we did not offer');
    if (suite.dh !== this.group || ke.group !== this.group) return this.failI('protocol-error', `responder chose DH group ${suite.dh}/${ke.group}, we sent ${this.group}`);
    sa.spiR = m.spiR;
    sa.nonceR = nonce.data;
    checkNatd(sa, m);
    sa.peerIsMeshgate = m.payloads.some((p) => p.type === PayloadType.V && bytesEqual(p.data, MESHGATE_VENDOR_ID));
    let shared: Uint8Array;
    try {
      shared = this.dh!.computeShared(ke.data);
    } catch (e) {
      return this.failI('protocol-error', `invalid KE from peer: ${(e as Error).message}`);
    }
    sa.deriveKeys(suite, shared);
    shared.fill(0);
    sa.ctx.register(sa);
    // RFC 7296 section 2.23: IKE_AUTH and everything after go to port 4500 (always, since
    // ESP must travel in UDP; the forced NAT detection told the peer to expect it).
    sa.ctx.floatToNatT?.(sa);
    return 'success';
  }

  private failI(reason: 'invalid-ke' | 'no-proposal-chosen' | 'protocol-error', detail: string): TaskStatus {
    this.sa.fail(reason, detail);
    return 'failed';
  }

  // ---- responder -------------------------------------------------------------

  private processR(m: Message): TaskStatus {
    const sa = this.sa;
    const saP = first(m, PayloadType.SA);
    const ke = first(m, PayloadType.KE);
    const nonce = first(m, PayloadType.Nonce);
    sa.setState('connecting');
    if (!saP || !ke || !nonce) {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    sa.nonceI = nonce.data;
    checkNatd(sa, m);
    sa.peerIsMeshgate = m.payloads.some((p) => p.type === PayloadType.V && bytesEqual(p.data, MESHGATE_VENDOR_ID));
    const chosen = chooseIke(saP.proposals, sa.ctx.responderIkeProposals(sa.remote), ke.group);
    if (!chosen) {
      sa.count('no-proposal-chosen');
      this.error = { notify: NotifyType.NO_PROPOSAL_CHOSEN };
      return 'failed';
    }
    if (chosen.suite.dh !== ke.group) {
      sa.count('invalid-ke-sent');
      this.error = { notify: NotifyType.INVALID_KE_PAYLOAD, data: group16(chosen.suite.dh) };
      return 'failed';
    }
    this.dh = newDh(sa, chosen.suite.dh);
    let shared: Uint8Array;
    try {
      shared = this.dh.computeShared(ke.data);
    } catch {
      this.error = { notify: NotifyType.INVALID_SYNTAX };
      return 'failed';
    }
    sa.nonceR = newNonce(sa);
    sa.deriveKeys(chosen.suite, shared);
    shared.fill(0);
    this.chosen = chosen;
    return 'success';
  }

  private buildR(m: Message): TaskStatus {
    const sa = this.sa;
    if (this.error || !this.chosen || !this.dh) {
      m.spiR = 0n; // nothing is kept for this SA (RFC 7296 section 2.6)
      addNotify(m, this.error?.notify ?? NotifyType.INVALID_SYNTAX, this.error?.data);
      return 'failed';
    }
    m.payloads.push({ type: PayloadType.SA, proposals: [this.chosen.proposal] });
    m.payloads.push({ type: PayloadType.KE, group: this.dh.group, data: this.dh.publicValue });
    m.payloads.push({ type: PayloadType.Nonce, data: sa.nonceR! });
    addNatd(sa, m, !sa.peerIsMeshgate);
    addInitAuthPayloads(sa, m);
    m.payloads.push({ type: PayloadType.V, data: Uint8Array.from(MESHGATE_VENDOR_ID) });
    return 'success';
  }
}
