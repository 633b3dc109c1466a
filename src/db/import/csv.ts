/**
 * A streaming RFC 4180 parser, written for this importer rather than taken from csv-parse: on a
 * 200,000-question bank csv-parse alone took longer than SQLite needs to store the rows, and it
 * cannot say on which line a quoted field began. This one scans with `indexOf`, keeps only the
 * record being read when a chunk ends, and reports every error with the line where the record or
 * field started.
 *
 * Rules: fields are separated by `,`, records by LF or CRLF; a field that starts with `"` is quoted
 * and may hold commas, line breaks and doubled quotes; a quote inside an unquoted field is kept as
 * text. An empty line is skipped.
 */

export interface CsvRecord {
  /** Line where the record starts, from 1. */
  line: number;
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

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

function countLineFeeds(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

export class CsvParser {
  /** Line on which the next record starts. */
  private line = 1;
  private pending = '';
  private readonly limitText: string;

  constructor(private readonly maxFieldChars: number = DEFAULT_MAX_FIELD_CHARS) {
    this.limitText = maxFieldChars.toLocaleString('en-US');
  }

  /** Parses what `text` completes; records are appended to `out`. */
  push(text: string, out: CsvRecord[]): void {
    const nul = text.indexOf('\u0000');
    if (nul !== -1) {
      this.parse(this.pending + text.slice(0, nul), false, out);
      throw new CsvSyntaxError(
        this.line + countLineFeeds(this.pending, 0, this.pending.length),
        'NUL byte (U+0000) in the data; a UTF-16 file without a byte-order mark looks like this (try --encoding utf-16le)',
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
    return new CsvSyntaxError(line, `a field starting on this line is longer than the limit of ${this.limitText} characters`);
  }

  private parse(buf: string, final: boolean, out: CsvRecord[]): void {
    const n = buf.length;
    const max = this.maxFieldChars;
    let i = 0;
    let line = this.line;
    // Where the next comma and line feed are, found with indexOf and reused until passed.
    let nextComma = -2;
    let nextLf = -2;
    let recordStart = 0;
    let recordLine = line;
    // The text ends inside a record: keep that record for the next chunk.
    let incomplete = false;
    records: while (i < n) {
      recordStart = i;
      recordLine = line;
      const fields: string[] = [];
      let fieldLines: number[] | undefined;
      let extraLines = 0;
      let problem: CsvRecord['problem'];
      for (;;) {
        const fieldStart = i;
        if (i < n && buf.charCodeAt(i) === QUOTE) {
          let value = '';
          let segment = i + 1;
          let close = -1;
          while (close === -1) {
            const quote = buf.indexOf('"', segment);
            if (quote === -1 || (quote + 1 === n && !final)) {
              if (quote === -1 && final) {
                throw new CsvSyntaxError(recordLine + extraLines, 'unterminated quoted field: the closing quote is missing (the field starts on this line)');
              }
              if (n - fieldStart > max + 2) throw this.tooLong(recordLine + extraLines);
              incomplete = true;
              break records;
            }
            if (buf.charCodeAt(quote + 1) === QUOTE) {
              value += buf.slice(segment, quote + 1);
              segment = quote + 2;
            } else {
              value = value.length === 0 ? buf.slice(segment, quote) : value + buf.slice(segment, quote);
              close = quote;
            }
          }
          if (value.length > max) throw this.tooLong(recordLine + extraLines);
          const breaks = countLineFeeds(buf, fieldStart, close);
          if (breaks > 0 || fieldLines) {
            fieldLines ??= fields.map(() => recordLine);
            fieldLines.push(recordLine + extraLines);
            extraLines += breaks;
          }
          fields.push(value);
          i = close + 1;
          const after = i < n ? buf.charCodeAt(i) : -1;
          if (after === -1 || after === COMMA || after === LF || (after === CR && (i + 1 === n || buf.charCodeAt(i + 1) === LF))) {
            // Whether the record goes on (a comma, or the chunk ends) is only known with what follows.
            if (!final && (after === -1 || i + 1 === n)) {
              incomplete = true;
              break records;
            }
            if (after === COMMA) {
              i++;
              continue;
            }
            i += after === CR ? 2 : 1;
            break;
          }
          // Text after a closing quote: the record cannot be read as meant; skip to its end.
          problem = { column: fields.length, message: 'unexpected text after a closing quote (a quote inside a quoted field must be doubled: "")' };
          const lineEnd = buf.indexOf('\n', i);
          if (lineEnd === -1 && !final) {
            incomplete = true;
            break records;
          }
          i = lineEnd === -1 ? n : lineEnd + 1;
          break;
        }
        if (nextComma !== -1 && nextComma < i) nextComma = buf.indexOf(',', i);
        if (nextLf !== -1 && nextLf < i) nextLf = buf.indexOf('\n', i);
        let end = nextComma !== -1 && (nextLf === -1 || nextComma < nextLf) ? nextComma : nextLf;
        if (end === -1) {
          if (!final) {
            if (n - fieldStart > max) throw this.tooLong(recordLine + extraLines);
            incomplete = true;
            break records;
          }
          end = n;
        }
        const valueEnd = (end === nextLf || end === n) && end > i && buf.charCodeAt(end - 1) === CR ? end - 1 : end;
        if (valueEnd - i > max) throw this.tooLong(recordLine + extraLines);
        if (fieldLines) fieldLines.push(recordLine + extraLines);
        fields.push(buf.slice(i, valueEnd));
        if (end === n) {
          i = n;
          break;
        }
        i = end + 1;
        if (end === nextLf) break;
        if (i === n) {
          // A comma at the very end: one more, empty field, if nothing follows.
          if (!final) {
            incomplete = true;
            break records;
          }
          if (fieldLines) fieldLines.push(recordLine + extraLines);
          fields.push('');
          break;
        }
      }
      line = recordLine + extraLines + 1;
      if (fields.length === 1 && fields[0].length === 0 && buf.charCodeAt(recordStart) !== QUOTE) continue;
      const record: CsvRecord = { line: recordLine, fields };
      if (fieldLines) record.fieldLines = fieldLines;
      if (problem) record.problem = problem;
      out.push(record);
    }
    if (incomplete) {
      this.pending = buf.slice(recordStart);
      this.line = recordLine;
    } else {
      this.pending = '';
      this.line = line;
    }
  }
}
