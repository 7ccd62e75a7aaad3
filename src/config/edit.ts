/**
 * Edits of a config draft, each validated against the menu types. A failing edit throws
 * (InvalidValueError, NotFoundError, ConflictError) and leaves the draft unchanged.
 */
import { ConflictError, InvalidValueError, NotFoundError } from './errors.js';
import { checkValue, contextFor } from './validate.js';
import { columnOf, completeRow, findRowIndex, ownRows, rowId, rowIndexCache, type ConfigData, type Row, type Schema } from './tree.js';

export { findRowIndex };

/** Marks a positional value that keeps the row's current value (`*`). */
export const KEEP: unique symbol = Symbol('keep');
export type CellInput = string | typeof KEEP;

export function setParam(schema: Schema, draft: ConfigData, path: string, input: string): string {
  const n = schema.params.get(path);
  if (!n || !schema.isConfigPath(path)) throw new NotFoundError(`no parameter ${path}`);
  const v = checkValue(path, n.type, input, contextFor(schema, draft));
  draft.values[path] = v;
  return v;
}

/** Canonical key values for a table (validated with the key columns' types). */
export function canonicalKeys(schema: Schema, draft: ConfigData, tablePath: string, keyInputs: readonly string[]): string[] {
  const t = schema.table(tablePath);
  if (keyInputs.length !== t.keys.length) throw new InvalidValueError(`${tablePath} key`, `needs ${t.keys.length} key value(s): ${t.keys.join(' ')}`, t.keys.join(' '));
  const ctx = contextFor(schema, draft);
  return t.keys.map((k, i) => {
    const col = columnOf(t, k)!;
    const v = checkValue(`${tablePath} ${k}`, col.type, keyInputs[i]!, ctx);
    if (v === '') throw new InvalidValueError(`${tablePath} ${k}`, 'a key may not be empty', k);
    return v;
  });
}

/**
 * Sets a row: `values` maps column names (non-key) to input or KEEP. `mode` 'upsert' creates a
 * missing row (LCOS `set`), 'create' refuses an existing key (`add`), 'update' refuses a missing one.
 * Returns whether the row was created.
 */
export function setRow(
  schema: Schema,
  draft: ConfigData,
  tablePath: string,
  keyInputs: readonly string[],
  values: ReadonlyMap<string, CellInput>,
  mode: 'upsert' | 'create' | 'update',
): boolean {
  const t = schema.tables.get(tablePath);
  if (!t || !schema.isConfigPath(tablePath)) throw new NotFoundError(`no table ${tablePath}`);
  const keys = canonicalKeys(schema, draft, tablePath, keyInputs);
  const rows = draft.tables[tablePath] ?? [];
  const idx = findRowIndex(t, rows, keys);
  if (idx >= 0 && mode === 'create') throw new ConflictError(`${tablePath}: row ${keys.join(' ')} exists (use set to change it)`);
  if (idx < 0 && mode === 'update') throw new NotFoundError(`${tablePath}: no row ${keys.join(' ')}`);
  if (idx < 0 && rows.length >= t.maxRows) throw new ConflictError(`${tablePath}: table full (${t.maxRows} rows)`);
  const base: Row = idx >= 0 ? { ...rows[idx]! } : completeRow(t, {});
  t.keys.forEach((k, i) => (base[k] = keys[i]!));
  const ctx = contextFor(schema, draft);
  for (const [name, input] of values) {
    const col = columnOf(t, name);
    if (!col) throw new NotFoundError(`${tablePath}: no column ${name}`);
    if (t.keys.includes(name)) throw new InvalidValueError(`${tablePath} ${name}`, 'a key column is set by the row key', 'the row key');
    if (input === KEEP) continue;
    base[name] = checkValue(`${tablePath} ${name}`, col.type, input, ctx);
  }
  // Validated above: from here on nothing throws, so the draft changes in place.
  const target = ownRows(draft, tablePath);
  if (idx >= 0) target[idx] = base;
  else {
    target.push(base);
    rowIndexCache.get(target)?.set(rowId(t, base), target.length - 1);
  }
  return idx < 0;
}

/** Deletes one row, or all with '*'. Returns the number deleted. */
export function deleteRows(schema: Schema, draft: ConfigData, tablePath: string, keyInputs: readonly string[] | '*'): number {
  const t = schema.tables.get(tablePath);
  if (!t || !schema.isConfigPath(tablePath)) throw new NotFoundError(`no table ${tablePath}`);
  const rows = draft.tables[tablePath] ?? [];
  if (keyInputs === '*') {
    const n = rows.length;
    const target = ownRows(draft, tablePath);
    target.length = 0;
    rowIndexCache.delete(target);
    return n;
  }
  const keys = canonicalKeys(schema, draft, tablePath, keyInputs);
  const idx = findRowIndex(t, rows, keys);
  if (idx < 0) throw new NotFoundError(`${tablePath}: no row ${keys.join(' ')}`);
  const target = ownRows(draft, tablePath);
  target.splice(idx, 1);
  rowIndexCache.delete(target);
  return 1;
}

/** Resets a parameter, a table (to its default rows) or every setting under a menu path. */
export function resetPath(schema: Schema, draft: ConfigData, path: string): number {
  let n = 0;
  const prefix = path === '/' ? '/' : `${path}/`;
  for (const [p, node] of schema.params) {
    if (schema.isConfigPath(p) && (p === path || p.startsWith(prefix))) {
      draft.values[p] = node.default;
      n++;
    }
  }
  for (const [p, t] of schema.tables) {
    if (schema.isConfigPath(p) && (p === path || p.startsWith(prefix))) {
      const rows = ownRows(draft, p);
      rows.splice(0, rows.length, ...(t.defaultRows ?? []).map((r) => completeRow(t, r)));
      rowIndexCache.delete(rows);
      n++;
    }
  }
  if (n === 0) throw new NotFoundError(`nothing to reset at ${path}`);
  return n;
}
