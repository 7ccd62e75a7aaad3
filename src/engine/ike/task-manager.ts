/**
 * The task manager of one IKE SA (after strongSwan's task_manager_v2): it alone owns
 * message IDs, retransmission and the response cache.
 *
 *  - Initiator side: a window of one. Tasks wait in `queued`; one at a time becomes
 *    `active`, builds a request, and is retransmitted with exponential backoff
 *    (timeout * base^n, n = 0..tries) until a response with its message ID arrives. After
 *    the last try the exchange times out and the SA goes down.
 *  - Responder side: the request with the expected message ID is processed by a fresh
 *    `passive` task and answered; the encoded answer is cached, and a retransmitted
 *    request (the previous ID) gets the cached answer again, unprocessed.
 *  - A passive task may suspend (status 'pending', e.g. IKE_AUTH waiting for the engine's
 *    site lookup or authorisation hook): the expected message ID stays where it is,
 *    retransmissions of that request are ignored, and the response is built and sent when
 *    the task's work settles, or after the hook timeout (the task then answers an error).
 */
import type { Timer } from '../clock.js';
import { ExchangeType, exchangeTypeName } from './constants.js';
import type { Message } from './codec/types.js';
import type { IkeSa, IkeSaState } from './ike-sa.js';
import { describe, newMessage } from './message.js';
import { DEFAULT_RETRANSMIT } from './peer-config.js';
import { DEFAULT_AUTH_HOOK_TIMEOUT_MS } from './auth-hooks.js';
import type { Task } from './task.js';
import { createResponderTask } from './tasks/responder.js';

/** Which initiator tasks may start in which IKE SA state. */
function allowed(state: IkeSaState, task: Task): boolean {
  switch (state) {
    case 'created':
      return task.type === 'ike-init';
    case 'connecting':
      return task.type === 'ike-auth';
    case 'established':
      return task.type !== 'ike-init' && task.type !== 'ike-auth';
    case 'rekeying':
      return task.type === 'ike-delete' || task.type === 'ike-dpd';
    case 'rekeyed':
      return task.type === 'ike-delete';
    default:
      return false;
  }
}

export class TaskManager {
  private readonly queued: Task[] = [];
  private active: Task | undefined;
  /** The responder task of the request being processed (strongSwan's passive tasks). */
  private passive: Task | undefined;
  private readonly initiating = { mid: 0, packet: undefined as Uint8Array | undefined, retransmits: 0, timer: undefined as Timer | undefined };
  private readonly responding = { mid: 0, packet: undefined as Uint8Array | undefined };
  private processing = false;
  /** A request whose processing waits (see the header). */
  private suspended: { messageId: number; timer: Timer; token: object } | undefined;
  /** Exchanges completed as initiator / answered as responder (for tests and `show ike`). */
  completedExchanges = 0;
  answeredRequests = 0;
  lastSent: Message | undefined;

  constructor(private readonly sa: IkeSa) {}

  /** An exchange we initiated is in flight. */
  get busy(): boolean {
    return this.active !== undefined;
  }

  get activeTask(): Task | undefined {
    return this.active;
  }

  get queuedTasks(): readonly Task[] {
    return this.queued;
  }

  get passiveTask(): Task | undefined {
    return this.passive;
  }

  /** Next message ID we will use as initiator / expect as responder. */
  get messageIds(): { initiating: number; responding: number } {
    return { initiating: this.initiating.mid, responding: this.responding.mid };
  }

  has(pred: (t: Task) => boolean): boolean {
    return (this.active !== undefined && pred(this.active)) || this.queued.some(pred);
  }

  queue(task: Task): void {
    this.queued.push(task);
    this.initiate();
  }

  /** Starts the next queued task that the SA's state allows, if none is active. */
  initiate(): void {
    if (this.active || this.processing || !this.sa.alive) return;
    const i = this.queued.findIndex((t) => allowed(this.sa.state, t));
    if (i < 0) return;
    this.active = this.queued.splice(i, 1)[0]!;
    this.sendRequest();
  }

  private sendRequest(): void {
    const task = this.active!;
    const isInit = task.exchangeType === ExchangeType.IKE_SA_INIT;
    const msg = newMessage({
      spiI: this.sa.spiI,
      spiR: this.sa.spiR,
      exchangeType: task.exchangeType,
      initiator: this.sa.initiator,
      response: false,
      messageId: isInit ? 0 : this.initiating.mid,
    });
    const status = this.guard(() => task.build(msg));
    if (!this.sa.alive) return;
    if (status === 'failed') {
      this.active = undefined;
      this.initiate();
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = this.sa.encode(msg);
    } catch (err) {
      this.sa.count('encode-error');
      this.sa.fail('protocol-error', `cannot encode ${describe(msg)}: ${(err as Error).message}`);
      return;
    }
    if (isInit) this.sa.initRequest = bytes;
    this.lastSent = msg;
    this.sa.ctx.trace?.('out', this.sa, msg);
    this.initiating.packet = bytes;
    this.initiating.retransmits = 0;
    this.sa.ctx.sendIke(this.sa, bytes);
    this.armRetransmit();
  }

