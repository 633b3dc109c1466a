import { CsvParser, CsvSyntaxError, type CsvRecord } from './csv.js';
import { chooseDelimiter, columnLetter, DELIMITER_NAMES, lineEndingOf, type CsvDialect } from './csv-dialect.js';
import { JsonArraySplitter, JsonLinesSplitter, JsonSyntaxError, type JsonElement } from './json.js';
import type { Problem } from './problems.js';
import { InvalidBytesError, type TextSource } from './text-source.js';

export type FileFormat = 'csv' | 'json' | 'jsonl' | 'xlsx' | 'moodle-xml' | 'gift' | 'aiken';

/** How a cell is read before validation (see fields.ts). */
export type FieldKind = 'text' | 'int' | 'number' | 'bool' | 'enum' | 'list' | 'json' | 'timestamp' | 'raw';

/** The column (CSV) or key (JSON) a rejects file adds to each row; an import skips it, so the fixed file imports as it is. */
export const REJECTS_ERROR_COLUMN = 'error';

/** The inverse of `export --excel`, which puts one apostrophe before a cell matching /^'*[=+\-@\t\r]/. */
export function removeExcelApostrophe(cell: string): string {
  return /^'+[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

export function formatFromPath(path: string): FileFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.gift.txt')) return 'gift';
  if (lower.endsWith('.aiken.txt')) return 'aiken';
  if (lower.endsWith('.csv') || lower.endsWith('.tsv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.xlsx')) return 'xlsx';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.xml')) return 'moodle-xml';
  if (lower.endsWith('.gift')) return 'gift';
  return undefined;
}

export interface ColumnSpec {
  /** The canonical (snake_case) name, as in the README's format tables. */
  name: string;
  /** How a cell is read before validation (see fields.ts); `raw` when not given. */
  kind?: FieldKind;
  required?: boolean;
  /** Other accepted names; camelCase and spacing variants of `name` are accepted anyway. */
  aliases?: string[];
}

/** Field name to how its cells are read, for `coerceRecord`. */
export function kindsOf(columns: ColumnSpec[]): Record<string, FieldKind> {
  return Object.fromEntries(columns.map((column) => [column.name, column.kind ?? 'raw']));
}

/** How a header or key is compared: case, `_`, `-` and spaces do not matter (`examCode` = `EXAM_CODE`). */
function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

export class ColumnMap {
  private readonly byKey = new Map<string, string>();

  constructor(readonly columns: ColumnSpec[]) {
    for (const column of columns) {
      this.byKey.set(headerKey(column.name), column.name);
      for (const alias of column.aliases ?? []) this.byKey.set(headerKey(alias), column.name);
    }
  }

  resolve(name: string): string | undefined {
    return this.byKey.get(headerKey(name));
  }
}

/** The original record, kept to write it to the rejects file unchanged. */
export type RawRecord = { kind: 'csv'; fields: string[] } | { kind: 'json'; value: unknown; text: string } | { kind: 'xlsx'; cells: XlsxCell[] }
  /** Moodle XML, GIFT, Aiken: the question as the file wrote it. */
  | { kind: 'text'; text: string };

/** A cell of a workbook as the file gives it (formulas by their cached value). */
export type XlsxCell = string | number | boolean | Date | null;

export interface SourceRecord {
  /** The record's number in the file, from 1 (JSON records can share a line). */
  index: number;
  line: number;
  /** CSV and xlsx: the row a spreadsheet shows (the header is row 1). */
  row?: number;
  /** xlsx: the worksheet the row is on. */
  sheet?: string;
  /** CSV: 1; JSON: the column where the record starts. */
  column: number;
  /** Canonical field name to value: strings from CSV, any JSON value from JSON. */
  values: Record<string, unknown>;
  raw: RawRecord;
  /** A problem with the record as a whole (bad JSON, wrong number of columns). */
  problem?: Problem;
  locate(field: string): { line: number; column: number };
}

