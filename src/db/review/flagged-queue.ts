// Raw SQL kept for the queue's reads: a whole row (`q.*`, columns the schema does not know included) is the snapshot a decision is guarded by, and pages are keyset windows with json_each tag filters. Writes go through the typed builder (./builder.ts).
import type { InValue, ResultSet, Row } from '@libsql/client';
import { and as drizzleAnd, desc, eq } from 'drizzle-orm';
import { questionHistory, questions } from '../../../schema/open-interview.js';
import { auditStatements, fieldNames, fieldSnapshot, type LedgerEntry } from './audit.js';
import { asShown, build, statement, storedValues } from './builder.js';
import { and, changedColumns, pick, placeholders, query, rowsAffected, snapshotOf, stringList, text, type Query, type RowSnapshot, type SqlPart, type SqlValue, type Statement } from './sql.js';
import type { ActionContext, ActionResult, Conflict, Decision, EditableField, FlaggedQuestionItem, HistoryEvent, OpenInterviewQuestion, PageWindow, ReviewFilters, ReviewQueue, UndoRecord, UndoResult } from './types.js';
import { oneLine } from './types.js';

/** open-interview's flagged questions: what bots and users flagged, approved back to active or deleted. */

function questionFilterSql(filters: ReviewFilters, alias = 'q'): SqlPart {
  const parts: string[] = [];
  const args: InValue[] = [];
  if (filters.channel) {
    parts.push(`${alias}.channel = ?`);
    args.push(filters.channel);
  }
  if (filters.difficulty) {
    parts.push(`${alias}.difficulty = ?`);
    args.push(filters.difficulty);
  }
  for (const tag of filters.tags ?? []) {
    parts.push(`EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(${alias}.tags) THEN ${alias}.tags ELSE '[]' END) WHERE json_each.value = ?)`);
    args.push(tag);
  }
  return { sql: and(parts), args };
}

function questionView(state: RowSnapshot): OpenInterviewQuestion {
  return {
    id: String(state.id),
    question: String(state.question ?? ''),
    answer: String(state.answer ?? ''),
    explanation: String(state.explanation ?? ''),
    difficulty: String(state.difficulty ?? ''),
    channel: String(state.channel ?? ''),
    subChannel: String(state.sub_channel ?? ''),
    tags: stringList(state.tags),
    companies: stringList(state.companies),
    eli5: text(state.eli5),
    tldr: text(state.tldr),
    sourceUrl: text(state.source_url),
    status: text(state.status),
    lastUpdated: text(state.last_updated),
    createdAt: text(state.created_at),
  };
}

function historyView(row: Row): HistoryEvent {
  return {
    id: Number(row.id),
    eventType: String(row.event_type),
    eventSource: String(row.event_source),
    sourceName: text(row.source_name as SqlValue),
    changesSummary: text(row.changes_summary as SqlValue),
    reason: text(row.reason as SqlValue),
    createdAt: text(row.created_at as SqlValue),
  };
}

const HISTORY_SHOWN = 5;

function historyByQuestion(result: ResultSet): Map<string, HistoryEvent[]> {
  const map = new Map<string, HistoryEvent[]>();
  for (const row of result.rows) {
    const id = String(row.question_id);
    let list = map.get(id);
    if (!list) map.set(id, (list = []));
    if (list.length < HISTORY_SHOWN) list.push(historyView(row));
  }
  return map;
}

function flaggedItem(row: Row, columns: string[], history: HistoryEvent[]): FlaggedQuestionItem {
  const state = snapshotOf(row, columns);
  const question = questionView(state);
  return { system: 'open-interview', queue: 'flagged', id: question.id, key: Number(row._key), title: oneLine(question.question), state, question, history };
}

