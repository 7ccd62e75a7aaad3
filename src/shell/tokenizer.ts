/**
 * The command-line tokenizer. Words are separated by blanks; `"..."` (with \" \\ \n \t escapes)
 * and `'...'` quote; a backslash outside quotes escapes the next character; an unquoted `;`
 * separates commands; an unquoted word `{Name}` is a column token. A line whose first
 * non-blank character is `#` is a comment. Control characters other than tab are refused.
 */
import { ShellSyntaxError } from './errors.js';

export interface Token {
  /** The word after quote removal (for a column token: the name without braces). */
  text: string;
  /** Offsets of the raw word in the line: [start, end). */
  start: number;
  end: number;
  /** Some part of the word was quoted or escaped (then `*`, `?` and `{..}` are literal). */
  quoted: boolean;
  /** An unquoted `{Name}`. */
  column: boolean;
}

export interface Segment {
  tokens: Token[];
  start: number;
  end: number;
}

export const MAX_LINE_LENGTH = 65_536;

export interface TokenizeResult {
  segments: Segment[];
  /** With `partial`: the line ends inside a quote. */
  openQuote?: '"' | "'";
}

/**
 * Splits a line into `;`-separated segments of tokens. Throws ShellSyntaxError for an
 * unterminated quote, a dangling backslash or a control character (unless `partial`, used by
 * completion, which accepts an unterminated last word).
 */
export function tokenize(line: string, opts: { partial?: boolean } = {}): TokenizeResult {
  if (line.length > MAX_LINE_LENGTH) throw new ShellSyntaxError(`line too long (${line.length} characters, at most ${MAX_LINE_LENGTH})`);
  const segments: Segment[] = [];
  if (/^\s*#/.test(line)) return { segments };
  let tokens: Token[] = [];
  let segStart = 0;
  let i = 0;
  const n = line.length;
  let openQuote: '"' | "'" | undefined;
  while (i < n) {
    const c = line[i]!;
    const code = c.charCodeAt(0);
    if (code < 0x20 && c !== '\t' && !(opts.partial && (c === '\n' || c === '\r'))) {
      throw new ShellSyntaxError(`control character 0x${code.toString(16).padStart(2, '0')} at column ${i + 1}`);
    }
    if (code === 0x7f) throw new ShellSyntaxError(`control character 0x7f at column ${i + 1}`);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === ';') {
      segments.push({ tokens, start: segStart, end: i });
      tokens = [];
      segStart = i + 1;
      i++;
      continue;
    }
    // A word.
    const start = i;
    let text = '';
    let quoted = false;
    while (i < n) {
      const ch = line[i]!;
      const cc = ch.charCodeAt(0);
      if (ch === ' ' || ch === '\t' || ch === ';' || ch === '\n' || ch === '\r') break;
      if ((cc < 0x20 && ch !== '\t') || cc === 0x7f) throw new ShellSyntaxError(`control character 0x${cc.toString(16).padStart(2, '0')} at column ${i + 1}`);
      if (ch === '\\') {
        if (i + 1 >= n) {
          if (opts.partial) {
            i++;
            break;
          }
          throw new ShellSyntaxError(`dangling backslash at column ${i + 1}`);
        }
        text += line[i + 1];
        quoted = true;
        i += 2;
        continue;
      }
      if (ch === '"' || ch === "'") {
        quoted = true;
        const q = ch;
        i++;
        let closed = false;
        while (i < n) {
          const qc = line[i]!;
          const qcc = qc.charCodeAt(0);
          if ((qcc < 0x20 && qc !== '\t') || qcc === 0x7f) throw new ShellSyntaxError(`control character 0x${qcc.toString(16).padStart(2, '0')} at column ${i + 1}`);
          if (qc === q) {
            closed = true;
            i++;
            break;
          }
          if (q === '"' && qc === '\\' && i + 1 < n) {
            const e = line[i + 1]!;
            text += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
            i += 2;
            continue;
          }
          text += qc;
          i++;
        }
        if (!closed) {
          if (opts.partial) {
            openQuote = q;
            break;
          }
          throw new ShellSyntaxError(`unterminated ${q === '"' ? 'double' : 'single'} quote at column ${start + 1}`);
        }
        continue;
      }
      text += ch;
      i++;
    }
    const raw = line.slice(start, i);
    const column = !quoted && /^\{[^{}]+\}$/.test(raw);
    tokens.push({ text: column ? raw.slice(1, -1) : text, start, end: i, quoted, column });
  }
  segments.push({ tokens, start: segStart, end: n });
  const result: TokenizeResult = { segments: segments.filter((s, idx) => s.tokens.length > 0 || (opts.partial && idx === segments.length - 1)) };
  if (openQuote) result.openQuote = openQuote;
  return result;
}
