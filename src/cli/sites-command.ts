/**
 * `meshgate sites ...`: bulk management of the site directory from the command line.
 *
 *   meshgate sites import FILE|- [--skip-invalid] [--replace] [--directory SPEC] [--mask N] [--mask6 N]
 *   meshgate sites export [FILE|-] [--with-secrets] [--directory SPEC]
 *   meshgate sites count [--directory SPEC]
 *
 * SPEC is the site directory setting (default: sites.db in the config directory; see
 * src/engine/sites/open.ts); MESHGATE_SITE_DIRECTORY in the environment is used when
 * --directory is not given, so that a database password need not appear in the process
 * list. The mask is needed only when the directory is new (it is stored with the schema).
 *
 * Import is all-or-nothing by default: every row is validated and written inside one
 * transaction, and if any row is rejected the transaction is rolled back and the report
 * lists every rejected line (line number, column, problem). With --skip-invalid the valid
 * rows are committed and the report lists the others. --replace deletes every site first,
 * in the same transaction. Input and output are streamed.
 *
 * Exit codes: 0 done, nothing rejected; 1 rows rejected (see the report); 2 usage;
 * 3 the directory or a file could not be used.
 */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { CsvHeaderError, exportSitesCsv, importSitesCsv } from '../engine/sites/csv.js';
import { describeSiteDirectory, openSiteDirectory } from '../engine/sites/open.js';
import { SiteDirectoryError } from '../engine/sites/errors.js';
import type { SiteDirectoryBackend } from '../engine/sites/backend.js';
import type { DirectoryMasks } from '../engine/sites/site.js';

export interface SitesCommandContext {
  configDir: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  env?: Record<string, string | undefined>;
}

export const SITES_USAGE = `usage:
  meshgate sites import FILE|- [--skip-invalid] [--replace] [--directory SPEC] [--mask N] [--mask6 N]
  meshgate sites export [FILE|-] [--with-secrets] [--directory SPEC]
  meshgate sites count [--directory SPEC]

  FILE            CSV with a header row: name,identity,gateway,network,psk,cert,active,comment
                  ('-' is standard input/output)
  --skip-invalid  import the valid rows even when others are rejected (default: nothing is
                  imported when any row is rejected)
  --replace       the file becomes the directory: every other site is deleted
  --with-secrets  export the psk column (left out by default; the file is created mode 0600)
  --directory     sqlite (default: sites.db in the config directory), sqlite:FILE,
                  mysql://user:password@host:port/db, mysql://user@localhost/db?socket=PATH
                  (default: $MESHGATE_SITE_DIRECTORY)
  --mask, --mask6 remote-network prefix length of a new directory (e.g. 24, or 255.255.255.0)
`;

export const EXIT_OK = 0;
export const EXIT_REJECTED = 1;
export const EXIT_USAGE = 2;
export const EXIT_FAILED = 3;

class UsageError extends Error {}

interface Parsed {
  command: string;
  file?: string;
  skipInvalid: boolean;
  replace: boolean;
  withSecrets: boolean;
  directory?: string;
  masks: DirectoryMasks;
}

function parseMask(text: string, family: 4 | 6): number {
  if (/^\d{1,3}$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= (family === 4 ? 32 : 128)) return n;
  } else if (family === 4 && /^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const bits = text.split('.').map(Number);
    if (bits.every((b) => b <= 255)) {
      const v = ((bits[0]! << 24) | (bits[1]! << 16) | (bits[2]! << 8) | bits[3]!) >>> 0;
      const len = 32 - Math.log2((~v >>> 0) + 1);
      if (Number.isInteger(len) && len >= 1) return len;
    }
  }
  throw new UsageError(`--mask${family === 6 ? '6' : ''} ${text}: not a prefix length${family === 4 ? ' or netmask' : ''}`);
}

function parseArgs(argv: readonly string[]): Parsed {
  const args = argv[0] === 'sites' ? argv.slice(1) : [...argv];
  const command = args.shift();
  if (!command || command === 'help' || command === '--help' || command === '-h') throw new UsageError('');
  if (!['import', 'export', 'count'].includes(command)) throw new UsageError(`unknown sites command '${command}'`);
  const p: Parsed = { command, skipInvalid: false, replace: false, withSecrets: false, masks: {} };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (flag) {
      case '--skip-invalid':
        p.skipInvalid = true;
        break;
      case '--replace':
        p.replace = true;
        break;
      case '--with-secrets':
        p.withSecrets = true;
        break;
      case '--directory':
        p.directory = value();
        break;
      case '--mask':
        p.masks.v4 = parseMask(value(), 4);
        break;
      case '--mask6':
        p.masks.v6 = parseMask(value(), 6);
        break;
      default:
        if (a.startsWith('--') || (a.startsWith('-') && a !== '-')) throw new UsageError(`unknown option '${a}'`);
        positional.push(a);
    }
  }
  if (p.command === 'import') {
    if (positional.length !== 1) throw new UsageError('import needs one FILE (or - for standard input)');
    if (p.withSecrets) throw new UsageError('--with-secrets is an export option');
  } else {
    if (positional.length > (p.command === 'export' ? 1 : 0)) throw new UsageError(`too many arguments for ${p.command}`);
    if (p.skipInvalid || p.replace) throw new UsageError('--skip-invalid and --replace are import options');
  }
  if (positional[0] !== undefined) p.file = positional[0];
  return p;
}

