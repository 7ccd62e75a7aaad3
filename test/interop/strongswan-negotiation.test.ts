/**
 * Proposal negotiation between meshgate and strongSwan where the first guess is wrong:
 * INVALID_KE_PAYLOAD in both directions (the initiator's KE is for a group the responder does
 * not take; it retries with the group the responder names) and NO_PROPOSAL_CHOSEN in both
 * directions (no common cipher: nothing is established, each side says why); for the child SA
 * alone: NO_PROPOSAL_CHOSEN and TS_UNACCEPTABLE in IKE_AUTH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, parseCharonSas, pings, withInterop, type Suite } from './fixtures/meshgate-node.js';

test('INVALID_KE_PAYLOAD from charon: meshgate offers DH19,DH31 (KE for ecp256), charon takes only x25519', { timeout: 60_000 }, (t) => {
  const suite: Suite = { ...CHACHA, dh: 'DH19,DH31' };
  return withInterop(t, { role: 'initiator', suite }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /generating IKE_SA_INIT response 0 \[ N\(INVAL_KE\) \]/, 'charon asked for another group');
    assert.match(charon.listSas(), /CHACHA20_POLY1305\/PRF_HMAC_SHA2_256\/CURVE_25519/);
    assert.match((await mg.vpn('charon'))?.['Proposal'] ?? '', /x25519/);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
  });
});

test('INVALID_KE_PAYLOAD from meshgate: charon offers ecp256 and x25519 (KE for ecp256), meshgate takes only DH31', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, charon: { proposals: 'chacha20poly1305-prfsha256-ecp256-x25519' } }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_SA_INIT response 0 \[ N\(INVAL_KE\) \]/, 'meshgate asked for another group');
    assert.match(log, /peer didn't accept DH group ECP_256, it requested CURVE_25519/);
    assert.match(charon.listSas(), /CURVE_25519/);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
  }),
);

test('NO_PROPOSAL_CHOSEN from meshgate: charon offers only aes128gcm16, meshgate only chacha20poly1305', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charon: { proposals: 'aes128gcm16-prfsha256-x25519', espProposals: 'aes128gcm16' } }, async ({ charon, mg }) => {
    let out = '';
    try {
      out = charon.initiate(5);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    assert.doesNotMatch(out, /initiate completed successfully/);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_SA_INIT response 0 \[ N\(NO_PROP\) \]|received NO_PROPOSAL_CHOSEN notify error/, log.split('\n').slice(-15).join('\n'));
    assert.equal(parseCharonSas(charon.listSas()).ike.length, 0);
    assert.equal((await mg.ikeSas()).length, 0);
  }),
);

test('NO_PROPOSAL_CHOSEN from charon: meshgate offers only chacha20poly1305, charon only aes128gcm16', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, establish: false, charon: { proposals: 'aes128gcm16-prfsha256-x25519', espProposals: 'aes128gcm16' } }, async ({ charon, mg }) => {
    let vpn: Record<string, string> | undefined;
    const said = await waitFor(async () => {
      vpn = await mg.vpn('charon');
      return /proposal|NO_PROPOSAL/i.test(vpn?.['Last-Error'] ?? '');
    }, 10_000, 300);
    assert.ok(said, `show vpn names the failed negotiation: ${JSON.stringify(vpn)}`);
    assert.notEqual(vpn?.['State'], 'UP');
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /generating IKE_SA_INIT response 0 \[ N\(NO_PROP\) \]/);
    assert.equal(parseCharonSas(charon.listSas()).ike.length, 0);
  }),
);

test('child SA refused by meshgate: no common ESP cipher (NO_PROPOSAL_CHOSEN in IKE_AUTH), nothing installed', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charon: { espProposals: 'aes128gcm16' } }, async ({ charon, mg }) => {
    let out = '';
    try {
      out = charon.initiate(5);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    assert.doesNotMatch(out, /initiate completed successfully/);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_AUTH response 1 \[[^\]]*N\(NO_PROP\)[^\]]*\]/, log.split('\n').slice(-15).join('\n'));
    assert.equal(parseCharonSas(charon.listSas()).children.filter((c) => c.state === 'INSTALLED').length, 0);
    assert.equal((await mg.childSas()).length, 0);
  }),
);

test('TS_UNACCEPTABLE from meshgate: charon asks for 10.9.0.0/24 behind meshgate, which it does not have', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charonRemote: '10.9.0.0/24' }, async ({ charon, mg }) => {
    let out = '';
    try {
      out = charon.initiate(5);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    assert.doesNotMatch(out, /initiate completed successfully/);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_AUTH response 1 \[[^\]]*N\(TS_UNACCEPT\)[^\]]*\]/, log.split('\n').slice(-15).join('\n'));
    assert.equal((await mg.childSas()).length, 0);
  }),
);

test('TS_UNACCEPTABLE from charon: meshgate asks for 10.9.0.0/16 behind charon, which charon does not grant', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, establish: false, mgRemote: '10.9.0.0/16' }, async ({ charon, mg }) => {
    let vpn: Record<string, string> | undefined;
    const said = await waitFor(async () => {
      vpn = await mg.vpn('charon');
      return /TS_UNACCEPTABLE|selector/i.test(vpn?.['Last-Error'] ?? '');
    }, 10_000, 300);
    assert.ok(said, `show vpn names the refused selectors: ${JSON.stringify(vpn)}`);
    assert.equal((await mg.childSas()).length, 0);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /generating IKE_AUTH response 1 \[[^\]]*N\(TS_UNACCEPT\)[^\]]*\]/);
  }),
);
