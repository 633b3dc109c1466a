import type { InStatement } from '@libsql/client';
import { CheckFailedError } from '../../errors.js';
import type { Database } from '../client.js';
import type { RunContext } from '../run-record.js';
import type { CleanPlan, CleanSteps, RestorePlan } from './restore-plan.js';

export interface RestoreOptions {
  /** Drop (or, for a data-only dump, empty) what the dump contains before restoring it. */
  clean?: boolean;
  /** Asked before --clean removes anything that exists; returning false cancels with nothing changed. */
  confirmClean?: (plan: CleanPlan) => Promise<boolean>;
  /** Restore only these tables (and their indexes and triggers; views when named). */
  tables?: string[];
  /** Restore a dump of one system into a database of the other. */
  forceSystem?: boolean;
  onProgress?: (progress: RestoreProgress) => void;
  /** Identifies this run in the lease a remote restore holds: qbank's version, the host, the process. */
  holder?: string;
  /** Who runs the restore, for qbank's run record (committed with the restore). */
  run?: RunContext;
  /**
   * Opens the database again with a short timeout: after a connection lost on the switch, one
   * attempt to learn from the run record whether it committed.
   */
  reopen?: () => Database;
}

export interface RestoreProgress {
  phase: 'verify' | 'load';
  fileBytesRead: number;
  fileBytes: number;
}

export interface LoadContext {
  database: Database;
  path: string;
  plan: RestorePlan;
  clean: CleanSteps;
  options: RestoreOptions;
  /** Names this run's staging tables and lease: the random part of the run record's id. */
  runId: string;
  /** The run record's entry, written by the statements below in the restore's own transaction. */
  auditId: string;
  auditStatements: InStatement[];
  statements: number;
  batches: number;
}

/**
 * sqlite_sequence as the dump has it, rows in the dump's order: loading the rows created entries in
 * load order, so the restored tables' entries are replaced, not updated.
 */
export function sequenceStatements(plan: RestorePlan, tableName: (table: string) => string): string[] {
  if (plan.sequences.length === 0) return [];
  const literal = (name: string) => "'" + name.replaceAll("'", "''") + "'";
  const restored = plan.tables.map((t) => literal(tableName(t.table)));
  return [
    `DELETE FROM sqlite_sequence WHERE name IN (${restored.join(', ')})`,
    ...plan.sequences.map(({ table, seq }) => `INSERT INTO sqlite_sequence(name, seq) VALUES (${literal(tableName(table))}, ${seq})`),
  ];
}

export function checkSameFile(plan: RestorePlan, computed: string): void {
  if (computed !== plan.inspection.checksum.computed) {
    throw new CheckFailedError(`${plan.inspection.file} changed while it was being restored; nothing was changed`);
  }
}
