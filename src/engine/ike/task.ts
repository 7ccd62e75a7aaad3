/**
 * IKE work as tasks (after strongSwan's task_t). A task carries one exchange's protocol
 * logic for one role, fixed when it is created:
 *
 *   initiator: build(request) -> send -> process(response) [-> build(next request) ...]
 *   responder: process(request) -> build(response) -> send
 *
 * Only the TaskManager touches message IDs, retransmission and the wire.
 */
import type { Message } from './codec/types.js';

export type TaskStatus =
  /** The exchange is complete for this task. */
  | 'success'
  /** (initiator) another request of the same task must be sent (INVALID_KE_PAYLOAD, COOKIE retry). */
  | 'need-more'
  /** The task failed; it already did what the failure means to the SA (e.g. took it down). */
  | 'failed'
  /** (responder) process() waits for something asynchronous: build() once `pending` settles. */
  | 'pending';

export type TaskType = 'ike-init' | 'ike-auth' | 'child-create' | 'child-rekey' | 'child-delete' | 'ike-rekey' | 'ike-delete' | 'ike-dpd' | 'informational';

export interface Task {
  readonly type: TaskType;
  /** ExchangeType of the messages this task builds (initiator) or answers (responder). */
  readonly exchangeType: number;
  readonly initiator: boolean;
  build(message: Message): TaskStatus;
  process(message: Message): TaskStatus;
  /** Retransmissions allowed before giving up; the peer config's when absent. */
  readonly maxRetransmits?: number;
  /** A fixed wait between retransmissions (DPD); the peer config's exponential backoff when absent. */
  readonly retransmitIntervalMs?: number;
  /** Called when the exchange timed out (the task manager then takes the SA down). */
  onTimeout?(): void;
  /** Called when the SA dies with this task still queued or active. */
  abandon?(): void;
  /** (responder) Set with status 'pending': the response is built once it settles. */
  readonly pending?: Promise<void> | undefined;
  /** (responder) The pending work did not settle in time; build() then answers with an error. */
  onPendingTimeout?(): void;
}
