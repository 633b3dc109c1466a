import { ExitCode, QbankError, RefusedError } from '../../errors.js';
import { quoteIdent, readQuery, type Database } from '../client.js';
import { systemFromTableNames } from '../systems.js';
import { STAGING_PREFIX } from './dump-format.js';
import type { DumpInspection, TableInDump } from './inspect.js';
import { isMergedTable } from './merged-tables.js';
import { isSelected, type DumpStatement } from './statements.js';

/** What a restore takes from a dump: all of it, or the tables (and their indexes and triggers) asked for. */
export interface RestorePlan {
  inspection: DumpInspection;
  tables: TableInDump[];
  indexes: DumpInspection['indexes'];
  views: DumpInspection['views'];
  triggers: DumpInspection['triggers'];
  sequences: DumpInspection['sequences'];
  tableNames: Set<string>;
  viewNames: Set<string>;
  /** qbank's audit tables in the dump: their rows are merged into the target's, never replace them (see merged-tables.ts). */
  merged: TableInDump[];
  /** Lower-case names of `merged`. */
  mergedNames: Set<string>;
  dataOnly: boolean;
  /** Only some of the dump's tables: the rest of the database must still agree with them (foreign keys). */
  partial: boolean;
}

export interface LiveObject {
  type: string;
  name: string;
  table: string;
  sql: string | null;
}

export interface CleanPlan {
  /** `table questions`, `view v`...: what --clean drops. */
  drop: string[];
  /** Tables whose rows --clean deletes (data-only dumps). */
  empty: Array<{ table: string; rows: number }>;
  /** Rows that go with the tables --clean drops: what the replacement destroys. */
  rowsLost: Array<{ table: string; rows: number }>;
}

/** Everything the clean step does, with the live objects behind it. */
export interface CleanSteps {
  drop: LiveObject[];
  empty: Array<{ table: string; rows: number }>;
  rowsLost: Array<{ table: string; rows: number }>;
  liveTriggers: LiveObject[];
  liveTables: Map<string, LiveObject>;
}

/** The dump names tables or views it does not have. */
export class UnknownRelationsError extends QbankError {
  constructor(
    readonly unknown: string[],
    readonly available: string[],
  ) {
    super(`the dump has no table or view named ${unknown.join(', ')}`, { exitCode: ExitCode.usage, hint: `it has: ${available.join(', ')}` });
  }
}

/** The dump holds one system's tables and the database the other's. */
export class SystemMismatchError extends RefusedError {
  constructor(
    readonly dumpSystem: string,
    readonly databaseSystem: string,
    database: string,
  ) {
    super(`this dump holds the ${dumpSystem} system and ${database} holds ${databaseSystem}: restoring it would mix the two systems. Nothing was changed`);
  }
}

/** Thrown when the restored tables leave rows pointing at rows that are not there. */
export class OrphanRowsError extends RefusedError {
  constructor(details: string[], related: string[]) {
    super('the restored tables leave rows whose foreign keys point at rows that are not there; the restore was rolled back and nothing was changed', {
      details,
      hint: related.length > 0 ? `restore the related tables too (${related.join(', ')}), or restore the whole dump` : undefined,
    });
  }
}

/** The database already holds what the restore would write: objects (a full dump) or rows (a data-only dump). */
export class TargetOccupiedError extends RefusedError {
  constructor(
    message: string,
    readonly occupiedBy: 'objects' | 'rows',
    details: string[],
  ) {
    super(message, { details });
  }
}

export const lower = (name: string) => name.toLowerCase();

/** Tables no restore touches: SQLite's own, qbank's own bookkeeping and staging, libSQL's function registry. */
function isInternal(name: string): boolean {
  const l = lower(name);
  return l.startsWith('sqlite_') || l.startsWith('__qbank_') || l === 'libsql_wasm_func_table';
}

export function selectFromDump(inspection: DumpInspection, requested: string[] | undefined): RestorePlan {
  const dataOnly = !inspection.hasSchema;
  const relations = [...inspection.tables.map((t) => t.table), ...inspection.views.map((v) => v.name)];
  let wanted: Set<string> | undefined;
  if (requested && requested.length > 0) {
    const known = new Set(relations.map(lower));
    const unknown = requested.filter((name) => !known.has(lower(name)));
    if (unknown.length > 0) throw new UnknownRelationsError(unknown, relations);
    wanted = new Set(requested.map(lower));
  }
  const take = (name: string) => (!wanted || wanted.has(lower(name))) && !isInternal(name);
  const tables = inspection.tables.filter((t) => take(t.table) && (dataOnly || t.createSql !== undefined));
  const merged = inspection.tables.filter((t) => (!wanted || wanted.has(lower(t.table))) && isMergedTable(t.table) && (dataOnly || t.createSql !== undefined));
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
    merged,
    mergedNames: new Set(merged.map((t) => lower(t.table))),
    dataOnly,
    partial: wanted !== undefined,
  };
}

const NO_VIEWS: ReadonlySet<string> = new Set();

/** Whether a dump statement belongs to what is being restored (replaced, or merged: see `isMergedStatement`). */
export function selected(plan: RestorePlan, statement: DumpStatement): boolean {
  return isSelected(statement, plan.tableNames, plan.viewNames) || isMergedStatement(plan, statement);
}

/** A statement of an audit table the restore merges (its CREATE, indexes, triggers, rows). */
export function isMergedStatement(plan: Pick<RestorePlan, 'mergedNames'>, statement: DumpStatement): boolean {
  return plan.mergedNames.size > 0 && isSelected(statement, plan.mergedNames, NO_VIEWS);
}