/** The file cannot be read on (`syntax`), or its header does not fit the format (`header`): nothing from it may be written. */
export class FileProblem extends Error {
  constructor(
    readonly problems: Problem[],
    readonly where: 'header' | 'syntax' = 'syntax',
  ) {
    super(problems[0]?.message ?? 'the file cannot be read');
  }
}

export interface RecordReaderOptions {
  format: FileFormat;
  columns: ColumnMap;
  ignoreUnknownColumns: boolean;
  maxFieldChars: number;
  /** CSV written for spreadsheets (`export --excel`): each cell loses the apostrophe that kept it from running as a formula. */
  excel?: boolean;
  /** CSV: the delimiter, when not the one the header shows. */
  delimiter?: string;
  /** xlsx: the worksheet to read (default: the first). */
  sheet?: string;
  /** Called as text is consumed, for progress. */
  onText?: () => void;
  /** JSON: keys under which a file that is one object holds its array of records (`{"questions": [...]}`). */
  wrapperKeys?: readonly string[];
}

export interface RecordStream {
  /** CSV: the header as written in the file (for the rejects file). */
  header?: string[];
  /** CSV: how the file was written, for a rejects file that reopens in the same program. */
  dialect?: CsvDialect & { encoding: string; bom: boolean };
  /** Unknown columns or keys that were ignored (--ignore-unknown-columns). */
  ignored: Set<string>;
  batches: AsyncGenerator<SourceRecord[]>;
}

function bytesProblem(error: InvalidBytesError, line: number): Problem {
  return {
    line,
    message:
      `${error.exact ? '' : 'at or after this line: '}bytes ${[...error.bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ')} ` +
      `(byte offset ${error.byteOffset}) are not valid ${error.encoding}` +
      (error.encoding === 'utf-8' ? '; a file saved by Excel or Windows may be windows-1252' : ''),
  };
}

/**
 * Records go on in batches of about this many bytes of the file: one 60 KiB chunk of text. A batch's
 * records stay alive until the pipeline has taken them all, so the young generation's collections
 * copy them, and promote what they copy twice: at 256 KiB an unchanged 200,000-question re-import
 * spent 0.75-0.95 s in the parsing worker's scavenges and 40 old-generation collections, at 64 KiB
 * 0.17-0.20 s and 3 (wall 7.4-8.6 -> 6.0-6.7 s, CPU 8.1-9.3 -> 5.8-6.6 s).
 */
const BATCH_BYTES = 1 << 16;

export function readRecords(source: TextSource, options: RecordReaderOptions): RecordStream {
  return options.format === 'csv' ? readCsv(source, options) : readJson(source, options);
}

/** Where a problem of a spreadsheet row is: its row, its id when it has one, and the column's letter. */
export function inRow(record: SourceRecord, problem: Problem): Problem {
  if (record.row === undefined) return problem;
  const id = record.values.id;
  const located: Problem = { ...problem, row: problem.row ?? record.row };
  if (record.sheet !== undefined) located.sheet = record.sheet;
  if (problem.column !== undefined) located.columnLetter ??= columnLetter(problem.column);
  if ((typeof id === 'string' && id.trim() !== '') || typeof id === 'number') located.recordId ??= String(id).trim();
  return located;
}

/**
 * The header's names resolved to columns (null: a column read past: unknown with
 * `ignoreUnknownColumns`, the rejects file's `error`, or one with no name). Problems name the
 * header's row and column.
 */
