import type { InStatement } from '@libsql/client';
import { CheckFailedError, ConnectionError, QbankError } from '../../errors.js';
import { quoteIdent, readQuery, type Database } from '../client.js';
import { confirmAfterLostConnection } from '../run-record.js';
import { scanDump } from './dump-reader.js';
import { garbageBudget } from './memory.js';
import { createIfMissing, ownDefinition } from './merged-tables.js';
import { describeOrphans, dropStatement, isMergedStatement, lower, ORPHAN_GUARD, ORPHAN_GUARD_MESSAGE, OrphanRowsError, selected } from './restore-plan.js';
import { checkSameFile, sequenceStatements, type LoadContext } from './restore-shared.js';
import { acquireRestoreLease, dropLeftoversStatements, listRestoreLeftovers, releaseLeaseStatement, renewLeaseStatement, stagingPrefix, stagingTableName } from './staging.js';
import { classifyStatement, quoteName, replaceSpan } from './statements.js';

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

const STAGED_COUNT_CHANGED = /malformed JSON|qbank: staged row count changed/;
/** One attempt to learn a lost switch's outcome: short, so an unreachable server ends the run soon. */
const RECONNECT_TIMEOUT_MS = 5_000;

/** A table being filled under its staging name. */
interface StagedTable {
  /** The real name. */
  table: string;
  staging: string;
  /** The CREATE TABLE text exactly as the dump (or, data-only, the live database) has it. */
  createSql: string;
  /**
   * SQLite writes a renamed table's name as `"name"`: when the original text spells it that way, a
   * rename gives back the same text. Otherwise the table is created from its text in the switch
   * and its rows copied in from the staging table, so `sqlite_schema` holds exactly the original.
   */
  byRename: boolean;
  /** An audit table: its rows are merged into the target's (which is created when missing), never switched in for it. */
  merge: boolean;
  /** Rows the dump has for it. */
  rows: number;
}

export interface StagingOutcome {
  leftoversRemoved: string[];
  /** Set when the connection dropped on the switch and a second connection found it committed. */
  reconnected?: Database;
}

/**
 * Remote databases: no transaction may stay open for the length of a big restore (sqld times
 * out and steals the write lock; a huge request fails with 502). So:
 *
 * 1. The run takes the restore lease (another live lease refuses it) and drops the staging tables
 *    of runs that died.
 * 2. Each table is created as `__qbank_restore_<run>_<table>` and filled by multi-row INSERTs in
 *    batches; every batch is its own small transaction and renews the lease.
 * 3. The staged row counts are checked against the dump.
 * 4. One short transaction switches them in: it re-checks the counts, drops what --clean
 *    replaces, renames each staging table to its real name (or creates it from its own text and
 *    copies the rows in), creates the remaining indexes, views and triggers, sets sqlite_sequence,
 *    checks foreign keys when only some tables are restored, and releases the lease.
 *
 * Until step 4 commits, the real tables are untouched: a failure leaves them as they were, and
 * this run's staging tables are dropped; if even that fails (the connection is gone), the error
 * names them, and `backup clean` or the next restore removes them.
 */
export async function restoreThroughStaging(context: LoadContext): Promise<StagingOutcome> {
  const { database, options, runId } = context;
  await acquireRestoreLease(database, runId, options.holder ?? 'qbank');
  const leftovers = (await listRestoreLeftovers(database)).filter((group) => !group.running);
  const memory = garbageBudget(GARBAGE_EVERY_CHARS);
  const renew = renewLeaseStatement(runId);
  const send = async (statements: InStatement[]) => {
    if (statements.length === 0) return;
    await database.client.migrate([...statements, renew]);
    context.batches++;
    context.statements += statements.length;
    memory.add(statements.reduce<number>((sum, sql) => sum + (typeof sql === 'string' ? sql.length : sql.sql.length), 0));
  };
  await send(dropLeftoversStatements(leftovers));
  const leftoversRemoved = leftovers.flatMap((group) => group.tables);

  const staged: StagedTable[] = [];
  try {
    const { deferred, builtOnStaging } = await stageRows(context, staged, send);
    await checkStagedCounts(database, staged);
    // renamed tables keep their place in sqlite_schema and created ones go last: one way for all
    // keeps the dump's order; the indexes built on staging tables then go with them, and are created again
    if (staged.some((t) => !t.merge && !t.byRename)) {
      for (const t of staged) t.byRename = false;
      deferred.unshift(...builtOnStaging);
    }
    const switchIn = await switchStatements(context, staged, deferred);
    const reconnected = await runSwitch(context, staged, switchIn);
    return { leftoversRemoved, reconnected };
  } catch (error) {
    if (error instanceof SwitchUnknownError) throw error;
    if (error instanceof SwitchNotAppliedError) throw error.afterCleanup(await abandonRun(database, runId, staged));
    throw new StagingRunFailed(error, runId, await abandonRun(database, runId, staged));
  }
}

