/**
 * A real strongSwan peer for interop tests: Debian's charon with kernel-libipsec (ESP in
 * userspace through its own TUN device), one charon per network namespace, a private
 * /run (charon hard-codes its pid file), vici on a unix socket driven by swanctl.
 * Modelled on ../shared/bench-peers/strongswan.sh.
 *
 * IKE and ESP go to UDP port 4500 with the RFC 3948 non-ESP marker from the first
 * message on (local_port = remote_port = 4500, encap = yes), which is how meshgate runs its
 * one port. Without local_port charon sends its IKE_SA_INIT from port 500 to port 4500
 * *without* the non-ESP marker (seen on the wire with charon 5.9); meshgate accepts that since
 * 0f7262d, and strongswan-psk.test.ts covers it with localPort: 500.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, waitFor, type Lab, type Proc } from './netns.js';

export const CHARON = '/usr/lib/ipsec/charon';
const PLUGINS =
  'random nonce openssl chapoly curve25519 aes gcm sha1 sha2 hmac kdf pem pkcs1 pkcs8 pubkey x509 constraints revocation ' +
  'kernel-libipsec kernel-netlink socket-default vici';

export function strongswanInstalled(): boolean {
  return existsSync(CHARON) && existsSync('/usr/sbin/swanctl');
}

export interface CharonConfig {
  /** Short side name used for files and the vici socket. */
  name: string;
  ns: string;
  localAddr: string;
  remoteAddr: string;
  localId: string;
  remoteId: string;
  /** Pre-shared key (written only to the config file, never logged). */
  psk?: string;
  /** Certificates in PEM: CA, own certificate and private key. */
  certs?: { caPem: string; certPem: string; keyPem: string };
  /** IKE proposal, e.g. chacha20poly1305-prfsha256-x25519 */
  proposals: string;
  /** ESP proposal, e.g. chacha20poly1305-x25519 or aes256gcm16 */
  espProposals: string;
  localTs: string;
  remoteTs: string;
  /** Lifetimes for rekey tests (strongSwan syntax, e.g. '20s'). */
  rekeyTime?: string;
  ikeRekeyTime?: string;
  dpdDelay?: string;
  /** Source port of charon's IKE messages (default 4500; 500 reproduces the unmarked start). */
  localPort?: number;
  /** Port charon sends its first IKE message to (default 4500; 500 is strongSwan's own default). */
  remotePort?: number;
  /** encap = yes (default): charon forces UDP encapsulation; false leaves it to NAT detection (strongSwan's default). */
  encap?: boolean;
  /** Extra lines in the connection and in its child (e.g. 'dpd_action = clear'). */
  connExtra?: string[];
  childExtra?: string[];
}

export class Charon {
  private proc: Proc | undefined;
  readonly dir: string;
  readonly vici: string;

  constructor(
    private readonly lab: Lab,
    readonly config: CharonConfig,
  ) {
    this.dir = join(lab.dir, `charon-${config.name}`);
    this.vici = join(this.dir, 'charon.vici');
    mkdirSync(join(this.dir, 'run'), { recursive: true });
  }

  get logFile(): string {
    return join(this.dir, 'charon.log');
  }

