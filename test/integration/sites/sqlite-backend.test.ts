import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSiteBackend } from '../../../src/engine/sites/sqlite-backend.js';
import { openSiteDirectory } from '../../../src/engine/sites/open.js';
import { SiteBackendError, SiteDirectoryConfigError, SiteDirectoryError } from '../../../src/engine/sites/errors.js';
import { backendContract, site } from './backend-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'meshgate-sites-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let last = '';

backendContract('sqlite', {
  fresh: async (masks) => {
    last = join(dir, `d${n++}`, 'sites.db');
    return new SqliteSiteBackend({ file: last, masks });
  },
  reopen: async (masks) => new SqliteSiteBackend({ file: last, ...(masks ? { masks } : {}) }),
});

test('sqlite: the default file is sites.db in the config directory, in WAL mode, with the indexes', async () => {
  const configDir = join(dir, 'cfg');
  const b = await openSiteDirectory(undefined, { configDir, masks: { v4: 24 } });
  await b.put(site(1));
  await b.close();
  const file = join(configDir, 'sites.db');
  assert.ok(existsSync(file));
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the file with the PSKs is private');
  const db = new Database(file, { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const idx = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sites' ORDER BY name`).all() as { name: string }[];
    assert.ok(idx.some((i) => i.name === 'sites_network') && idx.some((i) => i.name === 'sites_identity'));
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM sites WHERE network = ?`).all('10.0.1.0/24') as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join(' '), /USING INDEX sites_network/);
  } finally {
    db.close();
  }
});

test('sqlite: a new file without a mask is refused; a bad setting is refused', async () => {
  await assert.rejects(openSiteDirectory(undefined, { configDir: join(dir, 'nomask') }), SiteDirectoryConfigError);
  await assert.rejects(openSiteDirectory('postgres://x', { configDir: dir, masks: { v4: 24 } }), SiteDirectoryConfigError);
  await assert.rejects(openSiteDirectory(undefined, { configDir: dir, masks: { v4: 40 } }), SiteDirectoryConfigError);
});

test('sqlite: an import runs on its own connection: lookups see only committed rows meanwhile', async () => {
  const file = join(dir, 'iso', 'sites.db');
  const b = new SqliteSiteBackend({ file, masks: { v4: 24 } });
  try {
    await b.put(site(1));
    let seenDuring: number | undefined;
    async function* rows() {
      yield { line: 2, site: site(2) };
      seenDuring = (await b.lookupByNetwork(Uint8Array.from([10, 0, 2, 0]))) ? 1 : 0;
      yield { line: 3, site: site(3) };
    }
    const r = await b.bulkImport(rows());
    assert.equal(r.inserted, 2);
    assert.equal(seenDuring, 0, 'the uncommitted row is not visible to the node');
    assert.equal((await b.lookupByNetwork(Uint8Array.from([10, 0, 2, 0])))?.name, 'site-00002');
  } finally {
    await b.close();
  }
});

test('sqlite: a row edited by hand into garbage is a visible error, not a crash; a closed backend fails cleanly', async () => {
  const file = join(dir, 'corrupt', 'sites.db');
  const b = new SqliteSiteBackend({ file, masks: { v4: 24 } });
  await b.put(site(1));
  const raw = new Database(file);
  raw.prepare(`UPDATE sites SET identity = 'nonsense' WHERE name = 'site-00001'`).run();
  raw.close();
  await assert.rejects(b.lookupByNetwork(Uint8Array.from([10, 0, 1, 0])), (e: unknown) => e instanceof SiteDirectoryError && /corrupt/.test(e.message));
  await b.close();
  await assert.rejects(b.get('x'), SiteBackendError);
  assert.equal((await b.health()).ok, false);
});
