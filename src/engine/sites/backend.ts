/**
 * The storage side of the site directory: one interface, three implementations
 * (SQLite embedded, MySQL/MariaDB by connection string, memory for labs and tests).
 *
 * Every lookup is asynchronous. The dynamic route manager bounds each call with its own
 * timeout, so a backend that hangs delays nothing but the lookup that waits for it.
 */
import type { Identity } from '../ike/peer-config.js';
import type { SiteProblem } from './errors.js';
import type { DirectoryMasks, Site, SiteInput } from './site.js';

export type BackendKind = 'sqlite' | 'mysql' | 'memory';

export interface BackendHealth {
  ok: boolean;
  /** Round trip of the health query, milliseconds. */
  latencyMs: number;
  /** Why not ok. */
  error?: string;
}

export interface SitePage {
  sites: Site[];
  /** Pass as `after` to get the next page; absent on the last page. */
  next?: string;
}

/** One row of an import: a validated site or the problems of the row. */
export type ImportEntry = { line: number; site: SiteInput } | { line: number; problems: SiteProblem[] };

export interface ImportOptions {
  /**
   * 'all-or-nothing' (default): any rejected row rolls the whole import back.
   * 'skip-invalid': the valid rows are committed; the report lists the others.
   */
  mode?: 'all-or-nothing' | 'skip-invalid';
  /** Delete every site first (in the same transaction): the file becomes the directory. */
  replace?: boolean;
  /** Rejections kept in the report (the rest are only counted). Default 1000. */
  maxReported?: number;
}

export interface ImportRejection {
  line: number;
  column: string;
  problem: string;
}

export interface ImportReport {
  /** Whether the transaction was committed. */
  committed: boolean;
  /** Rows read (valid and invalid). */
  rows: number;
  inserted: number;
  updated: number;
  /** Rows refused (a row with three problems counts once). */
  rejectedRows: number;
  /** The first maxReported problems, in line order. */
  rejections: ImportRejection[];
  /** Problems beyond maxReported (counted, not listed). */
  unreportedProblems: number;
  /** Sites deleted up front with `replace`. */
  deleted: number;
  durationMs: number;
}

/** The database of sites of one directory. */
export interface SiteDirectoryBackend {
  readonly kind: BackendKind;
  /** The remote-network mask of this directory (stored in the database with the schema). */
  readonly masks: DirectoryMasks;
  /** The site whose network is exactly this masked address (4 or 16 bytes), via the index. */
  lookupByNetwork(network: Uint8Array): Promise<Site | undefined>;
  /** The site with this IKE identity (compared in canonical form). */
  lookupByIdentity(identity: Identity | string): Promise<Site | undefined>;
  get(name: string): Promise<Site | undefined>;
  /**
   * Inserts or replaces the site of this name (the row is validated against the masks
   * again). Throws SiteValidationError or SiteConflictError (network or identity taken).
   */
  put(site: SiteInput): Promise<Site>;
  delete(name: string): Promise<boolean>;
  /** Sites in name order, a page at a time. */
  list(options?: { after?: string; limit?: number }): Promise<SitePage>;
  count(): Promise<number>;
  /** Imports rows in one transaction (see ImportOptions for what is committed). */
  bulkImport(entries: AsyncIterable<ImportEntry> | Iterable<ImportEntry>, options?: ImportOptions): Promise<ImportReport>;
  health(): Promise<BackendHealth>;
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 10_000;
export const DEFAULT_MAX_REPORTED = 1000;

/** Collects rejections for an import report: keeps the first `max`, counts the rest. */
export class RejectionCollector {
  readonly rejections: ImportRejection[] = [];
  unreported = 0;
  rejectedRows = 0;

  constructor(private readonly max: number) {}

  add(line: number, problems: SiteProblem[]): void {
    this.rejectedRows++;
    for (const p of problems) {
      if (this.rejections.length < this.max) this.rejections.push({ line, column: p.column, problem: p.problem });
      else this.unreported++;
    }
  }
}

export function clampPageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) return 1;
  return Math.min(limit, MAX_PAGE_SIZE);
}
