/** do /Other/PKI/Create-CA and Issue: files in pki/ (keys 0600), summaries without keys, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { Router } from '../../../src/router/index.js';
import { loadCredentialFiles, loadTrustFile, verifyPeerCertificate } from '../../../src/engine/pki/index.js';

test('do /Other/PKI/Create-CA and Issue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-act-'));
  const router = await Router.open({ configDir: dir, clock: new FakeClock(), name: 'r1' });
  try {
    const ctx = { user: { name: 'admin', access: 'admin' } } as never;
    const create = router.actionHandler('pki.create-ca')!;
    const issue = router.actionHandler('pki.issue')!;
    await assert.rejects(async () => issue({ identity: 'r1.example' }, ctx), /no site CA in pki\//);
    const out = await create({ name: 'Branch CA', algorithm: 'ecdsa-p256' }, ctx);
    assert.match(JSON.stringify(out), /CN=Branch CA.*ECDSA prime256v1/);
    assert.equal(statSync(join(dir, 'pki/ca.key')).mode & 0o777, 0o600);
    await assert.rejects(async () => create({ name: 'Again' }, ctx), /exists: a new CA invalidates every node certificate/);
    const issued = await issue({ identity: '192.0.2.9', file: 'wan' }, ctx);
    const text = JSON.stringify(issued);
    assert.match(text, /IP Address:192.0.2.9/);
    assert.doesNotMatch(text, /PRIVATE|BEGIN/);
    assert.ok(!text.includes(readFileSync(join(dir, 'pki/wan.key'), 'utf8').split('\n')[1]!.slice(0, 20)));
    assert.equal(statSync(join(dir, 'pki/wan.key')).mode & 0o777, 0o600);
    const cred = loadCredentialFiles(join(dir, 'pki/wan.crt'), join(dir, 'pki/wan.key'));
    assert.ok(verifyPeerCertificate(cred.der, [], loadTrustFile(join(dir, 'pki/ca.crt')), Date.now(), { id: { type: 'ipv4', value: '192.0.2.9' } }).ok);
    await assert.rejects(async () => issue({ identity: '' }, ctx), /identity is empty/);
  } finally {
    router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
