/**
 * The site directory in MySQL/MariaDB (mysql2/promise pool), for large fleets. Addressed by a
 * connection string:
 *
 *   mysql://user:password@host:3306/database
 *   mysql://user@localhost/database?socket=/run/mysqld/mysqld.sock
 *   mariadb://...        (the same)
 *
 * Options in the query string: socket, connectionLimit (4), connectTimeoutMs (2000),
 * queryTimeoutMs (2000), queueLimit (2048). The schema (tables, unique indexes) is created
 * when missing. Every statement has a timeout; a connection whose statement timed out is
 * destroyed, not returned to the pool, so a hung server never leaves a half-read reply
 * behind. Waiting for a pooled connection is bounded by the same timeout.
 */
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { formatPrefix, makePrefix } from '../dataplane/address.js';
import type { Identity } from '../ike/peer-config.js';
import {
  clampPageSize,
  DEFAULT_MAX_REPORTED,
  RejectionCollector,
  type BackendHealth,
  type ImportEntry,
  type ImportOptions,
  type ImportReport,
  type SiteDirectoryBackend,
  type SitePage,
} from './backend.js';
import {
  SiteBackendError,
  SiteConflictError,
  SiteDirectoryConfigError,
  SiteDirectoryError,
  SiteLookupTimeoutError,
  SiteMaskMismatchError,
  SiteValidationError,
} from './errors.js';
import { rowToSite, SITE_SELECT_COLUMNS, siteParams, type SiteRow } from './rows.js';
import { checkMasks, identityKey, siteToRecord, validateSiteRecord, type DirectoryMasks, type Site, type SiteInput } from './site.js';
import { maskText, SCHEMA_VERSION } from './sqlite-backend.js';

export interface MysqlConnectionSettings {
  host?: string;
  port?: number;
  socketPath?: string;
  user: string;
  password?: string;
  database: string;
  connectionLimit: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  queueLimit: number;
}

