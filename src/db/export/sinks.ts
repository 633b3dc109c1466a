import { fdatasync } from 'node:fs';
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

/** Bytes written between two syncs started while the export goes on. */
const SYNC_AHEAD_BYTES = 32 << 20;

export async function fileExportSink(path: string, options: { cwd: string; force?: boolean }): Promise<FileExportSink> {
  const file: OutputFile = await prepareOutputFile(path, { cwd: options.cwd, force: options.force, what: 'export' });
  // `commit` syncs the file to disk before it gets its name; syncing as the export goes leaves it
  // little to do then (200 MB: 150 ms or more at the end otherwise). A failed sync here is found by that one.
  let unsynced = 0;
  let syncing = false;
  const syncAhead = (bytes: number) => {
    unsynced += bytes;
    // an fs write stream keeps its file's descriptor as `fd` (left out of its type)
    const fd = (file.stream as { fd?: unknown }).fd;
    if (syncing || unsynced < SYNC_AHEAD_BYTES || typeof fd !== 'number') return;
    syncing = true;
    unsynced = 0;
    fdatasync(fd, () => (syncing = false));
  };
  const writeThrough = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => {
      file.stream.write(chunk, (error) => {
        if (error) return reject(new QbankError(`cannot write the export ${path}: ${error.message}`, { cause: error }));
        syncAhead(chunk.length);
        resolve();
      });
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
