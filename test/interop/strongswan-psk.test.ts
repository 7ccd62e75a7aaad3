/**
 * meshgate <-> strongSwan (Debian's charon 5.9, kernel-libipsec) with pre-shared keys: a
 * static tunnel in both roles and with both AEAD suites. The IKE SA and the child SA must be
 * up on both sides with matching SPIs, suites and selectors, and real packets must cross
 * the data plane both ways: a host behind meshgate (its own namespace, routed through the
 * daemon's TUN) pings an address behind charon (on charon's loopback) and back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/netns.js';
import { AESGCM, CHACHA, agreedSas, parseCharonSas, pingCount, pings, withInterop, type Suite } from './fixtures/meshgate-node.js';

const BEHIND_CHARON = '10.2.0.1';

function staticTunnel(t: { skip(msg?: string): void }, role: 'initiator' | 'responder', suite: Suite): Promise<void> {
  return withInterop(t, { role, suite }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const ike = (await mg.ikeSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(ike['Role'], role === 'initiator' ? 'I' : 'R');
    assert.equal(ike['Remote-ID'], 'fqdn:charon.test');
    const child = (await mg.childSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(child['Local-TS'], '10.1.0.0/24');
    assert.equal(child['Remote-TS'], '10.2.0.0/16');
    const cipher = suite === CHACHA ? 'chacha20poly1305' : 'aes256gcm16';
    const vpn = await mg.vpn('charon');
    assert.match(vpn?.['Proposal'] ?? '', new RegExp(`^${cipher}-prfsha\\d+-(x25519|ecp256) / ${cipher}`), JSON.stringify(vpn));
    const list = charon.listSas();
    assert.match(list, suite === CHACHA ? /CHACHA20_POLY1305\/PRF_HMAC_SHA2_256\/CURVE_25519/ : /AES_GCM_16-256\/PRF_HMAC_SHA2_384\/ECP_256/, list);
    assert.match(list, suite === CHACHA ? /ESP:CHACHA20_POLY1305/ : /ESP:AES_GCM_16-256/, list);
    assert.match(list, /local\s+'charon\.test' @ 192\.0\.2\.2\[4500\]\s+remote\s+'mg\.test' @ 192\.0\.2\.1\[4500\]/, list);
    assert.match(list, /local\s+10\.2\.0\.0\/16\s+remote\s+10\.1\.0\.0\/24/, list);

    // Real packets across, both directions.
    assert.ok(await pings(lab, topo.hostNs, BEHIND_CHARON), 'host behind meshgate -> behind charon');
    assert.equal(pingCount(lab, topo.hostNs, BEHIND_CHARON, 5), 5, '5 of 5 pings host -> charon side');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 5, BEHIND_CHARON), 5, '5 of 5 pings charon side -> host');
    // The shell's own ping goes through the engine too (from the node's LAN address).
    const p = await mg.sh(`ping ${BEHIND_CHARON} -c 2 -a ${topo.mgLanAddr}`);
    assert.match(p.out, /2 packets transmitted, 2 received/, p.out);

    // Both sides counted the packets on this child SA.
    const after = await mg.vpn('charon');
    assert.ok(Number(after?.['Rx-Pkts']) >= 12 && Number(after?.['Tx-Pkts']) >= 12, `show vpn counts the packets: ${JSON.stringify(after)}`);
    const counted = parseCharonSas(charon.listSas()).children[0]!;
    assert.ok(counted.pktsIn >= 12 && counted.pktsOut >= 12, `charon counts the packets:\n${charon.listSas()}`);
  });
}

for (const suite of [CHACHA, AESGCM]) {
  test(`PSK, ${suite.label}: meshgate initiator -> strongSwan responder, ping both ways`, { timeout: 60_000 }, (t) => staticTunnel(t, 'initiator', suite));
  test(`PSK, ${suite.label}: strongSwan initiator -> meshgate responder, ping both ways`, { timeout: 60_000 }, (t) => staticTunnel(t, 'responder', suite));
}

test('PSK: a wrong key fails on both sides with AUTHENTICATION_FAILED, nothing is installed', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charon: { psk: 'not-the-same-key-0123456789' } }, async ({ charon, mg }) => {
    let out = '';
    try {
      out = charon.initiate(6);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '') + String((err as Error).message);
    }
    assert.doesNotMatch(out, /initiate completed successfully/, out);
    // meshgate (responder) cannot verify charon's AUTH and answers IKE_AUTH with AUTHENTICATION_FAILED.
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /parsed IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]|received AUTHENTICATION_FAILED notify error/, log.split('\n').slice(-20).join('\n'));
    assert.equal(parseCharonSas(charon.listSas()).ike.filter((s) => s.state === 'ESTABLISHED').length, 0, charon.listSas());
    assert.equal((await mg.childSas()).length, 0, 'meshgate installed no child SA');
    assert.notEqual((await mg.vpn('charon'))?.['State'], 'UP');
  }),
);

// strongSwan with remote_port = 4500 but no local_port starts from port 500 and sends its
// IKE_SA_INIT to port 4500 *without* the RFC 3948 non-ESP marker (charon marks only what it
// sends from 4500). meshgate took that for ESP and dropped it until 0f7262d; now it accepts bare
// IKE from a peer's port 500 and answers unmarked.
test('PSK: strongSwan starting from port 500 (IKE_SA_INIT to 4500 without non-ESP marker) reaches meshgate', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, establish: false, charon: { localPort: 500 } }, async ({ lab, topo, charon, mg }) => {
    const out = charon.initiate(6);
    assert.match(out, /sending packet: from 192\.0\.2\.2\[500\] to 192\.0\.2\.1\[4500\]/, out);
    assert.match(out, /initiate completed successfully/, out);
    assert.ok(await mg.waitUp('charon', 5000));
    await agreedSas(mg, charon);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'), 'traffic across');
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3);
  }),
);

test('PSK: a wrong key with meshgate as initiator: charon refuses, meshgate shows why and installs nothing', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, establish: false, charon: { psk: 'not-the-same-key-0123456789' } }, async ({ charon, mg }) => {
    let vpn: Record<string, string> | undefined;
    const failed = await waitFor(async () => {
      vpn = await mg.vpn('charon');
      return /auth/i.test(vpn?.['Last-Error'] ?? '');
    }, 15_000, 300);
    assert.ok(failed, `show vpn names the authentication failure: ${JSON.stringify(vpn)}`);
    assert.notEqual(vpn?.['State'], 'UP');
    assert.equal((await mg.childSas()).length, 0);
    assert.equal(parseCharonSas(charon.listSas()).ike.filter((s) => s.state === 'ESTABLISHED').length, 0);
    const log = readFileSync(charon.logFile, 'utf8');
    assert.match(log, /tried \d+ shared key for 'charon.test' - 'mg.test', but MAC mismatched/, 'charon checked the key and refused');
    assert.match(log, /generating IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]/);
  }),
);
