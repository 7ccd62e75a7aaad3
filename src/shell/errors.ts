/** Typed shell errors and the mapping of every error to a script exit code class. */
import { MeshgateError } from '../errors.js';
import type { ExitCodeName } from './session-api.js';

/** Malformed input: unknown command, bad quoting, missing or extra arguments. */
export class ShellSyntaxError extends MeshgateError {
  static override readonly name = 'ShellSyntaxError';
}

/** An abbreviation that matches more than one command, path element, column or topic. */
export class AmbiguousError extends MeshgateError {
  static override readonly name = 'AmbiguousError';
  constructor(
    readonly word: string,
    readonly candidates: readonly string[],
    what: string,
  ) {
    super(`'${word}' is ambiguous (${what}): ${candidates.join(', ')}`);
  }
}

/** A read-only user tried to change something. */
export class PermissionError extends MeshgateError {
  static override readonly name = 'PermissionError';
}

/** Maps an error to its exit code class (session-api.ts ExitCode). */
export function exitCodeOf(err: unknown): ExitCodeName {
  const name = err instanceof Error ? err.name : '';
  switch (name) {
    case 'ShellSyntaxError':
      return 'syntax';
    case 'AmbiguousError':
      return 'ambiguous';
    case 'NotFoundError':
      return 'notFound';
    case 'InvalidValueError':
    case 'ConflictError':
      return 'invalidValue';
    case 'PermissionError':
      return 'permission';
    case 'CommitRejectedError':
      return 'commitFailed';
    default:
      return 'runtime';
  }
}
