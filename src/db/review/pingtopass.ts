// Raw SQL kept for the queue's reads: a whole row (`q.*`, columns the schema does not know included) is the snapshot a decision is guarded by, and pages are keyset windows with json_each tag filters. Writes go through the typed builder (./builder.ts).
import type { InValue, ResultSet, Row } from '@libsql/client';
import { and, eq, exists, or, sql, type SQL } from 'drizzle-orm';
import { exams, feedback as feedbackTable, questions, users } from '../../../schema/pingtopass.js';
import { asShown, build, statement, storedValues } from './builder.js';
import { changedColumns, newCuidLikeId, num, parseJsonColumn, pick, placeholders, query, rowsAffected, snapshotOf, stringList, text, unixToIso, type Query, type RowSnapshot, type SqlPart, type SqlValue, type Statement } from './sql.js';
import type { ActionContext, ActionResult, Conflict, Decision, EditableField, PageWindow, PingToPassFeedback, PingToPassItem, PingToPassOption, ReviewFilters, ReviewQueue, UndoRecord, UndoResult } from './types.js';
import { oneLine, REASON_PREFIXES } from './types.js';
import { editedOptions, optionFields, optionsOfStatement, optionsUnchanged, optionUpdates } from './pingtopass-options.js';

/**
 * PingToPass review: `questions.review_status` pending → approved | rejected, with `reviewed_by`
 * and `reviewed_at`. The schema has no audit table and no column for a rejection reason, so the
 * reason becomes a `feedback` row written by the reviewer's own user account: feedback is where
 * the app already keeps free-text remarks about a question, next to the users' error reports.
 */

const PAGE_ORDER = 'q.rowid';

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function filterSql(filters: ReviewFilters): SqlPart {
  const parts: string[] = [];
  const args: InValue[] = [];
  if (filters.examId) {
    parts.push('q.exam_id = ?');
    args.push(filters.examId);
  }
  if (filters.objective) {
    parts.push('q.objective_id = ?');
    args.push(filters.objective);
  }
  if (filters.difficulty !== undefined) {
    parts.push('q.difficulty = ?');
    args.push(Number(filters.difficulty));
  }
  if (filters.aiGenerated) parts.push('q.ai_generated = 1');
  for (const tag of filters.tags ?? []) {
    parts.push("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(q.tags) THEN q.tags ELSE '[]' END) WHERE json_each.value = ?)");
    args.push(tag);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), args };
}

function windowSql(window: PageWindow): SqlPart {
  const parts: string[] = [];
  const args: InValue[] = [];
  if (window.afterKey !== undefined) {
    parts.push(`${PAGE_ORDER} > ?`);
    args.push(window.afterKey);
  }
  if (window.beforeKey !== undefined) {
    parts.push(`${PAGE_ORDER} < ?`);
    args.push(window.beforeKey);
  }
  if (window.exclude?.length) {
    parts.push(`q.id NOT IN (${placeholders(window.exclude.length)})`);
    args.push(...window.exclude);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), args };
}

/**
 * The queue read: served by `questions_review_status_idx` (review_status, rowid) with no sort,
 * because rowid order is the index's own order within one status value.
 */
export function pendingPageSql(filters: ReviewFilters, window: PageWindow, columns = 'q.rowid AS _key, q.*'): SqlPart {
  const f = filterSql(filters);
  const w = windowSql(window);
  return {
    sql: `SELECT ${columns} FROM questions q WHERE q.review_status = 'pending'${f.sql}${w.sql} ORDER BY ${PAGE_ORDER} LIMIT ?`,
    args: [...f.args, ...w.args, window.limit],
  };
}

/** Statements reading the details of the questions `selection` picks (a SELECT of q.id, q.exam_id). */
function detailStatements(selection: SqlPart): Array<{ sql: string; args: InValue[] }> {
  return [
    {
      sql: `SELECT id, code, name, objectives FROM exams WHERE id IN (SELECT exam_id FROM (${selection.sql}))`,
      args: selection.args,
    },
    {
      sql: `SELECT id, question_id, text, is_correct, explanation, "order" FROM answer_options WHERE question_id IN (SELECT id FROM (${selection.sql})) ORDER BY question_id, "order", id`,
      args: selection.args,
    },
    {
      sql: `SELECT f.id, f.user_id, f.question_id, f.type, f.message, f.status, f.response, f.created_at, u.email AS user_email FROM feedback f LEFT JOIN users u ON u.id = f.user_id WHERE f.question_id IN (SELECT id FROM (${selection.sql})) ORDER BY f.created_at, f.id`,
      args: selection.args,
    },
  ];
}

