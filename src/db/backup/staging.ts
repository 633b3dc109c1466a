import { hostname } from 'node:os';
import { RefusedError } from '../../errors.js';
import { quoteIdent, readQuery, type Database } from '../client.js';
import { STAGING_PREFIX } from './dump-format.js';

/**
 * A remote restore fills staging tables before one short transaction switches them in. Each run
 * names its own (`__qbank_restore_<run>_<table>`), and holds a lease in qbank's lock table while
 * it works, so a second restore is refused instead of dropping the first one's tables; the lease
 * is renewed with every batch and released by the switch. Staging tables whose run holds no live
 * lease belong to a run that died: they are leftovers, reported by `db status` (through
 * `listRestoreLeftovers`) and removed by the next restore or `qbank backup clean`.
 */

export const LOCK_TABLE = '__qbank_lock';
const RESTORE_LOCK = 'restore';
/**
 * How long a lease lasts without renewal: many batches' time on a slow link. A run killed on this
 * machine does not hold others off that long: its process is gone, so its lease is taken over.
 */
export const RESTORE_LEASE_SECONDS = 60;

const RUN_ID = /^[0-9a-f]{8}$/;

export function stagingPrefix(runId: string): string {
  return `${STAGING_PREFIX}${runId}_`;
}

export function stagingTableName(runId: string, table: string): string {
  return stagingPrefix(runId) + table;
}

export interface RestoreLease {
  runId: string;
  /** Who took it: qbank's version, the host and the process. */
  holder: string;
  host: string;
  pid: number;
  /** Seconds since the epoch, by the database's clock. */
  acquiredAt: number;
  expiresAt: number;
}

export interface RestoreLeftovers {
  /** The run that created them; undefined for the unnumbered names of earlier qbank versions. */
  runId?: string;
  tables: string[];
  /** The run still holds a live lease: these are the tables of a restore in progress, not leftovers. */
  running: boolean;
  lease?: RestoreLease;
}

const NOW = "CAST(strftime('%s','now') AS INTEGER)";

export const CREATE_LOCK_TABLE = `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (name TEXT PRIMARY KEY, run_id TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`;
const LEASE_COLUMNS = 'run_id, holder, host, pid, acquired_at, expires_at';

/** A restore holds the lease already: another one is refused while it is live. */
export class RestoreInProgressError extends RefusedError {
  constructor(
    readonly lease: RestoreLease,
    now: number,
  ) {
    super(`another restore is running on this database: run ${lease.runId} by ${lease.holder}, started ${new Date(lease.acquiredAt * 1000).toISOString()}; nothing was changed`, {
      hint: `its lease runs for ${Math.max(0, lease.expiresAt - now)} s more unless it renews it; try again when it has finished`,
    });
  }
}

function leaseOf(row: ArrayLike<unknown>): RestoreLease {
  return { runId: String(row[0]), holder: String(row[1]), host: String(row[2]), pid: Number(row[3]), acquiredAt: Number(row[4]), expiresAt: Number(row[5]) };
}

