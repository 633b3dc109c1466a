import type { InValue } from '@libsql/client';
import type { RowSnapshot, SqlValue } from './sql.js';

/**
 * open-interview's audit trail: a `question_history` event and a `bot_ledger` entry per change,
 * both naming the reviewer. Each INSERT is guarded by `changes() = 1`: it runs right after the
 * conditional UPDATE (or the INSERT before it) in the same transaction, so audit rows exist if and
 * only if the change they describe was made.
 */

export interface HistoryEntry {
  questionId: string;
  questionType: 'question' | 'test' | 'coding';
  eventType: string;
  changesSummary: string;
  changedFields: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
  metadata: Record<string, unknown>;
}

export interface LedgerEntry {
  /** create, update, delete, verify, flag (the ledger's own vocabulary). */
  action: 'create' | 'update' | 'delete' | 'verify' | 'flag';
  itemType: string;
  itemId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
}

export interface AuditContext {
  reviewer: string;
  now: Date;
}

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function auditStatements(context: AuditContext, entries: { history?: HistoryEntry; ledger: LedgerEntry }): Array<{ sql: string; args: InValue[] }> {
  const at = context.now.toISOString();
  const statements: Array<{ sql: string; args: InValue[] }> = [];
  const { history, ledger } = entries;
  if (history) {
    statements.push({
      sql:
        'INSERT INTO question_history (question_id, question_type, event_type, event_source, source_name, changes_summary, changed_fields, before_snapshot, after_snapshot, reason, metadata, created_at) ' +
        "SELECT ?, ?, ?, 'user', ?, ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1",
      args: [
        history.questionId,
        history.questionType,
        history.eventType,
        context.reviewer,
        history.changesSummary,
        json(history.changedFields),
        json(history.before),
        json(history.after),
        history.reason,
        json({ tool: 'qbank review', ...history.metadata }),
        at,
      ],
    });
  }
  statements.push({
    sql:
      'INSERT INTO bot_ledger (bot_name, action, item_type, item_id, before_state, after_state, reason, created_at) ' +
      'SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1',
    args: [context.reviewer, ledger.action, ledger.itemType, ledger.itemId, json(ledger.before), json(ledger.after), ledger.reason, at],
  });
  return statements;
}

const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The changed columns of a row as `{ camelCaseName: value }`, the shape the system's own snapshots use. */
export function fieldSnapshot(state: RowSnapshot, columns: string[]): Record<string, SqlValue> {
  return Object.fromEntries(columns.map((c) => [camel(c), state[c] ?? null]));
}

export function fieldNames(columns: string[]): string[] {
  return columns.map(camel);
}
