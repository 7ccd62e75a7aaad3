/**
 * Two-party exchange harness (after strongSwan's exchange_test_helper): two IkeEngines on
 * a network that delivers nothing by itself. step() hands the oldest datagram to its
 * receiver and returns the IKE message as the receiver's SA saw it after decryption, so a
 * test walks an exchange one message at a time and asserts payloads and states.
 */
import { FakeClock } from '../../../src/engine/clock.js';
import { DeterministicRandom } from '../../../src/engine/crypto/random.js';
import { IkeEngine, type IkeEngineOptions } from '../../../src/engine/ike/ike-engine.js';
import type { IkeSa } from '../../../src/engine/ike/ike-sa.js';
import type { Message } from '../../../src/engine/ike/codec/types.js';
import { payloadNames } from '../../../src/engine/ike/message.js';
import type { PeerConfigInput } from '../../../src/engine/ike/peer-config.js';
import { RecordingSaInstaller } from '../../../src/engine/ike/sa-installer.js';
import type { IkeEventMap } from '../../../src/engine/ike/events.js';
import { endpointKey, type Endpoint, type ReceiveHandler, type Transport } from '../../../src/engine/net/types.js';

export interface Datagram {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
}

export class StepNetwork {
  readonly queue: Datagram[] = [];
  private readonly transports = new Map<string, StepTransport>();

  attach(address: string, port = 4500): StepTransport {
    const t = new StepTransport(this, { address, port });
    this.transports.set(endpointKey(t.local), t);
    return t;
  }

  /** Delivers the oldest datagram. */
  deliver(): Datagram {
    const d = this.queue.shift();
    if (!d) throw new Error('step: nothing in flight');
    this.transports.get(endpointKey(d.to))?.receive(d.data, d.from);
    return d;
  }

  /** Discards the oldest datagram (a loss). */
  drop(): Datagram {
    const d = this.queue.shift();
    if (!d) throw new Error('drop: nothing in flight');
    return d;
  }
}

export class StepTransport implements Transport {
  private handler: ReceiveHandler | undefined;
  closed = false;
  constructor(
    private readonly net: StepNetwork,
    readonly local: Endpoint,
  ) {}
  send(payload: Uint8Array, to: Endpoint): boolean {
    if (this.closed) return false;
    this.net.queue.push({ from: this.local, to, data: payload.slice() });
    return true;
  }
  onReceive(h: ReceiveHandler): void {
    this.handler = h;
  }
  receive(p: Uint8Array, from: Endpoint): void {
    if (!this.closed) this.handler?.(p, from);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export interface Side {
  name: string;
  engine: IkeEngine;
  installer: RecordingSaInstaller;
  /** Messages in the order this side received them (decrypted). */
  received: Message[];
  sent: Message[];
  events: { [K in keyof IkeEventMap]?: IkeEventMap[K][] };
}

export const PSK = 'correct horse battery staple';

export function initiatorConfig(over: Partial<PeerConfigInput> = {}): PeerConfigInput {
  return {
    name: 'hub',
    role: 'initiator',
    remoteGateways: ['192.0.2.1'],
    localId: 'spoke1.example',
    remoteId: 'hub.example',
    psk: PSK,
    ikeProposals: ['chacha20poly1305-prfsha256-x25519'],
    espProposals: ['chacha20poly1305'],
    localTs: ['10.1.0.0/16'],
    remoteTs: ['10.0.0.0/16'],
    ...over,
  };
}

export function responderConfig(over: Partial<PeerConfigInput> = {}): PeerConfigInput {
  return {
    name: 'spoke1',
    role: 'responder',
    localId: 'hub.example',
    remoteId: 'spoke1.example',
    psk: PSK,
    ikeProposals: ['chacha20poly1305-prfsha256-x25519'],
    espProposals: ['chacha20poly1305'],
    localTs: ['10.0.0.0/16'],
    remoteTs: ['10.1.0.0/16'],
    ...over,
  };
}

const EVENT_NAMES: (keyof IkeEventMap)[] = ['ike-up', 'ike-down', 'ike-rekeyed', 'child-up', 'child-down', 'child-rekeyed', 'auth-failed', 'retransmit', 'timeout', 'rekey-collision', 'peer-retry', 'peer-failover'];

export class TwoParty {
  readonly clock = new FakeClock();
  readonly net = new StepNetwork();
  readonly i: Side;
  readonly r: Side;

  constructor(options: Partial<IkeEngineOptions> = {}) {
    this.i = this.side('initiator', '198.51.100.10', 1, options);
    this.r = this.side('responder', '192.0.2.1', 2, options);
  }

  private side(name: string, address: string, seed: number, options: Partial<IkeEngineOptions>): Side {
    const installer = new RecordingSaInstaller();
    const received: Message[] = [];
    const sent: Message[] = [];
    const engine = new IkeEngine({
      clock: this.clock,
      transport: this.net.attach(address),
      installer,
      random: new DeterministicRandom(seed),
      trace: (dir, _sa, m) => (dir === 'in' ? received : sent).push(m),
      ...options,
    });
    const events: Side['events'] = {};
    for (const e of EVENT_NAMES) engine.events.on(e, (ev) => ((events[e] ??= []) as unknown[]).push(ev));
    return { name, engine, installer, received, sent, events };
  }

  /** Delivers the next datagram and returns what its receiver decoded (undefined if it was dropped). */
  step(): { to: Side; message: Message | undefined; names: string[] } {
    const d = this.net.queue[0];
    if (!d) throw new Error('step: nothing in flight');
    const to = d.to.address === this.i.engine.local.address ? this.i : this.r;
    const before = to.received.length;
    this.net.deliver(); // synchronous
    const message = to.received.length > before ? to.received[to.received.length - 1] : undefined;
    return { to, message, names: message ? payloadNames(message) : [] };
  }

  get inFlight(): number {
    return this.net.queue.length;
  }

  /** Runs until nothing is in flight (bounded). */
  settle(max = 50): number {
    let n = 0;
    while (this.net.queue.length > 0) {
      if (++n > max) throw new Error('settle: exchange does not end');
      this.step();
    }
    return n;
  }

  establish(iCfg = initiatorConfig(), rCfg = responderConfig()): { sa: IkeSa; peer: IkeSa } {
    this.r.engine.addPeer(rCfg);
    this.i.engine.addPeer(iCfg);
    this.settle();
    const sa = this.i.engine.sasOf(iCfg.name)[0]!;
    const peer = this.r.engine.sasOf(rCfg.name)[0]!;
    return { sa, peer };
  }
}
