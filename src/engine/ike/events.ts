/**
 * The IKE engine's typed events. The Router's `show vpn`, the event log and the mesh
 * controller subscribe to these; nothing in the IKE module depends on who listens.
 */

/** Why an IKE SA or child SA went down. */
export type DownReason =
  | 'deleted-by-peer'
  | 'deleted-locally'
  | 'peer-removed'
  | 'timeout'
  | 'dpd-timeout'
  | 'auth-failed'
  | 'no-proposal-chosen'
  | 'ts-unacceptable'
  | 'invalid-ke'
  | 'lifetime-expired'
  | 'idle'
  | 'rekeyed'
  | 'replaced-by-initial-contact'
  | 'protocol-error'
  | 'engine-stopped'
  /** Both ends initiated at once; the IKE SA with the lowest nonce was deleted (kept: the other). */
  | 'duplicate';

export interface IkeSaRef {
  /** Engine-unique id of the IKE SA (for logs and `show ike`). */
  readonly ikeId: number;
  readonly peer: string;
}

export interface ChildSaRef extends IkeSaRef {
  readonly childId: number;
  readonly spiIn: number;
  readonly spiOut: number;
}

export interface IkeEventMap {
  'ike-state': IkeSaRef & { from: string; to: string };
  'child-state': ChildSaRef & { from: string; to: string };
  'ike-up': IkeSaRef & { local: string; remote: string; proposal: string; natLocal: boolean; natRemote: boolean };
  'ike-down': IkeSaRef & { reason: DownReason; detail?: string };
  'ike-rekeyed': IkeSaRef & { newIkeId: number };
  'child-up': ChildSaRef & { localTs: string[]; remoteTs: string[]; proposal: string };
  'child-down': ChildSaRef & { reason: DownReason };
  'child-rekeyed': ChildSaRef & { newChildId: number; newSpiIn: number; newSpiOut: number };
  'auth-failed': IkeSaRef & { side: 'local' | 'remote'; detail: string };
  retransmit: IkeSaRef & { exchange: string; messageId: number; attempt: number };
  timeout: IkeSaRef & { exchange: string; messageId: number };
  'rekey-collision': IkeSaRef & { kind: 'child' | 'ike'; won: boolean };
  /** A private-use status notify (meshgate's MESH_* types) from a peer that announced meshgate's Vendor ID. */
  'private-notify': IkeSaRef & { notifyType: number; data: Uint8Array };
  /** A failed attempt for a peer; the engine will retry after `retryInMs`. */
  'peer-retry': { peer: string; gateway: string; retryInMs: number; reason: string };
  /** The peer moved to another remote gateway (hub failover). */
  'peer-failover': { peer: string; from: string; to: string };
}

export type IkeEventName = keyof IkeEventMap;
type Listener<T> = (event: T) => void;

/** A small typed emitter; a throwing listener never breaks the protocol path. */
export class TypedEmitter<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();
  /** Listener exceptions, counted (and kept: the last one) instead of propagated. */
  listenerErrors = 0;
  lastListenerError: unknown;

  on<K extends keyof M>(name: K, fn: Listener<M[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(name, fn);
  }

  off<K extends keyof M>(name: K, fn: Listener<M[K]>): void {
    this.listeners.get(name)?.delete(fn as Listener<never>);
  }

  emit<K extends keyof M>(name: K, event: M[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<M[K]>)(event);
      } catch (err) {
        this.listenerErrors++;
        this.lastListenerError = err;
      }
    }
  }
}

export type IkeEvents = TypedEmitter<IkeEventMap>;
