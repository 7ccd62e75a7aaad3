import { MeshgateError } from '../../errors.js';

/** The UDP endpoint could not be opened (address in use, bad address, no permission). */
export class TransportOpenError extends MeshgateError {
  static override readonly name = 'TransportOpenError';
}
