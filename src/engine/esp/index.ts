/** The ESP module's public surface. */
export * from './constants.js';
export { EspError } from './errors.js';
export { ReplayWindow, type ReplayWindowState } from './replay-window.js';
export {
  ESP_DROP_REASONS,
  ESP_SEAL_FAILURES,
  EspSa,
  InboundSa,
  OutboundSa,
  SaTable,
  newDropCounters,
  newSealFailureCounters,
  type EspDropCounters,
  type EspDropListener,
  type EspDropReason,
  type EspLimitKind,
  type EspLimitLevel,
  type EspLimitListener,
  type EspSaLimits,
  type EspSaOptions,
  type EspSealFailure,
  type EspSealFailureCounters,
  type InboundSaOptions,
  type OutboundSaOptions,
} from './sa-table.js';
export { EspOpenResult, espOpen, espPacketLength, espPadLength, espSeal, espSpiOf, nextHeaderFor } from './esp-packet.js';
export { createEspSaPair, type EspSaPair, type EspSaPairOptions } from './sa-pair.js';
