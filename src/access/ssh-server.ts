/**
 * The built-in SSH server (ssh2). Users and settings come from /Setup/Config/Users and
 * /Setup/Config/SSH through a narrow SshAuthority, so the server knows nothing of the
 * config store. Password logins are checked against the crypto_pwhash hashes, public
 * keys against the user's authorized keys (signature verified); failed logins are
 * delayed, counted and logged, never with the password. A pty session gets the Ink
 * shell with the client's terminal size; exec requests and pty-less shells get plain
 * text and an exit status.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, ParsedKey, AuthContext } from 'ssh2';
import type { ShellSession } from '../shell/session-api.js';
import { MeshgateError } from '../errors.js';
import { runScript, streamLines } from './script-runner.js';
import { channelTty } from './tty-streams.js';
import { loadInteractive } from '../ui/load.js';

const { Server, utils } = ssh2;

export type Access = 'admin' | 'read-only';

export interface SshSettings {
  operating: boolean;
  port: number;
  /** Empty: all addresses. */
  listenAddress: string;
  idleTimeoutSec: number;
  maxSessions: number;
  loginDelayMs: number;
  maxAuthTries: number;
}

export interface SshUser {
  name: string;
  active: boolean;
  access: Access;
  authorizedKeys: string[];
}

/** What the SSH server needs from the Router. */
export interface SshAuthority {
  settings(): SshSettings;
  user(name: string): SshUser | undefined;
  /** The user when name/password is a valid active login, else undefined. */
  /** May answer later: password hashing runs off the event loop. */
  checkPassword(name: string, password: string): SshUser | undefined | Promise<SshUser | undefined>;
  log(topic: string, text: string): void;
  openSession(user: { name: string; access: Access }): ShellSession;
}

export class SshServerError extends MeshgateError {
  static override readonly name = 'SshServerError';
}

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';
/** Upper bound of the failed-login delay whatever the config says. */
const MAX_LOGIN_DELAY_MS = 10_000;

/** Loads the host key from the config dir, generating an ed25519 key (mode 0600) at first start. */
export function loadOrCreateHostKey(configDir: string): string {
  const path = join(configDir, HOST_KEY_FILE);
  if (existsSync(path)) {
    const pem = readFileSync(path, 'utf8');
    const parsed = utils.parseKey(pem);
    if (parsed instanceof Error) throw new SshServerError(`host key ${path} is unreadable: ${parsed.message}`);
    return pem;
  }
  const pem = generateHostKey();
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return pem;
}

/**
 * A new ed25519 host key in OpenSSH format. ssh2's generator emits a key its own parser
 * rejects about once in 200 ("Malformed OpenSSH private key"); such a key would make the next
 * start fail, so each key is parsed back before it is used, and a bad one is drawn again.
 */
export function generateHostKey(): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair.private;
  }
  throw new SshServerError('could not generate a usable ed25519 host key');
}

/** The SHA-256 fingerprint of a public key, as OpenSSH prints it. */
export function fingerprint(key: ParsedKey): string {
  return 'SHA256:' + createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
}

/** True when the offered key is one of the user's authorized keys. */
export function findAuthorizedKey(user: SshUser, algo: string, data: Buffer): ParsedKey | undefined {
  for (const line of user.authorizedKeys) {
    const parsed = utils.parseKey(line.trim());
    if (parsed instanceof Error) continue;
    const keys = Array.isArray(parsed) ? (parsed as ParsedKey[]) : [parsed];
    for (const k of keys) {
      const pub = k.getPublicSSH();
      if (pub.equals(data) && (k.type === algo || algo.startsWith('rsa-sha2') || algo === 'ssh-rsa')) return k;
    }
  }
  return undefined;
}

interface Counters {
  loginsOk: number;
  loginsFailed: number;
  sessions: number;
}

export class SshServer {
  private server: InstanceType<typeof Server> | undefined;
  private running: SshSettings | undefined;
  private readonly clients = new Set<Connection>();
  readonly counters: Counters = { loginsOk: 0, loginsFailed: 0, sessions: 0 };

  constructor(
    private readonly configDir: string,
    private readonly authority: SshAuthority,
  ) {}

