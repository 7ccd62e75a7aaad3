/**
 * The config tree derived from the menus: a flat map of parameter paths to canonical values,
 * and of table paths to rows. `Schema` indexes the menu tree by absolute path.
 */
import {
  ROOT_MENU,
  type AnyNode,
  type ColumnDef,
  type MenuNode,
  type ParamNode,
  type TableNode,
  type ValueType,
} from '../../menus/index.js';

/** One table row: column name -> canonical value. */
export type Row = Record<string, string>;

/** The whole configuration. Paths are absolute menu paths, e.g. `/Setup/VPN/IKEv2/Mesh/Trigger`. */
export interface ConfigData {
  values: Record<string, string>;
  tables: Record<string, Row[]>;
}

export interface IndexedNode {
  path: string;
  node: AnyNode;
  parent: string | undefined;
}

/** The menu tree indexed by path (case-sensitive canonical paths). */
export class Schema {
  readonly root: MenuNode;
  readonly nodes = new Map<string, IndexedNode>();
  readonly params = new Map<string, ParamNode>();
  readonly tables = new Map<string, TableNode>();

  constructor(root: MenuNode = ROOT_MENU) {
    this.root = root;
    this.nodes.set('/', { path: '/', node: root, parent: undefined });
    const walk = (m: MenuNode, base: string) => {
      for (const c of m.children) {
        const p = `${base}/${c.name}`;
        this.nodes.set(p, { path: p, node: c, parent: base === '' ? '/' : base });
        if (c.kind === 'param') this.params.set(p, c);
        if (c.kind === 'table') this.tables.set(p, c);
        if (c.kind === 'menu') walk(c, p);
      }
    };
    walk(root, '');
  }

  node(path: string): AnyNode | undefined {
    return this.nodes.get(path)?.node;
  }

  table(path: string): TableNode {
    const t = this.tables.get(path);
    if (!t) throw new Error(`schema: no table ${path}`);
    return t;
  }

  /** Parameters and tables under /Setup only are configuration. */
  isConfigPath(path: string): boolean {
    return path.startsWith('/Setup/');
  }
}

let defaultSchema: Schema | undefined;
export function getSchema(): Schema {
  return (defaultSchema ??= new Schema());
}

export function columnOf(table: TableNode, name: string): ColumnDef | undefined {
  return table.columns.find((c) => c.name === name);
}

export function isSecretType(type: ValueType): boolean {
  return type.kind === 'secret';
}

/** The identity of a row: its key values, lowercased (keys match case-insensitively). */
export function rowId(table: TableNode, row: Row): string {
  return table.keys.map((k) => (row[k] ?? '').toLowerCase()).join('\u0000');
}

export function keyIdOf(keys: readonly string[]): string {
  return keys.map((k) => k.toLowerCase()).join('\u0000');
}

export function rowKeys(table: TableNode, row: Row): string[] {
  return table.keys.map((k) => row[k] ?? '');
}

/** A full row: every column, defaults where `partial` has none. */
export function completeRow(table: TableNode, partial: Readonly<Record<string, string>>): Row {
  const row: Row = {};
  for (const c of table.columns) row[c.name] = partial[c.name] ?? c.default;
  return row;
}

/** A fresh config: every parameter at its default, tables with their default rows. */
export function defaultConfig(schema: Schema = getSchema(), overrides: Record<string, string> = {}): ConfigData {
  const values: Record<string, string> = {};
  const tables: Record<string, Row[]> = {};
  for (const [p, n] of schema.params) if (schema.isConfigPath(p)) values[p] = n.default;
  for (const [p, tn] of schema.tables) if (schema.isConfigPath(p)) tables[p] = (tn.defaultRows ?? []).map((r) => completeRow(tn, r));
  for (const [p, v] of Object.entries(overrides)) if (p in values) values[p] = v;
  return { values, tables };
}

/**
 * Which tables of a config an edit may change in place. A deep clone owns all its tables; a
 * shallow draft (`draftOf`) shares the row arrays of its base until an edit takes a table over
 * (`ownRows`), so an edit of one row copies one table, not the whole config. Ownership belongs
 * to one config object: a draft that became the running config hands nothing on to the next
 * draft. Rows themselves are never mutated: an edit replaces the row object.
 */
const ownedTables = new WeakMap<ConfigData, Set<string>>();

export function cloneConfig(c: Readonly<ConfigData>): ConfigData {
  const tables: Record<string, Row[]> = {};
  for (const [p, rows] of Object.entries(c.tables)) tables[p] = rows.map((r) => ({ ...r }));
  const out = { values: { ...c.values }, tables };
  ownedTables.set(out, new Set(Object.keys(tables)));
  return out;
}

/** A cheap editable copy of `base`: values copied, tables shared until edited. */
export function draftOf(base: Readonly<ConfigData>): ConfigData {
  const out = { values: { ...base.values }, tables: { ...base.tables } };
  ownedTables.set(out, new Set());
  return out;
}

/** The rows of a table of `draft`, safe to change in place (copied first unless this draft owns them). */
export function ownRows(draft: ConfigData, tablePath: string): Row[] {
  let owned = ownedTables.get(draft);
  if (!owned) ownedTables.set(draft, (owned = new Set()));
  const rows = draft.tables[tablePath];
  if (rows && owned.has(tablePath)) return rows;
  const copy = rows ? rows.slice() : [];
  owned.add(tablePath);
  draft.tables[tablePath] = copy;
  return copy;
}

export function rowsEqual(a: Row, b: Row): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export function configsEqual(a: ConfigData, b: ConfigData): boolean {
  const va = Object.keys(a.values);
  if (va.length !== Object.keys(b.values).length) return false;
  if (!va.every((k) => a.values[k] === b.values[k])) return false;
  const ta = Object.keys(a.tables);
  if (ta.length !== Object.keys(b.tables).length) return false;
  for (const k of ta) {
    const ra = a.tables[k]!;
    const rb = b.tables[k];
    if (!rb || ra.length !== rb.length) return false;
    for (let i = 0; i < ra.length; i++) if (!rowsEqual(ra[i]!, rb[i]!)) return false;
  }
  return true;
}

/** Row id -> index, per rows array; kept up to date by the edits below, rebuilt when unknown. */
export const rowIndexCache = new WeakMap<readonly Row[], Map<string, number>>();

function rowIndex(t: TableNode, rows: readonly Row[]): Map<string, number> {
  let m = rowIndexCache.get(rows);
  if (!m || m.size !== rows.length) {
    m = new Map();
    rows.forEach((r, i) => m!.set(rowId(t, r), i));
    rowIndexCache.set(rows, m);
  }
  return m;
}

export function findRowIndex(t: TableNode, rows: readonly Row[], keys: readonly string[]): number {
  const id = keyIdOf(keys);
  const i = rowIndex(t, rows).get(id);
  if (i === undefined) return -1;
  if (rows[i] && rowId(t, rows[i]) === id) return i;
  // A row changed behind the cache's back: rebuild.
  rowIndexCache.delete(rows);
  return rowIndex(t, rows).get(id) ?? -1;
}

