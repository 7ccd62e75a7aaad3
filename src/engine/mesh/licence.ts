/**
 * Licence accounting: each node has a model profile that caps static VPN tunnels and
 * mesh tunnels separately (DESIGN.md, "Licences"). Mesh tunnels beyond the cap are not
 * built; the traffic keeps taking the hub path and the denial is counted.
 */

export type LicenceKind = 'vpn' | 'mesh';

/** The caps of the node's licence model (the profiles themselves are configuration: menus/licence.ts). */
export interface LicenceProfile {
  readonly name: string;
  readonly vpn: number;
  readonly mesh: number;
}

/** No model carries more than 200 mesh tunnels, central sites included. */
export const MESH_CAP_CENTRAL_SITE = 200;

export interface LicenceUsage {
  kind: LicenceKind;
  used: number;
  cap: number;
  peak: number;
  denials: number;
  lastDenial?: { at: number; holder: string };
}

/**
 * Counts licence slots per kind. A slot is held by a named holder (peer or mesh pair)
 * so that a release is exact and double acquisition is harmless.
 */
export class LicenceCounter {
  private profileValue: LicenceProfile;
  private readonly holders: Record<LicenceKind, Set<string>> = { vpn: new Set(), mesh: new Set() };
  private readonly peaks: Record<LicenceKind, number> = { vpn: 0, mesh: 0 };
  private readonly denials: Record<LicenceKind, number> = { vpn: 0, mesh: 0 };
  private readonly lastDenial: Partial<Record<LicenceKind, { at: number; holder: string }>> = {};

  constructor(
    profile: LicenceProfile,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.profileValue = profile;
  }

  get profile(): LicenceProfile {
    return this.profileValue;
  }

  /**
   * Changes the model. Slots already held stay held even above a lower cap (tearing
   * down running tunnels is the operator's decision); new ones are denied until usage
   * falls below the new cap.
   */
  setProfile(profile: LicenceProfile): void {
    this.profileValue = profile;
  }

  cap(kind: LicenceKind): number {
    return kind === 'mesh' ? Math.min(this.profileValue.mesh, MESH_CAP_CENTRAL_SITE) : this.profileValue.vpn;
  }

  /** Takes a slot for holder; false (and a counted denial) when the cap is reached. */
  acquire(kind: LicenceKind, holder: string): boolean {
    const set = this.holders[kind];
    if (set.has(holder)) return true;
    if (set.size >= this.cap(kind)) {
      this.denials[kind]++;
      this.lastDenial[kind] = { at: this.now(), holder };
      return false;
    }
    set.add(holder);
    if (set.size > this.peaks[kind]) this.peaks[kind] = set.size;
    return true;
  }

  release(kind: LicenceKind, holder: string): boolean {
    return this.holders[kind].delete(holder);
  }

  holds(kind: LicenceKind, holder: string): boolean {
    return this.holders[kind].has(holder);
  }

  available(kind: LicenceKind): number {
    return Math.max(0, this.cap(kind) - this.holders[kind].size);
  }

  usage(kind: LicenceKind): LicenceUsage {
    const u: LicenceUsage = {
      kind,
      used: this.holders[kind].size,
      cap: this.cap(kind),
      peak: this.peaks[kind],
      denials: this.denials[kind],
    };
    const d = this.lastDenial[kind];
    if (d) u.lastDenial = { ...d };
    return u;
  }
}
