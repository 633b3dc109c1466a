import Database from 'libsql';
import type { SqlStatement } from './sql-analysis.js';

export type Statement = Database.Statement<unknown[]>;

export class SqlConnection {
  readonly db: Database.Database;
  /** A write ran in the current transaction: its commit moves the replication index. */
  pendingWrite = false;
  tainted = false;
  /**
   * last_insert_rowid() when the current stream took this connection, and whether it has moved
   * since: a stream on sqld has a fresh connection, where an INSERT that inserted nothing reports 0.
   */
  rowidBaseline = 0n;
  rowidMoved = false;
  private readonly statements = new Map<string, Statement>();
  private lastChanges?: Statement;

  constructor(path: string, readOnly: boolean) {
    // timeout 0: a blocked statement must fail at once, never block the event loop; callers retry.
    // synchronous=NORMAL: WAL commits survive a crash of this process without an fsync each,
    // which would otherwise dominate benchmark timings; only power loss could lose a commit.
    this.db = new Database(path, { timeout: 0 });
    this.db.exec(`PRAGMA busy_timeout=0; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL${readOnly ? '; PRAGMA query_only=ON' : ''}`);
  }

  prepare(statement: SqlStatement): Statement {
    let prepared = this.statements.get(statement.sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(statement.sql) as Statement;
      prepared.safeIntegers(true);
      if (prepared.reader) prepared.raw(true);
      if (!statement.actsWhenPrepared) {
        if (this.statements.size >= 100) this.statements.delete(this.statements.keys().next().value!);
        this.statements.set(statement.sql, prepared);
      }
    }
    return prepared;
  }

  /** changes() and last_insert_rowid() as SQLite keeps them for this connection. */
  changes(): [number, bigint] {
    this.lastChanges ??= this.db.prepare('SELECT changes(), last_insert_rowid()').safeIntegers(true).raw(true) as Statement;
    const [row] = this.lastChanges.all([]) as [[bigint, bigint]];
    return [Number(row[0]), row[1]];
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  rollbackQuietly(): void {
    if (!this.inTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // the transaction was already gone
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }
}

export class ConnectionPool {
  private readonly idle: SqlConnection[] = [];
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly readOnly: boolean,
    private readonly maxIdle: number,
  ) {}

  acquire(): SqlConnection {
    if (this.closed) throw new Error('the server is closed');
    const reused = this.idle.pop();
    if (reused === undefined) return new SqlConnection(this.path, this.readOnly);
    reused.rowidBaseline = reused.changes()[1];
    reused.rowidMoved = false;
    return reused;
  }

  release(connection: SqlConnection): void {
    connection.rollbackQuietly();
    connection.pendingWrite = false;
    if (this.closed || connection.tainted || connection.inTransaction || this.idle.length >= this.maxIdle) {
      connection.close();
    } else {
      this.idle.push(connection);
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.close();
  }
}
