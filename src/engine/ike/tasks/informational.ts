/**
 * The responder of INFORMATIONAL requests (RFC 7296 section 1.4):
 *  - HDR, SK { D(IKE) }          -->  <--  HDR, SK { }            the SA is gone afterwards
 *  - HDR, SK { D(ESP, SPIs...) } -->  <--  HDR, SK { D(ESP, ours) }
 *  - HDR, SK { }                 -->  <--  HDR, SK { }            liveness check
 *  - notifies: error notifies are recorded as the SA's last error.
 */
import { ExchangeType, NOTIFY_PRIVATE_STATUS_MAX, NOTIFY_PRIVATE_STATUS_MIN, NotifyType, PayloadType, ProtocolId, isErrorNotify, notifyTypeName } from '../constants.js';
import type { Message, NotifyPayload, Payload } from '../codec/types.js';
import type { ChildSa } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { all } from '../message.js';
import { resolveRekey } from './child-create.js';
import { completeRekey } from './ike-rekey.js';
import { spiFromBytes, spiToBytes } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';

export class InformationalResponder implements Task {
  readonly type = 'informational' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = false;
  private deleteIke = false;
  private deleteChildren: ChildSa[] = [];
  private answer: Payload[] = [];
  private authFailed = false;

  constructor(private readonly sa: IkeSa) {}

  process(m: Message): TaskStatus {
    const sa = this.sa;
    for (const d of all(m, PayloadType.D)) {
      if (d.protocolId === ProtocolId.IKE) {
        this.deleteIke = true;
        // Our rekey of this SA collided with the peer's, and the peer deletes the old SA: the
        // peer never saw our request, its rekey stands (the children move to its new SA).
        const c = sa.rekeyCollision;
        if (c && c.newSa.alive) {
          sa.rekeyCollision = undefined;
          sa.count('ike-rekey-collision-resolved-by-delete');
          completeRekey(sa, c.newSa, false);
        }
      }
      else if (d.protocolId === ProtocolId.ESP) {
        for (const spi of d.spis) {
          // After an IKE rekey the children live on the successor; a delete may still come on the old SA.
          const c = spi.length === 4 ? sa.childByOutSpi(spiFromBytes(spi)) ?? sa.replacedBy?.childByOutSpi(spiFromBytes(spi)) : undefined;
          if (c && !this.deleteChildren.includes(c)) this.deleteChildren.push(c);
          else if (!c) sa.count('delete-unknown-spi');
        }
      }
    }
    const privateNotifies: NotifyPayload[] = [];
    for (const n of all(m, PayloadType.N)) {
      if (n.notifyType === NotifyType.AUTHENTICATION_FAILED) {
        // The initiator did not accept our AUTH: the SA is dead (RFC 7296 section 2.21.2).
        this.authFailed = true;
        sa.count('auth-failed-by-peer');
        sa.ctx.events.emit('auth-failed', { ...sa.ref, side: 'remote', detail: 'peer sent AUTHENTICATION_FAILED' });
      }
      if (isErrorNotify(n.notifyType)) sa.lastError = `peer sent ${notifyTypeName(n.notifyType)}`;
      else if (n.notifyType >= NOTIFY_PRIVATE_STATUS_MIN && n.notifyType <= NOTIFY_PRIVATE_STATUS_MAX) privateNotifies.push(n);
    }
    if (privateNotifies.length > 0) {
      if (!sa.peerIsMeshgate) sa.count('private-notify-ignored');
      else {
        for (const n of privateNotifies) sa.ctx.events.emit('private-notify', { ...sa.ref, notifyType: n.notifyType, data: n.data });
        this.answer = sa.ctx.answerPrivate?.(sa, privateNotifies) ?? [];
      }
    }
    if (m.payloads.length === 0) sa.count('dpd-answered');
    return 'success';
  }

  build(m: Message): TaskStatus {
    if (this.deleteIke) return 'success';
    m.payloads.push(...this.answer);
    if (this.deleteChildren.length > 0) {
      m.payloads.push({ type: PayloadType.D, protocolId: ProtocolId.ESP, spis: this.deleteChildren.map((c) => spiToBytes(c.spiIn)) });
      for (const c of this.deleteChildren) {
        if (c.state === 'deleted') continue;
        if (c.collision && c.collision.newChild.state !== 'deleted') {
          // Same for a child: the peer's rekey stands, ours (still in flight) will be refused.
          const winner = c.collision.newChild;
          c.collision = undefined;
          resolveRekey(c.owner ?? this.sa, c, winner);
        }
        (c.owner ?? this.sa).removeChild(c, c.state === 'rekeyed' || c.replacedBy ? 'rekeyed' : 'deleted-by-peer');
      }
    }
    return 'success';
  }

  completed(): void {
    const sa = this.sa;
    if (this.authFailed && sa.alive) {
      sa.fail('auth-failed', sa.lastError ?? 'peer sent AUTHENTICATION_FAILED');
      return;
    }
    if (this.deleteIke && sa.alive) sa.destroy(sa.state === 'rekeyed' ? 'rekeyed' : 'deleted-by-peer');
  }
}

/**
 * An INFORMATIONAL request with payloads chosen by the caller, e.g. meshgate's private
 * notifies (MESH_*): HDR, SK { N(...), ... } --> <-- HDR, SK { ... }.
 */
export class InformationalTask implements Task {
  readonly type = 'informational' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = true;

  constructor(
    private readonly sa: IkeSa,
    private readonly payloads: Payload[],
    private readonly onResponse?: (response: Message) => void,
    private readonly onFailure?: () => void,
  ) {}

  build(m: Message): TaskStatus {
    m.payloads.push(...this.payloads);
    return 'success';
  }

  process(m: Message): TaskStatus {
    this.onResponse?.(m);
    return 'success';
  }

  onTimeout(): void {
    this.onFailure?.();
  }

  abandon(): void {
    this.onFailure?.();
  }
}
