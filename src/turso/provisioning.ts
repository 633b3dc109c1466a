import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../config.js';
import { InvalidInputError, QbankError, RefusedError } from '../errors.js';
import { instanceBaseUrl } from './hrana-probe.js';
import { PlatformApiError, type Database, type DatabaseConfiguration, type Instance, type PlatformApi } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';

/*
 * Databases of the organization through the Platform API: list, show, protect, destroy and create.
 * Reads go through the client's retries; a create or a delete is sent once, and a failed create is
 * followed by a read that says whether the database exists after all (so it is never made twice).
 */

export interface DatabaseSummary {
  name: string;
  id: string;
  group: string | null;
  hostname: string;
  /** URL a client connects to: https:// (http:// for a loopback test server). */
  url: string;
  primaryRegion: string | null;
  regions: string[];
  deleteProtection: boolean;
  blockReads: boolean;
  blockWrites: boolean;
  parent: { name: string | null; branchedAt: string | null } | null;
}

export interface DatabaseDetails extends DatabaseSummary {
  instances: Array<{ name: string; type: string; region: string; hostname: string }>;
  sizeLimit: string | null;
  /** Storage the Platform API reports (usage of the current month); null when it gave none. */
  sizeBytes: number | null;
}

export function databaseUrl(hostname: string): string {
  return instanceBaseUrl(hostname);
}

/** How to reach a database of the organization with a token minted for this run (read-only or full access). */
export function mintedTokenConfig(name: string, url: string, token: string, access: 'read' | 'write'): DatabaseConfig {
  const readOnly = access === 'read';
  return {
    url,
    displayUrl: `${name} (${url})`,
    authToken: token,
    kind: 'remote',
    source: 'Platform API',
    readOnlyCredentials: readOnly,
    tokenVariable: readOnly ? 'a read-only token minted for this run' : 'a token minted for this run',
    notices: [],
  };
}

function summary(database: Database): DatabaseSummary {
  return {
    name: database.Name,
    id: database.DbId,
    group: database.group ?? null,
    hostname: database.Hostname,
    url: databaseUrl(database.Hostname),
    primaryRegion: database.primaryRegion ?? null,
    regions: database.regions ?? [],
    deleteProtection: database.delete_protection ?? false,
    blockReads: database.block_reads ?? false,
    blockWrites: database.block_writes ?? false,
    parent: database.parent ? { name: database.parent.name ?? null, branchedAt: database.parent.branched_at ?? null } : null,
  };
}

/** A 404 on a named database is "no such item" (exit 3); every other failure as platform-errors.ts maps it. */
async function call<T>(run: () => Promise<T>, database?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (database && error instanceof PlatformApiError && error.status === 404) {
      throw new InvalidInputError(error.message, { hint: 'list the databases of the organization with `qbank db list`', cause: error });
    }
    throw describePlatformError(error);
  }
}

export async function listDatabases(api: PlatformApi, options: { group?: string } = {}): Promise<DatabaseSummary[]> {
  const databases = await call(() => api.listDatabases({ group: options.group }));
  return databases.map(summary).sort((a, b) => a.name.localeCompare(b.name));
}

export async function showDatabase(api: PlatformApi, name: string): Promise<DatabaseDetails> {
  const database = await call(() => api.getDatabase(name), name);
  const [instances, configuration, usage] = await Promise.all([
    call(() => api.listInstances(name), name),
    call(() => api.getDatabaseConfiguration(name), name),
    // the size is a courtesy: a token that may not read usage still shows the rest
    api.getDatabaseUsage(name).catch(() => undefined),
  ]);
  const sizeBytes = usage?.total?.storage_bytes ?? null;
  return withConfiguration({ ...summary(database), instances: instances.map(instanceSummary), sizeLimit: null, sizeBytes }, configuration);
}

function instanceSummary(instance: Instance) {
  return { name: instance.name, type: instance.type, region: instance.region, hostname: instance.hostname };
}

function withConfiguration(details: DatabaseDetails, configuration: DatabaseConfiguration): DatabaseDetails {
  return {
    ...details,
    deleteProtection: configuration.delete_protection ?? details.deleteProtection,
    blockReads: configuration.block_reads ?? details.blockReads,
    blockWrites: configuration.block_writes ?? details.blockWrites,
    sizeLimit: configuration.size_limit && configuration.size_limit !== '0' ? configuration.size_limit : null,
  };
}

export async function setDeleteProtection(api: PlatformApi, name: string, on: boolean): Promise<{ name: string; deleteProtection: boolean; changed: boolean }> {
  const before = await call(() => api.getDatabaseConfiguration(name), name);
  if ((before.delete_protection ?? false) === on) return { name, deleteProtection: on, changed: false };
  const after = await call(() => api.updateDatabaseConfiguration(name, { delete_protection: on }), name);
  return { name, deleteProtection: after.delete_protection ?? on, changed: true };
}

/** Refuses (exit 5) while delete protection is on; the caller has already confirmed. */
export async function destroyDatabase(api: PlatformApi, name: string): Promise<void> {
  const configuration = await call(() => api.getDatabaseConfiguration(name), name);
  if (configuration.delete_protection) {
    throw new RefusedError(`database "${name}" has delete protection on, so it was not destroyed`, {
      hint: 'switch delete protection off first if the database really must go',
    });
  }
  await call(() => api.deleteDatabase(name), name);
}

