// Raw SQL here: push planning reads the live catalogue and writes DDL for tables as they are, not as schema/ types them.
import type { InStatement } from '@libsql/client';
import type { SystemName } from '../config.js';
import { QbankError, RefusedError } from '../errors.js';
import { describeDatabaseError, quoteIdent, readBatch, readQuery, requireWriteAccess, type Database } from './client.js';
import { CREATE_MIGRATIONS_TABLE, migratedModel, migrationsFolder, readMigrations, recordMigrationStatement } from './migration-journal.js';
import { isQbankTable, runEntry, runRecordStatements, settleLostWrite, type LostConnection, type RunContext } from './run-record.js';
import {
  createIndexSql,
  createTableSql,
  INTROSPECTION_QUERIES,
  isInternalTable,
  modelFromCatalogue,
  sameColumns,
  sameForeignKey,
  sameIndex,
  type ColumnModel,
  type SchemaModel,
  type TableModel,
} from './schema-model.js';
import { expectedModel } from './systems.js';

export type PlanStepKind = 'create-table' | 'add-column' | 'rebuild-table' | 'drop-column' | 'create-index';

export interface PlanStep {
  kind: PlanStepKind;
  table: string;
  description: string;
  statements: string[];
  /** Set when the step destroys data: says what is lost. */
  dataLoss?: string;
  /** Set when the step cannot work on the rows the table holds: says why and what to do instead. */
  blocked?: string;
  /** Columns the step adds as NOT NULL without a default: existing rows cannot fill them. */
  requiredWithoutDefault?: string[];
  /** Columns the step drops: with `requiredWithoutDefault`, a hint of a column renamed by hand. */
  droppedColumns?: string[];
  /** Columns that become NOT NULL: rows holding NULL in them would stop the rebuild. */
  nowNotNull?: string[];
}

export interface SchemaPlan {
  system: SystemName;
  steps: PlanStep[];
  /** Tables in the database that the built-in schema does not know; push leaves them alone. */
  unmanagedTables: string[];
  /** qbank's own tables (`__qbank_*`): never drift, never touched by a push. */
  qbankTables: string[];
  /** Indexes an operator added beside the schema's own (on managed tables); push leaves them alone too. */
  unmanagedIndexes: string[];
}

export async function introspect(database: Database): Promise<SchemaModel> {
  const [columns, indexes, foreignKeys] = await readBatch(database, INTROSPECTION_QUERIES);
  return modelFromCatalogue(columns.rows as never, indexes.rows as never, foreignKeys.rows as never);
}

const FK_GUARD = `SELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check) THEN json('qbank: foreign key violations') END`;

function canAddColumn(column: ColumnModel): boolean {
  if (column.primaryKey > 0) return false;
  if (column.defaultSql !== null && column.defaultSql.trim().startsWith('(')) return false;
  if (column.notNull && column.defaultSql === null) return false;
  return true;
}

function addColumnSql(table: string, column: ColumnModel): string {
  let sql = `ALTER TABLE \`${table}\` ADD \`${column.name}\` ${column.type.toLowerCase()}`;
  if (column.defaultSql !== null) sql += ` DEFAULT ${column.defaultSql}`;
  if (column.notNull) sql += ' NOT NULL';
  return sql + ';';
}

function rebuildStatements(expected: TableModel, live: TableModel): string[] {
  const temp = `__qbank_new_${expected.name}`;
  const liveNames = new Set(live.columns.map((c) => c.name));
  const kept = expected.columns.filter((c) => liveNames.has(c.name)).map((c) => `\`${c.name}\``).join(', ');
  return [
    createTableSql(expected, temp),
    `INSERT INTO \`${temp}\` (${kept}) SELECT ${kept} FROM \`${expected.name}\`;`,
    `DROP TABLE \`${expected.name}\`;`,
    `ALTER TABLE \`${temp}\` RENAME TO \`${expected.name}\`;`,
    ...expected.indexes.map((index) => createIndexSql(expected.name, index)),
    ...live.indexes.filter((i) => i.sql && !expected.indexes.some((e) => e.name === i.name)).map((i) => `${i.sql};`),
  ];
}

