import type { SystemName } from '../../config.js';
import { InvalidInputError, UsageError } from '../../errors.js';
import { describeDatabaseError, readQuery, type Database } from '../client.js';
import { whereOf, type ExportFilters } from './filters.js';
import { isRecordFormat, recordWriter, type ExportFormat } from './formats.js';
import { DEFAULT_PAGES, readRows, type PageSettings } from './reader.js';
import { exportTable, type ExportKind, type ExportTable } from './tables.js';
import { leaveOutSkipped, type SkippedQuestions } from '../interchange/writers.js';
import { XlsxSheetWriter, xlsxRecordWriter } from './xlsx.js';
import { ByteChunks } from './chunks.js';

export type { ExportFilters } from './filters.js';
export type { ExportFormat } from './formats.js';
export type { ExportKind } from './tables.js';

/** Where exported text goes: a file through `prepareOutputFile`, or standard output. */
export interface ExportSink {
  /** Resolves when the sink can take more (the chunk may still be queued). */
  write(chunk: string | Buffer): Promise<void>;
  /** Resolves once the chunk is written, so that its memory can be filled again. */
  writeThrough?(chunk: Buffer): Promise<void>;
}

export interface ExportOptions {
  system: SystemName;
  kind: ExportKind;
  format: ExportFormat;
  /** For spreadsheets: BOM, CRLF, formula-looking cells behind an apostrophe (CSV only). */
  excel?: boolean;
  filters?: ExportFilters;
  pages?: PageSettings;
  /** Told after each batch written: rows and bytes so far. */
  onProgress?: (progress: ExportProgress) => void;
}

export interface ExportProgress {
  rows: number;
  bytes: number;
}

export interface ExportGroup {
  group: string;
  rows: number;
}

export interface ExportSummary {
  system: SystemName;
  kind: ExportKind;
  format: ExportFormat;
  excel: boolean;
  rows: number;
  bytes: number;
  /** What `groups` are keyed by: exam, channel, vendor, provider. */
  groupBy: string;
  groups: ExportGroup[];
  seconds: number;
  /** HTTP requests to a remote database (0 for file:). */
  roundTrips: number;
  /** Moodle XML, GIFT, Aiken: questions the format cannot hold, left out (not in `rows`). */
  skipped?: SkippedQuestions;
}

/** The system has no such records (certifications of PingToPass, say). */
export class NoSuchExportError extends UsageError {
  constructor(
    readonly system: SystemName,
    readonly kind: ExportKind,
  ) {
    super(`${system} has no ${kind}: ${kind === 'exams' ? 'exams belong to pingtopass' : 'certifications belong to open-interview'}`);
  }
}

/** Excel's safeguards are for CSV; a JSON file is not opened as a spreadsheet. */
export class ExcelNeedsCsvError extends UsageError {
  constructor(readonly format: ExportFormat) {
    super(`the spreadsheet form is CSV, not ${format}`);
  }
}

export function tableFor(system: SystemName, kind: ExportKind, options: { jsonTexts?: boolean } = {}): ExportTable {
  const table = exportTable(system, kind, options);
  if (!table) throw new NoSuchExportError(system, kind);
  return table;
}

/** Exam codes a filter names that no exam has: nothing to export for them is a mistake worth saying. */
async function checkExamCodes(database: Database, codes: string[] | undefined): Promise<void> {
  if (!codes?.length) return;
  const found = await readQuery(database, 'SELECT code FROM exams WHERE code IN (SELECT value FROM json_each(?))', [JSON.stringify(codes)]);
  const known = new Set(found.rows.map((row) => String(row.code)));
  const missing = codes.filter((code) => !known.has(code));
  if (missing.length > 0) throw new InvalidInputError(`no exam with code ${missing.map((code) => `"${code}"`).join(', ')}`);
}

/**
 * Streams the records of one kind into `sink` in the import's format, ordered by key, from one
 * read snapshot. Only the batch being written is held in memory.
 */
export async function exportRecords(database: Database, sink: ExportSink, options: ExportOptions): Promise<ExportSummary> {
  const started = process.hrtime.bigint();
  const roundTripsBefore = database.roundTrips();
  const table = tableFor(options.system, options.kind, { jsonTexts: options.format === 'json' || options.format === 'jsonl' });
  const excel = Boolean(options.excel);
  if (excel && options.format !== 'csv') throw new ExcelNeedsCsvError(options.format);
  // the interchange formats' module holds their readers too (an XML parser): loaded when one is written
  if (!isRecordFormat(options.format)) (await import('../interchange/index.js')).checkInterchangeKind(options.system, options.kind, options.format);
  const { where, args } = whereOf(options.system, options.kind, options.filters ?? {});
  const writer = options.format === 'xlsx' ? xlsxRecordWriter(table.columns) : recordWriter(options.format, table.columns, { excel });
  // xlsx: the rows are a worksheet's XML, deflated into the workbook's package on the way to the sink
  const workbook = options.format === 'xlsx' ? new XlsxSheetWriter((chunk) => sink.write(chunk), { sheet: options.kind }) : undefined;
  await workbook?.start();
  const groups = new Map<string, number>();
  let skipped: SkippedQuestions | undefined;
  let rows = 0;
  // encoded once, record by record: the bytes counted are the bytes written
  const out = workbook
    ? new ByteChunks((chunk) => workbook.sheetText(chunk), { reuse: true, inFlight: 1 })
    : new ByteChunks(sink.writeThrough ? (chunk) => sink.writeThrough!(chunk) : (chunk) => sink.write(chunk), { reuse: Boolean(sink.writeThrough) });
  out.append(writer.start());
  try {
    await checkExamCodes(database, options.filters?.exams);
    const query = { select: table.select, from: table.from, where, args, key: table.key, keyIndex: table.keyIndex, quick: table.quick };
    for await (const batch of readRows(database, query, options.pages ?? DEFAULT_PAGES)) {
      for (const row of batch) {
        const values = table.toValues(row);
        const group = String(values[table.groupIndex] ?? '');
        groups.set(group, (groups.get(group) ?? 0) + 1);
        out.append(writer.record(values, rows === 0));
        rows++;
        if (out.full) await out.flush();
      }
      options.onProgress?.({ rows, bytes: out.bytes });
    }
    out.append(writer.end());
    await out.end();
    skipped = writer.skipped?.();
    if (skipped) rows = leaveOutSkipped(rows, groups, skipped);
    await workbook?.finish();
  } catch (error) {
    throw describeDatabaseError(error, database, 'export');
  }
  return {
    system: options.system,
    kind: options.kind,
    format: options.format,
    excel,
    rows,
    bytes: out.bytes,
    groupBy: table.groupLabel,
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([group, count]) => ({ group, rows: count })),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    roundTrips: database.roundTrips() - roundTripsBefore,
    ...(skipped ? { skipped } : {}),
  };
}
