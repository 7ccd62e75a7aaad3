/**
 * Where a node's configuration lives and who the local user is. Kept free of heavy
 * imports: every start of the CLI reads it, also the ones that only talk to a daemon.
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export type Access = 'admin' | 'read-only';

/** conf's per-user directory for the project `meshgate` (env-paths with conf's `nodejs` suffix). */
export function defaultConfigDir(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'meshgate-nodejs');
}

/** The local admin: scripts and the console act as the OS user running meshgate, with admin rights. */
export function localAdmin(): { name: string; access: Access } {
  let name = 'admin';
  try {
    name = userInfo().username || name;
  } catch {
    /* no passwd entry (containers): keep 'admin' */
  }
  return { name, access: 'admin' };
}
