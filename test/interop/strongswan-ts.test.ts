/**
 * Traffic selectors between meshgate and strongSwan: narrowing in both directions (RFC 7296
 * section 2.9) and IPv6 inside the tunnel.
 *  - meshgate initiates asking for 10.0.0.0/8 behind charon, charon only has 10.2.0.0/16 for it:
 *    charon narrows, meshgate installs the narrowed selectors and traffic flows.
 *  - charon initiates asking for more than meshgate grants: meshgate narrows (or refuses with
 *    TS_UNACCEPTABLE); either way charon must end up with what meshgate answered.
 *  - IPv6 networks on both sides over the IPv4 transport, and IPv4 networks over IPv6 transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHACHA, agreedSas, pingCount, pings, withInterop } from './fixtures/meshgate-node.js';

test('TS narrowing by charon: meshgate asks for 10.0.0.0/8, charon grants 10.2.0.0/16', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'initiator', suite: CHACHA, mgRemote: '10.0.0.0/8', charonLocal: '10.2.0.0/16' }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const child = (await mg.childSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(child['Remote-TS'], '10.2.0.0/16', 'meshgate installed the narrowed selector');
    assert.match(charon.listSas(), /local\s+10\.2\.0\.0\/16\s+remote\s+10\.1\.0\.0\/24/);
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3);
  }),
);

test('TS narrowing by meshgate: charon asks for 10.0.0.0/8 behind meshgate, meshgate has 10.1.0.0/24', { timeout: 60_000 }, (t) =>
  withInterop(t, { role: 'responder', suite: CHACHA, charonRemote: '10.0.0.0/8' }, async ({ lab, topo, charon, mg }) => {
    await agreedSas(mg, charon);
    const child = (await mg.childSas()).find((r) => r['Peer'] === 'charon')!;
    assert.equal(child['Local-TS'], '10.1.0.0/24');
    assert.match(charon.listSas(), /local\s+10\.2\.0\.0\/16\s+remote\s+10\.1\.0\.0\/24/, 'charon took the narrowed selector');
    assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
    assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3);
  }),
);

test('IPv6 inside the tunnel (fd00:1::/64 <-> fd00:2::/64) over IPv4, meshgate initiator', { timeout: 60_000 }, (t) =>
  withInterop(
    t,
    {
      role: 'initiator',
      suite: CHACHA,
      lan: 'fd00:1::1/64',
      host: 'fd00:1::10/64',
      charonLo: ['fd00:2::1/128'],
      mgLocal: 'fd00:1::/64',
      mgRemote: 'fd00:2::/64',
      charonLocal: 'fd00:2::/64',
      charonRemote: 'fd00:1::/64',
    },
    async ({ lab, topo, charon, mg }) => {
      await agreedSas(mg, charon);
      assert.match(charon.listSas(), /local\s+fd00:2::\/64\s+remote\s+fd00:1::\/64/);
      assert.ok(await pings(lab, topo.hostNs, 'fd00:2::1'), 'host behind meshgate -> behind charon over IPv6');
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, 'fd00:2::1'), 3, 'charon side -> host over IPv6');
    },
  ),
);

for (const role of ['initiator', 'responder'] as const) {
  test(`IPv6 transport (2001:db8::1 <-> 2001:db8::2), IPv4 inside, meshgate ${role}`, { timeout: 60_000 }, (t) =>
    withInterop(t, { role, suite: CHACHA, v6Transport: true }, async ({ lab, topo, charon, mg }) => {
      await agreedSas(mg, charon);
      const list = charon.listSas();
      assert.match(list, /local\s+'charon\.test' @ 2001:db8::2\[4500\]\s+remote\s+'mg\.test' @ 2001:db8::1\[4500\]/, list);
      const vpn = await mg.vpn('charon');
      assert.equal(vpn?.['Remote-Gateway'], '[2001:db8::2]:4500', JSON.stringify(vpn));
      assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
      assert.equal(pingCount(lab, topo.ssNs, topo.hostAddr, 3, '10.2.0.1'), 3);
    }),
  );
}

for (const role of ['initiator', 'responder'] as const) {
  test(`two networks on each side in one child SA (TSi/TSr with two selectors each), meshgate ${role}`, { timeout: 60_000 }, (t) =>
    withInterop(
      t,
      {
        role,
        suite: CHACHA,
        charonLo: ['10.2.0.1/32', '10.4.0.1/32'],
        mgLocal: '10.1.0.0/24,10.3.0.0/24',
        mgRemote: '10.2.0.0/16,10.4.0.0/16',
        charonLocal: '10.2.0.0/16,10.4.0.0/16',
        charonRemote: '10.1.0.0/24,10.3.0.0/24',
        // The engine forwards what leaves a tunnel by its own route table: the second local network
        // needs a static route on the LAN side (the Routing profile's networks are selectors only).
        extra: ['set /Setup/IP-Router/Routing-Table 10.3.0.0/24 0 10.1.0.10'],
      },
      async ({ lab, topo, charon, mg }) => {
        // A second network behind meshgate: 10.3.0.10 on the same host, routed by the node.
        lab.exec(topo.hostNs, 'ip', ['addr', 'add', '10.3.0.10/32', 'dev', 'eth0']);
        lab.exec(topo.mgNs, 'ip', ['route', 'add', '10.3.0.10/32', 'dev', 'lan0']);
        await agreedSas(mg, charon);
        const list = charon.listSas();
        assert.match(list, /local\s+10\.2\.0\.0\/16 10\.4\.0\.0\/16\s+remote\s+10\.1\.0\.0\/24 10\.3\.0\.0\/24/, list);
        const child = (await mg.childSas()).find((r) => r['Peer'] === 'charon')!;
        assert.match(child['Local-TS'] ?? '', /10\.1\.0\.0\/24.*10\.3\.0\.0\/24/, JSON.stringify(child));
        assert.match(child['Remote-TS'] ?? '', /10\.2\.0\.0\/16.*10\.4\.0\.0\/16/, JSON.stringify(child));
        assert.ok(await pings(lab, topo.hostNs, '10.2.0.1'));
        for (const [src, dst] of [['10.1.0.10', '10.4.0.1'], ['10.3.0.10', '10.2.0.1'], ['10.3.0.10', '10.4.0.1']] as const) {
          assert.equal(pingCount(lab, topo.hostNs, dst, 2, src), 2, `${src} -> ${dst}`);
          assert.equal(pingCount(lab, topo.ssNs, src, 2, dst), 2, `${dst} -> ${src}`);
        }
      },
    ),
  );
}
