/** `meshgate pki`: CA and node certificates on disk, keys 0600 and never printed, verify's verdicts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runPkiCommand } from '../../../src/cli/pki-command.js';
import { loadCredentialFiles, loadTrustFile, verifyPeerCertificate } from '../../../src/engine/pki/index.js';

async function pki(dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runPkiCommand(argv, { configDir: dir, stdout, stderr });
  return { code, out, err };
}

test('pki ca, issue, show, verify: files, modes, and no private key in any output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-pki-'));
  try {
    let r = await pki(dir, 'ca', '--cn', 'Example Site CA', '--org', 'Example');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Subject +CN=Example Site CA, O=Example/);
    assert.match(r.out, /Key +Ed25519/);
    assert.match(r.out, /Fingerprint +SHA256:/);
    assert.equal(statSync(join(dir, 'pki/ca.key')).mode & 0o777, 0o600);
    // A second CA would orphan every node certificate: refused without --force.
    r = await pki(dir, 'ca');
    assert.equal(r.code, 2);
    assert.match(r.err, /exists/);

    r = await pki(dir, 'issue', '--id', 'spoke1.example', '--id', '192.0.2.7');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Alt-Names +DNS:spoke1.example, IP Address:192.0.2.7/);
    assert.equal(statSync(join(dir, 'pki/node.key')).mode & 0o777, 0o600);
    const cred = loadCredentialFiles(join(dir, 'pki/node.crt'), join(dir, 'pki/node.key'));
    const trust = loadTrustFile(join(dir, 'pki/ca.crt'));
    assert.ok(verifyPeerCertificate(cred.der, [], trust, Date.now(), { id: { type: 'ipv4', value: '192.0.2.7' } }).ok);

    r = await pki(dir, 'issue', '--id', 'spoke2.example', '--name', 'spoke2', '--algorithm', 'ecdsa-p256');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Key +ECDSA prime256v1/);

    r = await pki(dir, 'show');
    assert.equal(r.code, 0);
    assert.match(r.out, /CN=Example Site CA/);
    assert.match(r.out, /CN=spoke1.example/);
    r = await pki(dir, 'show', join(dir, 'pki/node.key'));
    assert.notEqual(r.code, 0, 'a key file is not shown');
    for (const o of [r.out, r.err]) assert.doesNotMatch(o, /BEGIN PRIVATE KEY|MC4CAQAw/);

    r = await pki(dir, 'verify', join(dir, 'pki/node.crt'), '--id', 'spoke1.example');
    assert.equal(r.code, 0);
    assert.match(r.out, /OK \(issued by CN=Example Site CA, O=Example, names fqdn:spoke1.example\)/);
    r = await pki(dir, 'verify', join(dir, 'pki/node.crt'), '--id', 'spoke9.example');
    assert.equal(r.code, 1);
    assert.match(r.out, /REFUSED: .*does not name the identity fqdn:spoke9.example/);

    // A certificate of another CA is refused.
    const other = mkdtempSync(join(tmpdir(), 'mg-pki-'));
    try {
      await pki(other, 'ca');
      await pki(other, 'issue', '--id', 'spoke1.example');
      r = await pki(dir, 'verify', join(other, 'pki/node.crt'));
      assert.equal(r.code, 1);
      assert.match(r.out, /not signed by the site CA/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    assert.ok(readFileSync(join(dir, 'pki/node.crt'), 'utf8').startsWith('-----BEGIN CERTIFICATE-----'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pki: bad arguments are refused with the allowed values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-pki-'));
  try {
    let r = await pki(dir, 'ca', '--algorithm', 'dsa');
    assert.equal(r.code, 2);
    assert.match(r.err, /ed25519, ecdsa-p256, ecdsa-p384, rsa-3072/);
    r = await pki(dir, 'issue');
    assert.equal(r.code, 2);
    assert.match(r.err, /--id IDENTITY is needed/);
    r = await pki(dir, 'issue', '--id', 'spoke1.example');
    assert.equal(r.code, 3, 'no CA yet');
    assert.match(r.err, /ca\.crt: ENOENT/);
    r = await pki(dir, 'frobnicate');
    assert.equal(r.code, 2);
    r = await pki(dir, 'ca', '--days', '0');
    assert.equal(r.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
