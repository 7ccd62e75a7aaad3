import { parseArgs } from 'node:util';
import { PRODUCT, VERSION } from './version.js';

const USAGE = `usage: meshgate [options] [command]

commands:
  (none)            interactive shell on the console
  daemon            run the router and serve the control socket (and SSH when enabled)
  lab               a hub and branches on the in-memory network, with the shell attached

options:
  --config-dir DIR  the node's configuration directory
  -c 'CMD; CMD'     run commands and exit
  -f FILE           run a command file and exit
  --keep-going      with -c/-f/stdin: continue after a failing command
  --version         print the version
  -h, --help        this text
`;

/** Runs the CLI with argv (without node and script); resolves to the process exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'config-dir': { type: 'string' },
        command: { type: 'string', short: 'c' },
        file: { type: 'string', short: 'f' },
        'keep-going': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`meshgate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.values.version) {
    process.stdout.write(`${PRODUCT} ${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`meshgate: nothing to run yet\n${USAGE}`);
  return 2;
}
