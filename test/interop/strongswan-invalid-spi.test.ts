/**
 * INVALID_IKE_SPI with strongSwan (RFC 7296 section 2.21.4): meshgate (responder) crashes and
 * restarts with no state; charon's next liveness check on the old IKE SA reaches a meshgate
 * that does not know it, and meshgate answers it, unprotected, with N(INVALID_IKE_SPI), at most
 * once a second per sender. charon 5.9 logs the unprotected answer and otherwise ignores it
 * ("received unencrypted informational ... could not decrypt payloads"), so it keeps
 * retransmitting until its DPD gives up: the answer is a hint, and harmless to a peer that
 * does not use it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/netns.js';
import { CHACHA, agreedSas, withInterop } from './fixtures/meshgate-node.js';

test('meshgate restarted: charon’s liveness check for the forgotten IKE SA is answered with INVALID_IKE_SPI', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, charon: { dpdDelay: '2s' } }, async ({ charon, mg }) => {
    await agreedSas(mg, charon);
    await mg.kill();
    await mg.startDaemon();
    const answers = () => (readFileSync(charon.logFile, 'utf8').match(/received unencrypted informational: from 192\.0\.2\.1\[4500\] to 192\.0\.2\.2\[4500\]/g) ?? []).length;
    const seen = await waitFor(() => answers() >= 2, 20_000, 250);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.ok(seen, `meshgate answered charon's liveness checks (and their retransmissions) for the unknown SA:\n${log.split('\n').slice(-30).join('\n')}`);
    assert.match(log, /payload type NOTIFY was not encrypted/, 'an unprotected notify (INVALID_IKE_SPI)');
    assert.match(log, /retransmit \d+ of request with message ID \d+/, 'charon retransmitted its liveness check');
    // charon is still alive and well: its SA goes after its own DPD timeout, nothing else happens.
    assert.ok(await waitFor(() => !/ESTABLISHED/.test(charon.listSas()), 40_000, 500), `charon cleared the dead SA:\n${charon.listSas()}`);
  }),
);
