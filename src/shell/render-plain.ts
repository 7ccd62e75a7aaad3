/**
 * A minimal plain-text rendering of OutputBlocks, for transcript tests and as a fallback. The
 * real renderers (Ink, the scripted-mode plain renderer) live in src/ui.
 */
import type { Cell, OutputBlock } from './session-api.js';

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())},${p(d.getUTCMilliseconds(), 3)}`;
}

function cellText(c: Cell): string {
  return typeof c === 'number' ? String(c) : c;
}

/** Columns padded to their widest cell, a dashed rule under the header, trailing blanks trimmed. */
export function renderTable(columns: readonly string[], rows: readonly Cell[][], title?: string): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => cellText(r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out: string[] = [];
  if (title) out.push(title);
  out.push(line([...columns]));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) out.push(line(columns.map((_, i) => cellText(r[i] ?? ''))));
  return out.join('\n');
}

export function renderPlain(block: OutputBlock): string {
  switch (block.kind) {
    case 'text':
      return block.text;
    case 'table':
      return renderTable(block.columns, block.rows, block.title);
    case 'keyvalue': {
      const lines = block.pairs.map(([k, v]) => `${k}: ${cellText(v)}`);
      return (block.title ? [block.title, ...lines] : lines).join('\n');
    }
    case 'error':
      return `Error: ${block.message}`;
    case 'event':
      return `${stamp(block.time)} [${block.topic}] ${block.text}`;
  }
}
