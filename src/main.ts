import { parseArgs } from 'node:util';
import { PRODUCT, VERSION } from './version.js';
import type { UiSession } from './ui/ui-session.js';

const USAGE = `usage: meshgate [options] [command]

commands:
  (none)            interactive shell on the console (plain text when not on a terminal)
  daemon            run the router: its tunnel engine, the control socket, SSH when enabled
  lab               a hub and branches on the in-memory network, traffic between them,
                    and the shell attached (node NAME switches nodes; nodes lists them)
  sites import|export|count
                    the site directory in bulk (meshgate sites --help)
  pki ca|issue|show|verify
                    the site CA and node certificates (meshgate pki --help)

options:
  --config-dir DIR  the node's configuration directory
  --engine MODE     daemon: auto (TUN LAN ports when allowed, else in memory), tun,
                    memory, or off (shell and configuration only); default auto
  --fast-path on|off daemon: the native packet fast path (default on where the addon
                    is built and a TUN port is open; env MESHGATE_FAST_PATH)
  --branches N      lab: number of branches (default 3)
  --no-mesh         lab: plain hub and spoke, no mesh tunnels
  --sites N         lab: the hub is also a concentrator with N sites (site1..) in its
                    site directory, tunnels built on demand (default 0)
  --no-traffic      lab: no generated traffic between the branches
  -c 'CMD; CMD'     run commands and exit
  -f FILE           run a command file and exit (- reads stdin)
  --keep-going      with -c/-f/stdin: continue after a failing command
  --version         print the version
  -h, --help        this text

When a daemon runs for the config dir, every session connects to it through the
control socket; otherwise the config is opened by this process.
Exit codes of scripts: 0 ok, 1 runtime, 2 syntax, 3 ambiguous, 4 not found,
5 invalid value, 6 permission, 7 commit failed.
`;

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** A session on the daemon when one runs for the config dir, else on a Router opened here. */
async function openSession(
  configDir: string,
): Promise<{ session: UiSession; done(): void; onLost?: (fn: (err: Error) => void) => void }> {
  const [{ RemoteSession }, { SOCKET_NAME }, { join }] = await Promise.all([
    import('./access/control-client.js'),
    import('./access/control-protocol.js'),
    import('node:path'),
  ]);
  try {
    const session = await RemoteSession.connect(join(configDir, SOCKET_NAME));
    return { session, done: () => session.close(), onLost: (fn) => session.onDisconnect(fn) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err;
  }
  const [{ openLocalNode }, { localAdmin }] = await Promise.all([import('./access/local-node.js'), import('./access/config-dir.js')]);
  const node = await openLocalNode(configDir);
  const session = node.openSession(localAdmin());
  return {
    session,
    done: () => {
      session.close();
      node.close();
    },
  };
}

/** Runs the CLI with argv (without node and script); resolves to the process exit code. */
export async function run(argv: string[], io: Io = process): Promise<number> {
  // `meshgate --config-dir DIR sites|pki ...`: the global option may come first, as for the other commands.
  if (argv[0] === '--config-dir' && (argv[2] === 'sites' || argv[2] === 'pki')) argv = [...argv.slice(2), '--config-dir', argv[1]!];
  // `meshgate sites ...` has its own options.
  if (argv[0] === 'sites') {
    const { runSitesCommand } = await import('./cli/sites-command.js');
    const { resolve } = await import('node:path');
    const { defaultConfigDir } = await import('./access/config-dir.js');
    const rest = argv.slice(1);
    const i = rest.indexOf('--config-dir');
    const dir = i >= 0 ? rest[i + 1] : undefined;
    if (i >= 0) rest.splice(i, 2);
    return runSitesCommand(rest, { configDir: resolve(dir ?? defaultConfigDir()) });
  }
  if (argv[0] === 'pki') {
    const [{ runPkiCommand }, { resolve }, { defaultConfigDir }] = await Promise.all([import('./cli/pki-command.js'), import('node:path'), import('./access/config-dir.js')]);
    const rest = argv.slice(1);
    const i = rest.indexOf('--config-dir');
    const dir = i >= 0 ? rest[i + 1] : undefined;
    if (i >= 0) rest.splice(i, 2);
    return runPkiCommand(rest, { configDir: resolve(dir ?? defaultConfigDir()), stdout: io.stdout, stderr: io.stderr });
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'config-dir': { type: 'string' },
        engine: { type: 'string' },
        'fast-path': { type: 'string' },
        branches: { type: 'string' },
        'no-mesh': { type: 'boolean' },
        sites: { type: 'string' },
        'no-traffic': { type: 'boolean' },
        command: { type: 'string', short: 'c' },
        file: { type: 'string', short: 'f' },
        'keep-going': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr.write(`meshgate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    io.stdout.write(`${PRODUCT} ${VERSION}\n`);
    return 0;
  }
  const usageError = (msg: string) => {
    io.stderr.write(`meshgate: ${msg}\n${USAGE}`);
    return 2;
  };
  if (values.command !== undefined && values.file !== undefined) return usageError('-c and -f exclude each other');
  // A reader gone away (`meshgate -c ls | head -1`) is not an error of ours.
  io.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });

  const { resolve } = await import('node:path');
  const { defaultConfigDir } = await import('./access/config-dir.js');
  const configDir = resolve(values['config-dir'] ?? defaultConfigDir());

  const sub = positionals[0];
  if (sub === 'daemon') {
    if (positionals.length > 1 || values.command !== undefined || values.file !== undefined)
      return usageError('daemon takes no commands');
    const { runDaemon } = await import('./access/daemon.js');
    const { ENGINE_MODES, FAST_PATH_MODES } = await import('./access/node-engine.js');
    const engine = values.engine ?? 'auto';
    if (!(ENGINE_MODES as readonly string[]).includes(engine)) return usageError(`--engine must be one of ${ENGINE_MODES.join(', ')}`);
    const fastPath = values['fast-path'] ?? process.env['MESHGATE_FAST_PATH'] ?? 'on';
    if (!(FAST_PATH_MODES as readonly string[]).includes(fastPath)) return usageError(`--fast-path must be one of ${FAST_PATH_MODES.join(', ')}`);
    try {
      return await runDaemon({ configDir, stderr: io.stderr, engine: engine as 'auto', fastPath: fastPath as 'on' });
    } catch (err) {
      io.stderr.write(`meshgate daemon: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let labSession: UiSession | undefined;
  let labStop: (() => Promise<void>) | undefined;
  if (sub === 'lab') {
    const branches = Number(values.branches ?? 3);
    if (!Number.isInteger(branches) || branches < 1 || branches > 50) return usageError('--branches must be 1..50');
    const sites = Number(values.sites ?? 0);
    if (!Number.isInteger(sites) || sites < 0 || sites > 200) return usageError('--sites must be 0..200');
    const [{ RouterLab }, { LabSession }, { RealClock }] = await Promise.all([import('./lab/router-lab.js'), import('./lab/lab-session.js'), import('./engine/clock.js')]);
    const lab = await RouterLab.start({ clock: new RealClock(), branches, mesh: !values['no-mesh'], sites });
    if (!(await lab.whenUp(10_000))) io.stderr.write('meshgate lab: not every branch reached the hub within 10 s\n');
    if (!values['no-traffic']) lab.startTraffic();
    labSession = new LabSession(lab);
    labStop = () => lab.stop();
    if (!values.command && !values.file && io.stdin.isTTY) {
      io.stdout.write(
        `meshgate lab: hub and ${branches} branches on the in-memory network${values['no-mesh'] ? '' : ', mesh on'}${sites ? `, ${sites} sites in the hub's site directory` : ''}${values['no-traffic'] ? '' : ', branches pinging each other'}.\n` +
          `Try: nodes | node branch1 | show vpn | show mesh | show switchovers | show licence | ping 10.2.0.7 | trace + mesh | exit\n` +
          (sites ? `Sites: node hub | show sites | ping 10.64.3.20 | show sites counters | show routes\n` : ''),
      );
    }
  } else if (sub !== undefined) return usageError(`unknown command '${sub}'`);

  const scripted = values.command !== undefined || values.file !== undefined || !io.stdin.isTTY || !io.stdout.isTTY;

  let lines: Iterable<string> | AsyncIterable<string> | undefined;
  let name = '<stdin>';
  if (scripted) {
    const { streamLines } = await import('./access/script-runner.js');
    if (values.command !== undefined) {
      lines = values.command.split('\n');
      name = '-c';
    } else if (values.file !== undefined && values.file !== '-') {
      const { createReadStream } = await import('node:fs');
      const stream = createReadStream(values.file);
      try {
        await new Promise<void>((ok, fail) => {
          stream.once('open', () => ok());
          stream.once('error', fail);
        });
      } catch (err) {
        io.stderr.write(`meshgate: cannot read ${values.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return 1;
      }
      lines = streamLines(stream);
      name = values.file;
    } else {
      lines = streamLines(io.stdin);
    }
  }

  // Interactive: raw mode at once, so keys typed during the start are not echoed and
  // line-edited by the terminal; they wait in stdin for the prompt.
  if (!lines) io.stdin.setRawMode?.(true);
  let opened;
  try {
    opened = labSession ? { session: labSession, done: () => void labSession!.close() } : await openSession(configDir);
  } catch (err) {
    if (!lines) io.stdin.setRawMode?.(false);
    io.stderr.write(`meshgate: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    if (lines) {
      const { runScript } = await import('./access/script-runner.js');
      // Ctrl-C (or SIGTERM) ends the running command through its AbortSignal, then the script.
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const out = await runScript(opened.session, lines, {
          name,
          keepGoing: values['keep-going'] ?? false,
          stdout: io.stdout,
          stderr: io.stderr,
          signal: interrupt.signal,
        });
        return out.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    // A console on a daemon ends when the daemon goes away.
    const lost = new AbortController();
    let lostWhy: Error | undefined;
    opened.onLost?.((err) => {
      lostWhy = err;
      lost.abort();
    });
    // The prompt appears at once; the line typed while Ink loads is handed over to it.
    const { BootPrompt } = await import('./ui/boot-prompt.js');
    const bootPrompt = new BootPrompt(io.stdin, io.stdout, opened.session.prompt());
    bootPrompt.start();
    // Ink loads after the prompt is up (loading both at once would only delay the prompt).
    let mod;
    try {
      mod = await (await import('./ui/load.js')).loadInteractive();
    } catch (err) {
      bootPrompt.abandon();
      throw err;
    }
    bootPrompt.hide();
    const how = await mod.runInteractive(opened.session, io, { boot: bootPrompt, signal: lost.signal });
    bootPrompt.abandon(); // no-op when the app took the line over; else stops reading stdin
    if (how === 'gone') {
      io.stderr.write(`\nmeshgate: connection to the daemon lost (${lostWhy?.message ?? 'closed'})\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    io.stderr.write(`meshgate: ${(err as Error).message}\n`);
    return 1;
  } finally {
    opened.done();
    await labStop?.();
    if (!lines) io.stdin.setRawMode?.(false);
  }
}