export async function readLiveSchema(database: Database): Promise<LiveObject[]> {
  const result = await readQuery(database, "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
  const all = result.rows.map((r) => ({ type: String(r[0]), name: String(r[1]), table: String(r[2]), sql: r[3] === null ? null : String(r[3]) }));
  return all.filter((o) => !isInternal(o.name) && !isInternal(o.table) && !o.name.startsWith(STAGING_PREFIX));
}

/**
 * The system the dump holds (its header, else its tables) against the one the database holds (its
 * tables): different systems are refused unless the caller forces it.
 */
export function checkSameSystem(plan: RestorePlan, live: LiveObject[], database: Database): void {
  const fromHeader = plan.inspection.header?.system;
  const dumpSystem = fromHeader && fromHeader !== 'unknown' ? fromHeader : systemFromTableNames(plan.inspection.tables.map((t) => t.table));
  const databaseSystem = systemFromTableNames(live.filter((o) => o.type === 'table').map((o) => o.name));
  if (!dumpSystem || dumpSystem === 'both' || !databaseSystem || databaseSystem === 'both') return;
  if (dumpSystem !== databaseSystem) throw new SystemMismatchError(dumpSystem, databaseSystem, database.displayUrl);
}

/** What --clean drops, in words: indexes and triggers that go with a dropped table are not listed apart. */
export function describeDrops(drop: LiveObject[]): string[] {
  const tables = new Set(drop.filter((o) => o.type === 'table').map((o) => lower(o.name)));
  return drop.filter((o) => o.type === 'table' || o.type === 'view' || !tables.has(lower(o.table))).map((o) => `${o.type} ${o.name}`);
}

export function dropStatement(object: LiveObject): string {
  return `DROP ${object.type.toUpperCase()} IF EXISTS ${quoteIdent(object.name)}`;
}

async function countRows(database: Database, tables: string[]): Promise<number[]> {
  if (tables.length === 0) return [];
  const results = await database.client.batch(tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t)}`), 'read');
  return results.map((r) => Number(r.rows[0]![0]));
}

/** Live objects the restore would collide with, what --clean would do about them (rows included), and the refusal without it. */
export async function planClean(database: Database, plan: RestorePlan, live: LiveObject[], clean: boolean | undefined): Promise<CleanSteps> {
  const liveTables = new Map(live.filter((o) => o.type === 'table').map((o) => [lower(o.name), o]));
  if (plan.dataOnly) {
    const missing = plan.tables.filter((t) => !liveTables.has(lower(t.table)));
    if (missing.length > 0) {
      throw new RefusedError(`this dump holds data only, and ${database.displayUrl} lacks its tables: ${missing.map((t) => t.table).join(', ')}`, {
        hint: 'create the schema first (`qbank db push`), or restore a dump that includes the schema',
      });
    }
    const names = plan.tables.map((t) => liveTables.get(lower(t.table))!.name);
    const counts = await countRows(database, names);
    const occupied = names.map((table, i) => ({ table, rows: counts[i]! })).filter((t) => t.rows > 0);
    if (occupied.length > 0 && !clean) {
      throw new TargetOccupiedError(`${database.displayUrl} already has rows in the tables this dump fills; nothing was changed`, 'rows', occupied.map((t) => `${t.table}: ${t.rows} rows`));
    }
    const liveTriggers = live.filter((o) => o.type === 'trigger' && plan.tableNames.has(lower(o.table)));
    return { drop: [], empty: occupied, rowsLost: occupied, liveTriggers, liveTables };
  }
  const occupied = live.filter((o) => o.type === 'table' || o.type === 'view' || o.type === 'trigger');
  if (occupied.length > 0 && !clean) {
    throw new TargetOccupiedError(
      `${database.displayUrl} is not empty, and a restore goes into an empty database unless it replaces what the dump contains. Nothing was changed`,
      'objects',
      occupied.slice(0, 12).map((o) => `${o.type} ${o.name}`),
    );
  }
  const names = new Set([...plan.tableNames, ...plan.viewNames, ...plan.indexes.map((i) => lower(i.name)), ...plan.triggers.map((t) => lower(t.name))]);
  const drop = live.filter((o) => names.has(lower(o.name)) && o.sql !== null);
  const order = ['trigger', 'view', 'index', 'table'];
  drop.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const droppedTables = drop.filter((o) => o.type === 'table').map((o) => o.name);
  const counts = await countRows(database, droppedTables);
  const rowsLost = droppedTables.map((table, i) => ({ table, rows: counts[i]! }));
  return { drop, empty: [], rowsLost, liveTriggers: [], liveTables };
}

/**
 * The guard a switch runs last when only some tables are restored: it fails when a foreign key
 * points nowhere. SQL has no way to raise an error of one's own outside a trigger, so it provokes
 * one no other statement of the switch can: an integer overflow (the row-count guard uses json()).
 */
export const ORPHAN_GUARD = 'SELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check) THEN abs(-9223372036854775807 - 1) END';
export const ORPHAN_GUARD_MESSAGE = /integer overflow/;

/** `PRAGMA foreign_key_check` rows, in words, and the tables they point at. */
export function describeOrphans(rows: unknown[][]): { details: string[]; related: string[] } {
  const byPair = new Map<string, { table: string; parent: string; rowids: string[] }>();
  for (const row of rows) {
    const key = `${row[0]}\u0000${row[2]}`;
    const entry = byPair.get(key) ?? { table: String(row[0]), parent: String(row[2]), rowids: [] };
    entry.rowids.push(String(row[1]));
    byPair.set(key, entry);
  }
  const details = [...byPair.values()].map(
    ({ table, parent, rowids }) => `${table}: ${rowids.length} row(s) point at missing rows of ${parent} (rowid ${rowids.slice(0, 5).join(', ')}${rowids.length > 5 ? ', …' : ''})`,
  );
  return { details, related: [...new Set([...byPair.values()].flatMap((p) => [p.table, p.parent]))] };
}
