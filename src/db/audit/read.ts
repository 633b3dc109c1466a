// Raw SQL here: qbank's own tables are no part of either system's drizzle schema.
import { requireWriteAccess, type Database } from '../client.js';
import { AUDIT_TABLE, entryFromRow, findRun, type RunEntry } from '../run-record.js';
import { AUDIT_ROWS_TABLE } from './row-images.js';

export interface RunFilter {
  /** ISO time: runs started at or after it. */
  since?: string;
  actor?: string;
  /** The command, or its first words ("import" matches "import questions"). */
  command?: string;
  limit?: number;
}

const missingTable = (error: unknown) => /no such table/.test(String((error as Error)?.message ?? ''));

/** Runs newest first; none when qbank never wrote to the database. */
export async function listRuns(database: Database, filter: RunFilter = {}): Promise<RunEntry[]> {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (filter.since) {
    where.push('"started_at" >= ?');
    args.push(filter.since);
  }
  if (filter.actor) {
    where.push('"actor" = ?');
    args.push(filter.actor);
  }
  if (filter.command) {
    where.push('("command" = ? OR "command" LIKE ? ESCAPE \'\\\')');
    args.push(filter.command, `${filter.command.replace(/[\\%_]/g, '\\$&')} %`);
  }
  args.push(filter.limit ?? 50);
  try {
    const result = await database.client.execute({
      sql: `SELECT * FROM "${AUDIT_TABLE}"${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY "started_at" DESC, "id" DESC LIMIT ?`,
      args,
    });
    return result.rows.map((row) => entryFromRow(row as unknown as Record<string, unknown>));
  } catch (error) {
    if (missingTable(error)) return [];
    throw error;
  }
}

export interface RunDetails {
  entry: RunEntry;
  /** Rows whose before-images the run kept, by table and action. */
  rows: Array<{ table: string; action: string; count: number }>;
  /** Runs that undid this one. */
  undoneBy: string[];
}

export async function showRun(database: Database, runId: string): Promise<RunDetails | undefined> {
  const entry = await findRun(database, runId);
  if (!entry) return undefined;
  let rows: RunDetails['rows'] = [];
  try {
    const result = await database.client.execute({
      sql: `SELECT "tbl", "action", count(*) AS n FROM "${AUDIT_ROWS_TABLE}" WHERE "run_id" = ? GROUP BY "tbl", "action" ORDER BY "tbl", "action"`,
      args: [runId],
    });
    rows = result.rows.map((row) => ({ table: String(row.tbl), action: String(row.action), count: Number(row.n) }));
  } catch (error) {
    if (!missingTable(error)) throw error;
  }
  const undone = await database.client.execute({
    sql: `SELECT "id" FROM "${AUDIT_TABLE}" WHERE "command" = 'undo' AND json_extract("arguments", '$.run') = ? ORDER BY "id"`,
    args: [runId],
  });
  return { entry, rows, undoneBy: undone.rows.map((row) => String(row.id)) };
}

/** Drops the before-images of runs started before `before` (their entries stay); returns how many rows went. */
export async function pruneBeforeImages(database: Database, before: string, dryRun = false): Promise<{ runs: number; rows: number }> {
  if (!dryRun) requireWriteAccess(database, 'audit prune');
  const select = `FROM "${AUDIT_ROWS_TABLE}" WHERE "run_id" IN (SELECT "id" FROM "${AUDIT_TABLE}" WHERE "started_at" < ?)`;
  try {
    const statements = [{ sql: `SELECT count(DISTINCT "run_id") AS runs, count(*) AS n ${select}`, args: [before] }];
    if (!dryRun) statements.push({ sql: `DELETE ${select}`, args: [before] });
    const [counted] = await database.client.batch(statements, 'write');
    return { runs: Number(counted.rows[0].runs), rows: Number(counted.rows[0].n) };
  } catch (error) {
    if (missingTable(error)) return { runs: 0, rows: 0 };
    throw error;
  }
}
