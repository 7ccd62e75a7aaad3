/**
 * The plain renderer: OutputBlocks as text without escape codes, for scripts, pipes and
 * any stdout that is not a terminal. Errors go to stderr as `Error: <text>`, optionally
 * prefixed with where they happened (`file:line: `).
 */
import type { OutputBlock, OutputSink } from '../shell/session-api.js';
import { blockToLines } from './format.js';

export interface TextStream {
  write(chunk: string): unknown;
}

export interface PlainRendererOptions {
  /** Put before `Error: ` on stderr, e.g. `commands.lcs:12: `. Read at each error. */
  errorPrefix?: () => string;
}

export function renderPlain(block: OutputBlock): string {
  return blockToLines(block).join('\n') + '\n';
}

export class PlainRenderer implements OutputSink {
  private framesSeen = 0;
  /** Errors written since the last reset(); the script runner reads it. */
  errors = 0;

  constructor(
    private readonly stdout: TextStream,
    private readonly stderr: TextStream,
    private readonly options: PlainRendererOptions = {},
  ) {}

  write(block: OutputBlock): void {
    if (block.kind === 'error') {
      this.errors++;
      this.stderr.write((this.options.errorPrefix?.() ?? '') + renderPlain(block));
    } else {
      this.stdout.write(renderPlain(block));
    }
  }

  /** Without a cursor to move, each frame of a live view is printed in full, separated by a blank line. */
  frame(blocks: OutputBlock[]): void {
    if (this.framesSeen++ > 0) this.stdout.write('\n');
    for (const b of blocks) this.write(b);
  }

  /** Starts a new command: the next frame is a first frame again. */
  reset(): void {
    this.framesSeen = 0;
    this.errors = 0;
  }
}
