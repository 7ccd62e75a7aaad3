import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runSitesCommand } from '../../../src/cli/sites-command.js';

const root = mkdtempSync(join(tmpdir(), 'meshgate-sites-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], configDir: string, stdin?: string): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (c: Buffer) => o.push(c));
  stderr.on('data', (c: Buffer) => e.push(c));
  const code = await runSitesCommand(argv, { configDir, stdout, stderr, env: {}, ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}) });
  return { code, out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString() };
}

function fresh(): string {
  return join(root, `cfg${n++}`);
}

const HEADER = 'name,identity,gateway,network,psk,cert,active,comment\r\n';
function line(i: number, psk = `topsecret-${i}`): string {
  return `s${i},fqdn:s${i}.example,gw${i}.example,10.0.${i}.0/24,${psk},,yes,site ${i}\r\n`;
}

test('cli: help and usage errors', async () => {
  const cfg = fresh();
  const h = await run(['help'], cfg);
  assert.equal(h.code, 0);
  assert.match(h.out, /meshgate sites import FILE/);
  for (const argv of [['frobnicate'], ['import'], ['import', 'a', 'b'], ['import', 'a', '--bogus'], ['export', '--replace'], ['import', 'x', '--mask', '33'], ['import', 'x', '--mask', '255.0.255.0'], ['import', 'x', '--with-secrets']]) {
    const r = await run(argv, cfg);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /usage:/);
  }
});

test('cli: import into a new directory needs the mask; then count and export without secrets', async () => {
  const cfg = fresh();
  const file = join(root, 'good.csv');
  writeFileSync(file, HEADER + line(1) + line(2) + line(3));
  const noMask = await run(['import', file], cfg);
  assert.equal(noMask.code, 3);
  assert.match(noMask.err, /is new: give its remote-network mask/);

  const ok = await run(['sites', 'import', file, '--mask', '255.255.255.0'], cfg);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /3 rows read: 3 sites added, 0 updated, 0 rejected/);
  assert.equal((await run(['count'], cfg)).out, '3\n');

  const again = await run(['import', file], cfg);
  assert.match(again.out, /0 sites added, 3 updated/);

  const exp = await run(['export'], cfg);
  assert.equal(exp.code, 0);
  assert.equal(exp.out.split('\r\n')[0], 'name,identity,gateway,network,cert,active,comment,updated_at');
  assert.equal(exp.out.trim().split('\r\n').length, 4);
  assert.ok(!/topsecret/.test(exp.out + exp.err + ok.out + ok.err), 'no PSK printed');
});

test('cli: export with secrets to a file (mode 0600) and import it elsewhere', async () => {
  const cfg = fresh();
  await run(['import', '-', '--mask', '24'], cfg, HEADER + line(1) + line(2, '"with ""quotes"", commas"'));
  const out = join(root, 'export.csv');
  const r = await run(['export', out, '--with-secrets'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const text = readFileSync(out, 'utf8');
  assert.ok(text.includes('topsecret-1') && text.includes('"with ""quotes"", commas"'));
  const other = fresh();
  const imp = await run(['import', out, '--mask', '24'], other);
  assert.equal(imp.code, 0, imp.err);
  const back = await run(['export', '-', '--with-secrets'], other);
  assert.deepEqual(strip(back.out), strip(text));
});

function strip(csv: string): string[] {
  return csv.split('\r\n').map((l) => l.replace(/,[^,]*$/, '')); // drop updated_at
}

test('cli: rejected rows: nothing imported by default, every problem listed with line and column; --skip-invalid imports the rest', async () => {
  const cfg = fresh();
  const file = join(root, 'bad.csv');
  writeFileSync(file, HEADER + line(1) + 's2,fqdn:s2.example,gw2.example,10.0.2.0/16,,,yes,\r\n' + 'short,row\r\n' + line(4) + '"unclosed,x\r\n');
  const r = await run(['import', file, '--mask', '24'], cfg);
  assert.equal(r.code, 1);
  assert.match(r.out, /5 rows read, 3 rejected: nothing imported/);
  assert.deepEqual(r.err.trim().split('\n'), [
    "line 3: network: prefix length /16 differs from the directory's mask /24",
    'line 3: psk: a site needs a pre-shared key or a certificate reference (cert)',
    'line 4: csv: has 2 fields, the header has 8',
    'line 6: csv: a quoted field opened on line 6 is never closed',
  ]);
  assert.equal((await run(['count'], cfg)).out, '0\n');
  const s = await run(['import', file, '--skip-invalid'], cfg);
  assert.equal(s.code, 1);
  assert.match(s.out, /2 sites added, 0 updated, 3 rejected/);
  assert.equal((await run(['count'], cfg)).out, '2\n');
});

test('cli: --replace makes the file the directory', async () => {
  const cfg = fresh();
  await run(['import', '-', '--mask', '24'], cfg, HEADER + line(1) + line(2) + line(3));
  const r = await run(['import', '-', '--replace'], cfg, HEADER + line(7));
  assert.match(r.out, /1 sites added, 0 updated, 3 deleted first/);
  assert.equal((await run(['count'], cfg)).out, '1\n');
});

test('cli: a bad header, a missing file, garbage and an unusable directory', async () => {
  const cfg = fresh();
  const h = await run(['import', '-', '--mask', '24'], cfg, 'name;identity;gateway\r\n');
  assert.equal(h.code, 1);
  assert.match(h.err, /unknown column 'name;identity;gateway'.*nothing imported/);
  const g = await run(['import', '-', '--mask', '24'], cfg, HEADER + '\u0000\u00ff\u0007,\u0001\r\n' + line(1));
  assert.equal(g.code, 1);
  assert.match(g.err, /^line 2: csv: has 2 fields/);
  const missing = await run(['import', join(root, 'nope.csv'), '--mask', '24'], cfg);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /cannot read/);
  const dir = await run(['count', '--directory', 'mysql://u:hunter2@127.0.0.1:1/db?connectTimeoutMs=300'], cfg);
  assert.equal(dir.code, 3);
  assert.ok(!dir.err.includes('hunter2'), 'the password is not printed');
  assert.match(dir.err, /u:\*\*\*@/);
});
