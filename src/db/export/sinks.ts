import type { Writable } from 'node:stream';
import { prepareOutputFile, type OutputFile } from '../../output-file.js';
import { QbankError } from '../../errors.js';
import { OutputClosedError } from '../../output/io.js';
import type { ExportSink } from './index.js';

/** A file through the rule every file qbank writes follows: temporary name, renamed on `commit`. */
export interface FileExportSink extends ExportSink {
  readonly path: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function fileExportSink(path: string, options: { cwd: string; force?: boolean }): Promise<FileExportSink> {
  const file: OutputFile = await prepareOutputFile(path, { cwd: options.cwd, force: options.force, what: 'export' });
  const writeThrough = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => {
      file.stream.write(chunk, (error) => (error ? reject(new QbankError(`cannot write the export ${path}: ${error.message}`, { cause: error })) : resolve()));
    });
  return { path: file.path, write: (chunk) => file.write(chunk), writeThrough, commit: () => file.commit(), abort: () => file.abort() };
}

/** Standard output, waiting for its reader; a reader that went away (`| head`) ends the export quietly. */
export function streamExportSink(stream: Writable): ExportSink {
  return {
    writeThrough(chunk) {
      return new Promise((resolve, reject) => {
        try {
          stream.write(chunk, (error) => (error ? reject(new OutputClosedError({ cause: error })) : resolve()));
        } catch (error) {
          reject(new OutputClosedError({ cause: error }));
        }
      });
    },
    write(chunk) {
      return new Promise((resolve, reject) => {
        const fail = (error: unknown) => reject(new OutputClosedError({ cause: error }));
        try {
          if (stream.write(chunk, (error) => (error ? fail(error) : undefined))) return resolve();
        } catch (error) {
          return fail(error);
        }
        stream.once('drain', () => resolve());
      });
    },
  };
}
