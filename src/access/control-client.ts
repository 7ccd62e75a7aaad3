/**
 * The client side of the control socket: a session that lives in the daemon, used
 * exactly like a local one by the Ink app and the script runner.
 */
import { connect, type Socket } from 'node:net';
import type { Completion, ExecuteOptions, ExecuteResult } from '../shell/session-api.js';
import type { UiSession } from '../ui/ui-session.js';
import { MeshgateError } from '../errors.js';
import {
  LineSplitter,
  PROTOCOL_VERSION,
  decodeServerMessage,
  encodeMessage,
  type ClientMessage,
  type ServerMessage,
} from './control-protocol.js';

export class ControlConnectionError extends MeshgateError {
  static override readonly name = 'ControlConnectionError';
}

interface Pending {
  resolve(m: ServerMessage): void;
  reject(e: Error): void;
  options?: ExecuteOptions;
}

export class RemoteSession implements UiSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private currentPrompt = '';
  private lines: string[] = [];
  private closed = false;
  private helloWaiter: Pending | undefined;
  private failure: Error | undefined;
  private readonly disconnectListeners = new Set<(err: Error) => void>();

  private constructor(private readonly sock: Socket) {}

  /**
   * Connects and says hello. Rejects with the socket error (ENOENT, ECONNREFUSED) when
   * no daemon listens, so the caller can fall back to opening the config itself.
   */
  static connect(socketPath: string, timeoutMs = 3000): Promise<RemoteSession> {
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      const rs = new RemoteSession(sock);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ControlConnectionError(`no answer from the daemon on ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        rs.attach();
        rs.helloWaiter = {
          resolve: (m) => {
            clearTimeout(timer);
            if (m.op === 'hello') {
              rs.currentPrompt = m.prompt;
              rs.lines = [...m.history];
              resolve(rs);
            } else {
              sock.destroy();
              reject(new ControlConnectionError(m.op === 'error' ? m.message : `unexpected ${m.op} from the daemon`));
            }
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        rs.send({ op: 'hello', version: PROTOCOL_VERSION });
      });
    });
  }

  private attach(): void {
    const splitter = new LineSplitter();
    this.sock.setEncoding('utf8');
    this.sock.on('data', (chunk: string) => {
      let lines;
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const l of lines) {
        let m: ServerMessage;
        try {
          m = decodeServerMessage(l);
        } catch (err) {
          this.fail(err as Error);
          return;
        }
        this.dispatch(m);
      }
    });
    this.sock.on('error', (err) => this.fail(err));
    this.sock.on('close', () => this.fail(new ControlConnectionError('the daemon closed the connection')));
  }

  /** Called once when the connection to the daemon is lost (not after close()). */
  onDisconnect(fn: (err: Error) => void): () => void {
    this.disconnectListeners.add(fn);
    return () => this.disconnectListeners.delete(fn);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.sock.destroy();
    if (!this.closed) for (const fn of this.disconnectListeners) fn(err);
    this.helloWaiter?.reject(err);
    this.helloWaiter = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private dispatch(m: ServerMessage): void {
    if (m.op === 'hello' || (m.op === 'error' && m.id === undefined && this.helloWaiter)) {
      const w = this.helloWaiter;
      this.helloWaiter = undefined;
      w?.resolve(m);
      return;
    }
    if (m.op === 'error' && m.id === undefined) {
      this.fail(new ControlConnectionError(`daemon: ${m.message}`));
      return;
    }
    const p = this.pending.get(m.id!);
    if (!p) return;
    switch (m.op) {
      case 'block':
        p.options?.sink.write(m.block);
        return;
      case 'frame':
        if (p.options?.sink.frame) p.options.sink.frame(m.blocks);
        else for (const b of m.blocks) p.options?.sink.write(b);
        return;
      case 'error':
        this.pending.delete(m.id!);
        p.reject(new ControlConnectionError(`daemon: ${m.message}`));
        return;
      default:
        this.pending.delete(m.id!);
        p.resolve(m);
    }
  }

  private send(m: ClientMessage): void {
    if (!this.sock.destroyed) this.sock.write(encodeMessage(m));
  }

  private request(make: (id: number) => ClientMessage, options?: ExecuteOptions): Promise<ServerMessage> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(options ? { options } : {}) });
      this.send(make(id));
    });
  }

  prompt(): string {
    return this.currentPrompt;
  }

  history(): readonly string[] {
    return this.lines;
  }

  async execute(line: string, options: ExecuteOptions): Promise<ExecuteResult> {
    let id = 0;
    const onAbort = () => this.send({ op: 'abort', id });
    const p = this.request((i) => {
      id = i;
      return { op: 'execute', id: i, line };
    }, options);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const m = await p;
      if (m.op !== 'result') throw new ControlConnectionError(`unexpected ${m.op} from the daemon`);
      this.currentPrompt = m.prompt;
      // The daemon's session decides what enters the history (blank lines, writeconfig input and
      // secrets do not); the client mirrors it.
      this.lines.push(...m.added);
      return { exitCode: m.exitCode, exit: m.exit };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async complete(line: string, cursor: number): Promise<Completion> {
    const m = await this.request((id) => ({ op: 'complete', id, line, cursor }));
    if (m.op !== 'completion') throw new ControlConnectionError(`unexpected ${m.op} from the daemon`);
    return { from: m.from, candidates: m.candidates };
  }

  /** Asks the daemon for the prompt (the cached one is refreshed after every command). */
  async refreshPrompt(): Promise<string> {
    const m = await this.request((id) => ({ op: 'prompt', id }));
    if (m.op === 'prompt') this.currentPrompt = m.prompt;
    return this.currentPrompt;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send({ op: 'close' });
    this.sock.end();
    // Do not keep the process alive for the daemon's goodbye.
    this.sock.unref();
  }
}