/**
 * Step 2: the dump's rows into staging tables. Returns what the switch creates (indexes, views,
 * triggers), and the indexes built on staging tables already (their text as the dump has it).
 */
async function stageRows(
  context: LoadContext,
  staged: StagedTable[],
  send: (statements: InStatement[]) => Promise<void>,
): Promise<{ deferred: string[]; builtOnStaging: string[] }> {
  const { plan, clean, path, options, runId } = context;
  const liveIndexNames = new Set(clean.drop.filter((o) => o.type === 'index').map((o) => lower(o.name)));
  const byTable = new Map<string, StagedTable>();
  const deferred: string[] = [];
  const builtOnStaging: string[] = [];
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
  const stage = async (table: string, createSql: string, merge = false) => {
    const statement = classifyStatement(createSql);
    if (statement.kind !== 'create-table') throw new QbankError(`cannot stage ${table}: its CREATE TABLE could not be read`);
    const entry: StagedTable = {
      table,
      staging: stagingTableName(runId, table),
      createSql,
      byRename: !merge && replaceSpan(createSql, statement.nameToken, quoteName(table)) === createSql,
      merge,
      rows: [...plan.tables, ...plan.merged].find((t) => lower(t.table) === lower(table))?.rows ?? 0,
    };
    staged.push(entry);
    byTable.set(lower(table), entry);
    await add(replaceSpan(createSql, statement.nameToken, quoteName(entry.staging)));
  };

  if (plan.dataOnly) {
    for (const table of plan.tables) {
      const live = clean.liveTables.get(lower(table.table))!;
      await stage(live.name, live.sql!);
      byTable.get(lower(live.name))!.rows = table.rows;
    }
    // no CREATE for the audit tables in the dump: qbank's own definition, where the target lacks them
    for (const table of plan.merged) {
      const [createTable, ...indexes] = ownDefinition(table.table);
      await stage(table.table, createTable!, true);
      deferred.push(...indexes);
    }
  }
  const scan = await scanDump(
    path,
    async ({ text }) => {
      const statement = classifyStatement(text);
      if (!selected(plan, statement)) return;
      if (statement.kind === 'insert') {
        const target = byTable.get(lower(statement.table));
        if (!target) throw new QbankError(`rows for ${statement.table} come before its CREATE TABLE`);
        const head = replaceSpan(text.slice(0, statement.valuesAt), statement.tableToken, quoteName(target.staging));
        const tuple = text.slice(statement.valuesAt, text.lastIndexOf(';'));
        if (group && (group.head !== head || group.tuples.length >= ROWS_PER_INSERT || group.chars + tuple.length > CHARS_PER_INSERT)) await flushGroup();
        group ??= { head, tuples: [], chars: head.length };
        group.tuples.push(tuple);
        group.chars += tuple.length + 1;
        return;
      }
      await flushGroup();
      const sql = text.replace(/;\s*$/, '');
      if (isMergedStatement(plan, statement)) {
        if (statement.kind === 'create-table') await stage(statement.name, sql, true);
        else deferred.push(createIfMissing(sql));
      } else if (statement.kind === 'create-table') await stage(statement.name, sql);
      else if (statement.kind === 'create-index' && !liveIndexNames.has(lower(statement.name)) && indexSurvivesRename(byTable.get(lower(statement.table)), sql, statement.tableToken)) {
        // built here, on the staging table, after its rows: the switch stays short
        builtOnStaging.push(sql);
        await add(replaceSpan(sql, statement.tableToken, quoteName(byTable.get(lower(statement.table))!.staging)));
      } else deferred.push(sql);
    },
    { onRead: (read, total) => options.onProgress?.({ phase: 'load', fileBytesRead: read, fileBytes: total }) },
  );
  await flushGroup();
  await flushBatch();
  checkSameFile(plan, scan.checksum.computed);
  return { deferred, builtOnStaging };
}

/** An index built on a staging table keeps its text through the rename only when it names the table as `"table"`, the way the rename rewrites it. */
function indexSurvivesRename(target: StagedTable | undefined, sql: string, tableToken: { start: number; end: number }): boolean {
  return target !== undefined && target.byRename && sql.slice(tableToken.start, tableToken.end) === quoteName(target.table);
}

