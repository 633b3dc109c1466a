import { open, type FileHandle } from 'node:fs/promises';
import type { Problem } from './problems.js';
import { FileProblem, resolveHeader, type FieldKind, type RecordReaderOptions, type RecordStream, type SourceRecord, type XlsxCell } from './records.js';
import { columnLetter } from './csv-dialect.js';
import { partText, partWhole, readPackageParts, WorkbookFileError, type PackagePart } from './xlsx-package.js';
import { attribute, columnOfReference, dateStyles, decodeText, serialToIso, sharedStrings, startTags, stringItemText } from './xlsx-xml.js';

/**
 * Reads one worksheet of an .xlsx workbook as import records: row 1 is the header (the same
 * column names as the CSV format), each row below a record. Cells are taken as the file gives
 * them: text (rich text as its plain text), numbers as written in the file, booleans as
 * true/false, dates (a number in a date format) as ISO 8601, formulas by the value the spreadsheet
 * saved with them. A formula error (`#REF!`), a date outside a date column, a hidden row or a
 * merged range is a problem named by sheet, row and column.
 */

export interface XlsxSource {
  readonly encoding: 'xlsx';
  readonly totalBytes: number;
  bytesRead(): number;
  readonly stream: RecordStream;
  close(): Promise<void>;
}

interface Workbook {
  sheet: string;
  part: PackagePart;
  strings: string[];
  dates: boolean[];
  date1904: boolean;
}

/** The sheets of the workbook in order, with their parts. */
async function openWorkbook(path: string, handle: FileHandle, parts: Map<string, PackagePart>, wanted: string | undefined): Promise<Workbook> {
  const workbook = await partWhole(path, handle, parts, 'xl/workbook.xml');
  if (!workbook) throw new WorkbookFileError('not an .xlsx workbook: the package has no xl/workbook.xml (an .ods or .xls file must be saved as .xlsx first)');
  const rels = new Map(startTags(await partWhole(path, handle, parts, 'xl/_rels/workbook.xml.rels'), 'Relationship').map((tag) => [attribute(tag, 'Id'), attribute(tag, 'Target') ?? '']));
  const sheets = startTags(workbook, 'sheet').map((tag) => {
    const target = rels.get(attribute(tag, 'r:id')) ?? '';
    return { name: attribute(tag, 'name') ?? '', part: target.startsWith('/') ? target.slice(1) : `xl/${target}` };
  });
  if (sheets.length === 0) throw new WorkbookFileError('the workbook has no worksheet');
  const chosen = wanted === undefined ? sheets[0] : (sheets.find((sheet) => sheet.name === wanted) ?? sheets.find((sheet) => sheet.name.toLowerCase() === wanted.toLowerCase()));
  if (!chosen) throw new WorkbookFileError(`the workbook has no sheet "${wanted}" (its sheets: ${sheets.map((sheet) => `"${sheet.name}"`).join(', ')})`);
  const part = parts.get(chosen.part);
  if (!part) throw new WorkbookFileError(`the workbook is damaged: sheet "${chosen.name}" has no part ${chosen.part}`);
  const pr = startTags(workbook, 'workbookPr')[0];
  const flag = pr === undefined ? undefined : attribute(pr, 'date1904');
  return {
    sheet: chosen.name,
    part,
    strings: sharedStrings(await partWhole(path, handle, parts, 'xl/sharedStrings.xml')),
    dates: dateStyles(await partWhole(path, handle, parts, 'xl/styles.xml')),
    date1904: flag === '1' || flag === 'true',
  };
}

/** One cell: what the rejects file keeps (`raw`), the text the import reads, and what is wrong with it. */
interface Cell {
  column: number;
  raw: XlsxCell;
  text: string;
  date?: boolean;
  problem?: string;
}

const VALUE = /<v(?:\s[^>]*)?>([\s\S]*?)<\/v>/;

