/**
 * Concentrator mode in network namespaces (issue 5): the hub is a `meshgate daemon --engine
 * tun` whose sites live in its SQLite site directory (imported with `meshgate sites import`),
 * with one base route 10.0.0.0/8; the two spokes are plain daemons with their own keys.
 * Spoke 1 calls in (the hub finds it by its IKE identity); spoke 2 only answers, so the hub
 * builds its tunnel when a packet for 10.2.0.0/24 arrives — that first packet is queued,
 * not lost. Hosts behind the hub and both spokes ping each other. Root only.
 *
 *   node --import tsx --test test/e2e/vpn-sites.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootOrSkip, sleep } from '../helpers/netns.js';
import { runBin } from './shell-harness.js';
import { VpnLab } from './vpn-lab.js';
import { LAB_PSK, hubWanAddress } from '../../src/lab/lab-scripts.js';

const CONCENTRATOR = [
  'begin',
  'set /Setup/Name hub',
  'cd /Setup/Interfaces/LAN',
  'set LAN-1 yes 10.0.0.1/24',
  'cd /Setup/Interfaces/WAN',
  `set WAN-1 {Public-Endpoint} ${hubWanAddress()}:4500`,
  'cd /Setup/VPN/IKEv2/Auth/Parameter',
  'set SITES {Local-ID} hub.lab',
  'cd /Setup/VPN/IKEv2/Routing',
  // The sites reach each other through the concentrator: it offers all of 10.0.0.0/8.
  'set SITES {Local-Networks} 10.0.0.0/8',
  'cd /Setup/VPN/IKEv2/Peers',
  'set SITES yes "" responder static {Auth} SITES {Routing} SITES',
  'cd /Setup/IP-Router/Routing-Table',
  'set 10.0.0.0/8 0 SITE-DIRECTORY',
  'cd /Setup/VPN/Site-Directory',
  'set Operating yes',
  'set Backend sqlite',
  'set Base-Peer SITES',
  'set Remote-Mask 24',
  'set /Setup/Licence/Model Central-100',
  'commit comment "concentrator"',
];

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(200);
  }
  return fn();
}

test('concentrator in namespaces: a site calls in, another is built on the first packet; hosts ping across', { timeout: 180_000 }, async (t) => {
  if (!rootOrSkip(t)) return;
  const v = new VpnLab({
    branches: 2,
    mesh: false,
    hubScript: CONCENTRATOR,
    hubHost: true,
    // Spoke 2 waits to be called: the concentrator builds its tunnel on demand.
    spokeExtraFor: { 2: ['set /Setup/VPN/IKEv2/Peers HUB {Role} responder'] },
  });
  t.after(() => v.cleanup());
  await v.configure();
  const csv = join(v.hub.dir, 'sites.csv');
  writeFileSync(
    csv,
    ['name,identity,gateway,network,psk,comment', `branch1,fqdn:branch1.lab,198.51.100.11,10.1.0.0/24,${LAB_PSK},calls in`, `branch2,fqdn:branch2.lab,198.51.100.12,10.2.0.0/24,${LAB_PSK},waits`].join('\n') + '\n',
  );
  const imp = await runBin(['--config-dir', v.hub.dir, 'sites', 'import', csv, '--mask', '24'], { timeoutMs: 30_000 });
  assert.equal(imp.code, 0, imp.stdout + imp.stderr);
  await v.start();
  const [s1, s2] = v.spokes as [(typeof v.spokes)[0], (typeof v.spokes)[0]];
  const [h1, h2] = v.hosts as [(typeof v.hosts)[0], (typeof v.hosts)[0]];
  const h0 = v.hubHost!;

  // Site 1 calls in: found by its identity, its route installed by the responder.
  assert.ok(await until(async () => /^\s*HUB\s+UP\b/m.test(await v.cli(s1, 'show vpn')), 30_000), `spoke 1 up: ${v.hub.daemon?.output()}`);
  let sites = await v.cli(v.hub, 'show sites');
  assert.match(sites, /State\s*:?\s+up/, sites);
  assert.match(sites, /branch1\s+sites\s+10\.1\.0\.0\/24\s+fqdn:branch1\.lab\s+198\.51\.100\.11\s+up\s+site_branch1/, sites);
  const p1 = v.lab.exec(h1.ns, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '3', h0.address], { timeoutMs: 30_000 });
  assert.match(p1, / 3 received/, p1);

  // Site 2 has no tunnel; the first packet from behind the hub builds it and is delivered.
  assert.doesNotMatch(await v.cli(s2, 'show vpn'), /^\s*HUB\s+UP\b/m);
  const p2 = v.lab.exec(h0.ns, 'ping', ['-n', '-c', '5', '-i', '0.3', '-W', '5', h2.address], { timeoutMs: 40_000 });
  assert.match(p2, / 5 received/, `the first echo was queued, not lost: ${p2}`);
  sites = await v.cli(v.hub, 'show sites');
  assert.match(sites, /branch2\s+sites\s+10\.2\.0\.0\/24\s+fqdn:branch2\.lab\s+198\.51\.100\.12\s+up\s+site_branch2/, sites);
  const counters = await v.cli(v.hub, 'show sites counters');
  assert.match(counters, /^\s*lookups\s+1\b/m, counters);
  assert.match(counters, /^\s*identityHits\s+1\b/m, counters);
  assert.match(counters, /^\s*released\s+[1-9]/m, counters);

  // Site to site through the concentrator, both tunnels dynamic.
  const p3 = v.lab.exec(h1.ns, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '3', h2.address], { timeoutMs: 30_000 });
  assert.match(p3, / 3 received/, p3);
  const routes = await v.cli(v.hub, 'show routes');
  assert.match(routes, /10\.1\.0\.0\/24\s+site\s+SA site_branch1/, routes);
  assert.match(routes, /10\.2\.0\.0\/24\s+site\s+SA site_branch2/, routes);
  assert.match(await v.cli(v.hub, 'show licence'), /VPN-Tunnels\s*:?\s+2 \/ 100/);
  assert.doesNotMatch(sites + counters + (await v.cli(v.hub, 'show log')), new RegExp(LAB_PSK));
});
