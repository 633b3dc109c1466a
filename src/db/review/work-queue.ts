// Raw SQL kept for the queue's reads: a whole row (`w.*` with its question) is the snapshot a decision is guarded by, and leases are read out of the JSON `result` column. Writes go through the typed builder (./builder.ts).
import type { InValue, Row } from '@libsql/client';
import { and as drizzleAnd, eq } from 'drizzle-orm';
import { workQueue } from '../../../schema/open-interview.js';
import { auditStatements, fieldSnapshot, type HistoryEntry } from './audit.js';
import { asShown, build, statement, storedValues } from './builder.js';
import { and, changedColumns, num, parseJsonColumn, pick, placeholders, query, rowsAffected, snapshotOf, text, type Query, type RowSnapshot, type SqlPart, type SqlValue, type Statement } from './sql.js';
import type { ActionContext, ActionResult, Conflict, Decision, EditableField, PageWindow, ReviewFilters, ReviewQueue, UndoRecord, UndoResult, WorkClaim, WorkItem } from './types.js';
import { oneLine } from './types.js';

/**
 * A claim is `status = 'processing'` with `assigned_to` = the reviewer, and its lease is kept in
 * `result`, which has nothing to hold until the item is completed or failed:
 * `{"claim":{"by","claimedAt","leaseExpiresAt","assignedToBefore"}}`. `processed_at` keeps its
 * documented meaning (set when processing ends). A claim whose lease has expired is claimable
 * again; releasing puts back the bot `assigned_to` named before the claim.
 */
export function parseClaim(status: string | null, result: SqlValue | undefined): WorkClaim | null {
  if (status !== 'processing') return null;
  const parsed = parseJsonColumn(result);
  const claim = parsed && typeof parsed === 'object' ? (parsed as { claim?: Record<string, unknown> }).claim : undefined;
  if (!claim || typeof claim.by !== 'string' || typeof claim.leaseExpiresAt !== 'string') return null;
  return {
    by: claim.by,
    claimedAt: String(claim.claimedAt ?? ''),
    leaseExpiresAt: claim.leaseExpiresAt,
    assignedToBefore: typeof claim.assignedToBefore === 'string' ? claim.assignedToBefore : null,
  };
}

const LEASE_BY = "CASE WHEN json_valid(w.result) THEN json_extract(w.result, '$.claim.by') END";
const LEASE_UNTIL = "CASE WHEN json_valid(w.result) THEN json_extract(w.result, '$.claim.leaseExpiresAt') END";

const HISTORY_TYPES: Record<string, HistoryEntry['questionType'] | undefined> = { question: 'question', test: 'test', challenge: 'coding' };

const WORK_COLUMNS =
  'w.id AS _key, w.*, q.question AS _q_question, q.answer AS _q_answer, q.channel AS _q_channel, q.sub_channel AS _q_sub_channel, q.difficulty AS _q_difficulty, q.status AS _q_status';
const WORK_FROM = "work_queue w LEFT JOIN questions q ON w.item_type = 'question' AND q.id = w.item_id";

function workItem(row: Row, columns: string[]): WorkItem {
  const state = snapshotOf(row, columns);
  const status = text(state.status);
  const work = {
    id: Number(state.id),
    itemType: String(state.item_type ?? ''),
    itemId: String(state.item_id ?? ''),
    action: String(state.action ?? ''),
    priority: num(state.priority),
    status,
    reason: text(state.reason),
    createdBy: text(state.created_by),
    assignedTo: text(state.assigned_to),
    createdAt: text(state.created_at),
    processedAt: text(state.processed_at),
    result: parseJsonColumn(state.result),
  };
  const question =
    row._q_question !== null && row._q_question !== undefined
      ? {
          id: work.itemId,
          question: String(row._q_question),
          answer: String(row._q_answer ?? ''),
          channel: String(row._q_channel ?? ''),
          subChannel: String(row._q_sub_channel ?? ''),
          difficulty: String(row._q_difficulty ?? ''),
          status: text(row._q_status as SqlValue),
        }
      : null;
  return {
    system: 'open-interview',
    queue: 'work',
    id: String(work.id),
    key: work.id,
    title: `#${work.id} ${work.action} ${work.itemType} ${work.itemId}${question ? ` — ${oneLine(question.question, 70)}` : ''}`,
    state,
    work,
    claim: parseClaim(status, state.result),
    question,
  };
}

