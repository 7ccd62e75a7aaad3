/**
 * The site directory in the shell: /Setup/VPN/Site-Directory opens (or closes) the backend and
 * attaches it to the engine's concentrator; `show sites`, the /Status/VPN/Site-Directory views
 * and the /Other/Site-Directory actions read it.
 *
 * Opening a directory is I/O (a SQLite file, a MariaDB connection) and may fail or take time:
 * it runs beside the commit, never inside it. A directory that cannot be opened is retried
 * with backoff and the reason is in `show sites` and the log; the rest of the node runs on.
 * The MySQL DSN holds a password: only its redacted form is ever shown.
 */
import { siteDirectorySettings, type ConfigData } from '../config/index.js';
import { NotFoundError } from '../config/errors.js';
import { MeshgateError } from '../errors.js';
import type { Timer } from '../engine/clock.js';
import type { Engine } from '../engine/engine.js';
import type { SiteDirectoryBackend } from '../engine/sites/backend.js';
import { describeSiteDirectory, openSiteDirectory } from '../engine/sites/open.js';
import { COUNTER_COLUMNS, counterRows, directoryRows, DIRECTORY_COLUMNS, DYNAMIC_ROUTE_COLUMNS, dynamicRouteRows } from '../engine/sites/show.js';
import { formatGateway, formatIdentity, validateSiteRecord, type DirectoryMasks } from '../engine/sites/site.js';
import { InvalidValueError } from '../config/errors.js';
import { formatPrefix } from '../engine/dataplane/address.js';
import type { Cell, OutputBlock } from '../shell/session-api.js';
import type { Router } from './router.js';

/** The directory cannot answer (not open, or the database failed). */
export class SiteDirectoryStateError extends MeshgateError {
  static override readonly name: string = 'SiteDirectoryStateError';
}

/** First retry after a failed open; doubles up to the maximum. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 120_000;

interface Wanted {
  spec: string;
  masks: DirectoryMasks;
}

function wanted(c: Readonly<ConfigData>): Wanted | undefined {
  const sd = siteDirectorySettings(c);
  if (!sd.operating) return undefined;
  const spec = sd.backend === 'mysql' ? sd.mysqlDsn : `sqlite:${sd.sqliteFile || 'sites.db'}`;
  const masks: DirectoryMasks = sd.remoteMask <= 32 ? { v4: sd.remoteMask } : { v6: sd.remoteMask };
  return { spec, masks };
}

function sameWanted(a: Wanted | undefined, b: Wanted | undefined): boolean {
  return a?.spec === b?.spec && a?.masks.v4 === b?.masks.v4 && a?.masks.v6 === b?.masks.v6;
}

export interface SitesBinding {
  /** The configuration changed (after the engine applied it). */
  update(c: Readonly<ConfigData>): void;
  unbind(): Promise<void>;
}

