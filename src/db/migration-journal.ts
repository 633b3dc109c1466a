// Raw SQL here: drizzle's own bookkeeping table and catalogue reads, outside the systems' schemas.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InStatement } from '@libsql/client';
import { z } from 'zod';
import type { SystemName } from '../config.js';
import { QbankError } from '../errors.js';
import { openDatabase, readBatch, readQuery, type Database } from './client.js';
import { INTROSPECTION_QUERIES, modelFromCatalogue, type SchemaModel } from './schema-model.js';

/**
 * The committed migrations of each system (drizzle-kit's journal and SQL files) and drizzle's record
 * of which ones a database has: read by `db status`, `db migrate`, and `db push` (which records them
 * when the schema it builds is the newest migration's).
 */
/** drizzle's own bookkeeping table, so databases migrated by drizzle-kit and by qbank agree. */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

const journalSchema = z.object({
  entries: z.array(z.object({ idx: z.number(), when: z.number(), tag: z.string(), breakpoints: z.boolean().optional() })),
});

export interface Migration {
  tag: string;
  createdAt: number;
  hash: string;
  statements: string[];
}

export interface AppliedMigration {
  hash: string;
  createdAt: number;
}

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new QbankError('cannot find the qbank package root (package.json)');
    dir = parent;
  }
  return dir;
}

export function migrationsFolder(system: SystemName): string {
  return join(packageRoot(), 'migrations', system);
}

/** Reads the journal and SQL files drizzle-kit generated; a journal entry without its file is an error. */
export function readMigrations(folder: string): Migration[] {
  const journalPath = join(folder, 'meta', '_journal.json');
  if (!existsSync(journalPath)) throw new QbankError(`no migrations journal at ${journalPath}`);
  const journal = journalSchema.parse(JSON.parse(readFileSync(journalPath, 'utf8')));
  return journal.entries.map((entry) => {
    const path = join(folder, `${entry.tag}.sql`);
    if (!existsSync(path)) throw new QbankError(`the migrations journal lists ${entry.tag}, but ${path} is missing`);
    const text = readFileSync(path, 'utf8');
    return {
      tag: entry.tag,
      createdAt: entry.when,
      hash: createHash('sha256').update(text).digest('hex'),
      statements: text
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    };
  });
}

/** Reads the bookkeeping table's rows, as `appliedFromRows` wants them. */
export const APPLIED_MIGRATIONS_QUERY = `SELECT hash, created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at`;

export function appliedFromRows(rows: ArrayLike<Record<string, unknown>>): AppliedMigration[] {
  return Array.from(rows, (row) => ({ hash: String(row.hash), createdAt: Number(row.created_at) }));
}

export async function readAppliedMigrations(database: Database): Promise<AppliedMigration[] | undefined> {
  const [exists] = await readBatch(database, [{ sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", args: [MIGRATIONS_TABLE] }]);
  if (exists.rows.length === 0) return undefined;
  return appliedFromRows((await readQuery(database, APPLIED_MIGRATIONS_QUERY)).rows);
}

export function isApplied(migration: Migration, applied: AppliedMigration[]): boolean {
  return applied.some((a) => a.createdAt === migration.createdAt || a.hash === migration.hash);
}

export interface MigrationStatus {
  system: SystemName;
  applied: string[];
  pending: string[];
  /** Rows in the bookkeeping table that match no migration in the journal. */
  unknown: number;
  tracked: boolean;
}

/** `applied`: the bookkeeping table's rows when the caller has read them already (absent table: `[]`). */
export async function migrationStatus(database: Database, system: SystemName, folder = migrationsFolder(system), applied?: AppliedMigration[]): Promise<MigrationStatus> {
  const migrations = readMigrations(folder);
  const recorded = applied ?? (await readAppliedMigrations(database)) ?? [];
  return {
    system,
    applied: migrations.filter((m) => isApplied(m, recorded)).map((m) => m.tag),
    pending: migrations.filter((m) => !isApplied(m, recorded)).map((m) => m.tag),
    unknown: recorded.filter((a) => !migrations.some((m) => m.createdAt === a.createdAt || m.hash === a.hash)).length,
    tracked: recorded.length > 0,
  };
}


export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)`;

/** Records a migration as applied unless it already is (by hash or by time, as `isApplied` matches). */
export function recordMigrationStatement(migration: Migration): InStatement {
  return {
    sql: `INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM "${MIGRATIONS_TABLE}" WHERE "hash" = ? OR "created_at" = ?)`,
    args: [migration.hash, migration.createdAt, migration.hash, migration.createdAt],
  };
}

const migratedModels = new Map<string, Promise<SchemaModel>>();

/** The schema the committed migrations build, read back from an in-memory database they were applied to. */
export function migratedModel(folder: string): Promise<SchemaModel> {
  let model = migratedModels.get(folder);
  if (!model) {
    model = buildMigratedModel(folder);
    migratedModels.set(folder, model);
  }
  return model;
}

async function buildMigratedModel(folder: string): Promise<SchemaModel> {
  const scratch = openDatabase({ url: ':memory:', displayUrl: ':memory:', kind: 'file', source: 'migrations', readOnlyCredentials: false, notices: [] });
  try {
    await scratch.client.migrate(readMigrations(folder).flatMap((m) => m.statements));
    const [columns, indexes, foreignKeys] = await scratch.client.batch([...INTROSPECTION_QUERIES], 'read');
    return modelFromCatalogue(columns.rows as never, indexes.rows as never, foreignKeys.rows as never);
  } finally {
    scratch.close();
  }
}