export const OPEN_INTERVIEW_EDITABLE_FIELDS: EditableField[] = [
  { name: 'question', label: 'Question', column: 'question', kind: 'multiline', nullable: false },
  { name: 'answer', label: 'Answer', column: 'answer', kind: 'multiline', nullable: false },
  { name: 'explanation', label: 'Explanation', column: 'explanation', kind: 'multiline', nullable: false },
  { name: 'difficulty', label: 'Difficulty', column: 'difficulty', kind: 'choice', choices: ['beginner', 'intermediate', 'advanced'], nullable: false },
  { name: 'tags', label: 'Tags', column: 'tags', kind: 'tags', nullable: true },
  { name: 'channel', label: 'Channel', column: 'channel', kind: 'text', nullable: false },
  { name: 'subChannel', label: 'Sub-channel', column: 'sub_channel', kind: 'text', nullable: false },
  { name: 'tldr', label: 'TL;DR', column: 'tldr', kind: 'multiline', nullable: true },
  { name: 'eli5', label: 'ELI5', column: 'eli5', kind: 'multiline', nullable: true },
];

function storedValue(field: EditableField, value: string | null): SqlValue {
  if (value === null || value.trim() === '') return field.nullable ? null : '';
  if (field.kind === 'tags') return JSON.stringify(value.split(',').map((t) => t.trim()).filter(Boolean));
  return value;
}

const currentQuestion = (id: string): Statement => ({ sql: 'SELECT q.rowid AS _key, q.* FROM questions q WHERE q.id = ?', args: [id] });
const latestEvent = (id: string): Statement =>
  statement(build.select().from(questionHistory).where(eq(questionHistory.questionId, id)).orderBy(desc(questionHistory.id)).limit(1));

/** Sets `values` on the question only while it is as `shown`. */
const updateIfAsShown = (id: string, shown: RowSnapshot, values: RowSnapshot): Statement =>
  statement(build.update(questions).set(storedValues(questions, values)).where(drizzleAnd(eq(questions.id, id), asShown(questions, shown))));

function questionConflict(id: string, row: Row | undefined, columns: string[], event: Row | undefined, shownStatus: string | null): Conflict {
  if (!row) return { id, kind: 'not-found', message: `question ${id} no longer exists` };
  const state = snapshotOf(row, columns);
  const status = text(state.status);
  const by = event ? text(event.source_name as SqlValue) : null;
  const at = (event ? text(event.created_at as SqlValue) : null) ?? text(state.last_updated);
  const current = { status, by, at };
  const who = `${by ? ` by ${by}` : ''}${at ? ` at ${at}` : ''}`;
  if (status !== shownStatus) {
    return { id, kind: 'decided', current, message: `question ${id} is already ${status ?? 'without a status'} (last change${who}); nothing was changed` };
  }
  return { id, kind: 'changed', current, message: `question ${id} was changed${who} since it was shown; nothing was changed` };
}

/** open-interview questions with `status = 'flagged'`: approve puts them back to active, reject deletes them (soft, as the app does). */
export class FlaggedQuestionQueue implements ReviewQueue<FlaggedQuestionItem> {
  readonly system = 'open-interview' as const;
  readonly name = 'flagged' as const;
  readonly label = 'flagged open-interview questions';
  readonly orderedByKey = true;
  readonly verbs = { approve: 'approve (back to active)', reject: 'reject (delete)' };
  readonly editableFields = OPEN_INTERVIEW_EDITABLE_FIELDS;

  fieldsOf(): EditableField[] {
    return this.editableFields;
  }

  constructor(readonly filters: ReviewFilters) {}

  private pageSql(window: PageWindow, columns: string): SqlPart {
    const f = questionFilterSql(this.filters);
    const parts: string[] = [];
    const args: InValue[] = [];
    if (window.afterKey !== undefined) {
      parts.push('q.rowid > ?');
      args.push(window.afterKey);
    }
    if (window.beforeKey !== undefined) {
      parts.push('q.rowid < ?');
      args.push(window.beforeKey);
    }
    if (window.exclude?.length) {
      parts.push(`q.id NOT IN (${placeholders(window.exclude.length)})`);
      args.push(...window.exclude);
    }
    return {
      sql: `SELECT ${columns} FROM questions q WHERE q.status = 'flagged'${f.sql}${and(parts)} ORDER BY q.rowid LIMIT ?`,
      args: [...f.args, ...args, window.limit],
    };
  }