/** Parses a mysql:// or mariadb:// connection string. The password is kept, never printed. */
export function parseMysqlDsn(dsn: string): MysqlConnectionSettings {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new SiteDirectoryConfigError(`'${redactDsn(dsn)}' is not a connection string (mysql://user:password@host:port/database)`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') throw new SiteDirectoryConfigError(`unsupported scheme '${url.protocol}' (mysql:// or mariadb://)`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) throw new SiteDirectoryConfigError(`the connection string names no valid database ('${database}')`);
  const user = decodeURIComponent(url.username);
  if (!user) throw new SiteDirectoryConfigError('the connection string names no user');
  const num = (name: string, def: number, min: number, max: number): number => {
    const v = url.searchParams.get(name);
    if (v === null) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new SiteDirectoryConfigError(`${name}=${v} is not in ${min}..${max}`);
    return n;
  };
  const s: MysqlConnectionSettings = {
    user,
    database,
    connectionLimit: num('connectionLimit', 4, 1, 100),
    connectTimeoutMs: num('connectTimeoutMs', 2000, 100, 60_000),
    queryTimeoutMs: num('queryTimeoutMs', 2000, 50, 600_000),
    queueLimit: num('queueLimit', 2048, 0, 100_000),
  };
  if (url.password) s.password = decodeURIComponent(url.password);
  const host = decodeURIComponent(url.hostname);
  const socket = url.searchParams.get('socket') ?? (host.startsWith('/') ? host : undefined);
  if (socket) s.socketPath = socket;
  else {
    s.host = host.replace(/^\[|\]$/g, '') || '127.0.0.1';
    s.port = url.port ? Number(url.port) : 3306;
  }
  for (const k of url.searchParams.keys()) {
    if (!['socket', 'connectionLimit', 'connectTimeoutMs', 'queryTimeoutMs', 'queueLimit'].includes(k)) throw new SiteDirectoryConfigError(`unknown option '${k}' in the connection string`);
  }
  return s;
}

/** The connection string with the password replaced by '***' (for logs and errors). */
export function redactDsn(dsn: string): string {
  return dsn.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

export interface MysqlBackendOptions {
  dsn: string;
  masks?: DirectoryMasks;
  now?: () => number;
  /** Timeout of each statement of a bulk import (default 120 s). */
  importStatementTimeoutMs?: number;
  /** Valid rows per batch statement of a bulk import (default 500). */
  importBatch?: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meshgate_meta (
     k VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
     v VARCHAR(255) NOT NULL
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS sites (
     name       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
     identity   VARCHAR(280) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
     gateway    VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
     network    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
     psk        VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
     cert       VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
     active     TINYINT NOT NULL DEFAULT 1,
     comment    VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
     updated_at BIGINT NOT NULL,
     UNIQUE KEY sites_network (network),
     UNIQUE KEY sites_identity (identity)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

type Params = (string | number | null)[];

function isDup(e: unknown): e is Error & { code: string } {
  return e instanceof Error && (e as { code?: unknown }).code === 'ER_DUP_ENTRY';
}

/** The column of a duplicate-key error ("Duplicate entry 'x' for key 'sites_network'"). */
function dupColumn(message: string): string {
  const m = /for key '(?:sites\.)?(?:sites_)?(\w+)'/.exec(message);
  const k = m?.[1] ?? 'name';
  return k === 'PRIMARY' ? 'name' : k;
}

function isTimeout(e: unknown): boolean {
  return e instanceof SiteLookupTimeoutError || (e instanceof Error && (e as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT');
}

export class MysqlSiteBackend implements SiteDirectoryBackend {
  readonly kind = 'mysql' as const;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    readonly settings: MysqlConnectionSettings,
    readonly masks: DirectoryMasks,
    private readonly options: MysqlBackendOptions,
    readonly where: string,
  ) {}

  /** Connects, creates the schema when missing and settles the mask with the database. */
  static async open(options: MysqlBackendOptions): Promise<MysqlSiteBackend> {
    const s = parseMysqlDsn(options.dsn);
    const where = s.socketPath ? `${s.socketPath}/${s.database}` : `${s.host}:${s.port}/${s.database}`;
    const pool = mysql.createPool({
      ...(s.socketPath ? { socketPath: s.socketPath } : { host: s.host!, port: s.port! }),
      user: s.user,
      ...(s.password !== undefined ? { password: s.password } : {}),
      database: s.database,
      connectionLimit: s.connectionLimit,
      connectTimeout: s.connectTimeoutMs,
      queueLimit: s.queueLimit,
      waitForConnections: true,
      enableKeepAlive: true,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    // The pool emits connection errors on its connections; they surface through the queries.
    pool.on('connection', (c) => {
      (c as unknown as { on(ev: string, fn: () => void): void }).on('error', () => {});
    });
    const partial = new MysqlSiteBackend(pool, s, {}, options, where);
    try {
      for (const sql of SCHEMA) await partial.run(sql, [], 30_000);
      const masks = await partial.settleMasks(options.masks);
      return new MysqlSiteBackend(pool, s, masks, options, where);
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof SiteMaskMismatchError || e instanceof SiteDirectoryConfigError) throw e;
      throw new SiteBackendError(`cannot open the site directory ${where}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async settleMasks(configured: DirectoryMasks | undefined): Promise<DirectoryMasks> {
    const rows = await this.run<RowDataPacket[]>(`SELECT k, v FROM meshgate_meta WHERE k IN ('mask_v4', 'mask_v6')`, []);
    const stored: DirectoryMasks = {};
    for (const r of rows) {
      if (r['k'] === 'mask_v4') stored.v4 = Number(r['v']);
      if (r['k'] === 'mask_v6') stored.v6 = Number(r['v']);
    }
    const hasStored = rows.length > 0;
    if (!configured) {
      if (!hasStored) throw new SiteDirectoryConfigError(`the site directory ${this.where} is new: give its remote-network mask`);
      return stored;
    }
    const problem = checkMasks(configured);
    if (problem) throw new SiteDirectoryConfigError(problem);
    if (hasStored) {
      if (stored.v4 !== configured.v4 || stored.v6 !== configured.v6) {
        throw new SiteMaskMismatchError(`the site directory ${this.where} holds networks of mask ${maskText(stored)}, the configuration says ${maskText(configured)}`);
      }
      return stored;
    }
    const values: Params = ['schema_version', SCHEMA_VERSION];
    if (configured.v4 !== undefined) values.push('mask_v4', String(configured.v4));
    if (configured.v6 !== undefined) values.push('mask_v6', String(configured.v6));
    await this.run(`INSERT IGNORE INTO meshgate_meta (k, v) VALUES ${Array(values.length / 2).fill('(?, ?)').join(', ')}`, values);
    // Another node may have created it at the same moment: read back what won.
    return this.settleMasks(configured);
  }

  /** A connection from the pool within the timeout (a late one is released when it comes). */
  private async connection(timeoutMs: number): Promise<PoolConnection> {
    if (this.closed) throw new SiteBackendError(`site directory ${this.where} is closed`);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const got = this.pool.getConnection();
    try {
      return await Promise.race([
        got,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new SiteLookupTimeoutError(`no connection to ${this.where} within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } catch (e) {
      if (timedOut) got.then((c) => c.release(), () => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One statement with a timeout; a timed-out connection is destroyed. */
  private async run<T = RowDataPacket[] | ResultSetHeader>(sql: string, values: Params, timeoutMs = this.settings.queryTimeoutMs): Promise<T> {
    const conn = await this.connection(timeoutMs);
    try {
      const [result] = await conn.query({ sql, values, timeout: timeoutMs });
      conn.release();
      return result as T;
    } catch (e) {
      if (isTimeout(e) || (e as { fatal?: boolean }).fatal) conn.destroy();
      else conn.release();
      throw e;
    }
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SiteValidationError || e instanceof SiteConflictError || e instanceof SiteBackendError) throw e;
      if (e instanceof Error && e.name === 'SiteDirectoryError') throw e;
      const msg = e instanceof Error ? e.message || (e as { code?: string }).code || String(e) : String(e);
      if (isTimeout(e)) throw new SiteLookupTimeoutError(`site directory ${this.where} ${what}: ${msg}`, { cause: e });
      throw new SiteBackendError(`site directory ${this.where} ${what}: ${msg}`, { cause: e });
    }
  }

  async lookupByNetwork(network: Uint8Array): Promise<Site | undefined> {
    return this.guard('lookup', async () => {
      const len = network.length === 4 ? this.masks.v4 : network.length === 16 ? this.masks.v6 : undefined;
      const p = len === undefined ? undefined : makePrefix(network, len);
      if (!p) return undefined;
      const rows = await this.run<RowDataPacket[]>(`SELECT ${SITE_SELECT_COLUMNS} FROM sites WHERE network = ?`, [formatPrefix(p)]);
      return rows[0] ? rowToSite(rows[0] as SiteRow) : undefined;
    });
  }

  async lookupByIdentity(identity: Identity | string): Promise<Site | undefined> {
    return this.guard('lookup', async () => {
      const key = identityKey(identity);
      if (key === undefined) return undefined;
      const rows = await this.run<RowDataPacket[]>(`SELECT ${SITE_SELECT_COLUMNS} FROM sites WHERE identity = ?`, [key]);
      return rows[0] ? rowToSite(rows[0] as SiteRow) : undefined;
    });
  }

  async get(name: string): Promise<Site | undefined> {
    return this.guard('get', async () => {
      const rows = await this.run<RowDataPacket[]>(`SELECT ${SITE_SELECT_COLUMNS} FROM sites WHERE name = ?`, [name]);
      return rows[0] ? rowToSite(rows[0] as SiteRow) : undefined;
    });
  }

  async put(input: SiteInput): Promise<Site> {
    const checked = validateSiteRecord(siteToRecord({ ...input, updatedAt: 0 }, true), this.masks);
    if ('problems' in checked) throw new SiteValidationError(checked.problems);
    const updatedAt = (this.options.now ?? Date.now)();
    return this.guard('put', async () => {
      const p = siteParams(checked.site, updatedAt);
      try {
        const r = await this.run<ResultSetHeader>(
          `UPDATE sites SET identity = ?, gateway = ?, network = ?, psk = ?, cert = ?, active = ?, comment = ?, updated_at = ? WHERE name = ?`,
          [p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[0]],
        );
        if (r.affectedRows === 0) await this.run(`INSERT INTO sites (${SITE_SELECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p);
      } catch (e) {
        if (isDup(e)) {
          const column = dupColumn(e.message);
          throw new SiteConflictError(column, `site '${input.name}': ${column} is already used by another site`);
        }
        throw e;
      }
      return { ...checked.site, updatedAt };
    });
  }

  async delete(name: string): Promise<boolean> {
    return this.guard('delete', async () => (await this.run<ResultSetHeader>(`DELETE FROM sites WHERE name = ?`, [name])).affectedRows > 0);
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<SitePage> {
    return this.guard('list', async () => {
      const limit = clampPageSize(options.limit);
      const rows =
        options.after === undefined
          ? await this.run<RowDataPacket[]>(`SELECT ${SITE_SELECT_COLUMNS} FROM sites ORDER BY name LIMIT ?`, [limit], Math.max(this.settings.queryTimeoutMs, 30_000))
          : await this.run<RowDataPacket[]>(`SELECT ${SITE_SELECT_COLUMNS} FROM sites WHERE name > ? ORDER BY name LIMIT ?`, [options.after, limit], Math.max(this.settings.queryTimeoutMs, 30_000));
      const sites = rows.map((r) => rowToSite(r as SiteRow));
      return rows.length === limit ? { sites, next: sites[sites.length - 1]!.name } : { sites };
    });
  }

  async count(): Promise<number> {
    return this.guard('count', async () => Number((await this.run<RowDataPacket[]>(`SELECT count(*) AS n FROM sites`, [], Math.max(this.settings.queryTimeoutMs, 30_000)))[0]!['n']));
  }

  async health(): Promise<BackendHealth> {
    const t0 = performance.now();
    try {
      await this.guard('health', () => this.run(`SELECT 1`, []));
      return { ok: true, latencyMs: performance.now() - t0 };
    } catch (e) {
      return { ok: false, latencyMs: performance.now() - t0, error: (e as Error).message };
    }
  }

  async bulkImport(entries: AsyncIterable<ImportEntry> | Iterable<ImportEntry>, options: ImportOptions = {}): Promise<ImportReport> {
    const t0 = performance.now();
    const timeout = this.options.importStatementTimeoutMs ?? 120_000;
    const batchSize = this.options.importBatch ?? 500;
    const mode = options.mode ?? 'all-or-nothing';
    const collector = new RejectionCollector(options.maxReported ?? DEFAULT_MAX_REPORTED);
    const conn = await this.guard('import', () => this.connection(timeout));
    const q = async <T = ResultSetHeader>(sql: string, values: Params = []): Promise<T> => (await conn.query({ sql, values, timeout }))[0] as T;
    let rows = 0;
    let inserted = 0;
    let updated = 0;
    let deleted = 0;
    let committed = false;
    const stamp = (this.options.now ?? Date.now)();
    let batch: { line: number; site: SiteInput }[] = [];

    const problem = (line: number, column: string, text: string): void => collector.add(line, [{ column, problem: text }]);

    /** One row at a time: the slow path that tells which row is at fault. */
    const writeRow = async (line: number, site: SiteInput): Promise<void> => {
      const p = siteParams(site, stamp);
      try {
        const r = await q(`UPDATE sites SET identity = ?, gateway = ?, network = ?, psk = ?, cert = ?, active = ?, comment = ?, updated_at = ? WHERE name = ?`, [
          p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[0],
        ]);
        if (r.affectedRows > 0) updated++;
        else {
          await q(`INSERT INTO sites (${SITE_SELECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p);
          inserted++;
        }
      } catch (e) {
        if (!isDup(e)) throw e;
        const column = dupColumn(e.message);
        problem(line, column, `${column} is already used by another site`);
      }
    };

    const seenRow = async (line: number, name: string): Promise<boolean> => {
      try {
        await q(`INSERT INTO import_seen (name, line) VALUES (?, ?)`, [name, line]);
        return true;
      } catch (e) {
        if (!isDup(e)) throw e;
        const first = await q<RowDataPacket[]>(`SELECT line FROM import_seen WHERE name = ?`, [name]);
        problem(line, 'name', `'${name}' appears again (first on line ${first[0]?.['line'] ?? '?'})`);
        return false;
      }
    };

    const flushBatch = async (): Promise<void> => {
      const b = batch;
      batch = [];
      if (b.length === 0) return;
      try {
        await q(`INSERT INTO import_seen (name, line) VALUES ${b.map(() => '(?, ?)').join(', ')}`, b.flatMap((r) => [r.site.name, r.line]));
      } catch (e) {
        if (!isDup(e)) throw e;
        for (const r of b) if (await seenRow(r.line, r.site.name)) await writeRow(r.line, r.site);
        return;
      }
      const params = b.map((r) => siteParams(r.site, stamp));
      // Rows whose network or identity repeats within the batch or belongs to another site go the slow way.
      const slow = new Set<number>();
      const nets = new Map<string, number>();
      const ids = new Map<string, number>();
      params.forEach((p, i) => {
        if (nets.has(p[3]) || ids.has(p[1])) slow.add(i);
        nets.set(p[3], nets.get(p[3]) ?? i);
        ids.set(p[1], ids.get(p[1]) ?? i);
      });
      const owners = await q<RowDataPacket[]>(
        `SELECT name, network, identity FROM sites WHERE network IN (${b.map(() => '?').join(', ')}) OR identity IN (${b.map(() => '?').join(', ')})`,
        [...params.map((p) => p[3]), ...params.map((p) => p[1])],
      );
      for (const o of owners) {
        const i = nets.get(String(o['network']));
        if (i !== undefined && params[i]![0] !== o['name']) slow.add(i);
        const j = ids.get(String(o['identity']));
        if (j !== undefined && params[j]![0] !== o['name']) slow.add(j);
      }
      const fast = params.filter((_, i) => !slow.has(i));
      if (fast.length > 0) {
        try {
          const r = await q(
            `INSERT INTO sites (${SITE_SELECT_COLUMNS}) VALUES ${fast.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
             ON DUPLICATE KEY UPDATE identity = VALUES(identity), gateway = VALUES(gateway), network = VALUES(network), psk = VALUES(psk),
               cert = VALUES(cert), active = VALUES(active), comment = VALUES(comment), updated_at = VALUES(updated_at)`,
            fast.flat(),
          );
          // affectedRows counts 1 per inserted row and 2 per updated row.
          const upd = Math.max(0, r.affectedRows - fast.length);
          updated += upd;
          inserted += fast.length - upd;
        } catch (e) {
          if (!isDup(e)) throw e;
          for (let i = 0; i < b.length; i++) if (!slow.has(i)) slow.add(i);
        }
      }
      for (let i = 0; i < b.length; i++) if (slow.has(i)) await writeRow(b[i]!.line, b[i]!.site);
    };

    try {
      await q('START TRANSACTION');
      await q('CREATE TEMPORARY TABLE IF NOT EXISTS import_seen (name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, line INT NOT NULL) ENGINE=InnoDB');
      await q('DELETE FROM import_seen');
      if (options.replace) deleted = (await q(`DELETE FROM sites`)).affectedRows;
      for await (const entry of entries) {
        rows++;
        if ('problems' in entry) collector.add(entry.line, entry.problems);
        else {
          batch.push({ line: entry.line, site: entry.site });
          if (batch.length >= batchSize) await flushBatch();
        }
      }
      await flushBatch();
      if (mode === 'all-or-nothing' && collector.rejectedRows > 0) await q('ROLLBACK');
      else {
        await q('COMMIT');
        committed = true;
      }
      await q('DROP TEMPORARY TABLE IF EXISTS import_seen');
      conn.release();
    } catch (e) {
      await q('ROLLBACK').catch(() => {});
      conn.destroy();
      if (e instanceof SiteDirectoryError) throw e;
      throw new SiteBackendError(`import into ${this.where} failed: ${(e as Error).message}`, { cause: e });
    }
    // Rejections come from two places (validation and the database); report them in line order.
    collector.rejections.sort((a, b) => a.line - b.line);
    return {
      committed,
      rows,
      inserted: committed ? inserted : 0,
      updated: committed ? updated : 0,
      deleted: committed ? deleted : 0,
      rejectedRows: collector.rejectedRows,
      rejections: collector.rejections,
      unreportedProblems: collector.unreported,
      durationMs: performance.now() - t0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => {});
  }
}