export function workConflict(item: WorkItem, context: Pick<ActionContext, 'reviewer' | 'now'>): Conflict | undefined {
  const { status, assignedTo, processedAt } = item.work;
  if (status === 'pending') return undefined;
  if (status === 'processing') {
    const claim = item.claim;
    if (claim && (claim.by === context.reviewer || claim.leaseExpiresAt < context.now.toISOString())) return undefined;
    const current = { status, by: claim?.by ?? assignedTo, at: claim?.claimedAt ?? processedAt };
    const message = claim
      ? `work item ${item.id} is claimed by ${claim.by} since ${claim.claimedAt} (lease until ${claim.leaseExpiresAt}); nothing was changed`
      : `work item ${item.id} is being processed by ${assignedTo ?? 'a bot'} outside qbank (no lease); nothing was changed`;
    return { id: item.id, kind: 'claimed', current, message };
  }
  const current = { status, by: assignedTo, at: processedAt };
  return {
    id: item.id,
    kind: 'decided',
    current,
    message: `work item ${item.id} is already ${status ?? 'closed'}${assignedTo ? ` by ${assignedTo}` : ''}${processedAt ? ` at ${processedAt}` : ''}; nothing was changed`,
  };
}

/** The bots' order: priority (missing first, as SQLite sorts NULL), then age, then id. */
function byPriority(a: WorkItem, b: WorkItem): number {
  const pa = a.work.priority ?? Number.MIN_SAFE_INTEGER;
  const pb = b.work.priority ?? Number.MIN_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  const ca = a.work.createdAt ?? '';
  const cb = b.work.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.work.id - b.work.id;
}

const WORK_STATE_FIELDS = ['status', 'assigned_to', 'processed_at', 'result'];

/** open-interview `work_queue`: pending by priority → claimed (processing) → completed | failed. */
export class WorkQueue implements ReviewQueue<WorkItem> {
  readonly system = 'open-interview' as const;
  readonly name = 'work' as const;
  readonly label = 'open-interview work-queue items';
  readonly orderedByKey = false;
  readonly verbs = { approve: 'complete', reject: 'fail' };
  readonly editableFields: EditableField[] = [];

  fieldsOf(): EditableField[] {
    return [];
  }

  constructor(
    readonly filters: ReviewFilters,
    /** Claimability depends on who asks and when leases run out. */
    private readonly viewer: () => { reviewer: string; now: Date },
  ) {}

  private filterSql(window?: PageWindow): SqlPart {
    const parts: string[] = [];
    const args: InValue[] = [];
    if (this.filters.action) {
      parts.push('w.action = ?');
      args.push(this.filters.action);
    }
    if (window?.exclude?.length) {
      parts.push(`w.id NOT IN (${placeholders(window.exclude.length)})`);
      args.push(...window.exclude.map(Number));
    }
    return { sql: and(parts), args };
  }

  /** Claims that are this reviewer's own or whose lease has run out: few, and reviewable again. */
  private reclaimableSql(): SqlPart {
    const { reviewer, now } = this.viewer();
    return { sql: `w.status = 'processing' AND (${LEASE_BY} = ? OR ${LEASE_UNTIL} < ?)`, args: [reviewer, now.toISOString()] };
  }

  /**
   * The reviewer's own claims, abandoned ones and pending items, in the order the system's own bots
   * take them: priority, then age. Two statements, so the pending read can be served by an index on
   * work_queue (status, priority, created_at); each reads a full page, and the merge keeps the first.
   */
  page(window: PageWindow): Query<WorkItem[]> {
    const f = this.filterSql(window);
    const r = this.reclaimableSql();
    return query(
      [
        { sql: `SELECT ${WORK_COLUMNS} FROM ${WORK_FROM} WHERE ${r.sql}${f.sql} ORDER BY w.priority, w.created_at, w.id LIMIT ?`, args: [...r.args, ...f.args, window.limit] },
        { sql: `SELECT ${WORK_COLUMNS} FROM ${WORK_FROM} WHERE w.status = 'pending'${f.sql} ORDER BY w.priority, w.created_at, w.id LIMIT ?`, args: [...f.args, window.limit] },
      ],
      ([reclaimable, pending]) =>
        [...reclaimable.rows.map((row) => workItem(row, reclaimable.columns)), ...pending.rows.map((row) => workItem(row, pending.columns))].sort(byPriority).slice(0, window.limit),
    );
  }

