/**
 * The daemon side of the control socket: each connection gets its own shell session
 * (the local admin's) on the shared Router. See control-protocol.ts for the messages.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { ShellSession } from '../shell/session-api.js';
import { MeshgateError } from '../errors.js';
import {
  LineSplitter,
  PROTOCOL_VERSION,
  decodeClientMessage,
  encodeMessage,
  type ServerMessage,
} from './control-protocol.js';

export class DaemonRunningError extends MeshgateError {
  static override readonly name = 'DaemonRunningError';
}

export interface ControlServerOptions {
  socketPath: string;
  /** A new session of the local admin for one connection. */
  openSession(): ShellSession;
  log?: (line: string) => void;
}

/** True when something accepts connections on the socket path. */
export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Clears a stale socket left by a daemon that died; refuses when a daemon answers on it
 * or when the path is something other than a socket.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new DaemonRunningError(`${path} exists and is not a socket; refusing to replace it`);
  if (await probeSocket(path)) throw new DaemonRunningError(`a meshgate daemon is already running on ${path}`);
  unlinkSync(path);
}

export class ControlServer {
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
  ) {}

  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    await clearStaleSocket(options.socketPath);
    const server = createServer();
    const cs = new ControlServer(server, options.socketPath);
    server.on('connection', (sock) => cs.serve(sock, options));
    // The socket is created with mode 0600 from the start: no window where others could connect.
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    chmodSync(options.socketPath, 0o600);
    return cs;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      /* already gone */
    }
  }

  private serve(sock: Socket, options: ControlServerOptions): void {
    this.sockets.add(sock);
    sock.setEncoding('utf8');
    const splitter = new LineSplitter();
    let session: ShellSession | undefined;
    let running: { id: number; controller: AbortController } | undefined;
    const send = (m: ServerMessage) => {
      if (!sock.destroyed) sock.write(encodeMessage(m));
    };
    const finish = () => {
      this.sockets.delete(sock);
      running?.controller.abort();
      running = undefined;
      try {
        session?.close();
      } catch {
        /* closing is best effort */
      }
      session = undefined;
    };
    sock.on('close', finish);
    sock.on('error', () => sock.destroy());

    const handle = (line: string) => {
      let msg;
      try {
        msg = decodeClientMessage(line);
      } catch (err) {
        send({ op: 'error', message: (err as Error).message });
        return;
      }
      if (msg.op === 'hello') {
        if (msg.version !== PROTOCOL_VERSION) {
          send({ op: 'error', message: `protocol version ${msg.version} not supported (daemon speaks ${PROTOCOL_VERSION})` });
          sock.end();
          return;
        }
        if (!session) {
          try {
            session = options.openSession();
          } catch (err) {
            send({ op: 'error', message: `cannot open a session: ${(err as Error).message}` });
            sock.end();
            return;
          }
          options.log?.('control: session opened');
        }
        send({ op: 'hello', version: PROTOCOL_VERSION, prompt: session.prompt(), history: [...session.history()] });
        return;
      }
      if (msg.op === 'close') {
        sock.end();
        return;
      }
      if (!session) {
        send({ op: 'error', ...('id' in msg ? { id: msg.id } : {}), message: 'say hello first' });
        return;
      }
      const s = session;
      switch (msg.op) {
        case 'execute': {
          if (running) {
            send({ op: 'error', id: msg.id, message: 'a command is still running on this session' });
            return;
          }
          const id = msg.id;
          const controller = new AbortController();
          running = { id, controller };
          const before = s.history().length;
          const added = () => s.history().slice(before);
          s.execute(msg.line, {
            signal: controller.signal,
            sink: {
              write: (block) => send({ op: 'block', id, block }),
              frame: (blocks) => send({ op: 'frame', id, blocks }),
            },
          })
            .then(
              (r) => send({ op: 'result', id, exitCode: r.exitCode, exit: r.exit, prompt: s.prompt(), added: added() }),
              (err: unknown) => {
                send({ op: 'block', id, block: { kind: 'error', code: 'runtime', message: (err as Error).message } });
                send({ op: 'result', id, exitCode: 1, exit: false, prompt: s.prompt(), added: added() });
              },
            )
            .finally(() => {
              if (running?.id === id) running = undefined;
            });
          return;
        }
        case 'abort':
          if (running?.id === msg.id) running.controller.abort();
          return;
        case 'complete':
          try {
            const c = s.complete(msg.line, msg.cursor);
            send({ op: 'completion', id: msg.id, from: c.from, candidates: c.candidates });
          } catch (err) {
            send({ op: 'error', id: msg.id, message: (err as Error).message });
          }
          return;
        case 'prompt':
          send({ op: 'prompt', id: msg.id, prompt: s.prompt() });
          return;
        case 'history':
          send({ op: 'history', id: msg.id, lines: [...s.history()] });
          return;
      }
    };

    sock.on('data', (chunk: string) => {
      let lines;
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        send({ op: 'error', message: (err as Error).message });
        sock.destroy();
        return;
      }
      for (const l of lines) handle(l);
    });
  }
}
