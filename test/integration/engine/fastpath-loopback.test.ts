/**
 * Two full engines whose UDP endpoints are native fast paths on 127.0.0.1 (no TUN, no root):
 * IKE runs over the fast path's socket (punted up), the SAs IKE derives are installed in the
 * addon, packets of the JavaScript path are sealed by it and opened by the other side's
 * receive thread, which hands them up decrypted. Both suites, a child rekey under traffic
 * (make before break: nothing lost), NAT rebinding of the peer, and garbage thrown at the
 * real socket (counted drops, the tunnel keeps working).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { RealClock } from '../../../src/engine/clock.js';
import { MemoryLanPort } from '../../../src/engine/dataplane/memory-lan-port.js';
import { emptyEngineConfig, Engine, type EngineConfig } from '../../../src/engine/engine.js';
import { FastPath } from '../../../src/engine/fastpath/fast-path.js';

async function waitFor(pred: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An IPv4 UDP packet src -> dst with `size` octets in all, payload filled with `fill`. */
function udp4(src: string, dst: string, size: number, fill: number): Uint8Array {
  const p = new Uint8Array(size).fill(fill);
  p[0] = 0x45;
  p[2] = size >> 8;
  p[3] = size & 0xff;
  p[8] = 64;
  p[9] = 17;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const cs = ~sum & 0xffff;
  p[10] = cs >> 8;
  p[11] = cs & 0xff;
  p[20] = 0x30;
  p[21] = 0x39;
  p[22] = 0x13;
  p[23] = 0x89;
  p[24] = (size - 20) >> 8;
  p[25] = (size - 20) & 0xff;
  p[26] = p[27] = 0;
  return p;
}

interface Node {
  engine: Engine;
  fp: FastPath;
  lan: MemoryLanPort;
}

function node(name: string): Node {
  const opened = FastPath.open({ address: '127.0.0.1', port: 0 });
  if (!('fastPath' in opened)) throw new Error(opened.reason);
  const fp = opened.fastPath;
  const lan = new MemoryLanPort({ name: 'lan', mtu: 1500 });
  const engine = new Engine({ clock: new RealClock(), transport: fp.transport, lanPorts: [lan] });
  fp.start(engine);
  return { engine, fp, lan };
}

function config(name: string, lan: string, peer: EngineConfig['peers'][number]): EngineConfig {
  return { ...emptyEngineConfig(name), lanAddresses: [lan], peers: [peer] };
}

