import type { DatabaseConfig, SystemName } from '../config.js';
import { quoteIdent, readBatch, type Database } from './client.js';
import { APPLIED_MIGRATIONS_QUERY, appliedFromRows, MIGRATIONS_TABLE, migrationStatus, type MigrationStatus } from './migrations.js';
import { diffSchemas, introspect, type PlanStep } from './schema-sync.js';
import { expectedModel, systemFromTableNames } from './systems.js';

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
  migrations?: MigrationStatus;
  drift?: { upToDate: boolean; steps: Array<Pick<PlanStep, 'kind' | 'description' | 'dataLoss'>>; unmanagedTables: string[] };
  tables: Array<{ table: string; rows: number; inSchema: boolean }>;
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

export async function databaseStatus(
  database: Database,
  config: Pick<DatabaseConfig, 'source' | 'authToken' | 'readOnlyCredentials'>,
  explicitSystem: SystemName | undefined,
  options: { fetch?: typeof fetch } = {},
): Promise<DatabaseStatus> {
  const [live, version] = await Promise.all([introspect(database), serverVersion(database, options.fetch ?? fetch)]);
  const detected = systemFromTableNames(live.keys());
  const system = explicitSystem ?? (detected === 'both' ? undefined : detected);
  const claims = database.tokenClaims;
  const status: DatabaseStatus = {
    connection: {
      url: database.displayUrl,
      kind: database.kind === 'file' ? 'embedded libSQL file' : 'remote libSQL server',
      source: config.source,
      serverVersion: version,
      credentials: !config.authToken ? 'none' : claims?.a === 'ro' || config.readOnlyCredentials ? 'read-only' : claims ? 'read-write' : 'token',
    },
    system,
    systemSource: explicitSystem ? 'explicit' : system ? 'detected' : 'unknown',
    tables: [],
  };
  const tableNames = [...live.keys()].filter((n) => !n.startsWith('sqlite_')).sort();
  // the row counts and the migrations' bookkeeping in one round trip
  const readsMigrations = system !== undefined && live.has(MIGRATIONS_TABLE);
  const results =
    tableNames.length > 0 ? await readBatch(database, [...tableNames.map((name) => `SELECT count(*) AS n FROM ${quoteIdent(name)}`), ...(readsMigrations ? [APPLIED_MIGRATIONS_QUERY] : [])]) : [];
  if (tableNames.length > 0) {
    const expected = system ? await expectedModel(system) : undefined;
    status.tables = tableNames.map((table, i) => ({ table, rows: Number(results[i].rows[0].n), inSchema: Boolean(expected?.has(table)) }));
  }
  if (system) {
    const plan = diffSchemas(system, await expectedModel(system), live);
    status.drift = {
      upToDate: plan.steps.length === 0,
      steps: plan.steps.map(({ kind, description, dataLoss }) => ({ kind, description, dataLoss })),
      unmanagedTables: plan.unmanagedTables,
    };
    const applied = readsMigrations ? appliedFromRows(results[tableNames.length]!.rows) : [];
    status.migrations = await migrationStatus(database, system, undefined, applied);
  }
  return status;
}