/** Step 3. */
async function checkStagedCounts(database: Database, staged: StagedTable[]): Promise<void> {
  const counts = staged.length ? await database.client.batch(staged.map((t) => `SELECT count(*) FROM ${quoteIdent(t.staging)}`), 'read') : [];
  const wrong = staged.filter((t, i) => Number(counts[i]!.rows[0]![0]) !== t.rows);
  if (wrong.length > 0) {
    throw new CheckFailedError('staged row counts differ from the dump; nothing was switched in', {
      details: wrong.map((t) => `${t.table}: the dump has ${t.rows} rows`),
    });
  }
}

/** Step 4's statements, in order. */
async function switchStatements(context: LoadContext, staged: StagedTable[], deferred: string[]): Promise<InStatement[]> {
  const { database, plan, clean, runId } = context;
  const copied = staged.filter((t) => !t.byRename);
  const columns = copied.length
    ? await database.client.batch(copied.map((t) => ({ sql: 'SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid', args: [t.staging] })), 'read')
    : [];
  const columnList = new Map(copied.map((t, i) => [t.table, columns[i]!.rows.map((r) => quoteIdent(String(r[0]))).join(', ')]));
  const realNames = staged.filter((t) => !t.merge).map((t) => t.table);
  // a data-only restore replaces the live tables, so their indexes and triggers are rebuilt after the switch
  const liveExtras =
    plan.dataOnly && realNames.length > 0
      ? (
          await readQuery(
            database,
            `SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN (${realNames.map(() => '?').join(',')}) ORDER BY rowid`,
            realNames,
          )
        ).rows.map((row) => String(row[0]))
      : [];
  return [
    'PRAGMA legacy_alter_table=ON',
    ...staged.map((t) => `SELECT CASE WHEN (SELECT count(*) FROM ${quoteIdent(t.staging)}) <> ${t.rows} THEN json('qbank: staged row count changed') END`),
    ...clean.drop.map(dropStatement),
    ...(plan.dataOnly ? realNames.map((t) => `DROP TABLE ${quoteIdent(t)}`) : []),
    ...staged.flatMap((t) => {
      const columns = columnList.get(t.table);
      if (t.merge) {
        // WHERE true: without it, ON CONFLICT would be read as the SELECT's join constraint
        const merge = `INSERT INTO ${quoteIdent(t.table)} (${columns}) SELECT ${columns} FROM ${quoteIdent(t.staging)} WHERE true ON CONFLICT DO NOTHING`;
        return [createIfMissing(t.createSql), merge, `DROP TABLE ${quoteIdent(t.staging)}`];
      }
      if (t.byRename) return [`ALTER TABLE ${quoteIdent(t.staging)} RENAME TO ${quoteName(t.table)}`];
      return [t.createSql, `INSERT INTO ${quoteIdent(t.table)} (${columns}) SELECT ${columns} FROM ${quoteIdent(t.staging)}`, `DROP TABLE ${quoteIdent(t.staging)}`];
    }),
    ...liveExtras,
    ...deferred,
    ...sequenceStatements(plan, (t) => t),
    ...(plan.partial ? [ORPHAN_GUARD] : []),
    releaseLeaseStatement(runId),
    ...context.auditStatements,
    'PRAGMA legacy_alter_table=OFF',
  ];
}

/** Sends the switch. A lost connection is settled by one short reconnect: applied (returns the new connection), not applied, or unknown. */
async function runSwitch(context: LoadContext, staged: StagedTable[], switchIn: InStatement[]): Promise<Database | undefined> {
  const { database, options, runId } = context;
  try {
    // the lease is released by the switch itself: no renewal after it
    await database.client.migrate(switchIn);
    context.batches++;
    context.statements += switchIn.length;
    return undefined;
  } catch (error) {
    const message = String((error as Error)?.message);
    if (STAGED_COUNT_CHANGED.test(message)) throw new CheckFailedError('staged row counts changed before the switch; nothing was switched in');
    if (context.plan.partial && ORPHAN_GUARD_MESSAGE.test(message)) throw await orphansOfSwitch(database, staged);
    if (!isConnectionLoss(error)) throw error;
    const reopen = options.reopen ?? (() => database);
    const outcome = await confirmAfterLostConnection({ reopen, runId: context.auditId, timeoutMs: RECONNECT_TIMEOUT_MS });
    if (outcome === 'applied') return reopen();
    if (outcome === 'not-applied') throw new SwitchNotAppliedError(runId);
    throw new SwitchUnknownError(runId, error);
  }
}