async function pair(esp: string): Promise<{ a: Node; b: Node; stop: () => Promise<void> }> {
  const a = node('a');
  const b = node('b');
  const common = { psk: 'fast path loopback key', ikeProposals: ['aes256gcm16-prfsha256-x25519'], espProposals: [esp], dpdIntervalMs: 0 };
  b.engine.apply(config('b', '10.2.0.1/24', { ...common, kind: 'static', name: 'A', role: 'responder', localId: 'b.test', remoteId: 'a.test', localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'] }));
  a.engine.apply(config('a', '10.1.0.1/24', { ...common, kind: 'static', name: 'B', role: 'initiator', remoteGateways: [`127.0.0.1:${b.fp.native.port}`], localId: 'a.test', remoteId: 'b.test', localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] }));
  await waitFor(() => a.engine.datapath.hasTunnel('B') && b.engine.datapath.hasTunnel('A'));
  const stop = async () => {
    for (const n of [a, b]) {
      await n.engine.stop();
      n.fp.stop();
    }
  };
  return { a, b, stop };
}

for (const esp of ['chacha20poly1305', 'aes256gcm16', 'aes128gcm16']) {
  test(`fast path on loopback (${esp}): IKE through the native socket, ESP sealed and opened natively, counters, child rekey under traffic`, async () => {
    const { a, b, stop } = await pair(esp);
    try {
      assert.ok(a.fp.nativeStats().inboundSas >= 1 && a.fp.nativeStats().outboundSas >= 1, 'SAs installed in the addon');
      // 200 packets A -> B, every size class of padding.
      for (let i = 0; i < 200; i++) a.lan.inject(udp4('10.1.0.5', '10.2.0.7', 60 + (i % 4) + i, i & 0xff));
      await waitFor(() => b.lan.sent.length >= 200);
      const got = b.lan.drainSent();
      assert.equal(got.length, 200);
      for (let i = 0; i < 200; i++) {
        assert.equal(got[i]!.length, 60 + (i % 4) + i);
        assert.equal(got[i]![8], 62, 'TTL decremented once per node');
        assert.equal(got[i]![40], i & 0xff, 'payload intact');
      }
      assert.equal(b.fp.nativeStats().espRxPackets, 200);
      assert.equal(a.fp.nativeStats().espTxPackets, 200);
      // show ipsec / show vpn counters come from the addon
      const outSpi = a.engine.ike.allSas()[0]!.children.values().next().value!.spiOut;
      assert.deepEqual(a.engine.datapath.usage(outSpi, 'out')?.packets, 200);
      b.fp.sync();
      assert.equal(b.engine.datapath.tunnelStats('A')?.packetsIn, 200, 'tunnel traffic pulled from the addon');

      // A child rekey while packets keep coming: old SAs keep working until deleted, nothing lost.
      const sa = a.engine.ike.allSas()[0]!;
      const child = [...sa.children.values()][0]!;
      sa.queueChildRekey(child);
      let sent = 0;
      const deadline = Date.now() + 8_000;
      while ((child.state !== 'deleted' || sent < 400) && Date.now() < deadline) {
        a.lan.inject(udp4('10.1.0.5', '10.2.0.7', 200, sent & 0xff));
        sent++;
        await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal(child.state, 'deleted', 'the old child SA was deleted');
      await waitFor(() => b.lan.sent.length >= sent);
      assert.equal(b.lan.drainSent().length, sent, `all ${sent} packets across the rekey arrived`);
      const st = b.fp.nativeStats();
      assert.equal(st.dropAuthFailed + st.dropReplay + st.dropMalformed, 0);
      assert.equal(a.fp.nativeStats().outboundSas, 1, 'the old outbound SA left the addon');
      assert.equal(b.fp.nativeStats().inboundSas, 1, 'the old inbound SA left the addon');
    } finally {
      await stop();
    }
  });
}

test('fast path on loopback: garbage and replays at the real socket are counted drops; the peer moving its port is followed (NAT rebinding)', async () => {
  const { a, b, stop } = await pair('chacha20poly1305');
  const sock = dgram.createSocket('udp4');
  try {
    const inSpi = [...b.engine.ike.allSas()[0]!.children.values()][0]!.spiIn;
    const spiBytes = [inSpi >>> 24, (inSpi >>> 16) & 0xff, (inSpi >>> 8) & 0xff, inSpi & 0xff];
    let n = 0;
    for (let i = 0; i < 300; i++) {
      const len = 8 + ((i * 37) % 300);
      const d = Buffer.alloc(len, i);
      if (i % 2 === 0) Buffer.from(spiBytes).copy(d, 0); // the live SPI with garbage behind it
      sock.send(d, b.fp.native.port, '127.0.0.1');
      n++;
    }
    await waitFor(() => {
      const s = b.fp.nativeStats();
      return s.dropMalformed + s.dropAuthFailed + s.puntUdp >= n;
    });
    const s = b.fp.nativeStats();
    assert.ok(s.dropAuthFailed > 0 && s.dropMalformed > 0, JSON.stringify(s));
    // the tunnel still works
    a.lan.inject(udp4('10.1.0.5', '10.2.0.7', 100, 1));
    await waitFor(() => b.lan.sent.length === 1);

    // B's view of A's address changes (as after a NAT rebinding): outbound ESP follows it.
    const outSpi = [...b.engine.ike.allSas()[0]!.children.values()][0]!.spiOut;
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    const seen: Buffer[] = [];
    sink.on('message', (m) => seen.push(m));
    b.engine.datapath.updateRemote(outSpi, { address: '127.0.0.1', port: sink.address().port });
    b.lan.inject(udp4('10.2.0.7', '10.1.0.5', 100, 2));
    await waitFor(() => seen.length === 1);
    assert.equal(seen[0]!.readUInt32BE(0), outSpi, 'ESP of the outbound SA arrived at the new endpoint');
    sink.close();
  } finally {
    sock.close();
    await stop();
  }
});
