/**
 * A site directory held in memory: for labs (a concentrator on the in-memory network) and
 * tests. Same semantics as the SQL backends: unique name, network and identity; imports
 * all-or-nothing unless told to skip invalid rows.
 */
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
import { SiteBackendError, SiteConflictError, SiteDirectoryConfigError, SiteValidationError } from './errors.js';
import { checkMasks, formatIdentity, identityKey, siteToRecord, validateSiteRecord, type DirectoryMasks, type Site, type SiteInput } from './site.js';

export class MemorySiteBackend implements SiteDirectoryBackend {
  readonly kind = 'memory' as const;
  readonly masks: DirectoryMasks;
  private byName = new Map<string, Site>();
  private byNetwork = new Map<string, string>();
  private byIdentity = new Map<string, string>();
  private closed = false;

  constructor(masks: DirectoryMasks, private readonly now: () => number = () => Date.now()) {
    const problem = checkMasks(masks);
    if (problem) throw new SiteDirectoryConfigError(problem);
    this.masks = { ...masks };
  }

  private open(): void {
    if (this.closed) throw new SiteBackendError('site directory is closed');
  }

  async lookupByNetwork(network: Uint8Array): Promise<Site | undefined> {
    this.open();
    const len = network.length === 4 ? this.masks.v4 : network.length === 16 ? this.masks.v6 : undefined;
    const p = len === undefined ? undefined : makePrefix(network, len);
    const name = p ? this.byNetwork.get(formatPrefix(p)) : undefined;
    return name === undefined ? undefined : copy(this.byName.get(name)!);
  }

  async lookupByIdentity(identity: Identity | string): Promise<Site | undefined> {
    this.open();
    const key = identityKey(identity);
    const name = key === undefined ? undefined : this.byIdentity.get(key);
    return name === undefined ? undefined : copy(this.byName.get(name)!);
  }

  async get(name: string): Promise<Site | undefined> {
    this.open();
    const s = this.byName.get(name);
    return s ? copy(s) : undefined;
  }

  async put(input: SiteInput): Promise<Site> {
    this.open();
    return this.putSync(input, this.now());
  }

  private putSync(input: SiteInput, updatedAt: number): Site {
    const checked = validateSiteRecord(siteToRecord({ ...input, updatedAt: 0 }, true), this.masks);
    if ('problems' in checked) throw new SiteValidationError(checked.problems);
    const site: Site = { ...checked.site, updatedAt };
    const net = formatPrefix(site.network);
    const id = formatIdentity(site.identity);
    const netOwner = this.byNetwork.get(net);
    if (netOwner !== undefined && netOwner !== site.name) throw new SiteConflictError('network', `site '${site.name}': network is already used by another site`);
    const idOwner = this.byIdentity.get(id);
    if (idOwner !== undefined && idOwner !== site.name) throw new SiteConflictError('identity', `site '${site.name}': identity is already used by another site`);
    this.deleteSync(site.name);
    this.byName.set(site.name, site);
    this.byNetwork.set(net, site.name);
    this.byIdentity.set(id, site.name);
    return copy(site);
  }

  private deleteSync(name: string): boolean {
    const old = this.byName.get(name);
    if (!old) return false;
    this.byName.delete(name);
    this.byNetwork.delete(formatPrefix(old.network));
    this.byIdentity.delete(formatIdentity(old.identity));
    return true;
  }

  async delete(name: string): Promise<boolean> {
    this.open();
    return this.deleteSync(name);
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<SitePage> {
    this.open();
    const limit = clampPageSize(options.limit);
    const names = [...this.byName.keys()].sort(byCodeUnit).filter((n) => options.after === undefined || n > options.after);
    const page = names.slice(0, limit).map((n) => copy(this.byName.get(n)!));
    return names.length > limit ? { sites: page, next: page[page.length - 1]!.name } : { sites: page };
  }

  async count(): Promise<number> {
    this.open();
    return this.byName.size;
  }

  async bulkImport(entries: AsyncIterable<ImportEntry> | Iterable<ImportEntry>, options: ImportOptions = {}): Promise<ImportReport> {
    this.open();
    const t0 = performance.now();
    const snapshot = { byName: new Map(this.byName), byNetwork: new Map(this.byNetwork), byIdentity: new Map(this.byIdentity) };
    const collector = new RejectionCollector(options.maxReported ?? DEFAULT_MAX_REPORTED);
    const seen = new Map<string, number>();
    const counts = { rows: 0, inserted: 0, updated: 0 };
    let deleted = 0;
    if (options.replace) {
      deleted = this.byName.size;
      this.byName.clear();
      this.byNetwork.clear();
      this.byIdentity.clear();
    }
    const stamp = this.now();
    const restore = (): void => {
      this.byName = snapshot.byName;
      this.byNetwork = snapshot.byNetwork;
      this.byIdentity = snapshot.byIdentity;
    };
    try {
      await this.importEntries(entries, collector, seen, stamp, counts);
    } catch (e) {
      restore();
      throw e;
    }
    const { rows, inserted, updated } = counts;
    const committed = !((options.mode ?? 'all-or-nothing') === 'all-or-nothing' && collector.rejectedRows > 0);
    if (!committed) restore();
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

  private async importEntries(
    entries: AsyncIterable<ImportEntry> | Iterable<ImportEntry>,
    collector: RejectionCollector,
    seen: Map<string, number>,
    stamp: number,
    counts: { rows: number; inserted: number; updated: number },
  ): Promise<void> {
    for await (const entry of entries) {
      counts.rows++;
      if ('problems' in entry) {
        collector.add(entry.line, entry.problems);
        continue;
      }
      const first = seen.get(entry.site.name);
      if (first !== undefined) {
        collector.add(entry.line, [{ column: 'name', problem: `'${entry.site.name}' appears again (first on line ${first})` }]);
        continue;
      }
      seen.set(entry.site.name, entry.line);
      const existed = this.byName.has(entry.site.name);
      try {
        this.putSync(entry.site, stamp);
        if (existed) counts.updated++;
        else counts.inserted++;
      } catch (e) {
        if (e instanceof SiteConflictError) collector.add(entry.line, [{ column: e.column, problem: `${e.column} is already used by another site` }]);
        else if (e instanceof SiteValidationError) collector.add(entry.line, e.problems);
        else throw e;
      }
    }
  }

  async health(): Promise<BackendHealth> {
    return this.closed ? { ok: false, latencyMs: 0, error: 'closed' } : { ok: true, latencyMs: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function copy(s: Site): Site {
  return { ...s, identity: { ...s.identity }, gateway: { ...s.gateway } };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
