import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { SystemName } from '../config.js';
import { QbankError, RefusedError } from '../errors.js';
import { readBatch, readQuery, requireWriteAccess, type Database } from './client.js';
import { applyStatements, diffSchemas, introspect } from './schema-sync.js';
import { expectedModel } from './systems.js';

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

function isApplied(migration: Migration, applied: AppliedMigration[]): boolean {
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

export interface MigrateResult {
  system: SystemName;
  applied: string[];
  alreadyApplied: string[];
  /** Migrations recorded without running them, because `db push` had already built the same schema. */
  baselined: string[];
  foreignKeyViolations: number;
}

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)`;

/**
 * Applies every pending migration, in journal order, in one transaction. Unlike drizzle's migrator it
 * does not skip a migration older than the newest applied one, and it checks afterwards that every
 * journal entry is recorded and that no foreign key points nowhere.
 */
export async function migrate(database: Database, system: SystemName, folder = migrationsFolder(system)): Promise<MigrateResult> {
  const migrations = readMigrations(folder);
  const applied = (await readAppliedMigrations(database)) ?? [];
  const pending = migrations.filter((m) => !isApplied(m, applied));
  const result: MigrateResult = {
    system,
    applied: [],
    alreadyApplied: migrations.filter((m) => isApplied(m, applied)).map((m) => m.tag),
    baselined: [],
    foreignKeyViolations: 0,
  };
  if (pending.length === 0) return verifyMigrated(database, migrations, result);

  requireWriteAccess(database, 'db migrate');
  const live = await introspect(database);
  const hasSystemTables = [...(await expectedModel(system)).keys()].some((name) => live.has(name));
  let baseline = false;
  if (applied.length === 0 && hasSystemTables) {
    const drift = diffSchemas(system, await expectedModel(system), live);
    if (drift.steps.length > 0) {
      throw new RefusedError(`${database.displayUrl} already has ${system} tables but no migration history, and differs from the schema`, {
        details: drift.steps.map((s) => s.description),
        hint: 'bring it to the schema with `qbank db push` first; migrate then records the history',
      });
    }
    baseline = true;
  }

  const record = (m: Migration) => `INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES ('${m.hash}', ${m.createdAt})`;
  const statements = [CREATE_MIGRATIONS_TABLE, ...pending.flatMap((m) => (baseline ? [record(m)] : [...m.statements, record(m)]))];
  await applyStatements(database, statements, 'db migrate');
  if (baseline) result.baselined = pending.map((m) => m.tag);
  else result.applied = pending.map((m) => m.tag);
  return verifyMigrated(database, migrations, result);
}

async function verifyMigrated(database: Database, migrations: Migration[], result: MigrateResult): Promise<MigrateResult> {
  const recorded = (await readAppliedMigrations(database)) ?? [];
  const missing = migrations.filter((m) => !isApplied(m, recorded));
  if (missing.length > 0) {
    throw new QbankError(`migrations are not all recorded after migrating: ${missing.map((m) => m.tag).join(', ')}`);
  }
  const violations = await readQuery(database, 'SELECT count(*) AS n FROM pragma_foreign_key_check');
  result.foreignKeyViolations = Number(violations.rows[0]?.n ?? 0);
  if (result.foreignKeyViolations > 0) {
    throw new QbankError(`PRAGMA foreign_key_check reports ${result.foreignKeyViolations} row(s) whose foreign keys point nowhere`, {
      hint: 'run `PRAGMA foreign_key_check` in a shell to list them',
    });
  }
  return result;
}
