/**
 * Ink views of OutputBlocks: coloured tables (bold header, state columns coloured),
 * key/value lists, events and errors. Every line is truncated at the terminal edge
 * instead of wrapping, so wide tables never break the layout.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { OutputBlock } from '../shell/session-api.js';
import { stateColor } from './state-color.js';
import { COLUMN_GAP, blockToLines, cellText, formatStamp, layoutTable, padCell, ruleLine, sanitize } from './format.js';

export { stateColor };

function TableView({ block }: { block: Extract<OutputBlock, { kind: 'table' }> }) {
  const layout = layoutTable(block.columns, block.rows);
  const gap = COLUMN_GAP;
  return (
    <Box flexDirection="column">
      {block.title ? <Text bold wrap="truncate-end">{sanitize(block.title)}</Text> : null}
      <Text bold wrap="truncate-end">
        {layout.header.map((h, i) => padCell(h, layout.widths[i]!, layout.numeric[i]!)).join(gap).trimEnd()}
      </Text>
      <Text dimColor wrap="truncate-end">{ruleLine(layout)}</Text>
      {layout.rows.map((row, r) => (
        <Text key={r} wrap="truncate-end">
          {row.map((cell, i) => {
            const last = i === row.length - 1;
            const shown = last ? (layout.numeric[i] ? padCell(cell, layout.widths[i]!, true) : cell) : padCell(cell, layout.widths[i]!, layout.numeric[i]!);
            const color = stateColor(block.columns[i] ?? '', cell);
            return (
              <Text key={i} {...(color ? { color } : {})}>
                {shown}
                {last ? '' : gap}
              </Text>
            );
          })}
        </Text>
      ))}
    </Box>
  );
}

export function BlockView({ block }: { block: OutputBlock }) {
  switch (block.kind) {
    case 'table':
      return <TableView block={block} />;
    case 'keyvalue':
      return (
        <Box flexDirection="column">
          {block.title ? <Text bold wrap="truncate-end">{sanitize(block.title)}</Text> : null}
          {block.pairs.map(([k, v], i) => (
            <Text key={i} wrap="truncate-end">
              <Text bold>{sanitize(k)}</Text>: {cellText(v)}
            </Text>
          ))}
        </Box>
      );
    case 'event':
      return (
        <Text wrap="truncate-end">
          <Text dimColor>{formatStamp(block.time)}</Text> <Text color="cyan">[{sanitize(block.topic)}]</Text>{' '}
          {sanitize(block.text)}
        </Text>
      );
    case 'error':
      return <Text color="red">Error: {sanitize(block.message)}</Text>;
    case 'text':
      return <Text>{blockToLines(block).join('\n')}</Text>;
  }
}

/** Number of terminal lines a block takes (before truncation). */
export function blockHeight(block: OutputBlock): number {
  return blockToLines(block).length;
}

/**
 * Cuts a live frame down to maxLines so that it always fits on the screen (Ink redraws
 * a region in place only while it is shorter than the terminal). Table rows and text
 * lines are dropped from the end; returns how many lines were hidden.
 */
export function clipBlocks(blocks: OutputBlock[], maxLines: number): { blocks: OutputBlock[]; hidden: number } {
  const out: OutputBlock[] = [];
  let used = 0;
  let hidden = 0;
  for (const b of blocks) {
    const h = blockHeight(b);
    const room = maxLines - used;
    if (h <= room) {
      out.push(b);
      used += h;
      continue;
    }
    if (b.kind === 'table' && room >= (b.title ? 4 : 3)) {
      const fixed = b.title ? 3 : 2;
      const keep = room - fixed;
      out.push({ ...b, rows: b.rows.slice(0, keep) });
      hidden += b.rows.length - keep;
      used = maxLines;
    } else if (b.kind === 'text' && room > 0) {
      const lines = blockToLines(b);
      out.push({ kind: 'text', text: lines.slice(0, room).join('\n') });
      hidden += lines.length - room;
      used = maxLines;
    } else {
      hidden += h;
    }
  }
  return { blocks: out, hidden };
}
