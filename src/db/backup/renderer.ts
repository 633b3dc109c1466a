import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { InValue } from '@libsql/client';
import { openNativeFileConnection, type Database, type NativeConnection } from '../client.js';
import { createLineBreakEscaper } from './line-breaks.js';

/** A page rendered by a renderer: its rows as dump lines, or what must be done to write them exactly. */
export interface RenderedPage {
  rows: number;
  /** The fast form could not render the page exactly: the caller reads it again in this form. */
  needs?: 'exact' | 'hex-text';
  /** The page's INSERT lines, joined by LF (no final LF); absent when `needs` is set. */
  lines?: Buffer;
}

/**
 * A read connection to a `file:` database in its own thread, that renders pages of a dump and
 * turns them into lines: rendering rows as SQL inside SQLite is most of a dump's time, and one
 * connection only ever uses one core, so a dump runs two of these side by side.
 *
 * Every connection must read the same snapshot. The caller opens renderers while its own read
 * transaction holds the database's shared lock in rollback-journal mode, where no writer can
 * commit until every reader is done: whatever a renderer reads is what the caller reads. In WAL
 * mode, where readers do not hold writers off, a `WriteFence` does it while the snapshots start.
 */
export class PageRenderer {
  private readonly waiting = new Map<number, { resolve: (page: RenderedPage) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { id: number; rows: number; needs?: RenderedPage['needs']; lines?: Uint8Array; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else {
        const lines = message.lines ? Buffer.from(message.lines.buffer, message.lines.byteOffset, message.lines.byteLength) : undefined;
        waiter.resolve({ rows: message.rows, needs: message.needs, lines });
      }
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(this.failure);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a dump renderer thread stopped (exit code ${code})`)));
  }

  /**
   * Starts the thread and its read transaction; undefined when it cannot start one at once (a
   * writer waiting to commit holds new readers off): the dump then reads on one connection.
   */
  static async open(path: string, specialMarks: string[]): Promise<PageRenderer | undefined> {
    const libsql = createRequire(import.meta.url).resolve('libsql');
    // no inherited flags: `--input-type=module` in the parent would make this CommonJS source a module
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { path, libsql, specialMarks } });
    worker.unref();
    const ready = await new Promise<boolean>((resolve) => {
      worker.once('message', (message: { ready?: boolean }) => resolve(message.ready === true));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    if (!ready) {
      await worker.terminate();
      return undefined;
    }
    return new PageRenderer(worker);
  }

  /**
   * Runs a page query (its row: count, rendered count, ..., the NUL-joined rows) in the renderer's
   * transaction and turns the page into lines, unless the fast form fell short on it.
   */
  render(sql: string, args: InValue[], prefixBytes: number): Promise<RenderedPage> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<RenderedPage>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, args, prefixBytes });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the dump renderer is closed');
    await this.worker.terminate();
  }
}

const WORKER_SOURCE = `
'use strict';
var __name = (target) => target;
const { parentPort, workerData } = require('node:worker_threads');
const { isUtf8 } = require('node:buffer');
const { pageToLines } = (${createLineBreakEscaper.toString()})();
const Database = require(workerData.libsql);
let db;
try {
  db = new Database(workerData.path, { timeout: 0 });
  db.exec('PRAGMA query_only = ON');
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_schema').get();
  parentPort.postMessage({ ready: true });
} catch (error) {
  parentPort.postMessage({ ready: false });
  process.exit(0);
}
const prepared = new Map();
parentPort.on('message', ({ id, sql, args, prefixBytes }) => {
  try {
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare(sql).raw();
      statement.safeIntegers(true);
      prepared.set(sql, statement);
    }
    const row = statement.get(args);
    const rows = Number(row[0]);
    const text = row[row.length - 1] || Buffer.alloc(0);
    let needs;
    if (Number(row[1]) < rows) needs = 'exact';
    else if (!isUtf8(text)) needs = 'hex-text';
    else if (workerData.specialMarks.some((mark) => text.includes(mark))) needs = 'exact';
    if (needs || rows === 0) {
      parentPort.postMessage({ id, rows, needs });
      return;
    }
    const lines = pageToLines(text, prefixBytes);
    const owned = lines.byteOffset === 0 && lines.byteLength === lines.buffer.byteLength;
    parentPort.postMessage({ id, rows, lines }, owned ? [lines.buffer] : []);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

/**
 * In WAL mode readers do not hold writers off, so connections that start reading one after the
 * other may see different commits. A fence holds the write lock while the dump's connections take
 * their snapshots, so none can land in between; it is lifted as soon as they have (writers wait a
 * moment, nothing more). `open` gives undefined when the database is not in WAL mode, or when a
 * writer holds the lock right now (the dump then reads on one connection).
 */
export class WriteFence {
  private constructor(private readonly connection: NativeConnection) {}

  static async open(database: Database): Promise<WriteFence | undefined> {
    let connection: NativeConnection | undefined;
    try {
      connection = await openNativeFileConnection(database, { busyTimeoutMs: 0 });
      const mode = connection.prepare('PRAGMA journal_mode').raw().get() as unknown[];
      if (String(mode[0]).toLowerCase() !== 'wal') {
        connection.close();
        return undefined;
      }
      connection.exec('BEGIN IMMEDIATE');
      return new WriteFence(connection);
    } catch {
      connection?.close();
      return undefined;
    }
  }

  lift(): void {
    if (!this.connection.open) return;
    try {
      if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
    } finally {
      this.connection.close();
    }
  }
}
