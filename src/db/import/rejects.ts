import { UsageError } from '../../errors.js';
import type { OutputFile } from '../../output-file.js';
import { REJECTS_ERROR_COLUMN, type FileFormat, type RawRecord } from './records.js';


function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Rejected rows of a JSON file cannot be written as CSV: their values are lists and objects a CSV cell does not hold as they came. */
export class RejectsFormatError extends UsageError {
  constructor(
    readonly rejectsFile: string,
    readonly inputFile: string,
  ) {
    super(`${rejectsFile} would be a CSV file, but the records of ${inputFile} are JSON: name the rejects file .json or .jsonl`);
  }
}

/**
 * The rows `--skip-invalid` leaves out, written as they came with an `error` field added, in the
 * format the rejects file's name says (else the input's): CSV rows under the input's header; JSON
 * records as a JSON array (`.json`) or one per line (`.jsonl`). CSV rows written as JSON are
 * objects keyed by the header, an empty cell as `null` (what an empty cell means on import).
 * Fix the errors and import the file as it is.
 */
export class RejectsWriter {
  private started = false;
  count = 0;

  constructor(
    private readonly file: OutputFile,
    private readonly format: FileFormat,
    private readonly header: string[] | undefined,
  ) {}

  get path(): string {
    return this.file.path;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.format === 'csv') await this.file.write([...(this.header ?? []), REJECTS_ERROR_COLUMN].map(csvField).join(',') + '\r\n');
    else if (this.format === 'json') await this.file.write('[');
  }

  async write(raw: RawRecord, error: string): Promise<void> {
    await this.start();
    let text: string;
    if (this.format === 'csv') {
      // JSON input never reaches here: RejectsFormatError refuses it before the import starts
      text = [...(raw.kind === 'csv' ? raw.fields : []), error].map(csvField).join(',') + '\r\n';
    } else {
      const record = JSON.stringify(this.asObject(raw, error));
      text = this.format === 'json' ? `${this.count === 0 ? '\n' : ',\n'}${record}` : record + '\n';
    }
    this.count++;
    await this.file.write(text);
  }

  private asObject(raw: RawRecord, error: string): Record<string, unknown> {
    if (raw.kind === 'csv') {
      const record: Record<string, unknown> = {};
      (this.header ?? []).forEach((name, index) => {
        const field = raw.fields[index];
        record[name] = field === undefined || field === '' ? null : field;
      });
      return { ...record, [REJECTS_ERROR_COLUMN]: error };
    }
    if (raw.value !== null && typeof raw.value === 'object' && !Array.isArray(raw.value)) return { ...raw.value, [REJECTS_ERROR_COLUMN]: error };
    return { record: raw.value ?? raw.text, [REJECTS_ERROR_COLUMN]: error };
  }

  /** Writes the end (and what a file with no rejected rows holds: a CSV header, an empty array); the caller commits the file with the import. */
  async finish(): Promise<void> {
    await this.start();
    if (this.format === 'json') await this.file.write(this.count === 0 ? ']\n' : '\n]\n');
  }
}