  /** The address it listens on, while it runs. */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Starts, stops or restarts the server to match the settings. Safe to call after every config change. */
  async reconcile(): Promise<void> {
    const want = this.authority.settings();
    const cur = this.running;
    if (!want.operating) {
      if (cur) await this.stop();
      return;
    }
    if (cur && cur.port === want.port && cur.listenAddress === want.listenAddress) {
      this.running = want; // limits apply to new logins
      return;
    }
    if (cur) await this.stop();
    await this.start(want);
  }

  private async start(settings: SshSettings): Promise<void> {
    const hostKey = loadOrCreateHostKey(this.configDir);
    const server = new Server({ hostKeys: [hostKey], ident: 'meshgate' }, (client) => this.onClient(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.listenAddress || undefined, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      this.authority.log('ssh', `cannot listen on ${settings.listenAddress || '*'}:${settings.port}: ${err.message}`);
      throw new SshServerError(`SSH server cannot listen on ${settings.listenAddress || '*'}:${settings.port}: ${err.message}`, { cause: err });
    });
    server.on('error', (err: Error) => this.authority.log('ssh', `server error: ${err.message}`));
    this.server = server;
    this.running = settings;
    const a = this.address();
    this.authority.log('ssh', `listening on ${a ? `${a.address}:${a.port}` : settings.port}`);
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.running = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.authority.log('ssh', 'stopped');
  }