  private armRetransmit(): void {
    const cfg = this.sa.config?.retransmit ?? DEFAULT_RETRANSMIT;
    const delay = this.active?.retransmitIntervalMs ?? cfg.timeoutMs * cfg.base ** this.initiating.retransmits;
    this.initiating.timer?.cancel();
    this.initiating.timer = this.sa.ctx.clock.setTimer(delay, () => this.expiredRetransmit());
  }

  private expiredRetransmit(): void {
    const task = this.active;
    const packet = this.initiating.packet;
    if (!task || !packet || !this.sa.alive) return;
    const cfg = this.sa.config?.retransmit ?? DEFAULT_RETRANSMIT;
    const max = task.maxRetransmits ?? cfg.tries;
    const exchange = exchangeTypeName(task.exchangeType);
    const messageId = task.exchangeType === ExchangeType.IKE_SA_INIT ? 0 : this.initiating.mid;
    if (this.initiating.retransmits >= max) {
      this.sa.count('exchange-timeout');
      this.sa.ctx.events.emit('timeout', { ...this.sa.ref, exchange, messageId });
      this.active = undefined;
      task.onTimeout?.();
      if (this.sa.alive) {
        const reason = task.type === 'ike-dpd' ? 'dpd-timeout' : 'timeout';
        this.sa.fail(reason, `no response to ${exchange} request ${messageId} after ${max} retransmissions`);
      }
      return;
    }
    this.initiating.retransmits++;
    this.sa.count('retransmits');
    this.sa.ctx.events.emit('retransmit', { ...this.sa.ref, exchange, messageId, attempt: this.initiating.retransmits });
    this.sa.ctx.sendIke(this.sa, packet);
    this.armRetransmit();
  }

  /** A decrypted message for this SA. `raw` is the message as received (IKE_SA_INIT signs it). */
  onMessage(msg: Message, raw: Uint8Array): void {
    this.sa.ctx.trace?.('in', this.sa, msg);
    if (msg.response) this.processResponse(msg, raw);
    else this.processRequest(msg, raw);
  }

  private processResponse(msg: Message, raw: Uint8Array): void {
    const task = this.active;
    const isInit = msg.exchangeType === ExchangeType.IKE_SA_INIT;
    const expected = isInit ? 0 : this.initiating.mid;
    if (!task || msg.messageId !== expected || msg.exchangeType !== task.exchangeType) {
      this.sa.count('unexpected-response');
      return;
    }
    this.initiating.timer?.cancel();
    this.initiating.packet = undefined;
    if (isInit) this.sa.initResponse = raw;
    this.sa.onInbound();
    // The exchange is complete: the next request uses the next ID (IKE_SA_INIT retries keep 0).
    if (!isInit) this.initiating.mid++;
    const status = this.guard(() => task.process(msg));
    if (!this.sa.alive) return;
    if (isInit && status !== 'need-more') this.initiating.mid = 1;
    if (status === 'need-more') {
      this.sendRequest();
      return;
    }
    this.completedExchanges++;
    this.active = undefined;
    this.initiate();
  }

  /** A request is being processed asynchronously (its response is not sent yet). */
  get pendingRequest(): number | undefined {
    return this.suspended?.messageId;
  }

  private processRequest(msg: Message, raw: Uint8Array): void {
    if (this.suspended) {
      // One request at a time (window of one): its retransmissions wait for the same answer.
      this.sa.count(msg.messageId === this.suspended.messageId ? 'retransmit-while-pending' : 'invalid-message-id');
      if (msg.messageId === this.suspended.messageId) this.sa.onInbound();
      return;
    }
    if (msg.messageId !== this.responding.mid) {
      if (msg.messageId === this.responding.mid - 1 && this.responding.packet) {
        this.sa.count('retransmitted-request');
        this.sa.onInbound();
        this.sa.ctx.sendIke(this.sa, this.responding.packet);
      } else {
        this.sa.count('invalid-message-id');
      }
      return;
    }
    const isInit = msg.exchangeType === ExchangeType.IKE_SA_INIT;
    if (isInit) this.sa.initRequest = raw;
    this.sa.onInbound();
    const task = createResponderTask(this.sa, msg);
    const response = newMessage({
      spiI: this.sa.spiI,
      spiR: this.sa.spiR,
      exchangeType: msg.exchangeType,
      initiator: this.sa.initiator,
      response: true,
      messageId: msg.messageId,
    });
    this.passive = task;
    const processed = this.guard(() => task.process(msg));
    if (!this.sa.alive) {
      this.passive = undefined;
      return;
    }
    if (processed === 'pending' && task.pending) {
      this.suspend(task, response, isInit);
      return;
    }
    this.respond(task, response, isInit);
  }

