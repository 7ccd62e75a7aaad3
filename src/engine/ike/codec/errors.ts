/**
 * Typed errors of the IKE codec. Decoding never throws (it returns a DecodeFailure); these
 * are thrown by the encoder when the caller hands it a message that cannot go on the wire,
 * which is a programming error on our side, not a peer's.
 */
import { MeshgateError } from '../../../errors.js';

/** A message or payload that violates the wire format (value out of range, wrong length). */
export class IkeEncodeError extends MeshgateError {
  static override readonly name: string = 'IkeEncodeError';

  constructor(
    message: string,
    /** The payload type being encoded, when the problem is inside one. */
    readonly payloadType?: number,
  ) {
    super(message);
  }
}
