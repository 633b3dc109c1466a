import type { SystemName } from '../../config.js';
import { auditedDecisions, decisionRun } from '../audit/review-run.js';
import { InvalidInputError, RefusedError } from '../../errors.js';
import { requireWriteAccess, type Database } from '../client.js';
import { FlaggedQuestionQueue } from './flagged-queue.js';
import { WorkQueue } from './work-queue.js';
import { feedbackQuery, PingToPassPendingQueue, resolveFeedbackQuery, reviewerUserQuery } from './pingtopass.js';
import { combine, combineAll, runRead, runWrite } from './sql.js';
import type { ActionContext, Conflict, Decision, ReviewItem, ReviewQueue, WorkItem } from './types.js';

/** The scriptable side of `qbank review`: list, show, decide by id or by filter, stats, work-queue claims. */

export interface ListedQueue {
  items: ReviewItem[];
  /** Every item the filters match; more than `items.length` when the list stopped at its limit. */
  total: number;
  limit: number;
}

/** The head of the queue and how many items it holds, in one round trip. */
export async function listQueue(database: Database, queue: ReviewQueue, limit: number): Promise<ListedQueue> {
  const [items, total] = await runRead(database, combine(queue.page({ limit }), queue.count()), 'review list');
  return { items, total: Math.max(total, items.length), limit };
}

/**
 * One item whatever its status. open-interview ids are question ids, or work-item numbers when
 * no question has that id (or `--queue work` says so).
 */
export async function showItem(
  database: Database,
  system: SystemName,
  id: string,
  options: { queue?: string; viewer: () => { reviewer: string; now: Date } },
): Promise<ReviewItem> {
  const candidates: ReviewQueue[] =
    system === 'pingtopass'
      ? [new PingToPassPendingQueue({})]
      : options.queue === 'work'
        ? [new WorkQueue({}, options.viewer)]
        : options.queue === 'flagged'
          ? [new FlaggedQuestionQueue({})]
          : [new FlaggedQuestionQueue({}), new WorkQueue({}, options.viewer)];
  const found = await runRead(database, combineAll(candidates.map((q) => q.get([id]))), 'review show');
  for (const map of found) {
    const item = map.get(id);
    if (item) return item;
  }
  throw new InvalidInputError(`no ${system === 'pingtopass' ? 'question' : 'question or work item'} has the id "${id}"`);
}

export interface DecisionOutcome {
  id: string;
  /** unchanged: already where the verb would put it (reopening a pending question). */
  outcome: 'decided' | 'conflict' | 'not-found' | 'unchanged';
  /** The item's status after the call. */
  status: string | null;
  message?: string;
  conflict?: Conflict;
  auditRows?: number;
}

export type VerbKind = Decision['kind'] | 'reopen';

export interface DecisionReport {
  decision: VerbKind;
  reviewer: string;
  outcomes: DecisionOutcome[];
  decided: number;
  conflicts: number;
  notFound: number;
}

export function statusOf(item: ReviewItem): string | null {
  if (item.system === 'pingtopass') return item.question.reviewStatus;
  if (item.queue === 'flagged') return item.question.status;
  return item.work.status;
}

/** Statements per transaction when deciding many items: bounded so a remote request stays small. */
const DECISION_CHUNK = 100;

/** Can this reviewer leave a reason on a PingToPass question (reject, reopen)? It takes a user with that email or id. */
export async function reviewerIsUser(database: Database, reviewer: string): Promise<boolean> {
  return (await runRead(database, reviewerUserQuery(reviewer), 'review')) !== undefined;
}

/**
 * Fails before any write when the decision cannot be recorded at all. Any reviewer may reject or
 * reopen with a reason: qbank's run entry keeps it, and PingToPass a feedback row too when the
 * reviewer is one of its users.
 */
export async function checkCanDecide(database: Database, _queue: ReviewQueue, _decision: { kind: VerbKind }, _reviewer: string, command: string): Promise<void> {
  requireWriteAccess(database, command);
}

