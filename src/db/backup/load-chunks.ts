import { startModuleWorker, workerMessages } from '../../worker-thread.js';

export interface LoadChunksOptions {
  path: string;
  /** Lower-case names of the tables and views the restore loads. */
  tableNames: string[];
  viewNames: string[];
  /** Lower-case names of the audit tables whose rows are merged into the target's (see merged-tables.ts). */
  mergedNames: string[];
  /** Statements are joined into chunks of about this many characters. */
  chunkChars: number;
}

export type LoadMessage =
  | { type: 'chunks'; chunks: string[]; statements: number; fileBytesRead: number; fileBytes: number }
  | { type: 'end'; checksum: string }
  | { type: 'error'; message: string };

export interface LoadChunks {
  chunks: string[];
  statements: number;
  fileBytesRead: number;
  fileBytes: number;
}

/**
 * The statements a `file:` restore loads, joined into chunks, read and split in a worker thread:
 * splitting a dump is a third of a restore's time, and it runs beside SQLite executing the chunks
 * before. Returns the checksum of the bytes read, so the caller can tell the file did not change
 * since it was verified.
 */
export async function* loadChunks(options: LoadChunksOptions): AsyncGenerator<LoadChunks, string> {
  // no cap on the old generation: one statement (a row with a big blob) may be large
  const worker = startModuleWorker(import.meta.url, 'load-worker', options, { maxYoungGenerationSizeMb: 8 });
  // a caller that stops early must not be kept alive by the thread
  worker.unref();
  const messages = workerMessages<LoadMessage>(worker, "the restore's reading thread");
  try {
    for (;;) {
      const message = await messages.next();
      switch (message.type) {
        case 'chunks':
          worker.postMessage('ack');
          yield message;
          break;
        case 'end':
          return message.checksum;
        case 'error':
          throw new Error(message.message);
        case 'crash':
          throw message.error;
      }
    }
  } finally {
    await worker.terminate();
  }
}
