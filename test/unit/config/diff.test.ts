import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyChanges,
  cloneConfig,
  configsEqual,
  defaultConfig,
  deleteRows,
  diffConfigs,
  draftOf,
  getSchema,
  invertChanges,
  setParam,
  setRow,
  type ConfigData,
} from '../../../src/config/index.js';

const schema = getSchema();
const FF = '/Setup/VPN/IKEv2/Mesh/Forwarding-Filter';
const PEERS = '/Setup/VPN/IKEv2/Peers';

type Op =
  | { op: 'add'; a: number; tag: number; deny: boolean }
  | { op: 'del'; n: number }
  | { op: 'peer'; n: number; sh: number }
  | { op: 'delpeer'; n: number }
  | { op: 'param'; g: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), a: fc.integer({ min: 0, max: 20 }), tag: fc.integer({ min: 0, max: 2 }), deny: fc.boolean() }),
  fc.record({ op: fc.constant('del' as const), n: fc.nat() }),
  fc.record({ op: fc.constant('peer' as const), n: fc.integer({ min: 0, max: 6 }), sh: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ op: fc.constant('delpeer' as const), n: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant('param' as const), g: fc.integer({ min: 0, max: 9 }) }),
);

function run(base: ConfigData, ops: Op[], shallow: boolean): ConfigData {
  const d = shallow ? draftOf(base) : cloneConfig(base);
  for (const o of ops) {
    try {
      if (o.op === 'add') setRow(schema, d, FF, [`10.${o.a}.0.0/16`, String(o.tag)], new Map([['Action', o.deny ? 'deny' : 'allow']]), 'upsert');
      else if (o.op === 'del') {
        const rows = d.tables[FF]!;
        if (rows.length) deleteRows(schema, d, FF, [rows[o.n % rows.length]!['Prefix']!, rows[o.n % rows.length]!['Rtg-Tag']!]);
      } else if (o.op === 'peer') setRow(schema, d, PEERS, [`P${o.n}`], new Map([['SH-Time', String(o.sh)]]), 'upsert');
      else if (o.op === 'delpeer') deleteRows(schema, d, PEERS, [`P${o.n}`]);
      else setParam(schema, d, '/Setup/VPN/IKEv2/Mesh/Group-ID', String(o.g));
    } catch (err) {
      assert.equal((err as Error).name, 'NotFoundError');
    }
  }
  return d;
}

test('diff then apply turns a into b with row order kept; the inverted diff turns b back into a', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 25 }), fc.array(opArb, { maxLength: 25 }), fc.boolean(), (opsA, opsB, shallow) => {
      const a = run(defaultConfig(schema), opsA, false);
      const aJson = JSON.stringify(a);
      const b = run(a, opsB, shallow);
      assert.equal(JSON.stringify(a), aJson, 'editing a draft of a leaves a alone');
      const changes = diffConfigs(schema, a, b);
      const forward = cloneConfig(a);
      assert.deepEqual(applyChanges(schema, forward, changes), []);
      assert.ok(configsEqual(forward, b), 'a + diff = b');
      const back = cloneConfig(b);
      assert.deepEqual(applyChanges(schema, back, invertChanges(changes)), []);
      assert.ok(configsEqual(back, a), 'b - diff = a');
      if (changes.length === 0) assert.ok(configsEqual(a, b));
    }),
    { numRuns: 800 },
  );
});

test('applying a diff onto a config that changed the same place reports the conflict', () => {
  const a = defaultConfig(schema);
  const b = cloneConfig(a);
  setParam(schema, b, '/Setup/VPN/IKEv2/Mesh/Group-ID', '1');
  setRow(schema, b, PEERS, ['X'], new Map(), 'create');
  const other = cloneConfig(a);
  setParam(schema, other, '/Setup/VPN/IKEv2/Mesh/Group-ID', '2');
  setRow(schema, other, PEERS, ['x'], new Map([['SH-Time', '5']]), 'create');
  const conflicts = applyChanges(schema, other, diffConfigs(schema, a, b));
  assert.deepEqual(conflicts, ['/Setup/VPN/IKEv2/Mesh/Group-ID', `${PEERS} X`]);
});
