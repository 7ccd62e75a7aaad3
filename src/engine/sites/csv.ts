/**
 * CSV for the site directory (RFC 4180): an incremental parser with bounds, the site
 * reader built on it (header by column name, every row validated), the writer, and the
 * import/export of a whole directory as streams.
 *
 * Parser rules: fields are separated by ',' and records by CRLF, LF or a lone CR; a field
 * in double quotes may hold ',', '"' (doubled) and line breaks; a UTF-8 byte order mark at
 * the start is skipped; empty lines are skipped. A malformed record (a quote inside an
 * unquoted field, text after a closing quote, a field or record over the bounds, a quote
 * never closed) is reported with its line number and skipped up to the end of its line;
 * the parser never throws on input. Memory is bounded by one record, whatever the file.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ImportEntry, ImportOptions, ImportReport, SiteDirectoryBackend } from './backend.js';
import { SiteDirectoryError } from './errors.js';
import { REQUIRED_COLUMNS, SITE_COLUMNS, siteToRecord, validateSiteRecord, type DirectoryMasks, type SiteColumn, type SiteRecord } from './site.js';

export type CsvItem = { kind: 'record'; line: number; fields: string[] } | { kind: 'error'; line: number; message: string };

export interface CsvParserOptions {
  /** Longest field in characters (default 4096). */
  maxFieldLength?: number;
  /** Most fields in a record (default 64). */
  maxFields?: number;
}

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  Skip,
}

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** Incremental RFC 4180 parser: push() text chunks, end() at the end; each returns the items completed. */
export class CsvParser {
  private state: S = S.FieldStart;
  private field = '';
  private fields: string[] = [];
  /** The record consists of one field that was quoted (so an empty line it is not). */
  private quotedSeen = false;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private skipLF = false;
  private atStart = true;
  private readonly maxField: number;
  private readonly maxFields: number;

  constructor(options: CsvParserOptions = {}) {
    this.maxField = options.maxFieldLength ?? 4096;
    this.maxFields = options.maxFields ?? 64;
  }

  push(chunk: string): CsvItem[] {
    const out: CsvItem[] = [];
    let i = 0;
    const n = chunk.length;
    if (this.atStart && n > 0) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (this.skipLF) {
        this.skipLF = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case S.FieldStart:
          if (c === QUOTE) {
            this.state = S.Quoted;
            this.quotedSeen = true;
            this.quoteLine = this.line;
            i++;
          } else if (c === COMMA) {
            this.endField(out);
            i++;
          } else if (c === CR || c === LF) {
            this.endRecord(out);
            this.newline(c);
            i++;
          } else {
            this.state = S.Unquoted;
          }
          break;
        case S.Unquoted: {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === COMMA || d === CR || d === LF || d === QUOTE) break;
            j++;
          }
          if (!this.append(chunk, i, j, out)) {
            i = j;
            break;
          }
          i = j;
          if (i >= n) break;
          const d = chunk.charCodeAt(i);
          if (d === QUOTE) {
            this.fail(out, `a quote inside an unquoted field (field ${this.fields.length + 1})`);
            break;
          }
          this.state = S.FieldStart;
          if (d === COMMA) {
            this.endField(out);
            i++;
          } else {
            this.endRecord(out);
            this.newline(d);
            i++;
          }
          break;
        }
        case S.Quoted: {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === QUOTE) break;
            if (d === LF) this.line++;
            j++;
          }
          if (!this.append(chunk, i, j, out)) {
            i = j;
            break;
          }
          i = j;
          if (i < n) {
            this.state = S.QuoteInQuoted;
            i++;
          }
          break;
        }
        case S.QuoteInQuoted:
          if (c === QUOTE) {
            if (this.append('"', 0, 1, out)) this.state = S.Quoted;
            i++;
          } else if (c === COMMA) {
            this.state = S.FieldStart;
            this.endField(out);
            i++;
          } else if (c === CR || c === LF) {
            this.state = S.FieldStart;
            this.endRecord(out);
            this.newline(c);
            i++;
          } else {
            this.fail(out, `text after the closing quote of field ${this.fields.length + 1}`);
          }
          break;
        case S.Skip: {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === CR || d === LF) break;
            j++;
          }
          i = j;
          if (i < n) {
            this.newline(chunk.charCodeAt(i));
            i++;
            this.state = S.FieldStart;
            this.resetRecord();
          }
          break;
        }
      }
    }
    return out;
  }

  end(): CsvItem[] {
    const out: CsvItem[] = [];
    switch (this.state) {
      case S.Quoted:
        out.push({ kind: 'error', line: this.recordLine, message: `a quoted field opened on line ${this.quoteLine} is never closed` });
        break;
      case S.Skip:
        break;
      default:
        this.endRecord(out);
    }
    this.state = S.FieldStart;
    this.resetRecord();
    return out;
  }

  private newline(c: number): void {
    this.line++;
    if (c === CR) this.skipLF = true;
    this.recordLine = this.line;
  }

  private append(s: string, from: number, to: number, out: CsvItem[]): boolean {
    if (to <= from) return true;
    if (this.field.length + (to - from) > this.maxField) {
      this.fail(out, `field ${this.fields.length + 1} is longer than ${this.maxField} characters`);
      return false;
    }
    this.field += from === 0 && to === s.length ? s : s.slice(from, to);
    return true;
  }

  private endField(out: CsvItem[]): void {
    this.fields.push(this.field);
    this.field = '';
    if (this.fields.length >= this.maxFields) this.fail(out, `more than ${this.maxFields} fields`);
  }

  private endRecord(out: CsvItem[]): void {
    this.fields.push(this.field);
    const empty = this.fields.length === 1 && this.fields[0] === '' && !this.quotedSeen;
    if (!empty) out.push({ kind: 'record', line: this.recordLine, fields: this.fields });
    this.resetRecord();
  }

  private resetRecord(): void {
    this.fields = [];
    this.field = '';
    this.quotedSeen = false;
  }

  private fail(out: CsvItem[], message: string): void {
    out.push({ kind: 'error', line: this.recordLine, message });
    this.state = S.Skip;
    this.resetRecord();
  }
}

