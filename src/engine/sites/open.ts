/**
 * Opens a site directory from its setting:
 *
 *   (empty) or 'sqlite'        the SQLite file sites.db in the config directory
 *   'sqlite:<file>'            another SQLite file (relative to the config directory)
 *   'mysql://...', 'mariadb://...'   MySQL/MariaDB (see mysql-backend.ts)
 *   'memory'                   in memory (labs, tests)
 */
import { isAbsolute, join } from 'node:path';
import type { SiteDirectoryBackend } from './backend.js';
import { SiteDirectoryConfigError } from './errors.js';
import { MemorySiteBackend } from './memory-backend.js';
import { MysqlSiteBackend, redactDsn } from './mysql-backend.js';
import type { DirectoryMasks } from './site.js';
import { SQLITE_DEFAULT_FILE, SqliteSiteBackend } from './sqlite-backend.js';

export interface OpenSiteDirectoryOptions {
  /** Where a relative SQLite file lives (the node's --config-dir). */
  configDir: string;
  /** The configured mask; omitted: the one stored in the database (which must exist then). */
  masks?: DirectoryMasks;
  now?: () => number;
}

export async function openSiteDirectory(spec: string | undefined, options: OpenSiteDirectoryOptions): Promise<SiteDirectoryBackend> {
  const s = (spec ?? '').trim();
  if (s === '' || s === 'sqlite') return sqlite(join(options.configDir, SQLITE_DEFAULT_FILE), options);
  if (s.startsWith('sqlite:')) {
    const file = s.slice('sqlite:'.length);
    if (!file) throw new SiteDirectoryConfigError(`'${s}' names no file`);
    return sqlite(isAbsolute(file) ? file : join(options.configDir, file), options);
  }
  if (/^(mysql|mariadb):\/\//i.test(s)) {
    return MysqlSiteBackend.open({ dsn: s, ...(options.masks ? { masks: options.masks } : {}), ...(options.now ? { now: options.now } : {}) });
  }
  if (s === 'memory') {
    if (!options.masks) throw new SiteDirectoryConfigError('an in-memory site directory needs its mask');
    return new MemorySiteBackend(options.masks, options.now);
  }
  throw new SiteDirectoryConfigError(`'${redactDsn(s)}' is not a site directory (sqlite, sqlite:<file>, mysql://..., mariadb://..., memory)`);
}

function sqlite(file: string, options: OpenSiteDirectoryOptions): SiteDirectoryBackend {
  return new SqliteSiteBackend({ file, ...(options.masks ? { masks: options.masks } : {}), ...(options.now ? { now: options.now } : {}) });
}

/** A directory setting fit for logs: the password of a connection string replaced by '***'. */
export function describeSiteDirectory(spec: string | undefined): string {
  return redactDsn((spec ?? '').trim() || 'sqlite');
}
