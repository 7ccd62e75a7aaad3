/**
 * Rows for `show sites` and /Status/VPN/Site-Directory: plain string tables, rendered by the
 * shell. Secrets never appear here.
 */
import type { Clock } from '../clock.js';
import { formatGateway, formatIdentity } from './site.js';
import type { DynamicRouteManager, SiteManagerStatus } from './dynamic-routes.js';

export const DIRECTORY_COLUMNS = ['Directory', 'Backend', 'State', 'Routes', 'Base routes', 'Last error'] as const;
export const DYNAMIC_ROUTE_COLUMNS = ['Site', 'Directory', 'Network', 'Identity', 'Gateway', 'State', 'SA', 'Idle (s)', 'Age (s)'] as const;
export const COUNTER_COLUMNS = ['Counter', 'Value'] as const;

export function directoryRows(status: SiteManagerStatus): string[][] {
  return status.directories.map((d) => [
    d.id,
    d.kind,
    d.state,
    String(d.routes),
    d.baseRoutes.join(' '),
    d.lastError === undefined ? '' : `${d.lastErrorAt?.toISOString() ?? ''} ${d.lastError}`.trim(),
  ]);
}

/** Dynamic routes, most recently used first; at most `limit` rows. */
export function dynamicRouteRows(manager: Pick<DynamicRouteManager, 'list'>, clock: Clock, limit = 1000): string[][] {
  const now = clock.now();
  return manager
    .list()
    .slice(0, limit)
    .map((r) => [
      r.name,
      r.directoryId,
      r.network,
      formatIdentity(r.site.identity),
      formatGateway(r.site.gateway),
      r.state,
      r.saId === undefined ? '' : String(r.saId),
      ((now - r.lastUsed) / 1000).toFixed(0),
      ((now - r.createdAt) / 1000).toFixed(0),
    ]);
}

/** Slots, counters and drop reasons (non-zero drops only). */
export function counterRows(status: SiteManagerStatus): string[][] {
  const rows: string[][] = [
    ['slots', `${status.used}/${status.capacity} (${status.free} free)`],
    ['connecting', String(status.connecting)],
    ['up', String(status.up)],
    ['pending lookups', String(status.pendingLookups)],
    ['queued packets', `${status.queuedPackets} (${status.queuedBytes} bytes)`],
    ['negative cache', String(status.negativeEntries)],
  ];
  for (const [k, v] of Object.entries(status.counters)) rows.push([k, String(v)]);
  for (const [k, v] of Object.entries(status.drops)) if (v > 0) rows.push([`dropped: ${k}`, String(v)]);
  return rows;
}