/** How a verb by id treats one chunk of found items: what stops an item, and the write for the rest. */
interface ByIdStep {
  blocker: (item: ReviewItem) => Conflict | undefined;
  apply: (items: ReviewItem[]) => Promise<DecisionOutcome[]>;
}

/**
 * Reads the ids in chunks and reports each: not found, unchanged (already where the verb puts it),
 * a conflict (someone else decided or holds it), or whatever the step's write made of it.
 */
async function actOnIds(database: Database, queue: ReviewQueue, ids: string[], command: string, step: ByIdStep): Promise<DecisionOutcome[]> {
  const unique = [...new Set(ids)];
  const outcomes = new Map<string, DecisionOutcome>();
  for (let start = 0; start < unique.length; start += DECISION_CHUNK) {
    const chunk = unique.slice(start, start + DECISION_CHUNK);
    const items = await runRead(database, queue.get(chunk), command);
    const ready: ReviewItem[] = [];
    for (const id of chunk) {
      const item = items.get(id);
      const blocker = item ? step.blocker(item) : undefined;
      if (!item) outcomes.set(id, { id, outcome: 'not-found', status: null, message: `no ${queue.name === 'work' ? 'work item' : 'question'} has the id "${id}"` });
      else if (blocker?.kind === 'not-reviewable') outcomes.set(id, { id, outcome: 'unchanged', status: statusOf(item), message: blocker.message });
      else if (blocker) outcomes.set(id, { id, outcome: 'conflict', status: statusOf(item), message: blocker.message, conflict: blocker });
      else ready.push(item);
    }
    if (ready.length > 0) for (const outcome of await step.apply(ready)) outcomes.set(outcome.id, outcome);
  }
  return unique.map((id) => outcomes.get(id)!);
}

/**
 * Decides the given items, each conditional on the state just read: an item someone else decided
 * in between is reported with who and when, and left as it is.
 */
export async function decideItems(database: Database, queue: ReviewQueue, ids: string[], decision: Decision, context: ActionContext, command: string): Promise<DecisionReport> {
  await checkCanDecide(database, queue, decision, context.reviewer, command);
  const outcomes = await actOnIds(database, queue, ids, command, {
    blocker: (item) => queue.blocker(item as never, context),
    apply: (ready) => decideReady(database, queue, ready, decision, context, command),
  });
  return report(decision, context.reviewer, outcomes);
}

async function decideReady(database: Database, queue: ReviewQueue, items: ReviewItem[], decision: Decision, context: ActionContext, command: string): Promise<DecisionOutcome[]> {
  if (items.length === 0) return [];
  const decisions = combineAll(items.map((item) => queue.decide(item as never, decision, context)));
  const results = await runWrite(database, await auditedDecisions(database, decisions, decisionRun(queue.system, decision as never, context.reviewer, command, items.map((item) => item.id))), command);
  const lost = items.filter((_, i) => !results[i].ok);
  const explained = lost.length ? await runRead(database, combineAll(lost.map((item) => queue.explainConflict(item as never))), command) : [];
  return items.map((item, i) => {
    const result = results[i];
    if (result.ok) return { id: item.id, outcome: 'decided', status: statusOf(result.item), auditRows: result.auditRows };
    const conflict = explained[lost.indexOf(item)] ?? result.conflict;
    return { id: item.id, outcome: conflict.kind === 'not-found' ? 'not-found' : 'conflict', status: conflict.current?.status ?? null, message: conflict.message, conflict };
  });
}

function report(decision: { kind: VerbKind }, reviewer: string, outcomes: DecisionOutcome[]): DecisionReport {
  return {
    decision: decision.kind,
    reviewer,
    outcomes,
    decided: outcomes.filter((o) => o.outcome === 'decided').length,
    conflicts: outcomes.filter((o) => o.outcome === 'conflict').length,
    notFound: outcomes.filter((o) => o.outcome === 'not-found').length,
  };
}

