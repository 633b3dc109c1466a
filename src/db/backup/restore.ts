import { CheckFailedError, QbankError, RefusedError } from '../../errors.js';
import { describeDatabaseError, quoteIdent, requireWriteAccess, type Database } from '../client.js';
import { basename } from 'node:path';
import { runEntry, runRecordStatements } from '../run-record.js';
import { collectGarbage } from './memory.js';
import { inspectDump, type DumpInspection } from './inspect.js';
import { restoreInOneTransaction } from './restore-file.js';
import { checkSameSystem, describeDrops, planClean, readLiveSchema, selectFromDump, type CleanPlan } from './restore-plan.js';
import { restoreThroughStaging, StagingRunFailed } from './restore-remote.js';
import type { LoadContext, RestoreOptions } from './restore-shared.js';

export type { CleanPlan } from './restore-plan.js';
export { OrphanRowsError, SystemMismatchError, TargetOccupiedError, UnknownRelationsError } from './restore-plan.js';
export type { RestoreOptions, RestoreProgress } from './restore-shared.js';

export interface RestoreResult {
  file: string;
  dumpKind: DumpInspection['kind'];
  database: string;
  /** How all-or-nothing is kept: one transaction (file:), or staging tables switched in at the end (remote). */
  strategy: 'one transaction' | 'staging tables';
  /** This run's id in qbank's run record; its last 8 characters name a remote restore's staging tables and lease. */
  runId: string;
  tables: Array<{ table: string; rows: number; verified: boolean }>;
  /** qbank's audit tables in the dump, merged into the target's record by key (the target's rows kept): the dump's rows per table. */
  auditMerged: Array<{ table: string; rows: number }>;
  indexes: number;
  views: number;
  triggers: number;
  cleaned: CleanPlan;
  /** Staging tables of earlier, interrupted remote restores that this one removed first. */
  leftoversRemoved: string[];
  /** True when the connection dropped on the switch and qbank reconnected to find it applied. */
  reconnected: boolean;
  skipped: string[];
  /** Statements (or multi-row INSERTs) sent, and the requests that carried them. */
  statementsSent: number;
  batches: number;
  roundTrips: number;
  elapsedMs: number;
}

/**
 * Restores a dump all-or-nothing. The file is checked whole before anything changes (seal,
 * COMMIT, counts, only data statements); the dump's system must be the database's; then a
 * `file:` database takes it in one transaction, and a remote one through staging tables switched
 * in by one short transaction (see `restoreThroughStaging`). Row counts are checked before that
 * commit or switch, and again after.
 */
export async function restoreDump(database: Database, path: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const roundTripsBefore = database.roundTrips();
  const inspection = await inspectDump(path, { onRead: (read, total) => options.onProgress?.({ phase: 'verify', fileBytesRead: read, fileBytes: total }) });
  if (!inspection.ok) {
    throw new CheckFailedError(`${path} failed verification; nothing was changed`, { details: inspection.problems, hint: 'run `qbank backup verify` on it for the full report' });
  }
  const plan = selectFromDump(inspection, options.tables);
  requireWriteAccess(database, 'backup restore');
  collectGarbage();

  let clean;
  try {
    const live = await readLiveSchema(database);
    if (!options.forceSystem) checkSameSystem(plan, live, database);
    clean = await planClean(database, plan, live, options.clean);
  } catch (error) {
    throw describeDatabaseError(error, database, 'backup restore');
  }
  const cleaned: CleanPlan = { drop: describeDrops(clean.drop), empty: clean.empty, rowsLost: clean.rowsLost };
  if (clean.drop.length > 0 || clean.empty.length > 0) {
    const confirmed = options.confirmClean ? await options.confirmClean(cleaned) : false;
    if (!confirmed) throw new RefusedError('restore cancelled; nothing was changed');
  }

  const entry = runEntry(options.run ?? { actor: 'unknown', command: 'backup restore', target: database.displayUrl }, {
    system: inspection.header?.system ?? null,
    counts: { tables: plan.tables.length, rows: plan.tables.reduce((sum, t) => sum + t.rows, 0) },
    file: { name: basename(path), size: inspection.bytes, sha256: inspection.checksum.computed },
  });
  const context: LoadContext = {
    database,
    path,
    plan,
    clean,
    options,
    runId: entry.id.slice(-8),
    auditId: entry.id,
    auditStatements: runRecordStatements(entry),
    statements: 0,
    batches: 0,
  };
  let leftoversRemoved: string[] = [];
  let checker = database;
  try {
    if (database.kind === 'file') await restoreInOneTransaction(context);
    else {
      const outcome = await restoreThroughStaging(context);
      leftoversRemoved = outcome.leftoversRemoved;
      checker = outcome.reconnected ?? database;
    }
  } catch (error) {
    throw describeFailure(error, database);
  }

  try {
    const after = plan.tables.length ? await checker.client.batch(plan.tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t.table)}`), 'read') : [];
    const tables = plan.tables.map((t, i) => ({ table: t.table, rows: Number(after[i]!.rows[0]![0]), verified: Number(after[i]!.rows[0]![0]) === t.rows }));
    const wrong = tables.filter((t) => !t.verified);
    if (wrong.length > 0) {
      throw new CheckFailedError('after the restore, row counts differ from the dump', {
        details: wrong.map((t) => `${t.table}: ${t.rows} rows, the dump has ${plan.tables.find((p) => p.table === t.table)!.rows}`),
      });
    }
    return {
      file: path,
      dumpKind: inspection.kind,
      database: database.displayUrl,
      strategy: database.kind === 'file' ? 'one transaction' : 'staging tables',
      runId: context.auditId,
      tables,
      auditMerged: plan.merged.map((t) => ({ table: t.table, rows: t.rows })),
      indexes: plan.dataOnly ? 0 : plan.indexes.length,
      views: plan.dataOnly ? 0 : plan.views.length,
      triggers: plan.dataOnly ? 0 : plan.triggers.length,
      cleaned,
      leftoversRemoved,
      reconnected: checker !== database,
      skipped: inspection.skipped,
      statementsSent: context.statements,
      batches: context.batches,
      roundTrips: database.roundTrips() - roundTripsBefore,
      elapsedMs: Date.now() - started,
    };
  } finally {
    if (checker !== database) checker.close();
  }
}

/** What a failed load leaves: nothing (rolled back, staging dropped), or staging tables the message names. */
function describeFailure(error: unknown, database: Database): unknown {
  const failure = error instanceof StagingRunFailed ? error : undefined;
  const cause = failure ? failure.error : error;
  const left = failure?.stagingLeft ?? [];
  const outcome =
    left.length === 0
      ? 'was rolled back; the database is as it was'
      : `stopped before it changed the real tables, which are as they were, but this run's staging tables remain (${left.join(', ')}): \`qbank backup clean\` removes them, and so does the next restore`;
  if (cause instanceof QbankError) {
    if (left.length > 0) cause.message = `${cause.message}; ${outcome}`;
    return cause;
  }
  const mapped = describeDatabaseError(cause, database, 'backup restore');
  mapped.message = `the restore failed and ${outcome}: ${mapped.message}`;
  return mapped;
}