function describeColumnChange(expected: ColumnModel, live: ColumnModel): string {
  const parts: string[] = [];
  if (expected.type !== live.type) parts.push(`type ${live.type} → ${expected.type}`);
  if (expected.notNull !== live.notNull) parts.push(expected.notNull ? 'now NOT NULL' : 'now nullable');
  if ((expected.defaultSql ?? '') !== (live.defaultSql ?? '')) parts.push(`default ${live.defaultSql ?? 'none'} → ${expected.defaultSql ?? 'none'}`);
  if (expected.primaryKey !== live.primaryKey) parts.push('primary key changed');
  if (expected.autoIncrement !== live.autoIncrement) parts.push(expected.autoIncrement ? 'now AUTOINCREMENT' : 'no longer AUTOINCREMENT');
  return `${expected.name}: ${parts.join(', ') || 'changed'}`;
}

function requiredColumnFacts(added: ColumnModel[], changed: Array<[ColumnModel, ColumnModel]>, dropped: ColumnModel[]): Pick<PlanStep, 'requiredWithoutDefault' | 'droppedColumns' | 'nowNotNull'> {
  const required = added.filter((c) => c.notNull && c.defaultSql === null && c.primaryKey === 0);
  const tightened = changed.filter(([expected, live]) => expected.notNull && !live.notNull).map(([expected]) => expected.name);
  return {
    ...(required.length > 0 ? { requiredWithoutDefault: required.map((c) => c.name), droppedColumns: dropped.map((c) => c.name) } : {}),
    ...(tightened.length > 0 ? { nowNotNull: tightened } : {}),
  };
}

