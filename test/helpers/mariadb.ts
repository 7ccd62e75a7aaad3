/**
 * A private MariaDB server for tests: Debian's mariadb-server package, a fresh data
 * directory in a temp dir, listening on a unix socket in that dir and on a free loopback
 * port, started without grant tables (any user, no password; loopback only). Started as
 * root with --user=root when the tests run as root. Always stopped by PID, and its temp
 * dir removed, by destroy() (also on process exit as a last resort).
 *
 * CI needs: apt-get install -y mariadb-server mariadb-client
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'];

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

export function mariadbAvailable(): boolean {
  return firstExisting(MARIADBD) !== undefined && firstExisting(INSTALL_DB) !== undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<MariaDbServer>();
process.once('exit', () => {
  for (const s of live) s.killNow();
});

export interface MariaDbStartOptions {
  /** Database created after start (default 'meshgate'). */
  database?: string;
  /** How long to wait for the server (default 60 s). */
  startTimeoutMs?: number;
}

export class MariaDbServer {
  private proc: ChildProcess | undefined;
  readonly socket: string;
  readonly dataDir: string;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly database: string,
  ) {
    this.socket = join(dir, 'sock');
    this.dataDir = join(dir, 'data');
  }

  /** Installs a data directory and starts the server; resolves when it answers. */
  static async start(options: MariaDbStartOptions = {}): Promise<MariaDbServer> {
    const installDb = firstExisting(INSTALL_DB);
    if (!installDb || !firstExisting(MARIADBD)) throw new Error('MariaDB is not installed (apt-get install -y mariadb-server mariadb-client)');
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-mariadb-'));
    const server = new MariaDbServer(dir, await freePort(), options.database ?? 'meshgate');
    live.add(server);
    try {
      const r = spawnSync(
        installDb,
        [
          '--no-defaults',
          `--datadir=${server.dataDir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
          ...server.userArgs(),
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      if (r.status !== 0) throw new Error(`mariadb-install-db failed (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
      await server.startServer(options.startTimeoutMs ?? 60_000);
      const c = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
      await c.query(`CREATE DATABASE IF NOT EXISTS \`${server.database}\``);
      await c.end();
      return server;
    } catch (e) {
      await server.destroy();
      throw e;
    }
  }

  private userArgs(): string[] {
    return process.getuid?.() === 0 ? ['--user=root'] : [`--user=${userInfo().username}`];
  }

  /** DSN over the unix socket. */
  get socketDsn(): string {
    return `mysql://root@localhost/${this.database}?socket=${encodeURIComponent(this.socket)}`;
  }

  /** DSN over TCP on loopback. */
  get tcpDsn(): string {
    return `mysql://root@127.0.0.1:${this.port}/${this.database}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts mariadbd on the existing data directory (again, after stop()). */
  async startServer(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    const mariadbd = firstExisting(MARIADBD)!;
    const proc = spawn(
      mariadbd,
      [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        `--socket=${this.socket}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--skip-grant-tables',
        '--skip-name-resolve',
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${join(this.dir, 'error.log')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=256M',
        '--innodb-log-file-size=256M',
        '--innodb-flush-log-at-trx-commit=2',
        '--max-connections=200',
        ...this.userArgs(),
      ],
      { stdio: 'ignore' },
    );
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`mariadbd exited during start: ${this.errorLog().slice(-2000)}`);
      try {
        const c = await mysql.createConnection({ socketPath: this.socket, user: 'root', connectTimeout: 1000 });
        await c.query('SELECT 1');
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not answer within ${timeoutMs} ms: ${this.errorLog().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the server by PID (SIGTERM, then SIGKILL after 20 s); the data directory stays. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => {
      if (this.running) proc.kill('SIGKILL');
    }, 20_000);
    await this.exited;
    clearTimeout(t);
  }

  /** Kills the server at once (SIGKILL): a crash. */
  async kill(): Promise<void> {
    if (!this.proc || !this.running) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    if (this.running) this.proc!.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.proc!.kill('SIGCONT');
  }

  /** Synchronous last-resort kill (process exit). */
  killNow(): void {
    if (this.running) {
      this.proc!.kill('SIGCONT');
      this.proc!.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server and removes its temp dir. */
  async destroy(): Promise<void> {
    if (this.running) {
      this.resume();
      await this.kill();
    }
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}
