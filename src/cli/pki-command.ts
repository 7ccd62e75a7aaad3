/**
 * `meshgate pki ...`: the site CA and node certificates for IKE certificate authentication.
 *
 *   meshgate pki ca [--cn NAME] [--org ORG] [--algorithm ALG] [--days N] [--dir DIR] [--force]
 *   meshgate pki issue --id IDENTITY [--id ...] [--cn NAME] [--org ORG] [--algorithm ALG]
 *                      [--days N] [--name BASE] [--dir DIR] [--force]
 *   meshgate pki show [FILE...]
 *   meshgate pki verify FILE [--id IDENTITY]
 *
 * Files live in DIR (default: pki/ in the config directory): ca.crt and ca.key for the CA,
 * BASE.crt and BASE.key (BASE default 'node') for a node. Keys are written mode 0600 and
 * never printed; `show` prints subject, issuer, validity, key type and SHA-256 fingerprint.
 * The defaults of /Setup/VPN/IKEv2/Certificates point at pki/ca.crt, pki/node.crt and
 * pki/node.key, so `pki ca` plus `pki issue --id NAME` on the CA's host is all a lab needs;
 * in production the CA key stays on one host and node.crt/node.key are copied to the node.
 *
 * Exit codes: 0 done; 1 a certificate does not verify (verify); 2 usage; 3 a file or key problem.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { parseIdentity, type Identity } from '../engine/ike/peer-config.js';
import { PkiError, parseCertificates, summarize, trustStore, verifyPeerCertificate } from '../engine/pki/certificate.js';
import { loadPemPair, resolvePath, savePemPair } from '../engine/pki/files.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../engine/pki/create.js';
import { readFileSync } from 'node:fs';

export interface PkiCommandContext {
  configDir: string;
  stdout?: Writable;
  stderr?: Writable;
}

export const PKI_USAGE = `usage:
  meshgate pki ca [--cn NAME] [--org ORG] [--algorithm ALG] [--days N] [--dir DIR] [--force]
  meshgate pki issue --id IDENTITY [--id ...] [--cn NAME] [--org ORG] [--algorithm ALG]
                     [--days N] [--name BASE] [--dir DIR] [--force]
  meshgate pki show [FILE...]
  meshgate pki verify FILE [--id IDENTITY]

  ALG         ${KEY_ALGORITHMS.join(', ')} (ca default ed25519; issue default: the CA's)
  IDENTITY    the node's IKE identity: an FQDN, user@fqdn, or an IPv4/IPv6 address
              (written into subjectAltName; the first one is the default CN)
  DIR         where ca.crt/ca.key and BASE.crt/BASE.key are (default: pki/ in the config
              directory); private keys are written mode 0600 and never printed
  --force     overwrite existing files
`;

const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;
const EXIT_FAILED = 3;

export async function runPkiCommand(argv: string[], ctx: PkiCommandContext): Promise<number> {
  const out = ctx.stdout ?? process.stdout;
  const err = ctx.stderr ?? process.stderr;
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        cn: { type: 'string' },
        org: { type: 'string' },
        algorithm: { type: 'string' },
        days: { type: 'string' },
        dir: { type: 'string' },
        name: { type: 'string' },
        id: { type: 'string', multiple: true },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err.write(`meshgate pki: ${(e as Error).message}\n${PKI_USAGE}`);
    return EXIT_USAGE;
  }
  const o = parsed.values;
  if (o.help || !sub || sub === 'help' || sub === '--help' || sub === '-h') {
    (sub ? out : err).write(PKI_USAGE);
    return sub ? EXIT_OK : EXIT_USAGE;
  }
  const dir = resolvePath(ctx.configDir, o.dir ?? 'pki');
  const usage = (msg: string) => (err.write(`meshgate pki ${sub}: ${msg}\n`), EXIT_USAGE);
  let algorithm: KeyAlgorithm | undefined;
  if (o.algorithm !== undefined) {
    if (!KEY_ALGORITHMS.includes(o.algorithm as KeyAlgorithm)) return usage(`--algorithm '${o.algorithm}' is not one of ${KEY_ALGORITHMS.join(', ')}`);
    algorithm = o.algorithm as KeyAlgorithm;
  }
  let days: number | undefined;
  if (o.days !== undefined) {
    days = Number(o.days);
    if (!Number.isInteger(days) || days < 1 || days > 36_500) return usage(`--days '${o.days}' is not a number of days 1..36500`);
  }
  try {
    switch (sub) {
      case 'ca': {
        const crt = join(dir, 'ca.crt');
        const key = join(dir, 'ca.key');
        if (!o.force && (existsSync(crt) || existsSync(key))) return usage(`${crt} exists (--force replaces it, and every node certificate must then be issued again)`);
        const { createCa } = await import('../engine/pki/create.js');
        const pair = await createCa({ commonName: o.cn ?? 'meshgate site CA', ...(o.org ? { organization: o.org } : {}), ...(algorithm ? { algorithm } : {}), ...(days ? { days } : {}) });
        savePemPair(pair, crt, key);
        out.write(`site CA created: ${crt} (key ${key}, mode 0600)\n`);
        printSummary(out, parseCertificates(pair.certPem)[0]!);
        return EXIT_OK;
      }
      case 'issue': {
        if (!o.id?.length) return usage('--id IDENTITY is needed (the node\'s IKE identity)');
        const ids: Identity[] = [];
        for (const v of o.id) {
          try {
            ids.push(parseIdentity(v, '--id'));
          } catch (e) {
            return usage((e as Error).message);
          }
        }
        const base = o.name ?? 'node';
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(base)) return usage(`--name '${base}' must be 1-64 letters, digits, '.', '_' or '-'`);
        const crt = join(dir, `${base}.crt`);
        const key = join(dir, `${base}.key`);
        if (!o.force && (existsSync(crt) || existsSync(key))) return usage(`${crt} exists (--force replaces it)`);
        const ca = loadPemPair(join(dir, 'ca.crt'), join(dir, 'ca.key'));
        const { issueCertificate } = await import('../engine/pki/create.js');
        const pair = await issueCertificate({ ca, identities: ids, ...(o.cn ? { commonName: o.cn } : {}), ...(o.org ? { organization: o.org } : {}), ...(algorithm ? { algorithm } : {}), ...(days ? { days } : {}) });
        savePemPair(pair, crt, key);
        out.write(`node certificate issued: ${crt} (key ${key}, mode 0600)\n`);
        printSummary(out, parseCertificates(pair.certPem)[0]!);
        return EXIT_OK;
      }
      case 'show': {
        const files = parsed.positionals.length ? parsed.positionals.map((f) => resolvePath(process.cwd(), f)) : [join(dir, 'ca.crt'), join(dir, 'node.crt')].filter((f) => existsSync(f));
        if (files.length === 0) return usage(`no certificate in ${dir} (create one with meshgate pki ca)`);
        for (const f of files) {
          if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(readFileSync(f, 'utf8'))) out.write(`${f}: contains a private key; only its certificates are shown\n`);
          for (const c of parseCertificates(readFileSync(f, 'utf8'))) {
            out.write(`${f}:\n`);
            printSummary(out, c);
          }
        }
        return EXIT_OK;
      }
      case 'verify': {
        const file = parsed.positionals[0];
        if (!file) return usage('FILE is needed');
        const trust = trustStore(parseCertificates(readFileSync(join(dir, 'ca.crt'), 'utf8')));
        const [leaf, ...chain] = parseCertificates(readFileSync(resolvePath(process.cwd(), file), 'utf8'));
        let id: Identity | undefined;
        if (o.id?.[0]) id = parseIdentity(o.id[0], '--id');
        const r = verifyPeerCertificate(new Uint8Array(leaf!.raw), chain.map((c) => new Uint8Array(c.raw)), trust, Date.now(), id ? { id } : undefined);
        if (r.ok) out.write(`${file}: OK (issued by ${r.issuer.subject.split('\n').join(', ')}${id ? `, names ${id.type}:${id.value}` : ''})\n`);
        else out.write(`${file}: REFUSED: ${r.reason}\n`);
        return r.ok ? EXIT_OK : EXIT_INVALID;
      }
      default:
        return usage(`unknown subcommand (ca, issue, show, verify)\n${PKI_USAGE}`);
    }
  } catch (e) {
    if (e instanceof PkiError || (e as NodeJS.ErrnoException).code) {
      err.write(`meshgate pki ${sub}: ${(e as Error).message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  }
}

function printSummary(out: Writable, cert: import('node:crypto').X509Certificate): void {
  const s = summarize(cert);
  const rows: [string, string][] = [
    ['Subject', s.subject],
    ['Issuer', s.issuer],
    ['Serial', s.serial],
    ['Valid', `${s.notBefore} .. ${s.notAfter}`],
    ['Alt-Names', s.altNames || '-'],
    ['Key', s.key],
    ['CA', s.ca ? 'yes' : 'no'],
    ['Fingerprint', s.fingerprint],
  ];
  for (const [k, v] of rows) out.write(`  ${k.padEnd(12)} ${v}\n`);
}