export function resolveHeader(titles: string[], options: Pick<RecordReaderOptions, 'columns' | 'ignoreUnknownColumns'>, ignored: Set<string>, where: (column: number) => Omit<Problem, 'message'>): { names: Array<string | null>; problems: Problem[] } {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const names = titles.map((title, index) => {
    const name = options.columns.resolve(title.trim());
    if (!name) {
      if (title.trim() === REJECTS_ERROR_COLUMN || title.trim() === '') return null;
      if (options.ignoreUnknownColumns) ignored.add(title);
      else problems.push({ ...where(index + 1), field: title, message: 'unknown column' });
      return null;
    }
    const before = seen.get(name);
    if (before !== undefined) problems.push({ ...where(index + 1), field: title, message: `repeats column ${before + 1} (${name})` });
    seen.set(name, index);
    return name;
  });
  for (const column of options.columns.columns) {
    if (column.required && !seen.has(column.name)) problems.push({ ...where(0), column: undefined, columnLetter: undefined, message: `missing column "${column.name}"` });
  }
  return { names, problems };
}

/** A header that did not fit, and would with another delimiter: say so beside its problems. */
function delimiterProblem(line: number, given: string, better: string): Problem {
  return {
    line,
    row: 1,
    message: `the header does not fit when read as ${DELIMITER_NAMES[given] ?? JSON.stringify(given)}-separated; this file looks ${DELIMITER_NAMES[better]}-separated (${JSON.stringify(better)})`,
  };
}

/** CSV rows: a row's cells past the last named column (empty ones, as spreadsheets leave) are no problem. */
function csvRowProblem(record: CsvRecord, names: Array<string | null>, header: string[], blank: Set<number>): Problem | undefined {
  const { fields } = record;
  const at = (column: number, message: string): Problem => ({ line: record.fieldLines?.[column - 1] ?? record.line, column, field: header[column - 1] || undefined, message });
  if (record.problem) return at(record.problem.column, record.problem.message);
  let named = names.length;
  while (named > 0 && blank.has(named - 1)) named--;
  if (fields.length > names.length || fields.length < named) {
    const column = Math.min(fields.length, names.length) + 1;
    return at(column, `${fields.length > names.length ? 'too many' : 'too few'} columns: the header has ${names.length}, this row ${fields.length}`);
  }
  for (const column of blank) {
    if (column < fields.length && fields[column] !== '') return at(column + 1, 'a value in a column without a name in the header');
  }
  return undefined;
}

/** A CSV record: a class rather than an object with its own `locate` closure, one less allocation a row. */
class CsvRow implements SourceRecord {
  readonly line: number;
  readonly row: number;
  readonly column = 1;
  readonly raw: RawRecord;
  problem?: Problem;
  private readonly fieldLines?: number[];

  constructor(
    readonly index: number,
    record: CsvRecord,
    readonly values: Record<string, unknown>,
    private readonly columnOfField: Map<string, number>,
  ) {
    this.line = record.line;
    this.row = record.row;
    this.raw = { kind: 'csv', fields: record.fields };
    this.fieldLines = record.fieldLines;
  }

  locate(field: string): { line: number; column: number } {
    const column = this.columnOfField.get(field) ?? 1;
    return { line: this.fieldLines?.[column - 1] ?? this.line, column };
  }
}

