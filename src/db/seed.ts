import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getTableColumns, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { getTableConfig, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SystemName } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { describeDatabaseError, quoteIdent, readBatch, requireWriteAccess, type Database } from './client.js';
import { packageRoot } from './migration-journal.js';
import { loadSystemTables } from './systems.js';

export function fixturesFolder(system: SystemName): string {
  return join(packageRoot(), 'fixtures', system);
}

export interface SeedResult {
  system: SystemName;
  tables: Array<{ table: string; rows: number; before: number; after: number }>;
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

/**
 * Upserts the fixture rows by primary key in one write batch: a second run changes nothing, and a
 * failure changes nothing either.
 */
export async function seedDatabase(database: Database, system: SystemName, fixturePath = join(fixturesFolder(system), 'seed.json')): Promise<SeedResult> {
  const fixture = readFixture(fixturePath);
  // open-interview keeps its questions in the system's own data-file shape beside the seed.
  const questionsPath = join(dirname(fixturePath), 'questions.json');
  if (!fixture.questions && existsSync(questionsPath)) fixture.questions = readFixture(questionsPath) as unknown as FixtureRows[string];
  const tables = await loadSystemTables(system);
  const bySqlName = new Map<string, SQLiteTable>(Object.values(tables).map((t) => [getTableConfig(t).name, t]));
  const order = [...bySqlName.keys()];
  for (const name of Object.keys(fixture)) {
    if (!bySqlName.has(name)) throw new InvalidInputError(`${fixturePath}: table "${name}" is not part of the ${system} schema`);
  }
  const db = drizzle(database.client);
  const statements = [];
  const seeded = order.filter((name) => fixture[name]?.length);
  for (const name of seeded) {
    const table = bySqlName.get(name)!;
    const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
    const primary = Object.values(columns).find((c) => c.primary);
    if (!primary) throw new InvalidInputError(`${fixturePath}: table ${name} has no single-column primary key to seed by`);
    const rows = fixture[name].map((row, index) => {
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        const column = columns[key];
        if (!column) throw new InvalidInputError(`${fixturePath}: ${name}[${index}]: unknown field "${key}"`);
        values[key] = toColumnValue(column, value);
      }
      return values;
    });
    const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== Object.keys(columns).find((p) => columns[p] === primary));
    const set = Object.fromEntries(fields.map((key) => [key, sql.raw(`excluded.${quoteIdent(columns[key].name)}`)]));
    statements.push(db.insert(table).values(rows as never).onConflictDoUpdate({ target: primary, set }));
  }
  const countSql = (name: string) => `SELECT count(*) AS n FROM ${quoteIdent(name)}`;
  const before = await readBatch(database, seeded.map(countSql));
  requireWriteAccess(database, 'db seed');
  try {
    if (statements.length > 0) await db.batch(statements as never);
  } catch (error) {
    throw describeDatabaseError(error, database, 'db seed');
  }
  const after = await readBatch(database, seeded.map(countSql));
  return {
    system,
    tables: seeded.map((name, i) => ({
      table: name,
      rows: fixture[name].length,
      before: Number(before[i].rows[0].n),
      after: Number(after[i].rows[0].n),
    })),
  };
}
