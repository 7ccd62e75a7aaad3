/**
 * Liveness check (RFC 7296 section 2.4): an empty INFORMATIONAL request,
 * HDR, SK { } --> <-- HDR, SK { }. No answer after the DPD retries takes the SA down.
 */
import { ExchangeType } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import type { Task, TaskStatus } from '../task.js';

export class IkeDpdTask implements Task {
  readonly type = 'ike-dpd' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = true;
  readonly maxRetransmits: number;

  constructor(private readonly sa: IkeSa) {
    this.maxRetransmits = sa.config?.dpdRetries ?? 3;
  }

  build(_m: Message): TaskStatus {
    this.sa.count('dpd-sent');
    return 'success';
  }

  process(_m: Message): TaskStatus {
    return 'success';
  }
}
