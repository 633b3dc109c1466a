// Raw SQL: catalogue reads (pragma_foreign_key_check, sqlite_master) and rowid-ordered scans of every table.
import { blobBytes, blobHeldIn, jsonHeldValue, type Database } from '../client.js';
import { readRows, type RowQuery } from '../export/reader.js';
import { CheckEngine } from './engine.js';
import type { Fix } from './fixes.js';
import { buildReport, type CheckOption, type CheckQuestion, type CheckReport, type CheckSettings, type RawFinding } from './model.js';
import { botAnomalies, staleClaims, type BotDay } from './operations-rules.js';
import { tableSpecs, type TableSpec } from './row-rules.js';

export interface CheckDatabaseOptions {
  now: Date;
  onProgress?: (rows: number) => void;
}

/** Checks a whole database, read only: a scan of each table the rules look at. */
export async function checkDatabase(database: Database, settings: CheckSettings, options: CheckDatabaseOptions): Promise<CheckReport & { fixes: Fix[] }> {
  const engine = new CheckEngine(settings);
  const tables = await tableNames(database);
  if (settings.rules.has('orphan-row')) engine.add(await orphanRows(database));
  let scanned = 0;
  const examCodes = settings.system === 'pingtopass' && tables.has('exams') ? await examCodesById(database) : new Map<string, string>();
  for (const spec of tableSpecs(settings.system)) {
    if (!tables.has(spec.table)) continue;
    const isQuestions = spec.table === 'questions';
    if (!isQuestions && !settings.rules.has('invalid-json') && !settings.rules.has('invalid-value')) continue;
    const { query, columns } = queryOf(spec, settings.system, isQuestions && settings.system === 'pingtopass' && tables.has('answer_options'));
    if (isQuestions) engine.reserve(Number((await database.client.execute('SELECT count(*) AS n FROM questions')).rows[0]!.n));
    for await (const batch of readRows(database, query)) {
      for (const values of batch) {
        const row: Row = {};
        for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
        const group = row.__exam !== undefined ? (examCodes.get(String(row.__exam)) ?? null) : row.__group === null || row.__group === undefined ? null : String(row.__group);
        engine.row(spec, row, group);
        if (isQuestions) engine.question(questionOf(row, group, settings.system));
      }
      scanned += batch.length;
      options.onProgress?.(scanned);
    }
  }
  if (settings.system === 'open-interview') engine.add(await operations(database, settings, options.now, tables));
  return { ...buildReport(engine.finish(), settings), fixes: engine.fixes };
}

async function examCodesById(database: Database): Promise<Map<string, string>> {
  const result = await database.client.execute('SELECT id, code FROM exams');
  return new Map(result.rows.map((row) => [String(row.id), String(row.code)]));
}

async function tableNames(database: Database): Promise<Set<string>> {
  const result = await database.client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
  return new Set(result.rows.map((row) => String(row.name)));
}

async function orphanRows(database: Database): Promise<RawFinding[]> {
  // The table-valued forms are plain SELECTs: sqld lets a read-only token run them, not the PRAGMA statements.
  const result = await database.client.execute('SELECT * FROM pragma_foreign_key_check()');
  const found: RawFinding[] = [];
  for (const row of result.rows) {
    const table = String(row.table);
    const parent = String(row.parent);
    const key = await database.client.execute({ sql: `SELECT * FROM "${table.replace(/"/g, '""')}" WHERE rowid = ?`, args: [row.rowid as number] });
    const record = key.rows[0] as Record<string, unknown> | undefined;
    const id = record?.id === undefined || record.id === null ? `rowid ${String(row.rowid)}` : String(record.id);
    const fk = await database.client.execute({ sql: 'SELECT * FROM pragma_foreign_key_list(?)', args: [table] });
    const column = fk.rows.find((entry) => Number(entry.id) === Number(row.fkid));
    const from = column ? String(column.from) : 'a column';
    const value = column && record ? record[from] : undefined;
    found.push({ rule: 'orphan-row', table, id, group: null, message: `${from} = ${JSON.stringify(value)} names no row of ${parent}`, related: [] });
  }
  return found;
}

type Row = Record<string, unknown>;

/**
 * One table's scan in rowid order, as raw rows (streamed from the driver on `file:`, paged by
 * rowid remotely): the columns the rules read; PingToPass questions bring their options along as
 * one JSON array each, in their order.
 */
