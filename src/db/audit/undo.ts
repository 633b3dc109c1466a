// Raw SQL here: an undo works on whichever tables the run changed, by name, from their before-images.
import type { InStatement, Transaction } from '@libsql/client';
import { InvalidInputError, RefusedError } from '../../errors.js';
import { describeDatabaseError, quoteIdent, requireWriteAccess, type Database } from '../client.js';
import { AUDIT_TABLE, findRun, newRunId, type RunContext, type RunEntry } from '../run-record.js';
import { AUDIT_ROWS_TABLE, COUNT_ACTIONS_SQL, countsOf, CREATED_RANGE, keyMatches, readTableShapes, rowJson, rowKey, valueOfImage, type StatementExecutor, type TableShape } from './row-images.js';
import { AuditedRun } from './run.js';

export interface ChangedRow {
  table: string;
  /** The row's primary key values (or its rowid). */
  key: unknown[];
  /** What the run did to it. */
  action: 'create' | 'update' | 'delete';
}

export interface UndoResult {
  runId: string;
  /** The undone run's entry. */
  run: RunEntry;
  dryRun: boolean;
  /** The entry of the undo itself (absent in a dry run). */
  undoRunId?: string;
  /** Rows put back as they were before the run, by table and action. */
  reverted: { created: number; updated: number; deleted: number };
  /** Rows changed since the run, left as they are (only with force). */
  skipped: ChangedRow[];
}

/** No run with that id committed (or its entry was never written). */
export class NoSuchRunError extends InvalidInputError {
  constructor(readonly runId: string) {
    super(`no run ${runId} in this database`);
  }
}

/** The run was undone already: its rows are the undo's now. */
export class RunAlreadyUndoneError extends RefusedError {
  constructor(
    readonly runId: string,
    readonly undoRunId: string,
  ) {
    super(`run ${runId} was undone already, by run ${undoRunId}`, { hint: `undo ${undoRunId} to bring it back` });
  }
}

/** The run kept no before-images: it predates them, changed nothing, or they were pruned. */
export class NothingToUndoError extends RefusedError {
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`run ${runId} cannot be undone: ${reason}`);
  }
}

/** Rows the run changed were changed again since; undoing them would lose those changes. */
export class RowsChangedSinceRunError extends RefusedError {
  constructor(
    readonly runId: string,
    readonly rows: ChangedRow[],
  ) {
    const shown = rows.slice(0, 20).map(describeRow);
    super(`${rows.length} row${rows.length === 1 ? '' : 's'} that run ${runId} changed ${rows.length === 1 ? 'was' : 'were'} changed since: ${shown.join(', ')}${rows.length > 20 ? ', …' : ''}`, {
      details: rows.slice(0, 100).map(describeRow),
    });
  }
}

export function describeRow(row: ChangedRow): string {
  const key = row.key.length === 1 ? String(row.key[0]) : JSON.stringify(row.key);
  return `${row.table} ${key}`;
}

export interface UndoOptions {
  runId: string;
  /** Revert the rows that did not change since the run, and leave the others. */
  force?: boolean;
  dryRun?: boolean;
  /** Who undoes, for the undo's own entry. */
  run: RunContext;
}

function executorOf(transaction: Transaction): StatementExecutor {
  return {
    query: async (statements: InStatement[]) => (await transaction.batch(statements)).map((result) => ({ rows: result.rows as unknown as Array<Record<string, unknown>> })),
  };
}

/**
 * Reverts one run in one transaction from its before-images: rows it created are deleted, rows it
 * updated or deleted get their values back. A row changed since the run refuses the whole undo
 * (with `force`: that row stays as it is). The undo keeps before-images too, so it can be undone.
 */
export async function undoRun(database: Database, options: UndoOptions): Promise<UndoResult> {
  if (!options.dryRun) requireWriteAccess(database, 'undo');
  const run = await findRun(database, options.runId);
  if (!run) throw new NoSuchRunError(options.runId);
  let transaction: Transaction | undefined;
  try {
    transaction = await database.client.transaction(options.dryRun ? 'deferred' : 'write');
    const executor = executorOf(transaction);
    await refuseUndone(executor, options.runId);
    const shapes = await tablesOfRun(executor, options.runId);
    const changed = [...(await checkRanges(executor, options.runId, shapes)), ...(await rowsChangedSince(executor, options.runId, shapes))];
    if (changed.length > 0 && !options.force) throw new RowsChangedSinceRunError(options.runId, changed);
    const counts = await countRows(executor, options.runId);
    const result: UndoResult = { runId: options.runId, run, dryRun: Boolean(options.dryRun), reverted: counts, skipped: changed };
    if (options.dryRun) return result;
    const undoId = options.run.id ?? newRunId(options.run.startedAt);
    const audited = await AuditedRun.begin(executor, { ...options.run, id: undoId, arguments: { ...options.run.arguments, run: options.runId } });
    await executor.query(revertStatements(options.runId, shapes));
    await audited.finish({ system: run.system, counts: { ...counts, skipped: changed.length } }, true);
    await transaction.commit();
    return { ...result, undoRunId: undoId };
  } catch (error) {
    throw describeDatabaseError(error, database, 'undo');
  } finally {
    transaction?.close();
  }
}

