/**
 * Pure text formatting shared by the plain renderer and the Ink views: table layout,
 * event time stamps and the scrubbing of control characters out of anything a command
 * prints (so a value full of escape codes can neither colour nor break a terminal).
 */
import type { Cell, OutputBlock } from '../shell/session-api.js';

/** Visible form of control characters: C0 and DEL as caret notation, C1 as \xNN. Keeps \n and \t when asked. */
export function sanitize(text: string, keepNewlines = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (keepNewlines && (ch === '\n' || ch === '\t')) return ch;
    if (code < 0x20) return '^' + String.fromCharCode(code + 0x40);
    if (code === 0x7f) return '^?';
    return '\\x' + code.toString(16).padStart(2, '0');
  });
}

export function cellText(cell: Cell): string {
  return sanitize(typeof cell === 'number' ? String(cell) : cell);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `yyyy/mm/dd hh:mm:ss.mmm` in local time, as in LCOS traces. */
export function formatStamp(d: Date): string {
  return (
    `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
  );
}

export interface TableLayout {
  widths: number[];
  /** Per column: right-align (every non-empty cell is a number). */
  numeric: boolean[];
  header: string[];
  rows: string[][];
}

/** Column widths and scrubbed cell texts; a column is as wide as its widest cell or header. */
export function layoutTable(columns: string[], rows: Cell[][]): TableLayout {
  const header = columns.map((c) => sanitize(c));
  const n = Math.max(header.length, ...rows.map((r) => r.length));
  const text = rows.map((r) => Array.from({ length: n }, (_, i) => (r[i] === undefined ? '' : cellText(r[i]!))));
  const widths: number[] = [];
  const numeric: boolean[] = [];
  for (let i = 0; i < n; i++) {
    let w = (header[i] ?? '').length;
    let num = rows.length > 0;
    for (let r = 0; r < rows.length; r++) {
      const t = text[r]![i]!;
      if (t.length > w) w = t.length;
      const raw = rows[r]![i];
      if (raw !== undefined && raw !== '' && typeof raw !== 'number') num = false;
    }
    widths.push(w);
    numeric.push(num);
  }
  while (header.length < n) header.push('');
  return { widths, numeric, header, rows: text };
}

export const COLUMN_GAP = '  ';

export function padCell(text: string, width: number, right: boolean): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** One line of a laid-out table, trailing blanks removed. */
export function joinRow(layout: TableLayout, cells: string[]): string {
  return cells
    .map((c, i) => padCell(c, layout.widths[i]!, layout.numeric[i]!))
    .join(COLUMN_GAP)
    .trimEnd();
}

export function ruleLine(layout: TableLayout): string {
  return layout.widths.map((w) => '-'.repeat(Math.max(1, w))).join(COLUMN_GAP);
}

/** The plain text of a block, without a final newline; errors included (as `Error: <text>`). */
export function blockToLines(block: OutputBlock): string[] {
  switch (block.kind) {
    case 'text':
      return sanitize(block.text, true).replace(/\n$/, '').split('\n');
    case 'table': {
      const layout = layoutTable(block.columns, block.rows);
      const out: string[] = [];
      if (block.title) out.push(sanitize(block.title));
      out.push(joinRow(layout, layout.header), ruleLine(layout));
      for (const r of layout.rows) out.push(joinRow(layout, r));
      return out;
    }
    case 'keyvalue': {
      const out: string[] = [];
      if (block.title) out.push(sanitize(block.title));
      for (const [k, v] of block.pairs) out.push(`${sanitize(k)}: ${cellText(v)}`);
      return out;
    }
    case 'event':
      return [`${formatStamp(block.time)} [${sanitize(block.topic)}] ${sanitize(block.text)}`];
    case 'error':
      return [`Error: ${sanitize(block.message)}`];
  }
}
