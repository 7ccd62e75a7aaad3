import { MeshgateError } from '../../errors.js';

/** Base of the IKE module's errors. Callers match on `err.name`. */
export class IkeError extends MeshgateError {
  static override readonly name: string = 'IkeError';
}

/** A state change that the SA's transition table does not allow (a programming error). */
export class IkeStateError extends IkeError {
  static override readonly name = 'IkeStateError';
}

/** A peer configuration that cannot be used; `field` names the offending setting. */
export class IkeConfigError extends IkeError {
  static override readonly name = 'IkeConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * The peer answered, or must be answered, with an error notify (RFC 7296 section 3.10.1).
 * `notify` is the RFC name, e.g. 'AUTHENTICATION_FAILED'.
 */
export class IkeProtocolError extends IkeError {
  static override readonly name = 'IkeProtocolError';
  constructor(
    readonly notify: string,
    message: string,
  ) {
    super(message);
  }
}
