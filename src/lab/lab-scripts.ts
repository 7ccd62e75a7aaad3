/**
 * The lab's node configurations, as the command scripts an administrator would type.
 * The lab applies them through a shell session, so it exercises the same path as a
 * real rollout (parser, validation, transaction, engine binding).
 */
export const LAB_PSK = 'meshgate-lab-psk-0123456789';
export const LAB_MESH_PSK = 'meshgate-lab-mesh-psk-0123456789';

export interface LabScriptOptions {
  branches: number;
  mesh: boolean;
  /** Short-hold time of mesh tunnels in seconds. */
  shortHoldSec?: number;
  trigger?: 'egress' | 'hub-redirect';
  /** Sites in the hub's site directory (concentrator mode; 0: none). */
  sites?: number;
}

/** Site k's network, WAN address and key (its row in the hub's site directory). */
export function siteNetwork(k: number): string {
  return `10.64.${k}.0/24`;
}
export function siteWanAddress(k: number): string {
  return `203.0.113.${k}`;
}
export function sitePsk(k: number): string {
  return `meshgate-lab-site-${k}-0123456789`;
}
/** Idle seconds after which the hub removes a site tunnel (short, so the lab shows it). */
export const SITE_IDLE_SEC = 30;

export function hubWanAddress(): string {
  return '198.51.100.1';
}

export function branchWanAddress(i: number): string {
  return `198.51.100.${10 + i}`;
}

export function hubScript(o: LabScriptOptions): string[] {
  const lines = [
    'begin',
    'set /Setup/Name hub',
    'cd /Setup/Interfaces/LAN',
    'set LAN-1 yes 10.0.0.1/24',
    'cd /Setup/Interfaces/WAN',
    `set WAN-1 {Public-Endpoint} ${hubWanAddress()}:4500`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
  ];
  for (let i = 1; i <= o.branches; i++) lines.push(`set BRANCH${i} {Local-ID} hub.lab {Local-Password} ${LAB_PSK} {Remote-ID} branch${i}.lab`);
  lines.push('cd /Setup/VPN/IKEv2/Routing');
  for (let i = 1; i <= o.branches; i++) lines.push(`set BRANCH${i} {Local-Networks} 10.0.0.0/8 {Remote-Networks} 10.${i}.0.0/24`);
  lines.push('cd /Setup/VPN/IKEv2/Peers');
  for (let i = 1; i <= o.branches; i++) lines.push(`set branch${i} yes * responder spoke {Auth} BRANCH${i} {Routing} BRANCH${i}`);
  if (o.sites) {
    // Concentrator mode: the SITES row is the template of every site, 10.64.0.0/10 the base route.
    lines.push(
      'cd /Setup/VPN/IKEv2/Auth/Parameter',
      'set SITES {Local-ID} hub.lab',
      'cd /Setup/VPN/IKEv2/Routing',
      'set SITES {Local-Networks} 10.0.0.0/24',
      'cd /Setup/VPN/IKEv2/Peers',
      `set SITES yes "" responder static {Auth} SITES {Routing} SITES {SH-Time} ${SITE_IDLE_SEC}`,
      'cd /Setup/IP-Router/Routing-Table',
      'set 10.64.0.0/10 0 SITE-DIRECTORY',
      'cd /Setup/VPN/Site-Directory',
      'set Operating yes',
      'set Base-Peer SITES',
      'set Remote-Mask 24',
    );
  }
  lines.push(
    'cd /Setup/VPN/IKEv2/Mesh',
    `set Operation-Mode ${o.mesh ? 'Hub' : 'Disabled'}`,
    `set Trigger ${o.trigger ?? 'egress'}`,
    'set /Setup/Licence/Model Central-250',
    'commit comment "lab hub"',
  );
  return lines;
}

export function branchScript(i: number, o: LabScriptOptions): string[] {
  return [
    'begin',
    `set /Setup/Name branch${i}`,
    'cd /Setup/Interfaces/LAN',
    `set LAN-1 yes 10.${i}.0.1/24`,
    'cd /Setup/Interfaces/WAN',
    `set WAN-1 {Public-Endpoint} ${branchWanAddress(i)}:4500`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
    `set HUB {Local-ID} branch${i}.lab {Local-Password} ${LAB_PSK} {Remote-ID} hub.lab`,
    `set MESH {Local-ID} branch${i}.lab {Local-Password} ${LAB_MESH_PSK}`,
    'cd /Setup/VPN/IKEv2/Routing',
    `set HUB {Local-Networks} 10.${i}.0.0/24 {Remote-Networks} 10.0.0.0/8`,
    'cd /Setup/VPN/IKEv2/Peers',
    `set HUB yes ${hubWanAddress()}:4500 initiator hub {Auth} HUB {Routing} HUB`,
    `set MESH no "" responder static {Auth} MESH {SH-Time} ${o.shortHoldSec ?? 60}`,
    'cd /Setup/VPN/IKEv2/Mesh',
    `set Operation-Mode ${o.mesh ? 'Spoke' : 'Disabled'}`,
    'set VPN-Peer-Template MESH',
    `set Trigger ${o.trigger ?? 'egress'}`,
    'set Initial-Rate-Limit-Sec 2',
    'set /Setup/Licence/Model Branch-25',
    `commit comment "lab branch${i}"`,
  ];
}

/** A site of the hub's site directory: waits for the hub to call (responder), its own key. */
export function siteScript(k: number): string[] {
  return [
    'begin',
    `set /Setup/Name site${k}`,
    'cd /Setup/Interfaces/LAN',
    `set LAN-1 yes ${siteNetwork(k).replace('.0/24', '.1/24')}`,
    'cd /Setup/Interfaces/WAN',
    `set WAN-1 {Public-Endpoint} ${siteWanAddress(k)}:4500`,
    'cd /Setup/VPN/IKEv2/Auth/Parameter',
    `set HQ {Local-ID} site${k}.lab {Local-Password} ${sitePsk(k)} {Remote-ID} hub.lab`,
    'cd /Setup/VPN/IKEv2/Routing',
    `set HQ {Local-Networks} ${siteNetwork(k)} {Remote-Networks} 10.0.0.0/24`,
    'cd /Setup/VPN/IKEv2/Peers',
    'set HQ yes "" responder static {Auth} HQ {Routing} HQ',
    'set /Setup/Licence/Model Branch-5',
    `commit comment "lab site${k}"`,
  ];
}
