// Raw SQL here: the capture works on every table of either system (and on tables an operator added) by name, through temporary triggers.
import type { InStatement } from '@libsql/client';
import { jsonHeldValue, quoteIdent } from '../client.js';
import { QBANK_TABLE_PREFIX } from '../run-record.js';

/**
 * Before-images of the rows a run changed, so `qbank undo RUN` can put them back. One row per
 * changed table row and run: `action` is what the run did to it (create, update, delete),
 * `before` its values before the run (JSON, null for a created row), `after` its values when the
 * run committed (null for a deleted row): a row whose values differ from `after` today was
 * changed since, and undoing it would lose that change.
 */
export const AUDIT_ROWS_TABLE = '__qbank_audit_rows';

export const AUDIT_ROWS_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS "${AUDIT_ROWS_TABLE}" (
\t"run_id" text NOT NULL,
\t"tbl" text NOT NULL,
\t"row_key" text NOT NULL,
\t"action" text NOT NULL,
\t"before" text,
\t"after" text,
\tPRIMARY KEY ("run_id", "tbl", "row_key")
)`,
  `CREATE INDEX IF NOT EXISTS "${AUDIT_ROWS_TABLE}_row" ON "${AUDIT_ROWS_TABLE}" ("tbl", "row_key")`,
];

/**
 * The rows a run created past a table's largest rowid are kept as one range (`action` = this,
 * `before` = `{"from","to","count","first","last"}`: rowids after `from` up to `to`, and the keys
 * of the first and last), not row by row: a bulk import of 200,000 questions adds one row here.
 */
export const CREATED_RANGE = 'create-range';

/** The key of a created range: JSON like every key, and its NULL never equals a column. */
export const RANGE_KEY = '[null,"created"]';

/** Runs statements inside the transaction of a run and returns their rows (an import's runner, an undo's transaction). */
export interface StatementExecutor {
  query(statements: InStatement[]): Promise<Array<{ rows: Array<Record<string, unknown>> }>>;
}

export interface TableShape {
  name: string;
  columns: string[];
  /** Primary key columns; empty when the table has none (then rows are keyed by rowid). */
  key: string[];
}

/** Tables whose rows a run may change: every table of the database but SQLite's and qbank's own (and drizzle's journal). */
export async function readTableShapes(executor: StatementExecutor): Promise<TableShape[]> {
  const [result] = await executor.query([
    `SELECT m.name AS tbl, p.name AS col, p.pk AS pk FROM main.sqlite_schema AS m, pragma_table_info(m.name) AS p
      WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE '\\_\\_%' ESCAPE '\\'
      ORDER BY m.name, p.cid`,
  ]);
  const shapes = new Map<string, { name: string; columns: string[]; keyed: Array<[number, string]> }>();
  for (const row of result.rows) {
    const name = String(row.tbl);
    let shape = shapes.get(name);
    if (!shape) shapes.set(name, (shape = { name, columns: [], keyed: [] }));
    shape.columns.push(String(row.col));
    if (Number(row.pk) > 0) shape.keyed.push([Number(row.pk), String(row.col)]);
  }
  return [...shapes.values()]
    .filter((shape) => !shape.name.startsWith(QBANK_TABLE_PREFIX))
    .map((shape) => ({ name: shape.name, columns: shape.columns, key: shape.keyed.sort((a, b) => a[0] - b[0]).map(([, column]) => column) }));
}

const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** `json_object('a', p."a", …)` over a row reference; a blob (which JSON cannot hold) as {"$blob": HEX}. */
export function rowJson(shape: TableShape, alias: string): string {
  return `json_object(${shape.columns.map((column) => `${sqlText(column)}, ${jsonHeldValue(`${alias}.${quoteIdent(column)}`)}`).join(', ')})`;
}

/** The value a row image holds at `path` (an SQL string of a JSON path), a blob turned back into a blob. */
export function valueOfImage(image: string, path: string): string {
  return `CASE WHEN json_type(${image}, ${path}) = 'object' THEN unhex(json_extract(${image}, ${path} || '."$blob"')) ELSE json_extract(${image}, ${path}) END`;
}

/** The row's key as a JSON array (its primary key columns, else its rowid). */
export function rowKey(shape: TableShape, alias: string): string {
  const parts = shape.key.length > 0 ? shape.key.map((column) => `${alias}.${quoteIdent(column)}`) : [`${alias}.rowid`];
  return `json_array(${parts.join(', ')})`;
}

/** `x` matches the key stored in `r.row_key`. */
export function keyMatches(shape: TableShape, row: string, keyColumn: string): string {
  const parts = shape.key.length > 0 ? shape.key.map((column) => `${row}.${quoteIdent(column)}`) : [`${row}.rowid`];
  return parts.map((part, index) => `${part} = json_extract(${keyColumn}, '$[${index}]')`).join(' AND ');
}

/** A name for a temporary trigger that cannot meet another run's. */
function triggerName(runId: string, index: number, what: string): string {
  return `qbank_audit_${runId.replace(/[^0-9a-z]/gi, '_')}_${index}_${what}`;
}

export interface CapturedCounts {
  created: number;
  updated: number;
  deleted: number;
}

/**
 * Captures the before-images of a run while it writes: temporary triggers (this connection only)
 * keep the first before-image of each row that existed before the run and is updated or deleted;
 * rows created are found at the end as the rowids past each table's largest one at the start
 * (the run holds the write lock, so every row past it is its own). Created rows cost no trigger,
 * which keeps a bulk import's price low.
 */
export class RowImageCapture {
  private constructor(
    private readonly executor: StatementExecutor,
    private readonly runId: string,
    private readonly shapes: TableShape[],
    /** Per table, the largest rowid at the start: a literal, or a lookup in a temporary table filled in the same batch. */
    private readonly maxRowids: string[],
  ) {}

  static async begin(executor: StatementExecutor, runId: string): Promise<RowImageCapture> {
    await executor.query([...AUDIT_ROWS_STATEMENTS]);
    const shapes = await readTableShapes(executor);
    const maxRowids: string[] = [];
    if (shapes.length > 0) {
      const [result] = await executor.query([
        `SELECT ${shapes.map((shape, index) => `(SELECT coalesce(max(rowid), 0) FROM main.${quoteIdent(shape.name)}) AS m${index}`).join(', ')}`,
      ]);
      shapes.forEach((_, index) => maxRowids.push(String(Number(result.rows[0][`m${index}`]))));
    }
    const capture = new RowImageCapture(executor, runId, shapes, maxRowids);
    await executor.query(capture.triggerStatements());
    return capture;
  }

  /**
   * The statements that begin and finish a capture inside one batch (a review decision's), for
   * tables read beforehand: the largest rowids are taken by the batch itself into a temporary table.
   */
  static forBatch(runId: string, shapes: TableShape[]): { begin: InStatement[]; finish: InStatement[] } {
    const maxTable = `temp.${quoteIdent(`qbank_audit_max_${runId.replace(/[^0-9a-z]/gi, '_')}`)}`;
    const maxRowids = shapes.map((shape) => `(SELECT m FROM ${maxTable} WHERE t = ${sqlText(shape.name)})`);
    const statements: InStatement[] = [];
    const capture = new RowImageCapture({ query: async (batch) => (statements.push(...batch), batch.map(() => ({ rows: [] }))) }, runId, shapes, maxRowids);
    const begin: InStatement[] = [
      ...AUDIT_ROWS_STATEMENTS,
      `CREATE TEMP TABLE ${maxTable} (t text PRIMARY KEY, m integer)`,
      ...shapes.map((shape) => `INSERT INTO ${maxTable} SELECT ${sqlText(shape.name)}, coalesce(max(rowid), 0) FROM main.${quoteIdent(shape.name)}`),
      ...capture.triggerStatements(),
    ];
    return { begin, finish: [...capture.finishStatements(), `DROP TABLE ${maxTable}`] };
  }

  private triggerStatements(): InStatement[] {
    // a trigger's statements name tables unqualified: they resolve to main (temp holds no such table)
    const table = quoteIdent(AUDIT_ROWS_TABLE);
    const run = sqlText(this.runId);
    return this.shapes.flatMap((shape, index) => {
      const name = sqlText(shape.name);
      const target = `main.${quoteIdent(shape.name)}`;
      const existed = `old.rowid <= ${this.maxRowids[index]}`;
      const keep = (action: string) =>
        `INSERT OR IGNORE INTO ${table} ("run_id", "tbl", "row_key", "action", "before") VALUES (${run}, ${name}, ${rowKey(shape, 'old')}, '${action}', ${rowJson(shape, 'old')});`;
      // a row created under the largest rowid of the start (the top rows deleted first) is not found by the end's scan
      const reused = `INSERT OR IGNORE INTO ${table} ("run_id", "tbl", "row_key", "action") VALUES (${run}, ${name}, ${rowKey(shape, 'new')}, 'create');`;
      return [
        `CREATE TEMP TRIGGER ${quoteIdent(triggerName(this.runId, index, 'i'))} AFTER INSERT ON ${target} WHEN new.rowid <= ${this.maxRowids[index]} BEGIN ${reused} END`,
        `CREATE TEMP TRIGGER ${quoteIdent(triggerName(this.runId, index, 'u'))} AFTER UPDATE ON ${target} WHEN ${existed} BEGIN ${keep('update')} END`,
        `CREATE TEMP TRIGGER ${quoteIdent(triggerName(this.runId, index, 'd'))} AFTER DELETE ON ${target} WHEN ${existed} BEGIN ${keep('delete')}
          UPDATE ${table} SET "action" = 'delete' WHERE "run_id" = ${run} AND "tbl" = ${name} AND "row_key" = ${rowKey(shape, 'old')}; END`,
      ];
    });
  }

  /** Stops capturing, records the created rows and every row's values at commit; returns the counts. */
  async finish(): Promise<CapturedCounts> {
    const statements = this.finishStatements();
    const results = await this.executor.query(statements);
    return countsOf(results[results.length - 1].rows);
  }

  /** Drops the triggers, records created rows and values at commit; the last statement counts the rows by action. */
  private finishStatements(): InStatement[] {
    const table = `main.${quoteIdent(AUDIT_ROWS_TABLE)}`;
    const statements: InStatement[] = this.shapes.flatMap((_, index) => [
      `DROP TRIGGER IF EXISTS temp.${quoteIdent(triggerName(this.runId, index, 'i'))}`,
      `DROP TRIGGER IF EXISTS temp.${quoteIdent(triggerName(this.runId, index, 'u'))}`,
      `DROP TRIGGER IF EXISTS temp.${quoteIdent(triggerName(this.runId, index, 'd'))}`,
    ]);
    this.shapes.forEach((shape, index) => {
      const source = `main.${quoteIdent(shape.name)}`;
      statements.push(
        {
          sql: `INSERT INTO ${table} ("run_id", "tbl", "row_key", "action", "before")
                SELECT ?, ?, '${RANGE_KEY}', '${CREATED_RANGE}', json_object('from', ${this.maxRowids[index]}, 'to', max(x.rowid), 'count', count(*),
                  'first', json((SELECT ${rowKey(shape, 'f')} FROM ${source} AS f WHERE f.rowid > ${this.maxRowids[index]} ORDER BY f.rowid LIMIT 1)),
                  'last', json((SELECT ${rowKey(shape, 'l')} FROM ${source} AS l ORDER BY l.rowid DESC LIMIT 1)))
                FROM ${source} AS x WHERE x.rowid > ${this.maxRowids[index]} HAVING count(*) > 0`,
          args: [this.runId, shape.name],
        },
        {
          // deleted and created again under the same key: for the database, an update
          sql: `UPDATE ${table} AS r SET "action" = 'update' WHERE r."run_id" = ? AND r."tbl" = ? AND r."action" = 'delete'
                AND EXISTS (SELECT 1 FROM ${source} AS x WHERE ${keyMatches(shape, 'x', 'r."row_key"')})`,
          args: [this.runId, shape.name],
        },
        {
          sql: `UPDATE ${table} AS r SET "after" = (SELECT ${rowJson(shape, 'x')} FROM ${source} AS x WHERE ${keyMatches(shape, 'x', 'r."row_key"')})
                WHERE r."run_id" = ? AND r."tbl" = ? AND (r."action" = 'update' OR (r."action" = 'create' AND r."after" IS NULL))`,
          args: [this.runId, shape.name],
        },
      );
    });
    // an update that set the values a row already had changed nothing worth undoing
    statements.push({ sql: `DELETE FROM ${table} WHERE "run_id" = ? AND "action" = 'update' AND "before" IS "after"`, args: [this.runId] });
    // created and deleted again within the run: nothing to undo
    statements.push({ sql: `DELETE FROM ${table} WHERE "run_id" = ? AND "action" = 'create' AND "after" IS NULL`, args: [this.runId] });
    statements.push({
      sql: COUNT_ACTIONS_SQL,
      args: [this.runId],
    });
    return statements;
  }
}

/** Rows by action (created ranges counted by their rows) of one run (`?`). */
export const COUNT_ACTIONS_SQL = `SELECT CASE "action" WHEN '${CREATED_RANGE}' THEN 'create' ELSE "action" END AS action,
  sum(CASE "action" WHEN '${CREATED_RANGE}' THEN json_extract("before", '$.count') ELSE 1 END) AS n
  FROM "${AUDIT_ROWS_TABLE}" WHERE "run_id" = ? GROUP BY 1`;

/** Rows of `COUNT_ACTIONS_SQL` as counts. */
export function countsOf(rows: Array<Record<string, unknown>>): CapturedCounts {
  const counts: CapturedCounts = { created: 0, updated: 0, deleted: 0 };
  for (const row of rows) {
    const action = String(row.action);
    if (action === 'create') counts.created = Number(row.n);
    else if (action === 'update') counts.updated = Number(row.n);
    else if (action === 'delete') counts.deleted = Number(row.n);
  }
  return counts;
}
