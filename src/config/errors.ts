/** Typed errors of the configuration layer. Callers match on `err.name`. */
import { MeshgateError } from '../errors.js';

/** A value does not fit its parameter's type; names the parameter and what is allowed. */
export class InvalidValueError extends MeshgateError {
  static override readonly name = 'InvalidValueError';
  constructor(
    readonly parameter: string,
    readonly reason: string,
    readonly allowed: string,
  ) {
    super(`${parameter}: ${reason}. Possible values: ${allowed}`);
  }
}

/** A path, parameter, table row or revision that does not exist. */
export class NotFoundError extends MeshgateError {
  static override readonly name = 'NotFoundError';
}

/** `add` of a row whose key exists, or a table over its row limit. */
export class ConflictError extends MeshgateError {
  static override readonly name = 'ConflictError';
}

/** A commit refused: validation of the whole config, a subscriber, or a concurrent change. */
export class CommitRejectedError extends MeshgateError {
  static override readonly name = 'CommitRejectedError';
}

/** The config file exists but cannot be used; it is left exactly as it is. */
export class ConfigFileError extends MeshgateError {
  static override readonly name = 'ConfigFileError';
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`config file ${file} refused: ${detail}. The file was left untouched; fix or move it away and start again.`, options);
  }
}