/** Anything but an SQL error from the server (a dropped connection, a cut or garbled answer, a 5xx) leaves the switch's outcome open. */
function isConnectionLoss(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return !/^SQLITE_/.test(code);
}

/** The connection dropped on the switch; a new one found the staging tables still there. */
export class SwitchNotAppliedError extends ConnectionError {
  constructor(
    readonly runId: string,
    stagingLeft?: string[],
  ) {
    super(
      `the connection dropped while the restored tables were being switched in; qbank reconnected: the switch was not applied and the database is as it was (restore run ${runId})`,
      stagingLeft === undefined || stagingLeft.length > 0
        ? { hint: `its staging tables (${stagingPrefix(runId)}*) remain: \`qbank backup clean\` removes them, and so does the next restore` }
        : {},
    );
  }

  afterCleanup(stagingLeft: string[]): SwitchNotAppliedError {
    return new SwitchNotAppliedError(this.runId, stagingLeft);
  }
}

/** The connection dropped on the switch and could not be made again. */
export class SwitchUnknownError extends ConnectionError {
  constructor(
    readonly runId: string,
    cause: unknown,
  ) {
    super(`the connection dropped while the restored tables were being switched in, and qbank could not reconnect to learn whether that was applied (restore run ${runId})`, {
      hint: `check with \`qbank db status\`: if it lists restore leftovers of run ${runId}, the switch was not applied (\`qbank backup clean\` removes them); if not, the database holds the dump, and qbank's run record (__qbank_audit) has this restore's entry`,
      cause,
    });
  }
}

/**
 * The rows a partial restore would orphan, found before anything is switched: every foreign key
 * between a restored table and one that stays, checked with each restored table's staging table
 * standing in for it (the switch itself ran with foreign keys off, so it cannot be replayed with
 * them on: a cascade would hide the orphans).
 */
async function orphansOfSwitch(database: Database, staged: StagedTable[]): Promise<QbankError> {
  try {
    const stand = new Map(staged.map((t) => [lower(t.table), t.staging]));
    const tables = (await readQuery(database, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_qbank\\_%' ESCAPE '\\'")).rows.map((r) => String(r[0]));
    const relations = [...new Set([...tables, ...staged.map((t) => t.table)].map(lower))].map((name) => tables.find((t) => lower(t) === name) ?? staged.find((t) => lower(t.table) === name)!.table);
    const source = (table: string) => stand.get(lower(table)) ?? table;
    const rows: unknown[][] = [];
    for (const child of relations) {
      const keys = (await readQuery(database, 'SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq', [source(child)])).rows;
      const byId = new Map<number, Array<{ parent: string; from: string; to: string | null }>>();
      for (const k of keys) byId.set(Number(k[0]), [...(byId.get(Number(k[0])) ?? []), { parent: String(k[1]), from: String(k[2]), to: k[3] === null ? null : String(k[3]) }]);
      for (const columns of byId.values()) {
        const parent = columns[0]!.parent;
        if (!stand.has(lower(child)) && !stand.has(lower(parent))) continue;
        const pk = (await readQuery(database, 'SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [source(parent)])).rows.map((r) => String(r[0]));
        const match = columns.map((c, i) => `p.${quoteIdent(c.to ?? pk[i] ?? 'rowid')} = c.${quoteIdent(c.from)}`).join(' AND ');
        const present = columns.map((c) => `c.${quoteIdent(c.from)} IS NOT NULL`).join(' AND ');
        const found = await readQuery(
          database,
          `SELECT c.rowid FROM ${quoteIdent(source(child))} c WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(source(parent))} p WHERE ${match}) LIMIT 20`,
        );
        for (const r of found.rows) rows.push([child, r[0], parent]);
      }
    }
    const { details, related } = describeOrphans(rows);
    return new OrphanRowsError(details, related);
  } catch {
    return new OrphanRowsError([], []);
  }
}

/** A run that failed before its switch committed, with the staging tables it could not drop (none when it could). */
export class StagingRunFailed extends Error {
  constructor(
    readonly error: unknown,
    readonly runId: string,
    readonly stagingLeft: string[],
  ) {
    super((error as Error)?.message ?? String(error), { cause: error });
  }
}

/** A failed run drops its staging tables and releases its lease; returns the tables it could not drop. */
async function abandonRun(database: Database, runId: string, staged: StagedTable[]): Promise<string[]> {
  try {
    await database.client.migrate([...staged.map((t) => `DROP TABLE IF EXISTS ${quoteIdent(t.staging)}`), releaseLeaseStatement(runId)]);
    return [];
  } catch {
    return staged.map((t) => t.staging);
  }
}