  page(window: PageWindow): Query<FlaggedQuestionItem[]> {
    const ids = this.pageSql(window, 'q.id');
    return query(
      [
        this.pageSql(window, 'q.rowid AS _key, q.*'),
        { sql: `SELECT * FROM question_history WHERE question_id IN (SELECT id FROM (${ids.sql})) ORDER BY id DESC`, args: ids.args },
      ],
      ([rows, history]) => {
        const events = historyByQuestion(history);
        return rows.rows.map((row) => flaggedItem(row, rows.columns, events.get(String(row.id)) ?? []));
      },
    );
  }

  count(): Query<number> {
    const f = questionFilterSql(this.filters);
    return query([{ sql: `SELECT count(*) AS n FROM questions q WHERE q.status = 'flagged'${f.sql}`, args: f.args }], ([r]) => Number(r.rows[0].n));
  }

  get(ids: string[]): Query<Map<string, FlaggedQuestionItem>> {
    const list = placeholders(ids.length);
    return query(
      [
        { sql: `SELECT q.rowid AS _key, q.* FROM questions q WHERE q.id IN (${list})`, args: ids },
        { sql: `SELECT * FROM question_history WHERE question_id IN (${list}) ORDER BY id DESC`, args: ids },
      ],
      ([rows, history]) => {
        const events = historyByQuestion(history);
        return new Map(rows.rows.map((row) => [String(row.id), flaggedItem(row, rows.columns, events.get(String(row.id)) ?? [])]));
      },
    );
  }

  blocker(item: FlaggedQuestionItem): Conflict | undefined {
    if (item.question.status === 'flagged') return undefined;
    const last = item.history[0];
    const current = { status: item.question.status, by: last?.sourceName ?? null, at: last?.createdAt ?? item.question.lastUpdated };
    return {
      id: item.id,
      kind: 'decided',
      current,
      message: `question ${item.id} is ${current.status ?? 'without a status'}, not flagged${current.by ? ` (last change by ${current.by}${current.at ? ` at ${current.at}` : ''})` : ''}; nothing was changed`,
    };
  }

  private change(
    item: FlaggedQuestionItem,
    values: RowSnapshot,
    context: ActionContext,
    audit: { eventType: string; summary: string; ledgerAction: LedgerEntry['action']; reason: string | null; description: string },
  ): Query<ActionResult<FlaggedQuestionItem>> {
    const columns = Object.keys(values);
    const after = { ...item.state, ...values };
    const statements: Statement[] = [
      updateIfAsShown(item.id, item.state, values),
      ...auditStatements(context, {
        history: {
          questionId: item.id,
          questionType: 'question',
          eventType: audit.eventType,
          changesSummary: audit.summary,
          changedFields: fieldNames(columns),
          before: fieldSnapshot(item.state, columns),
          after: fieldSnapshot(after, columns),
          reason: audit.reason,
          metadata: {},
        },
        ledger: {
          action: audit.ledgerAction,
          itemType: 'question',
          itemId: item.id,
          before: fieldSnapshot(item.state, columns),
          after: fieldSnapshot(after, columns),
          reason: audit.reason ?? audit.summary,
        },
      }),
      currentQuestion(item.id),
    ];
    return query(statements, (results) => {
      const current = results[results.length - 1];
      const row = current.rows[0];
      if (rowsAffected(results[0]) !== 1) return { ok: false, conflict: questionConflict(item.id, row, current.columns, undefined, item.question.status) };
      const changed = flaggedItem(row, current.columns, item.history);
      return { ok: true, item: changed, auditRows: rowsAffected(results[1]) + rowsAffected(results[2]), undo: this.restoreRecord(item, changed.state, audit.description) };
    });
  }

