import { UsageError } from '../../errors.js';
import type { OutputFile } from '../../output-file.js';
import { XlsxSheetWriter } from '../export/xlsx.js';
import { isInterchangeFormat } from '../interchange/index.js';
import { interchangeReject, interchangeRejectsEnd, interchangeRejectsStart } from '../interchange/rejects.js';
import { REJECTS_ERROR_COLUMN, type FileFormat, type RawRecord, type RecordStream, type XlsxCell } from './records.js';

/** Rejected rows of a JSON file cannot be written as CSV: their values are lists and objects a CSV cell does not hold as they came. */
export class RejectsFormatError extends UsageError {
  constructor(
    readonly rejectsFile: string,
    readonly inputFile: string,
  ) {
    super(`${rejectsFile} would be a spreadsheet file, but the records of ${inputFile} are JSON: name the rejects file .json or .jsonl`);
  }
}

type Dialect = NonNullable<RecordStream['dialect']>;

const DEFAULT_DIALECT: Dialect = { delimiter: ',', lineEnding: '\r\n', encoding: 'utf-8', bom: false };

/** WHATWG windows-1252 for bytes 0x80-0x9F, the other way round: character to byte. */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
  0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const TO_1252 = new Map(WINDOWS_1252_HIGH.map((code, index) => [code, 0x80 + index]));

/**
 * Text in the input's encoding, so the rejects file reopens as the input did: UTF-8 and UTF-16
 * (with the input's byte-order mark), windows-1252 and ISO-8859-1; other encodings as UTF-8 with a
 * mark. A character the encoding cannot hold (only in an error message) becomes `?`.
 */
export function encodeText(text: string, encoding: string): Buffer {
  if (encoding === 'utf-16le') return Buffer.from(text, 'utf16le');
  if (encoding === 'utf-16be') return Buffer.from(text, 'utf16le').swap16();
  if (encoding === 'windows-1252' || encoding === 'iso-8859-1' || encoding === 'iso-8859-15') {
    const bytes = Buffer.alloc(text.length);
    let length = 0;
    for (const char of text) {
      const code = char.codePointAt(0)!;
      bytes[length++] = code < 0x80 || (code >= 0xa0 && code <= 0xff) ? code : (TO_1252.get(code) ?? 0x3f);
    }
    return bytes.subarray(0, length);
  }
  return Buffer.from(text, 'utf8');
}

/** The byte-order mark the rejects file starts with: the input's, or UTF-8's for an encoding written as UTF-8. */
function byteOrderMark(dialect: Dialect): string {
  if (dialect.bom || !['utf-8', 'windows-1252', 'iso-8859-1', 'iso-8859-15', 'utf-16le', 'utf-16be'].includes(dialect.encoding)) return '\uFEFF';
  return '';
}

function cellText(cell: XlsxCell | undefined): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return cell.toISOString();
  return String(cell);
}

function rawCells(raw: RawRecord): XlsxCell[] {
  if (raw.kind === 'csv') return raw.fields;
  if (raw.kind === 'xlsx') return raw.cells;
  return [];
}

/**
 * The rows `--skip-invalid` leaves out, written as they came with an `error` field added, in the
 * format the rejects file's name says (else the input's): CSV rows under the input's header, in
 * its dialect (delimiter, line ending, encoding, byte-order mark), so the program that saved the
 * input opens them alike; workbook rows as a workbook; JSON records as a JSON array (`.json`) or
 * one per line (`.jsonl`). Spreadsheet rows written as JSON are objects keyed by the header, an
 * empty cell as `null` (what an empty cell means on import). Fix the errors and import the file as
 * it is.
 */
export class RejectsWriter {
  private started = false;
  private xlsx: XlsxSheetWriter | undefined;
  private readonly dialect: Dialect;
  count = 0;

  constructor(
    private readonly file: OutputFile,
    private readonly format: FileFormat,
    private readonly header: string[] | undefined,
    dialect?: Dialect,
  ) {
    this.dialect = dialect ?? DEFAULT_DIALECT;
  }

  get path(): string {
    return this.file.path;
  }

  private csvLine(cells: XlsxCell[]): string {
    const { delimiter, lineEnding } = this.dialect;
    const special = new RegExp(`["\\r\\n${delimiter === '\t' ? '\\t' : delimiter}]|^\\s|\\s$`);
    return (
      cells
        .map(cellText)
        .map((value) => (special.test(value) ? `"${value.replace(/"/g, '""')}"` : value))
        .join(delimiter) + lineEnding
    );
  }

  private async writeText(text: string): Promise<void> {
    await this.file.write(this.format === 'csv' ? encodeText(text, this.dialect.encoding) : text);
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const header = [...(this.header ?? []), REJECTS_ERROR_COLUMN];
    if (this.format === 'csv') await this.writeText(byteOrderMark(this.dialect) + this.csvLine(header));
    else if (this.format === 'xlsx') {
      this.xlsx = new XlsxSheetWriter((chunk) => this.file.write(chunk), { sheet: 'rejected', columns: header.length });
      await this.xlsx.start();
      await this.xlsx.row(header);
    } else if (this.format === 'json') await this.file.write('[');
    else if (isInterchangeFormat(this.format)) await this.file.write(interchangeRejectsStart(this.format));
  }

  async write(raw: RawRecord, error: string): Promise<void> {
    await this.start();
    this.count++;
    if (isInterchangeFormat(this.format)) return this.file.write(interchangeReject(this.format, raw, error));
    if (this.format === 'csv') return this.writeText(this.csvLine([...rawCells(raw), error]));
    if (this.format === 'xlsx') {
      const cells = rawCells(raw);
      // the error goes in the column after the header's, however many cells the row had
      const width = Math.max(this.header?.length ?? 0, cells.length);
      return this.xlsx!.row([...cells, ...new Array<XlsxCell>(width - cells.length).fill(null), error]);
    }
    const record = JSON.stringify(this.asObject(raw, error));
    await this.file.write(this.format === 'json' ? `${this.count === 1 ? '\n' : ',\n'}${record}` : record + '\n');
  }

  private asObject(raw: RawRecord, error: string): Record<string, unknown> {
    if (raw.kind === 'csv' || raw.kind === 'xlsx') {
      const cells = rawCells(raw);
      const record: Record<string, unknown> = {};
      (this.header ?? []).forEach((name, index) => {
        const cell = cells[index];
        record[name] = cell === undefined || cell === '' || cell === null ? null : cell;
      });
      return { ...record, [REJECTS_ERROR_COLUMN]: error };
    }
    if (raw.kind !== 'json') return { record: (raw as { text?: string }).text, [REJECTS_ERROR_COLUMN]: error };
    if (raw.value !== null && typeof raw.value === 'object' && !Array.isArray(raw.value)) return { ...raw.value, [REJECTS_ERROR_COLUMN]: error };
    return { record: raw.value ?? raw.text, [REJECTS_ERROR_COLUMN]: error };
  }

  /** Writes the end (and what a file with no rejected rows holds: a header, an empty array); the caller commits the file with the import. */
  async finish(): Promise<void> {
    await this.start();
    if (this.format === 'json') await this.file.write(this.count === 0 ? ']\n' : '\n]\n');
    if (this.format === 'xlsx') await this.xlsx!.finish();
    if (isInterchangeFormat(this.format)) await this.file.write(interchangeRejectsEnd(this.format));
  }
}
