/**
 * A streaming RFC 4180 parser, written for this importer rather than taken from csv-parse: on a
 * 200,000-question bank csv-parse alone took longer than SQLite needs to store the rows, and it
 * cannot say on which line a quoted field began. This one scans with `indexOf`, keeps only the
 * record being read when a chunk ends, and reports every error with the line where the record or
 * field started.
 *
 * Rules: fields are separated by the delimiter (`,` unless told: spreadsheets also write `;` and
 * tab), records by LF or CRLF; a field that starts with `"` is quoted and may hold delimiters, line
 * breaks and doubled quotes; a quote inside an unquoted field is kept as text. An empty line is
 * skipped (it still counts as a spreadsheet row).
 */

export interface CsvRecord {
  /** Line where the record starts, from 1. */
  line: number;
  /** The record's row as a spreadsheet shows it, from 1 (empty lines count). */
  row: number;
  fields: string[];
  /** Line where each field starts; only set when the record spans several lines. */
  fieldLines?: number[];
  /** A problem confined to this record: the parse goes on with the next one. */
  problem?: { column: number; message: string };
}

/** A problem after which nothing that follows can be trusted: the parse stops. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_FIELD_CHARS = 1_048_576;

/** The delimiters spreadsheets write: comma, semicolon (European locales), tab ("Unicode Text"). */
export const CSV_DELIMITERS = [',', ';', '\t'] as const;

const QUOTE = 34;
const LF = 10;
const CR = 13;

