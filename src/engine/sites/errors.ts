/**
 * Errors of the site directory. Callers match on `err.name`.
 */
import { MeshgateError } from '../../errors.js';

/** Base of the site directory's errors. */
export class SiteDirectoryError extends MeshgateError {
  static override readonly name: string = 'SiteDirectoryError';
}

/** One problem of a site row: the column it concerns and what is wrong. */
export interface SiteProblem {
  column: string;
  problem: string;
}

/** A site row was refused; `problems` lists every problem of the row, each with its column. */
export class SiteValidationError extends SiteDirectoryError {
  static override readonly name: string = 'SiteValidationError';
  constructor(readonly problems: SiteProblem[]) {
    super(`invalid site: ${problems.map((p) => `${p.column}: ${p.problem}`).join('; ')}`);
  }
}

/** A write collided with another site's unique name, network or identity. */
export class SiteConflictError extends SiteDirectoryError {
  static override readonly name: string = 'SiteConflictError';
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

/** The database cannot be reached, refused the statement, or did not answer in time. */
export class SiteBackendError extends SiteDirectoryError {
  static override readonly name: string = 'SiteBackendError';
}

/** A lookup (or query) did not finish within its timeout. */
export class SiteLookupTimeoutError extends SiteBackendError {
  static override readonly name: string = 'SiteLookupTimeoutError';
}

/** The database was created for a different remote-network mask than the one configured. */
export class SiteMaskMismatchError extends SiteDirectoryError {
  static override readonly name: string = 'SiteMaskMismatchError';
}

/** A connection string or backend option is not understood. */
export class SiteDirectoryConfigError extends SiteDirectoryError {
  static override readonly name: string = 'SiteDirectoryConfigError';
}
