import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import {
  CsvHeaderError,
  CsvParser,
  exportSitesCsv,
  formatCsvRecord,
  importSitesCsv,
  parseCsv,
  readSiteCsv,
  type CsvItem,
} from '../../../src/engine/sites/csv.js';
import { MemorySiteBackend } from '../../../src/engine/sites/memory-backend.js';
import type { ImportEntry } from '../../../src/engine/sites/backend.js';

async function items(text: string | Uint8Array | (string | Uint8Array)[]): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const it of parseCsv(Array.isArray(text) ? text : [text])) out.push(it);
  return out;
}

function recs(list: CsvItem[]): string[][] {
  return list.filter((i) => i.kind === 'record').map((i) => (i as { fields: string[] }).fields);
}

async function entries(text: string, masks = { v4: 24 }): Promise<ImportEntry[]> {
  const out: ImportEntry[] = [];
  for await (const e of readSiteCsv([text], masks)) out.push(e);
  return out;
}

const HEADER = 'name,identity,gateway,network,psk,cert,active,comment\r\n';

test('RFC 4180: quoted fields with commas, doubled quotes and line breaks; line numbers of records', async () => {
  const list = await items('a,b,c\r\n"x,1","say ""hi""","two\r\nlines"\r\nlast,,\r\n');
  assert.deepEqual(list, [
    { kind: 'record', line: 1, fields: ['a', 'b', 'c'] },
    { kind: 'record', line: 2, fields: ['x,1', 'say "hi"', 'two\r\nlines'] },
    { kind: 'record', line: 4, fields: ['last', '', ''] },
  ]);
});

test('LF, lone CR, no final newline, empty lines skipped, "" is a record', async () => {
  assert.deepEqual(recs(await items('a\n\n\nb\rc\r\n\r\nd')), [['a'], ['b'], ['c'], ['d']]);
  const list = await items('a\n\n""\nb');
  assert.deepEqual(list, [
    { kind: 'record', line: 1, fields: ['a'] },
    { kind: 'record', line: 3, fields: [''] },
    { kind: 'record', line: 4, fields: ['b'] },
  ]);
});

test('a byte order mark is skipped (bytes and text), only at the start', async () => {
  assert.deepEqual(recs(await items(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62]))), [['a', 'b']]);
  assert.deepEqual(recs(await items('\ufeffa,b\n\ufeffc')), [['a', 'b'], ['\ufeffc']]);
});

test('UTF-8 split across chunks decodes; invalid bytes become U+FFFD', async () => {
  const bytes = new TextEncoder().encode('é,ü\n');
  assert.deepEqual(recs(await items([bytes.slice(0, 1), bytes.slice(1, 3), bytes.slice(3)])), [['é', 'ü']]);
  assert.deepEqual(recs(await items(Uint8Array.from([0x61, 0xff, 0x2c, 0x62]))), [['a\ufffd', 'b']]);
});

test('malformed quoting is reported with the line and the parser resumes on the next line', async () => {
  const list = await items('ok,1\nab"c,2\n"x"y,3\nfine,4\n"never closed,5\nmore\n');
  assert.deepEqual(list, [
    { kind: 'record', line: 1, fields: ['ok', '1'] },
    { kind: 'error', line: 2, message: 'a quote inside an unquoted field (field 1)' },
    { kind: 'error', line: 3, message: 'text after the closing quote of field 1' },
    { kind: 'record', line: 4, fields: ['fine', '4'] },
    { kind: 'error', line: 5, message: 'a quoted field opened on line 5 is never closed' },
  ]);
});

test('bounds: field length and field count', async () => {
  const p = new CsvParser({ maxFieldLength: 5, maxFields: 3 });
  const out = [...p.push('abcdef,1\n"abcdefgh"\na,b,c\na,b,c,d\nok\n'), ...p.end()];
  assert.deepEqual(out, [
    { kind: 'error', line: 1, message: 'field 1 is longer than 5 characters' },
    { kind: 'error', line: 2, message: 'field 1 is longer than 5 characters' },
    { kind: 'record', line: 3, fields: ['a', 'b', 'c'] },
    { kind: 'error', line: 4, message: 'more than 3 fields' },
    { kind: 'record', line: 5, fields: ['ok'] },
  ]);
});

test('property: any field arrays survive format -> parse', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r', '\n', ' ', 'é', '\ufeff') }), { minLength: 1, maxLength: 6 }), { maxLength: 10 }), (records) => {
      const text = records.map(formatCsvRecord).join('');
      const p = new CsvParser({ maxFieldLength: 10_000 });
      const out = [...p.push(text), ...p.end()];
      assert.deepEqual(recs(out), records);
    }),
    { numRuns: 300 },
  );
});