  count(): Query<number> {
    const f = this.filterSql();
    const r = this.reclaimableSql();
    return query(
      [
        { sql: `SELECT count(*) AS n FROM work_queue w WHERE w.status = 'pending'${f.sql}`, args: f.args },
        { sql: `SELECT count(*) AS n FROM work_queue w WHERE ${r.sql}${f.sql}`, args: [...r.args, ...f.args] },
      ],
      ([pending, reclaimable]) => Number(pending.rows[0].n) + Number(reclaimable.rows[0].n),
    );
  }

  get(ids: string[]): Query<Map<string, WorkItem>> {
    const numeric = ids.filter((id) => /^\d+$/.test(id)).map(Number);
    if (numeric.length === 0) return query([], () => new Map());
    return query([{ sql: `SELECT ${WORK_COLUMNS} FROM ${WORK_FROM} WHERE w.id IN (${placeholders(numeric.length)})`, args: numeric }], ([rows]) => {
      return new Map(rows.rows.map((row) => [String(row.id), workItem(row, rows.columns)]));
    });
  }

  blocker(item: WorkItem, context: ActionContext): Conflict | undefined {
    return workConflict(item, context);
  }

  private transition(
    item: WorkItem,
    values: RowSnapshot,
    context: ActionContext,
    audit: { ledgerReason: string; history?: { eventType: string; summary: string; reason: string | null }; description: string },
  ): Query<ActionResult<WorkItem>> {
    const after = { ...item.state, ...values };
    const historyType = HISTORY_TYPES[item.work.itemType];
    const update = build.update(workQueue).set(storedValues(workQueue, values)).where(drizzleAnd(eq(workQueue.id, item.work.id), asShown(workQueue, item.state)));
    const statements: Statement[] = [
      statement(update),
      ...auditStatements(context, {
        history:
          audit.history && historyType
            ? {
                questionId: item.work.itemId,
                questionType: historyType,
                eventType: audit.history.eventType,
                changesSummary: audit.history.summary,
                changedFields: [],
                before: null,
                after: null,
                reason: audit.history.reason,
                metadata: { workItemId: item.work.id, workAction: item.work.action },
              }
            : undefined,
        ledger: {
          action: 'update',
          itemType: 'work_queue',
          itemId: String(item.work.id),
          before: fieldSnapshot(item.state, WORK_STATE_FIELDS),
          after: fieldSnapshot(after, WORK_STATE_FIELDS),
          reason: audit.ledgerReason,
        },
      }),
      { sql: `SELECT ${WORK_COLUMNS} FROM ${WORK_FROM} WHERE w.id = ?`, args: [item.work.id] },
    ];
    return query(statements, (results) => {
      const current = results[results.length - 1];
      const row = current.rows[0];
      if (rowsAffected(results[0]) !== 1) {
        if (!row) return { ok: false, conflict: { id: item.id, kind: 'not-found', message: `work item ${item.id} no longer exists` } };
        const now = workItem(row, current.columns);
        return { ok: false, conflict: workConflict(now, context) ?? { id: item.id, kind: 'changed', message: `work item ${item.id} was changed since it was shown; nothing was changed` } };
      }
      const changed = workItem(row, current.columns);
      const auditRows = results.slice(1, -1).reduce((n, r) => n + rowsAffected(r), 0);
      return { ok: true, item: changed, auditRows, undo: this.restoreRecord(item, changed, audit.description) };
    });
  }

  claim(item: WorkItem, context: ActionContext): Query<ActionResult<WorkItem>> {
    const claimedAt = context.now.toISOString();
    const leaseExpiresAt = new Date(context.now.getTime() + context.leaseMs).toISOString();
    const assignedToBefore = item.claim ? item.claim.assignedToBefore : item.work.assignedTo;
    const claim: WorkClaim = { by: context.reviewer, claimedAt, leaseExpiresAt, assignedToBefore };
    return this.transition(item, { status: 'processing', assigned_to: context.reviewer, result: JSON.stringify({ claim }) }, context, {
      ledgerReason: `claimed for review until ${leaseExpiresAt}`,
      description: `claimed ${item.id}`,
    });
  }