function groupBy<T>(rows: Row[], key: string, map: (row: Row) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = String(row[key]);
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(map(row));
  }
  return groups;
}

interface Details {
  exams: Map<string, Row>;
  options: Map<string, PingToPassItem['options']>;
  feedback: Map<string, PingToPassFeedback[]>;
}

function parseDetails([exams, options, feedback]: ResultSet[]): Details {
  return {
    exams: new Map(exams.rows.map((row) => [String(row.id), row])),
    options: groupBy(options.rows, 'question_id', optionView),
    feedback: groupBy(feedback.rows, 'question_id', feedbackView),
  };
}

function optionView(row: Row): PingToPassOption {
  return {
    id: String(row.id),
    text: String(row.text),
    isCorrect: Number(row.is_correct) === 1,
    explanation: text(row.explanation as SqlValue),
    order: Number(row.order ?? 0),
  };
}

function feedbackView(row: Row): PingToPassFeedback {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    userEmail: text(row.user_email as SqlValue),
    type: String(row.type),
    message: String(row.message),
    status: text(row.status as SqlValue),
    response: text(row.response as SqlValue),
    createdAt: unixToIso(row.created_at as SqlValue),
  };
}

function questionView(state: RowSnapshot): PingToPassItem['question'] {
  return {
    id: String(state.id),
    examId: String(state.exam_id),
    type: String(state.type),
    text: String(state.text ?? ''),
    explanation: text(state.explanation),
    referenceUrl: text(state.reference_url),
    difficulty: num(state.difficulty),
    objectiveId: text(state.objective_id),
    tags: stringList(state.tags),
    exhibitUrl: text(state.exhibit_url),
    isActive: Number(state.is_active ?? 1) === 1,
    aiGenerated: Number(state.ai_generated ?? 0) === 1,
    aiModel: text(state.ai_model),
    reviewStatus: text(state.review_status),
    reviewedBy: text(state.reviewed_by),
    reviewedAt: unixToIso(state.reviewed_at),
    createdAt: unixToIso(state.created_at),
    updatedAt: unixToIso(state.updated_at),
  };
}

function examObjectives(value: SqlValue | undefined): Array<{ id: string; domain: string | null }> {
  const parsed = parseJsonColumn(value);
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((o) => o && typeof o === 'object' && 'id' in o).map((o) => ({ id: String(o.id), domain: o.domain ? String(o.domain) : null }));
}

function objectiveOf(objectiveId: string | null, objectives: Array<{ id: string; domain: string | null }>): PingToPassItem['objective'] {
  if (!objectiveId) return null;
  return { id: objectiveId, domain: objectives.find((o) => o.id === objectiveId)?.domain ?? null };
}

function buildItem(row: Row, columns: string[], details: Details): PingToPassItem {
  const state = snapshotOf(row, columns);
  const question = questionView(state);
  const examRow = details.exams.get(question.examId);
  const exam = {
    id: question.examId,
    code: text(examRow?.code as SqlValue),
    name: text(examRow?.name as SqlValue),
    objectives: examObjectives(examRow?.objectives as SqlValue),
  };
  return {
    system: 'pingtopass',
    queue: 'pending',
    id: question.id,
    key: Number(row._key),
    title: oneLine(question.text),
    state,
    question,
    exam,
    objective: objectiveOf(question.objectiveId, exam.objectives),
    options: details.options.get(question.id) ?? [],
    feedback: details.feedback.get(question.id) ?? [],
  };
}


/** The same item with the row as it is now (after a decision, an edit or an undo). */
function withState(item: PingToPassItem, row: Row | undefined, columns: string[]): PingToPassItem {
  if (!row) return item;
  const state = snapshotOf(row, columns);
  const question = questionView(state);
  return { ...item, key: Number(row._key), title: oneLine(question.text), state, question, objective: objectiveOf(question.objectiveId, item.exam.objectives) };
}

function currentRowStatement(id: string): Statement {
  return { sql: 'SELECT q.rowid AS _key, q.* FROM questions q WHERE q.id = ?', args: [id] };
}

function feedbackWithEmail(id: string): Statement {
  return { sql: 'SELECT f.*, u.email AS user_email FROM feedback f LEFT JOIN users u ON u.id = f.user_id WHERE f.id = ?', args: [id] };
}

