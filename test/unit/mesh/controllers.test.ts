/**
 * The hub and spoke mesh controllers together, wired through fake ports on a FakeClock:
 * mesh messages travel hub <-> spoke with a small delay, `connect` builds a tunnel by
 * asking the other spoke's controller, routes and flow moves are recorded. Engine-level
 * scenarios with real IKE come in the integration suite; this pins down the decisions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/engine/clock.js';
import { MeshHubController } from '../../../src/engine/mesh/hub-controller.js';
import { LicenceCounter } from '../../../src/engine/mesh/licence.js';
import { licenceProfile } from '../../../menus/licence.js';

const findLicenceProfile = (model: string) => {
  const p = licenceProfile(model)!;
  return { name: p.model, vpn: p.vpnTunnels, mesh: p.meshTunnels };
};
import { decodeMeshMessage, encodeMeshMessage, type MeshMessage } from '../../../src/engine/mesh/messages.js';
import { containsAddress } from '../../../src/engine/mesh/networks.js';
import { MeshSpokeController } from '../../../src/engine/mesh/spoke-controller.js';
import { DEFAULT_MESH_SETTINGS, type FlowMove, type MeshSettings } from '../../../src/engine/mesh/types.js';

interface SpokeNode {
  name: string;
  peerId: string;
  net: string;
  reachable: boolean;
  ctl: MeshSpokeController;
  routes: Map<string, string>;
  activity: Map<string, number>;
  flows: { flow: string; local: string; remote: string; path: string; packets: number }[];
  licence: LicenceCounter;
  log: string[];
  connects: number;
  pinned: number;
}

function world(opts: { spokes?: number; hub?: Partial<MeshSettings>; spoke?: Partial<MeshSettings>; licence?: string } = {}) {
  const clock = new FakeClock();
  const spokes = new Map<string, SpokeNode>();
  const byPeerId = new Map<string, SpokeNode>();
  const hubLog: string[] = [];
  const delay = (ms: number, fn: () => void) => clock.setTimer(ms, fn);
  // Messages go through the real codec, as they would inside the IKE notify.
  const wire = (m: MeshMessage): MeshMessage => {
    const r = decodeMeshMessage(encodeMeshMessage(m));
    assert.ok(r.ok, 'mesh message survives encoding');
    return r.message;
  };
  const hubSettings: MeshSettings = { ...DEFAULT_MESH_SETTINGS, operationMode: 'Hub', ...opts.hub };
  const hub = new MeshHubController(
    {
      sendToSpoke: (name, m) => {
        const s = spokes.get(name);
        if (!s) return false;
        const w = wire(m);
        delay(10, () => s.ctl.onMeshMessage(w));
        return true;
      },
      spokeFor: (address) => {
        for (const s of spokes.values()) if (containsAddress(s.net, address)) return info(s);
        return undefined;
      },
      spoke: (name) => {
        const s = spokes.get(name);
        return s && info(s);
      },
      log: (_l, t) => hubLog.push(t),
    },
    clock,
    hubSettings,
  );
  const info = (s: SpokeNode) => ({ name: s.name, peerId: s.peerId, networks: [s.net], endpoint: { address: `203.0.113.${s.name.slice(6)}`, port: 4500 } });
  const n = opts.spokes ?? 3;
  for (let i = 1; i <= n; i++) {
    const name = `branch${i}`;
    const node: SpokeNode = {
      name,
      peerId: `${name}.mesh`,
      net: `10.${i}.0.0/24`,
      reachable: true,
      routes: new Map(),
      activity: new Map(),
      flows: [],
      licence: new LicenceCounter(findLicenceProfile(opts.licence ?? 'Branch-25'), () => clock.now()),
      log: [],
      connects: 0,
      pinned: 0,
      ctl: undefined as unknown as MeshSpokeController,
    };
    node.ctl = new MeshSpokeController(
      {
        sendToHub: (m) => {
          const w = wire(m);
          delay(10, () => hub.onMeshMessage(name, w));
          return true;
        },
        connect: (spec) => {
          node.connects++;
          const peer = byPeerId.get(spec.peerId)!;
          delay(20, () => {
            if (!peer.reachable) {
              delay(3000, () => node.ctl.tunnelFailed(spec.peerId, 'unreachable', 'no answer to IKE_SA_INIT'));
              return;
            }
            const verdict = peer.ctl.acceptIncoming(node.peerId, { address: `203.0.113.${i}`, port: 4500 }, spec.localNetworks);
            if (!verdict.ok) {
              node.ctl.tunnelFailed(spec.peerId, verdict.reason === 'licence' ? 'auth-failed' : verdict.reason);
              return;
            }
            node.ctl.tunnelUp(spec.peerId, spec.localNetworks, spec.remoteNetworks);
            peer.ctl.tunnelUp(node.peerId, spec.remoteNetworks, spec.localNetworks);
          });
        },
        disconnect: (peerId) => {
          const peer = byPeerId.get(peerId)!;
          delay(10, () => {
            node.ctl.tunnelDown(peerId, 'deleted');
            peer.ctl.tunnelDown(node.peerId, 'deleted by peer');
          });
        },
        cancelConnect: () => {},
        installRoute: (prefix, peerId) => node.routes.set(prefix, peerId),
        withdrawRoute: (prefix) => node.routes.delete(prefix),
        moveFlows: (_local, remote, to): FlowMove[] => {
          const moved: FlowMove[] = [];
          for (const f of node.flows) {
            if (!containsAddress(remote, f.remote.split(':')[0]!) || f.path === to) continue;
            moved.push({ flow: f.flow, from: f.path, to, packetsBefore: f.packets });
            f.path = to;
          }
          return moved;
        },
        pinFlows: (_local, remote) => {
          let n = 0;
          for (const f of node.flows) if (containsAddress(remote, f.remote.split(':')[0]!) && f.path === 'hub') n++;
          node.pinned += n;
          return n;
        },
        lastActivity: (peerId) => node.activity.get(peerId),
        acquireLicence: (holder) => node.licence.acquire('mesh', holder),
        releaseLicence: (holder) => void node.licence.release('mesh', holder),
        log: (_l, t) => node.log.push(t),
      },
      clock,
      { name, peerId: node.peerId, networks: [node.net], publicEndpoint: { address: `203.0.113.${i}`, port: 4500 } },
      { ...DEFAULT_MESH_SETTINGS, operationMode: 'Spoke', ...opts.spoke },
    );
    spokes.set(name, node);
    byPeerId.set(node.peerId, node);
  }
  for (const s of spokes.values()) s.ctl.onHubTunnelUp();
  clock.advance(50);
  const get = (name: string) => spokes.get(name)!;
  return { clock, hub, get, spokes, hubLog };
}

test('egress trigger: B asks the hub, the hub relays to A, A builds the tunnel, both route directly', () => {
  const w = world();
  const a = w.get('branch1');
  const b = w.get('branch2');
  a.flows.push({ flow: 'tcp 10.1.0.5:40000 > 10.2.0.7:5201', local: '10.1.0.5:40000', remote: '10.2.0.7:5201', path: 'hub', packets: 12 });
  b.flows.push({ flow: 'tcp 10.2.0.7:5201 > 10.1.0.5:40000', local: '10.2.0.7:5201', remote: '10.1.0.5:40000', path: 'hub', packets: 11 });
  assert.equal(a.ctl.why('10.2.0.7').reason, 'no-request-yet');

  // The first packet reaches B through the hub.
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  assert.equal(b.ctl.counters.requestsSent, 1);
  assert.equal(b.ctl.why('10.1.0.5').reason, 'waiting-for-hub');
  w.clock.advance(100);

  assert.equal(w.hub.counters.relayed, 1);
  assert.equal(a.ctl.counters.offersReceived, 1);
  assert.equal(a.routes.get('10.2.0.0/24'), 'branch2.mesh');
  assert.equal(b.routes.get('10.1.0.0/24'), 'branch1.mesh');
  assert.equal(a.ctl.tunnels()[0]?.initiator, 'local');
  assert.equal(b.ctl.tunnels()[0]?.initiator, 'remote');
  assert.equal(a.ctl.why('10.2.0.7').path, 'direct');
  assert.equal(b.ctl.why('10.1.0.9').path, 'direct');

  // Session switchover at both ends, with the packets sent before the move.
  const swA = a.ctl.switchovers();
  assert.equal(swA.toMesh, 1);
  assert.equal(swA.records[0]?.packetsBefore, 12);
  assert.equal(a.flows[0]?.path, 'branch2.mesh');
  assert.equal(b.flows[0]?.path, 'branch1.mesh');
  assert.equal(a.licence.usage('mesh').used, 1);
  assert.equal(b.licence.usage('mesh').used, 1);
  assert.equal(w.hub.requestRows()[0]?.status, 'ok', 'the initiator reported success to the hub');

  // Once direct, more traffic does not trigger again.
  b.ctl.onPacketViaHub('10.1.0.6', '10.2.0.7', 'HUB');
  assert.equal(b.ctl.counters.triggers, 1);
});

test('requests are rate-limited per remote host until the hub answers', () => {
  const w = world({ spoke: { initialRateLimitSec: 5 } });
  const b = w.get('branch2');
  for (let i = 0; i < 20; i++) b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  assert.equal(b.ctl.counters.requestsSent, 1);
  assert.equal(b.ctl.counters.rateLimited, 19);
});

test('both ends triggering at once end with one tunnel (the hub relays one request per pair)', () => {
  const w = world();
  const a = w.get('branch1');
  const b = w.get('branch2');
  a.ctl.onPacketViaHub('10.2.0.7', '10.1.0.5', 'HUB');
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(w.hub.counters.relayed, 1);
  assert.equal(w.hub.counters.deduplicated, 1);
  assert.equal(a.connects + b.connects, 1);
  assert.equal(a.ctl.tunnels().length, 1);
  assert.equal(b.ctl.tunnels().length, 1);
  // Both had sent egress requests: the tunnel is still an egress one, not a hub redirect.
  const initiator = [a, b].find((n) => n.ctl.tunnels()[0]?.initiator === 'local')!;
  assert.equal(initiator.ctl.tunnels()[0]?.trigger, 'egress');
});

test('licence exhausted at the initiator: no tunnel, traffic stays on the hub path, denial counted', () => {
  const w = world({ spokes: 4, licence: 'Branch-3' });
  const a = w.get('branch1');
  for (let i = 0; i < 6; i++) a.licence.acquire('mesh', `other${i}`);
  w.get('branch2').ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(a.ctl.tunnels().length, 0);
  assert.equal(a.routes.size, 0);
  assert.equal(a.ctl.counters.licenceDenied, 1);
  assert.equal(a.licence.usage('mesh').denials, 1);
  const why = a.ctl.why('10.2.0.7');
  assert.equal(why.path, 'hub');
  assert.match(why.text, /licence exhausted/);
  assert.equal(w.hub.requestRows()[0]?.status, 'licenceExceeded');
  // Releasing a slot lets the next request through (after the backoff).
  a.licence.release('mesh', 'other0');
  w.clock.advance(10_000);
  w.get('branch2').ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(20_000);
  assert.equal(a.ctl.tunnels()[0]?.state, 'up');
});

test('the responder refuses an incoming mesh tunnel when its own licence is exhausted', () => {
  const w = world({ licence: 'Branch-3' });
  const b = w.get('branch2');
  for (let i = 0; i < 6; i++) b.licence.acquire('mesh', `other${i}`);
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(w.get('branch1').ctl.tunnels().length, 0);
  assert.equal(b.ctl.tunnels().length, 0);
  assert.equal(b.ctl.counters.licenceDenied, 1);
});

test('policy: a forwarding filter deny is refused by the hub and visible at the requester', () => {
  const w = world({ hub: { forwardingFilter: [{ prefix: '10.2.0.0/16', routingTag: 0, action: 'deny' }] } });
  const b = w.get('branch2');
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(w.hub.counters.refused, 1);
  assert.equal(w.get('branch1').ctl.counters.offersReceived, 0);
  const why = b.ctl.why('10.1.0.5');
  assert.equal(why.reason, 'refused');
  assert.match(why.text, /forwarding filter/);
  assert.equal(b.ctl.requestedPrefixes()[0]?.status, 'policyDenied');
});

test('groups: a spoke that does not accept the other group is never offered', () => {
  const w = world();
  w.get('branch1').ctl.updateSettings({ ...DEFAULT_MESH_SETTINGS, operationMode: 'Spoke', groupId: 1, acceptedGroupIds: [1] });
  w.get('branch2').ctl.updateSettings({ ...DEFAULT_MESH_SETTINGS, operationMode: 'Spoke', groupId: 2, acceptedGroupIds: [2] });
  w.clock.advance(50);
  w.get('branch2').ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(w.hub.requestRows()[0]?.status, 'groupNotAccepted');
  assert.equal(w.get('branch1').ctl.tunnels().length, 0);
});

test('idle teardown after the short-hold time; routes withdrawn and flows back on the hub path', () => {
  const w = world({ spoke: { shortHoldSec: 30 } });
  const a = w.get('branch1');
  const b = w.get('branch2');
  a.flows.push({ flow: 'udp 10.1.0.5:5000 > 10.2.0.7:5000', local: '10.1.0.5:5000', remote: '10.2.0.7:5000', path: 'hub', packets: 3 });
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(100);
  assert.equal(a.ctl.tunnels()[0]?.state, 'up');
  // Traffic keeps it alive past one short-hold period.
  w.clock.advance(20_000);
  // Both ends see the packets of the tunnel.
  a.activity.set('branch2.mesh', w.clock.now());
  b.activity.set('branch1.mesh', w.clock.now());
  w.clock.advance(20_000);
  assert.equal(a.ctl.tunnels().length, 1, 'still in use');
  // Then silence.
  w.clock.advance(31_000);
  assert.equal(a.ctl.tunnels().length, 0);
  assert.equal(b.ctl.tunnels().length, 0);
  assert.equal(a.routes.size, 0);
  assert.equal(a.flows[0]?.path, 'hub');
  assert.equal(a.ctl.switchovers().toHub, 1);
  assert.equal(a.licence.usage('mesh').used, 0);
  assert.ok(a.ctl.counters.idleTeardowns + b.ctl.counters.idleTeardowns >= 1);
  // New traffic builds it again.
  w.clock.advance(5_000);
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(200);
  assert.equal(a.ctl.tunnels()[0]?.state, 'up');
});

test('unreachable peer (behind NAT): the attempt fails, the hub path stays, retries back off', () => {
  const w = world({ spoke: { initialRateLimitSec: 2, maxRateLimitSec: 60 } });
  const a = w.get('branch1');
  const b = w.get('branch2');
  b.reachable = false;
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(5000);
  assert.equal(a.ctl.tunnels().length, 0);
  assert.equal(a.ctl.counters.tunnelsFailed, 1);
  const why = a.ctl.why('10.2.0.7');
  assert.equal(why.reason, 'failed');
  assert.match(why.text, /unreachable/);
  assert.equal(a.licence.usage('mesh').used, 0, 'the licence slot is returned');
  assert.equal(w.hub.requestRows()[0]?.status, 'peerUnreachable');
});

test('a node without a public endpoint never asks and says why', () => {
  const w = world();
  const b = w.get('branch2');
  b.ctl.updateIdentity({ name: 'branch2', peerId: 'branch2.mesh', networks: ['10.2.0.0/24'] });
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(100);
  assert.equal(b.ctl.counters.requestsSent, 0);
  assert.equal(b.ctl.requestedPrefixes()[0]?.status, 'notPublic');
  assert.match(b.ctl.why('10.1.0.5').text, /no public endpoint/);
});

test('hub-redirect: the hub tells the sender, which resolves and builds the shortcut', () => {
  const w = world({ hub: { trigger: 'hub-redirect' }, spoke: { trigger: 'hub-redirect' } });
  const a = w.get('branch1');
  for (let i = 0; i < 10; i++) w.hub.onHairpin('branch1', 'branch2', '10.1.0.5', '10.2.0.7');
  assert.equal(w.hub.counters.redirects, 1);
  assert.equal(w.hub.counters.redirectsRateLimited, 9);
  w.clock.advance(200);
  assert.equal(a.routes.get('10.2.0.0/24'), 'branch2.mesh');
  assert.equal(a.ctl.tunnels()[0]?.trigger, 'hub-redirect');
  // In hub-redirect mode the receiving branch does not trigger on its own.
  w.get('branch3').ctl.onPacketViaHub('10.1.0.5', '10.3.0.7', 'HUB');
  assert.equal(w.get('branch3').ctl.counters.triggers, 0);
});

test('mesh messages from a peer that is not a spoke are ignored and counted', () => {
  const w = world();
  w.hub.onMeshMessage('intruder', { type: 'shortcutRequest', requestId: 1, source: '10.1.0.5/32', destination: '10.2.0.0/24', endpoint: { address: '198.51.100.66', port: 4500 }, peerId: 'evil' });
  w.clock.advance(100);
  assert.equal(w.hub.counters.unexpected, 1);
  assert.equal(w.hub.counters.relayed, 0);
  // A spoke receiving a spoke-to-hub message counts it as out of place.
  w.get('branch1').ctl.onMeshMessage({ type: 'resolve', requestId: 1, source: '10.9.0.0/24', destination: '10.1.0.0/24' });
  assert.equal(w.get('branch1').ctl.counters.malformedMessages, 1);
});

test('disabling mesh on a spoke tears its tunnels down and stops triggering', () => {
  const w = world();
  const a = w.get('branch1');
  w.get('branch2').ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(100);
  assert.equal(a.ctl.tunnels().length, 1);
  a.ctl.updateSettings({ ...DEFAULT_MESH_SETTINGS, operationMode: 'Disabled' });
  w.clock.advance(100);
  assert.equal(a.ctl.tunnels().length, 0);
  a.ctl.onPacketViaHub('10.2.0.7', '10.1.0.5', 'HUB');
  assert.equal(a.ctl.counters.triggers, 0);
  assert.equal(a.ctl.why('10.2.0.7').reason, 'mesh-disabled');
});

test('many spokes all talking to each other: one tunnel per pair, every pair direct', () => {
  const n = 12;
  const w = world({ spokes: n, licence: 'Branch-25' });
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= n; j++) {
      if (i === j) continue;
      w.get(`branch${j}`).ctl.onPacketViaHub(`10.${i}.0.5`, `10.${j}.0.7`, 'HUB');
    }
  }
  w.clock.advance(20_000);
  for (let i = 1; i <= n; i++) {
    const s = w.get(`branch${i}`);
    assert.equal(s.ctl.tunnels().length, n - 1, `${s.name} has a tunnel to every other spoke`);
    assert.equal(s.routes.size, n - 1);
    for (let j = 1; j <= n; j++) if (i !== j) assert.equal(s.ctl.why(`10.${j}.0.7`).path, 'direct');
  }
});

test('switchover pin: running flows stay on the hub path, nothing is recorded as moved', () => {
  const w = world({ spoke: { switchover: 'pin' } });
  const a = w.get('branch1');
  a.flows.push({ flow: 'tcp 10.1.0.5:40000 > 10.2.0.7:5201', local: '10.1.0.5:40000', remote: '10.2.0.7:5201', path: 'hub', packets: 12 });
  w.get('branch2').ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB');
  w.clock.advance(100);
  assert.equal(a.ctl.tunnels()[0]?.state, 'up');
  assert.equal(a.pinned, 1);
  assert.equal(a.flows[0]?.path, 'hub');
  assert.equal(a.ctl.switchovers().toMesh, 0);
});

test('Detect-On-VPN-Peers: only traffic through the listed hub peers triggers', () => {
  const w = world({ spoke: { detectOnVpnPeers: ['HUB-A'] } });
  const b = w.get('branch2');
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB-B');
  assert.equal(b.ctl.counters.triggers, 0, 'not a listed peer');
  b.ctl.onPacketViaHub('10.1.0.5', '10.2.0.7', 'HUB-A');
  assert.equal(b.ctl.counters.triggers, 1);
  // Traffic between two hosts of the own LAN, or for another network, never triggers.
  b.ctl.onPacketViaHub('10.2.0.9', '10.2.0.7', 'HUB-A');
  b.ctl.onPacketViaHub('10.1.0.5', '10.9.0.7', 'HUB-A');
  assert.equal(b.ctl.counters.triggers, 1);
});