export interface CreateDatabaseRequest {
  name: string;
  group: string;
  fromDb?: string;
  /** Point in time of the copy of `fromDb`. */
  at?: Date;
  sizeLimit?: string;
  /** Where the group is created when it does not exist yet. */
  location?: string;
  /** How long to wait for the new database to answer. */
  readyTimeoutMs: number;
  now?: () => number;
}

export interface CreatedDatabase extends DatabaseSummary {
  /** Milliseconds from the create request until the database answered a query. */
  readyAfterMs: number;
  /** The group was created for this database (it did not exist and a location was given). */
  groupCreated: boolean;
}

/**
 * With a location: the group is created there when it does not exist; an existing group must
 * already serve that location (a database's primary is its group's).
 */
async function ensureGroup(api: PlatformApi, group: string, location: string): Promise<boolean> {
  try {
    const existing = await api.getGroup(group);
    const locations = existing.locations ?? (existing.primary ? [existing.primary] : []);
    if (existing.primary !== location && !locations.includes(location)) {
      throw new RefusedError(`group "${group}" exists in ${locations.join(', ') || 'another location'} (primary ${existing.primary ?? '?'}), not in ${location}: nothing was created`, {
        hint: `create the database in group "${group}" without a location, or in a new group for ${location}`,
      });
    }
    return false;
  } catch (error) {
    if (!(error instanceof PlatformApiError && error.status === 404)) throw describePlatformError(error);
  }
  await call(() => api.createGroup({ name: group, location }));
  return true;
}

/**
 * Creates the database once and waits until it answers `SELECT 1` with a token minted for the wait.
 * After a failed create (5xx, lost answer) it reads the database back: when it exists the create took
 * effect and the run goes on; otherwise the error says nothing was created.
 */
export async function createDatabase(api: PlatformApi, request: CreateDatabaseRequest): Promise<CreatedDatabase> {
  const started = Date.now();
  const groupCreated = request.location ? await ensureGroup(api, request.group, request.location) : false;
  const seed = request.fromDb ? { type: 'database' as const, name: request.fromDb, timestamp: request.at?.toISOString() } : undefined;
  try {
    await api.createDatabase({ name: request.name, group: request.group, seed, size_limit: request.sizeLimit });
  } catch (error) {
    const existsAnyway = error instanceof PlatformApiError && (error.status >= 500 || error.kind === 'network') && (await exists(api, request.name));
    if (!existsAnyway) {
      const failure = describePlatformError(error);
      if (error instanceof PlatformApiError && (error.status >= 500 || error.kind === 'network')) {
        throw new QbankError(`${failure.message}; database "${request.name}" does not exist, so nothing was created`, {
          hint: 'run the same command again when the Turso Platform API answers',
          cause: error,
        });
      }
      throw failure;
    }
  }
  const database = await call(() => api.getDatabase(request.name), request.name);
  await waitUntilReachable(api, database, request.readyTimeoutMs);
  return { ...summary(database), readyAfterMs: Date.now() - started, groupCreated };
}

async function exists(api: PlatformApi, name: string): Promise<boolean> {
  try {
    await api.getDatabase(name);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilReachable(api: PlatformApi, database: Database, timeoutMs: number): Promise<void> {
  const token = await call(() => api.createDatabaseToken(database.Name, { expiration: '1h', authorization: 'read-only' }), database.Name);
  const { createClient } = await import('@libsql/client');
  const client = createClient({ url: databaseUrl(database.Hostname), authToken: token });
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  try {
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await client.execute('SELECT 1');
        return;
      } catch (error) {
        lastError = (error as Error).message;
      }
      if (Date.now() + delay > deadline) break;
      await sleep(delay);
    }
  } finally {
    client.close();
  }
  throw new QbankError(`database "${database.Name}" was created but did not answer within ${Math.round(timeoutMs / 1000)} s (last error: ${lastError})`, {
    hint: `it may still be starting: check it with \`qbank db show ${database.Name}\` in a minute; it exists, so do not create it again`,
  });
}

/** The URL for an env file: libsql:// for Turso, the plain URL of a loopback test server. */
function envFileUrl(database: DatabaseSummary): string {
  return database.url.startsWith('http://') ? database.url : `libsql://${database.hostname}`;
}

/**
 * Mints a read-write and a read-only token for the database and writes them with its URL into the
 * dotenv file (mode 0600, other lines kept). `onSecret` receives each token first, so that no
 * output can show it.
 */
export async function writeDatabaseEnvFile(
  api: PlatformApi,
  database: DatabaseSummary,
  path: string,
  onSecret: (token: string) => void,
): Promise<{ path: string; keys: string[] }> {
  const readWrite = await call(() => api.createDatabaseToken(database.name, { authorization: 'full-access' }), database.name);
  onSecret(readWrite);
  const readOnly = await call(() => api.createDatabaseToken(database.name, { authorization: 'read-only' }), database.name);
  onSecret(readOnly);
  const url = envFileUrl(database);
  const { updateEnvFile } = await import('./env-file.js');
  const values = { TURSO_DATABASE_URL: url, TURSO_AUTH_TOKEN: readWrite, TURSO_DATABASE_URL_RO: url, TURSO_AUTH_TOKEN_RO: readOnly };
  await updateEnvFile(path, values);
  return { path, keys: Object.keys(values) };
}
