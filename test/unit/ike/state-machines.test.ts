import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHILD_TRANSITIONS, ChildSa, type ChildSaState } from '../../../src/engine/ike/child-sa.js';
import { IKE_TRANSITIONS, type IkeSaState } from '../../../src/engine/ike/ike-sa.js';
import { TwoParty } from './harness.js';

test('IKE SA transition table: closed, terminal state has no exit, every state reachable from created', () => {
  const states = Object.keys(IKE_TRANSITIONS) as IkeSaState[];
  assert.deepEqual(states, ['created', 'connecting', 'established', 'rekeying', 'rekeyed', 'deleting', 'destroyed']);
  for (const s of states) for (const t of IKE_TRANSITIONS[s]) assert.ok(states.includes(t));
  assert.deepEqual(IKE_TRANSITIONS.destroyed, []);
  for (const s of states) if (s !== 'destroyed') assert.ok(IKE_TRANSITIONS[s].includes('destroyed'), `${s} can be destroyed`);
  const seen = new Set<IkeSaState>(['created']);
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of [...seen]) for (const t of IKE_TRANSITIONS[s]) if (!seen.has(t)) (seen.add(t), (changed = true));
  }
  assert.equal(seen.size, states.length);
});

test('child SA transition table and checked setState', () => {
  const states = Object.keys(CHILD_TRANSITIONS) as ChildSaState[];
  assert.deepEqual(states, ['created', 'installing', 'installed', 'rekeying', 'rekeyed', 'deleting', 'deleted']);
  const log: string[] = [];
  const c = new ChildSa(1000, (_c, from, to) => log.push(`${from}->${to}`));
  assert.throws(() => c.setState('installed'), { name: 'IkeStateError' });
  c.setState('installing');
  c.setState('installed');
  c.setState('rekeying');
  c.setState('installed'); // rekey failed
  c.setState('rekeyed');
  assert.throws(() => c.setState('installed'), { name: 'IkeStateError' });
  c.setState('deleting');
  c.setState('deleted');
  assert.throws(() => c.setState('created'), { name: 'IkeStateError' });
  assert.deepEqual(log, ['created->installing', 'installing->installed', 'installed->rekeying', 'rekeying->installed', 'installed->rekeyed', 'rekeyed->deleting', 'deleting->deleted']);
});

test('an IKE SA refuses illegal transitions and reports legal ones as events', () => {
  const h = new TwoParty();
  const states: string[] = [];
  h.i.engine.events.on('ike-state', (e) => states.push(`${e.from}->${e.to}`));
  const { sa } = h.establish();
  assert.deepEqual(states, ['created->connecting', 'connecting->established']);
  assert.throws(() => sa.setState('connecting'), { name: 'IkeStateError' });
  assert.throws(() => sa.setState('created'), { name: 'IkeStateError' });
  sa.destroy('deleted-locally');
  assert.throws(() => sa.setState('established'), { name: 'IkeStateError' });
  assert.deepEqual(states.slice(2), ['established->destroyed']);
});