function writeText(out: Writable, text: string): Promise<void> {
  return out.write(text) ? Promise.resolve() : once(out, 'drain').then(() => {});
}

/** Runs `meshgate sites ...`; argv is what follows `sites` (a leading 'sites' is accepted). */
export async function runSitesCommand(argv: readonly string[], ctx: SitesCommandContext): Promise<number> {
  const stdout = ctx.stdout ?? process.stdout;
  const stderr = ctx.stderr ?? process.stderr;
  const env = ctx.env ?? process.env;
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) await writeText(stderr, `meshgate sites: ${e.message}\n`);
    await writeText(e.message ? stderr : stdout, SITES_USAGE);
    return e.message ? EXIT_USAGE : EXIT_OK;
  }
  const spec = p.directory ?? env['MESHGATE_SITE_DIRECTORY'];
  const masks = p.masks.v4 !== undefined || p.masks.v6 !== undefined ? p.masks : undefined;
  let backend: SiteDirectoryBackend;
  try {
    backend = await openSiteDirectory(spec, { configDir: ctx.configDir, ...(masks ? { masks } : {}) });
  } catch (e) {
    await writeText(stderr, `meshgate sites: site directory ${describeSiteDirectory(spec)}: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
  try {
    switch (p.command) {
      case 'import':
        return await runImport(p, backend, ctx, stdout, stderr);
      case 'export':
        return await runExport(p, backend, ctx, stdout, stderr);
      default:
        await writeText(stdout, `${await backend.count()}\n`);
        return EXIT_OK;
    }
  } catch (e) {
    await writeText(stderr, `meshgate sites ${p.command}: ${e instanceof SiteDirectoryError ? e.message : (e as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    await backend.close();
  }
}

async function runImport(p: Parsed, backend: SiteDirectoryBackend, ctx: SitesCommandContext, stdout: Writable, stderr: Writable): Promise<number> {
  const input: Readable = p.file === '-' ? (ctx.stdin ?? process.stdin) : createReadStream(p.file!, { highWaterMark: 1 << 20 });
  const opened = new Promise<void>((resolve, reject) => {
    if (p.file === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (e) {
    await writeText(stderr, `meshgate sites import: cannot read ${p.file}: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
  let report;
  try {
    report = await importSitesCsv(backend, input as AsyncIterable<Uint8Array>, { mode: p.skipInvalid ? 'skip-invalid' : 'all-or-nothing', replace: p.replace });
  } catch (e) {
    input.destroy();
    if (e instanceof CsvHeaderError) {
      await writeText(stderr, `meshgate sites import: ${p.file}: ${e.message}; nothing imported\n`);
      return EXIT_REJECTED;
    }
    throw e;
  }
  for (const r of report.rejections) await writeText(stderr, `line ${r.line}: ${r.column}: ${r.problem}\n`);
  if (report.unreportedProblems > 0) await writeText(stderr, `... and ${report.unreportedProblems} more problems\n`);
  const secs = (report.durationMs / 1000).toFixed(1);
  if (report.committed) {
    const del = p.replace ? `, ${report.deleted} deleted first` : '';
    await writeText(stdout, `${report.rows} rows read: ${report.inserted} sites added, ${report.updated} updated${del}, ${report.rejectedRows} rejected (${secs} s)\n`);
  } else {
    await writeText(
      stdout,
      `${report.rows} rows read, ${report.rejectedRows} rejected: nothing imported (use --skip-invalid to import the valid rows) (${secs} s)\n`,
    );
  }
  return report.rejectedRows > 0 ? EXIT_REJECTED : EXIT_OK;
}

async function runExport(p: Parsed, backend: SiteDirectoryBackend, _ctx: SitesCommandContext, stdout: Writable, stderr: Writable): Promise<number> {
  if (p.file === undefined || p.file === '-') {
    const rows = await exportSitesCsv(backend, stdout, { withSecrets: p.withSecrets });
    await writeText(stderr, `${rows} sites exported${p.withSecrets ? ' (with pre-shared keys)' : ''}\n`);
    return EXIT_OK;
  }
  // Written next to the target and renamed into place: a failed export leaves no half file.
  const tmp = `${p.file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { mode: p.withSecrets ? 0o600 : 0o644 });
  try {
    await once(out, 'open');
    const rows = await exportSitesCsv(backend, out, { withSecrets: p.withSecrets });
    out.end();
    await once(out, 'finish');
    renameSync(tmp, p.file);
    await writeText(stderr, `${rows} sites exported to ${p.file}${p.withSecrets ? ' (with pre-shared keys)' : ''}\n`);
    return EXIT_OK;
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
}
