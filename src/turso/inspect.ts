import type { DatabaseConfig } from '../config.js';
import type { Database } from '../db/client.js';
import type { StorageReport } from '../db/inspect.js';
import { InvalidInputError } from '../errors.js';
import { findDatabaseByUrl, PlatformApiError, type PlatformApi, type UsageObject } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';
import { databaseUrl, mintedTokenConfig } from './provisioning.js';

/*
 * `db inspect`: what the Platform API knows of a database (usage per instance for the current month,
 * the top queries) and what the database itself holds (db/inspect.ts), read with a read-only token
 * minted for the run.
 */

export interface Usage {
  rowsRead: number;
  rowsWritten: number;
  storageBytes: number;
  bytesSynced: number;
}

export interface PlatformInspection {
  name: string;
  group: string | null;
  url: string;
  usage: { total: Usage; instances: Array<Usage & { name: string; type: string; region: string; uuid: string | null }> };
  topQueries: Array<{ query: string; rowsRead: number; rowsWritten: number }>;
}

export interface Inspection {
  database: string | null;
  url: string;
  platform: PlatformInspection | null;
  storage: StorageReport | null;
  /** Why a part is missing, in words. */
  notes: string[];
}

function usage(object: UsageObject | undefined): Usage {
  return {
    rowsRead: object?.rows_read ?? 0,
    rowsWritten: object?.rows_written ?? 0,
    storageBytes: object?.storage_bytes ?? 0,
    bytesSynced: object?.bytes_synced ?? 0,
  };
}

async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PlatformApiError && error.status === 404) throw new InvalidInputError(error.message, { cause: error });
    throw describePlatformError(error);
  }
}

/** Usage and top queries of a database of the organization: four reads, sent at once. */
export async function inspectPlatformDatabase(api: PlatformApi, name: string): Promise<PlatformInspection> {
  const [database, instances, usageReport, topQueries] = await Promise.all([
    call(() => api.getDatabase(name)),
    call(() => api.listInstances(name)),
    call(() => api.getDatabaseUsage(name)),
    call(() => api.getDatabaseStats(name)),
  ]);
  const byUuid = new Map((usageReport.instances ?? []).map((entry) => [entry.uuid, entry.usage]));
  return {
    name: database.Name,
    group: database.group ?? null,
    url: databaseUrl(database.Hostname),
    usage: {
      total: usage(usageReport.total),
      instances: instances.map((instance) => ({
        name: instance.name,
        type: instance.type,
        region: instance.region,
        uuid: instance.uuid ?? null,
        ...usage(instance.uuid ? byUuid.get(instance.uuid) : undefined),
      })),
    },
    topQueries: topQueries.map((q) => ({ query: q.query, rowsRead: q.rows_read ?? 0, rowsWritten: q.rows_written ?? 0 })),
  };
}

/**
 * A database of the organization by name: the Platform API's part, then its tables through a
 * read-only token minted for the run (never stored). A database that cannot be read (reads blocked,
 * not answering) keeps the Platform API's part, with a note saying why the rest is missing.
 */
export async function inspectNamedDatabase(api: PlatformApi, name: string, onSecret: (token: string) => void): Promise<Inspection> {
  const platform = await inspectPlatformDatabase(api, name);
  const notes: string[] = [];
  let storage: StorageReport | null = null;
  try {
    const token = await api.createDatabaseToken(name, { expiration: '1h', authorization: 'read-only' });
    onSecret(token);
    const { openDatabase } = await import('../db/client.js');
    const { inspectStorage } = await import('../db/inspect.js');
    const database = openDatabase(mintedTokenConfig(name, platform.url, token, 'read'), { access: 'read' });
    try {
      storage = await inspectStorage(database);
    } finally {
      database.close();
    }
  } catch (error) {
    notes.push(`the tables of "${name}" could not be read: ${(error as Error).message}`);
  }
  return { database: name, url: platform.url, platform, storage, notes };
}

/**
 * The configured database: its tables, and the Platform API's part when the API is configured and
 * one of the organization's databases has the database URL's hostname. A `file:` database has only
 * the first.
 */
export async function inspectConfiguredDatabase(database: Database, config: DatabaseConfig, api: PlatformApi | undefined): Promise<Inspection> {
  const { inspectStorage } = await import('../db/inspect.js');
  const storage = await inspectStorage(database);
  const notes: string[] = [];
  let platform: PlatformInspection | null = null;
  if (config.kind === 'file') notes.push('a file: database has no Turso usage or top queries: its tables only');
  else if (!api) notes.push('the Turso Platform API is not configured (TURSO_API_TOKEN, TURSO_ORG): the tables only');
  else {
    const match = findDatabaseByUrl(await call(() => api.listDatabases()), config.url);
    if (match) platform = await inspectPlatformDatabase(api, match.Name);
    else notes.push(`no database of organization "${api.org}" has the hostname of ${config.displayUrl}: the tables only`);
  }
  return { database: platform?.name ?? null, url: config.displayUrl, platform, storage, notes };
}

export interface DestroyLoss {
  /** Tables and rows of the database; null when it could not be read. */
  tables: number | null;
  rows: number | null;
  /** Storage the Platform API reports for the month. */
  storageBytes: number | null;
}

/** What destroying the database loses, as far as it can be read; null when nothing could be (the destroy does not depend on it). */
export async function whatDestroyLoses(api: PlatformApi, name: string, onSecret: (token: string) => void): Promise<DestroyLoss | null> {
  try {
    const inspection = await inspectNamedDatabase(api, name, onSecret);
    const tables = inspection.storage?.tables.filter((t) => !t.table.startsWith('__qbank_')) ?? null;
    return {
      tables: tables ? tables.length : null,
      rows: tables ? tables.reduce((sum, t) => sum + t.rows, 0) : null,
      storageBytes: inspection.platform?.usage.total.storageBytes ?? null,
    };
  } catch {
    return null;
  }
}