function queryOf(spec: TableSpec, system: CheckSettings['system'], withOptions: boolean): { query: RowQuery; columns: string[] } {
  const names = new Set([spec.key, ...spec.json.map((c) => c.column), ...spec.values.map((c) => c.column)]);
  if (spec.table === 'questions') {
    const text = system === 'pingtopass' ? ['text', 'explanation', 'is_active'] : ['question', 'answer', 'explanation', 'tldr'];
    for (const column of text) names.add(column);
  }
  const columns = ['__rowid', ...names];
  const select = ['t.rowid', ...[...names].map((name) => `t."${name}"`)];
  if (spec.table === 'questions' && system === 'pingtopass') {
    // the exam's code is looked up in memory: a join here would cost a lookup per row
    columns.push('__exam');
    select.push('t.exam_id');
    if (withOptions) {
      columns.push('__options');
      select.push(`(SELECT json_group_array(json_array(o.id, ${jsonHeldValue('o.text')}, o.is_correct, o."order")) FROM (SELECT * FROM answer_options o WHERE o.question_id = t.id ORDER BY o."order", o.rowid) o)`);
    }
  } else if (spec.group) {
    columns.push('__group');
    select.push(`t."${spec.group}"`);
  }
  return { query: { select, from: `"${spec.table}" t`, where: [], args: [], key: 't.rowid', keyIndex: 0 }, columns };
}

function optionsOf(json: unknown): CheckOption[] {
  if (typeof json !== 'string') return [];
  const options: CheckOption[] = [];
  for (const [id, text, isCorrect, order] of JSON.parse(json) as Array<[unknown, unknown, unknown, unknown]>) {
    // a text another writer stored as a blob arrives as {"$blob": HEX}: its bytes read as UTF-8
    const blob = blobHeldIn(text);
    const shown = blob ? blob.toString('utf8') : text === null || text === undefined ? '' : String(text);
    options.push({ id: String(id), text: shown, isCorrect: Number(isCorrect) === 1, order: order === null ? null : Number(order) });
  }
  return options;
}

/** A value as the rules read text; a blob another writer stored is its bytes read as UTF-8, as an option's is. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return blobBytes(value)?.toString('utf8') ?? String(value);
}

function questionOf(row: Row, group: string | null, system: CheckSettings['system']): CheckQuestion {
  const id = textOf(row.id) ?? 'null';
  if (system === 'pingtopass') {
    return { table: 'questions', id, group, type: textOf(row.type), text: textOf(row.text) ?? '', explanation: textOf(row.explanation), published: row.review_status === 'approved', options: optionsOf(row.__options), answer: null, tldr: null };
  }
  const status = row.status ?? 'active';
  return { table: 'questions', id, group, type: null, text: textOf(row.question) ?? '', explanation: textOf(row.explanation), published: status === 'active', options: [], answer: textOf(row.answer) ?? '', tldr: textOf(row.tldr) };
}

async function operations(database: Database, settings: CheckSettings, now: Date, tables: Set<string>): Promise<RawFinding[]> {
  const found: RawFinding[] = [];
  if (settings.rules.has('stale-claim') && tables.has('work_queue')) {
    const result = await database.client.execute("SELECT id, item_id, processed_at, created_at, assigned_to FROM work_queue WHERE status = 'processing' ORDER BY id");
    const items = result.rows.map((row) => ({ id: String(row.id), itemId: String(row.item_id), claimedAt: (row.processed_at ?? row.created_at ?? null) as string | null, assignedTo: (row.assigned_to ?? null) as string | null }));
    found.push(...staleClaims(items, now, settings.thresholds.claimLeaseMinutes));
  }
  if (settings.rules.has('bot-anomaly') && tables.has('bot_ledger')) {
    const result = await database.client.execute({
      sql: `SELECT bot_name, CAST((julianday(?) - julianday(created_at)) AS INTEGER) AS days_ago, count(*) AS actions, sum(action = 'delete') AS deletes
            FROM bot_ledger WHERE julianday(created_at) > julianday(?) - 15 AND julianday(created_at) <= julianday(?) GROUP BY 1, 2`,
      args: [now.toISOString(), now.toISOString(), now.toISOString()],
    });
    const days: BotDay[] = result.rows.map((row) => ({ bot: String(row.bot_name), daysAgo: Number(row.days_ago), actions: Number(row.actions), deletes: Number(row.deletes) }));
    found.push(...botAnomalies(days, settings.thresholds));
  }
  return found;
}
