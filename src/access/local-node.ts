/**
 * A node opened in this process: the Router on a config dir, plus the two things the
 * access layer needs from it: shell sessions and the SSH authority (users, settings).
 */
import { mkdirSync } from 'node:fs';
import { Router } from '../router/index.js';
import type { ShellSession } from '../shell/session-api.js';
import type { SshAuthority, SshSettings, SshUser } from './ssh-server.js';
import type { Access } from './config-dir.js';

export { defaultConfigDir, localAdmin } from './config-dir.js';

type CreateShellSession = (opts: { router: Router; user: string; access: Access }) => ShellSession;

export interface LocalNode {
  router: Router;
  openSession(user: { name: string; access: Access }): ShellSession;
  sshAuthority(): SshAuthority;
  close(): void;
}

function int(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isFinite(n) && v !== undefined && v !== '' ? n : dflt;
}

export async function openLocalNode(configDir: string): Promise<LocalNode> {
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const [router, shell] = await Promise.all([Router.open({ configDir }), import('../shell/index.js')]);
  const createShellSession = shell.createShellSession as CreateShellSession;
  const openSession = (user: { name: string; access: Access }) => createShellSession({ router, user: user.name, access: user.access });
  const toSshUser = (u: { name: string; active: boolean; access: Access; authorizedKeys: string[] }): SshUser => ({
    name: u.name,
    active: u.active,
    access: u.access,
    authorizedKeys: u.authorizedKeys,
  });
  return {
    router,
    openSession,
    sshAuthority: () => ({
      settings(): SshSettings {
        const g = (p: string) => router.get(`/Setup/Config/SSH/${p}`);
        return {
          operating: g('Operating') === 'yes',
          port: int(g('Port'), 22),
          listenAddress: g('Listen-Address') ?? '',
          idleTimeoutSec: int(g('Idle-Timeout'), 900),
          maxSessions: int(g('Max-Sessions'), 8),
          loginDelayMs: int(g('Login-Delay'), 1000),
          maxAuthTries: int(g('Max-Auth-Tries'), 3),
        };
      },
      user: (name) => {
        const u = router.user(name);
        return u ? toSshUser(u) : undefined;
      },
      checkPassword: async (name, password) => {
        const u = await router.checkPasswordAsync(name, password);
        return u ? toSshUser(u) : undefined;
      },
      log: (topic, text) => router.log(topic, text),
      openSession,
    }),
    close: () => router.close(),
  };
}
