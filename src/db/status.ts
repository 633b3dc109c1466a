// Raw SQL here: the catalogue and `count(*)` of every table, whatever its schema, in one read batch.
import type { DatabaseConfig, SystemName } from '../config.js';
import { STAGING_PREFIX } from './backup/dump-format.js';
import { listRestoreLeftovers, type RestoreLeftovers } from './backup/staging.js';
import { quoteIdent, readBatch, type Database } from './client.js';
import { APPLIED_MIGRATIONS_QUERY, appliedFromRows, MIGRATIONS_TABLE, migrationStatus, type MigrationStatus } from './migration-journal.js';
import { isQbankTable } from './run-record.js';
import { baselineStatements, blockingCountQueries, diffSchemas, introspect, markBlockedSteps, type PlanStep } from './schema-sync.js';
import { assertNamedSystemMatches, expectedModel, systemFromTableNames } from './systems.js';

/** Whose a table is: the system's schema, qbank's own bookkeeping, drizzle's migrations, a dead restore's leftover, or nobody's. */
export type TableRole = 'schema' | 'qbank' | 'migrations' | 'restore-leftover' | 'unmanaged';

export interface DatabaseStatus {
  connection: {
    url: string;
    kind: 'embedded libSQL file' | 'remote libSQL server';
    source: string;
    serverVersion?: string;
    credentials: 'none' | 'read-write' | 'read-only' | 'token';
  };
  system?: SystemName;
  systemSource: 'explicit' | 'detected' | 'unknown';
  migrations?: MigrationStatus & {
    /** Not recorded, but the schema is already what they build (a database built by `db push`): not pending. */
    inPlace: string[];
  };
  drift?: {
    upToDate: boolean;
    /** The steps `db push` would take, with the same fields as push's (`table`, `statements`, `dataLoss`, `blocked`). */
    steps: PlanStep[];
    unmanagedTables: string[];
    unmanagedIndexes: string[];
    /** qbank's own tables (`__qbank_*`), listed apart: never drift. */
    qbankTables: string[];
  };
  tables: Array<{ table: string; rows: number; inSchema: boolean; role: TableRole }>;
  /** Staging tables of restores; `running: false` groups are leftovers of a restore that died. */
  restoreLeftovers: RestoreLeftovers[];
}

/** Asks a remote server for its version (sqld answers GET /version without auth); optional. */
async function serverVersion(database: Database, fetchImpl: typeof fetch): Promise<string | undefined> {
  if (database.kind !== 'remote') return undefined;
  const base = database.url.replace(/^libsql:/, 'https:');
  try {
    const response = await fetchImpl(new URL('/version', base), { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return undefined;
    return (await response.text()).trim().slice(0, 80) || undefined;
  } catch {
    return undefined;
  }
}

function tableRole(name: string, inSchema: boolean): TableRole {
  if (inSchema) return 'schema';
  if (name.startsWith(STAGING_PREFIX)) return 'restore-leftover';
  if (isQbankTable(name)) return 'qbank';
  if (name === MIGRATIONS_TABLE) return 'migrations';
  return 'unmanaged';
}

function connectionOf(database: Database, config: Pick<DatabaseConfig, 'source' | 'authToken' | 'readOnlyCredentials'>, version: string | undefined): DatabaseStatus['connection'] {
  const claims = database.tokenClaims;
  return {
    url: database.displayUrl,
    kind: database.kind === 'file' ? 'embedded libSQL file' : 'remote libSQL server',
    source: config.source,
    serverVersion: version,
    credentials: !config.authToken ? 'none' : claims?.a === 'ro' || config.readOnlyCredentials ? 'read-only' : claims ? 'read-write' : 'token',
  };
}

export async function databaseStatus(
  database: Database,
  config: Pick<DatabaseConfig, 'source' | 'authToken' | 'readOnlyCredentials'>,
  explicitSystem: SystemName | undefined,
  options: { fetch?: typeof fetch } = {},
): Promise<DatabaseStatus> {
  const [live, version] = await Promise.all([introspect(database), serverVersion(database, options.fetch ?? fetch)]);
  if (explicitSystem) assertNamedSystemMatches(database, explicitSystem, live.keys());
  const detected = systemFromTableNames(live.keys());
  const system = explicitSystem ?? (detected === 'both' ? undefined : detected);
  const status: DatabaseStatus = {
    connection: connectionOf(database, config, version),
    system,
    systemSource: explicitSystem ? 'explicit' : system ? 'detected' : 'unknown',
    tables: [],
    restoreLeftovers: [],
  };
  const tableNames = [...live.keys()].filter((n) => !n.startsWith('sqlite_')).sort();
  // the row counts and the migrations' bookkeeping in one round trip
  const readsMigrations = system !== undefined && live.has(MIGRATIONS_TABLE);
  const results =
    tableNames.length > 0 ? await readBatch(database, [...tableNames.map((name) => `SELECT count(*) AS n FROM ${quoteIdent(name)}`), ...(readsMigrations ? [APPLIED_MIGRATIONS_QUERY] : [])]) : [];
  const expected = system ? await expectedModel(system) : undefined;
  const rowCounts = new Map(tableNames.map((table, i) => [table, Number(results[i]!.rows[0]!.n)]));
  status.tables = tableNames.map((table) => {
    const inSchema = Boolean(expected?.has(table));
    return { table, rows: rowCounts.get(table)!, inSchema, role: tableRole(table, inSchema) };
  });
  if (tableNames.some((name) => name.startsWith(STAGING_PREFIX))) status.restoreLeftovers = await listRestoreLeftovers(database);
  if (system && expected) {
    const plan = diffSchemas(system, expected, live);
    // rows per table are known already; NULLs in columns that become NOT NULL cost one read, only when there are such columns
    const nullQueries = blockingCountQueries(plan).filter((q) => q.counts === 'nulls' || !rowCounts.has(q.key));
    const nullCounts = nullQueries.length > 0 ? await readBatch(database, nullQueries.map((q) => q.sql)) : [];
    markBlockedSteps(plan, new Map([...rowCounts, ...nullQueries.map((q, i) => [q.key, Number(nullCounts[i]!.rows[0]!.n)] as const)]));
    status.drift = { upToDate: plan.steps.length === 0, steps: plan.steps, unmanagedTables: plan.unmanagedTables, unmanagedIndexes: plan.unmanagedIndexes, qbankTables: plan.qbankTables };
    const applied = readsMigrations ? appliedFromRows(results[tableNames.length]!.rows) : [];
    const migrations = await migrationStatus(database, system, undefined, applied);
    // A schema equal to what every migration builds has them in place, recorded or not.
    const inPlace = status.drift.upToDate && migrations.pending.length > 0 && (await baselineStatements(system)).length > 0 ? migrations.pending : [];
    status.migrations = { ...migrations, pending: migrations.pending.filter((tag) => !inPlace.includes(tag)), inPlace };
  }
  return status;
}

/** What keeps the database from being in step with the schema: drift and pending migrations, one line each. */
export function pendingChanges(status: DatabaseStatus): string[] {
  return [
    ...(status.drift?.steps.map((s) => (s.blocked ? `${s.description} (would fail: ${s.blocked})` : s.description)) ?? []),
    ...(status.migrations?.pending.map((m) => `pending migration ${m}`) ?? []),
  ];
}
