// Raw SQL here: the migrations are drizzle-kit's SQL files, applied as written.
import type { SystemName } from '../config.js';
import { QbankError, RefusedError } from '../errors.js';
import { readQuery, requireWriteAccess, type Database } from './client.js';
import {
  CREATE_MIGRATIONS_TABLE,
  isApplied,
  migrationsFolder,
  readAppliedMigrations,
  readMigrations,
  recordMigrationStatement,
  type Migration,
} from './migration-journal.js';
import { runEntry, runRecordStatements, settleLostWrite, type LostConnection, type RunContext } from './run-record.js';
import { applyStatements, diffSchemas, introspect } from './schema-sync.js';
import { expectedModel } from './systems.js';

export interface MigrateResult {
  system: SystemName;
  applied: string[];
  alreadyApplied: string[];
  /** Migrations recorded without running them, because `db push` had already built the same schema. */
  baselined: string[];
  foreignKeyViolations: number;
  /** Set when the connection dropped while the migrations were committing and a reconnection found them applied. */
  lostConnection?: LostConnection;
}


/**
 * Applies every pending migration, in journal order, in one transaction. Unlike drizzle's migrator it
 * does not skip a migration older than the newest applied one, and it checks afterwards that every
 * journal entry is recorded and that no foreign key points nowhere.
 */
export async function migrate(database: Database, system: SystemName, options: { folder?: string; run?: RunContext } = {}): Promise<MigrateResult> {
  const folder = options.folder ?? migrationsFolder(system);
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

  const entry = runEntry(options.run ?? { actor: 'unknown', command: 'db migrate', target: database.displayUrl }, {
    system,
    counts: { [baseline ? 'baselined' : 'applied']: pending.length },
  });
  const statements = [
    CREATE_MIGRATIONS_TABLE,
    ...pending.flatMap((m) => (baseline ? [recordMigrationStatement(m)] : [...m.statements, recordMigrationStatement(m)])),
    ...runRecordStatements(entry),
  ];
  try {
    await applyStatements(database, statements, 'db migrate');
  } catch (error) {
    result.lostConnection = await settleLostWrite(error, { database, runId: entry.id, what: 'the migration' });
  }
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
