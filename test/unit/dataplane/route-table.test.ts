import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RouteTable, routeRows, type NextHop, type Route, type RouteSource } from '../../../src/engine/dataplane/route-table.js';
import { formatPrefix, makePrefix, parseAddress, prefixContains, type Prefix } from '../../../src/engine/dataplane/address.js';
import { RouteError } from '../../../src/engine/dataplane/errors.js';

test('longest prefix wins, then distance, then metric', () => {
  const t = new RouteTable();
  t.add({ prefix: '0.0.0.0/0', source: 'static', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '10.2.0.0/16', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '10.2.0.0/24', source: 'mesh', target: { kind: 'sa', id: 'mesh-b' } });
  t.add({ prefix: '10.2.0.0/24', source: 'static', target: { kind: 'reject' }, distance: 9 });
  assert.deepEqual(t.lookup(parseAddress('10.2.0.7')!)?.target, { kind: 'sa', id: 'mesh-b' });
  assert.deepEqual(t.lookup(parseAddress('10.2.1.7')!)?.target, { kind: 'sa', id: 'hub' });
  assert.equal(t.lookup(parseAddress('10.2.1.7')!)?.source, 'ike');
  assert.equal(t.lookup(parseAddress('192.0.2.1')!)?.source, 'static');
  // lower distance takes over the same prefix
  t.add({ prefix: '10.2.0.0/24', source: 'static', target: { kind: 'lan' }, distance: 1 });
  assert.deepEqual(t.lookup(parseAddress('10.2.0.7')!)?.target, { kind: 'lan' });
  // equal distance: metric decides
  t.add({ prefix: '10.3.0.0/16', source: 'static', target: { kind: 'sa', id: 1 }, metric: 5 });
  t.add({ prefix: '10.3.0.0/16', source: 'static', target: { kind: 'sa', id: 2 }, metric: 2 });
  assert.deepEqual(t.lookup(parseAddress('10.3.9.9')!)?.target, { kind: 'sa', id: 2 });
  assert.equal(t.size, 7);
});

test('add rejects duplicates, replace overwrites, remove takes away and falls back', () => {
  const t = new RouteTable();
  t.add({ prefix: '10.0.0.0/8', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '10.2.0.0/24', source: 'mesh', target: { kind: 'sa', id: 'm1' } });
  assert.throws(() => t.add({ prefix: '10.2.0.0/24', source: 'mesh', target: { kind: 'sa', id: 'm1' } }), RouteError);
  t.replace({ prefix: '10.2.0.0/24', source: 'mesh', target: { kind: 'sa', id: 'm1' }, metric: 3, comment: 'again' });
  assert.equal(t.routesOf('10.2.0.0/24').length, 1);
  assert.equal(t.routesOf('10.2.0.0/24')[0]!.metric, 3);
  assert.equal(t.remove('10.2.0.0/24', 'mesh'), 1);
  assert.deepEqual(t.lookup(parseAddress('10.2.0.1')!)?.target, { kind: 'sa', id: 'hub' }, 'falls back to the hub route');
  assert.equal(t.remove('10.2.0.0/24', 'mesh'), 0);
  assert.equal(t.remove('10.0.0.0/8', 'ike', { kind: 'sa', id: 'other' }), 0);
  assert.equal(t.size, 1);
  assert.throws(() => t.add({ prefix: '10.0.0.0/33', source: 'static', target: { kind: 'lan' } }), RouteError);
  assert.throws(() => t.add({ prefix: 'nonsense', source: 'static', target: { kind: 'lan' } }), RouteError);
  assert.throws(() => t.add({ prefix: '10.0.0.0/8', source: 'static', target: { kind: 'lan' }, distance: 300 }), RouteError);
});

test('removeWhere removes every route into a given SA', () => {
  const t = new RouteTable();
  t.add({ prefix: '10.1.0.0/24', source: 'ike', target: { kind: 'sa', id: 7 } });
  t.add({ prefix: '2001:db8:1::/48', source: 'ike', target: { kind: 'sa', id: 7 } });
  t.add({ prefix: '10.9.0.0/24', source: 'ike', target: { kind: 'sa', id: 8 } });
  const gone = t.removeWhere((r) => r.target.kind === 'sa' && r.target.id === 7);
  assert.equal(gone.length, 2);
  assert.equal(t.size, 1);
  assert.equal(t.lookup(parseAddress('2001:db8:1::5')!), undefined);
});

test('IPv6 longest prefix and lookups straight from a packet buffer', () => {
  const t = new RouteTable();
  t.add({ prefix: '::/0', source: 'static', target: { kind: 'reject' } });
  t.add({ prefix: '2001:db8::/32', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '2001:db8:2::/48', source: 'mesh', target: { kind: 'sa', id: 'b' } });
  t.add({ prefix: '2001:db8:2::7/128', source: 'connected', target: { kind: 'local' } });
  const buf = new Uint8Array(64);
  buf.set(parseAddress('2001:db8:2::7')!, 24);
  assert.deepEqual(t.lookup6(buf, 24)?.target, { kind: 'local' });
  buf.set(parseAddress('2001:db8:2::8')!, 24);
  assert.deepEqual(t.lookup6(buf, 24)?.target, { kind: 'sa', id: 'b' });
  buf.set(parseAddress('2001:db9::1')!, 24);
  assert.deepEqual(t.lookup6(buf, 24)?.target, { kind: 'reject' });
  assert.equal(t.lookup6(buf, 60), undefined, 'out of bounds');
  const b4 = Uint8Array.of(0, 0, 10, 1, 2, 3);
  assert.equal(t.lookup4(b4, 2), undefined, 'no IPv4 routes');
});

