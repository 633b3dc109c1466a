import type { Database } from '../db/client.js';
import { QbankError, RefusedError } from '../errors.js';
import { PlatformApiError, type CreateTokenOptions, type PlatformApi } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';
import { listDatabases, mintedTokenConfig, type DatabaseSummary } from './provisioning.js';

/*
 * One job run on every database of the organization (or of a group): each database is opened with a
 * token minted for this run (short-lived, never written anywhere; one per group where the platform
 * token may mint group tokens), at most `concurrency` databases are worked on at once, and a failing
 * database does not stop the others.
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
  const tokens = new RunTokens(api, Boolean(options.readOnly));
  const entries: Array<FleetEntry<T>> = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      const entry = await runOne(tokens, targets[index]!, options);
      entries[index] = entry;
      options.onEntry?.(entry);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  return entries;
}

/**
 * Tokens minted for one run: one group token per group (a single round trip covers every database
 * of the group), else, for a database outside any group or when the platform token may not mint
 * group tokens, one token for the database itself.
 */
class RunTokens {
  private readonly groups = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly api: PlatformApi,
    private readonly readOnly: boolean,
  ) {}

  async forDatabase(target: DatabaseSummary): Promise<string> {
    const options = { expiration: RUN_TOKEN_EXPIRATION, authorization: this.readOnly ? ('read-only' as const) : ('full-access' as const) };
    const groupToken = target.group ? await this.forGroup(target.group, options) : undefined;
    if (groupToken) return groupToken;
    return this.api.createDatabaseToken(target.name, options).catch((error: unknown) => {
      throw describePlatformError(error);
    });
  }

  private forGroup(group: string, options: CreateTokenOptions): Promise<string | undefined> {
    let token = this.groups.get(group);
    if (!token) {
      // A token that may not mint group tokens (403), or a group the API does not know, falls back
      // to database tokens; any other failure is the database's failure.
      token = this.api.createGroupToken(group, options).catch((error: unknown) => {
        if (error instanceof PlatformApiError && (error.status === 403 || error.status === 404)) return undefined;
        this.groups.delete(group);
        throw describePlatformError(error);
      });
      this.groups.set(group, token);
    }
    return token;
  }
}

async function runOne<T>(tokens: RunTokens, target: DatabaseSummary, options: FleetOptions<T>): Promise<FleetEntry<T>> {
  const base = { name: target.name, url: target.url };
  const refusal = options.refuse?.(target);
  if (refusal) return { ...base, outcome: 'refused', message: refusal, exitCode: 5 };
  let database: Database | undefined;
  try {
    const token = await tokens.forDatabase(target);
    const { openDatabase } = await import('../db/client.js');
    database = openDatabase(mintedTokenConfig(target.name, target.url, token, 'write'), { access: options.readOnly ? 'read' : 'write' });
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