/** Parses a stream of bytes or text (invalid UTF-8 becomes U+FFFD, which validation refuses). */
export async function* parseCsv(source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, options?: CsvParserOptions): AsyncGenerator<CsvItem> {
  const parser = new CsvParser(options);
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  const rest = decoder.decode();
  if (rest) yield* parser.push(rest);
  yield* parser.end();
}

/** Quotes a field when it needs it (separator, quote, line break, or spaces at either end). */
export function formatCsvField(v: string): string {
  if (/[",\r\n]/.test(v) || /^\s|\s$/.test(v)) return `"${v.replace(/"/g, '""')}"`;
  return v;
}

/** One record with CRLF (RFC 4180). A record of one empty field is written as "" so it is not an empty line. */
export function formatCsvRecord(fields: readonly string[]): string {
  if (fields.length === 1 && fields[0] === '') return '""\r\n';
  return fields.map(formatCsvField).join(',') + '\r\n';
}

// ---- sites ---------------------------------------------------------------------------------

/** The header cannot be used: the file is refused as a whole. */
export class CsvHeaderError extends SiteDirectoryError {
  static override readonly name: string = 'CsvHeaderError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Column names of a header: trimmed, case-insensitive, '-' and ' ' read as '_'. */
function headerColumns(fields: string[], line: number): SiteColumn[] {
  const cols: SiteColumn[] = [];
  const known = new Set<string>(SITE_COLUMNS);
  for (const raw of fields) {
    const name = raw.trim().toLowerCase().replace(/[- ]/g, '_');
    if (!known.has(name)) throw new CsvHeaderError(line, `unknown column '${raw.slice(0, 40)}' (columns: ${SITE_COLUMNS.join(', ')})`);
    if (cols.includes(name as SiteColumn)) throw new CsvHeaderError(line, `column '${name}' appears twice`);
    cols.push(name as SiteColumn);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length > 0) throw new CsvHeaderError(line, `the header lacks ${missing.join(', ')}`);
  if (!cols.includes('psk') && !cols.includes('cert')) throw new CsvHeaderError(line, 'the header needs a psk or a cert column');
  return cols;
}

/**
 * Reads sites from CSV: the first record is the header; every further record becomes a
 * validated site or the list of its problems. Throws CsvHeaderError when the header is
 * missing or unusable.
 */
export async function* readSiteCsv(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  masks: DirectoryMasks,
  options?: CsvParserOptions,
): AsyncGenerator<ImportEntry> {
  let cols: SiteColumn[] | undefined;
  for await (const item of parseCsv(source, options)) {
    if (!cols) {
      if (item.kind === 'error') throw new CsvHeaderError(item.line, `the header row is malformed: ${item.message}`);
      cols = headerColumns(item.fields, item.line);
      continue;
    }
    if (item.kind === 'error') {
      yield { line: item.line, problems: [{ column: 'csv', problem: item.message }] };
      continue;
    }
    if (item.fields.length !== cols.length) {
      yield { line: item.line, problems: [{ column: 'csv', problem: `has ${item.fields.length} fields, the header has ${cols.length}` }] };
      continue;
    }
    const record: SiteRecord = {};
    for (let k = 0; k < cols.length; k++) record[cols[k]!] = item.fields[k]!;
    const v = validateSiteRecord(record, masks);
    yield 'site' in v ? { line: item.line, site: v.site } : { line: item.line, problems: v.problems };
  }
  if (!cols) throw new CsvHeaderError(1, 'the file is empty (no header row)');
}

/** Imports a CSV stream into the directory in one transaction (see ImportOptions). */
export function importSitesCsv(
  backend: SiteDirectoryBackend,
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: ImportOptions & CsvParserOptions = {},
): Promise<ImportReport> {
  return backend.bulkImport(readSiteCsv(source, backend.masks, options), options);
}

export interface ExportOptions {
  /** Include the psk column (default false: the column is left out). */
  withSecrets?: boolean;
  /** Rows read per query (default 1000). */
  pageSize?: number;
}

/** The export columns. */
export function exportColumns(withSecrets: boolean): SiteColumn[] {
  return SITE_COLUMNS.filter((c) => withSecrets || c !== 'psk');
}

/** Writes every site as CSV in name order, a page at a time, honouring back-pressure. Returns the row count. */
export async function exportSitesCsv(backend: SiteDirectoryBackend, out: Writable, options: ExportOptions = {}): Promise<number> {
  const withSecrets = options.withSecrets ?? false;
  const cols = exportColumns(withSecrets);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(formatCsvRecord(cols));
  let after: string | undefined;
  let rows = 0;
  for (;;) {
    const page = await backend.list(after === undefined ? { limit: options.pageSize ?? 1000 } : { after, limit: options.pageSize ?? 1000 });
    let text = '';
    for (const site of page.sites) {
      const rec = siteToRecord(site, withSecrets);
      text += formatCsvRecord(cols.map((c) => rec[c] ?? ''));
    }
    rows += page.sites.length;
    if (text) await write(text);
    if (page.next === undefined) break;
    after = page.next;
  }
  return rows;
}
