/**
 * Shared types of the mesh controller. The controller decides; the engine acts through
 * ports (send a mesh message over the hub SA, build or delete an IKE SA, install a
 * route, move flows), so the controller can be tested with fakes and knows nothing of
 * IKE codecs or packets.
 */
import type { MeshEndpoint, MeshMessage } from './messages.js';

export type MeshOperationMode = 'Disabled' | 'Hub' | 'Spoke';
export type MeshTrigger = 'egress' | 'hub-redirect';
export type MeshSwitchover = 'move' | 'pin';

/** The live settings of /Setup/VPN/IKEv2/Mesh that the controller acts on. */
export interface MeshSettings {
  operationMode: MeshOperationMode;
  trigger: MeshTrigger;
  switchover: MeshSwitchover;
  /** Distance of installed mesh routes (lower wins at equal prefix length). */
  adminDistance: number;
  initialRateLimitSec: number;
  maxRateLimitSec: number;
  requestValiditySec: number;
  groupId: number;
  /** Groups this node meshes with; empty: its own group only. At the hub: the groups it relays for. */
  acceptedGroupIds: number[];
  /** Detect-On-VPN-Peers: peers whose traffic may trigger (empty = all hub peers). */
  detectOnVpnPeers: string[];
  /** Idle teardown: the template's short-hold time in seconds (0 = never). */
  shortHoldSec: number;
  /** Ordered: the first covering entry decides; none covering allows. */
  forwardingFilter: { prefix: string; routingTag: number; action: 'allow' | 'deny' }[];
}

export const DEFAULT_MESH_SETTINGS: MeshSettings = {
  operationMode: 'Disabled',
  trigger: 'egress',
  switchover: 'move',
  adminDistance: 5,
  initialRateLimitSec: 2,
  maxRateLimitSec: 120,
  requestValiditySec: 300,
  groupId: 0,
  acceptedGroupIds: [],
  detectOnVpnPeers: [],
  shortHoldSec: 60,
  forwardingFilter: [],
};

/** What this node tells others about itself. */
export interface LocalIdentity {
  name: string;
  peerId: string;
  /** Public IKE endpoint (address and port) others can reach, if any. */
  publicEndpoint?: MeshEndpoint;
  networks: string[];
}

/** A direct tunnel to build: the engine creates an IKE SA from the mesh template. */
export interface MeshTunnelSpec {
  peerId: string;
  endpoint: MeshEndpoint;
  localNetworks: string[];
  remoteNetworks: string[];
}

export interface FlowMove {
  flow: string;
  from: string;
  to: string;
  /** Packets the flow had sent before the move. */
  packetsBefore: number;
}

/** Ports a spoke's controller acts through. */
export interface MeshSpokePorts {
  /** Sends a mesh message to the hub inside the static tunnel; false when no hub SA is up. */
  sendToHub(m: MeshMessage): boolean;
  /** Starts building a direct tunnel; the engine reports back with tunnelUp / tunnelFailed. */
  connect(spec: MeshTunnelSpec): void;
  /** Deletes the direct tunnel to peerId (IKE DELETE), reporting back with tunnelDown. */
  disconnect(peerId: string, reason: string): void;
  /** Abandons our own half-built attempt to peerId (a simultaneous one from the peer won). */
  cancelConnect(peerId: string): void;
  installRoute(prefix: string, peerId: string, distance: number): void;
  withdrawRoute(prefix: string, peerId: string): void;
  /**
   * Moves the flows between the local networks and `remote` from the hub path onto the
   * mesh tunnel (`to` = peerId) or back (`to` = 'hub'); returns what moved.
   */
  moveFlows(localNetworks: string[], remote: string, to: string): FlowMove[];
  /** Switchover pin: the flows between the networks keep the path they use now. Returns how many. */
  pinFlows(localNetworks: string[], remote: string): number;
  /** Clock time of the last packet through the tunnel to peerId (either way). */
  lastActivity(peerId: string): number | undefined;
  /** Takes / returns a mesh licence slot. */
  acquireLicence(holder: string): boolean;
  releaseLicence(holder: string): void;
  log(level: 'info' | 'warn', text: string): void;
}

/** Ports of the hub's controller. */
export interface MeshHubPorts {
  sendToSpoke(spoke: string, m: MeshMessage): boolean;
  /** The spoke (static peer name) whose tunnel carries `address`, with its networks. */
  spokeFor(address: string): HubSpokeInfo | undefined;
  /** Static peer name -> what the hub knows of it. */
  spoke(name: string): HubSpokeInfo | undefined;
  log(level: 'info' | 'warn', text: string): void;
}

/** What the hub's static tunnels tell about a spoke. Group membership comes from its announce. */
export interface HubSpokeInfo {
  /** Static peer name at the hub. */
  name: string;
  peerId: string;
  /** The endpoint the hub sees the spoke's IKE SA at (after any NAT). */
  endpoint?: MeshEndpoint;
  networks: string[];
}
