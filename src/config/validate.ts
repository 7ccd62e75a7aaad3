/**
 * Validation of edits and of whole configs against the menu types. An edit that fails throws
 * InvalidValueError naming the parameter and the allowed values; nothing is changed.
 */
import { describeType, validateValue, type ValueContext, type ValueType } from '../../menus/index.js';
import { InvalidValueError } from './errors.js';
import { hashPassword, isPasswordHash } from './secrets.js';

/** A stored value of a hash-type secret must be empty or a crypto_pwhash string, never a plain password. */
function storedHashOk(type: ValueType, v: string): boolean {
  return !(type.kind === 'secret' && type.storage === 'hash') || v === '' || isPasswordHash(v);
}
import { columnOf, completeRow, defaultConfig, rowId, type ConfigData, type Row, type Schema } from './tree.js';

/** Reference lookups against one config (keys match case-insensitively; single-key tables). */
export function contextFor(schema: Schema, data: ConfigData): ValueContext {
  const cache = new Map<string, Map<string, string>>();
  const index = (tablePath: string) => {
    let m = cache.get(tablePath);
    if (!m) {
      m = new Map();
      const t = schema.tables.get(tablePath);
      if (t) for (const r of data.tables[tablePath] ?? []) m.set((r[t.keys[0]!] ?? '').toLowerCase(), r[t.keys[0]!] ?? '');
      cache.set(tablePath, m);
    }
    return m;
  };
  return {
    rowKey: (tablePath, key) => index(tablePath).get(key.toLowerCase()),
    hasRow: (tablePath, key) => index(tablePath).has(key.toLowerCase()),
  };
}

/**
 * Validates `input` for a parameter or column called `label` and returns the value to store.
 * Hash-stored secrets are hashed here (an input that already is a crypto_pwhash string is kept).
 */
export function checkValue(label: string, type: ValueType, input: string, ctx: ValueContext): string {
  if (input.length > 4096) throw new InvalidValueError(label, `value too long (${input.length} characters)`, describeType(type));
  if (type.kind === 'secret' && type.storage === 'hash' && isPasswordHash(input)) return input;
  const r = validateValue(type, input, ctx);
  if (!r.ok) throw new InvalidValueError(label, r.reason, describeType(type));
  if (type.kind === 'secret' && type.storage === 'hash' && r.value !== '') return hashPassword(r.value);
  return r.value;
}

/** Whole-config checks a commit needs beyond per-edit validation: references, unique keys, row limits. */
export function integrityProblems(schema: Schema, data: ConfigData): string[] {
  const problems: string[] = [];
  const ctx = contextFor(schema, data);
  const refOk = (type: ValueType, v: string): boolean => {
    if (type.kind === 'reference') return v === '' ? type.allowEmpty : ctx.hasRow!(type.table, v);
    if (type.kind === 'list' && type.of.kind === 'reference') {
      const of = type.of;
      return v === '' || v.split(',').every((x) => ctx.hasRow!(of.table, x));
    }
    return true;
  };
  for (const [p, n] of schema.params) {
    if (!schema.isConfigPath(p)) continue;
    const v = data.values[p] ?? '';
    if (!refOk(n.type, v)) problems.push(`${p}: '${v}' refers to no row of ${refTarget(n.type)}`);
  }
  for (const [p, t] of schema.tables) {
    if (!schema.isConfigPath(p)) continue;
    const rows = data.tables[p] ?? [];
    if (rows.length > t.maxRows) problems.push(`${p}: ${rows.length} rows, at most ${t.maxRows}`);
    const seen = new Set<string>();
    const refCols = t.columns.filter((c) => c.type.kind === 'reference' || (c.type.kind === 'list' && c.type.of.kind === 'reference'));
    for (const r of rows) {
      const id = rowId(t, r);
      if (seen.has(id)) problems.push(`${p}: duplicate row ${t.keys.map((k) => r[k]).join(' ')}`);
      seen.add(id);
      for (const c of refCols) {
        const v = r[c.name] ?? '';
        if (!refOk(c.type, v)) problems.push(`${p} ${t.keys.map((k) => r[k]).join(' ')} ${c.name}: '${v}' refers to no row of ${refTarget(c.type)}`);
      }
    }
  }
  return problems;
}

function refTarget(type: ValueType): string {
  if (type.kind === 'reference') return type.table;
  if (type.kind === 'list' && type.of.kind === 'reference') return type.of.table;
  return '?';
}

/**
 * Checks data read from a file: only known paths, every value valid for its type, integrity.
 * Missing parameters take their defaults (a newer version may add some). Returns the config or
 * the list of problems.
 */
export function checkLoadedConfig(schema: Schema, raw: unknown): { data?: ConfigData; problems: string[] } {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problems: ['config is not an object'] };
  const r = raw as Record<string, unknown>;
  const values = r['values'];
  const tables = r['tables'];
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return { problems: ['config.values is not an object'] };
  if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) return { problems: ['config.tables is not an object'] };
  const data = defaultConfig(schema);
  const noCtx: ValueContext = {};
  const plainType = (type: ValueType): ValueType => (type.kind === 'secret' && type.storage === 'hash' ? { ...type, maxLength: 1024 } : type);
  for (const [p, v] of Object.entries(values as Record<string, unknown>)) {
    const n = schema.params.get(p);
    if (!n || !schema.isConfigPath(p)) {
      problems.push(`unknown parameter ${p}`);
      continue;
    }
    if (typeof v !== 'string') {
      problems.push(`${p}: not a string`);
      continue;
    }
    const res = validateValue(plainType(n.type), v, noCtx);
    if (!storedHashOk(n.type, v)) problems.push(`${p}: a password must be stored as a hash`);
    else if (!res.ok || res.value !== v) problems.push(`${p}: invalid value (${res.ok ? 'not canonical' : res.reason})`);
    else data.values[p] = v;
  }
  for (const [p, rows] of Object.entries(tables as Record<string, unknown>)) {
    const t = schema.tables.get(p);
    if (!t || !schema.isConfigPath(p)) {
      problems.push(`unknown table ${p}`);
      continue;
    }
    if (!Array.isArray(rows)) {
      problems.push(`${p}: not a list of rows`);
      continue;
    }
    const out: Row[] = [];
    rows.forEach((row: unknown, i) => {
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        problems.push(`${p} row ${i + 1}: not an object`);
        return;
      }
      for (const [c, v] of Object.entries(row as Record<string, unknown>)) {
        const col = columnOf(t, c);
        if (!col) {
          problems.push(`${p} row ${i + 1}: unknown column ${c}`);
          continue;
        }
        if (typeof v !== 'string') {
          problems.push(`${p} row ${i + 1} ${c}: not a string`);
          continue;
        }
        const res = validateValue(plainType(col.type), v, noCtx);
        if (!storedHashOk(col.type, v)) problems.push(`${p} row ${i + 1} ${c}: a password must be stored as a hash`);
        else if (!res.ok || res.value !== v) problems.push(`${p} row ${i + 1} ${c}: invalid value (${res.ok ? 'not canonical' : res.reason})`);
      }
      for (const k of t.keys) if (!(row as Record<string, unknown>)[k]) problems.push(`${p} row ${i + 1}: key column ${k} missing`);
      out.push(completeRow(t, row as Record<string, string>));
    });
    data.tables[p] = out;
  }
  if (problems.length === 0) problems.push(...integrityProblems(schema, data));
  return problems.length ? { problems } : { data, problems };
}