function readCsv(source: TextSource, options: RecordReaderOptions): RecordStream {
  let parser: CsvParser | undefined;
  const stream: RecordStream = { ignored: new Set(), batches: undefined as never };
  let names: Array<string | null> = [];
  const blank = new Set<number>();
  let columnOfField = new Map<string, number>();
  let index = 0;
  let better: string | undefined;

  const header = (record: CsvRecord): void => {
    stream.header = record.fields;
    const resolved = resolveHeader(record.fields, options, stream.ignored, (column) => ({ line: record.line, column, row: record.row, columnLetter: columnLetter(column) }));
    names = resolved.names;
    record.fields.forEach((title, column) => title.trim() === '' && blank.add(column));
    const problems = resolved.problems;
    if (problems.length > 0 && better) problems.unshift(delimiterProblem(record.line, stream.dialect!.delimiter, better));
    if (problems.length > 0) throw new FileProblem(problems, 'header');
    columnOfField = new Map(names.flatMap((name, column) => (name === null ? [] : [[name, column + 1] as [string, number]])));
  };

  const toSource = (record: CsvRecord): SourceRecord | undefined => {
    const { fields } = record;
    let allEmpty = true;
    for (const field of fields) if (field.length > 0) allEmpty = false;
    // Rows of nothing but separators are what spreadsheets leave below the data.
    if (allEmpty) return undefined;
    const values: Record<string, unknown> = {};
    const count = Math.min(fields.length, names.length);
    for (let i = 0; i < count; i++) {
      const name = names[i];
      if (name !== null) values[name] = options.excel ? removeExcelApostrophe(fields[i]) : fields[i];
    }
    const located = new CsvRow(++index, record, values, columnOfField);
    const problem = csvRowProblem(record, names, stream.header ?? [], blank);
    if (problem) located.problem = problem;
    return located;
  };

  /** The first text read decides the dialect: the delimiter from the header, the line ending from its end. */
  const start = (text: string): CsvParser => {
    const lineEnding = lineEndingOf(text);
    const chosen = chooseDelimiter(lineEnding === '\r' ? text.replace(/\r/g, '\n') : text, (name) => options.columns.resolve(name), options.delimiter);
    better = chosen.better;
    stream.dialect = { delimiter: chosen.delimiter, lineEnding, encoding: source.encoding, bom: source.bomBytes > 0 };
    return new CsvParser(options.maxFieldChars, chosen.delimiter);
  };

  stream.batches = (async function* () {
    let seenHeader = false;
    const take = (records: CsvRecord[]): SourceRecord[] => {
      const batch: SourceRecord[] = [];
      for (const record of records) {
        if (!seenHeader) {
          seenHeader = true;
          header(record);
          continue;
        }
        const located = toSource(record);
        if (located) batch.push(located);
      }
      return batch;
    };
    try {
      let records: CsvRecord[] = [];
      let batchStart = 0;
      for await (const chunk of source.chunks()) {
        parser ??= start(chunk);
        // "CSV (Macintosh)": lines end in CR alone, read as line feeds
        const text = stream.dialect!.lineEnding === '\r' ? chunk.replace(/\r/g, '\n') : chunk;
        parser.push(text, records);
        options.onText?.();
        if (records.length > 0 && source.bytesRead() - batchStart >= BATCH_BYTES) {
          yield take(records);
          records = [];
          batchStart = source.bytesRead();
        }
      }
      parser?.end(records);
      const last = take(records);
      if (!seenHeader) throw new FileProblem([{ line: 1, message: 'the file is empty: expected a header row' }]);
      if (last.length > 0) yield last;
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw new FileProblem([{ line: error.line, message: error.message }]);
      if (error instanceof InvalidBytesError) throw new FileProblem([bytesProblem(error, parser?.lineAtEnd() ?? 1)]);
      throw error;
    }
  })();
  return stream;
}

