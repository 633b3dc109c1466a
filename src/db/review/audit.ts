import { botLedger, questionHistory } from '../../../schema/open-interview.js';
import { insertIfChanged } from './builder.js';
import type { RowSnapshot, SqlValue, Statement } from './sql.js';

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

export function auditStatements(context: AuditContext, entries: { history?: HistoryEntry; ledger: LedgerEntry }): Statement[] {
  const at = context.now.toISOString();
  const { history, ledger } = entries;
  const statements: Statement[] = [];
  if (history) {
    statements.push(
      insertIfChanged(questionHistory, {
        questionId: history.questionId,
        questionType: history.questionType,
        eventType: history.eventType,
        eventSource: 'user',
        sourceName: context.reviewer,
        changesSummary: history.changesSummary,
        changedFields: json(history.changedFields),
        beforeSnapshot: json(history.before),
        afterSnapshot: json(history.after),
        reason: history.reason,
        metadata: json({ tool: 'qbank review', ...history.metadata }),
        createdAt: at,
      }),
    );
  }
  statements.push(
    insertIfChanged(botLedger, {
      botName: context.reviewer,
      action: ledger.action,
      itemType: ledger.itemType,
      itemId: ledger.itemId,
      beforeState: json(ledger.before),
      afterState: json(ledger.after),
      reason: ledger.reason,
      createdAt: at,
    }),
  );
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
