/**
 * The IKE module's public surface for the Router, the show commands, the data path and the
 * mesh controller. The wire codec has its own surface in codec/index.ts.
 *
 *   const ike = new IkeEngine({ clock, transport, installer, onEsp });
 *   ike.events.on('ike-up', ...); ike.addPeer({ name, remoteGateways, localId, psk, ... });
 *   ike.snapshot()  // show vpn / show ike / show ipsec
 */
export {
  IkeEngine,
  type ChildSaStatus,
  type IkeEngineOptions,
  type IkeEngineSnapshot,
  type IkeSaStatus,
  type PeerState,
  type PeerStatus,
} from './ike-engine.js';
export { TypedEmitter, type ChildSaRef, type DownReason, type IkeEventMap, type IkeEventName, type IkeSaRef } from './events.js';
export { IkeConfigError, IkeError, IkeProtocolError, IkeStateError } from './errors.js';
export {
  DEFAULT_CHILD_LIFETIME,
  DEFAULT_DPD_INTERVAL_MS,
  DEFAULT_DPD_RETRIES,
  DEFAULT_ESP_PROPOSALS,
  DEFAULT_IKE_LIFETIME,
  DEFAULT_IKE_PROPOSALS,
  DEFAULT_NAT_KEEPALIVE_MS,
  DEFAULT_RECONNECT,
  DEFAULT_RETRANSMIT,
  identityToString,
  parseIdentity,
  resolvePeerConfig,
  type Identity,
  type IdentityType,
  type LifetimeConfig,
  type PeerConfig,
  type PeerConfigInput,
  type PeerRole,
  type ReconnectConfig,
  type RetransmitConfig,
} from './peer-config.js';
export { espSuiteName, ikeSuiteName, parseEspProposal, parseIkeProposal, type EspProposalSpec, type EspSuite, type IkeProposalSpec, type IkeSuite } from './proposal.js';
export { RecordingSaInstaller, type ChildSaInstall, type InstallerCall, type SaDirection, type SaInstaller, type SaUsage } from './sa-installer.js';
export { tsFromCidr, tsToString, type TrafficSelector } from './traffic-selector.js';
export { IKE_TRANSITIONS, type IkeSa, type IkeSaState } from './ike-sa.js';
export { CHILD_TRANSITIONS, type ChildSa, type ChildSaState } from './child-sa.js';
