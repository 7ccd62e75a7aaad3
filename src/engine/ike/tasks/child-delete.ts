/**
 * Deleting child SAs (RFC 7296 section 1.4.1):
 *
 *   HDR, SK { D(ESP, our inbound SPIs) }  -->  <--  HDR, SK { D(ESP, peer's inbound SPIs) }
 */
import { ExchangeType, PayloadType, ProtocolId } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { ChildSa } from '../child-sa.js';
import type { DownReason } from '../events.js';
import type { IkeSa } from '../ike-sa.js';
import { spiToBytes } from '../proposal.js';
import type { Task, TaskStatus } from '../task.js';

export class ChildDeleteTask implements Task {
  readonly type = 'child-delete' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = true;

  constructor(
    private readonly sa: IkeSa,
    readonly children: ChildSa[],
    readonly reason: DownReason,
  ) {}

  build(m: Message): TaskStatus {
    const live = this.children.filter((c) => this.sa.children.get(c.childId) === c && c.state !== 'deleted');
    if (live.length === 0) return 'failed';
    for (const c of live) if (c.canTransition('deleting')) c.setState('deleting');
    m.payloads.push({ type: PayloadType.D, protocolId: ProtocolId.ESP, spis: live.map((c) => spiToBytes(c.spiIn)) });
    return 'success';
  }

  process(_m: Message): TaskStatus {
    // A child may have moved to the successor of an IKE rekey meanwhile: remove it there.
    for (const c of this.children) c.owner?.removeChild(c, this.reason);
    return 'success';
  }

  abandon(): void {
    // The SA is going away and removes its own children; a child that moved to the successor
    // of an IKE rekey while this exchange was in flight is deleted from there.
    for (const c of this.children) {
      if (c.owner && c.owner !== this.sa && c.state !== 'deleted') c.owner.queueChildDelete(c, this.reason);
    }
  }
}
