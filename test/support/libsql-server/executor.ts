// Runs statements on a stream's connection and reports them as sqld does.
import type { SqlConnection, Statement } from './connections.js';
import { rawCodeOf, SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, StmtError, toStmtError } from './errors.js';
import type { ServerKnobs, ServerStats } from './knobs.js';
import { bindValues, evalCond, type BatchStep, type ErrorJson, type Query, type StmtResultJson } from './protocol.js';
import type { SqlStatement } from './sql-analysis.js';
import { valueToProto, type SqlValue } from './values.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SqlExecutor {
  /** Writes committed through this server: its own replication index. */
  committedWrites = 0;

  constructor(
    private readonly knobs: ServerKnobs,
    private readonly stats: ServerStats,
    private readonly replicationIndex: () => number,
  ) {}

  /** Runs one statement; on SQLITE_BUSY it retries from the event loop until busyTimeoutMs. */
  async execute(connection: SqlConnection, query: Query): Promise<StmtResultJson> {
    const values = bindValues(query);
    const started = performance.now();
    let delay = 1;
    for (;;) {
      try {
        return this.executeOnce(connection, query, values, started);
      } catch (error) {
        const raw = rawCodeOf(error);
        const busy = raw !== undefined && (raw & 0xff) === SQLITE_BUSY && raw !== SQLITE_BUSY_SNAPSHOT;
        const remaining = this.knobs.busyTimeoutMs - (performance.now() - started);
        if (!busy || remaining <= 0) throw toStmtError(error);
        await sleep(Math.min(delay, remaining));
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  async executeBatch(connection: SqlConnection, steps: BatchStep[]): Promise<Record<string, unknown>> {
    this.checkSyntax(connection, steps.map((step) => step.query.statement));
    const outcomes: boolean[] = [];
    const stepResults: (StmtResultJson | null)[] = [];
    const stepErrors: (ErrorJson | null)[] = [];
    for (const step of steps) {
      const enabled = step.cond === null || evalCond(step.cond, outcomes, !connection.inTransaction);
      let result: StmtResultJson | null = null;
      let error: ErrorJson | null = null;
      if (enabled) {
        try {
          result = await this.execute(connection, step.query);
        } catch (caught) {
          if (!(caught instanceof StmtError)) throw caught;
          error = { message: caught.message, code: caught.code };
        }
      }
      outcomes.push(result !== null);
      stepResults.push(result);
      stepErrors.push(error);
    }
    return { step_results: stepResults, step_errors: stepErrors, replication_index: String(this.replicationIndex()) };
  }

  async executeSequence(connection: SqlConnection, statements: SqlStatement[]): Promise<void> {
    this.checkSyntax(connection, statements);
    for (const statement of statements) {
      await this.execute(connection, { statement, args: [], named: null, wantRows: false });
    }
  }

  describe(connection: SqlConnection, statement: SqlStatement): Record<string, unknown> {
    if (statement.actsWhenPrepared) connection.tainted = true;
    let prepared: Statement;
    try {
      prepared = connection.prepare(statement);
    } catch (error) {
      throw toStmtError(error);
    }
    return {
      params: statement.params.map((name) => ({ name })),
      cols: prepared.columns().map((col) => ({ name: col.name, decltype: col.type })),
      is_explain: statement.isExplain,
      is_readonly: statement.kind !== 'write',
    };
  }

  private executeOnce(connection: SqlConnection, query: Query, values: SqlValue[], started: number): StmtResultJson {
    const { statement } = query;
    let succeeded = false;
    try {
      const prepared = connection.prepare(statement);
      const rows = prepared.reader ? (prepared.all(values) as unknown[][]) : (prepared.run(values), []);
      succeeded = true;
      this.stats.statements++;
      if (statement.taintsConnection) connection.tainted = true;
      const [changes, rowid] = statement.isIud ? connection.changes() : [0, 0n];
      const rowsWritten = statement.isIud ? changes : 0;
      if (statement.isInsert && rowid !== connection.rowidBaseline) connection.rowidMoved = true;
      const lastInsertRowid = !statement.isInsert ? null : connection.rowidMoved ? rowid.toString() : '0';
      return {
        cols: prepared.columns().map((col) => ({ name: col.name, decltype: col.type })),
        rows: query.wantRows ? rows.map((row) => row.map(valueToProto)) : [],
        affected_row_count: changes,
        last_insert_rowid: lastInsertRowid,
        replication_index: String(this.trackWrite(connection, statement, true)),
        rows_read: rows.length === 0 && rowsWritten === 0 ? 1 : rows.length,
        rows_written: rowsWritten,
        query_duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      };
    } finally {
      if (!succeeded) this.trackWrite(connection, statement, false);
    }
  }

  /** Moves the replication index when a write commits, as a WAL commit moves sqld's frame number. */
  private trackWrite(connection: SqlConnection, statement: SqlStatement, succeeded: boolean): number {
    if (succeeded && statement.kind === 'write') connection.pendingWrite = true;
    if (connection.pendingWrite && !connection.inTransaction) {
      if (succeeded && !statement.isRollback) this.committedWrites++;
      connection.pendingWrite = false;
    }
    return this.replicationIndex();
  }

  /** A syntax error anywhere fails the whole request before any statement runs, as sqld parses first. */
  private checkSyntax(connection: SqlConnection, statements: SqlStatement[]): void {
    for (const statement of statements) {
      if (statement.actsWhenPrepared) continue;
      try {
        connection.prepare(statement);
      } catch (error) {
        const stmtError = toStmtError(error);
        if (stmtError.code === 'SQL_PARSE_ERROR') throw stmtError;
      }
    }
  }
}