test('property: the result does not depend on how the input is split into chunks', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', 'x') , maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 6 }), (text, cuts) => {
      const whole = new CsvParser();
      const expected = [...whole.push(text), ...whole.end()];
      const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
      const split = new CsvParser();
      const got: CsvItem[] = [];
      let last = 0;
      for (const c of points) {
        got.push(...split.push(text.slice(last, c)));
        last = c;
      }
      got.push(...split.push(text.slice(last)), ...split.end());
      assert.deepEqual(got, expected);
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes never throw; line numbers are positive and never go back', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
      let last = 1;
      for await (const it of parseCsv([bytes], { maxFieldLength: 50, maxFields: 8 })) {
        assert.ok(it.line >= last);
        last = it.line;
        if (it.kind === 'record') assert.ok(it.fields.length <= 8 && it.fields.every((f) => f.length <= 50));
      }
    }),
    { numRuns: 300 },
  );
});

test('property: random bytes through the site reader give entries or a header error, never anything else', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, withHeader) => {
      const head = new TextEncoder().encode(withHeader ? HEADER : '');
      try {
        for await (const e of readSiteCsv([head, bytes], { v4: 24 })) {
          assert.ok(e.line >= 2);
          if ('problems' in e) assert.ok(e.problems.length > 0 && e.problems.every((p) => p.column && p.problem));
        }
      } catch (err) {
        assert.ok(err instanceof CsvHeaderError, String(err));
        assert.equal(withHeader, false);
      }
    }),
    { numRuns: 300 },
  );
});

test('site reader: header in any order and case; rows validated; wrong field counts and bad quoting reported per line', async () => {
  const text =
    'Network,NAME,psk,Identity,gateway\r\n' +
    '10.0.1.0/24,a1,secret-one,fqdn:a1.example,gw.a1.example\r\n' +
    '10.0.2.0/24,a2,secret-two,fqdn:a2.example\r\n' +
    '10.0.3.0/25,a3,short,fqdn:a3.example,gw.a3.example\r\n' +
    '10.0.4.0/24,a"4,secret-four,fqdn:a4.example,gw\r\n' +
    '\r\n' +
    '"10.0.5.0/24","a5","sec,ret ""5""","fqdn:a5.example","gw.a5.example:500"\r\n';
  const list = await entries(text);
  assert.equal(list.length, 5);
  assert.ok('site' in list[0]! && list[0].line === 2 && list[0].site.name === 'a1');
  assert.deepEqual(list[1], { line: 3, problems: [{ column: 'csv', problem: 'has 4 fields, the header has 5' }] });
  assert.deepEqual(
    'problems' in list[2]! && list[2].problems.map((p) => p.column),
    ['network', 'psk'],
  );
  assert.deepEqual(list[3], { line: 5, problems: [{ column: 'csv', problem: 'a quote inside an unquoted field (field 2)' }] });
  assert.ok('site' in list[4]! && list[4].line === 7 && list[4].site.psk === 'sec,ret "5"' && list[4].site.gateway.port === 500);
});

test('site reader: unusable headers refuse the whole file', async () => {
  const bad = async (text: string, re: RegExp) => {
    await assert.rejects(entries(text), (e: unknown) => e instanceof CsvHeaderError && re.test(e.message));
  };
  await bad('', /empty/);
  await bad('\r\n\r\n', /empty/);
  await bad('name,identity,gateway,network,psk,colour\r\n', /unknown column 'colour'/);
  await bad('name,identity,gateway,network,psk,Name\r\n', /appears twice/);
  await bad('name,identity,psk\r\n', /lacks gateway, network/);
  await bad('name,identity,gateway,network\r\n', /psk or a cert/);
  await bad('name,"identity\r\n', /header row is malformed/);
  await bad('\u0000\u0001\u0002garbage\r\n', /unknown column/);
});

function siteCsvLine(i: number): string {
  return `s${i},fqdn:s${i}.example,gw${i}.example,10.${i >> 8}.${i & 255}.0/24,psk-secret-${i},,yes,\r\n`;
}

test('import all-or-nothing: one bad row and nothing is imported; the report lists line, column and problem', async () => {
  const b = new MemorySiteBackend({ v4: 24 });
  const text = HEADER + siteCsvLine(1) + siteCsvLine(2) + 's3,fqdn:s3.example,gw3.example,10.0.3.0/24,,,,\r\n' + siteCsvLine(1).replace('s1,', 's1x,');
  const r = await importSitesCsv(b, [text]);
  assert.equal(r.committed, false);
  assert.equal(r.rows, 4);
  assert.equal(r.inserted, 0);
  assert.equal(r.rejectedRows, 2);
  assert.deepEqual(r.rejections, [
    { line: 4, column: 'psk', problem: 'a site needs a pre-shared key or a certificate reference (cert)' },
    { line: 5, column: 'network', problem: 'network is already used by another site' },
  ]);
  assert.equal(await b.count(), 0);
});

