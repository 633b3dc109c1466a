import type { InStatement, Transaction } from '@libsql/client';
import { availableParallelism } from 'node:os';
import { isBusyError, openNativeFileConnection, quoteIdent, type Database, type NativeConnection } from '../client.js';
import type { Statement } from './encoder.js';

export interface QueryResult {
  rows: Array<Record<string, unknown>>;
}

/**
 * Runs the import's statements inside its one transaction. Writes go through `send`, which may
 * return before they ran; `query` runs after everything sent before it.
 */
export interface ImportRunner {
  send(statements: Statement[], bytes: number): Promise<void>;
  drain(): Promise<void>;
  query(statements: Statement[]): Promise<QueryResult[]>;
  /**
   * `file:` databases: the rows of a query as arrays, read as they are iterated, so that two
   * queries can be read side by side without holding either's rows (writes must wait until done).
   */
  rows?(sql: string, args?: unknown[]): Iterable<ArrayLike<unknown>>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): void;
  /**
   * False when the runner was opened for a bulk load (see `BulkLoad`): SQLite then skips its
   * per-row foreign key lookups (measured: 0.7 s of 200,000 questions' 5 s), and the target must
   * only write references it built from rows read or written in the same transaction.
   */
  readonly foreignKeysChecked: boolean;
}

/**
 * Tables a target fills with plain inserts when they are empty, and the foreign keys (`table.column`)
 * whose values it builds itself. Foreign keys go unchecked for the load only when the tables are
 * empty, have no triggers, and have no foreign key beyond these (one an operator added, say).
 */
export interface BulkLoad {
  tables: string[];
  references: string[];
}

function canLoadInBulk(connection: NativeConnection, bulk: BulkLoad): boolean {
  const list = bulk.tables.map((table) => `'${table.replaceAll("'", "''")}'`).join(', ');
  const empty = bulk.tables.map((table) => `NOT EXISTS (SELECT 1 FROM ${quoteIdent(table)})`).join(' AND ');
  const known = bulk.references.map((reference) => `'${reference.replaceAll("'", "''")}'`).join(', ');
  const row = connection
    .prepare(
      `SELECT ${empty} AS empty,
         (SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN (${list})) AS triggers,
         (SELECT count(*) FROM sqlite_schema AS t, pragma_foreign_key_list(t.name) AS f
           WHERE t.type = 'table' AND t.name IN (${list}) AND t.name || '.' || f."from" NOT IN (${known || 'NULL'})) AS others`,
    )
    .get() as { empty: number; triggers: number; others: number };
  return Number(row.empty) === 1 && Number(row.triggers) === 0 && Number(row.others) === 0;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Opens the transaction, waiting while another writer holds the lock: a killed import's stream
 * holds it on a server until the stream expires (10 s on sqld). Nothing was written when BEGIN
 * fails, so trying again is safe.
 */
async function waitForLock<T>(open: () => Promise<T>, onWait?: (message: string) => void, what = 'the database'): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (!isBusyError(error) || Date.now() > deadline) throw error;
      if (attempt === 0) onWait?.(`${what} is locked by another writer; waiting up to 15 s`);
      await sleep(250);
    }
  }
}

/**
 * `file:` databases: a connection of the driver itself, where each distinct statement text is
 * prepared once. A full batch of a bulk insert always has the same text, so a 200,000-row import
 * prepares a handful of statements instead of 800.
 */
export class NativeRunner implements ImportRunner {
  private readonly prepared = new Map<string, ReturnType<NativeConnection['prepare']>>();

  private constructor(
    private readonly connection: NativeConnection,
    readonly foreignKeysChecked: boolean,
  ) {}