test('list for show routes: both families, ordered, best first', () => {
  const t = new RouteTable();
  t.add({ prefix: '10.2.0.0/24', source: 'mesh', target: { kind: 'sa', id: 'm' } });
  t.add({ prefix: '2001:db8::/32', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '10.0.0.0/8', source: 'ike', target: { kind: 'sa', id: 'hub' } });
  t.add({ prefix: '10.2.0.0/24', source: 'static', target: { kind: 'site-directory', directoryId: 'd1' }, distance: 50 });
  t.add({ prefix: '10.1.0.0/24', source: 'connected', target: { kind: 'lan', port: 'lan0' } });
  assert.deepEqual(routeRows(t), [
    ['10.0.0.0/8', 'ike', '20/0', 'SA hub', ''],
    ['10.1.0.0/24', 'connected', '0/0', 'LAN lan0', ''],
    ['10.2.0.0/24', 'mesh', '5/0', 'SA m', ''],
    ['10.2.0.0/24', 'static', '50/0', 'site directory d1', ''],
    ['2001:db8::/32', 'ike', '20/0', 'SA hub', ''],
  ]);
});

// ---- reference comparison (as wireguard-go's allowedips_rand_test against SlowRouter) ----

interface RefRoute {
  prefix: Prefix;
  source: RouteSource;
  target: NextHop;
  distance: number;
  metric: number;
  seq: number;
}

/** The naive router: scan everything, pick longest, then distance, metric, age. */
class SlowRouter {
  routes: RefRoute[] = [];
  seq = 0;
  replace(r: Omit<RefRoute, 'seq'>): void {
    this.remove(r.prefix, r.source, r.target);
    this.routes.push({ ...r, seq: this.seq++ });
  }
  remove(p: Prefix, source: RouteSource, target: NextHop): void {
    this.routes = this.routes.filter(
      (x) => !(formatPrefix(x.prefix) === formatPrefix(p) && x.source === source && JSON.stringify(x.target) === JSON.stringify(target)),
    );
  }
  lookup(addr: Uint8Array): RefRoute | undefined {
    let best: RefRoute | undefined;
    for (const r of this.routes) {
      if (r.prefix.family !== (addr.length === 4 ? 4 : 6) || !prefixContains(r.prefix, addr)) continue;
      if (
        !best ||
        r.prefix.length > best.prefix.length ||
        (r.prefix.length === best.prefix.length &&
          (r.distance < best.distance || (r.distance === best.distance && (r.metric < best.metric || (r.metric === best.metric && r.seq < best.seq)))))
      )
        best = r;
    }
    return best;
  }
}

const sources: RouteSource[] = ['static', 'ike', 'mesh', 'site', 'connected'];

/** Addresses clustered so that prefixes overlap often: a few fixed high bytes, random rest. */
function arbAddr(six: boolean): fc.Arbitrary<Uint8Array> {
  const n = six ? 16 : 4;
  return fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: n, maxLength: n })).map(([hi, b]) => {
    const out = b.slice();
    out[0] = six ? 0x20 : 10;
    out[1] = hi; // four clusters
    return out;
  });
}

function arbOps(six: boolean) {
  const bits = six ? 128 : 32;
  const op = fc.record({
    remove: fc.boolean(),
    addr: arbAddr(six),
    len: fc.oneof(fc.integer({ min: 0, max: bits }), fc.constantFrom(8, 16, 24, bits)),
    source: fc.constantFrom(...sources),
    sa: fc.integer({ min: 0, max: 3 }),
    distance: fc.integer({ min: 0, max: 4 }),
    metric: fc.integer({ min: 0, max: 2 }),
  });
  return fc.tuple(fc.array(op, { minLength: 1, maxLength: 120 }), fc.array(arbAddr(six), { minLength: 1, maxLength: 60 }));
}

for (const six of [false, true]) {
  test(`reference comparison: trie agrees with a linear scan (IPv${six ? 6 : 4}, random add/replace/remove)`, () => {
    fc.assert(
      fc.property(arbOps(six), ([ops, probes]) => {
        const t = new RouteTable();
        const ref = new SlowRouter();
        const addrs: Uint8Array[] = [...probes];
        for (const o of ops) {
          const prefix = makePrefix(o.addr, o.len)!;
          const target: NextHop = { kind: 'sa', id: o.sa };
          addrs.push(o.addr);
          if (o.remove) {
            t.remove(prefix, o.source, target);
            ref.remove(prefix, o.source, target);
          } else {
            t.replace({ prefix, source: o.source, target, distance: o.distance, metric: o.metric });
            ref.replace({ prefix, source: o.source, target, distance: o.distance, metric: o.metric });
          }
        }
        assert.equal(t.size, ref.routes.length);
        for (const a of addrs) {
          const got = t.lookup(a);
          const want = ref.lookup(a);
          const show = (r: Route | RefRoute | undefined) =>
            r && `${formatPrefix(r.prefix)} ${r.source} d${r.distance} m${r.metric} ${JSON.stringify(r.target)}`;
          assert.equal(show(got), show(want));
        }
        // and removing everything leaves an empty trie
        for (const r of t.list()) t.remove(r.prefix, r.source, r.target);
        assert.equal(t.size, 0);
        assert.equal(t.counters().prefixes, 0);
        assert.equal(t.lookup(addrs[0]!), undefined);
      }),
      { numRuns: 300 },
    );
  });
}