/** Sets `values` on the question only while it is as `shown` (and `also` holds). */
function updateIfAsShown(id: string, shown: RowSnapshot, values: RowSnapshot, also?: SQL): Statement {
  return statement(build.update(questions).set(storedValues(questions, values)).where(and(eq(questions.id, id), asShown(questions, shown), also)));
}

type ReviewStatus = NonNullable<typeof questions.$inferSelect.reviewStatus>;

/** The reason as a `feedback` row by the reviewer's user account, written only if the decision just before it changed the question. */
function reasonAsFeedback(id: string, questionId: string, message: string, context: ActionContext): Statement {
  const reviewer = context.reviewer;
  const row = build
    .select({
      id: sql`${id}`.as('id'),
      userId: users.id,
      questionId: sql`${questionId}`.as('question_id'),
      type: sql`'general'`.as('type'),
      message: sql`${message}`.as('message'),
      status: sql`'resolved'`.as('status'),
      response: sql`NULL`.as('response'),
      createdAt: sql`${unixSeconds(context.now)}`.as('created_at'),
    })
    .from(users)
    .where(and(or(eq(users.email, reviewer), eq(users.id, reviewer)), sql`changes() = 1`))
    .orderBy(sql`${users.email} = ${reviewer} DESC`)
    .limit(1);
  return statement(build.insert(feedbackTable).select(row));
}

function conflictFrom(id: string, row: Row | undefined, columns: string[], shownStatus: string | null): Conflict {
  if (!row) return { id, kind: 'not-found', message: `question ${id} no longer exists` };
  const state = snapshotOf(row, columns);
  const current = { status: text(state.review_status), by: text(state.reviewed_by), at: unixToIso(state.reviewed_at) };
  if (current.status !== shownStatus && current.status !== 'pending') {
    return {
      id,
      kind: 'decided',
      current,
      message: `question ${id} was already ${current.status}${current.by ? ` by ${current.by}` : ''}${current.at ? ` at ${current.at}` : ''}; nothing was changed`,
    };
  }
  return {
    id,
    kind: 'changed',
    current,
    message: `question ${id} was changed by someone else (updated ${unixToIso(state.updated_at) ?? 'at an unknown time'}) since it was shown; nothing was changed`,
  };
}


/** In the order an editor reads the question: stem, explanation, options, key, then the rest. */
export const PINGTOPASS_EDITABLE_FIELDS: EditableField[] = [
  { name: 'text', label: 'Question', column: 'text', kind: 'multiline', nullable: false },
  { name: 'explanation', label: 'Explanation', column: 'explanation', kind: 'multiline', nullable: true },
];

const PINGTOPASS_DETAIL_FIELDS: EditableField[] = [
  { name: 'difficulty', label: 'Difficulty', column: 'difficulty', kind: 'choice', choices: ['1', '2', '3', '4', '5'], nullable: false },
  { name: 'objectiveId', label: 'Objective', column: 'objective_id', kind: 'text', nullable: true },
  { name: 'tags', label: 'Tags', column: 'tags', kind: 'tags', nullable: true },
  { name: 'referenceUrl', label: 'Reference URL', column: 'reference_url', kind: 'text', nullable: true },
];

export class PingToPassPendingQueue implements ReviewQueue<PingToPassItem> {
  readonly system = 'pingtopass' as const;
  readonly name = 'pending' as const;
  readonly label = 'pending PingToPass questions';
  readonly orderedByKey = true;
  readonly verbs = { approve: 'approve', reject: 'reject' };
  readonly editableFields = [...PINGTOPASS_EDITABLE_FIELDS, ...PINGTOPASS_DETAIL_FIELDS];

  constructor(readonly filters: ReviewFilters) {}

  fieldsOf(item: PingToPassItem): EditableField[] {
    return [...PINGTOPASS_EDITABLE_FIELDS, ...optionFields(item.options), ...PINGTOPASS_DETAIL_FIELDS];
  }

  page(window: PageWindow): Query<PingToPassItem[]> {
    const main = pendingPageSql(this.filters, window);
    const selection = pendingPageSql(this.filters, window, 'q.id, q.exam_id');
    return query([main, ...detailStatements(selection)], ([rows, ...rest]) => {
      const details = parseDetails(rest);
      return rows.rows.map((row) => buildItem(row, rows.columns, details));
    });
  }

  count(): Query<number> {
    const f = filterSql(this.filters);
    return query([{ sql: `SELECT count(*) AS n FROM questions q WHERE q.review_status = 'pending'${f.sql}`, args: f.args }], ([r]) => Number(r.rows[0].n));
  }

