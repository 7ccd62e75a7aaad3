/**
 * The difference of two configs as typed changes, the form in which the engine learns about
 * edits (router.onConfigChange) and in which `compare` prints them.
 */
import { findRowIndex, rowId, rowIndexCache, rowKeys, rowsEqual, type ConfigData, type Row, type Schema } from './tree.js';

export type ConfigChange =
  /** A scalar parameter changed. `secret`: old/new hold secrets (hashes or PSKs) and must never be printed. */
  | { kind: 'param'; path: string; old: string; new: string; secret: boolean }
  /** A table row was added. `key` holds the values of the key columns, in key order. */
  | { kind: 'row-added'; table: string; key: string[]; row: Row }
  | { kind: 'row-removed'; table: string; key: string[]; row: Row }
  /** A row kept its key; `columns` lists the columns whose values differ. */
  | { kind: 'row-changed'; table: string; key: string[]; old: Row; new: Row; columns: string[] };

/** Changes from `a` to `b`, in menu order (parameters and tables as declared; rows in table order). */
export function diffConfigs(schema: Schema, a: ConfigData, b: ConfigData): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const [path, n] of schema.nodes) {
    if (!schema.isConfigPath(path)) continue;
    if (n.node.kind === 'param') {
      const o = a.values[path] ?? '';
      const v = b.values[path] ?? '';
      if (o !== v) out.push({ kind: 'param', path, old: o, new: v, secret: n.node.type.kind === 'secret' });
    } else if (n.node.kind === 'table') {
      const t = n.node;
      const ra = a.tables[path] ?? [];
      const rb = b.tables[path] ?? [];
      if (ra === rb) continue;
      const ia = new Map<string, Row>();
      for (const r of ra) ia.set(rowId(t, r), r);
      const ib = new Set<string>();
      for (const r of rb) {
        const id = rowId(t, r);
        ib.add(id);
        const old = ia.get(id);
        if (!old) out.push({ kind: 'row-added', table: path, key: rowKeys(t, r), row: r });
        else if (!rowsEqual(old, r)) {
          const columns = t.columns.map((c) => c.name).filter((c) => old[c] !== r[c]);
          out.push({ kind: 'row-changed', table: path, key: rowKeys(t, r), old, new: r, columns });
        }
      }
      for (const r of ra) if (!ib.has(rowId(t, r))) out.push({ kind: 'row-removed', table: path, key: rowKeys(t, r), row: r });
    }
  }
  return out;
}

/**
 * Applies `changes` (computed against some base) onto `target` in place. Returns the conflicts:
 * places where `target` no longer holds what the change expected (someone else committed there).
 */
export function applyChanges(schema: Schema, target: ConfigData, changes: readonly ConfigChange[]): string[] {
  const conflicts: string[] = [];
  for (const ch of changes) {
    if (ch.kind === 'param') {
      if ((target.values[ch.path] ?? '') !== ch.old) conflicts.push(ch.path);
      else target.values[ch.path] = ch.new;
      continue;
    }
    const t = schema.table(ch.table);
    const rows = (target.tables[ch.table] ??= []);
    const idx = findRowIndex(t, rows, ch.key);
    const label = `${ch.table} ${ch.key.join(' ')}`;
    if (ch.kind === 'row-added') {
      if (idx >= 0) conflicts.push(label);
      else {
        rows.push({ ...ch.row });
        rowIndexCache.get(rows)?.set(rowId(t, ch.row), rows.length - 1);
      }
    } else if (ch.kind === 'row-removed') {
      if (idx < 0 || !rowsEqual(rows[idx]!, ch.row)) conflicts.push(label);
      else {
        rows.splice(idx, 1);
        rowIndexCache.delete(rows);
      }
    } else {
      if (idx < 0 || !rowsEqual(rows[idx]!, ch.old)) conflicts.push(label);
      else rows[idx] = { ...ch.new };
    }
  }
  return conflicts;
}

/** The change that undoes `ch`. */
export function invertChange(ch: ConfigChange): ConfigChange {
  switch (ch.kind) {
    case 'param':
      return { ...ch, old: ch.new, new: ch.old };
    case 'row-added':
      return { kind: 'row-removed', table: ch.table, key: ch.key, row: ch.row };
    case 'row-removed':
      return { kind: 'row-added', table: ch.table, key: ch.key, row: ch.row };
    case 'row-changed':
      return { ...ch, old: ch.new, new: ch.old };
  }
}

/** Undo list of a change list: inverted, in reverse order. */
export function invertChanges(changes: readonly ConfigChange[]): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (let i = changes.length - 1; i >= 0; i--) out.push(invertChange(changes[i]!));
  return out;
}