/** What a bulk decision is about to do, for its confirmation: the exact count and the first ids. */
export interface BulkPlan {
  /** Items that will be decided: the matching items, at most the limit. */
  count: number;
  /** Items the filters match. */
  matching: number;
  /** The first ids in queue order (at most FIRST_IDS_SHOWN). */
  firstIds: string[];
}

export const FIRST_IDS_SHOWN = 5;

export interface AllMatchingOptions {
  /** Decide at most this many items, in queue order. */
  limit?: number;
  /** Asked with the plan before anything is written; false stops. */
  confirm: (plan: BulkPlan) => Promise<boolean>;
  onProgress?: (done: number, total: number) => void;
}

/** Decides the items the queue's filters match, at most `limit`, in queue order: exactly the ones counted and confirmed. */
export async function decideAllMatching(database: Database, queue: ReviewQueue, decision: Decision, context: ActionContext, command: string, options: AllMatchingOptions): Promise<DecisionReport> {
  await checkCanDecide(database, queue, decision, context.reviewer, command);
  const [matching, head] = await runRead(database, combine(queue.count(), queue.page({ limit: Math.min(DECISION_CHUNK, options.limit ?? DECISION_CHUNK) })), command);
  const count = Math.min(matching, options.limit ?? matching);
  if (count === 0) return report(decision, context.reviewer, []);
  if (!(await options.confirm({ count, matching, firstIds: head.slice(0, Math.min(count, FIRST_IDS_SHOWN)).map((item) => item.id) }))) {
    throw new RefusedError('nothing was changed: not confirmed');
  }
  const outcomes: DecisionOutcome[] = [];
  let afterKey: number | undefined;
  const seen: string[] = [];
  let page = head.slice(0, count);
  while (page.length > 0) {
    afterKey = page[page.length - 1].key;
    seen.push(...page.map((item) => item.id));
    const ready = page.filter((item) => !queue.blocker(item as never, context));
    outcomes.push(...(await decideReady(database, queue, ready, decision, context, command)));
    options.onProgress?.(seen.length, count);
    const limit = Math.min(DECISION_CHUNK, count - seen.length);
    if (limit <= 0) break;
    page = await runRead(database, queue.page(queue.orderedByKey ? { afterKey, limit } : { exclude: seen, limit }), command);
  }
  return report(decision, context.reviewer, outcomes);
}

/**
 * Takes decisions back: each decided item returns to the queue (PingToPass pending, flagged, or a
 * pending work item) with who did it, when and why in the system's audit rows. Items already in
 * the queue are reported unchanged.
 */
export async function reopenItems(database: Database, queue: ReviewQueue, ids: string[], reason: string, context: ActionContext): Promise<DecisionReport> {
  const command = 'review reopen';
  await checkCanDecide(database, queue, { kind: 'reopen' }, context.reviewer, command);
  const outcomes = await actOnIds(database, queue, ids, command, {
    blocker: (item) => queue.reopenBlocker(item as never, context),
    apply: async (ready) => {
      const reopened = combineAll(ready.map((item) => queue.reopen(item as never, reason, context)));
      const results = await runWrite(database, await auditedDecisions(database, reopened, decisionRun(queue.system, { kind: 'reopen', reason }, context.reviewer, command, ready.map((item) => item.id))), command);
      return ready.map((item, i): DecisionOutcome => {
        const result = results[i];
        if (result.ok) return { id: item.id, outcome: 'decided', status: statusOf(result.item), auditRows: result.auditRows };
        return { id: item.id, outcome: 'conflict', status: result.conflict.current?.status ?? null, message: result.conflict.message, conflict: result.conflict };
      });
    },
  });
  return report({ kind: 'reopen' }, context.reviewer, outcomes);
}

// ---------------------------------------------------------------------------------------------
// Work queue