  release(item: WorkItem, context: ActionContext): Query<ActionResult<WorkItem>> {
    return this.transition(item, { status: 'pending', assigned_to: item.claim?.assignedToBefore ?? null, result: null, processed_at: null }, context, {
      ledgerReason: 'claim released',
      description: `released ${item.id}`,
    });
  }

  decide(item: WorkItem, decision: Decision, context: ActionContext): Query<ActionResult<WorkItem>> {
    const at = context.now.toISOString();
    const action = item.work.action;
    if (decision.kind === 'complete' || decision.kind === 'approve') {
      const result = decision.kind === 'complete' ? decision.result : JSON.stringify({ completedBy: context.reviewer });
      return this.transition(item, { status: 'completed', assigned_to: context.reviewer, processed_at: at, result }, context, {
        ledgerReason: `${action} completed`,
        history: { eventType: `${action}_completed`, summary: `Work item #${item.work.id} (${action}) completed in review`, reason: null },
        description: `completed ${item.id}`,
      });
    }
    const reason = decision.reason;
    return this.transition(item, { status: 'failed', assigned_to: context.reviewer, processed_at: at, result: JSON.stringify({ error: reason }) }, context, {
      ledgerReason: `${action} failed: ${reason}`,
      history: { eventType: `${action}_failed`, summary: `Work item #${item.work.id} (${action}) failed in review`, reason },
      description: `failed ${item.id}`,
    });
  }

  /** A completed or failed item back to pending, its result cleared, the reason in the audit rows. */
  reopen(item: WorkItem, reason: string, context: ActionContext): Query<ActionResult<WorkItem>> {
    return this.transition(item, { status: 'pending', assigned_to: item.claim?.assignedToBefore ?? null, processed_at: null, result: null }, context, {
      ledgerReason: `reopened: ${reason}`,
      history: { eventType: 'reverted', summary: `Work item #${item.work.id} (${item.work.action}) reopened in review`, reason },
      description: `reopened ${item.id}`,
    });
  }

  reopenBlocker(item: WorkItem, context: ActionContext): Conflict | undefined {
    const { status } = item.work;
    if (status === 'completed' || status === 'failed') return undefined;
    if (status === 'pending') return { id: item.id, kind: 'not-reviewable', current: { status, by: null, at: null }, message: `work item ${item.id} is pending already; nothing was changed` };
    return workConflict(item, context) ?? { id: item.id, kind: 'claimed', message: `work item ${item.id} is being worked on (${status}); finish or release it instead` };
  }

  edit(): Query<ActionResult<WorkItem>> {
    throw new Error('work-queue items have no editable fields');
  }

  private restoreRecord(before: WorkItem, after: WorkItem, description: string): UndoRecord {
    return {
      itemId: before.id,
      description,
      build: (context): Query<UndoResult> => {
        const changed = changedColumns(before.state, after.state);
        const restored = pick(before.state, changed.length ? changed : ['id']);
        const undo = this.transition(after, restored, context, { ledgerReason: `undo: ${description}`, description: `undo: ${description}` });
        return query(undo.statements, (results) => {
          const outcome = undo.parse(results);
          if (!outcome.ok) return { ok: false, conflict: { ...outcome.conflict, message: `cannot undo ${description}: ${outcome.conflict.message}` } };
          return { ok: true, item: outcome.item };
        });
      },
    };
  }

  explainConflict(item: WorkItem): Query<Conflict> {
    const { reviewer, now } = this.viewer();
    return query([{ sql: `SELECT ${WORK_COLUMNS} FROM ${WORK_FROM} WHERE w.id = ?`, args: [item.work.id] }], ([current]) => {
      const row = current.rows[0];
      if (!row) return { id: item.id, kind: 'not-found', message: `work item ${item.id} no longer exists` };
      return workConflict(workItem(row, current.columns), { reviewer, now }) ?? { id: item.id, kind: 'changed', message: `work item ${item.id} was changed since it was shown; nothing was changed` };
    });
  }
}
