/**
 * Deleting the IKE SA (RFC 7296 section 1.4.1): HDR, SK { D(IKE) } --> <-- HDR, SK { }.
 * The SA and its children are gone when the answer arrives, or when it never does.
 */
import { ExchangeType, PayloadType, ProtocolId } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { DownReason } from '../events.js';
import type { IkeSa } from '../ike-sa.js';
import type { Task, TaskStatus } from '../task.js';

export class IkeDeleteTask implements Task {
  readonly type = 'ike-delete' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = true;
  /** Do not wait long for the answer to a delete (strongSwan retransmits deletes fully; we cap at 2). */
  readonly maxRetransmits = 2;

  constructor(
    private readonly sa: IkeSa,
    readonly reason: DownReason,
  ) {}

  build(m: Message): TaskStatus {
    if (this.sa.canTransition('deleting')) this.sa.setState('deleting');
    m.payloads.push({ type: PayloadType.D, protocolId: ProtocolId.IKE, spis: [] });
    return 'success';
  }

  process(_m: Message): TaskStatus {
    this.sa.destroy(this.reason);
    return 'success';
  }

  onTimeout(): void {
    this.sa.destroy(this.reason);
  }
}