  get(ids: string[]): Query<Map<string, PingToPassItem>> {
    const main = { sql: `SELECT q.rowid AS _key, q.* FROM questions q WHERE q.id IN (${placeholders(ids.length)})`, args: ids as InValue[] };
    const selection = { sql: `SELECT q.id, q.exam_id FROM questions q WHERE q.id IN (${placeholders(ids.length)})`, args: ids as InValue[] };
    return query([main, ...detailStatements(selection)], ([rows, ...rest]) => {
      const details = parseDetails(rest);
      return new Map(rows.rows.map((row) => [String(row.id), buildItem(row, rows.columns, details)]));
    });
  }

  blocker(item: PingToPassItem): Conflict | undefined {
    if (item.question.reviewStatus === 'pending') return undefined;
    const { reviewStatus: status, reviewedBy: by, reviewedAt: at } = item.question;
    return {
      id: item.id,
      kind: 'decided',
      current: { status, by, at },
      message: `question ${item.id} is ${status ?? 'not pending'}${by ? ` (reviewed by ${by}${at ? ` at ${at}` : ''})` : ''}; nothing was changed`,
    };
  }

  decide(item: PingToPassItem, decision: Decision, context: ActionContext): Query<ActionResult<PingToPassItem>> {
    if (decision.kind !== 'approve' && decision.kind !== 'reject') {
      throw new Error(`PingToPass questions are approved or rejected, not "${decision.kind}"`);
    }
    const status = decision.kind === 'approve' ? 'approved' : 'rejected';
    return this.setReviewStatus(item, status, decision.kind === 'reject' ? decision.reason : null, context, `${status} ${item.id}`);
  }

  /** A decided question back to pending: who reopened it and when replace the decision, the reason is a feedback row. */
  reopen(item: PingToPassItem, reason: string, context: ActionContext): Query<ActionResult<PingToPassItem>> {
    return this.setReviewStatus(item, 'pending', reason, context, `reopened ${item.id}`);
  }

  reopenBlocker(item: PingToPassItem): Conflict | undefined {
    if (item.question.reviewStatus !== 'pending') return undefined;
    return { id: item.id, kind: 'not-reviewable', current: { status: 'pending', by: item.question.reviewedBy, at: item.question.reviewedAt }, message: `question ${item.id} is pending already; nothing was changed` };
  }

  /**
   * Sets the review status with the reviewer and the time, only while the question is as shown. A
   * reason becomes a feedback row by the reviewer's user account in the same transaction when the
   * reviewer is a user (qbank's run entry keeps it for every reviewer).
   */
  private setReviewStatus(item: PingToPassItem, status: ReviewStatus, reason: string | null, context: ActionContext, description: string): Query<ActionResult<PingToPassItem>> {
    const update = build
      .update(questions)
      .set({ reviewStatus: status, reviewedBy: context.reviewer, reviewedAt: context.now, updatedAt: context.now })
      .where(and(eq(questions.id, item.id), asShown(questions, item.state)));
    const statements: Statement[] = [statement(update)];
    const feedbackId = reason === null ? undefined : newCuidLikeId();
    if (feedbackId) statements.push(reasonAsFeedback(feedbackId, item.id, `${REASON_PREFIXES[status]}${reason}`, context));
    statements.push(currentRowStatement(item.id));
    if (feedbackId) statements.push(feedbackWithEmail(feedbackId));
    return query(statements, (results) => {
      const current = results[statements.length - (feedbackId ? 2 : 1)];
      const row = current.rows[0];
      if (rowsAffected(results[0]) !== 1) return { ok: false, conflict: conflictFrom(item.id, row, current.columns, item.question.reviewStatus) };
      const after = snapshotOf(row, current.columns);
      const feedbackResult = feedbackId ? results[statements.length - 1] : undefined;
      const feedbackRow = feedbackResult?.rows[0];
      const feedbackState = feedbackRow ? snapshotOf(feedbackRow, feedbackResult!.columns.filter((c) => c !== 'user_email')) : undefined;
      const decided = withState(item, row, current.columns);
      return {
        ok: true,
        item: feedbackRow ? { ...decided, feedback: [...decided.feedback, feedbackView(feedbackRow)] } : decided,
        auditRows: feedbackState ? 1 : 0,
        undo: this.restoreRecord(item, after, description, feedbackState),
      };
    });
  }

