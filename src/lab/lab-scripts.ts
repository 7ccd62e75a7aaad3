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
}

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
