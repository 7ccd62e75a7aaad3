/** The site directory (concentrator mode): public API. */
export * from './errors.js';
export * from './site.js';
export * from './backend.js';
export * from './csv.js';
export * from './dynamic-routes.js';
export { MemorySiteBackend } from './memory-backend.js';
export { SqliteSiteBackend, SQLITE_DEFAULT_FILE, type SqliteBackendOptions } from './sqlite-backend.js';
export { MysqlSiteBackend, parseMysqlDsn, redactDsn, type MysqlBackendOptions, type MysqlConnectionSettings } from './mysql-backend.js';
export { openSiteDirectory, describeSiteDirectory, type OpenSiteDirectoryOptions } from './open.js';
export { sitePeerConfigInput, gatewayNeedsResolving, SiteAuthUnsupportedError, type SitePeerTemplate } from './site-peer.js';
export { directoryRows, dynamicRouteRows, counterRows, DIRECTORY_COLUMNS, DYNAMIC_ROUTE_COLUMNS, COUNTER_COLUMNS } from './show.js';
