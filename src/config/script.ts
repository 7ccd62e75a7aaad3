/**
 * The replayable command script of a config (`readconfig`, `show config`). Fed back (through
 * `writeconfig`, `meshgate -f`, or stdin) it reproduces the config: it opens a transaction,
 * sets every parameter, replaces every table (`del *` + `add`), and commits once. Tables come
 * in reference order (a referenced table before the tables that point into it).
 *
 * Secrets are omitted unless `withSecrets`: then secret columns are left out, and tables holding
 * secrets are upserted with `set` (never `del *`) so that a replay keeps the secrets it cannot know.
 */
import type { TableNode } from '../../menus/index.js';
import { completeRow, rowsEqual, type ConfigData, type Row, type Schema } from './tree.js';

export interface ScriptOptions {
  withSecrets: boolean;
  /** Only what differs from the defaults (show config). */
  changedOnly?: boolean;
  /** Wrap in begin ... commit, so that a replay is one all-or-nothing commit (readconfig). */
  transaction?: boolean;
  header?: string[];
  /** Only settings at or under this path (e.g. /Setup/VPN). */
  under?: string;
}

/** Quotes a word for the shell's tokenizer when needed. */
export function quoteWord(s: string): string {
  if (s !== '' && /^[^\s"'\\;{}?#*]+$/.test(s)) return s;
  if (s === '*') return '"*"';
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function tableOrder(schema: Schema): string[] {
  const paths = [...schema.tables.keys()].filter((p) => schema.isConfigPath(p));
  const deps = new Map<string, string[]>();
  for (const p of paths) {
    const t = schema.tables.get(p)!;
    const d: string[] = [];
    for (const c of t.columns) {
      if (c.type.kind === 'reference') d.push(c.type.table);
      if (c.type.kind === 'list' && c.type.of.kind === 'reference') d.push(c.type.of.table);
    }
    deps.set(p, d);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const d of deps.get(p) ?? []) if (d !== p) visit(d);
    out.push(p);
  };
  paths.forEach(visit);
  return out;
}

function defaultRows(t: TableNode): Row[] {
  return (t.defaultRows ?? []).map((r) => completeRow(t, r));
}

export function configScript(schema: Schema, data: Readonly<ConfigData>, opts: ScriptOptions): string[] {
  const lines: string[] = [...(opts.header ?? [])];
  if (!opts.withSecrets) lines.push('# secrets omitted (readconfig --with-secrets shows them)');
  if (opts.transaction) lines.push('begin');
  let cwd = '';
  const cd = (p: string) => {
    if (p !== cwd) lines.push(`cd ${p}`);
    cwd = p;
  };
  const inScope = (p: string) => !opts.under || opts.under === '/' || p === opts.under || p.startsWith(`${opts.under}/`);
  for (const p of tableOrder(schema)) {
    if (!inScope(p)) continue;
    const t = schema.tables.get(p)!;
    const rows = data.tables[p] ?? [];
    const defs = defaultRows(t);
    if (opts.changedOnly && rows.length === defs.length && rows.every((r, i) => rowsEqual(r, defs[i]!))) continue;
    const secretCols = t.columns.filter((c) => c.type.kind === 'secret').map((c) => c.name);
    const omit = !opts.withSecrets && secretCols.length > 0;
    cd(p);
    if (omit) lines.push(`# ${secretCols.join(', ')} omitted: rows are set, not replaced`);
    else lines.push('del *');
    for (const r of rows) {
      const parts = [omit ? 'set' : 'add', ...t.keys.map((k) => quoteWord(r[k] ?? ''))];
      for (const c of t.columns) {
        if (t.keys.includes(c.name)) continue;
        if (omit && secretCols.includes(c.name)) continue;
        const v = r[c.name] ?? '';
        if (opts.changedOnly && v === c.default) continue;
        parts.push(`{${c.name}}`, quoteWord(v));
      }
      lines.push(parts.join(' '));
    }
  }
  const byMenu = new Map<string, [string, string][]>();
  for (const [p, n] of schema.params) {
    if (!schema.isConfigPath(p) || !inScope(p)) continue;
    const v = data.values[p] ?? n.default;
    if (opts.changedOnly && v === n.default) continue;
    if (n.type.kind === 'secret' && !opts.withSecrets) continue;
    const dir = p.slice(0, p.lastIndexOf('/'));
    if (!byMenu.has(dir)) byMenu.set(dir, []);
    byMenu.get(dir)!.push([n.name, v]);
  }
  for (const [dir, items] of byMenu) {
    cd(dir);
    for (const [name, v] of items) lines.push(`set ${name} ${quoteWord(v)}`);
  }
  if (opts.transaction) {
    lines.push('cd /');
    lines.push('commit comment "readconfig replay"');
  }
  return lines;
}
