import type { DatabaseConfig, SystemName } from '../config.js';
import type { Database } from '../db/client.js';
import type { RunContext } from '../db/run-record.js';
import { InvalidInputError, QbankError } from '../errors.js';
import type { PlatformApi } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';
import { mintedTokenConfig, type DatabaseSummary } from './provisioning.js';

/*
 * What goes into a database just created: a dump restored through the restore service, the schema
 * pushed, the fixtures seeded, in that order, each step with its own run entry, through a full-access
 * token minted for the run (never stored).
 */

export interface NewDatabaseContent {
  /** A qbank or sqlite3 dump (absolute path). */
  dumpPath?: string;
  /** Push this system's schema. */
  schema?: SystemName;
  seed?: boolean;
  run: Omit<RunContext, 'command' | 'target'>;
  holder: string;
}

export interface FilledContent {
  restore: { tables: number; rows: number; dumpKind: string } | null;
  push: { system: SystemName; statements: number; upToDate: boolean } | null;
  seed: { system: SystemName; created: number; updated: number; unchanged: number } | null;
}

/** Fails before anything is created when the dump does not verify (a broken dump must not leave an empty database behind). */
export async function checkDumpBeforeCreate(dumpPath: string, shownPath: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(dumpPath)) throw new InvalidInputError(`no dump at ${shownPath}; no database was created`);
  const { inspectDump } = await import('../db/backup/inspect.js');
  const inspection = await inspectDump(dumpPath);
  if (!inspection.ok) {
    throw new InvalidInputError(`${shownPath} failed verification; no database was created`, { details: inspection.problems });
  }
}

export function wantsContent(content: Omit<NewDatabaseContent, 'run' | 'holder'>): boolean {
  return Boolean(content.dumpPath || content.schema || content.seed);
}

/**
 * Fills the new database. A failing step leaves the database created with the steps before it done:
 * the error says so, naming what is in the database now.
 */
export async function fillNewDatabase(api: PlatformApi, created: DatabaseSummary, content: NewDatabaseContent, onSecret: (token: string) => void): Promise<FilledContent> {
  const token = await api.createDatabaseToken(created.name, { expiration: '1h', authorization: 'full-access' }).catch((error: unknown) => {
    throw describePlatformError(error);
  });
  onSecret(token);
  const config = mintedTokenConfig(created.name, created.url, token, 'write');
  const filled: FilledContent = { restore: null, push: null, seed: null };
  const run = (command: string, target: string, args: Record<string, unknown>): RunContext => ({ ...content.run, command, arguments: args, target });
  try {
    if (content.dumpPath) filled.restore = await restore(config, content.dumpPath, (target) => run('db create: restore of a dump', target, { file: content.dumpPath }), content.holder);
    if (content.schema || content.seed) await withDatabase(config, async (database) => {
      const { resolveSystem } = await import('../db/systems.js');
      const system = await resolveSystem(database, content.schema);
      if (content.schema) {
        const { pushSchema } = await import('../db/schema-sync.js');
        const pushed = await pushSchema(database, system, { run: run('db create: schema push', database.displayUrl, { schema: system }) });
        filled.push = { system, statements: pushed.statementCount, upToDate: pushed.upToDate };
      }
      if (content.seed) {
        const { seedDatabase } = await import('../db/seed.js');
        const seeded = await seedDatabase(database, system, { run: run('db create: seed', database.displayUrl, { schema: system }) });
        filled.seed = { system, created: seeded.created, updated: seeded.updated, unchanged: seeded.unchanged };
      }
    });
  } catch (error) {
    const failure = error instanceof QbankError ? error : new QbankError((error as Error)?.message ?? String(error), { cause: error });
    const done = [filled.restore && 'the dump restored', filled.push && 'the schema pushed'].filter(Boolean).join(' and ');
    throw new QbankError(`database "${created.name}" was created${done ? ` with ${done}` : ' empty'}, then: ${failure.message}`, {
      details: failure.details,
      hint: failure.hint,
      exitCode: failure.exitCode,
      cause: error,
    });
  }
  return filled;
}

async function restore(config: DatabaseConfig, dumpPath: string, run: (target: string) => RunContext, holder: string): Promise<FilledContent['restore']> {
  const { openBackupDatabase } = await import('../db/backup/dump.js');
  const { restoreDump } = await import('../db/backup/restore.js');
  const database = openBackupDatabase(config);
  try {
    const result = await restoreDump(database, dumpPath, { run: run(database.displayUrl), holder, reopen: () => openBackupDatabase(config) });
    return { tables: result.tables.length, rows: result.tables.reduce((sum, t) => sum + t.rows, 0), dumpKind: result.dumpKind };
  } finally {
    database.close();
  }
}

async function withDatabase(config: DatabaseConfig, work: (database: Database) => Promise<void>): Promise<void> {
  const { openDatabase } = await import('../db/client.js');
  const database = openDatabase(config, { access: 'write' });
  try {
    await work(database);
  } finally {
    database.close();
  }
}