  private writeConfig(): void {
    const c = this.config;
    writeFileSync(
      join(this.dir, 'strongswan.conf'),
      `charon {
  load_modular = no
  load = ${PLUGINS}
  install_routes = yes
  install_virtual_ip = no
  port = 500
  port_nat_t = 4500
  retransmit_timeout = 2
  retransmit_tries = 3
  filelog {
    log { path = ${this.logFile}
          default = 1
          ike = 2
          flush_line = yes
          time_format = %T }
  }
  syslog { daemon { default = -1 } }
  plugins {
    vici { socket = unix://${this.vici} }
  }
}
`,
    );
    const auth = c.certs ? 'pubkey' : 'psk';
    const certLines = c.certs ? `certs = own.pem\n             ` : '';
    if (c.certs) {
      for (const [sub, file, pem] of [
        ['x509ca', 'ca.pem', c.certs.caPem],
        ['x509', 'own.pem', c.certs.certPem],
        ['private', 'own.key', c.certs.keyPem],
      ] as const) {
        mkdirSync(join(this.dir, 'swanctl', sub), { recursive: true });
        writeFileSync(join(this.dir, 'swanctl', sub, file), pem, { mode: 0o600 });
      }
    }
    mkdirSync(join(this.dir, 'swanctl'), { recursive: true });
    writeFileSync(
      join(this.dir, 'swanctl', 'swanctl.conf'),
      `connections {
  mg {
    version = 2
    local_addrs = ${c.localAddr}
    remote_addrs = ${c.remoteAddr}
    local_port = ${c.localPort ?? 4500}
    remote_port = ${c.remotePort ?? 4500}
    encap = ${c.encap === false ? 'no' : 'yes'}
    proposals = ${c.proposals}
    ${c.ikeRekeyTime ? `rekey_time = ${c.ikeRekeyTime}` : ''}
    ${c.dpdDelay ? `dpd_delay = ${c.dpdDelay}` : ''}
    ${(c.connExtra ?? []).join('\n    ')}
    local  { auth = ${auth}
             ${certLines}id = ${c.localId} }
    remote { auth = ${auth}
             id = ${c.remoteId} }
    children {
      mg {
        mode = tunnel
        local_ts = ${c.localTs}
        remote_ts = ${c.remoteTs}
        esp_proposals = ${c.espProposals}
        start_action = none
        ${c.rekeyTime ? `rekey_time = ${c.rekeyTime}` : ''}
        ${(c.childExtra ?? []).join('\n        ')}
      }
    }
  }
}
secrets {
  ${c.psk ? `ike-mg { id-a = ${c.localId}\n           id-b = ${c.remoteId}\n           secret = "${c.psk}" }` : ''}
  ${c.certs ? 'private-mg { file = own.key }' : ''}
}
`,
      { mode: 0o600 },
    );
  }

  async start(): Promise<void> {
    this.writeConfig();
    this.proc = this.lab.spawn(this.config.ns, 'unshare', [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount --bind '${join(this.dir, 'run')}' /run && STRONGSWAN_CONF='${join(this.dir, 'strongswan.conf')}' exec ${CHARON}`,
    ]);
    const up = await waitFor(() => {
      this.swanctl(['--stats']);
      return true;
    }, 8000, 100);
    if (!up) throw new Error(`charon in ${this.config.ns} did not open vici: ${this.proc.output()}`);
    this.swanctl(['--load-all', '--file', join(this.dir, 'swanctl', 'swanctl.conf')]);
  }

  swanctl(args: string[], timeoutMs = 20_000): string {
    const [cmd, ...rest] = args;
    return run('ip', ['netns', 'exec', this.config.ns, 'swanctl', cmd!, '--uri', `unix://${this.vici}`, ...rest], { timeoutMs });
  }

  initiate(timeoutSec = 10): string {
    return this.swanctl(['--initiate', '--child', 'mg', '--timeout', String(timeoutSec)], (timeoutSec + 5) * 1000);
  }

  terminateIke(): string {
    return this.swanctl(['--terminate', '--ike', 'mg', '--timeout', '5'], 10_000);
  }

  rekeyChild(): string {
    return this.swanctl(['--rekey', '--child', 'mg'], 10_000);
  }

  rekeyIke(): string {
    return this.swanctl(['--rekey', '--ike', 'mg'], 10_000);
  }

  listSas(): string {
    return this.swanctl(['--list-sas']);
  }

  /** True when the IKE SA is ESTABLISHED and its child INSTALLED. */
  established(): boolean {
    const s = this.listSas();
    return /ESTABLISHED/.test(s) && /INSTALLED/.test(s);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }
}

/** The version line of the installed charon, for reports. */
export function strongswanVersion(): string {
  try {
    return run('swanctl', ['--version']).trim();
  } catch {
    return 'unknown';
  }
}
