import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTION_OWNERS,
  LICENCE_PROFILES,
  MAX_MESH_TUNNELS,
  ROOT_MENU,
  STATUS_VIEW_OWNERS,
  validateValue,
  type AnyNode,
  type MenuNode,
  type ValueType,
} from '../../../menus/index.js';
import { contextFor, defaultConfig, getSchema } from '../../../src/config/index.js';

interface Visit {
  path: string;
  node: AnyNode | MenuNode;
}

function walk(m: MenuNode, base: string, out: Visit[]): Visit[] {
  for (const c of m.children) {
    const p = `${base}/${c.name}`;
    out.push({ path: p, node: c });
    if (c.kind === 'menu') walk(c, p, out);
  }
  return out;
}

const all = walk(ROOT_MENU, '', []);
const schema = getSchema();
const defaults = defaultConfig(schema);
const ctx = contextFor(schema, defaults);

function checkType(where: string, type: ValueType, problems: string[]): void {
  if (type.kind === 'reference' || (type.kind === 'list' && type.of.kind === 'reference')) {
    const target = type.kind === 'reference' ? type.table : (type.of as { table: string }).table;
    const t = schema.tables.get(target);
    if (!t) problems.push(`${where}: reference target ${target} is no table`);
    else if (t.keys.length !== 1) problems.push(`${where}: reference target ${target} must have one key column`);
  }
  if (type.kind === 'integer' && !(type.min <= type.max)) problems.push(`${where}: empty range`);
  if (type.kind === 'enum' && type.values.length === 0) problems.push(`${where}: enum without values`);
  if (type.kind === 'string' && type.maxLength <= 0) problems.push(`${where}: maxLength`);
}

test('every node has help text and a name; sibling names are unique', () => {
  const problems: string[] = [];
  const visitMenu = (m: MenuNode, path: string) => {
    const names = new Set<string>();
    for (const c of m.children) {
      const p = `${path}/${c.name}`;
      if (!c.name || !/^[A-Za-z][A-Za-z0-9-]*$/.test(c.name)) problems.push(`${p}: bad name`);
      if (!c.help || c.help.trim().length < 3) problems.push(`${p}: no help text`);
      if (names.has(c.name.toLowerCase())) problems.push(`${p}: duplicate name`);
      names.add(c.name.toLowerCase());
      if (c.kind === 'menu') visitMenu(c, p);
    }
  };
  visitMenu(ROOT_MENU, '');
  assert.deepEqual(problems, []);
  assert.ok(all.length > 80, `the tree has ${all.length} nodes`);
});

test('every parameter and column has a type and a default valid for that type', () => {
  const problems: string[] = [];
  for (const { path, node } of all) {
    if (node.kind === 'param') {
      checkType(path, node.type, problems);
      if (typeof node.default !== 'string') problems.push(`${path}: no default`);
      else if (node.type.kind !== 'secret') {
        const r = validateValue(node.type, node.default, ctx);
        if (!r.ok) problems.push(`${path}: default '${node.default}' invalid: ${r.reason}`);
        else if (r.value !== node.default) problems.push(`${path}: default '${node.default}' not canonical ('${r.value}')`);
      } else if (node.default !== '') problems.push(`${path}: a secret has no default`);
    }
    if (node.kind === 'table') {
      if (node.keys.length === 0) problems.push(`${path}: no key columns`);
      node.keys.forEach((k, i) => {
        if (node.columns[i]?.name !== k) problems.push(`${path}: key ${k} must be column ${i + 1}`);
      });
      const cols = new Set<string>();
      for (const c of node.columns) {
        const w = `${path} {${c.name}}`;
        if (!c.help) problems.push(`${w}: no help`);
        if (cols.has(c.name.toLowerCase())) problems.push(`${w}: duplicate column`);
        cols.add(c.name.toLowerCase());
        checkType(w, c.type, problems);
        if (node.keys.includes(c.name)) {
          if (c.type.kind === 'secret' || c.type.kind === 'list') problems.push(`${w}: key column of kind ${c.type.kind}`);
          continue;
        }
        if (c.type.kind === 'secret') {
          if (c.default !== '') problems.push(`${w}: a secret has no default`);
          continue;
        }
        const r = validateValue(c.type, c.default, ctx);
        if (!r.ok) problems.push(`${w}: default '${c.default}' invalid: ${r.reason}`);
        else if (r.value !== c.default) problems.push(`${w}: default not canonical`);
      }
      for (const row of node.defaultRows ?? []) for (const k of Object.keys(row)) if (!cols.has(k.toLowerCase())) problems.push(`${path}: default row column ${k} unknown`);
      if (!(node.maxRows > 0)) problems.push(`${path}: maxRows`);
    }
    if (node.kind === 'action') for (const a of node.args) {
      if (!a.help) problems.push(`${path} ${a.name}: no help`);
      checkType(`${path} ${a.name}`, a.type, problems);
    }
  }
  assert.deepEqual(problems, []);
});

