/**
 * The difference of two configs as typed changes, the form in which the engine learns about
 * edits (router.onConfigChange) and in which `compare` prints them.
 */
import { findRowIndex, ownRows, rowId, rowIndexCache, rowKeys, rowsEqual, type ConfigData, type Row, type Schema } from './tree.js';

export type ConfigChange =
  /** A scalar parameter changed. `secret`: old/new hold secrets (hashes or PSKs) and must never be printed. */
  | { kind: 'param'; path: string; old: string; new: string; secret: boolean }
  /** A table row was added. `key` holds the values of the key columns, in key order; `index` is its position in the new table. */
  | { kind: 'row-added'; table: string; key: string[]; row: Row; index: number }
  /** `index` is the row's position in the old table. */
  | { kind: 'row-removed'; table: string; key: string[]; row: Row; index: number }
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
      const ia = new Map<string, { row: Row; index: number }>();
      ra.forEach((r, index) => ia.set(rowId(t, r), { row: r, index }));
      // Rows kept in both, in b's order, with their index in a. Those outside the longest
      // increasing run of a-indices moved: they are reported as removed and added again, so
      // that the row order (which matters, e.g. first match in filters) is part of the diff.
      const kept: { id: string; ai: number; bi: number }[] = [];
      const idsB = new Set<string>();
      rb.forEach((r, bi) => {
        const id = rowId(t, r);
        idsB.add(id);
        const old = ia.get(id);
        if (old) kept.push({ id, ai: old.index, bi });
      });
      const stay = longestIncreasing(kept.map((k) => k.ai));
      const moved = new Set<string>();
      kept.forEach((k, i) => {
        if (!stay.has(i)) moved.add(k.id);
      });
      for (const [index, r] of rb.entries()) {
        const id = rowId(t, r);
        const old = ia.get(id);
        if (!old || moved.has(id)) out.push({ kind: 'row-added', table: path, key: rowKeys(t, r), row: r, index });
        else if (!rowsEqual(old.row, r)) {
          const columns = t.columns.map((c) => c.name).filter((c) => old.row[c] !== r[c]);
          out.push({ kind: 'row-changed', table: path, key: rowKeys(t, r), old: old.row, new: r, columns });
        }
      }
      for (const [index, r] of ra.entries()) {
        const id = rowId(t, r);
        if (!idsB.has(id) || moved.has(id)) out.push({ kind: 'row-removed', table: path, key: rowKeys(t, r), row: r, index });
      }
    }
  }
  return out;
}

/** Positions (into `xs`) of one longest strictly increasing subsequence, O(n log n). */
function longestIncreasing(xs: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(xs.length).fill(-1);
  for (let i = 0; i < xs.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]!]! < xs[i]!) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const out = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) out.add(i);
  return out;
}

/**
 * Applies `changes` (computed against some base) onto `target` in place. Removals and changes
 * first, then additions at their positions (ascending), so that applying a diff of a to b onto
 * a gives b with its row order. Returns the conflicts: places where `target` no longer holds
 * what the change expected (someone else committed there).
 */
export function applyChanges(schema: Schema, target: ConfigData, changes: readonly ConfigChange[]): string[] {
  const conflicts: string[] = [];
  const additions: Extract<ConfigChange, { kind: 'row-added' }>[] = [];
  for (const ch of changes) {
    if (ch.kind === 'param') {
      if ((target.values[ch.path] ?? '') !== ch.old) conflicts.push(ch.path);
      else target.values[ch.path] = ch.new;
      continue;
    }
    if (ch.kind === 'row-added') {
      additions.push(ch);
      continue;
    }
    const t = schema.table(ch.table);
    const rows = ownRows(target, ch.table);
    const idx = findRowIndex(t, rows, ch.key);
    const label = `${ch.table} ${ch.key.join(' ')}`;
    if (ch.kind === 'row-removed') {
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
  additions.sort((x, y) => (x.table < y.table ? -1 : x.table > y.table ? 1 : x.index - y.index));
  for (const ch of additions) {
    const t = schema.table(ch.table);
    const rows = ownRows(target, ch.table);
    if (findRowIndex(t, rows, ch.key) >= 0) {
      conflicts.push(`${ch.table} ${ch.key.join(' ')}`);
      continue;
    }
    const at = Number.isInteger(ch.index) && ch.index >= 0 ? Math.min(ch.index, rows.length) : rows.length;
    rows.splice(at, 0, { ...ch.row });
    rowIndexCache.delete(rows);
  }
  return conflicts;
}

/** The change that undoes `ch`. */
export function invertChange(ch: ConfigChange): ConfigChange {
  switch (ch.kind) {
    case 'param':
      return { ...ch, old: ch.new, new: ch.old };
    case 'row-added':
      return { kind: 'row-removed', table: ch.table, key: ch.key, row: ch.row, index: ch.index };
    case 'row-removed':
      return { kind: 'row-added', table: ch.table, key: ch.key, row: ch.row, index: ch.index };
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