function readJson(source: TextSource, options: RecordReaderOptions): RecordStream {
  const splitter = options.format === 'json' ? new JsonArraySplitter(options.maxFieldChars * 8) : new JsonLinesSplitter(options.maxFieldChars * 8);
  const stream: RecordStream = { ignored: new Set(), batches: undefined as never };
  let index = 0;

  const toSource = (element: JsonElement): SourceRecord => {
    const locate = () => ({ line: element.line, column: element.column });
    const base = { index: ++index, line: element.line, column: element.column, locate };
    let value: unknown;
    try {
      value = JSON.parse(element.text);
    } catch (error) {
      return { ...base, values: {}, raw: { kind: 'json', value: undefined, text: element.text }, problem: { line: element.line, column: element.column, message: `not valid JSON: ${(error as Error).message}` } };
    }
    const raw: RawRecord = { kind: 'json', value, text: element.text };
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ...base, values: {}, raw, problem: { line: element.line, column: element.column, message: 'expected an object' } };
    }
    const values: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const [key, field] of Object.entries(value)) {
      const name = options.columns.resolve(key);
      if (!name) {
        if (key === REJECTS_ERROR_COLUMN) continue;
        if (options.ignoreUnknownColumns) stream.ignored.add(key);
        else unknown.push(key);
        continue;
      }
      values[name] = field;
    }
    const record: SourceRecord = { ...base, values, raw };
    if (unknown.length > 0) {
      record.problem = {
        line: element.line,
        column: element.column,
        field: unknown[0],
        message: `unknown field${unknown.length > 1 ? ` (and ${unknown.slice(1).map((k) => `"${k}"`).join(', ')})` : ''}`,
      };
    }
    return record;
  };

  stream.batches = (async function* () {
    try {
      let elements: JsonElement[] = [];
      // A .json file is an array of records, an object wrapping one, or a single record: the first character tells.
      let shape: 'array' | 'object' | undefined = options.format === 'jsonl' ? 'array' : undefined;
      let whole = '';
      let batchStart = 0;
      for await (const text of source.chunks()) {
        if (shape === undefined) {
          whole += text;
          const first = whole.search(/[^\s\uFEFF]/);
          if (first < 0) continue;
          shape = whole[first] === '{' ? 'object' : 'array';
          if (shape === 'array') {
            splitter.push(whole, elements);
            whole = '';
          }
        } else if (shape === 'object') whole += text;
        else splitter.push(text, elements);
        options.onText?.();
        if (elements.length > 0 && source.bytesRead() - batchStart >= BATCH_BYTES) {
          yield elements.map(toSource);
          elements = [];
          batchStart = source.bytesRead();
        }
      }
      if (shape === 'object') {
        yield objectFileElements(whole, options.wrapperKeys ?? [], options.maxFieldChars * 8).map(toSource);
        return;
      }
      if (shape === undefined && whole.length > 0 && splitter instanceof JsonArraySplitter) splitter.push(whole, elements);
      if (splitter instanceof JsonLinesSplitter) splitter.end(elements);
      else splitter.end();
      if (elements.length > 0) yield elements.map(toSource);
    } catch (error) {
      if (error instanceof JsonSyntaxError) throw new FileProblem([{ line: error.line, column: error.column, message: error.message }]);
      if (error instanceof InvalidBytesError) throw new FileProblem([bytesProblem(error, splitter.lineAtEnd())]);
      throw error;
    }
  })();
  return stream;
}

/**
 * The records of a .json file that is one object: the array under one of `wrapperKeys` (as the
 * systems' own `{"questions": [...], "stats": ...}` files hold them), else the object itself as
 * the only record. Positions stay those of the file: the text outside the array is blanked, not cut.
 */
function objectFileElements(text: string, wrapperKeys: readonly string[], maxRecordChars: number): JsonElement[] {
  const wrapped = wrappedArray(text, wrapperKeys);
  if (!wrapped) {
    const start = text.search(/[^\s\uFEFF]/);
    const before = text.slice(0, start);
    const line = before.split('\n').length;
    return [{ line, column: start - before.lastIndexOf('\n'), text: text.slice(start).trimEnd() }];
  }
  const blank = (part: string) => part.replace(/[^\n]/g, ' ');
  const splitter = new JsonArraySplitter(maxRecordChars);
  const elements: JsonElement[] = [];
  splitter.push(blank(text.slice(0, wrapped.start)) + text.slice(wrapped.start, wrapped.end + 1) + blank(text.slice(wrapped.end + 1)), elements);
  splitter.end();
  return elements;
}

/** Where the array under one of `keys` of the top-level object starts and ends (offsets of `[` and `]`). */
function wrappedArray(text: string, keys: readonly string[]): { start: number; end: number } | undefined {
  let depth = 0;
  let key: string | undefined;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === ':') {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            return undefined;
          }
          i = k;
          continue;
        }
      }
      i = j;
    } else if (c === '{' || c === '[') {
      if (depth === 1 && c === '[' && start < 0 && key !== undefined && keys.includes(key)) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 1 && start >= 0 && c === ']') return { start, end: i };
    } else if (c === ',' && depth === 1) key = undefined;
  }
  return undefined;
}
