/**
 * The behaviour every site directory backend must show, run against SQLite and MariaDB
 * (and the memory backend): one suite, so the backends cannot drift apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { RealClock } from '../../../src/engine/clock.js';
import { formatPrefix } from '../../../src/engine/dataplane/address.js';
import { RouteTable } from '../../../src/engine/dataplane/route-table.js';
import type { ImportEntry, SiteDirectoryBackend } from '../../../src/engine/sites/backend.js';
import { exportSitesCsv, importSitesCsv } from '../../../src/engine/sites/csv.js';
import { DynamicRouteManager, type DynamicRoute } from '../../../src/engine/sites/dynamic-routes.js';
import { SiteConflictError, SiteDirectoryError, SiteMaskMismatchError, SiteValidationError } from '../../../src/engine/sites/errors.js';
import { validateSiteRecord, type DirectoryMasks, type SiteInput, type SiteRecord } from '../../../src/engine/sites/site.js';

export interface ContractFixture {
  /** A new, empty directory with these masks. */
  fresh(masks: DirectoryMasks): Promise<SiteDirectoryBackend>;
  /** The same database opened again (with these masks, or the stored ones). */
  reopen?(masks?: DirectoryMasks): Promise<SiteDirectoryBackend>;
}

export function site(i: number, extra: SiteRecord = {}): SiteInput {
  const v = validateSiteRecord(
    {
      name: `site-${String(i).padStart(5, '0')}`,
      identity: `fqdn:site-${i}.example.net`,
      gateway: `gw-${i}.example.net:4500`,
      network: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      psk: `psk-of-site-${i}`,
      comment: `site ${i}, "quoted"`,
      ...extra,
    },
    { v4: 24, v6: 64 },
  );
  if ('problems' in v) throw new Error(JSON.stringify(v.problems));
  return v.site;
}

function addr(i: number, host = 9): Uint8Array {
  return Uint8Array.from([10, (i >> 8) & 255, i & 255, host]);
}

async function* entries(from: number, to: number, bad: Map<number, SiteRecord> = new Map()): AsyncGenerator<ImportEntry> {
  for (let i = from; i < to; i++) {
    const line = i - from + 2;
    const override = bad.get(i);
    if (override) {
      const v = validateSiteRecord({ ...toRecord(i), ...override }, { v4: 24 });
      yield 'site' in v ? { line, site: v.site } : { line, problems: v.problems };
    } else yield { line, site: site(i) };
  }
}

function toRecord(i: number): SiteRecord {
  return { name: `site-${String(i).padStart(5, '0')}`, identity: `fqdn:site-${i}.example.net`, gateway: `gw-${i}.example.net`, network: `10.${(i >> 8) & 255}.${i & 255}.0/24`, psk: `psk-of-site-${i}` };
}

