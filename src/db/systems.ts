// Raw SQL here: one catalogue read (which tables exist) decides the system.
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SystemName } from '../config.js';
import { UsageError } from '../errors.js';
import { readQuery, type Database } from './client.js';
import type { SchemaModel } from './schema-model.js';

/**
 * Which system a database is for is not settled by its tables: they are of both systems (`both`),
 * of neither (`none`), or of the other one than the system named (`mismatch`). The command layer
 * says how to name the system.
 */
export class SystemChoiceError extends UsageError {
  constructor(
    message: string,
    readonly facts: { situation: 'both' | 'none' } | { situation: 'mismatch'; database: string; detected: SystemName; named: SystemName },
  ) {
    super(message);
  }
}

export async function loadSystemTables(system: SystemName): Promise<Record<string, SQLiteTable>> {
  const module = system === 'pingtopass' ? await import('../../schema/pingtopass.js') : await import('../../schema/open-interview.js');
  return module.tables as unknown as Record<string, SQLiteTable>;
}

const modelCache = new Map<SystemName, SchemaModel>();

export async function expectedModel(system: SystemName): Promise<SchemaModel> {
  let model = modelCache.get(system);
  if (!model) {
    const { modelFromDrizzle } = await import('./schema-model.js');
    model = modelFromDrizzle(await loadSystemTables(system));
    modelCache.set(system, model);
  }
  return model;
}

/** Tables only one of the two systems has: enough to tell them apart in a live database. */
const SIGNATURE_TABLES: Record<SystemName, string[]> = {
  pingtopass: ['exams', 'answer_options', 'study_sessions'],
  'open-interview': ['channel_mappings', 'work_queue', 'bot_ledger'],
};

export function systemFromTableNames(tableNames: Iterable<string>): SystemName | 'both' | undefined {
  const names = new Set(tableNames);
  const found = (Object.keys(SIGNATURE_TABLES) as SystemName[]).filter((system) => SIGNATURE_TABLES[system].some((t) => names.has(t)));
  if (found.length > 1) return 'both';
  return found[0];
}

async function readTableNames(database: Database): Promise<string[]> {
  return (await readQuery(database, "SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => String(r.name));
}

/** `tableNames`: the database's tables when the caller has read them already (saves a round trip). */
export async function detectSystem(database: Database, tableNames?: Iterable<string>): Promise<SystemName | undefined> {
  const detected = systemFromTableNames(tableNames ?? (await readTableNames(database)));
  if (detected === 'both') throw new SystemChoiceError(`${database.displayUrl} holds tables of both systems; say which one it is for`, { situation: 'both' });
  return detected;
}

/**
 * A system named for a database that holds the other system's tables is refused before anything
 * runs: every query would fail on a missing column, and a write would mix the two systems.
 * A database with tables of both systems takes the name it is given.
 */
export function assertNamedSystemMatches(database: Database, named: SystemName, tableNames: Iterable<string>): void {
  const detected = systemFromTableNames(tableNames);
  if (detected === undefined || detected === 'both' || detected === named) return;
  throw new SystemChoiceError(`this database holds the ${detected} tables, not ${named}'s`, { situation: 'mismatch', database: database.displayUrl, detected, named });
}

/** The named system (checked against the tables), else the one the tables show; an empty database needs a name. */
export async function resolveSystem(database: Database, explicit: SystemName | undefined, tableNames?: Iterable<string>): Promise<SystemName> {
  const names = tableNames ? [...tableNames] : await readTableNames(database);
  if (explicit) {
    assertNamedSystemMatches(database, explicit, names);
    return explicit;
  }
  const detected = await detectSystem(database, names);
  if (detected) return detected;
  throw new SystemChoiceError(`cannot tell which system ${database.displayUrl} is for: it has none of either system's tables`, { situation: 'none' });
}
