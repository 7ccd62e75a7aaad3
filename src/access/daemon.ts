/**
 * `meshgate daemon`: opens the Router once and serves it to many sessions: the control
 * socket (local clients) and, when /Setup/Config/SSH Operating is on, the SSH server,
 * which follows that switch live. SIGTERM/SIGINT stop it cleanly.
 */
import { join } from 'node:path';
import { ControlServer } from './control-server.js';
import { SOCKET_NAME } from './control-protocol.js';
import { SshServer } from './ssh-server.js';
import { localAdmin, openLocalNode } from './local-node.js';
import type { TextStream } from '../ui/plain-renderer.js';
import { startNodeEngine, type EngineMode, type FastPathMode, type NodeEngine } from './node-engine.js';

export interface DaemonOptions {
  configDir: string;
  stderr: TextStream;
  /** Resolves when the daemon should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /**
   * The tunnel engine: 'auto' (default) uses TUN LAN ports when the process may create
   * them, else in-memory ones; 'tun' insists on TUN; 'memory' never touches the host's
   * interfaces; 'off' runs the shell and the configuration only.
   */
  engine?: EngineMode;
  /** The native fast path: 'on' (default, where the addon and a TUN port are available) or 'off'. */
  fastPath?: FastPathMode;
  /** Told once the control socket is up (tests, benchmarks). */
  onReady?: (info: { socketPath: string; ssh?: { address: string; port: number } }) => void;
}

function waitForSignal(): { promise: Promise<string>; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<string>((resolve) => {
    const on = (sig: string) => resolve(sig);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    dispose = () => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    };
  });
  return { promise, dispose };
}

export async function runDaemon(options: DaemonOptions): Promise<number> {
  const say = (line: string) => options.stderr.write(`meshgate daemon: ${line}\n`);
  const node = await openLocalNode(options.configDir);
  const socketPath = join(options.configDir, SOCKET_NAME);
  let control: ControlServer;
  try {
    control = await ControlServer.listen({
      socketPath,
      openSession: () => node.openSession(localAdmin()),
      log: (l) => node.router.log('shell', l),
    });
  } catch (err) {
    node.close();
    throw err;
  }
  let nodeEngine: NodeEngine | undefined;
  const mode = options.engine ?? 'auto';
  if (mode !== 'off') {
    try {
      nodeEngine = await startNodeEngine(node.router, mode, say, { fastPath: options.fastPath ?? 'on' });
    } catch (err) {
      // Without its engine the node is still administrable: say why and go on.
      say(`engine not started: ${(err as Error).message}`);
      node.router.log('vpn', `engine not started: ${(err as Error).message}`);
    }
  }
  const ssh = new SshServer(options.configDir, node.sshAuthority());
  const reconcileSsh = async () => {
    try {
      await ssh.reconcile();
    } catch (err) {
      say((err as Error).message);
    }
  };
  await reconcileSsh();
  // `show ssh`: the server's state and its login counters (failed logins are also in the event log).
  const unregisterShow = node.router.registerShow('ssh', {
    help: 'SSH server: listening address, sessions, successful and failed logins',
    run: () => {
      const a = ssh.address();
      return [
        {
          kind: 'keyvalue',
          pairs: [
            ['Listening', a ? `${a.address}:${a.port}` : 'no'],
            ['Sessions', ssh.counters.sessions],
            ['Logins', ssh.counters.loginsOk],
            ['Logins-Failed', ssh.counters.loginsFailed],
          ],
        },
      ];
    },
  });
  // Serialise reconciliations: a second change waits for the first restart to finish.
  let chain = Promise.resolve();
  const unsubscribe = node.router.onConfigChange({
    apply: () => {
      chain = chain.then(reconcileSsh);
    },
  });
  const sig = options.stopSignal ? undefined : waitForSignal();
  const sshAddr = ssh.address();
  say(`ready: control socket ${socketPath}${sshAddr ? `, SSH on ${sshAddr.address}:${sshAddr.port}` : ''}`);
  options.onReady?.({ socketPath, ...(sshAddr ? { ssh: { address: sshAddr.address, port: sshAddr.port } } : {}) });
  const why = await (options.stopSignal ?? sig!.promise);
  sig?.dispose();
  say(`stopping (${typeof why === 'string' ? why : 'asked to'})`);
  unsubscribe();
  unregisterShow();
  await chain;
  await ssh.stop();
  await control.close();
  await nodeEngine?.stop();
  node.close();
  return 0;
}
