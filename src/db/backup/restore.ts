import type { Client, Transaction } from '@libsql/client';
import { CheckFailedError, QbankError, RefusedError, UsageError } from '../../errors.js';
import { describeDatabaseError, quoteIdent, readQuery, requireWriteAccess, type Database } from '../client.js';
import { STAGING_PREFIX } from './dump-format.js';
import { scanDump } from './dump-reader.js';
import { collectGarbage, garbageBudget } from './memory.js';
import { inspectDump, type DumpInspection, type TableInDump } from './inspect.js';
import { loadChunks } from './load-chunks.js';
import { classifyStatement, isSelected, quoteName, replaceSpan, type DumpStatement } from './statements.js';

export interface RestoreOptions {
  /** Drop (or, for a data-only dump, empty) what the dump contains before restoring it. */
  clean?: boolean;
  /** Asked before --clean removes anything that exists; returning false cancels with nothing changed. */
  confirmClean?: (plan: CleanPlan) => Promise<boolean>;
  /** Restore only these tables (and their indexes and triggers; views when named). */
  tables?: string[];
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreProgress {
  phase: 'verify' | 'load';
  fileBytesRead: number;
  fileBytes: number;
}

export interface CleanPlan {
  /** `table questions`, `view v`...: what --clean drops. */
  drop: string[];
  /** Tables whose rows --clean deletes (data-only dumps). */
  empty: Array<{ table: string; rows: number }>;
}

export interface RestoreResult {
  file: string;
  dumpKind: DumpInspection['kind'];
  database: string;
  /** How all-or-nothing is kept: one transaction (file:), or staging tables switched in at the end (remote). */
  strategy: 'one transaction' | 'staging tables';
  tables: Array<{ table: string; rows: number; verified: boolean }>;
  indexes: number;
  views: number;
  triggers: number;
  cleaned: CleanPlan;
  /** Staging tables of an earlier, interrupted remote restore that this one removed first. */
  leftoversRemoved: string[];
  skipped: string[];
  /** Statements (or multi-row INSERTs) sent, and the requests that carried them. */
  statementsSent: number;
  batches: number;
  roundTrips: number;
  elapsedMs: number;
}

interface LiveObject {
  type: string;
  name: string;
  table: string;
  sql: string | null;
}

interface RestorePlan {
  inspection: DumpInspection;
  tables: TableInDump[];
  indexes: DumpInspection['indexes'];
  views: DumpInspection['views'];
  triggers: DumpInspection['triggers'];
  sequences: DumpInspection['sequences'];
  tableNames: Set<string>;
  viewNames: Set<string>;
  dataOnly: boolean;
}

const lower = (name: string) => name.toLowerCase();

function selectFromDump(inspection: DumpInspection, requested: string[] | undefined): RestorePlan {
  const dataOnly = !inspection.hasSchema;
  const relations = [...inspection.tables.map((t) => t.table), ...inspection.views.map((v) => v.name)];
  let wanted: Set<string> | undefined;
  if (requested && requested.length > 0) {
    const known = new Set(relations.map(lower));
    const unknown = requested.filter((name) => !known.has(lower(name)));
    if (unknown.length > 0) throw new UsageError(`--tables: the dump has no table or view named ${unknown.join(', ')}`, { hint: `it has: ${relations.join(', ')}` });
    wanted = new Set(requested.map(lower));
  }
  const take = (name: string) => !wanted || wanted.has(lower(name));
  const tables = inspection.tables.filter((t) => take(t.table) && (dataOnly || t.createSql !== undefined));
  const views = inspection.views.filter((v) => take(v.name));
  const tableNames = new Set(tables.map((t) => lower(t.table)));
  const viewNames = new Set(views.map((v) => lower(v.name)));
  const onSelected = (table: string) => tableNames.has(lower(table)) || viewNames.has(lower(table));
  return {
    inspection,
    tables,
    indexes: inspection.indexes.filter((i) => onSelected(i.table)),
    views,
    triggers: inspection.triggers.filter((t) => onSelected(t.table)),
    sequences: inspection.sequences.filter((s) => tableNames.has(lower(s.table))),
    tableNames,
    viewNames,
    dataOnly,
  };
}

async function readLiveSchema(database: Database): Promise<{ objects: LiveObject[]; leftovers: string[] }> {
  const result = await readQuery(database, "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
  const all = result.rows.map((r) => ({ type: String(r[0]), name: String(r[1]), table: String(r[2]), sql: r[3] === null ? null : String(r[3]) }));
  const isStaging = (o: LiveObject) => o.name.startsWith(STAGING_PREFIX) || o.table.startsWith(STAGING_PREFIX);
  return {
    objects: all.filter((o) => !isStaging(o) && lower(o.name) !== 'libsql_wasm_func_table'),
    leftovers: all.filter((o) => o.type === 'table' && o.name.startsWith(STAGING_PREFIX)).map((o) => o.name),
  };
}

/** What --clean drops, in words: indexes and triggers that go with a dropped table are not listed apart. */
function describeDrops(drop: LiveObject[]): string[] {
  const tables = new Set(drop.filter((o) => o.type === 'table').map((o) => lower(o.name)));
  return drop.filter((o) => o.type === 'table' || o.type === 'view' || !tables.has(lower(o.table))).map((o) => `${o.type} ${o.name}`);
}

function dropStatement(object: LiveObject): string {
  return `DROP ${object.type.toUpperCase()} IF EXISTS ${quoteIdent(object.name)}`;
}

/** Live objects the restore would collide with, what --clean would do about them, and the refusal without it. */
async function planClean(database: Database, plan: RestorePlan, live: LiveObject[], options: RestoreOptions): Promise<{ drop: LiveObject[]; empty: Array<{ table: string; rows: number }>; liveTriggers: LiveObject[]; liveTables: Map<string, LiveObject> }> {
  const liveTables = new Map(live.filter((o) => o.type === 'table').map((o) => [lower(o.name), o]));
  if (plan.dataOnly) {
    const missing = plan.tables.filter((t) => !liveTables.has(lower(t.table)));
    if (missing.length > 0) {
      throw new RefusedError(`this dump holds data only, and ${database.displayUrl} lacks its tables: ${missing.map((t) => t.table).join(', ')}`, {
        hint: 'create the schema first (`qbank db push`), or restore a dump that includes the schema',
      });
    }
    const counts = plan.tables.length
      ? (await database.client.batch(plan.tables.map((t) => `SELECT count(*) FROM ${quoteIdent(liveTables.get(lower(t.table))!.name)}`), 'read')).map((r) => Number(r.rows[0]![0]))
      : [];
    const occupied = plan.tables.map((t, i) => ({ table: liveTables.get(lower(t.table))!.name, rows: counts[i]! })).filter((t) => t.rows > 0);
    if (occupied.length > 0 && !options.clean) {
      throw new RefusedError(`${database.displayUrl} already has rows in the tables this dump fills; nothing was changed`, {
        details: occupied.map((t) => `${t.table}: ${t.rows} rows`),
        hint: 'pass --clean to delete those rows first (the restore is still all-or-nothing)',
      });
    }
    const liveTriggers = live.filter((o) => o.type === 'trigger' && plan.tableNames.has(lower(o.table)));
    return { drop: [], empty: occupied, liveTriggers, liveTables };
  }
  const occupied = live.filter((o) => o.type === 'table' || o.type === 'view' || o.type === 'trigger');
  if (occupied.length > 0 && !options.clean) {
    throw new RefusedError(`${database.displayUrl} is not empty; a restore goes into an empty database unless --clean is given. Nothing was changed`, {
      details: occupied.slice(0, 12).map((o) => `${o.type} ${o.name}`),
      hint: '--clean drops the tables, views, indexes and triggers the dump contains, then restores them (all-or-nothing)',
    });
  }
  const names = new Set([
    ...plan.tableNames,
    ...plan.viewNames,
    ...plan.indexes.map((i) => lower(i.name)),
    ...plan.triggers.map((t) => lower(t.name)),
  ]);
  const drop = live.filter((o) => names.has(lower(o.name)) && o.sql !== null);
  const order = ['trigger', 'view', 'index', 'table'];
  drop.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return { drop, empty: [], liveTriggers: [], liveTables };
}

/**
 * Restores a dump all-or-nothing. The file is checked whole before anything changes (seal,
 * COMMIT, counts); then a `file:` database takes it in one transaction, and a remote one through
 * staging tables switched in by one short transaction (see `restoreThroughStaging`). Row counts are
 * checked before that commit or switch, and again after.
 */
export async function restoreDump(database: Database, path: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const roundTripsBefore = database.roundTrips();
  const inspection = await inspectDump(path, { onRead: (read, total) => options.onProgress?.({ phase: 'verify', fileBytesRead: read, fileBytes: total }) });
  if (!inspection.ok) {
    throw new CheckFailedError(`${path} failed verification; nothing was changed`, { details: inspection.problems, hint: 'run `qbank backup verify` on it for the full report' });
  }
  const plan = selectFromDump(inspection, options.tables);
  requireWriteAccess(database, 'backup restore');
  collectGarbage();

  let live;
  try {
    live = await readLiveSchema(database);
  } catch (error) {
    throw describeDatabaseError(error, database, 'backup restore');
  }
  let clean;
  try {
    clean = await planClean(database, plan, live.objects, options);
  } catch (error) {
    throw describeDatabaseError(error, database, 'backup restore');
  }
  const cleaned: CleanPlan = { drop: describeDrops(clean.drop), empty: clean.empty };
  if (clean.drop.length > 0 || clean.empty.length > 0) {
    const confirmed = options.confirmClean ? await options.confirmClean(cleaned) : false;
    if (!confirmed) throw new RefusedError('restore cancelled; nothing was changed');
  }

  const context: LoadContext = { database, path, plan, clean, options, statements: 0, batches: 0 };
  let leftoversRemoved: string[] = [];
  try {
    if (database.kind === 'file') await restoreInOneTransaction(context);
    else leftoversRemoved = await restoreThroughStaging(context, live.leftovers);
  } catch (error) {
    if (error instanceof QbankError) throw error;
    const mapped = describeDatabaseError(error, database, 'backup restore');
    mapped.message = `the restore failed and was rolled back; the database is as it was: ${mapped.message}`;
    throw mapped;
  }

  const after = plan.tables.length
    ? await database.client.batch(plan.tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t.table)}`), 'read')
    : [];
  const tables = plan.tables.map((t, i) => ({ table: t.table, rows: Number(after[i]!.rows[0]![0]), verified: Number(after[i]!.rows[0]![0]) === t.rows }));
  const wrong = tables.filter((t) => !t.verified);
  if (wrong.length > 0) {
    throw new CheckFailedError('after the restore, row counts differ from the dump', {
      details: wrong.map((t) => `${t.table}: ${t.rows} rows, the dump has ${plan.tables.find((p) => p.table === t.table)!.rows}`),
    });
  }
  return {
    file: path,
    dumpKind: inspection.kind,
    database: database.displayUrl,
    strategy: database.kind === 'file' ? 'one transaction' : 'staging tables',
    tables,
    indexes: plan.dataOnly ? 0 : plan.indexes.length,
    views: plan.dataOnly ? 0 : plan.views.length,
    triggers: plan.dataOnly ? 0 : plan.triggers.length,
    cleaned,
    leftoversRemoved,
    skipped: inspection.skipped,
    statementsSent: context.statements,
    batches: context.batches,
    roundTrips: database.roundTrips() - roundTripsBefore,
    elapsedMs: Date.now() - started,
  };
}

interface LoadContext {
  database: Database;
  path: string;
  plan: RestorePlan;
  clean: Awaited<ReturnType<typeof planClean>>;
  options: RestoreOptions;
  statements: number;
  batches: number;
}

/** Whether a dump statement belongs to what is being restored. */
function selected(plan: RestorePlan, statement: DumpStatement): boolean {
  return isSelected(statement, plan.tableNames, plan.viewNames);
}

function sequenceStatements(plan: RestorePlan, tableName: (table: string) => string): string[] {
  return plan.sequences.flatMap(({ table, seq }) => {
    const name = "'" + tableName(table).replaceAll("'", "''") + "'";
    return [
      `UPDATE sqlite_sequence SET seq = ${seq} WHERE name = ${name}`,
      `INSERT INTO sqlite_sequence(name, seq) SELECT ${name}, ${seq} WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ${name})`,
    ];
  });
}

function checkSameFile(plan: RestorePlan, computed: string): void {
  if (computed !== plan.inspection.checksum.computed) {
    throw new CheckFailedError(`${plan.inspection.file} changed while it was being restored; nothing was changed`);
  }
}

/** Text handed to libSQL per call: its multi-statement exec slows down with long texts, short ones keep it linear. */
const EXEC_CHUNK_CHARS = 4096;

/**
 * `file:` databases: everything in one write transaction, foreign keys off as `sqlite3` loads a
 * dump. SQLite's journal makes it all-or-nothing, also when the process is killed.
 */
async function restoreInOneTransaction(context: LoadContext): Promise<void> {
  const { database, plan, clean, path, options } = context;
  const client: Client = database.client;
  // the pool hands the transaction the connection this PRAGMA just used; checked below
  await client.execute('PRAGMA foreign_keys=OFF');
  const tx: Transaction = await client.transaction('write');
  try {
    const fk = await tx.execute('PRAGMA foreign_keys');
    if (Number(fk.rows[0]![0]) !== 0) throw new QbankError('could not turn foreign keys off for the restore; nothing was changed');
    const before: string[] = [
      ...clean.drop.map(dropStatement),
      ...clean.empty.map((t) => `DELETE FROM ${quoteIdent(t.table)}`),
      ...clean.liveTriggers.map((t) => `DROP TRIGGER IF EXISTS ${quoteIdent(t.name)}`),
    ];
    for (const sql of before) await tx.execute(sql);
    context.statements += before.length;

    const memory = garbageBudget(GARBAGE_EVERY_CHARS * 4);
    const chunks = loadChunks({ path, tableNames: [...plan.tableNames], viewNames: [...plan.viewNames], chunkChars: EXEC_CHUNK_CHARS });
    try {
      let next;
      while (!(next = await chunks.next()).done) {
        const read = next.value;
        for (const text of read.chunks) {
          await tx.executeMultiple(text);
          context.batches++;
          memory.add(text.length);
        }
        context.statements += read.statements;
        options.onProgress?.({ phase: 'load', fileBytesRead: read.fileBytesRead, fileBytes: read.fileBytes });
      }
      checkSameFile(plan, next.value);
    } finally {
      await chunks.return('');
    }
    const after = [...sequenceStatements(plan, (t) => t), ...clean.liveTriggers.map((t) => t.sql!)];
    for (const sql of after) await tx.execute(sql);

    const counts = plan.tables.length ? await tx.batch(plan.tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t.table)}`)) : [];
    const wrong = plan.tables.filter((t, i) => Number(counts[i]!.rows[0]![0]) !== t.rows);
    if (wrong.length > 0) {
      throw new CheckFailedError('row counts after loading differ from the dump; the restore was rolled back and nothing was changed', {
        details: wrong.map((t) => `${t.table}: the dump has ${t.rows} rows`),
      });
    }
    await tx.commit();
  } catch (error) {
    await tx.rollback().catch(() => undefined);
    throw error;
  } finally {
    tx.close();
    await client.execute('PRAGMA foreign_keys=ON').catch(() => undefined);
  }
}