test('every action id and status view id resolves to the catalog, and every catalog id is used', () => {
  const actions = all.filter((v) => v.node.kind === 'action').map((v) => (v.node as { action: string }).action);
  const views = all.filter((v) => v.node.kind === 'status').map((v) => (v.node as { view: string }).view);
  for (const a of actions) assert.ok(a in ACTION_OWNERS, `action id ${a} has no owner`);
  for (const v of views) assert.ok(v in STATUS_VIEW_OWNERS, `status view id ${v} has no owner`);
  for (const a of Object.keys(ACTION_OWNERS)) assert.ok(actions.includes(a), `catalog action ${a} is declared by no node`);
  for (const v of Object.keys(STATUS_VIEW_OWNERS)) assert.ok(views.includes(v), `catalog view ${v} is declared by no node`);
  assert.equal(new Set(actions).size, actions.length, 'action ids are unique');
  for (const v of all) {
    if (v.node.kind === 'action') assert.ok(v.path.startsWith('/Other/'), `${v.path}: actions live under /Other`);
    if (v.node.kind === 'param' || v.node.kind === 'table') assert.ok(v.path.startsWith('/Setup/'), `${v.path}: settings live under /Setup`);
    if (v.node.kind === 'status') assert.ok(v.path.startsWith('/Status/') || v.path.startsWith('/Firmware/'), `${v.path}`);
  }
});

test('the default config passes its own integrity check (references resolve)', async () => {
  const { integrityProblems } = await import('../../../src/config/index.js');
  assert.deepEqual(integrityProblems(schema, defaults), []);
});

test('the Mesh menu carries the LCOS parameter names of issue 6', () => {
  const mesh = schema.node('/Setup/VPN/IKEv2/Mesh');
  assert.ok(mesh && mesh.kind === 'menu');
  const names = mesh.children.map((c) => c.name);
  for (const n of [
    'Operation-Mode',
    'VPN-Peer-Template',
    'Admin-Distance',
    'Initial-Rate-Limit-Sec',
    'Max-Rate-Limit-Sec',
    'Request-Validity-Sec',
    'Group-ID',
    'Accepted-Group-IDs',
    'Detect-On-VPN-Peers',
    'Forwarding-Filter',
    'Trigger',
    'Switchover',
  ])
    assert.ok(names.includes(n), `missing ${n}`);
  const om = schema.params.get('/Setup/VPN/IKEv2/Mesh/Operation-Mode')!;
  assert.deepEqual(om.type.kind === 'enum' && om.type.values, ['Disabled', 'Hub', 'Spoke']);
  const tpl = schema.params.get('/Setup/VPN/IKEv2/Mesh/VPN-Peer-Template')!;
  assert.equal(tpl.type.kind === 'reference' && tpl.type.table, '/Setup/VPN/IKEv2/Peers');
  const ff = schema.tables.get('/Setup/VPN/IKEv2/Mesh/Forwarding-Filter')!;
  assert.deepEqual(ff.columns.map((c) => c.name).slice(0, 3), ['Prefix', 'Rtg-Tag', 'Action']);
  assert.ok(schema.tables.get('/Setup/VPN/IKEv2/Peers')!.columns.some((c) => c.name === 'SH-Time'));
  assert.ok(schema.node('/Status/VPN/Mesh/Connected-Prefixes'));
  assert.ok(schema.node('/Status/VPN/Mesh/Requested-Prefixes'));
});

test('licence profiles follow DESIGN.md: separate caps, mesh at most 200', () => {
  for (const p of LICENCE_PROFILES) {
    assert.ok(p.meshTunnels <= MAX_MESH_TUNNELS, p.model);
    if (p.centralSite) assert.ok(p.vpnTunnels >= 100 && p.vpnTunnels <= 250, p.model);
  }
  const pairs = LICENCE_PROFILES.filter((p) => !p.centralSite).map((p) => `${p.vpnTunnels}/${p.meshTunnels}`);
  for (const want of ['3/6', '5/10', '25/50', '50/100', '100/200']) assert.ok(pairs.includes(want), want);
});