  edit(item: PingToPassItem, field: EditableField, value: string | null, context: ActionContext): Query<ActionResult<PingToPassItem>> {
    if (field.kind === 'option' || field.kind === 'correct') return this.editOptions(item, field, editedOptions(item, field, value), context);
    const values = { [field.column]: storedValue(field, value), updated_at: unixSeconds(context.now) };
    const statements = [updateIfAsShown(item.id, item.state, values), currentRowStatement(item.id)];
    return query(statements, ([update, current]) => {
      const row = current.rows[0];
      if (rowsAffected(update) !== 1) return { ok: false, conflict: conflictFrom(item.id, row, current.columns, item.question.reviewStatus) };
      const after = snapshotOf(row, current.columns);
      return { ok: true, item: withState(item, row, current.columns), auditRows: 0, undo: this.restoreRecord(item, after, `edited ${field.label} of ${item.id}`) };
    });
  }

  /** Options and the key: the question's updated_at moves, and the option rows change with it or not at all. */
  private editOptions(item: PingToPassItem, field: EditableField, options: PingToPassOption[], context: ActionContext): Query<ActionResult<PingToPassItem>> {
    const changed = this.optionsWrite(item.id, item.state, item.options, options, { updated_at: unixSeconds(context.now) });
    return query(changed.statements, (results) => {
      const outcome = changed.parse(results);
      if (!outcome.ok) return { ok: false, conflict: conflictFrom(item.id, outcome.row, outcome.columns, item.question.reviewStatus) };
      const edited = { ...withState(item, outcome.row, outcome.columns), options: outcome.options };
      const description = `edited ${field.label} of ${item.id}`;
      return {
        ok: true,
        item: edited,
        auditRows: 0,
        undo: {
          itemId: item.id,
          description,
          build: (): Query<UndoResult> => {
            const restore = this.optionsWrite(item.id, edited.state, edited.options, item.options, pick(item.state, ['updated_at']));
            return query(restore.statements, (undoResults) => {
              const undone = restore.parse(undoResults);
              if (!undone.ok) {
                const conflict = conflictFrom(item.id, undone.row, undone.columns, 'pending');
                return { ok: false, conflict: { ...conflict, message: `cannot undo: ${conflict.message.replace(/; nothing was changed$/, '')} since your change; nothing was changed` } };
              }
              return { ok: true, item: { ...withState(item, undone.row, undone.columns), options: undone.options } };
            });
          },
        },
      };
    });
  }

  /** Sets `values` on the question and the option rows from `from` to `to`, if the question and its options are still as shown. */
  private optionsWrite(id: string, shownState: RowSnapshot, from: PingToPassOption[], to: PingToPassOption[], values: RowSnapshot) {
    const updates = optionUpdates(from, to);
    const statements = [
      updateIfAsShown(id, shownState, values, optionsUnchanged(id, from)),
      ...updates,
      currentRowStatement(id),
      optionsOfStatement(id),
    ];
    return query(statements, (results) => {
      const current = results[results.length - 2];
      const written = results.slice(0, 1 + updates.length).every((r) => rowsAffected(r) === 1);
      return { ok: written, row: current.rows[0], columns: current.columns, options: results[results.length - 1].rows.map(optionView) };
    });
  }

  /** Puts back every column the action changed, only while the row (and our feedback row) are exactly as we left them. */
  private restoreRecord(before: PingToPassItem, after: RowSnapshot, description: string, feedbackState?: RowSnapshot): UndoRecord {
    return {
      itemId: before.id,
      description,
      build: (): Query<UndoResult> => {
        const differing = changedColumns(before.state, after);
        // an action that changed nothing undoes as a (still conditional) no-op on the id
        const changed = differing.length ? differing : ['id'];
        const statements: Statement[] = [];
        if (feedbackState) {
          const feedbackId = String(feedbackState.id);
          const feedbackUntouched = exists(build.select({ one: sql`1` }).from(feedbackTable).where(and(eq(feedbackTable.id, feedbackId), asShown(feedbackTable, feedbackState))));
          statements.push(updateIfAsShown(before.id, after, pick(before.state, changed), feedbackUntouched));
          statements.push(statement(build.delete(feedbackTable).where(and(eq(feedbackTable.id, feedbackId), sql`changes() = 1`))));
        } else {
          statements.push(updateIfAsShown(before.id, after, pick(before.state, changed)));
        }
        statements.push(currentRowStatement(before.id));
        return query(statements, (results) => {
          const current = results[results.length - 1];
          const row = current.rows[0];
          if (rowsAffected(results[0]) !== 1) {
            const conflict = conflictFrom(before.id, row, current.columns, 'pending');
            return { ok: false, conflict: { ...conflict, message: `cannot undo: ${conflict.message.replace(/; nothing was changed$/, '')} since your change; nothing was changed` } };
          }
          return { ok: true, item: withState(before, row, current.columns) };
        });
      },
    };
  }

