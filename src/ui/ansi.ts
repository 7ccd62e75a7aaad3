/**
 * Past output of the interactive shell as finished strings with SGR colours, written
 * above Ink's live region with useStdout().write. Ink never lays these out again, so a
 * 10,000-row table costs one string and no Yoga nodes, and nothing of it stays in Ink's
 * text caches. Every line is cut at the terminal width: wide tables never wrap.
 */
import type { OutputBlock } from '../shell/session-api.js';
import { COLUMN_GAP, blockToLines, cellText, formatStamp, layoutTable, padCell, ruleLine, sanitize } from './format.js';
import { stateColor } from './state-color.js';

type Style = 'bold' | 'dim' | 'inverse' | 'red' | 'green' | 'yellow' | 'cyan';
const SGR: Record<Style, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  inverse: ['\x1b[7m', '\x1b[27m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
};

/** A piece of a line: plain text (already scrubbed) and its styles. */
export type Segment = [text: string, ...styles: Style[]];

export interface AnsiOptions {
  columns: number;
  color: boolean;
}

/** Joins segments into one line, cut at `columns` visible characters (the cut marked with …). */
export function line(segments: Segment[], o: AnsiOptions): string {
  let out = '';
  let room = Math.max(1, o.columns);
  const total = segments.reduce((n, [t]) => n + t.length, 0);
  const cut = total > room;
  if (cut) room -= 1;
  for (const [text, ...styles] of segments) {
    if (room <= 0) break;
    const t = text.length > room ? text.slice(0, room) : text;
    room -= t.length;
    if (!o.color || styles.length === 0 || t === '') out += t;
    else out += styles.map((s) => SGR[s][0]).join('') + t + styles.map((s) => SGR[s][1]).reverse().join('');
  }
  if (cut) out += '…';
  return out;
}

function tableLines(block: Extract<OutputBlock, { kind: 'table' }>, o: AnsiOptions): string[] {
  const layout = layoutTable(block.columns, block.rows);
  const out: string[] = [];
  if (block.title) out.push(line([[sanitize(block.title), 'bold']], o));
  const header = layout.header.map((h, i) => padCell(h, layout.widths[i]!, layout.numeric[i]!)).join(COLUMN_GAP).trimEnd();
  out.push(line([[header, 'bold']], o));
  out.push(line([[ruleLine(layout), 'dim']], o));
  for (const row of layout.rows) {
    const segs: Segment[] = [];
    row.forEach((cell, i) => {
      const last = i === row.length - 1;
      const shown = last && !layout.numeric[i] ? cell : padCell(cell, layout.widths[i]!, layout.numeric[i]!);
      const color = stateColor(block.columns[i] ?? '', cell);
      segs.push(color ? [shown, color as Style] : [shown]);
      if (!last) segs.push([COLUMN_GAP]);
    });
    // No trailing blanks: trim the last plain segment.
    out.push(line(segs, o).replace(/ +$/, ''));
  }
  return out;
}

/** The lines of a block, styled and cut to the terminal width. */
export function blockToAnsi(block: OutputBlock, o: AnsiOptions): string[] {
  switch (block.kind) {
    case 'table':
      return tableLines(block, o);
    case 'keyvalue': {
      const out: string[] = [];
      if (block.title) out.push(line([[sanitize(block.title), 'bold']], o));
      for (const [k, v] of block.pairs) out.push(line([[sanitize(k), 'bold'], [`: ${cellText(v)}`]], o));
      return out;
    }
    case 'event':
      return [line([[formatStamp(block.time), 'dim'], [' '], [`[${sanitize(block.topic)}]`, 'cyan'], [` ${sanitize(block.text)}`]], o)];
    case 'error':
      return blockToLines(block).map((l) => line([[l, 'red']], o));
    case 'text':
      return blockToLines(block).map((l) => line([[l.replace(/\t/g, '        ')]], o));
  }
}

/** The echo of an entered line: prompt, the line, an optional note (`^C`, `logout`). */
export function echoLine(prompt: string, text: string, note: string | undefined, o: AnsiOptions): string {
  const segs: Segment[] = [[sanitize(prompt), 'bold', 'green'], ['> '], [sanitize(text)]];
  if (note) segs.push([note, 'dim']);
  return line(segs, o);
}