  decide(item: FlaggedQuestionItem, decision: Decision, context: ActionContext): Query<ActionResult<FlaggedQuestionItem>> {
    if (decision.kind !== 'approve' && decision.kind !== 'reject') throw new Error(`flagged questions are approved or rejected, not "${decision.kind}"`);
    const approve = decision.kind === 'approve';
    const status = approve ? 'active' : 'deleted';
    return this.change(item, { status, last_updated: context.now.toISOString() }, context, {
      eventType: approve ? 'approved' : 'deleted',
      summary: `Status ${item.question.status} → ${status} (review)`,
      ledgerAction: approve ? 'verify' : 'delete',
      reason: decision.kind === 'reject' ? decision.reason : null,
      description: `${approve ? 'approved' : 'rejected'} ${item.id}`,
    });
  }

  /** A decided question back to flagged, with a `reverted` history event and a `flag` ledger entry. */
  reopen(item: FlaggedQuestionItem, reason: string, context: ActionContext): Query<ActionResult<FlaggedQuestionItem>> {
    return this.change(item, { status: 'flagged', last_updated: context.now.toISOString() }, context, {
      eventType: 'reverted',
      summary: `Status ${item.question.status ?? 'active'} → flagged (review reopened)`,
      ledgerAction: 'flag',
      reason,
      description: `reopened ${item.id}`,
    });
  }

  reopenBlocker(item: FlaggedQuestionItem): Conflict | undefined {
    if (item.question.status !== 'flagged') return undefined;
    return { id: item.id, kind: 'not-reviewable', current: { status: 'flagged', by: null, at: null }, message: `question ${item.id} is flagged already; nothing was changed` };
  }

  edit(item: FlaggedQuestionItem, field: EditableField, value: string | null, context: ActionContext): Query<ActionResult<FlaggedQuestionItem>> {
    return this.change(item, { [field.column]: storedValue(field, value), last_updated: context.now.toISOString() }, context, {
      eventType: 'updated',
      summary: `Edited ${field.name} (review)`,
      ledgerAction: 'update',
      reason: null,
      description: `edited ${field.label} of ${item.id}`,
    });
  }

  private restoreRecord(before: FlaggedQuestionItem, after: RowSnapshot, description: string): UndoRecord {
    return {
      itemId: before.id,
      description,
      build: (context): Query<UndoResult> => {
        const changed = changedColumns(before.state, after);
        const columns = changed.length ? changed : ['id'];
        const statements: Statement[] = [
          updateIfAsShown(before.id, after, pick(before.state, columns)),
          ...auditStatements(context, {
            history: {
              questionId: before.id,
              questionType: 'question',
              eventType: 'reverted',
              changesSummary: `Undid: ${description} (review)`,
              changedFields: fieldNames(columns),
              before: fieldSnapshot(after, columns),
              after: fieldSnapshot(before.state, columns),
              reason: 'undo',
              metadata: {},
            },
            ledger: { action: 'update', itemType: 'question', itemId: before.id, before: fieldSnapshot(after, columns), after: fieldSnapshot(before.state, columns), reason: `undo: ${description}` },
          }),
          currentQuestion(before.id),
        ];
        return query(statements, (results) => {
          const current = results[results.length - 1];
          if (rowsAffected(results[0]) !== 1) {
            const conflict = questionConflict(before.id, current.rows[0], current.columns, undefined, text(after.status));
            return { ok: false, conflict: { ...conflict, message: `cannot undo ${description}: the question was changed since; nothing was changed` } };
          }
          return { ok: true, item: flaggedItem(current.rows[0], current.columns, before.history) };
        });
      },
    };
  }

  explainConflict(item: FlaggedQuestionItem): Query<Conflict> {
    return query([currentQuestion(item.id), latestEvent(item.id)], ([current, event]) =>
      questionConflict(item.id, current.rows[0], current.columns, event.rows[0], item.question.status),
    );
  }
}