  explainConflict(item: PingToPassItem): Query<Conflict> {
    return query([currentRowStatement(item.id)], ([current]) => conflictFrom(item.id, current.rows[0], current.columns, item.question.reviewStatus));
  }
}

function storedValue(field: EditableField, value: string | null): SqlValue {
  if (value === null || value.trim() === '') return field.nullable ? null : '';
  if (field.kind === 'tags') return JSON.stringify(value.split(',').map((t) => t.trim()).filter(Boolean));
  if (field.kind === 'integer' || (field.kind === 'choice' && field.column === 'difficulty')) return Number(value);
  return value;
}

/** A reviewer may reject only as a PingToPass user: the reason is a feedback row, and feedback.user_id is required. */
export function reviewerUserQuery(reviewer: string): Query<{ id: string; email: string } | undefined> {
  const user = build
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(or(eq(users.email, reviewer), eq(users.id, reviewer)))
    .orderBy(sql`${users.email} = ${reviewer} DESC`)
    .limit(1);
  return query([statement(user)], ([r]) =>
    r.rows[0] ? { id: String(r.rows[0].id), email: String(r.rows[0].email) } : undefined,
  );
}

export function resolveExamQuery(exam: string): Query<{ match?: { id: string; code: string }; known: string[] }> {
  return query(
    [
      statement(build.select({ id: exams.id, code: exams.code }).from(exams).where(or(eq(exams.id, exam), sql`${exams.code} = ${exam} COLLATE NOCASE`)).limit(1)),
      statement(build.select({ code: exams.code }).from(exams).orderBy(exams.code).limit(50)),
    ],
    ([match, known]) => ({
      match: match.rows[0] ? { id: String(match.rows[0].id), code: String(match.rows[0].code) } : undefined,
      known: known.rows.map((r) => String(r.code)),
    }),
  );
}

export interface FeedbackRow {
  id: string;
  questionId: string | null;
  status: string | null;
  response: string | null;
  state: RowSnapshot;
}

export function feedbackQuery(id: string): Query<FeedbackRow | undefined> {
  return query([{ sql: 'SELECT * FROM feedback WHERE id = ?', args: [id] }], ([r]) => {
    const row = r.rows[0];
    if (!row) return undefined;
    const state = snapshotOf(row, r.columns);
    return { id, questionId: text(state.question_id), status: text(state.status), response: text(state.response), state };
  });
}

export interface FeedbackResolution {
  ok: boolean;
  feedback: PingToPassFeedback | undefined;
  message?: string;
  undo?: { build: () => Query<{ ok: boolean; message?: string }> };
}

/** Marks a user's feedback resolved with the reviewer's response, if it is still as it was read. */
export function resolveFeedbackQuery(feedback: Pick<FeedbackRow, 'id' | 'status' | 'response'>, response: string): Query<FeedbackResolution> {
  const asRead = asShown(feedbackTable, { status: feedback.status, response: feedback.response });
  return query(
    [statement(build.update(feedbackTable).set({ status: 'resolved', response }).where(and(eq(feedbackTable.id, feedback.id), asRead))), feedbackWithEmail(feedback.id)],
    ([update, current]) => {
      const row = current.rows[0];
      const view = row ? feedbackView(row) : undefined;
      if (rowsAffected(update) !== 1) {
        return {
          ok: false,
          feedback: view,
          message: view ? `feedback ${feedback.id} was changed since it was shown (now ${view.status}${view.response ? `: "${oneLine(view.response, 60)}"` : ''}); nothing was changed` : `feedback ${feedback.id} no longer exists`,
        };
      }
      return {
        ok: true,
        feedback: view,
        undo: {
          build: () =>
            query(
              [
                statement(
                  build
                    .update(feedbackTable)
                    .set(storedValues(feedbackTable, { status: feedback.status, response: feedback.response }))
                    .where(and(eq(feedbackTable.id, feedback.id), eq(feedbackTable.status, 'resolved'), asShown(feedbackTable, { response }))),
                ),
              ],
              ([undo]) => (rowsAffected(undo) === 1 ? { ok: true } : { ok: false, message: `cannot undo: feedback ${feedback.id} was changed since you resolved it; nothing was changed` }),
            ),
        },
      };
    },
  );
}