function readCell(tag: string, body: string, book: Workbook, column: number): Cell {
  const type = attribute(tag, 't') ?? 'n';
  const value = VALUE.exec(body)?.[1];
  const formula = body.indexOf('<f') !== -1;
  if (type === 'inlineStr') {
    const text = stringItemText(body);
    return { column, raw: text, text };
  }
  if (value === undefined) return { column, raw: null, text: '', problem: formula ? 'a formula without a saved value: open the workbook in a spreadsheet program and save it' : undefined };
  switch (type) {
    case 's': {
      const text = book.strings[Number(value)];
      if (text === undefined) return { column, raw: null, text: '', problem: `shared string ${value} is missing from the workbook` };
      return { column, raw: text, text };
    }
    case 'str': {
      const text = decodeText(value);
      return { column, raw: text, text };
    }
    case 'b':
      return { column, raw: value.trim() === '1', text: value.trim() === '1' ? 'true' : 'false' };
    case 'e': {
      const text = decodeText(value);
      return { column, raw: text, text, problem: `the cell holds the formula error ${text}` };
    }
    case 'd':
      return { column, raw: new Date(value), text: decodeText(value), date: true };
    default: {
      const number = Number(value);
      if (book.dates[Number(attribute(tag, 's') ?? 0)] && Number.isFinite(number)) {
        const text = serialToIso(number, book.date1904);
        return { column, raw: new Date(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`), text, date: true };
      }
      return { column, raw: Number.isFinite(number) ? number : value, text: value.trim() };
    }
  }
}

/** The cells of one `<row>` element's content, by column. */
function readRow(body: string, book: Workbook): Cell[] {
  const cells: Cell[] = [];
  let at = 0;
  let next = 1;
  for (;;) {
    const start = body.indexOf('<c', at);
    if (start === -1) break;
    const after = body.charCodeAt(start + 2);
    const tagEnd = body.indexOf('>', start);
    if (tagEnd === -1) break;
    if (after !== 32 && after !== 62 && after !== 47 && after !== 9 && after !== 10 && after !== 13) {
      at = tagEnd + 1;
      continue;
    }
    const selfClosing = body.charCodeAt(tagEnd - 1) === 47;
    const tag = body.slice(start + 2, selfClosing ? tagEnd - 1 : tagEnd);
    const reference = attribute(tag, 'r');
    const column = reference ? columnOfReference(reference) : next;
    next = column + 1;
    if (selfClosing) {
      at = tagEnd + 1;
      continue;
    }
    const end = body.indexOf('</c>', tagEnd);
    const cell = readCell(tag, body.slice(tagEnd + 1, end === -1 ? body.length : end), book, column);
    if (cell.text !== '' || cell.problem) cells.push(cell);
    at = end === -1 ? body.length : end + 4;
  }
  return cells;
}

interface SheetRow {
  row: number;
  hidden: boolean;
  cells: Cell[];
}

/**
 * The rows of a sheet's XML as it streams: complete `<row>` elements are taken as they arrive;
 * what comes before `<sheetData>` (hidden columns) and after it (merged cells) is kept whole.
 */
class SheetScanner {
  head = '';
  tail = '';
  private buffer = '';
  private state: 'head' | 'rows' | 'tail' = 'head';
  private nextRow = 1;

  constructor(private readonly book: Workbook) {}

  push(text: string, out: SheetRow[]): void {
    if (this.state === 'tail') {
      this.tail += text;
      return;
    }
    this.buffer += text;
    if (this.state === 'head') {
      const start = this.buffer.indexOf('<sheetData');
      if (start === -1) return;
      const tagEnd = this.buffer.indexOf('>', start);
      if (tagEnd === -1) return;
      this.head = this.buffer.slice(0, start);
      if (this.buffer.charCodeAt(tagEnd - 1) === 47) {
        this.state = 'tail';
        this.tail = this.buffer.slice(tagEnd + 1);
        this.buffer = '';
        return;
      }
      this.state = 'rows';
      this.buffer = this.buffer.slice(tagEnd + 1);
    }
    this.rows(out);
  }

  private rows(out: SheetRow[]): void {
    const buffer = this.buffer;
    let at = 0;
    for (;;) {
      const start = buffer.indexOf('<row', at);
      const dataEnd = buffer.indexOf('</sheetData>', at);
      if (dataEnd !== -1 && (start === -1 || dataEnd < start)) {
        this.state = 'tail';
        this.tail = buffer.slice(dataEnd + 12);
        this.buffer = '';
        return;
      }
      if (start === -1) break;
      const tagEnd = buffer.indexOf('>', start);
      if (tagEnd === -1) break;
      const selfClosing = buffer.charCodeAt(tagEnd - 1) === 47;
      const tag = buffer.slice(start + 4, selfClosing ? tagEnd - 1 : tagEnd);
      let end = tagEnd;
      if (!selfClosing) {
        end = buffer.indexOf('</row>', tagEnd);
        if (end === -1) break;
      }
      const row = Number(attribute(tag, 'r') ?? this.nextRow);
      this.nextRow = row + 1;
      const hidden = attribute(tag, 'hidden');
      out.push({ row, hidden: hidden === '1' || hidden === 'true', cells: selfClosing ? [] : readRow(buffer.slice(tagEnd + 1, end), this.book) });
      at = selfClosing ? tagEnd + 1 : end + 6;
    }
    this.buffer = buffer.slice(at);
  }

  /** Ranges of merged cells (`A3:A5`). */
  merged(): string[] {
    return startTags(this.tail, 'mergeCell').map((tag) => attribute(tag, 'ref') ?? '');
  }

  /** Columns (from 1) hidden in the sheet. */
  hiddenColumns(): Set<number> {
    const hidden = new Set<number>();
    for (const tag of startTags(this.head, 'col')) {
      const flag = attribute(tag, 'hidden');
      if (flag !== '1' && flag !== 'true') continue;
      const max = Math.min(Number(attribute(tag, 'max') ?? 0), 16_384);
      for (let column = Number(attribute(tag, 'min') ?? 1); column <= max; column++) hidden.add(column);
    }
    return hidden;
  }
}

export async function openXlsxSource(path: string, options: RecordReaderOptions): Promise<XlsxSource> {
  const handle = await open(path, 'r');
  let read = 0;
  try {
    const { size } = await handle.stat();
    let book: Workbook | undefined;
    let opening: WorkbookFileError | undefined;
    try {
      book = await openWorkbook(path, handle, await readPackageParts(handle, size), options.sheet);
    } catch (error) {
      if (!(error instanceof WorkbookFileError)) throw error;
      opening = error;
    }
    const stream: RecordStream = { ignored: new Set(), batches: undefined as never };
    stream.batches = opening
      ? (async function* (): AsyncGenerator<SourceRecord[]> {
          throw new FileProblem([{ line: 1, message: opening.message }], 'syntax');
        })()
      : sheetRecords(path, handle, book!, options, stream, (bytes) => (read += bytes));
    return { encoding: 'xlsx', totalBytes: size, bytesRead: () => read, stream, close: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The sheet's rows below the header as records, batch by batch. */
async function* sheetRecords(path: string, handle: FileHandle, book: Workbook, options: RecordReaderOptions, stream: RecordStream, onBytes: (bytes: number) => void): AsyncGenerator<SourceRecord[]> {
  const scanner = new SheetScanner(book);
  const reader = new SheetRecordReader(book, options, stream);
  try {
    for await (const text of partText(path, handle, book.part, onBytes)) {
      const rows: SheetRow[] = [];
      scanner.push(text, rows);
      options.onText?.();
      const batch = reader.take(rows, scanner);
      if (batch.length > 0) yield batch;
    }
  } catch (error) {
    if (error instanceof WorkbookFileError) throw new FileProblem([{ line: 1, sheet: book.sheet, row: 1, message: error.message }]);
    throw error;
  }
  reader.finish(scanner);
}

class SheetRecordReader {
  private names: Array<string | null> = [];
  private columnOfField = new Map<string, number>();
  private readonly kinds: Map<string, FieldKind>;
  private header = false;
  private index = 0;

  constructor(
    private readonly book: Workbook,
    private readonly options: RecordReaderOptions,
    private readonly stream: RecordStream,
  ) {
    this.kinds = new Map(options.columns.columns.map((column) => [column.name, column.kind ?? 'raw']));
  }

  private where(row: number, column?: number): Omit<Problem, 'message'> {
    return { line: row, row, sheet: this.book.sheet, column, columnLetter: column === undefined ? undefined : columnLetter(column) };
  }

  take(rows: SheetRow[], scanner: SheetScanner): SourceRecord[] {
    const batch: SourceRecord[] = [];
    for (const row of rows) {
      if (!this.header) {
        if (row.cells.length === 0) continue;
        this.readHeader(row, scanner);
        continue;
      }
      const record = this.record(row);
      if (record) batch.push(record);
    }
    return batch;
  }

  private readHeader(row: SheetRow, scanner: SheetScanner): void {
    this.header = true;
    if (row.row !== 1) {
      throw new FileProblem([{ ...this.where(1), message: `row 1 is empty: the header (the column names) must be in row 1, and the first cells are in row ${row.row}` }], 'header');
    }
    const width = Math.max(0, ...row.cells.map((cell) => cell.column));
    const titles = new Array<string>(width).fill('');
    for (const cell of row.cells) titles[cell.column - 1] = cell.text;
    this.stream.header = titles;
    const { names, problems } = resolveHeader(titles, this.options, this.stream.ignored, (column) => this.where(1, column || undefined));
    const hidden = scanner.hiddenColumns();
    names.forEach((name, i) => {
      if (name !== null && hidden.has(i + 1)) problems.push({ ...this.where(1, i + 1), field: titles[i], message: 'the column is hidden in the workbook: unhide it (its cells would be imported unseen)' });
    });
    if (problems.length > 0) throw new FileProblem(problems, 'header');
    this.names = names;
    this.columnOfField = new Map(names.flatMap((name, i) => (name === null ? [] : [[name, i + 1] as [string, number]])));
  }

  private record(row: SheetRow): SourceRecord | undefined {
    if (row.cells.length === 0) return undefined;
    const values: Record<string, unknown> = {};
    const width = Math.max(this.names.length, ...row.cells.map((cell) => cell.column));
    const raw = new Array<XlsxCell>(width).fill(null);
    let problem: Problem | undefined;
    for (const cell of row.cells) {
      raw[cell.column - 1] = cell.raw;
      const name = this.names[cell.column - 1];
      const at = (message: string): Problem => ({ ...this.where(row.row, cell.column), field: name ?? this.stream.header?.[cell.column - 1] ?? undefined, message });
      if (cell.problem) problem ??= at(cell.problem);
      else if (name === undefined || (name === null && (this.stream.header?.[cell.column - 1] ?? '') === '')) problem ??= at('a value in a column without a name in the header');
      else if (name !== null && cell.date && this.kinds.get(name) !== 'timestamp') problem ??= at(`a date (${cell.text}) where ${name} expects text: format the column as Text and type the value again`);
      if (name) values[name] = cell.text;
    }
    if (row.hidden) problem ??= { ...this.where(row.row), message: 'the row is hidden in the workbook: unhide it (it would be imported unseen), or delete it' };
    const record: SourceRecord = {
      index: ++this.index,
      line: row.row,
      row: row.row,
      sheet: this.book.sheet,
      column: 1,
      values,
      raw: { kind: 'xlsx', cells: raw },
      locate: (field) => ({ line: row.row, column: this.columnOfField.get(field) ?? 1 }),
    };
    if (problem) record.problem = problem;
    return record;
  }

  finish(scanner: SheetScanner): void {
    if (!this.header) throw new FileProblem([{ ...this.where(1), message: `the sheet is empty: expected the header (the column names) in row 1` }], 'header');
    const merged = scanner.merged();
    if (merged.length > 0) {
      throw new FileProblem(
        merged.slice(0, 20).map((range) => ({
          ...this.where(Number(/\d+/.exec(range)?.[0] ?? 1), columnOfReferenceSafe(range)),
          message: `cells ${range} are merged: only the first holds a value; unmerge them so that each row has its own`,
        })),
      );
    }
  }
}

function columnOfReferenceSafe(range: string): number | undefined {
  const column = columnOfReference(range);
  return column > 0 ? column : undefined;
}
