/**
 * The two ESP SAs of one child SA, built from the KEYMAT of RFC 7296 section 2.17.
 *
 * KEYMAT yields the initiator-to-responder keys first. The initiator therefore sends with
 * them (outbound SA, the responder's SPI) and receives with the responder-to-initiator
 * keys (inbound SA, its own SPI); the responder does the opposite. Getting this backwards
 * is the classic bug, so it lives in one place.
 */
import { createAead } from '../crypto/aead.js';
import type { ChildSaKeys } from '../crypto/key-derivation.js';
import { InboundSa, OutboundSa, type EspLimitListener, type EspSaLimits } from './sa-table.js';

export interface EspSaPairOptions {
  /** True when this node initiated the exchange that created the child SA. */
  readonly initiator: boolean;
  /** KEYMAT split per direction (deriveChildSaKeys). */
  readonly keys: ChildSaKeys;
  /** ENCR transform id (20 or 28) and, for AES-GCM, its key length in bits. */
  readonly encrId: number;
  readonly keyBits?: number;
  /** The SPI we chose: packets to us carry it (inbound SA). */
  readonly localSpi: number;
  /** The SPI the peer chose: packets we send carry it (outbound SA). */
  readonly remoteSpi: number;
  readonly replayWindowSize?: number;
  readonly limits?: EspSaLimits;
  readonly onLimit?: EspLimitListener;
}

export interface EspSaPair {
  readonly inbound: InboundSa;
  readonly outbound: OutboundSa;
}

export function createEspSaPair(o: EspSaPairOptions): EspSaPair {
  const sendKeys = o.initiator ? o.keys.initiatorToResponder : o.keys.responderToInitiator;
  const receiveKeys = o.initiator ? o.keys.responderToInitiator : o.keys.initiatorToResponder;
  const common = { limits: o.limits, onLimit: o.onLimit };
  return {
    inbound: new InboundSa({
      spi: o.localSpi,
      aead: createAead(o.encrId, o.keyBits, receiveKeys.encr),
      replayWindowSize: o.replayWindowSize,
      ...common,
    }),
    outbound: new OutboundSa({ spi: o.remoteSpi, aead: createAead(o.encrId, o.keyBits, sendKeys.encr), ...common }),
  };
}
