import type { DatabaseConfig } from '../config.js';
import type { Database } from '../db/client.js';
import { QbankError, RefusedError } from '../errors.js';
import type { PlatformApi } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';
import { listDatabases, type DatabaseSummary } from './provisioning.js';

/*
 * One job run on every database of the organization (or of a group): each database gets a token
 * minted for this run (short-lived, never written anywhere), at most `concurrency` databases are
 * worked on at once, and a failing database does not stop the others.
 */

export const DEFAULT_FLEET_CONCURRENCY = 4;
/** Long enough for a slow push; short so that a token minted for the run is of no use afterwards. */
const RUN_TOKEN_EXPIRATION = '1h';

export type FleetOutcome = 'ok' | 'changed' | 'pending' | 'refused' | 'failed';

export interface FleetEntry<T> {
  name: string;
  url: string;
  outcome: FleetOutcome;
  /** What happened, in one line. */
  message: string;
  /** Exit code this database alone would have given. */
  exitCode: number;
  details?: string[];
  result?: T;
}

export interface FleetJobResult<T> {
  outcome: 'ok' | 'changed' | 'pending';
  message: string;
  result: T;
}

export interface FleetOptions<T> {
  group?: string;
  concurrency: number;
  /** The job on one database, opened with a token minted for it. */
  job: (database: Database, target: DatabaseSummary) => Promise<FleetJobResult<T>>;
  /** Refuses a database before it is opened (e.g. writes blocked); returns the reason. */
  refuse?: (target: DatabaseSummary) => string | undefined;
  /** Called as each database finishes, in the order they finish. */
  onEntry?: (entry: FleetEntry<T>) => void;
  readOnly?: boolean;
}

export async function runOnFleet<T>(api: PlatformApi, options: FleetOptions<T>): Promise<Array<FleetEntry<T>>> {
  const targets = await listDatabases(api, { group: options.group });
  const entries: Array<FleetEntry<T>> = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      const entry = await runOne(api, targets[index]!, options);
      entries[index] = entry;
      options.onEntry?.(entry);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  return entries;
}

async function runOne<T>(api: PlatformApi, target: DatabaseSummary, options: FleetOptions<T>): Promise<FleetEntry<T>> {
  const base = { name: target.name, url: target.url };
  const refusal = options.refuse?.(target);
  if (refusal) return { ...base, outcome: 'refused', message: refusal, exitCode: 5 };
  let database: Database | undefined;
  try {
    const token = await api
      .createDatabaseToken(target.name, { expiration: RUN_TOKEN_EXPIRATION, authorization: options.readOnly ? 'read-only' : 'full-access' })
      .catch((error: unknown) => {
        throw describePlatformError(error);
      });
    const { openDatabase } = await import('../db/client.js');
    database = openDatabase(fleetConfig(target, token), { access: options.readOnly ? 'read' : 'write' });
    const done = await options.job(database, target);
    return { ...base, outcome: done.outcome, message: done.message, exitCode: done.outcome === 'pending' ? 6 : 0, result: done.result };
  } catch (error) {
    const failure = error instanceof QbankError ? error : new QbankError((error as Error)?.message ?? String(error), { cause: error });
    return {
      ...base,
      outcome: failure instanceof RefusedError ? 'refused' : 'failed',
      message: failure.message,
      exitCode: failure.exitCode,
      details: failure.details,
    };
  } finally {
    database?.close();
  }
}

function fleetConfig(target: DatabaseSummary, token: string): DatabaseConfig {
  return {
    url: target.url,
    displayUrl: `${target.name} (${target.url})`,
    authToken: token,
    kind: 'remote',
    source: 'Platform API',
    readOnlyCredentials: false,
    tokenVariable: 'a token minted for this run',
    notices: [],
  };
}

export interface FleetSummary {
  databases: number;
  ok: number;
  changed: number;
  pending: number;
  refused: number;
  failed: number;
}

export function summarize(entries: ReadonlyArray<FleetEntry<unknown>>): FleetSummary {
  const count = (outcome: FleetOutcome) => entries.filter((e) => e.outcome === outcome).length;
  return { databases: entries.length, ok: count('ok'), changed: count('changed'), pending: count('pending'), refused: count('refused'), failed: count('failed') };
}
