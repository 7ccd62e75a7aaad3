/**
 * Attaches an Engine to a Router: configuration changes reach the engine as a diff
 * (refused before the commit when the engine could not apply them), and the engine's
 * state appears in the shell through show topics, /Status views, /Other actions and
 * trace topics. The engine stays ignorant of all of it.
 */
import type { Engine } from '../engine/engine.js';
import type { ForwardTrace } from '../engine/dataplane/seams.js';
import { formatNextHop } from '../engine/dataplane/route-table.js';
import { formatPrefix } from '../engine/dataplane/address.js';
import type { Cell, OutputBlock } from '../shell/session-api.js';
import { CommitRejectedError } from '../config/index.js';
import { engineConfigFrom } from './engine-config.js';
import { pingTool } from './ping-tool.js';
import { bindSites } from './sites-binding.js';
import { SITE_PEER_PREFIX, SITE_RESPONDER_PEER } from '../engine/sites/concentrator.js';
import type { Router } from './router.js';

export function dur(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

function table(title: string, columns: string[], rows: Cell[][]): OutputBlock {
  return { kind: 'table', title, columns, rows };
}

export interface EngineBinding {
  /** Removes every registration (the router may outlive the engine). */
  unbind(): void;
}

export function bindEngine(router: Router, engine: Engine): EngineBinding {
  const undo: (() => void)[] = [];
  const clock = engine.clock;

  // ---- configuration --------------------------------------------------------------------
  const mapCtx = { configDir: router.configDir };
  const initial = engineConfigFrom(router.running(), mapCtx);
  engine.apply(initial.config);
  for (const p of initial.problems) router.log('vpn', `configuration not applied: ${p}`);
  undo.push(
    router.onConfigChange({
      prepare(set) {
        const mapped = engineConfigFrom(set.after, mapCtx);
        if (mapped.problems.length) throw new CommitRejectedError(mapped.problems.join('; '));
      },
      apply(set) {
        engine.apply(engineConfigFrom(set.after, mapCtx).config);
        sites.update(set.after);
      },
    }),
  );
  // The site directory's backend is opened beside the commit (I/O), with its show topic and views.
  const sites = bindSites(router, engine);
  undo.push(() => void sites.unbind());

  // ---- rows ------------------------------------------------------------------------------
  const tunnelTraffic = (peerId: string) => {
    const st = engine.datapath.tunnelStats(meshTunnelName(engine, peerId));
    return { bytes: st ? st.bytesIn + st.bytesOut : 0, packets: st ? st.packetsIn + st.packetsOut : 0 };
  };
  const vpnRows = (): Cell[][] => {
    const snap = engine.ike.snapshot();
    return snap.peers
      // Static tunnels only: mesh tunnels are in `show mesh`, site tunnels in `show sites`.
      .filter((p) => !p.peer.startsWith('mesh') && !p.peer.startsWith(SITE_PEER_PREFIX) && p.peer !== SITE_RESPONDER_PEER)
      .map((p) => [
        p.peer,
        p.state.toUpperCase(),
        p.localGateway || '-',
        p.remoteGateway || '-',
        p.localNetworks.join(',') || '-',
        p.remoteNetworks.join(',') || '-',
        p.proposal || '-',
        p.state === 'up' ? dur(p.uptimeMs) : '-',
        p.bytesIn,
        p.bytesOut,
        p.packetsIn,
        p.packetsOut,
        p.rekeys,
        p.childRekeys,
        p.lastError ?? '-',
      ]);
  };
  const ikeRows = (): Cell[][] =>
    engine.ike.snapshot().ikeSas.map((s) => [
      s.ikeId,
      s.peer,
      s.local,
      s.remote,
      s.initiator ? 'I' : 'R',
      s.state.toUpperCase(),
      s.proposal,
      s.remoteId ?? '-',
      dur(s.establishedForMs),
      dur(s.rekeyInMs),
      `${s.spiI}/${s.spiR}`,
    ]);
  const childRows = (): Cell[][] =>
    engine.ike.snapshot().ikeSas.flatMap((s) =>
      s.children.map((c) => [c.childId, s.ikeId, s.peer, c.state.toUpperCase(), c.spiIn, c.spiOut, c.proposal, c.localTs.join(','), c.remoteTs.join(','), c.bytesIn, c.bytesOut, c.packetsIn, c.packetsOut, dur(c.rekeyInMs), dur(c.expireInMs)]),
    );
  const meshRows = (): Cell[][] =>
    engine.spoke.tunnels().map((t) => {
      const last = Math.max(engine.datapath.lastActivity(meshTunnelName(engine, t.peerId)) ?? 0, t.upAt ?? 0);
      return [
        t.peerId,
        `${t.endpoint.address}:${t.endpoint.port}`,
        t.remoteNetworks.join(','),
        t.trigger,
        t.initiator,
        t.state.toUpperCase(),
        dur(clock.now() - t.createdAt),
        t.state === 'up' ? dur(clock.now() - last) : '-',
        tunnelTraffic(t.peerId).packets,
        tunnelTraffic(t.peerId).bytes,
        t.switchovers,
      ];
    });
  const switchoverRows = (): Cell[][] =>
    engine.spoke
      .switchovers()
      .records.slice(-200)
      .map((r) => [formatClock(router, r.at, clock.now()), r.flow, r.from, r.to, r.packetsBefore]);
  const requestedRows = (): Cell[][] =>
    engine.config.mesh.operationMode === 'Hub'
      ? engine.hub.requestRows().map((r) => [r.prefix, `${r.requester}>${r.target}`, r.requests, formatClock(router, r.lastRequestAt, clock.now()), r.direction, r.reason ? `${r.status}: ${r.reason}` : r.status, '-', r.validUntil ? dur(r.validUntil - clock.now()) : '-'])
      : engine.spoke.requestedPrefixes().map((r) => [r.prefix, '-', r.requests, r.lastRequestAt === undefined ? '-' : formatClock(router, r.lastRequestAt, clock.now()), r.direction, r.status, Math.ceil(r.rateLimitedForMs / 1000), Math.ceil(r.validForMs / 1000)]);
  const routeRows = (): Cell[][] =>
    engine.routes.list().map((r) => [formatPrefix(r.prefix), r.source, formatNextHop(r.target), r.distance, r.metric, dur(clock.now() - r.installedAt), r.comment ?? '']);
  const flowRows = (): Cell[][] =>
    engine.flows.list().slice(0, 1000).map((f) => [f.protocol, f.source, f.destination, String(f.path), f.packetsOut, f.packetsIn, f.bytesOut + f.bytesIn, dur(f.idleMs), f.switchovers]);
  const licencePairs = (): [string, Cell][] => {
    const v = engine.licence.usage('vpn');
    const m = engine.licence.usage('mesh');
    return [
      ['Model', engine.licence.profile.name],
      ['VPN-Tunnels', `${v.used} / ${v.cap}`],
      ['VPN-Peak', v.peak],
      ['VPN-Denials', v.denials],
      ['Mesh-Tunnels', `${m.used} / ${m.cap}`],
      ['Mesh-Peak', m.peak],
      ['Mesh-Denials', m.denials],
      ['Last-Mesh-Denial', m.lastDenial ? `${formatClock(router, m.lastDenial.at, clock.now())} (${m.lastDenial.holder})` : '-'],
    ];
  };

  const VPN_COLS = ['Peer', 'State', 'Local-Gateway', 'Remote-Gateway', 'Local-Networks', 'Remote-Networks', 'Proposal', 'Uptime', 'Rx-Bytes', 'Tx-Bytes', 'Rx-Pkts', 'Tx-Pkts', 'Rekeys', 'Child-Rekeys', 'Last-Error'];
  const IKE_COLS = ['ID', 'Peer', 'Local', 'Remote', 'Role', 'State', 'Proposal', 'Remote-ID', 'Established', 'Rekey-In', 'SPIi/SPIr'];
  const CHILD_COLS = ['ID', 'IKE-ID', 'Peer', 'State', 'SPI-In', 'SPI-Out', 'Proposal', 'Local-TS', 'Remote-TS', 'Bytes-In', 'Bytes-Out', 'Pkts-In', 'Pkts-Out', 'Rekey-In', 'Expires'];
  const MESH_COLS = ['Peer', 'Public-Address', 'Networks', 'Trigger', 'Initiator', 'State', 'Age', 'Idle', 'Packets', 'Bytes', 'Switchovers'];
  const REQ_COLS = ['Prefix', 'Peer', 'Requests', 'Last-Request', 'Direction', 'Status', 'Rate-Limited-For', 'Valid-For'];
  const ROUTE_COLS = ['Prefix', 'Source', 'Via', 'Distance', 'Metric', 'Age', 'Comment'];
  const FLOW_COLS = ['Protocol', 'Source', 'Destination', 'Path', 'Pkts-Out', 'Pkts-In', 'Bytes', 'Idle', 'Switchovers'];

  // ---- show topics -----------------------------------------------------------------------
  const shows: [string, string, (args: readonly string[]) => OutputBlock[]][] = [
    ['vpn', 'Static tunnels: state, gateways, networks, proposal, uptime, traffic since the tunnel came up (across rekeys), IKE and child rekeys, last error', () => [table('VPN peers', VPN_COLS, vpnRows())]],
    ['ike', 'IKE SAs with SPIs, roles, proposals and timers', () => [table('IKE SAs', IKE_COLS, ikeRows())]],
    ['ipsec', 'Child SAs (ESP) with SPIs, selectors, traffic and remaining lifetimes', () => [table('IPsec SAs', CHILD_COLS, childRows())]],
    [
      'mesh',
      'Mesh tunnels; `show mesh why <address>` explains the path to an address; `show mesh requests` the request table',
      (args) => {
        if (args[0] === 'why') {
          const a = args[1];
          if (!a) return [{ kind: 'error', code: 'syntax', message: 'show mesh why <address>' }];
          const w = engine.spoke.why(a);
          return [{ kind: 'keyvalue', title: `path to ${a}`, pairs: [['Path', w.path], ['Reason', w.reason], ['Detail', w.text]] }];
        }
        if (args[0] === 'requests') return [table('Requested prefixes', REQ_COLS, requestedRows())];
        const c = engine.spoke.counters;
        const head: [string, Cell][] = [
          ['Operation-Mode', engine.config.mesh.operationMode],
          ['Trigger', engine.config.mesh.trigger],
          ['Mesh-Tunnels', `${engine.licence.usage('mesh').used} / ${engine.licence.cap('mesh')}`],
          ['Established', c.tunnelsUp],
          ['Failed', c.tunnelsFailed],
          ['Idle-Teardowns', c.idleTeardowns],
          ['Switched-Flows', c.switchedFlows],
        ];
        return [{ kind: 'keyvalue', title: 'mesh', pairs: head }, table('Mesh tunnels', MESH_COLS, meshRows())];
      },
    ],
    [
      'switchovers',
      'Flows moved from the hub path onto mesh tunnels (and back), with totals',
      () => {
        const s = engine.spoke.switchovers();
        return [
          table('Switchovers', ['Time', 'Flow', 'From', 'To', 'Packets-Before'], switchoverRows()),
          { kind: 'keyvalue', pairs: [['To-Mesh', s.toMesh], ['To-Hub', s.toHub], ['Packets-Before-Switch', s.packetsBefore]] },
        ];
      },
    ],
    [
      'forwarding',
      'Forwarder and ESP counters: packets to tunnels, to the LAN, hub hairpins, drops by reason',
      () => {
        const f = engine.forwarder.counters;
        const e = engine.datapath.counters;
        const pairs: [string, Cell][] = [
          ['Received', f.received],
          ['To-Tunnel', f.toTunnel],
          ['To-LAN', f.toLan],
          ['To-Local', f.toLocal],
          ['Hairpin', f.hairpin],
          ['Site-Queued', f.siteQueued],
          ['Site-Released', f.siteReleased],
          ['ICMP-Sent', f.icmpSent],
          ['MSS-Clamped', f.mssClamped],
          ['ESP-Tx-Packets', e.txPackets],
          ['ESP-Tx-Bytes', e.txBytes],
          ['ESP-Rx-Packets', e.rxPackets],
          ['ESP-Rx-Bytes', e.rxBytes],
          ['ESP-Rx-Dropped', e.rxDropped],
          ['ESP-Tx-Failed', e.txNoSa + e.txSealFailed + e.txSendFailed],
        ];
        const drops = Object.entries(f.drops).filter(([, n]) => n > 0);
        return [{ kind: 'keyvalue', title: 'forwarding', pairs }, table('Drops', ['Reason', 'Packets'], drops.map(([r, n]) => [r, n]))];
      },
    ],
    ['licence', 'Licence usage against the caps: used/cap, peak and denials for VPN and mesh tunnels', () => [{ kind: 'keyvalue', title: 'licence', pairs: licencePairs() }]],
    ['routes', 'The route table: connected, static, VPN, mesh and site-directory routes', () => [table('Routes', ROUTE_COLS, routeRows())]],
    ['sessions', 'Sessions (the flow table) with their path, traffic and switchovers', () => [table('Sessions', FLOW_COLS, flowRows())]],
  ];
  for (const [name, help, run] of shows) undo.push(router.registerShow(name, { help, run: (args) => run(args) }));

  // ---- /Status views ----------------------------------------------------------------------
  const views: [string, () => { rows: Cell[][] } | { pairs: Record<string, Cell> }][] = [
    [
      'vpn.peers',
      () => {
        const snap = engine.ike.snapshot();
        const children = (peer: string) => snap.ikeSas.filter((s) => s.peer === peer).reduce((n, s) => n + s.children.filter((c) => c.state === 'installed').length, 0);
        return { rows: snap.peers.filter((p) => p.peer !== SITE_RESPONDER_PEER).map((p) => [p.peer, engine.config.peers.find((x) => x.name === p.peer)?.kind ?? 'mesh', p.state.toUpperCase(), p.remoteGateway, dur(p.uptimeMs), p.bytesIn, p.bytesOut, children(p.peer), p.lastError ?? '']) };
      },
    ],
    ['vpn.ike-sas', () => ({ rows: engine.ike.snapshot().ikeSas.map((s) => [s.ikeId, s.peer, s.local, s.remote, s.initiator ? 'I' : 'R', s.state.toUpperCase(), s.proposal, dur(s.establishedForMs), dur(s.rekeyInMs)]) })],
    ['vpn.child-sas', () => ({ rows: childRows().map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[7]!, r[8]!, r[9]!, r[10]!]) })],
    ['mesh.tunnels', () => ({ rows: meshRows().map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!, r[7]!, r[9]!, r[10]!]) })],
    [
      'mesh.connected-prefixes',
      () => ({
        rows: engine.spoke
          .tunnels()
          .filter((t) => t.state === 'up')
          .flatMap((t) => t.remoteNetworks.map((n) => [n, t.peerId, `${t.endpoint.address}:${t.endpoint.port}`, dur(clock.now() - (t.upAt ?? t.createdAt)), dur(clock.now() - Math.max(engine.datapath.lastActivity(meshTunnelName(engine, t.peerId)) ?? 0, t.upAt ?? 0)), tunnelTraffic(t.peerId).packets])),
      }),
    ],
    ['mesh.requested-prefixes', () => ({ rows: requestedRows() })],
    ['mesh.switchovers', () => ({ rows: switchoverRows() })],
    [
      'mesh.statistics',
      () => {
        const c = engine.spoke.counters;
        return { pairs: { Attempts: c.offersReceived, Established: c.tunnelsUp, Failed: c.tunnelsFailed, 'Idle-Teardowns': c.idleTeardowns, 'Licence-Denials': c.licenceDenied, 'Policy-Denials': c.refusalsReceived + engine.hub.counters.refused, Spoofed: c.malformedMessages + engine.hub.counters.unexpected + engine.meshCounters.refusedFromNonHub + engine.meshCounters.malformed } };
      },
    ],
    ['licence.usage', () => ({ pairs: Object.fromEntries(licencePairs().filter(([k]) => ['Model', 'VPN-Tunnels', 'Mesh-Tunnels', 'Mesh-Peak', 'Mesh-Denials'].includes(k))) })],
    ['routes', () => ({ rows: engine.routes.list().map((r) => [formatPrefix(r.prefix), 0, formatNextHop(r.target), r.source, r.distance, dur(clock.now() - r.installedAt)]) })],
    ['flows', () => ({ rows: engine.flows.list().slice(0, 1000).map((f) => [`${f.protocol} ${f.source} > ${f.destination}`, String(f.path), f.packetsOut + f.packetsIn, f.bytesOut + f.bytesIn, dur(f.idleMs)]) })],
  ];
  for (const [id, fn] of views) undo.push(router.registerStatusView(id, fn));

  // ---- actions ---------------------------------------------------------------------------
  undo.push(
    router.registerAction('vpn.connect', (args) => {
      const ok = engine.ike.connect(args['peer']!);
      return [{ kind: 'text', text: ok ? `connecting ${args['peer']}` : `${args['peer']}: no such active peer, or no remote gateway to connect to` }];
    }),
    router.registerAction('vpn.disconnect', (args) => {
      const names = args['peer'] === '*' ? engine.ike.peerNames() : [args['peer']!];
      const done = names.filter((n) => engine.ike.disconnect(n));
      return [{ kind: 'text', text: done.length ? `disconnected ${done.join(', ')}` : 'nothing to disconnect' }];
    }),
    router.registerAction('vpn.rekey', (args) => {
      const sa = engine.ike.sasOf(args['peer']!).find((s) => s.state === 'established');
      if (!sa) return [{ kind: 'text', text: `${args['peer']}: no established IKE SA` }];
      sa.queueIkeRekey();
      return [{ kind: 'text', text: `rekeying ${args['peer']}` }];
    }),
    router.registerAction('mesh.clear', (args) => {
      const tunnels = engine.spoke.tunnels().filter((t) => args['peer'] === '*' || t.peerId === args['peer']);
      for (const t of tunnels) engine.deleteMeshTunnel(t.peerId, 'cleared by the operator');
      return [{ kind: 'text', text: tunnels.length ? `clearing ${tunnels.map((t) => t.peerId).join(', ')}` : 'no mesh tunnel to clear' }];
    }),
    router.registerAction('mesh.why', (args) => {
      const w = engine.spoke.why(args['address']!);
      return [{ kind: 'keyvalue', pairs: [['Path', w.path], ['Reason', w.reason], ['Detail', w.text]] }];
    }),
  );

  undo.push(router.registerTool('ping', pingTool(engine)));

  // ---- traces and the event log ------------------------------------------------------------
  undo.push(router.registerTraceTopic('vpn', 'IKE SAs and child SAs: up, down, rekeys, failures'));
  undo.push(router.registerTraceTopic('mesh', 'Mesh requests, offers, tunnels, switchovers, teardowns'));
  undo.push(router.registerTraceTopic('licence', 'Licence denials'));
  undo.push(router.registerTraceTopic('packet', 'The path of every forwarded packet (slow: for troubleshooting)'));
  const ev = engine.events;
  undo.push(
    ev.on('ike-up', (e) => router.log('vpn', `IKE SA ${e.ikeId} with ${e.peer} up: ${e.local} <-> ${e.remote} ${e.proposal}${e.natLocal || e.natRemote ? ' (NAT)' : ''}`)),
    ev.on('ike-down', (e) => router.log('vpn', `IKE SA ${e.ikeId} with ${e.peer} down: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`)),
    ev.on('child-up', (e) => router.log('vpn', `child SA ${e.childId} with ${e.peer} up: ${e.localTs.join(',')} <-> ${e.remoteTs.join(',')} ${e.proposal}`)),
    ev.on('child-rekeyed', (e) => router.log('vpn', `child SA ${e.childId} with ${e.peer} rekeyed as ${e.newChildId}`)),
    ev.on('auth-failed', (e) => router.log('vpn', `authentication with ${e.peer} failed (${e.side}): ${e.detail}`)),
    ev.on('peer-retry', (e) => router.log('vpn', `${e.peer} via ${e.gateway} failed: ${e.reason}; retry in ${dur(e.retryInMs)}`)),
    ev.on('peer-failover', (e) => router.log('vpn', `${e.peer}: gateway ${e.from} does not answer, trying ${e.to}`)),
    ev.on('log', (e) => router.log(e.topic, e.text)),
  );
  // The packet trace costs per packet: on only while someone traces 'packet'.
  const packetTrace = (t: ForwardTrace) => {
    const path = t.drop ? `dropped (${t.drop}${t.icmp ? `, sent ICMP ${t.icmp}` : ''})` : t.egress ? (t.egress.kind === 'sa' ? `into SA ${t.egress.id}${t.hairpin ? ' (hub hairpin)' : ''}` : t.egress.kind === 'lan' ? `to LAN ${t.egress.port}` : 'to this node') : '';
    const from = t.ingress.kind === 'sa' ? `SA ${t.ingress.id}` : t.ingress.kind === 'lan' ? `LAN ${t.ingress.port}` : 'this node';
    router.trace('packet', `${t.src} > ${t.dst} proto ${t.protocol} from ${from}${t.route ? ` route ${t.route}` : ''} ${path}`);
  };
  undo.push(
    router.onTraceActive('packet', (active) => {
      engine.forwarder.trace = active ? packetTrace : undefined;
    }),
  );

  return {
    unbind() {
      for (const u of undo.splice(0).reverse()) u();
    },
  };
}

function meshTunnelName(engine: Engine, peerId: string): string {
  return engine.meshName(peerId);
}

function formatClock(router: Router, at: number, now: number): string {
  const d = new Date(router.clock.wallTime().getTime() - (now - at));
  return d.toISOString().replace('T', ' ').slice(0, 19);
}
