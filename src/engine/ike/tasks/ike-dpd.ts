/**
 * Liveness check (RFC 7296 section 2.4): an empty INFORMATIONAL request,
 * HDR, SK { } --> <-- HDR, SK { }.
 *
 * Timing, as an administrator reads the General profile (DPD-Inact-Timer T, Retries R): the
 * check is sent after T seconds without anything from the peer, retransmitted every
 * DPD_RETRY_INTERVAL_MS (5 s) up to R times, and the peer counts as dead 5 s after the last
 * retransmission: T + (R + 1) x 5 s after the last packet from it (defaults 30 s and 5: 60 s).
 * Inbound ESP is sampled from the data path when the DPD timer runs, so after an ESP packet
 * the silence may count from up to T later.
 * A fixed interval rather than the exponential IKE backoff keeps that sum short and plain.
 */
import { ExchangeType } from '../constants.js';
import type { Message } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import type { Task, TaskStatus } from '../task.js';

/** Wait between DPD retransmissions, and after the last one until the peer counts as dead. */
export const DPD_RETRY_INTERVAL_MS = 5_000;

/** When a silent peer is declared dead: interval + (retries + 1) x the retry interval. */
export function dpdDeadAfterMs(intervalMs: number, retries: number): number {
  return intervalMs + (retries + 1) * DPD_RETRY_INTERVAL_MS;
}

export class IkeDpdTask implements Task {
  readonly type = 'ike-dpd' as const;
  readonly exchangeType = ExchangeType.INFORMATIONAL;
  readonly initiator = true;
  readonly maxRetransmits: number;
  readonly retransmitIntervalMs = DPD_RETRY_INTERVAL_MS;

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