/**
 * Limits for one multi-row INSERT and for one request: far below sqld's body and response caps.
 * A request holds its batch several times over (statements, JSON body, bytes on the wire): 1 MB
 * keeps a remote restore's peak near 140 MB, where 2 MB reached 150 MB.
 */
const ROWS_PER_INSERT = 500;
const CHARS_PER_INSERT = 256 << 10;
const CHARS_PER_BATCH = 1 << 20;
const STATEMENTS_PER_BATCH = 400;
const GARBAGE_EVERY_CHARS = 2 << 20;

/** After an error on the switch request: true when it committed (no staging table is left). */
async function switchHappened(database: Database, tables: string[]): Promise<boolean> {
  let left;
  try {
    left = await readQuery(database, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (${tables.map(() => '?').join(',')})`, tables.map(stagingName));
  } catch (error) {
    throw new QbankError('the connection failed while the restored tables were being switched in, and the database cannot be reached to tell whether that happened', {
      hint: 'once it is reachable: if __qbank_restore_* tables remain, the switch did not happen and the database is as it was; otherwise it holds the dump. Run the restore again to be sure',
      cause: error,
    });
  }
  return Number(left.rows[0]![0]) === 0;
}

export function stagingName(table: string): string {
  return STAGING_PREFIX + table;
}

/**
 * Remote databases: no transaction may stay open for the length of a big restore (sqld times
 * out and steals the write lock; a huge request fails with 502). So:
 *
 * 1. Leftover `__qbank_restore_*` tables of an interrupted restore are dropped.
 * 2. Each table is created as `__qbank_restore_<table>` and filled by multi-row INSERTs in
 *    batches; every batch is its own small transaction. Indexes whose names are free are built
 *    on the staging tables here, after their rows.
 * 3. The staged row counts are checked against the dump.
 * 4. One short transaction switches them in: it re-checks the counts, drops what --clean
 *    replaces, renames each staging table to its real name (legacy_alter_table, so views and
 *    triggers elsewhere are not re-parsed halfway), creates the remaining indexes, views and
 *    triggers and sets sqlite_sequence.
 *
 * Until step 4 commits, the real tables are untouched: a failure, a dropped connection or a
 * killed process leaves them as they were, plus staging tables that step 1 of the next restore
 * removes.
 */
async function restoreThroughStaging(context: LoadContext, leftovers: string[]): Promise<string[]> {
  const { database, plan, clean, path, options } = context;
  const client = database.client;
  const memory = garbageBudget(GARBAGE_EVERY_CHARS);
  const send = async (statements: string[]) => {
    if (statements.length === 0) return;
    await client.migrate(statements);
    context.batches++;
    context.statements += statements.length;
    memory.add(statements.reduce((sum, sql) => sum + sql.length, 0));
  };
  if (leftovers.length > 0) await send(leftovers.map((name) => `DROP TABLE IF EXISTS ${quoteIdent(name)}`));

  const staged = new Set<string>();
  const liveIndexNames = new Set(clean.drop.filter((o) => o.type === 'index').map((o) => lower(o.name)));
  const deferred: string[] = [];
  let batch: string[] = [];
  let batchChars = 0;
  let group: { head: string; tuples: string[]; chars: number } | undefined;

  const flushBatch = async () => {
    const statements = batch;
    batch = [];
    batchChars = 0;
    await send(statements);
  };
  const add = async (sql: string) => {
    batch.push(sql);
    batchChars += sql.length;
    if (batchChars >= CHARS_PER_BATCH || batch.length >= STATEMENTS_PER_BATCH) await flushBatch();
  };
  const flushGroup = async () => {
    if (!group) return;
    const { head, tuples } = group;
    group = undefined;
    await add(head + tuples.join(','));
  };
  const stage = async (table: string, createSql: string) => {
    const statement = classifyStatement(createSql);
    if (statement.kind !== 'create-table') throw new QbankError(`cannot stage ${table}: its CREATE TABLE could not be read`);
    staged.add(table);
    await add(replaceSpan(createSql.replace(/;\s*$/, ''), statement.nameToken, quoteName(stagingName(table))));
  };

  try {
    if (plan.dataOnly) {
      for (const table of plan.tables) await stage(clean.liveTables.get(lower(table.table))!.name, clean.liveTables.get(lower(table.table))!.sql!);
    }
    const scan = await scanDump(
      path,
      async ({ text }) => {
        const statement = classifyStatement(text);
        if (!selected(plan, statement)) return;
        if (statement.kind === 'insert') {
          const liveName = plan.dataOnly ? clean.liveTables.get(lower(statement.table))!.name : statement.table;
          const head = replaceSpan(text.slice(0, statement.valuesAt), statement.tableToken, quoteName(stagingName(liveName)));
          const tuple = text.slice(statement.valuesAt, text.lastIndexOf(';'));
          if (group && (group.head !== head || group.tuples.length >= ROWS_PER_INSERT || group.chars + tuple.length > CHARS_PER_INSERT)) await flushGroup();
          group ??= { head, tuples: [], chars: head.length };
          group.tuples.push(tuple);
          group.chars += tuple.length + 1;
          return;
        }
        await flushGroup();
        const sql = text.replace(/;\s*$/, '');
        if (statement.kind === 'create-table') await stage(statement.name, sql);
        else if (statement.kind === 'create-index' && !liveIndexNames.has(lower(statement.name)) && plan.tableNames.has(lower(statement.table))) {
          await add(replaceSpan(sql, statement.tableToken, quoteName(stagingName(statement.table))));
        } else deferred.push(sql);
      },
      { onRead: (read, total) => options.onProgress?.({ phase: 'load', fileBytesRead: read, fileBytes: total }) },
    );
    await flushGroup();
    await flushBatch();
    checkSameFile(plan, scan.checksum.computed);

    const stagedTables = plan.tables.map((t) => (plan.dataOnly ? clean.liveTables.get(lower(t.table))!.name : t.table));
    const counts = stagedTables.length
      ? await client.batch(stagedTables.map((t) => `SELECT count(*) FROM ${quoteIdent(stagingName(t))}`), 'read')
      : [];
    const wrong = plan.tables.filter((t, i) => Number(counts[i]!.rows[0]![0]) !== t.rows);
    if (wrong.length > 0) {
      throw new CheckFailedError('staged row counts differ from the dump; nothing was switched in and the database is as it was', {
        details: wrong.map((t) => `${t.table}: the dump has ${t.rows} rows`),
      });
    }

    // a data-only restore replaces the live tables, so their indexes and triggers are rebuilt after the switch
    const liveExtras =
      plan.dataOnly && stagedTables.length > 0
        ? (
            await readQuery(
              database,
              `SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN (${stagedTables.map(() => '?').join(',')}) ORDER BY rowid`,
              stagedTables,
            )
          ).rows.map((row) => String(row[0]))
        : [];
    const switchIn = [
      'PRAGMA legacy_alter_table=ON',
      ...stagedTables.map(
        (t, i) => `SELECT CASE WHEN (SELECT count(*) FROM ${quoteIdent(stagingName(t))}) <> ${plan.tables[i]!.rows} THEN json('qbank: staged row count changed') END`,
      ),
      ...clean.drop.map(dropStatement),
      ...(plan.dataOnly ? stagedTables.map((t) => `DROP TABLE ${quoteIdent(t)}`) : []),
      ...stagedTables.map((t) => `ALTER TABLE ${quoteIdent(stagingName(t))} RENAME TO ${quoteName(t)}`),
      ...liveExtras,
      ...deferred,
      ...sequenceStatements(plan, (t) => t),
      'PRAGMA legacy_alter_table=OFF',
    ];
    try {
      await send(switchIn);
    } catch (error) {
      if (/malformed JSON|qbank: staged/.test(String((error as Error)?.message))) {
        throw new CheckFailedError('staged row counts changed before the switch; nothing was switched in and the database is as it was');
      }
      // a connection lost around the switch leaves its outcome unknown: the staging tables tell
      if (!(await switchHappened(database, stagedTables))) throw error;
      staged.clear();
    }
    return leftovers;
  } catch (error) {
    if (staged.size > 0) {
      await client.migrate([...staged].map((t) => `DROP TABLE IF EXISTS ${quoteIdent(stagingName(t))}`)).catch(() => undefined);
    }
    throw error;
  }
}