  private onClient(client: Connection): void {
    const settings = this.running!;
    this.clients.add(client);
    let failures = 0;
    let user: SshUser | undefined;
    let authenticated = false;
    let refusedQuery: { user: string; why: string } | undefined;
    let peer = '?';
    // ssh2 gives the remote address on the underlying socket.
    const sock = (client as unknown as { _sock?: { remoteAddress?: string; remotePort?: number } })._sock;
    if (sock?.remoteAddress) peer = `${sock.remoteAddress}:${sock.remotePort}`;

    const failed = (ctx: AuthContext, why: string) => {
      failures++;
      this.counters.loginsFailed++;
      this.authority.log('ssh', `login failed for '${ctx.username}' from ${peer} (${ctx.method}: ${why}), ${failures} of ${settings.maxAuthTries}`);
      const delay = Math.min(Math.max(0, settings.loginDelayMs), MAX_LOGIN_DELAY_MS);
      setTimeout(() => {
        if (failures >= settings.maxAuthTries) {
          this.authority.log('ssh', `too many failed logins from ${peer}; disconnected`);
          client.end();
          return;
        }
        ctx.reject(['publickey', 'password']);
      }, delay);
    };

    client.on('authentication', (ctx) => {
      const u = this.authority.user(ctx.username);
      switch (ctx.method) {
        case 'password': {
          void Promise.resolve(this.authority.checkPassword(ctx.username, ctx.password)).then(
            (ok) => {
              if (!ok) return failed(ctx, u ? 'wrong password' : 'unknown user');
              user = ok;
              ctx.accept();
            },
            () => failed(ctx, 'password check failed'),
          );
          return;
        }
        case 'publickey': {
          if (!u || !u.active) {
            if (!ctx.signature) {
              refusedQuery = { user: ctx.username, why: 'publickey: unknown user' };
              return ctx.reject(['publickey', 'password']);
            }
            return failed(ctx, 'unknown user');
          }
          const key = findAuthorizedKey(u, ctx.key.algo, ctx.key.data);
          if (!key) {
            // A client offering several keys asks about each: a refused query is not delayed; it
            // counts as one failed login when the connection ends without any success.
            if (ctx.signature) return failed(ctx, 'key not authorized');
            refusedQuery = { user: ctx.username, why: 'publickey: key not authorized' };
            return ctx.reject(['publickey', 'password']);
          }
          if (!ctx.signature) return ctx.accept(); // "would you accept this key?" - yes; the signed request follows
          if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo as never) !== true) return failed(ctx, 'bad signature');
          user = u;
          return ctx.accept();
        }
        default:
          return ctx.reject(['publickey', 'password']);
      }
    });

    client.on('ready', () => {
      authenticated = true;
      const u = user!;
      this.counters.loginsOk++;
      this.authority.log('ssh', `login of '${u.name}' (${u.access}) from ${peer}`);
      client.on('session', (acceptSession) => {
        const channelSession = acceptSession();
        let pty: { cols: number; rows: number } | undefined;
        let resize: ((cols: number, rows: number) => void) | undefined;
        channelSession.on('pty', (accept, _reject, info) => {
          pty = { cols: info.cols || 80, rows: info.rows || 24 };
          accept?.();
        });
        channelSession.on('window-change', (accept, _reject, info) => {
          if (pty) pty = { cols: info.cols, rows: info.rows };
          resize?.(info.cols, info.rows);
          accept?.();
        });
        channelSession.on('env', (accept) => accept?.());
        channelSession.on('shell', (accept) => {
          const channel = accept();
          if (!this.admitSession(channel)) return;
          if (pty) {
            const size = pty;
            void this.serveInteractive(channel, u, size, (fn) => (resize = fn));
          } else void this.serveScript(channel, u, streamLines(channel), 'ssh');
        });
        channelSession.on('exec', (accept, _reject, info) => {
          const channel = accept();
          if (!this.admitSession(channel)) return;
          void this.serveScript(channel, u, [info.command], 'ssh');
        });
      });
    });
    client.on('error', () => {
      /* the client went away; nothing to clean beyond 'close' */
    });
    client.on('close', () => {
      this.clients.delete(client);
      if (!authenticated && failures === 0 && refusedQuery) {
        this.counters.loginsFailed++;
        this.authority.log('ssh', `login failed for '${refusedQuery.user}' from ${peer} (${refusedQuery.why})`);
      }
    });
  }

  private admitSession(channel: ServerChannel): boolean {
    const max = this.running?.maxSessions ?? 8;
    if (this.counters.sessions >= max) {
      channel.stderr.write(`Error: too many sessions (at most ${max})\r\n`);
      channel.exit(1);
      channel.end();
      return false;
    }
    this.counters.sessions++;
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      this.counters.sessions--;
    };
    // Whichever comes first: the channel closes, or it ends with the connection.
    channel.once('close', release);
    channel.once('finish', release);
    channel.once('end', release);
    return true;
  }

  private async serveScript(channel: ServerChannel, user: SshUser, lines: Iterable<string> | AsyncIterable<string>, name: string) {
    let session: ShellSession | undefined;
    let code = 1;
    try {
      session = this.authority.openSession({ name: user.name, access: user.access });
      const out = await runScript(session, lines, {
        name,
        stdout: { write: (s: string) => channel.write(s) },
        stderr: { write: (s: string) => channel.stderr.write(s) },
      });
      code = out.exitCode;
    } catch (err) {
      channel.stderr.write(`Error: ${(err as Error).message}\n`);
    } finally {
      session?.close();
    }
    channel.exit(code);
    channel.end();
  }

  private async serveInteractive(
    channel: ServerChannel,
    user: SshUser,
    size: { cols: number; rows: number },
    onResize: (fn: (cols: number, rows: number) => void) => void,
  ) {
    const tty = channelTty(channel, size);
    onResize((c, r) => tty.resize(c, r));
    let session: ShellSession | undefined;
    const idleSec = this.running?.idleTimeoutSec ?? 0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      if (idleSec > 0)
        idle = setTimeout(() => {
          this.authority.log('ssh', `session of '${user.name}' idle for ${idleSec} s; closed`);
          channel.write('\r\nidle timeout\r\n');
          channel.exit(0);
          channel.end();
        }, idleSec * 1000);
    };
    channel.on('data', armIdle);
    armIdle();
    try {
      session = this.authority.openSession({ name: user.name, access: user.access });
      const { runInteractive } = await loadInteractive({ forceColor: true });
      const gone = new AbortController();
      channel.once('close', () => gone.abort());
      await runInteractive(session, tty, { signal: gone.signal });
    } catch (err) {
      channel.stderr.write(`Error: ${(err as Error).message}\r\n`);
    } finally {
      if (idle) clearTimeout(idle);
      channel.off('data', armIdle);
      tty.detach();
      session?.close();
      this.authority.log('ssh', `logout of '${user.name}'`);
    }
    if (!channel.destroyed) {
      channel.exit(0);
      channel.end();
    }
  }
}