async function refuseUndone(executor: StatementExecutor, runId: string): Promise<void> {
  const [undone] = await executor.query([
    { sql: `SELECT "id" FROM "${AUDIT_TABLE}" WHERE "command" = 'undo' AND json_extract("arguments", '$.run') = ? ORDER BY "id" LIMIT 1`, args: [runId] },
  ]);
  if (undone.rows[0]) throw new RunAlreadyUndoneError(runId, String(undone.rows[0].id));
}

/** The shapes of the tables the run changed, as they are now. */
async function tablesOfRun(executor: StatementExecutor, runId: string): Promise<TableShape[]> {
  let tables: string[];
  try {
    const [result] = await executor.query([{ sql: `SELECT DISTINCT "tbl" FROM "${AUDIT_ROWS_TABLE}" WHERE "run_id" = ? ORDER BY "tbl"`, args: [runId] }]);
    tables = result.rows.map((row) => String(row.tbl));
  } catch (error) {
    if (/no such table/.test(String((error as Error).message))) throw new NothingToUndoError(runId, 'it kept no before-images');
    throw error;
  }
  if (tables.length === 0) throw new NothingToUndoError(runId, 'it kept no before-images (it changed no rows, or they were pruned)');
  const shapes = await readTableShapes(executor);
  const missing = tables.filter((table) => !shapes.some((shape) => shape.name === table));
  if (missing.length > 0) throw new NothingToUndoError(runId, `table${missing.length === 1 ? '' : 's'} ${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''}`);
  return shapes.filter((shape) => tables.includes(shape.name));
}

/** Whether the row `x` (joined to before-image `r`) is still as the run left it. */
function asRunLeftIt(shape: TableShape): string {
  return `CASE r."action" WHEN 'delete' THEN x.rowid IS NULL ELSE x.rowid IS NOT NULL AND ${rowJson(shape, 'x')} IS r."after" END`;
}

async function rowsChangedSince(executor: StatementExecutor, runId: string, shapes: TableShape[]): Promise<ChangedRow[]> {
  const results = await executor.query(
    shapes.map((shape) => ({
      sql: `SELECT r."row_key" AS row_key, r."action" AS action FROM (${rowsOfRun("r.\"action\" <> '" + CREATED_RANGE + "'")}) AS r LEFT JOIN main.${quoteIdent(shape.name)} AS x ON ${keyMatches(shape, 'x', 'r."row_key"')}
            WHERE NOT (${asRunLeftIt(shape)})
            UNION ALL
            SELECT ${rowKey(shape, 'x')}, 'create' FROM (${rowsOfRun(`r."action" = '${CREATED_RANGE}'`)}) AS r, main.${quoteIdent(shape.name)} AS x
            WHERE ${inRange('x', 'r')} AND ${touchedLater(shape, 'x', 'r')}
            ORDER BY 1`,
      args: [runId, shape.name, runId, shape.name],
    })),
  );
  return results.flatMap((result, index) =>
    result.rows.map((row) => ({ table: shapes[index].name, key: JSON.parse(String(row.row_key)) as unknown[], action: String(row.action) as ChangedRow['action'] })),
  );
}

/** The run's kept rows of one table (`?`, `?`: run, table) that meet a condition on `r`. */
function rowsOfRun(condition: string): string {
  return `SELECT * FROM "${AUDIT_ROWS_TABLE}" AS r WHERE r."run_id" = ? AND r."tbl" = ? AND ${condition}`;
}

/** Row `x` lies in the created range `r`. */
function inRange(x: string, r: string): string {
  return `${x}.rowid > json_extract(${r}."before", '$.from') AND ${x}.rowid <= json_extract(${r}."before", '$.to')`;
}

/**
 * A later run kept a before-image of row `x`: it changed it since run `r`. (Rows of a range are
 * not kept one by one, so a change made outside qbank to a created row is not seen.)
 */
function touchedLater(shape: TableShape, x: string, r: string): string {
  return `EXISTS (SELECT 1 FROM "${AUDIT_ROWS_TABLE}" AS later WHERE later."tbl" = ${r}."tbl" AND later."row_key" = ${rowKey(shape, x)} AND later."run_id" > ${r}."run_id")`;
}