/** The counts `markBlockedSteps` needs: rows of a table (key `table`), NULLs of a column (key `table.column`). */
export function blockingCountQueries(plan: SchemaPlan): Array<{ key: string; sql: string; counts: 'rows' | 'nulls' }> {
  const queries = new Map<string, { key: string; sql: string; counts: 'rows' | 'nulls' }>();
  for (const step of plan.steps) {
    if (step.requiredWithoutDefault) queries.set(step.table, { key: step.table, sql: `SELECT count(*) AS n FROM ${quoteIdent(step.table)}`, counts: 'rows' });
    for (const column of step.nowNotNull ?? []) {
      const key = `${step.table}.${column}`;
      queries.set(key, { key, sql: `SELECT count(*) AS n FROM ${quoteIdent(step.table)} WHERE ${quoteIdent(column)} IS NULL`, counts: 'nulls' });
    }
  }
  return [...queries.values()];
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * Marks the steps that would fail on the rows their table holds. A rebuild copies the rows into a
 * table whose new NOT NULL column has no default (SQLite refuses every row: the usual cause is a
 * column renamed by hand, so the message suggests renaming it back), or whose column became
 * NOT NULL while rows hold NULL in it.
 */
export function markBlockedSteps(plan: SchemaPlan, counts: ReadonlyMap<string, number>): void {
  for (const step of plan.steps) {
    const reasons: string[] = [];
    const rows = counts.get(step.table) ?? 0;
    const columns = step.requiredWithoutDefault ?? [];
    if (columns.length > 0 && rows > 0) {
      const renamed = step.droppedColumns?.length === 1 && columns.length === 1 ? step.droppedColumns[0] : undefined;
      const rename = renamed
        ? `if ${renamed} is ${columns[0]} renamed by hand, rename it back first: ALTER TABLE ${quoteIdent(step.table)} RENAME COLUMN ${quoteIdent(renamed)} TO ${quoteIdent(columns[0]!)}`
        : `if a column was renamed by hand, rename it back first (ALTER TABLE ${quoteIdent(step.table)} RENAME COLUMN old TO new); otherwise give the column a value in every row`;
      reasons.push(
        `${step.table} has ${plural(rows, 'row')}, and ${columns.join(', ')} ${columns.length === 1 ? 'is' : 'are'} NOT NULL without a default: ` +
          `existing rows cannot fill ${columns.length === 1 ? 'it' : 'them'}; ${rename}`,
      );
    }
    for (const column of step.nowNotNull ?? []) {
      const nulls = counts.get(`${step.table}.${column}`) ?? 0;
      if (nulls > 0) reasons.push(`${plural(nulls, 'row')} of ${step.table} hold NULL in ${column}, which becomes NOT NULL: give them a value first`);
    }
    if (reasons.length > 0) step.blocked = reasons.join('; ');
  }
}

/** Reads the counts the plan's NOT NULL columns need (none: no round trip). */
async function markBlockedByRows(database: Database, plan: SchemaPlan): Promise<void> {
  const queries = blockingCountQueries(plan);
  if (queries.length === 0) return;
  const results = await readBatch(database, queries.map((q) => q.sql));
  markBlockedSteps(plan, new Map(queries.map((q, i) => [q.key, Number(results[i]!.rows[0]!.n)])));
}

/** Compares the built-in schema with the live one and lists the statements that would reconcile them. */
export function diffSchemas(system: SystemName, expected: SchemaModel, live: SchemaModel): SchemaPlan {
  const steps: PlanStep[] = [];
  const unmanagedIndexes: string[] = [];
  for (const table of expected.values()) {
    const current = live.get(table.name);
    if (!current) {
      steps.push({
        kind: 'create-table',
        table: table.name,
        description: `create table ${table.name} (${table.columns.length} columns)`,
        statements: [createTableSql(table)],
      });
      for (const index of table.indexes) {
        steps.push({ kind: 'create-index', table: table.name, description: `create index ${index.name}`, statements: [createIndexSql(table.name, index)] });
      }
      continue;
    }
    const liveColumns = new Map(current.columns.map((c) => [c.name, c]));
    const expectedNames = new Set(table.columns.map((c) => c.name));
    const added = table.columns.filter((c) => !liveColumns.has(c.name));
    const changed = table.columns.filter((c) => liveColumns.has(c.name) && !sameColumns(c, liveColumns.get(c.name)!));
    const dropped = current.columns.filter((c) => !expectedNames.has(c.name));
    const fkChanged =
      table.foreignKeys.length !== current.foreignKeys.length ||
      table.foreignKeys.some((fk) => !current.foreignKeys.some((liveFk) => sameForeignKey(fk, liveFk)));
    const needsRebuild = changed.length > 0 || fkChanged || added.some((c) => !canAddColumn(c)) || dropped.length > 0;

    if (needsRebuild) {
      const reasons = [
        ...added.map((c) => `add ${c.name}`),
        ...changed.map((c) => describeColumnChange(c, liveColumns.get(c.name)!)),
        ...dropped.map((c) => `drop ${c.name}`),
        ...(fkChanged ? ['foreign keys changed'] : []),
      ];
      steps.push({
        kind: 'rebuild-table',
        table: table.name,
        description: `rebuild table ${table.name} (${reasons.join('; ')})`,
        statements: rebuildStatements(table, current),
        dataLoss: dropped.length > 0 ? `columns ${dropped.map((c) => `${table.name}.${c.name}`).join(', ')} and their values are dropped` : undefined,
        ...requiredColumnFacts(
          added,
          changed.map((c) => [c, liveColumns.get(c.name)!]),
          dropped,
        ),
      });
      continue;
    }
    for (const column of added) {
      steps.push({ kind: 'add-column', table: table.name, description: `add column ${table.name}.${column.name}`, statements: [addColumnSql(table.name, column)] });
    }
    const liveIndexes = new Map(current.indexes.filter((i) => !i.name.startsWith('sqlite_autoindex_')).map((i) => [i.name, i]));
    for (const index of table.indexes) {
      const existing = liveIndexes.get(index.name);
      if (existing && sameIndex(index, existing)) continue;
      steps.push({
        kind: 'create-index',
        table: table.name,
        description: existing ? `recreate index ${index.name} (definition changed)` : `create index ${index.name}`,
        statements: [...(existing ? [`DROP INDEX \`${index.name}\`;`] : []), createIndexSql(table.name, index)],
      });
    }
    for (const name of liveIndexes.keys()) {
      if (!table.indexes.some((i) => i.name === name)) unmanagedIndexes.push(name);
    }
  }
  const unmanagedTables = [...live.keys()].filter((name) => !expected.has(name) && !isInternalTable(name)).sort();
  const qbankTables = [...live.keys()].filter(isQbankTable).sort();
  return { system, steps, unmanagedTables, qbankTables, unmanagedIndexes: unmanagedIndexes.sort() };
}

/** `live`: the database's schema when the caller has read it already. */
export async function planPush(database: Database, system: SystemName, live?: SchemaModel): Promise<SchemaPlan> {
  const [expected, current] = await Promise.all([expectedModel(system), live ?? introspect(database)]);
  const plan = diffSchemas(system, expected, current);
  await describeDataLoss(database, plan);
  await markBlockedByRows(database, plan);
  return plan;
}

/** Puts the number of rows at stake into each data-loss message, so the operator knows what "lose" means here. */
async function describeDataLoss(database: Database, plan: SchemaPlan): Promise<void> {
  for (const step of plan.steps) {
    if (!step.dataLoss) continue;
    const result = await readQuery(database, `SELECT count(*) AS n FROM ${quoteIdent(step.table)}`);
    const rows = Number(result.rows[0]?.n ?? 0);
    step.dataLoss += ` (${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'} in ${step.table})`;
  }
}

/** The plan loses data and the caller did not allow it; `details` say what would be lost. */
export class DataLossRefusedError extends RefusedError {
  constructor(details: string[], hint?: string) {
    super('the push would lose data; nothing was changed', { details, hint });
  }
}

export interface PushOptions {
  dryRun?: boolean;
  allowDataLoss?: boolean;
  /** Asked only when the plan loses data and --allow-data-loss was given; returns the user's answer. */
  confirmDataLoss?: (plan: SchemaPlan) => Promise<boolean>;
  /** The database's schema as `introspect` read it just before, so the plan needs no read of its own. */
  live?: SchemaModel;
  /** Who runs the push and how, for the run entry written in the push's transaction. */
  run?: RunContext;
  /** A fresh connection to the same database, to find out whether a push whose answer was lost committed. */
  reopen?: () => Database | Promise<Database>;
  /** How long that confirmation may take; default 5 s. */
  confirmTimeoutMs?: number;
}

export interface PushResult {
  system: SystemName;
  upToDate: boolean;
  applied: boolean;
  dryRun: boolean;
  steps: PlanStep[];
  unmanagedTables: string[];
  unmanagedIndexes: string[];
  qbankTables: string[];
  statementCount: number;
  /** The run entry written with the change (`__qbank_audit`); set when the push applied something. */
  runId?: string;
  /** Set when the connection dropped while the push was being committed and a reconnection settled it. */
  lostConnection?: LostConnection;
}

/** The plan's statements, then `extra` (e.g. the run entry), then the foreign key guard when the plan rebuilds tables. */
export function planStatements(plan: SchemaPlan, extra: InStatement[] = []): InStatement[] {
  const statements = [...plan.steps.flatMap((step) => step.statements), ...extra];
  const touchesExisting = plan.steps.some((s) => s.kind === 'rebuild-table' || s.kind === 'drop-column');
  return touchesExisting ? [...statements, FK_GUARD] : statements;
}

/** Brings the database to the built-in schema in one transaction: all of the plan or none of it. */
export async function pushSchema(database: Database, system: SystemName, options: PushOptions = {}): Promise<PushResult> {
  const plan = await planPush(database, system, options.live);
  const result: PushResult = {
    system,
    upToDate: plan.steps.length === 0,
    applied: false,
    dryRun: Boolean(options.dryRun),
    steps: plan.steps,
    unmanagedTables: plan.unmanagedTables,
    qbankTables: plan.qbankTables,
    unmanagedIndexes: plan.unmanagedIndexes,
    statementCount: plan.steps.reduce((n, s) => n + s.statements.length, 0),
  };
  if (result.upToDate || options.dryRun) return result;

  const blocked = plan.steps.filter((s) => s.blocked);
  if (blocked.length > 0) {
    throw new RefusedError('the push would fail on the rows the database holds; nothing was changed', {
      details: blocked.map((s) => `${s.description}: ${s.blocked}`),
    });
  }
  const losses = plan.steps.filter((s) => s.dataLoss);
  if (losses.length > 0) {
    if (!options.allowDataLoss) {
      throw new DataLossRefusedError(losses.map((s) => `${s.description}: ${s.dataLoss}`));
    }
    const confirmed = options.confirmDataLoss ? await options.confirmDataLoss(plan) : false;
    if (!confirmed) throw new RefusedError('push cancelled; nothing was changed');
  }

  requireWriteAccess(database, 'db push');
  const entry = runEntry(options.run ?? { actor: 'unknown', command: 'db push', target: database.displayUrl }, {
    system,
    counts: { steps: plan.steps.length, statements: result.statementCount },
  });
  result.runId = entry.id;
  const bookkeeping = [...(await baselineStatements(system)), ...runRecordStatements(entry)];
  try {
    await applyStatements(database, planStatements(plan, bookkeeping), 'db push');
  } catch (error) {
    result.lostConnection = await settleLostWrite(error, { database, runId: entry.id, what: 'the push', reopen: options.reopen, timeoutMs: options.confirmTimeoutMs });
  }
  const after = diffSchemas(system, await expectedModel(system), await introspect(database));
  if (after.steps.length > 0) {
    throw new QbankError(`the push was applied but the database still differs from the schema: ${after.steps.map((s) => s.description).join('; ')}`);
  }
  result.applied = true;
  return result;
}

/**
 * When the schema a push builds is the one the committed migrations build, the push records them
 * as applied (as `db migrate` would), so `db status` finds nothing pending and drizzle-kit does not
 * replay them. Migrations that build something else stay pending: they are not what was pushed.
 */
export async function baselineStatements(system: SystemName, folder = migrationsFolder(system)): Promise<InStatement[]> {
  const [expected, migrated] = await Promise.all([expectedModel(system), migratedModel(folder)]);
  const difference = diffSchemas(system, expected, migrated);
  if (difference.steps.length > 0 || difference.unmanagedTables.length > 0 || difference.unmanagedIndexes.length > 0) return [];
  return [CREATE_MIGRATIONS_TABLE, ...readMigrations(folder).map(recordMigrationStatement)];
}

/** Runs DDL with foreign keys off inside one transaction (libSQL's migrate), mapping failures to readable errors. */
export async function applyStatements(database: Database, statements: InStatement[], command: string): Promise<void> {
  try {
    await database.client.migrate(statements);
  } catch (error) {
    const message = String((error as Error)?.message ?? '');
    if (/qbank: foreign key violations|malformed JSON/.test(message)) {
      throw new RefusedError(`${command} would leave rows whose foreign keys point nowhere; nothing was changed`, {
        hint: 'run `PRAGMA foreign_key_check` against the database to find them, fix the rows, then retry',
      });
    }
    const mapped = describeDatabaseError(error, database, command);
    if (mapped.constructor === QbankError) {
      throw new QbankError(`${command} failed and was rolled back; nothing was changed: ${mapped.message}`, { cause: error });
    }
    throw mapped;
  }
}