function countLineFeeds(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** The record being read: its fields so far and the lines they start on. */
interface OpenRecord {
  line: number;
  fields: string[];
  fieldLines?: number[];
  extraLines: number;
  problem?: CsvRecord['problem'];
}

/** The text ends before the record does: it is kept for the next chunk. */
const INCOMPLETE = -1;

export class CsvParser {
  /** Line on which the next record starts. */
  private line = 1;
  private row = 1;
  private pending = '';
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  // Where the next delimiter and line feed are in the text being parsed, found with indexOf and reused until passed.
  private nextDelimiter = -2;
  private nextLf = -2;

  constructor(
    private readonly maxFieldChars: number = DEFAULT_MAX_FIELD_CHARS,
    delimiter = ',',
  ) {
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /** Parses what `text` completes; records are appended to `out`. */
  push(text: string, out: CsvRecord[]): void {
    const nul = text.indexOf('\u0000');
    if (nul !== -1) {
      this.parse(this.pending + text.slice(0, nul), false, out);
      throw new CsvSyntaxError(
        this.line + countLineFeeds(this.pending, 0, this.pending.length),
        'NUL byte (U+0000) in the data; a UTF-16 file without a byte-order mark looks like this (the file may be utf-16le)',
      );
    }
    this.parse(this.pending.length > 0 ? this.pending + text : text, false, out);
  }

  end(out: CsvRecord[]): void {
    const rest = this.pending;
    this.pending = '';
    if (rest.length > 0) this.parse(rest, true, out);
  }

  /** The line reached by the text given so far: where a decoding error found after it sits. */
  lineAtEnd(): number {
    return this.line + countLineFeeds(this.pending, 0, this.pending.length);
  }

  private tooLong(line: number): CsvSyntaxError {
    return new CsvSyntaxError(line, `a field starting on this line is longer than the limit of ${this.maxFieldChars.toLocaleString('en-US')} characters`);
  }

  private parse(buf: string, final: boolean, out: CsvRecord[]): void {
    this.nextDelimiter = -2;
    this.nextLf = -2;
    let i = 0;
    while (i < buf.length) {
      const record: OpenRecord = { line: this.line, fields: [], extraLines: 0 };
      const end = this.readRecord(buf, i, final, record);
      if (end === INCOMPLETE) break;
      const recordStart = i;
      i = end;
      this.line = record.line + record.extraLines + 1;
      const row = this.row++;
      if (record.fields.length === 1 && record.fields[0].length === 0 && buf.charCodeAt(recordStart) !== QUOTE) continue;
      const done: CsvRecord = { line: record.line, row, fields: record.fields };
      if (record.fieldLines) done.fieldLines = record.fieldLines;
      if (record.problem) done.problem = record.problem;
      out.push(done);
    }
    this.pending = i < buf.length ? buf.slice(i) : '';
  }

  /** Reads the record starting at `i` into `record`; returns where the next one starts, or INCOMPLETE. */
  private readRecord(buf: string, i: number, final: boolean, record: OpenRecord): number {
    const n = buf.length;
    for (;;) {
      if (i < n && buf.charCodeAt(i) === QUOTE) {
        const next = this.readQuoted(buf, i, final, record);
        if (next === INCOMPLETE || next < 0) return next === INCOMPLETE ? INCOMPLETE : -next - 2;
        i = next;
        continue;
      }
      if (this.nextDelimiter !== -1 && this.nextDelimiter < i) this.nextDelimiter = buf.indexOf(this.delimiter, i);
      if (this.nextLf !== -1 && this.nextLf < i) this.nextLf = buf.indexOf('\n', i);
      const nextDelimiter = this.nextDelimiter;
      const nextLf = this.nextLf;
      let end = nextDelimiter !== -1 && (nextLf === -1 || nextDelimiter < nextLf) ? nextDelimiter : nextLf;
      if (end === -1) {
        if (!final) {
          if (n - i > this.maxFieldChars) throw this.tooLong(record.line + record.extraLines);
          return INCOMPLETE;
        }
        end = n;
      }
      const valueEnd = (end === nextLf || end === n) && end > i && buf.charCodeAt(end - 1) === CR ? end - 1 : end;
      if (valueEnd - i > this.maxFieldChars) throw this.tooLong(record.line + record.extraLines);
      this.addField(record, buf.slice(i, valueEnd));
      if (end === n) return n;
      i = end + 1;
      if (end === nextLf) return i;
      if (i === n) {
        // A delimiter at the very end: one more, empty field, if nothing follows.
        if (!final) return INCOMPLETE;
        this.addField(record, '');
        return n;
      }
    }
  }

  private addField(record: OpenRecord, value: string): void {
    if (record.fieldLines) record.fieldLines.push(record.line + record.extraLines);
    record.fields.push(value);
  }

  /**
   * Reads the quoted field at `start`. Returns where the next field starts (the record goes on),
   * INCOMPLETE, or `-(next record's start) - 2` when the record ends with this field.
   */
  private readQuoted(buf: string, start: number, final: boolean, record: OpenRecord): number {
    const n = buf.length;
    const fieldLine = record.line + record.extraLines;
    let value = '';
    let segment = start + 1;
    let close = -1;
    while (close === -1) {
      const quote = buf.indexOf('"', segment);
      if (quote === -1 || (quote + 1 === n && !final)) {
        if (quote === -1 && final) throw new CsvSyntaxError(fieldLine, 'unterminated quoted field: the closing quote is missing (the field starts on this line)');
        if (n - start > this.maxFieldChars + 2) throw this.tooLong(fieldLine);
        return INCOMPLETE;
      }
      if (buf.charCodeAt(quote + 1) === QUOTE) {
        value += buf.slice(segment, quote + 1);
        segment = quote + 2;
      } else {
        value = value.length === 0 ? buf.slice(segment, quote) : value + buf.slice(segment, quote);
        close = quote;
      }
    }
    if (value.length > this.maxFieldChars) throw this.tooLong(fieldLine);
    const breaks = countLineFeeds(buf, start, close);
    if (breaks > 0 || record.fieldLines) {
      record.fieldLines ??= record.fields.map(() => record.line);
      record.fieldLines.push(fieldLine);
      record.extraLines += breaks;
    }
    record.fields.push(value);
    const i = close + 1;
    const after = i < n ? buf.charCodeAt(i) : -1;
    if (after === -1 || after === this.delimiterCode || after === LF || (after === CR && (i + 1 === n || buf.charCodeAt(i + 1) === LF))) {
      // Whether the record goes on (a delimiter, or the chunk ends) is only known with what follows.
      if (!final && (after === -1 || i + 1 === n)) return INCOMPLETE;
      if (after === this.delimiterCode) return i + 1;
      return -(i + (after === CR ? 2 : after === -1 ? 0 : 1)) - 2;
    }
    // Text after a closing quote: the record cannot be read as meant; skip to its end.
    record.problem = { column: record.fields.length, message: 'unexpected text after a closing quote (a quote inside a quoted field must be doubled: "")' };
    const lineEnd = buf.indexOf('\n', i);
    if (lineEnd === -1 && !final) return INCOMPLETE;
    return -(lineEnd === -1 ? n : lineEnd + 1) - 2;
  }
}
