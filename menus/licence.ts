/**
 * Licence model profiles: caps for static VPN tunnels and for mesh tunnels, counted separately
 * (DESIGN.md, "Licences"). Central-site models carry 100-250 VPN tunnels and at most 200 mesh
 * tunnels whatever the model.
 */
export interface LicenceProfile {
  /** The value of /Setup/Licence/Model. */
  model: string;
  vpnTunnels: number;
  meshTunnels: number;
  centralSite: boolean;
}

/** The hard ceiling on mesh tunnels of any model. */
export const MAX_MESH_TUNNELS = 200;

export const LICENCE_PROFILES: readonly LicenceProfile[] = [
  { model: 'Branch-3', vpnTunnels: 3, meshTunnels: 6, centralSite: false },
  { model: 'Branch-5', vpnTunnels: 5, meshTunnels: 10, centralSite: false },
  { model: 'Branch-25', vpnTunnels: 25, meshTunnels: 50, centralSite: false },
  { model: 'Branch-50', vpnTunnels: 50, meshTunnels: 100, centralSite: false },
  { model: 'Branch-100', vpnTunnels: 100, meshTunnels: 200, centralSite: false },
  { model: 'Central-100', vpnTunnels: 100, meshTunnels: 200, centralSite: true },
  { model: 'Central-200', vpnTunnels: 200, meshTunnels: 200, centralSite: true },
  { model: 'Central-250', vpnTunnels: 250, meshTunnels: 200, centralSite: true },
];

export const DEFAULT_LICENCE_MODEL = 'Branch-5';

export function licenceProfile(model: string): LicenceProfile | undefined {
  return LICENCE_PROFILES.find((p) => p.model.toLowerCase() === model.toLowerCase());
}
