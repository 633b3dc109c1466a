import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { FileFormat, RawRecord } from './records.js';

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The rows `--skip-invalid` leaves out, written as they came with an `error` column added: CSV
 * rows under the input's header, JSON records as JSON Lines. Fix the errors and import the file.
 */
export class RejectsWriter {
  private readonly stream: WriteStream;
  private started = false;
  count = 0;

  constructor(
    readonly path: string,
    private readonly format: FileFormat,
    private readonly header: string[] | undefined,
  ) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
  }

  async write(raw: RawRecord, error: string): Promise<void> {
    let line: string;
    if (raw.kind === 'csv') {
      if (!this.started) {
        this.started = true;
        this.stream.write([...(this.header ?? []), 'error'].map(csvField).join(',') + '\r\n');
      }
      line = [...raw.fields, error].map(csvField).join(',') + '\r\n';
    } else {
      const value = raw.value !== null && typeof raw.value === 'object' && !Array.isArray(raw.value) ? { ...raw.value, error } : { record: raw.value ?? raw.text, error };
      line = JSON.stringify(value) + '\n';
    }
    this.count++;
    if (!this.stream.write(line)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.format === 'csv' && !this.started && this.header) {
      this.started = true;
      this.stream.write([...this.header, 'error'].map(csvField).join(',') + '\r\n');
    }
    this.stream.end();
    await once(this.stream, 'close');
  }
}