/** A lease taken on this machine by a process that no longer exists: its run is dead, whatever the clock says. */
function heldByDeadProcess(lease: RestoreLease): boolean {
  if (lease.host !== hostname() || lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Takes the restore lease for `runId`, or throws `RestoreInProgressError` naming the run that
 * holds a live one. An expired lease, or one whose process on this machine is gone, is taken over:
 * its run is dead.
 */
export async function acquireRestoreLease(database: Database, runId: string, holder: string): Promise<RestoreLease> {
  const take = (condition: string, args: unknown[]) =>
    database.client.batch(
      [
        CREATE_LOCK_TABLE,
        {
          sql: `INSERT INTO ${LOCK_TABLE} (name, ${LEASE_COLUMNS}) VALUES ('${RESTORE_LOCK}', ?, ?, ?, ?, ${NOW}, ${NOW} + ${RESTORE_LEASE_SECONDS})
                ON CONFLICT(name) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, host = excluded.host, pid = excluded.pid,
                  acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                WHERE ${condition}`,
          args: [runId, holder, hostname(), process.pid, ...args] as never,
        },
        `SELECT ${LEASE_COLUMNS}, ${NOW} FROM ${LOCK_TABLE} WHERE name = '${RESTORE_LOCK}'`,
      ],
      'write',
    );
  let read = (await take(`${LOCK_TABLE}.expires_at < excluded.acquired_at`, []))[2]!;
  let lease = leaseOf(read.rows[0]!);
  if (lease.runId !== runId && heldByDeadProcess(lease)) {
    // only if it is still that dead run's lease: two takeovers cannot both succeed
    read = (await take(`${LOCK_TABLE}.run_id = ?`, [lease.runId]))[2]!;
    lease = leaseOf(read.rows[0]!);
  }
  if (lease.runId !== runId) throw new RestoreInProgressError(lease, Number(read.rows[0]![6]));
  return lease;
}

/** Extends the lease; sent inside each batch of the run, so it costs no round trip. */
export function renewLeaseStatement(runId: string): { sql: string; args: string[] } {
  return { sql: `UPDATE ${LOCK_TABLE} SET expires_at = ${NOW} + ${RESTORE_LEASE_SECONDS} WHERE name = '${RESTORE_LOCK}' AND run_id = ?`, args: [runId] };
}

/** Gives the lease up; part of the switch's transaction, so the lease ends exactly when the restore does. */
export function releaseLeaseStatement(runId: string): { sql: string; args: string[] } {
  return { sql: `DELETE FROM ${LOCK_TABLE} WHERE name = '${RESTORE_LOCK}' AND run_id = ?`, args: [runId] };
}

/** The run a staging table belongs to, read from its name. */
function runOf(table: string): string | undefined {
  const rest = table.slice(STAGING_PREFIX.length);
  const candidate = rest.slice(0, 8);
  return RUN_ID.test(candidate) && rest[8] === '_' ? candidate : undefined;
}

/**
 * Staging tables in the database, grouped by run, each group marked running (its run holds a
 * live lease) or not (a leftover of a run that died). `db status` reports the latter as such.
 */
export async function listRestoreLeftovers(database: Database): Promise<RestoreLeftovers[]> {
  const tables = await readQuery(
    database,
    `SELECT name FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, ${STAGING_PREFIX.length}) = '${STAGING_PREFIX}' ORDER BY name`,
  );
  const names = tables.rows.map((row) => String(row[0]));
  if (names.length === 0) return [];
  const lockExists = await readQuery(database, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '${LOCK_TABLE}'`);
  let lease: RestoreLease | undefined;
  let now = 0;
  if (Number(lockExists.rows[0]![0]) > 0) {
    const read = await readQuery(database, `SELECT ${LEASE_COLUMNS}, ${NOW} FROM ${LOCK_TABLE} WHERE name = '${RESTORE_LOCK}'`);
    const row = read.rows[0];
    if (row) {
      lease = leaseOf(row);
      now = Number(row[6]);
    }
  }
  const groups = new Map<string | undefined, string[]>();
  for (const name of names) {
    const run = runOf(name);
    groups.set(run, [...(groups.get(run) ?? []), name]);
  }
  return [...groups.entries()].map(([runId, group]) => {
    const running = runId !== undefined && lease?.runId === runId && lease.expiresAt >= now && !heldByDeadProcess(lease);
    return { runId, tables: group, running, lease: running ? lease : undefined };
  });
}

/** `DROP TABLE` for each leftover staging table (never those of a running restore). */
export function dropLeftoversStatements(leftovers: RestoreLeftovers[]): string[] {
  return leftovers.filter((group) => !group.running).flatMap((group) => group.tables.map((table) => `DROP TABLE IF EXISTS ${quoteIdent(table)}`));
}

export interface CleanResult {
  dropped: string[];
  /** Staging tables left alone because their restore is still running. */
  running: RestoreLeftovers[];
}

/** `qbank backup clean`: drops the staging tables of dead runs; a running restore's are left alone and reported. */
export async function cleanRestoreLeftovers(database: Database): Promise<CleanResult> {
  const leftovers = await listRestoreLeftovers(database);
  const statements = dropLeftoversStatements(leftovers);
  if (statements.length > 0) await database.client.migrate(statements);
  return {
    dropped: leftovers.filter((group) => !group.running).flatMap((group) => group.tables),
    running: leftovers.filter((group) => group.running),
  };
}
