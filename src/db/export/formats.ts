import type { InterchangeFormat } from '../interchange/model.js';
import { interchangeWriter, type SkippedQuestions } from '../interchange/writers.js';
import type { ExportColumn } from './tables.js';
import { csvWriter, jsonWriter } from './text-formats.js';

/** The export formats; how each value is written is in text-formats.ts. */

export type ExportFormat = 'csv' | 'json' | 'jsonl' | 'xlsx' | InterchangeFormat;

export interface RecordWriter {
  /** Text before the first record. */
  start(): string;
  record(values: unknown[], first: boolean): string;
  /** Text after the last record. */
  end(): string;
  /** Formats that cannot hold every question (Aiken, GIFT, Moodle XML): those left out. */
  skipped?(): SkippedQuestions;
}

/** What `import --excel` does to each cell, the exact inverse of `excelSafe`, lives with the import's reader. */
export { removeExcelApostrophe } from '../import/records.js';

export { cellText, csvWriter, excelSafe, jsonValue, jsonWriter } from './text-formats.js';

/** The text formats; xlsx's sheet rows come from `xlsxRecordWriter` (export/xlsx.ts). */
export function recordWriter(format: Exclude<ExportFormat, 'xlsx'>, columns: ExportColumn[], options: { excel: boolean }): RecordWriter {
  if (format === 'csv') return csvWriter(columns, options);
  return format === 'json' || format === 'jsonl' ? jsonWriter(columns, format === 'jsonl') : interchangeWriter(format, columns);
}

/** The formats of the files `qbank import` reads as they are (not the interchange formats' readers). */
export function isRecordFormat(format: ExportFormat): boolean {
  return format === 'csv' || format === 'json' || format === 'jsonl' || format === 'xlsx';
}