  /** Waits for a passive task's pending work (bounded), then answers. */
  private suspend(task: Task, response: Message, isInit: boolean): void {
    const token = {};
    const finish = (timedOut: boolean) => {
      if (this.suspended?.token !== token) return;
      this.suspended.timer.cancel();
      this.suspended = undefined;
      if (!this.sa.alive) {
        this.passive = undefined;
        return;
      }
      try {
        if (timedOut) this.guard(() => task.onPendingTimeout?.());
        if (this.sa.alive) this.respond(task, response, isInit);
        else this.passive = undefined;
      } catch (err) {
        // Never out of a promise continuation: count it, take the SA down.
        this.sa.count('task-error');
        if (this.sa.alive) this.sa.fail('protocol-error', `internal error: ${(err as Error).message}`);
      }
    };
    const ms = this.sa.ctx.hooks?.authHookTimeoutMs ?? DEFAULT_AUTH_HOOK_TIMEOUT_MS;
    this.suspended = { messageId: response.messageId, token, timer: this.sa.ctx.clock.setTimer(ms, () => finish(true)) };
    this.sa.count('request-pending');
    task.pending!.then(
      () => finish(false),
      () => finish(false),
    );
  }

  private respond(task: Task, response: Message, isInit: boolean): void {
    const status = this.guard(() => task.build(response));
    this.passive = undefined;
    let bytes: Uint8Array;
    try {
      bytes = this.sa.encode(response);
    } catch (err) {
      this.sa.count('encode-error');
      this.sa.fail('protocol-error', `cannot encode ${describe(response)}: ${(err as Error).message}`);
      return;
    }
    if (isInit) this.sa.initResponse = bytes;
    this.responding.mid++;
    this.responding.packet = bytes;
    this.answeredRequests++;
    this.lastSent = response;
    this.sa.ctx.trace?.('out', this.sa, response);
    this.sa.ctx.sendIke(this.sa, bytes);
    if ('completed' in task && typeof task.completed === 'function') this.guard(() => (task as { completed(): void }).completed());
    if (status === 'failed' && this.sa.alive && isInit) this.sa.destroy('protocol-error', 'IKE_SA_INIT refused');
    this.initiate();
  }

  /** Runs task code; an exception is a bug or a malformed message we failed to reject: the SA goes down. */
  private guard<T>(fn: () => T): T | 'failed' {
    const outer = this.processing;
    this.processing = true;
    try {
      return fn();
    } catch (err) {
      this.sa.count('task-error');
      if (this.sa.alive) this.sa.fail('protocol-error', `internal error: ${(err as Error).message}`);
      return 'failed';
    } finally {
      this.processing = outer;
    }
  }

  /**
   * Sends one request that expects no processing of its answer and is not retransmitted:
   * the INFORMATIONAL { N(AUTHENTICATION_FAILED) } an initiator sends when the responder's
   * AUTH does not verify, right before it forgets the SA (RFC 7296 section 2.21.2).
   */
  sendOneShot(exchangeType: number, payloads: Message['payloads']): void {
    const msg = newMessage({
      spiI: this.sa.spiI,
      spiR: this.sa.spiR,
      exchangeType,
      initiator: this.sa.initiator,
      response: false,
      messageId: this.initiating.mid++,
    });
    msg.payloads.push(...payloads);
    try {
      const bytes = this.sa.encode(msg);
      this.sa.ctx.trace?.('out', this.sa, msg);
      this.sa.ctx.sendIke(this.sa, bytes);
    } catch {
      this.sa.count('encode-error');
    }
  }

  /** Cancels everything (the SA is going away). */
  abort(): void {
    this.suspended?.timer.cancel();
    this.suspended = undefined;
    this.initiating.timer?.cancel();
    this.initiating.packet = undefined;
    const tasks = [...(this.active ? [this.active] : []), ...this.queued];
    this.active = undefined;
    this.queued.length = 0;
    for (const t of tasks) t.abandon?.();
  }

  /** Moves queued tasks that are not about this SA's own identity to another SA (IKE rekey). */
  takeQueued(pred: (t: Task) => boolean): Task[] {
    const out: Task[] = [];
    for (let i = this.queued.length - 1; i >= 0; i--) if (pred(this.queued[i]!)) out.unshift(...this.queued.splice(i, 1));
    return out;
  }
}
