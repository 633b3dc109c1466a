import { isInterchangeFormat, readInterchange, type InterchangeDefaults } from '../interchange/index.js';
import { readRecords, type FileFormat, type RecordReaderOptions, type RecordStream } from './records.js';
import { openTextSource } from './text-source.js';
import { openXlsxSource } from './xlsx.js';

/**
 * Where an import's records come from: the file opened by the reader of its format. Text formats
 * (CSV, JSON, JSON Lines) decode through a TextSource; each format's reader turns the file into
 * the same SourceRecords, named by the canonical column names, so validation and writing never
 * see which format a row came from.
 */
export interface RecordSource {
  /** The encoding the file was read in (a format's own name, such as `xlsx`, for binary files). */
  readonly encoding: string;
  readonly totalBytes: number;
  bytesRead(): number;
  readonly stream: RecordStream;
  close(): Promise<void>;
}

export interface RecordSourceOptions extends RecordReaderOptions {
  format: FileFormat;
  encoding?: string;
  /** Moodle XML, GIFT, Aiken: the exam and difficulty for what the file cannot say. */
  interchange?: InterchangeDefaults;
}

export async function openRecordSource(path: string, options: RecordSourceOptions): Promise<RecordSource> {
  if (options.format === 'xlsx') return openXlsxSource(path, options);
  const source = await openTextSource(path, { encoding: options.encoding });
  try {
    const stream = isInterchangeFormat(options.format) ? await readInterchange(source, options.format, options.interchange ?? {}, options.onText) : readRecords(source, options);
    return {
      get encoding() {
        return source.encoding;
      },
      totalBytes: source.totalBytes,
      bytesRead: () => source.bytesRead(),
      stream,
      close: () => source.close(),
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}
