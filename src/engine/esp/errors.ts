import { MeshgateError } from '../../errors.js';

/**
 * A programming or configuration error in the ESP module (an invalid SPI, a duplicate
 * inbound SPI, a replay window size out of range). Never thrown on the receive path:
 * malformed packets are dropped and counted (see EspDropReason).
 */
export class EspError extends MeshgateError {
  static override readonly name: string = 'EspError';
}