test('import with skip-invalid: the valid rows go in; duplicates within the file are rejected', async () => {
  const b = new MemorySiteBackend({ v4: 24 });
  const text = HEADER + siteCsvLine(1) + 'bad row\r\n' + siteCsvLine(2) + siteCsvLine(2);
  const r = await importSitesCsv(b, [text], { mode: 'skip-invalid' });
  assert.equal(r.committed, true);
  assert.equal(r.inserted, 2);
  assert.deepEqual(
    r.rejections.map((x) => [x.line, x.column]),
    [
      [3, 'csv'],
      [5, 'name'],
    ],
  );
  assert.match(r.rejections[1]!.problem, /first on line 4/);
  assert.equal(await b.count(), 2);
});

test('export leaves the psk column out unless asked; export -> import round trip', async () => {
  const a = new MemorySiteBackend({ v4: 24 }, () => Date.UTC(2026, 1, 3));
  const text = HEADER + siteCsvLine(1) + 'q,user-fqdn:ops@q.example,"[2001:db8::9]:4500",10.0.9.0/24,,ca/q-cert,no,"comment, with ""quotes"""\r\n';
  assert.equal((await importSitesCsv(a, [text])).inserted, 2);
  const plain = await collect((out) => exportSitesCsv(a, out));
  assert.equal(plain.split('\r\n')[0], 'name,identity,gateway,network,cert,active,comment,updated_at');
  assert.ok(!plain.includes('psk-secret-1'));
  const secret = await collect((out) => exportSitesCsv(a, out, { withSecrets: true, pageSize: 1 }));
  assert.ok(secret.includes('psk-secret-1'));
  const b = new MemorySiteBackend({ v4: 24 }, () => Date.UTC(2026, 1, 3));
  assert.equal((await importSitesCsv(b, [secret])).inserted, 2);
  assert.deepEqual((await b.list()).sites, (await a.list()).sites);
});

async function collect(fn: (out: PassThrough) => Promise<number>): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await fn(out);
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const siteArb = fc.record({
  name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
  identity: fc.oneof(
    fc.tuple(label, label).map(([a, b]) => `fqdn:${a}.${b}.example`),
    fc.tuple(label, label).map(([a, b]) => `user-fqdn:${a}@${b}.example`),
    fc.ipV4().map((a) => `ipv4:${a}`),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((u) => `key-id:0x${Buffer.from(u).toString('hex')}`),
  ),
  gateway: fc.oneof(
    fc.tuple(label, label).map(([a, b]) => `${a}.${b}.example`),
    fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `${a}:${p}`),
  ),
  secret: fc.oneof(
    fc.string({ minLength: 8, maxLength: 40, unit: fc.constantFrom('a', 'Z', ',', '"', ' ', '9', 'ß', '#') }).map((psk) => ({ psk, cert: '' })),
    label.map((c) => ({ psk: '', cert: `ca/${c}` })),
  ),
  active: fc.boolean(),
  comment: fc.string({ maxLength: 50, unit: fc.constantFrom('x', ',', '"', ' ', 'ü', "'") }),
});

test('property: generated sites survive export -> CSV -> import unchanged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(siteArb, { selector: (s) => s.name, maxLength: 15 }), async (gen) => {
      const a = new MemorySiteBackend({ v4: 24 }, () => 1_000);
      const rows = gen.map((g, i) => ({
        record: {
          name: g.name,
          // FQDN identities made unique by the index; addresses and key ids may collide (checked below).
          identity: g.identity.startsWith('fqdn:') ? `fqdn:n${i}.${g.identity.slice(5)}` : g.identity,
          gateway: g.gateway,
          network: `10.${i >> 8}.${i & 255}.0/24`,
          psk: g.secret.psk,
          cert: g.secret.cert,
          active: g.active ? 'yes' : 'no',
          comment: g.comment,
        },
      }));
      const text = HEADER + rows.map((r) => formatCsvRecord([r.record.name, r.record.identity, r.record.gateway, r.record.network, r.record.psk, r.record.cert, r.record.active, r.record.comment])).join('');
      const first = await importSitesCsv(a, [text], { mode: 'skip-invalid' });
      // Only identity collisions (same random address or key id twice) may be refused.
      for (const rej of first.rejections) assert.equal(rej.column, 'identity', JSON.stringify(rej));
      const exported = await collect((out) => exportSitesCsv(a, out, { withSecrets: true, pageSize: 4 }));
      const b = new MemorySiteBackend({ v4: 24 }, () => 1_000);
      const second = await importSitesCsv(b, [exported]);
      assert.equal(second.committed, true, JSON.stringify(second.rejections));
      assert.deepEqual((await b.list({ limit: 100 })).sites, (await a.list({ limit: 100 })).sites);
    }),
    { numRuns: 100 },
  );
});