  static async open(database: Database, dryRun: boolean, onWait?: (message: string) => void, bulk?: BulkLoad): Promise<NativeRunner> {
    const connection = await openNativeFileConnection(database);
    let foreignKeysChecked = true;
    try {
      // libSQL is built to keep temporary tables and sorts in memory (SQLITE_TEMP_STORE=2): the
      // staging tables and the index builds of a big import would hold the file in RAM (measured:
      // 150 MB more for 600,000 questions). In temporary files, memory stays flat.
      connection.exec('PRAGMA temp_store = FILE');
      // Index builds sort with a helper thread; by then the parsing thread has finished.
      connection.exec(`PRAGMA threads = ${Math.min(4, Math.max(0, availableParallelism() - 1))}`);
      const begin = () => waitForLock(async () => connection.exec(dryRun ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE'), onWait, database.displayUrl);
      // The pragma is ignored inside a transaction: decide before BEGIN, and check again after.
      if (!dryRun && bulk && (await waitForLock(async () => canLoadInBulk(connection, bulk), onWait, database.displayUrl))) {
        connection.exec('PRAGMA foreign_keys = OFF');
        foreignKeysChecked = false;
      }
      await begin();
      if (!foreignKeysChecked && !canLoadInBulk(connection, bulk!)) {
        connection.exec('ROLLBACK');
        connection.exec('PRAGMA foreign_keys = ON');
        foreignKeysChecked = true;
        await begin();
      }
    } catch (error) {
      connection.close();
      throw error;
    }
    return new NativeRunner(connection, foreignKeysChecked);
  }

  private statement(sql: string): ReturnType<NativeConnection['prepare']> {
    let statement = this.prepared.get(sql);
    if (!statement) {
      if (this.prepared.size >= 64) this.prepared.clear();
      statement = this.connection.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  async send(statements: Statement[]): Promise<void> {
    for (const statement of statements) {
      if (typeof statement === 'string') this.connection.exec(statement);
      else this.statement(statement.sql).run(statement.args);
    }
  }

  async drain(): Promise<void> {}

  async query(statements: Statement[]): Promise<QueryResult[]> {
    return statements.map((statement) => {
      const sql = typeof statement === 'string' ? statement : statement.sql;
      const args = typeof statement === 'string' ? [] : statement.args;
      const prepared = this.statement(sql);
      if (!prepared.reader) {
        prepared.run(args);
        return { rows: [] };
      }
      return { rows: prepared.all(args) as Array<Record<string, unknown>> };
    });
  }

  rows(sql: string, args: unknown[] = []): Iterable<ArrayLike<unknown>> {
    return this.connection.prepare(sql).raw().iterate(args) as Iterable<ArrayLike<unknown>>;
  }

  async commit(): Promise<void> {
    this.connection.exec('COMMIT');
  }

  async rollback(): Promise<void> {
    if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
  }

  close(): void {
    this.prepared.clear();
    if (this.connection.open) {
      if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
      this.connection.close();
    }
  }
}

/**
 * How long after its last request a remote runner sends what it holds, whatever its weight: well
 * inside the 10 s after which sqld expires an idle stream, and long enough that the small batches
 * of a re-import (the keys of unchanged rows) go with the request that follows them.
 */
const HOLD_MS = 4_000;

/**
 * Remote databases: an interactive transaction on one Hrana stream. Batches are not awaited one
 * by one: the stream queues them and packs everything queued into the next HTTP request while the
 * previous one is in flight, so a 10,000-question import costs a handful of round trips. The
 * window bounds what is queued (and so the size of one request).
 */
export class RemoteRunner implements ImportRunner {
  readonly foreignKeysChecked = true;
  private inFlight: Array<{ promise: Promise<unknown>; bytes: number }> = [];
  private inFlightBytes = 0;
  private failure: unknown;
  /**
   * Statements held until they weigh `batchBytes`, or until a send comes `HOLD_MS` after the last
   * request: small batches (a re-import's keys) would each cost a round trip, and a stream left idle
   * too long expires (10 s on sqld).
   */
  private held: Statement[] = [];
  private heldBytes = 0;
  /** When the last request went out. */
  private sentAt = performance.now();

  private constructor(
    private readonly tx: Transaction,
    private readonly windowBytes: number,
    private readonly batchBytes = windowBytes / 2,
  ) {}

  static async open(database: Database, dryRun: boolean, onWait?: (message: string) => void, windowBytes = 4 << 20): Promise<RemoteRunner> {
    const tx = await waitForLock(
      async () => {
        const opened = await database.client.transaction(dryRun ? 'deferred' : 'write');
        try {
          await opened.execute('SELECT 1');
          return opened;
        } catch (error) {
          opened.close();
          throw error;
        }
      },
      onWait,
      database.displayUrl,
    );
    return new RemoteRunner(tx, windowBytes);
  }

  async send(statements: Statement[], bytes: number): Promise<void> {
    if (statements.length === 0) return;
    if (this.failure) throw this.failure;
    for (const statement of statements) this.held.push(statement);
    this.heldBytes += bytes;
    if (this.heldBytes >= this.batchBytes || performance.now() - this.sentAt >= HOLD_MS) await this.dispatch();
  }

  /** Sends what is held, waiting while more than the window is in flight. */
  private async dispatch(): Promise<void> {
    const { statements, bytes } = this.takeHeld();
    if (statements.length === 0) return;
    this.sentAt = performance.now();
    const promise = this.tx.batch(statements as InStatement[]).catch((error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.push({ promise, bytes });
    this.inFlightBytes += bytes;
    while (this.inFlightBytes > this.windowBytes && this.inFlight.length > 1) {
      const oldest = this.inFlight.shift()!;
      await oldest.promise;
      this.inFlightBytes -= oldest.bytes;
    }
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await this.dispatch();
    const pending = this.inFlight;
    this.inFlight = [];
    this.inFlightBytes = 0;
    await Promise.all(pending.map((entry) => entry.promise));
    if (this.failure) throw this.failure;
  }

  private takeHeld(): { statements: Statement[]; bytes: number } {
    const taken = { statements: this.held, bytes: this.heldBytes };
    this.held = [];
    this.heldBytes = 0;
    return taken;
  }

  /** Runs after everything sent; what is still held goes in the same request. */
  async query(statements: Statement[]): Promise<QueryResult[]> {
    const held = this.takeHeld().statements;
    await this.drain();
    this.sentAt = performance.now();
    const results = await this.tx.batch([...held, ...statements] as InStatement[]);
    return results.slice(held.length).map((result) => ({ rows: result.rows as unknown as Array<Record<string, unknown>> }));
  }

  async commit(): Promise<void> {
    await this.drain();
    await this.tx.commit();
  }

  async rollback(): Promise<void> {
    this.takeHeld();
    if (!this.tx.closed) await this.tx.rollback();
  }

  close(): void {
    this.takeHeld();
    this.tx.close();
  }
}

/** `bulk`: what a target fills directly when it can (see `BulkLoad`, `foreignKeysChecked`). */
export async function openRunner(database: Database, dryRun: boolean, onWait?: (message: string) => void, bulk?: BulkLoad): Promise<ImportRunner> {
  return database.kind === 'file' ? NativeRunner.open(database, dryRun, onWait, bulk) : RemoteRunner.open(database, dryRun, onWait);
}
