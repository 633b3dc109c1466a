import type { InValue } from '@libsql/client';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker, workerMessages, type WorkerCrash } from '../../worker-thread.js';
import { fileDatabasePath, openNativeFileConnection, type Database, type NativeConnection } from '../client.js';
import type { ExportFormat } from './formats.js';
import type { OptionPivot } from './option-pivot.js';
import type { RowQuery } from './row-query.js';
import type { ExportColumn, ExportTable } from './tables.js';

/**
 * A large `file:` export renders its rows in two threads, each with its own connection: the rows
 * in key order are cut into blocks of `blockRows`, thread 0 renders the even blocks and thread 1
 * the odd ones, and this thread writes the blocks in order. Both connections read one snapshot:
 * they start their read transactions while a third connection holds the write lock
 * (`BEGIN IMMEDIATE`), so no commit can come between them; the lock is released before the first
 * row is rendered. Where the lock cannot be had at once (a writer is busy, a read-only file) or
 * the export is a single block, the caller reads the rows itself.
 */

export interface ThreadedJob {
  table: ExportTable;
  format: Extract<ExportFormat, 'csv' | 'json' | 'jsonl'>;
  excel: boolean;
  query: RowQuery;
  blockRows: number;
}

/** What a rendering thread is given: plain data, so that it loads no more than the text formats. */
export interface RenderWorkerData {
  columns: ExportColumn[];
  groupIndex: number;
  pivot?: OptionPivot;
  format: ThreadedJob['format'];
  excel: boolean;
  query: RowQuery;
  path: string;
  busyTimeoutMs: number;
  /** This thread renders blocks `thread`, `thread + threads`, … */
  thread: number;
  threads: number;
}

export type RenderRequest = { type: 'begin'; bounds: InValue[] } | 'ack';

export type RenderMessage =
  | { type: 'ready' }
  | { type: 'chunk'; block: number; data: Uint8Array; rows: number; last: boolean; groups?: Array<[string, number]> }
  | { type: 'error'; message: string };

export interface RenderedChunk {
  data: Uint8Array;
  rows: number;
  /** Rows per group of a block, with its last chunk. */
  groups?: Array<[string, number]>;
}

const THREADS = 2;
export const DEFAULT_BLOCK_ROWS = 2_000;

/** The first key of every block after the first: rows blockRows + 1, 2 × blockRows + 1, … */
function blockBounds(connection: NativeConnection, query: RowQuery, blockRows: number): InValue[] {
  const where = query.where.length > 0 ? ` WHERE ${query.where.join(' AND ')}` : '';
  const sql = `SELECT k FROM (SELECT ${query.key} AS k, row_number() OVER (ORDER BY ${query.key}) AS n FROM ${query.from}${where}) WHERE n > 1 AND (n - 1) % ? = 0`;
  const rows = connection.prepare(sql).raw(true).safeIntegers(true).all(...query.args, blockRows) as unknown[][];
  return rows.map((row) => row[0] as InValue);
}

/** The write lock, held only while the reading threads start their transactions; undefined when it is not free at once. */
async function takeLock(database: Database): Promise<NativeConnection | undefined> {
  let lock: NativeConnection | undefined;
  try {
    lock = await openNativeFileConnection(database, { busyTimeoutMs: 0 });
    lock.exec('BEGIN IMMEDIATE');
    return lock;
  } catch {
    lock?.close();
    return undefined;
  }
}

function startRenderer(database: Database, job: ThreadedJob, thread: number): Worker {
  const data: RenderWorkerData = {
    columns: job.table.columns,
    groupIndex: job.table.groupIndex,
    pivot: job.table.pivot,
    format: job.format,
    excel: job.excel,
    query: job.query,
    path: fileDatabasePath(database),
    busyTimeoutMs: database.busyTimeoutMs,
    thread,
    threads: THREADS,
  };
  return startModuleWorker(import.meta.url, 'render-worker', data, { maxYoungGenerationSizeMb: 8 });
}

function failure(message: RenderMessage | WorkerCrash): Error {
  return message.type === 'crash' ? message.error : new Error(message.type === 'error' ? message.message : `unexpected message from a rendering thread: ${message.type}`);
}

export interface ThreadedExport {
  /** The rendered text in key order, a chunk at a time; the last block's last chunk ends the file. */
  chunks(): AsyncGenerator<RenderedChunk>;
  close(): Promise<void>;
}

/** Starts the rendering threads on one snapshot, or says (undefined) that this export is read on this thread. */
export async function startThreadedExport(database: Database, job: ThreadedJob): Promise<ThreadedExport | undefined> {
  if (database.kind !== 'file') return undefined;
  const lock = await takeLock(database);
  if (!lock) return undefined;
  const workers: Worker[] = [];
  try {
    const bounds = blockBounds(lock, job.query, job.blockRows);
    if (bounds.length === 0) return undefined;
    for (let thread = 0; thread < THREADS; thread++) workers.push(startRenderer(database, job, thread));
    const messages = workers.map((worker, thread) => workerMessages<RenderMessage>(worker, `export rendering thread ${thread}`));
    for (const worker of workers) worker.postMessage({ type: 'begin', bounds } satisfies RenderRequest);
    for (const stream of messages) {
      const message = await stream.next();
      if (message.type !== 'ready') throw failure(message);
    }
    const blocks = bounds.length + 1;
    return {
      async *chunks() {
        for (let block = 0; block < blocks; block++) {
          const thread = block % THREADS;
          for (;;) {
            const message = await messages[thread].next();
            if (message.type !== 'chunk' || message.block !== block) throw failure(message);
            yield { data: message.data, rows: message.rows, groups: message.groups };
            workers[thread].postMessage('ack' satisfies RenderRequest);
            if (message.last) break;
          }
        }
      },
      close: async () => void (await Promise.all(workers.map((worker) => worker.terminate()))),
    };
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
  }
}
