// Raw SQL: catalogue reads (pragma_foreign_key_check, sqlite_master) and rowid-paged scans of every table.
import type { Database } from '../client.js';
import { CheckEngine } from './engine.js';
import type { Fix } from './fixes.js';
import { buildReport, type CheckOption, type CheckQuestion, type CheckReport, type CheckSettings, type RawFinding } from './model.js';
import { botAnomalies, staleClaims, type BotDay } from './operations-rules.js';
import { tableSpecs, type TableSpec } from './row-rules.js';

const PAGE_ROWS = 2_000;

export interface CheckDatabaseOptions {
  now: Date;
  onProgress?: (rows: number) => void;
}

/** Checks a whole database, read only: a rowid-paged scan of each table the rules look at. */
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
    for await (const page of pagesOf(database, spec, settings.system)) {
      const optionsByQuestion = isQuestions && settings.system === 'pingtopass' ? await optionsOfPage(database, page) : undefined;
      for (const row of page) {
        const group = row.__exam !== undefined ? (examCodes.get(String(row.__exam)) ?? null) : row.__group === null || row.__group === undefined ? null : String(row.__group);
        engine.row(spec, row, group);
        if (isQuestions) engine.question(questionOf(row, group, settings.system, optionsByQuestion));
      }
      scanned += page.length;
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

function selectOf(spec: TableSpec, system: CheckSettings['system']): string {
  const quoted = (name: string) => `t."${name}"`;
  const columns = new Set([spec.key, ...spec.json.map((c) => c.column), ...spec.values.map((c) => c.column)]);
  if (spec.table === 'questions') {
    const text = system === 'pingtopass' ? ['text', 'explanation', 'is_active'] : ['question', 'answer', 'explanation', 'tldr'];
    for (const column of text) columns.add(column);
  }
  const list = [...columns].map(quoted).join(', ');
  // PingToPass: the exam's code is looked up in memory; a join here lets the planner scan questions once per page.
  if (spec.table === 'questions' && system === 'pingtopass') return `SELECT t.rowid AS __rowid, ${list}, t.exam_id AS __exam FROM questions t`;
  const group = spec.group ? `, t."${spec.group}" AS __group` : '';
  return `SELECT t.rowid AS __rowid, ${list}${group} FROM "${spec.table}" t`;
}

async function* pagesOf(database: Database, spec: TableSpec, system: CheckSettings['system']): AsyncGenerator<Row[]> {
  const select = selectOf(spec, system);
  let after: number | bigint = -1;
  for (;;) {
    const result = await database.client.execute({ sql: `${select} WHERE t.rowid > ? ORDER BY t.rowid LIMIT ${PAGE_ROWS}`, args: [after] });
    if (result.rows.length === 0) return;
    const rows = result.rows.map((row) => ({ ...row }) as Row);
    after = rows[rows.length - 1]!.__rowid as number;
    yield rows;
    if (result.rows.length < PAGE_ROWS) return;
  }
}

async function optionsOfPage(database: Database, page: Row[]): Promise<Map<string, CheckOption[]>> {
  const first = page[0]!.__rowid as number;
  const last = page[page.length - 1]!.__rowid as number;
  const result = await database.client.execute({
    sql: 'SELECT o.question_id, o.id, o.text, o.is_correct, o."order" FROM answer_options o WHERE o.question_id IN (SELECT id FROM questions WHERE rowid BETWEEN ? AND ?) ORDER BY o.question_id, o."order", o.rowid',
    args: [first, last],
  });
  const byQuestion = new Map<string, CheckOption[]>();
  for (const row of result.rows) {
    const questionId = String(row.question_id);
    let options = byQuestion.get(questionId);
    if (!options) byQuestion.set(questionId, (options = []));
    options.push({ id: String(row.id), text: String(row.text ?? ''), isCorrect: Number(row.is_correct) === 1, order: row.order === null ? null : Number(row.order) });
  }
  return byQuestion;
}

function questionOf(row: Row, group: string | null, system: CheckSettings['system'], options: Map<string, CheckOption[]> | undefined): CheckQuestion {
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const id = String(row.id);
  if (system === 'pingtopass') {
    return { table: 'questions', id, group, type: text(row.type), text: String(row.text ?? ''), explanation: text(row.explanation), published: row.review_status === 'approved', options: options?.get(id) ?? [], answer: null, tldr: null };
  }
  const status = row.status ?? 'active';
  return { table: 'questions', id, group, type: null, text: String(row.question ?? ''), explanation: text(row.explanation), published: status === 'active', options: [], answer: String(row.answer ?? ''), tldr: text(row.tldr) };
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
