import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InArgs, InStatement, ResultSet } from '@libsql/client';
import { count, getTableColumns, sql } from 'drizzle-orm';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { getTableConfig, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SystemName } from '../config.js';
import { InvalidInputError, UsageError } from '../errors.js';
import { describeDatabaseError, quoteIdent, readBatch, requireWriteAccess, type Database } from './client.js';
import { packageRoot } from './migration-journal.js';
import { runEntry, runRecordStatements, type RunContext } from './run-record.js';
import { loadSystemTables } from './systems.js';

export function fixturesFolder(system: SystemName): string {
  return join(packageRoot(), 'fixtures', system);
}

export interface SeedResult {
  system: SystemName;
  /** The run entry written with the seed (`__qbank_audit`). */
  runId: string;
  created: number;
  updated: number;
  unchanged: number;
  tables: Array<{ table: string; rows: number; created: number; updated: number; unchanged: number; before: number; after: number }>;
}

/** The system's tables are not there: the database was never pushed (or only in part). */
export class SchemaMissingError extends UsageError {
  constructor(
    readonly displayUrl: string,
    readonly system: SystemName,
    readonly missing: string[],
  ) {
    super(`${displayUrl} does not have the ${system} tables the seed fills (missing: ${missing.join(', ')}); run \`qbank db push\` first`);
  }
}

type FixtureRows = Record<string, Array<Record<string, unknown>>>;

function readFixture(path: string): FixtureRows {
  if (!existsSync(path)) throw new InvalidInputError(`${path}: seed fixture not found`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as FixtureRows;
  } catch (error) {
    throw new InvalidInputError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Fixture values are plain JSON: turn them into what each Drizzle column takes (timestamps become Dates). */
function toColumnValue(column: SQLiteColumn, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && column.columnType === 'SQLiteText') return JSON.stringify(value);
  if (column.columnType === 'SQLiteTimestamp') {
    if (typeof value === 'number') return new Date(value * 1000);
    if (typeof value === 'string') return new Date(value);
  }
  return value;
}

interface TableSeed {
  name: string;
  table: SQLiteTable;
  rows: number;
  upsert: { sql: string; params: unknown[] };
  count: { sql: string; params: unknown[] };
}

/** The fixture's rows of one table as one upsert that only touches rows whose values differ. */
function tableSeed(db: LibSQLDatabase, name: string, table: SQLiteTable, fixtureRows: Array<Record<string, unknown>>, fixturePath: string): TableSeed {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const primaryKey = Object.keys(columns).find((key) => columns[key]!.primary);
  if (!primaryKey) throw new InvalidInputError(`${fixturePath}: table ${name} has no single-column primary key to seed by`);
  const rows = fixtureRows.map((row, index) => {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      const column = columns[key];
      if (!column) throw new InvalidInputError(`${fixturePath}: ${name}[${index}]: unknown field "${key}"`);
      values[key] = toColumnValue(column, value);
    }
    return values;
  });
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((key) => key !== primaryKey);
  const excluded = (key: string) => sql.raw(`excluded.${quoteIdent(columns[key]!.name)}`);
  const set = Object.fromEntries(fields.map((key) => [key, excluded(key)]));
  // rows already equal to the fixture are left alone, so the statement's changes count only what it did
  const differs = fields.length > 0 ? sql.join(fields.map((key) => sql`${columns[key]} IS NOT ${excluded(key)}`), sql` OR `) : sql`0`;
  const upsert = db.insert(table).values(rows as never).onConflictDoUpdate({ target: columns[primaryKey]!, set, setWhere: differs });
  return { name, table, rows: rows.length, upsert: upsert.toSQL(), count: db.select({ n: count() }).from(table).toSQL() };
}

async function missingTables(database: Database, names: string[]): Promise<string[]> {
  const [result] = await readBatch(database, [{ sql: "SELECT name FROM sqlite_master WHERE type = 'table'", args: [] }]);
  const present = new Set(result!.rows.map((row) => String(row.name)));
  return names.filter((name) => !present.has(name));
}

export interface SeedOptions {
  /** A seed file instead of the built-in `fixtures/<system>/seed.json`. */
  fixturePath?: string;
  /** Who seeds, for the run entry written in the seed's batch. */
  run?: RunContext;
}

/**
 * Upserts the fixture rows by primary key in one write batch, with the row counts before and after
 * and the run entry: a second run changes nothing, and a failure changes nothing either.
 */
export async function seedDatabase(database: Database, system: SystemName, options: SeedOptions = {}): Promise<SeedResult> {
  const fixturePath = options.fixturePath ?? join(fixturesFolder(system), 'seed.json');
  const fixture = readFixture(fixturePath);
  // open-interview keeps its questions in the system's own data-file shape beside the seed.
  const questionsPath = join(dirname(fixturePath), 'questions.json');
  if (!fixture.questions && existsSync(questionsPath)) fixture.questions = readFixture(questionsPath) as unknown as FixtureRows[string];
  const tables = await loadSystemTables(system);
  const bySqlName = new Map<string, SQLiteTable>(Object.values(tables).map((t) => [getTableConfig(t).name, t]));
  for (const name of Object.keys(fixture)) {
    if (!bySqlName.has(name)) throw new InvalidInputError(`${fixturePath}: table "${name}" is not part of the ${system} schema`);
  }
  const db = drizzle(database.client);
  const seeds = [...bySqlName.keys()].filter((name) => fixture[name]?.length).map((name) => tableSeed(db, name, bySqlName.get(name)!, fixture[name]!, fixturePath));
  const missing = await missingTables(database, seeds.map((seed) => seed.name));
  if (missing.length > 0) throw new SchemaMissingError(database.displayUrl, system, missing);
  requireWriteAccess(database, 'db seed');
  const entry = runEntry(options.run ?? { actor: 'unknown', command: 'db seed', target: database.displayUrl }, {
    system,
    counts: { rows: seeds.reduce((n, seed) => n + seed.rows, 0) },
  });
  const statement = (query: { sql: string; params: unknown[] }): InStatement => ({ sql: query.sql, args: query.params as InArgs });
  let results;
  try {
    results = await database.client.batch(
      [...seeds.map((seed) => statement(seed.count)), ...seeds.map((seed) => statement(seed.upsert)), ...seeds.map((seed) => statement(seed.count)), ...runRecordStatements(entry)],
      'write',
    );
  } catch (error) {
    throw describeDatabaseError(error, database, 'db seed');
  }
  return seedResult(system, entry.id, seeds, results);
}

function seedResult(system: SystemName, runId: string, seeds: TableSeed[], results: ResultSet[]): SeedResult {
  const countAt = (index: number) => Number(results[index]!.rows[0]![0]);
  const tables = seeds.map((seed, i) => {
    const before = countAt(i);
    const after = countAt(2 * seeds.length + i);
    const created = after - before;
    const updated = results[seeds.length + i]!.rowsAffected - created;
    return { table: seed.name, rows: seed.rows, created, updated, unchanged: seed.rows - created - updated, before, after };
  });
  const total = (key: 'created' | 'updated' | 'unchanged') => tables.reduce((n, t) => n + t[key], 0);
  return { system, runId, created: total('created'), updated: total('updated'), unchanged: total('unchanged'), tables };
}
