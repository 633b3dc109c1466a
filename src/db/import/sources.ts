import { readRecords, type FileFormat, type RecordReaderOptions, type RecordStream } from './records.js';
import { openTextSource } from './text-source.js';

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
}

export async function openRecordSource(path: string, options: RecordSourceOptions): Promise<RecordSource> {
  const source = await openTextSource(path, { encoding: options.encoding });
  try {
    const stream = readRecords(source, options);
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