/** A created range whose rows are no longer where the run left them (a restore or VACUUM renumbered them, or rows went). */
async function checkRanges(executor: StatementExecutor, runId: string, shapes: TableShape[]): Promise<ChangedRow[]> {
  const results = await executor.query(
    shapes.map((shape) => ({
      sql: `SELECT json_extract(r."before", '$.count') AS expected, r."before" AS range,
              (SELECT count(*) FROM main.${quoteIdent(shape.name)} AS x WHERE ${inRange('x', 'r')}) AS present,
              (SELECT ${rowKey(shape, 'x')} FROM main.${quoteIdent(shape.name)} AS x WHERE x.rowid = (SELECT min(rowid) FROM main.${quoteIdent(shape.name)} AS y WHERE ${inRange('y', 'r')})) AS first,
              json_extract(r."before", '$.first') AS expected_first
            FROM (${rowsOfRun(`r."action" = '${CREATED_RANGE}'`)}) AS r`,
      args: [runId, shape.name],
    })),
  );
  const missing: ChangedRow[] = [];
  results.forEach((result, index) => {
    for (const row of result.rows) {
      const name = shapes[index].name;
      if (row.first !== null && row.first !== row.expected_first) {
        throw new NothingToUndoError(runId, `the rows it created in ${name} were renumbered since (a restore or VACUUM): they can no longer be told apart`);
      }
      const gone = Number(row.expected) - Number(row.present);
      if (gone > 0) missing.push({ table: name, key: [`${gone} created row${gone === 1 ? '' : 's'} deleted since`], action: 'create' });
    }
  });
  return missing;
}



async function countRows(executor: StatementExecutor, runId: string): Promise<UndoResult['reverted']> {
  const [result] = await executor.query([{ sql: COUNT_ACTIONS_SQL, args: [runId] }]);
  return countsOf(result.rows);
}

const jsonPath = (column: string) => `'$."${column.replaceAll("'", "''").replaceAll('"', '\\"')}"'`;

/**
 * Deletes first (a created row may hold a unique value a deleted one gets back), then re-inserts,
 * then restores values; foreign keys are checked at commit, when every table is back.
 */
function revertStatements(runId: string, shapes: TableShape[]): InStatement[] {
  const rows = `"${AUDIT_ROWS_TABLE}"`;
  const untouched = (shape: TableShape) => `${keyMatches(shape, 'x', 'r."row_key"')} AND ${rowJson(shape, 'x')} IS r."after"`;
  const statements: InStatement[] = ['PRAGMA defer_foreign_keys = ON'];
  for (const shape of shapes) {
    const table = `main.${quoteIdent(shape.name)}`;
    statements.push({ sql: `DELETE FROM ${table} WHERE rowid IN (SELECT x.rowid FROM ${table} AS x, (${rowsOfRun(`r."action" = 'create'`)}) AS r WHERE ${untouched(shape)})`, args: [runId, shape.name] });
    statements.push({
      sql: `DELETE FROM ${table} WHERE rowid IN (SELECT x.rowid FROM ${table} AS x, (${rowsOfRun(`r."action" = '${CREATED_RANGE}'`)}) AS r WHERE ${inRange('x', 'r')} AND NOT ${touchedLater(shape, 'x', 'r')})`,
      args: [runId, shape.name],
    });
  }
  for (const shape of shapes) {
    const table = `main.${quoteIdent(shape.name)}`;
    const columns = shape.columns.map(quoteIdent).join(', ');
    const values = shape.columns.map((column) => valueOfImage('r."before"', jsonPath(column))).join(', ');
    statements.push({
      sql: `INSERT INTO ${table} (${columns}) SELECT ${values} FROM ${rows} AS r
            WHERE r."run_id" = ? AND r."tbl" = ? AND r."action" = 'delete' AND NOT EXISTS (SELECT 1 FROM ${table} AS x WHERE ${keyMatches(shape, 'x', 'r."row_key"')})`,
      args: [runId, shape.name],
    });
  }
  for (const shape of shapes) {
    const table = `main.${quoteIdent(shape.name)}`;
    const assignments = shape.columns.map((column) => `${quoteIdent(column)} = ${valueOfImage('r."before"', jsonPath(column))}`).join(', ');
    statements.push({ sql: `UPDATE ${table} AS x SET ${assignments} FROM (${rowsOfRun(`r."action" = 'update'`)}) AS r WHERE ${untouched(shape)}`, args: [runId, shape.name] });
  }
  return statements;
}