export function bindSites(router: Router, engine: Engine): SitesBinding {
  const clock = engine.clock;
  const undo: (() => void)[] = [];
  let want: Wanted | undefined;
  /** Bumped on every change: an open that finishes for an older wish closes what it opened. */
  let generation = 0;
  let state: 'off' | 'opening' | 'open' | 'failed' = 'off';
  let lastError: string | undefined;
  let retryTimer: Timer | undefined;
  let retryMs = RETRY_FIRST_MS;
  let openedAt: number | undefined;

  const closeBackend = (b: SiteDirectoryBackend | undefined) => {
    if (b) void b.close().catch(() => {});
  };

  const open = (w: Wanted, gen: number) => {
    state = 'opening';
    openSiteDirectory(w.spec, { configDir: router.configDir, masks: w.masks, now: () => router.clock.wallTime().getTime() }).then(
      (backend) => {
        if (gen !== generation) return closeBackend(backend);
        try {
          engine.sites.attach(backend);
        } catch (e) {
          closeBackend(backend);
          return failed(w, gen, (e as Error).message);
        }
        state = 'open';
        lastError = undefined;
        retryMs = RETRY_FIRST_MS;
        openedAt = clock.now();
        router.log('vpn', `site directory ${describeSiteDirectory(w.spec)} open`);
      },
      (e: unknown) => {
        if (gen === generation) failed(w, gen, (e as Error).message);
      },
    );
  };

  const failed = (w: Wanted, gen: number, message: string) => {
    state = 'failed';
    lastError = message;
    router.log('vpn', `site directory ${describeSiteDirectory(w.spec)} cannot be opened: ${message}; retry in ${Math.round(retryMs / 1000)} s`);
    retryTimer = clock.setTimer(retryMs, () => {
      retryTimer = undefined;
      if (gen === generation) open(w, gen);
    });
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  const update = (c: Readonly<ConfigData>) => {
    // Only when the engine took the settings (a Base-Peer problem leaves it without them).
    const next = engine.config.siteDirectory ? wanted(c) : undefined;
    if (sameWanted(next, want)) return;
    generation++;
    retryTimer?.cancel();
    retryTimer = undefined;
    retryMs = RETRY_FIRST_MS;
    closeBackend(engine.sites.detach());
    want = next;
    lastError = undefined;
    openedAt = undefined;
    state = 'off';
    if (next) open(next, generation);
  };

  // ---- show sites ---------------------------------------------------------------------------
  const summary = (): [string, Cell][] => {
    const st = engine.sites.status();
    const dir = st?.directories[0];
    return [
      ['Operating', want ? 'yes' : 'no'],
      ['Backend', want ? describeSiteDirectory(want.spec) : '-'],
      ['State', state === 'open' ? (dir?.state ?? 'up') : state],
      ['Last-Error', (state === 'failed' ? lastError : dir?.lastError) ?? '-'],
      ['Open-Since', openedAt === undefined ? '-' : `${Math.round((clock.now() - openedAt) / 1000)} s`],
      ['Base-Routes', engine.config.siteDirectory?.baseRoutes.join(' ') || '-'],
      ['Slots', st ? `${st.used}/${st.capacity} (${st.free} free)` : '-'],
    ];
  };

  const openBackend = (): SiteDirectoryBackend => {
    const b = engine.sites.directory;
    if (!b) throw new SiteDirectoryStateError(`the site directory is not open (${want ? state : 'Operating is no'}${lastError ? `: ${lastError}` : ''})`);
    return b;
  };
  /** A database call whose failure becomes a clear shell error (the cause, never the DSN). */
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if ((e as Error).name === 'SiteValidationError' || (e as Error).name === 'SiteConflictError') throw new SiteDirectoryStateError((e as Error).message);
      throw new SiteDirectoryStateError(`site directory: ${(e as Error).message}`);
    }
  };
  const listRows = async (after: string | undefined): Promise<OutputBlock[]> => {
    const backend = openBackend();
    const page = await guarded(() => backend.list({ ...(after ? { after } : {}), limit: 100 }));
    const rows: Cell[][] = page.sites.map((x) => [x.name, formatIdentity(x.identity), formatGateway(x.gateway), formatPrefix(x.network), x.psk !== undefined ? 'psk' : `cert ${x.cert ?? ''}`, x.active ? 'yes' : 'no', x.comment]);
    const blocks: OutputBlock[] = [{ kind: 'table', title: `Sites${after ? ` after ${after}` : ''}`, columns: ['Site', 'Identity', 'Gateway', 'Network', 'Auth', 'Active', 'Comment'], rows }];
    const last = page.sites.at(-1);
    if (page.next !== undefined && last) blocks.push({ kind: 'text', text: `more: show sites list ${last.name}` });
    return blocks;
  };

  const siteRow = async (name: string): Promise<OutputBlock[]> => {
    const backend = engine.sites.directory;
    if (!backend) throw new SiteDirectoryStateError(`the site directory is not open (${state}${lastError ? `: ${lastError}` : ''})`);
    let site;
    try {
      site = await backend.get(name);
    } catch (e) {
      throw new SiteDirectoryStateError(`site directory: ${(e as Error).message}`);
    }
    if (!site) throw new NotFoundError(`no site '${name}' in the directory`);
    const route = engine.sites.routes().find((r) => r.site.name === site.name);
    return [
      {
        kind: 'keyvalue',
        title: `site ${site.name}`,
        pairs: [
          ['Identity', formatIdentity(site.identity)],
          ['Gateway', formatGateway(site.gateway)],
          ['Network', formatPrefix(site.network)],
          ['Auth', site.psk !== undefined ? 'PSK (not shown)' : `certificate ${site.cert ?? ''}`],
          ['Active', site.active ? 'yes' : 'no'],
          ['Comment', site.comment || '-'],
          ['Updated', new Date(site.updatedAt).toISOString().replace('T', ' ').slice(0, 19)],
          ['Connected', route ? `${route.state}${route.saId !== undefined ? ` (${String(route.saId)})` : ''}` : 'no'],
        ],
      },
    ];
  };

  undo.push(
    router.registerShow('sites', {
      help: 'Site directory (concentrator): state, slots, dynamic routes; `show sites counters`, `show sites routes`, `show sites list [AFTER]` (100 rows a page), `show sites count`, `show sites NAME` (one row)',
      complete: () => ['counters', 'routes', 'list', 'count'],
      run: (args) => {
        const st = engine.sites.status();
        if (args[0] === 'counters') return [{ kind: 'table', title: 'Site directory counters', columns: [...COUNTER_COLUMNS], rows: st ? counterRows(st) : [] }];
        if (args[0] === 'routes') return [{ kind: 'table', title: 'Dynamic routes', columns: [...DYNAMIC_ROUTE_COLUMNS], rows: st ? dynamicRouteRowsOf(engine, 10_000) : [] }];
        if (args[0] === 'list') return listRows(args[1]);
        if (args[0] === 'count') return (async () => [{ kind: 'keyvalue', pairs: [['Sites', await guarded(() => openBackend().count())]] } as OutputBlock])();
        if (args[0] !== undefined) return siteRow(args[0]);
        const blocks: OutputBlock[] = [{ kind: 'keyvalue', title: 'site directory', pairs: summary() }];
        if (st) {
          blocks.push({ kind: 'table', title: 'Directory', columns: [...DIRECTORY_COLUMNS], rows: directoryRows(st) });
          blocks.push({ kind: 'table', title: 'Dynamic routes (most recently used first, at most 100)', columns: [...DYNAMIC_ROUTE_COLUMNS], rows: dynamicRouteRowsOf(engine, 100) });
        }
        return blocks;
      },
    }),
    router.registerStatusView('sites.dynamic-routes', () => ({
      rows: engine.sites.routes().map((r) => [r.network, r.site.name, formatGateway(r.site.gateway), `${Math.round((clock.now() - r.createdAt) / 1000)} s ago`, `${Math.round((clock.now() - r.lastUsed) / 1000)} s ago`]),
    })),
    router.registerStatusView('sites.statistics', () => {
      const st = engine.sites.status();
      return {
        pairs: {
          Backend: want ? describeSiteDirectory(want.spec) : '-',
          State: state === 'open' ? `${st?.directories[0]?.state ?? 'up'}${st?.directories[0]?.lastError ? `: ${st.directories[0].lastError}` : ''}` : `${state}${lastError ? `: ${lastError}` : ''}`,
          Lookups: st?.counters.lookups ?? 0,
          Hits: st?.counters.hits ?? 0,
          Evictions: st?.counters.evictions ?? 0,
          'Slots-Free': st ? st.free : 0,
        },
      };
    }),
    router.registerAction('sites.flush', () => {
      const n = engine.sites.flush();
      return [{ kind: 'text', text: engine.sites.attached ? `removed ${n} dynamic route(s)` : 'the site directory is not open' }];
    }),
    router.registerAction('sites.put', async (args) => {
      const backend = openBackend();
      const v = validateSiteRecord(
        { name: args['site'], identity: args['identity'], gateway: args['gateway'], network: args['network'], psk: args['psk'], active: args['active'] ?? 'yes', comment: args['comment'] ?? '' },
        backend.masks,
      );
      if ('problems' in v) {
        const p = v.problems[0]!;
        throw new InvalidValueError(`site ${args['site']} ${p.column}`, p.problem, v.problems.slice(1).map((x) => `${x.column}: ${x.problem}`).join('; ') || 'see help');
      }
      const existed = (await guarded(() => backend.get(v.site.name))) !== undefined;
      await guarded(() => backend.put(v.site));
      const refreshed = await engine.sites.refresh(v.site.name);
      router.log('vpn', `site ${v.site.name} ${existed ? 'replaced' : 'added'} in the site directory`);
      return [{ kind: 'text', text: `site ${v.site.name} ${existed ? 'replaced' : 'added'}${refreshed !== 'not-connected' ? ` (connected: ${refreshed})` : ''}` }];
    }),
    router.registerAction('sites.delete', async (args) => {
      const backend = openBackend();
      const name = args['site']!;
      if (!(await guarded(() => backend.delete(name)))) throw new NotFoundError(`no site '${name}' in the directory`);
      const refreshed = await engine.sites.refresh(name);
      router.log('vpn', `site ${name} deleted from the site directory`);
      return [{ kind: 'text', text: `site ${name} deleted${refreshed === 'deleted' ? '; its tunnel was taken down' : ''}` }];
    }),
    router.registerAction('sites.refresh', async (args) => {
      if (!engine.sites.attached) return [{ kind: 'text', text: 'the site directory is not open' }];
      const site = args['site'] ?? '*';
      const results = site === '*' ? await engine.sites.refreshAll() : new Map([[site, await engine.sites.refresh(site)]]);
      if (results.size === 0) return [{ kind: 'text', text: 'no connected site' }];
      return [{ kind: 'table', title: 'refresh', columns: ['Site', 'Result'], rows: [...results].map(([k, v]) => [k, v]) }];
    }),
  );

  update(router.running());
  return {
    update,
    async unbind() {
      for (const u of undo.splice(0).reverse()) u();
      generation++;
      retryTimer?.cancel();
      const b = engine.sites.detach();
      if (b) await b.close().catch(() => {});
    },
  };
}

function dynamicRouteRowsOf(engine: Engine, limit: number): string[][] {
  return dynamicRouteRows({ list: () => engine.sites.routes() }, engine.clock, limit);
}