export interface ClaimResult {
  item: WorkItem;
  lease: { by: string; claimedAt: string; leaseExpiresAt: string };
}

/**
 * Claims the given work item, or the next one in the system's own order (priority, then age).
 * Two reviewers racing for the same item: one gets it, the other moves on to the next.
 */
export async function claimWork(database: Database, queue: WorkQueue, id: string | undefined, context: ActionContext): Promise<ClaimResult> {
  requireWriteAccess(database, 'review claim');
  const tried: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    let candidate: WorkItem | undefined;
    if (id !== undefined) {
      candidate = (await runRead(database, queue.get([id]), 'review claim')).get(id);
      if (!candidate) throw new InvalidInputError(`no work item has the id "${id}"`);
      const blocker = queue.blocker(candidate, context);
      if (blocker) throw new RefusedError(blocker.message);
    } else {
      [candidate] = await runRead(database, queue.page({ exclude: tried, limit: 1 }), 'review claim');
      if (!candidate) throw new RefusedError(`no work-queue item is waiting${queue.filters.action ? ` for action ${queue.filters.action}` : ''}`);
    }
    const result = await runWrite(database, queue.claim(candidate, context), 'review claim');
    if (result.ok) {
      const claim = result.item.claim!;
      return { item: result.item, lease: { by: claim.by, claimedAt: claim.claimedAt, leaseExpiresAt: claim.leaseExpiresAt } };
    }
    if (id !== undefined) throw new RefusedError(result.conflict.message);
    tried.push(candidate.id);
  }
  throw new RefusedError('other reviewers claimed every item tried; run `qbank review claim` again');
}

export interface WorkDecisionResult {
  item: WorkItem;
  auditRows: number;
}

/** complete / fail / release one work item, conditional on the state just read. */
export async function settleWork(
  database: Database,
  queue: WorkQueue,
  id: string,
  what: { kind: 'complete'; result: string } | { kind: 'fail'; reason: string } | { kind: 'release' },
  context: ActionContext,
): Promise<WorkDecisionResult> {
  const command = `review ${what.kind}`;
  requireWriteAccess(database, command);
  const item = (await runRead(database, queue.get([id]), command)).get(id);
  if (!item) throw new InvalidInputError(`no work item has the id "${id}"`);
  if (what.kind === 'release') {
    if (item.work.status !== 'processing' || item.claim?.by !== context.reviewer) {
      throw new RefusedError(`work item ${id} is not claimed by ${context.reviewer}${item.claim ? ` (claimed by ${item.claim.by})` : ` (status ${item.work.status})`}; nothing was changed`);
    }
  } else {
    const blocker = queue.blocker(item, context);
    if (blocker) throw new RefusedError(blocker.message);
  }
  const write = what.kind === 'release' ? queue.release(item, context) : queue.decide(item, what, context);
  const result = await runWrite(database, write, command);
  if (!result.ok) throw new RefusedError(result.conflict.message);
  return { item: result.item, auditRows: result.auditRows };
}

// ---------------------------------------------------------------------------------------------
// PingToPass feedback

export async function resolveFeedback(database: Database, feedbackId: string, response: string) {
  requireWriteAccess(database, 'review resolve');
  const feedback = await runRead(database, feedbackQuery(feedbackId), 'review resolve');
  if (!feedback) throw new InvalidInputError(`no feedback has the id "${feedbackId}"`);
  if (feedback.status === 'resolved') {
    throw new RefusedError(`feedback ${feedbackId} is already resolved${feedback.response ? `: "${feedback.response}"` : ''}; nothing was changed`);
  }
  const result = await runWrite(database, resolveFeedbackQuery(feedback, response), 'review resolve');
  if (!result.ok) throw new RefusedError(result.message ?? `feedback ${feedbackId} changed; nothing was changed`);
  return result.feedback!;
}

export { reviewStats, type OpenInterviewReviewStats, type PingToPassReviewStats, type ReviewStats } from './stats.js';