export function backendContract(label: string, fx: ContractFixture): void {
  test(`${label}: put, get, lookups by network (masked) and identity, delete`, async () => {
    const b = await fx.fresh({ v4: 24, v6: 64 });
    try {
      const s = await b.put(site(1));
      assert.ok(s.updatedAt > 0);
      await b.put(site(2, { psk: '', cert: 'ca/site-2' }));
      await b.put(site(3, { network: '2001:db8:0:3::/64', identity: 'key-id:0xA1B2', active: 'no' }));
      assert.equal(await b.count(), 3);
      const byNet = await b.lookupByNetwork(Uint8Array.from([10, 0, 1, 0]));
      assert.equal(byNet?.name, 'site-00001');
      assert.equal(byNet?.psk, 'psk-of-site-1');
      assert.equal(byNet?.comment, 'site 1, "quoted"');
      assert.deepEqual(byNet?.gateway, { host: 'gw-1.example.net', port: 4500 });
      assert.equal((await b.lookupByNetwork(addr(1, 200)))?.name, 'site-00001', 'host bits are masked off');
      assert.equal(await b.lookupByNetwork(addr(7)), undefined);
      const v6 = new Uint8Array(16);
      v6.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 3, 0xff]);
      const s3 = await b.lookupByNetwork(v6);
      assert.equal(s3?.name, 'site-00003');
      assert.equal(s3?.active, false);
      assert.equal((await b.lookupByIdentity('FQDN:Site-2.Example.NET'))?.cert, 'ca/site-2');
      assert.equal((await b.lookupByIdentity({ type: 'key-id', value: '0xa1b2' }))?.name, 'site-00003');
      assert.equal(await b.lookupByIdentity('fqdn:nobody.example'), undefined);
      assert.equal(await b.lookupByIdentity('garbage !'), undefined);
      assert.equal((await b.get('site-00002'))?.psk, undefined);
      // Replace by name: the old network is free again.
      await b.put(site(1, { network: '10.0.99.0/24' }));
      assert.equal(await b.lookupByNetwork(addr(1)), undefined);
      assert.equal((await b.lookupByNetwork(addr(99)))?.name, 'site-00001');
      assert.equal(await b.delete('site-00001'), true);
      assert.equal(await b.delete('site-00001'), false);
      assert.equal(await b.count(), 2);
      assert.equal((await b.health()).ok, true);
    } finally {
      await b.close();
    }
  });

  test(`${label}: unique network and identity, validation of written rows`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      await b.put(site(1));
      await assert.rejects(b.put(site(2, { network: '10.0.1.0/24' })), (e: unknown) => e instanceof SiteConflictError && e.column === 'network');
      await assert.rejects(b.put(site(2, { identity: 'fqdn:site-1.example.net' })), (e: unknown) => e instanceof SiteConflictError && e.column === 'identity');
      const wrongMask = { ...site(5), network: { ...site(5).network, length: 16 } };
      await assert.rejects(b.put(wrongMask), (e: unknown) => e instanceof SiteValidationError && e.problems[0]!.column === 'network');
      assert.equal(await b.count(), 1);
    } finally {
      await b.close();
    }
  });

  test(`${label}: list pages in name order`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      const r = await b.bulkImport(entries(0, 25));
      assert.equal(r.inserted, 25);
      const names: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await b.list(after === undefined ? { limit: 10 } : { after, limit: 10 });
        pages++;
        names.push(...page.sites.map((s) => s.name));
        if (!page.next) break;
        after = page.next;
      }
      assert.equal(pages, 3);
      assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `site-${String(i).padStart(5, '0')}`));
    } finally {
      await b.close();
    }
  });

  test(`${label}: bulk import is one transaction: a bad row anywhere and nothing is imported`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      await b.put(site(5000));
      const bad = new Map<number, SiteRecord>([
        [700, { network: '10.0.1.0/16' }],
        [1100, { network: `10.19.136.0/24` }], // site 5000's network: a conflict found by the database
      ]);
      const r = await b.bulkImport(entries(0, 1200, bad));
      assert.equal(r.committed, false);
      assert.equal(r.rows, 1200);
      assert.equal(r.inserted, 0);
      assert.equal(r.rejectedRows, 2);
      assert.deepEqual(
        r.rejections.map((x) => [x.line, x.column]),
        [
          [702, 'network'],
          [1102, 'network'],
        ],
      );
      assert.equal(await b.count(), 1);
      assert.equal(await b.lookupByNetwork(addr(3)), undefined);
    } finally {
      await b.close();
    }
  });

  test(`${label}: bulk import with skip-invalid, duplicates in the file, updates, replace`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      await b.put(site(0, { comment: 'old' }));
      async function* rows(): AsyncGenerator<ImportEntry> {
        yield* entries(0, 600);
        yield { line: 602, site: site(10, { network: '10.0.250.0/24', identity: 'fqdn:dup.example' }) }; // name again
        yield { line: 603, site: site(700, { identity: 'fqdn:site-3.example.net' }) }; // identity of site 3
        yield { line: 604, problems: [{ column: 'csv', problem: 'has 3 fields, the header has 8' }] };
      }
      const r = await b.bulkImport(rows(), { mode: 'skip-invalid' });
      assert.equal(r.committed, true);
      assert.equal(r.inserted, 599);
      assert.equal(r.updated, 1);
      assert.deepEqual(
        r.rejections.map((x) => [x.line, x.column]),
        [
          [602, 'name'],
          [603, 'identity'],
          [604, 'csv'],
        ],
      );
      assert.match(r.rejections[0]!.problem, /first on line 12/);
      assert.equal(await b.count(), 600);
      assert.equal((await b.get('site-00000'))?.comment, 'site 0, "quoted"');

      const again = await b.bulkImport(entries(100, 150), { replace: true });
      assert.equal(again.committed, true);
      assert.equal(again.deleted, 600);
      assert.equal(again.inserted, 50);
      assert.equal(await b.count(), 50);
    } finally {
      await b.close();
    }
  });

  test(`${label}: an input that fails half way (a stream error) imports nothing and its error passes through`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      await b.put(site(9000));
      class InputBroke extends SiteDirectoryError {}
      async function* rows(): AsyncGenerator<ImportEntry> {
        yield* entries(0, 700);
        throw new InputBroke('the file went away');
      }
      await assert.rejects(b.bulkImport(rows(), { mode: 'skip-invalid', replace: true }), (e: unknown) => e instanceof InputBroke);
      assert.equal(await b.count(), 1);
      assert.equal((await b.lookupByNetwork(addr(3))), undefined);
      assert.ok(await b.get('site-09000'));
    } finally {
      await b.close();
    }
  });

  test(`${label}: CSV import and export round trip; PSKs only with secrets`, async () => {
    const b = await fx.fresh({ v4: 24 });
    try {
      const csv =
        'name,identity,gateway,network,psk,cert,active,comment\r\n' +
        'a,fqdn:a.example,gw.a.example,10.1.0.0/24,"pa,ss ""word""",,yes,"first, site"\r\n' +
        'b,ipv4:192.0.2.2,192.0.2.2:500,10.1.1.0/24,,ca/b,no,\r\n';
      const r = await importSitesCsv(b, [csv]);
      assert.equal(r.inserted, 2, JSON.stringify(r.rejections));
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      assert.equal(await exportSitesCsv(b, out, { withSecrets: true }), 2);
      const text = Buffer.concat(chunks).toString();
      assert.ok(text.includes('"pa,ss ""word"""'));
      const c = await fx.fresh({ v4: 24 });
      try {
        const r2 = await importSitesCsv(c, [text]);
        assert.equal(r2.inserted, 2);
        const [x, y] = [(await b.list()).sites, (await c.list()).sites];
        assert.deepEqual(
          y.map((s) => ({ ...s, updatedAt: 0 })),
          x.map((s) => ({ ...s, updatedAt: 0 })),
        );
      } finally {
        await c.close();
      }
    } finally {
      await b.close();
    }
  });

  if (fx.reopen) {
    const reopen = fx.reopen;
    test(`${label}: the mask is stored with the schema and checked on open`, async () => {
      const b = await fx.fresh({ v4: 24 });
      await b.put(site(1));
      await b.close();
      const same = await reopen();
      assert.deepEqual(same.masks, { v4: 24 });
      assert.equal(await same.count(), 1);
      await same.close();
      await assert.rejects(reopen({ v4: 16 }), (e: unknown) => e instanceof SiteMaskMismatchError);
    });
  }

  test(`${label}: a concentrator with hundreds of sites: lookups, dynamic routes, eviction, responder lookups`, async () => {
    const b = await fx.fresh({ v4: 24 });
    const routes = new RouteTable();
    const connected: DynamicRoute[] = [];
    const removed: string[] = [];
    let m: DynamicRouteManager | undefined;
    try {
      const imported = await b.bulkImport(entries(0, 600));
      assert.equal(imported.inserted, 600);
      const released: number[] = [];
      m = new DynamicRouteManager({
        clock: new RealClock(),
        routes,
        capacity: 300,
        lookupTimeoutMs: 5000,
        maxPendingLookups: 1000, // this burst asks for 400 networks at once
        hooks: {
          // The "engine": the tunnel comes up on the next turn of the event loop.
          connect: (r) => {
            connected.push(r);
            setImmediate(() => m!.tunnelUp(r.name, `sa-${r.name}`));
          },
          release: (_r, packets) => released.push(packets.length),
          removed: (r) => removed.push(r.name),
        },
      });
      m.addDirectory('hq', b);
      m.addBaseRoute('hq', '10.0.0.0/8');
      const mgr = m;
      // 400 sites, 3 packets each, interleaved.
      for (let round = 0; round < 3; round++) for (let i = 0; i < 400; i++) mgr.resolve('hq', addr(i, 1 + round), new Uint8Array(60));
      const deadline = Date.now() + 20_000;
      while (mgr.status().pendingLookups > 0 || mgr.status().connecting > 0) {
        assert.ok(Date.now() < deadline, 'lookups finish');
        await new Promise((r) => setTimeout(r, 5));
      }
      const s = mgr.status();
      assert.equal(s.counters.lookups, 400, 'one lookup per network');
      assert.equal(s.counters.hits, 400);
      assert.ok(s.used <= 270, `at most 90 % of 300 slots in use, got ${s.used}`);
      assert.ok(s.counters.evictions >= 130);
      assert.equal(removed.length, s.counters.evictions);
      assert.equal(s.counters.queued, 1200);
      // Every route that is still there was released with its 3 packets, and routes to its SA.
      for (const r of mgr.list()) {
        assert.equal(r.state, 'up');
        const rt = routes.lookup(addr(Number(r.name.slice(5)), 77))!;
        assert.deepEqual(rt.target, { kind: 'sa', id: `sa-${r.name}` });
        assert.equal(formatPrefix(rt.prefix), r.network);
      }
      assert.ok(released.every((n) => n === 3));
      // The most recently connected ones survived eviction.
      assert.ok(mgr.routeOf('site-00399'));
      assert.equal(mgr.routeOf('site-00000'), undefined);
      // Responder side: identities of sites not connected.
      const found = await Promise.all([450, 451, 452].map((i) => mgr.resolveIdentity(`fqdn:site-${i}.example.net`)));
      assert.deepEqual(
        found.map((f) => f.kind === 'found' && f.site.name),
        ['site-00450', 'site-00451', 'site-00452'],
      );
      assert.ok(mgr.responderUp('hq', (found[0] as { site: SiteInput & { updatedAt: number } }).site, 'sa-r450'));
      // A row deleted in the database: refresh removes the connected site.
      await b.delete('site-00399');
      assert.equal(await mgr.refresh('site-00399'), 'deleted');
      assert.equal(mgr.status().directories[0]!.state, 'up');
    } finally {
      m?.close();
      await b.close();
    }
  });
}
