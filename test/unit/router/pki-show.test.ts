/** `show certificates`: CA and own certificate with validity and fingerprint; missing files and a foreign certificate say so; no key material. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router } from '../../../src/router/index.js';
import { createCa, issueCertificate } from '../../../src/engine/pki/create.js';
import { savePemPair } from '../../../src/engine/pki/files.js';
import type { OutputBlock } from '../../../src/shell/session-api.js';

test('show certificates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-show-'));
  const router = await Router.open({ configDir: dir, clock: new FakeClock(Date.now() + 3_600_000), name: 'r1' });
  try {
    const show = router.showProvider('certificates')!;
    assert.ok(show, 'the topic exists');
    const rows = async () => ((await show.run([], { user: { name: 'admin', access: 'admin' } } as never)) as OutputBlock[]).flatMap((b) => (b.kind === 'table' ? b.rows : []));
    let r = await rows();
    assert.deepEqual(r.map((x) => x[6]), ['missing (meshgate pki ca)', 'missing (meshgate pki issue)']);

    const ca = await createCa({ commonName: 'Site CA' });
    savePemPair(ca, join(dir, 'pki/ca.crt'), join(dir, 'pki/ca.key'));
    const node = await issueCertificate({ ca, identities: [{ type: 'fqdn', value: 'r1.example' }] });
    savePemPair(node, join(dir, 'pki/node.crt'), join(dir, 'pki/node.key'));
    r = await rows();
    assert.equal(r.length, 2);
    assert.deepEqual(r[0]!.slice(0, 3), ['CA', 'pki/ca.crt', 'CN=Site CA']);
    assert.equal(r[0]![6], 'ok');
    assert.deepEqual(r[1]!.slice(0, 4), ['own', 'pki/node.crt', 'CN=r1.example', 'CN=Site CA']);
    assert.equal(r[1]![5], 'Ed25519');
    assert.equal(r[1]![6], 'ok');
    assert.match(String(r[1]![7]), /^SHA256:[0-9A-F:]{95}$/);
    const keyBody = readFileSync(join(dir, 'pki/node.key'), 'utf8').split('\n')[1]!;
    assert.ok(!JSON.stringify(r).includes(keyBody.slice(0, 20)));

    // A node certificate of another CA is flagged.
    const other = await createCa({ commonName: 'Other CA' });
    savePemPair(await issueCertificate({ ca: other, identities: [{ type: 'fqdn', value: 'r1.example' }] }), join(dir, 'pki/node.crt'), join(dir, 'pki/node.key'));
    r = await rows();
    assert.equal(r[1]![6], 'not issued by the site CA');
  } finally {
    router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
