import type { SystemName } from '../../config.js';
import type { Query, RowSnapshot } from './sql.js';

/**
 * The review queues: PingToPass questions waiting for review; open-interview questions flagged by
 * bots or users; open-interview work-queue items.
 */
export type QueueName = 'pending' | 'flagged' | 'work';

export const QUEUES: Record<SystemName, QueueName[]> = {
  pingtopass: ['pending'],
  'open-interview': ['flagged', 'work'],
};

export interface ReviewFilters {
  /** PingToPass: exam code or id (resolved to the id before querying). */
  exam?: string;
  examId?: string;
  /** open-interview: channel. */
  channel?: string;
  objective?: string;
  /** PingToPass 1-5; open-interview beginner / intermediate / advanced. */
  difficulty?: string;
  aiGenerated?: boolean;
  /** Every tag listed must be present. */
  tags?: string[];
  /** Work queue: improve / delete / verify / enrich. */
  action?: string;
}

export interface ActionContext {
  reviewer: string;
  now: Date;
  /** How long a work-queue claim keeps other reviewers out. */
  leaseMs: number;
}

export type Decision =
  | { kind: 'approve' }
  | { kind: 'reject'; reason: string }
  | { kind: 'complete'; result: string }
  | { kind: 'fail'; reason: string };

export type DecisionKind = Decision['kind'];

/** Who last decided or claimed an item, as far as the data says. */
export interface DecidedBy {
  status: string | null;
  by: string | null;
  at: string | null;
}

export interface Conflict {
  id: string;
  kind: 'decided' | 'changed' | 'claimed' | 'not-found' | 'not-reviewable';
  /** One sentence for the reviewer: who and when, and that nothing was overwritten. */
  message: string;
  current?: DecidedBy;
}

export interface UndoRecord {
  itemId: string;
  /** "approved q_1", shown when the reviewer presses undo. */
  description: string;
  /** Builds the conditional restore: it only applies while the row is exactly as we left it. */
  build: (context: ActionContext) => Query<UndoResult>;
}

export type UndoResult<I extends ReviewItem = ReviewItem> = { ok: true; item: I } | { ok: false; conflict: Conflict };

export type ActionResult<I extends ReviewItem = ReviewItem> =
  | { ok: true; item: I; undo: UndoRecord; auditRows: number }
  | { ok: false; conflict: Conflict };

export interface ReviewItemBase {
  system: SystemName;
  queue: QueueName;
  id: string;
  /** Position in queue order (rowid, or the work item id). */
  key: number;
  /** One line for lists and progress messages. */
  title: string;
  /** Every column of the main row as read: decisions are conditional on it. Not printed. */
  state: RowSnapshot;
}

export interface PingToPassOption {
  id: string;
  text: string;
  isCorrect: boolean;
  explanation: string | null;
  order: number;
}

export interface PingToPassFeedback {
  id: string;
  userId: string;
  userEmail: string | null;
  type: string;
  message: string;
  status: string | null;
  response: string | null;
  createdAt: string | null;
}

export interface PingToPassItem extends ReviewItemBase {
  system: 'pingtopass';
  queue: 'pending';
  question: {
    id: string;
    examId: string;
    type: string;
    text: string;
    explanation: string | null;
    referenceUrl: string | null;
    difficulty: number | null;
    objectiveId: string | null;
    tags: string[];
    exhibitUrl: string | null;
    isActive: boolean;
    aiGenerated: boolean;
    aiModel: string | null;
    reviewStatus: string | null;
    reviewedBy: string | null;
    reviewedAt: string | null;
    createdAt: string | null;
    updatedAt: string | null;
  };
  exam: { id: string; code: string | null; name: string | null; objectives: Array<{ id: string; domain: string | null }> };
  objective: { id: string; domain: string | null } | null;
  options: PingToPassOption[];
  feedback: PingToPassFeedback[];
}

export interface HistoryEvent {
  id: number;
  eventType: string;
  eventSource: string;
  sourceName: string | null;
  changesSummary: string | null;
  reason: string | null;
  createdAt: string | null;
}

export interface OpenInterviewQuestion {
  id: string;
  question: string;
  answer: string;
  explanation: string;
  difficulty: string;
  channel: string;
  subChannel: string;
  tags: string[];
  companies: string[];
  eli5: string | null;
  tldr: string | null;
  sourceUrl: string | null;
  status: string | null;
  lastUpdated: string | null;
  createdAt: string | null;
}

export interface FlaggedQuestionItem extends ReviewItemBase {
  system: 'open-interview';
  queue: 'flagged';
  question: OpenInterviewQuestion;
  /** Latest events first: why it was flagged, and by whom. */
  history: HistoryEvent[];
}

export interface WorkClaim {
  by: string;
  claimedAt: string;
  leaseExpiresAt: string;
  /** assigned_to before the claim: put back when the claim is released or expires. */
  assignedToBefore: string | null;
}

export interface WorkItem extends ReviewItemBase {
  system: 'open-interview';
  queue: 'work';
  work: {
    id: number;
    itemType: string;
    itemId: string;
    action: string;
    priority: number | null;
    status: string | null;
    reason: string | null;
    createdBy: string | null;
    assignedTo: string | null;
    createdAt: string | null;
    processedAt: string | null;
    result: unknown;
  };
  /** The lease qbank recorded when a reviewer claimed the item, if any. */
  claim: WorkClaim | null;
  /** The question the item is about, when it is one. */
  question: Pick<OpenInterviewQuestion, 'id' | 'question' | 'answer' | 'channel' | 'subChannel' | 'difficulty' | 'status'> | null;
}

export type ReviewItem = PingToPassItem | FlaggedQuestionItem | WorkItem;

/** Text squeezed onto one line of at most `width` characters, for titles and lists. */
export function oneLine(value: string, width = 100): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > width ? flat.slice(0, width - 1) + '…' : flat;
}

/** Where an item stands: its status, who set it, when, and why, as far as the data says. */
export interface ReviewRecord {
  status: string | null;
  by: string | null;
  at: string | null;
  reason: string | null;
}

/** PingToPass keeps a rejection's (or a reopening's) reason as a feedback row with this prefix. */
export const REASON_PREFIXES: Record<string, string> = { rejected: 'Rejected in review: ', pending: 'Reopened in review: ' };

const DECISION_EVENTS = new Set(['approved', 'deleted', 'reverted', 'flagged', 'reopened']);

export function reviewRecordOf(item: ReviewItem): ReviewRecord {
  if (item.system === 'pingtopass') {
    const q = item.question;
    const prefix = q.reviewStatus ? REASON_PREFIXES[q.reviewStatus] : undefined;
    const noted = prefix ? [...item.feedback].reverse().find((f) => f.type === 'general' && f.message.startsWith(prefix)) : undefined;
    return { status: q.reviewStatus, by: q.reviewedBy, at: q.reviewedAt, reason: noted ? noted.message.slice(prefix!.length) : null };
  }
  if (item.queue === 'flagged') {
    const event = item.history.find((e) => DECISION_EVENTS.has(e.eventType));
    return { status: item.question.status, by: event ? event.sourceName ?? event.eventSource : null, at: event?.createdAt ?? item.question.lastUpdated, reason: event?.reason ?? null };
  }
  const w = item.work;
  const error = w.result && typeof w.result === 'object' && 'error' in w.result ? String((w.result as { error: unknown }).error) : null;
  return { status: w.status, by: item.claim?.by ?? w.assignedTo, at: item.claim?.claimedAt ?? w.processedAt, reason: error };
}

/** A work-queue claim whose lease ran out: the item is back in the queue for anyone. */
export function claimExpired(item: ReviewItem, now: Date): boolean {
  return item.queue === 'work' && item.claim !== null && item.claim.leaseExpiresAt < now.toISOString();
}

/** The queue an item is in now: its real status for questions ("approved", "deleted"), "work" for work items. */
export function currentQueueOf(item: ReviewItem): string {
  if (item.system === 'pingtopass') return item.question.reviewStatus ?? 'pending';
  if (item.queue === 'flagged') return item.question.status ?? 'active';
  return 'work';
}

/** The part of an item printed by `review show --json` and `review list --json`. */
export function publicView<I extends ReviewItem>(item: I, now: Date) {
  const { state: _state, key: _key, ...rest } = item;
  const claim = item.queue === 'work' && item.claim ? { ...item.claim, expired: claimExpired(item, now) } : undefined;
  return { ...rest, queue: currentQueueOf(item), review: reviewRecordOf(item), ...(claim ? { claim } : {}) };
}

export interface PageWindow {
  /** Keyset pagination: items strictly after / before this key in queue order. */
  afterKey?: number;
  beforeKey?: number;
  /** For queues not ordered by key: ids already seen in this session. */
  exclude?: string[];
  limit: number;
}

export interface EditableField {
  /** Stable name for audit rows and history ("explanation", "option_b", "correct"). */
  name: string;
  /** What an editor sees in the field list: "Explanation", "Option B", "Correct answer". */
  label: string;
  /** The question's column; options and the correct answer live in answer_options instead. */
  column: string;
  /**
   * multiline: edited in $VISUAL/$EDITOR, never in a one-line prompt; option: one answer option's
   * text (optionIndex); correct: the correct option letters, validated as an import row is.
   */
  kind: 'text' | 'multiline' | 'tags' | 'choice' | 'integer' | 'option' | 'correct';
  choices?: string[];
  nullable: boolean;
  optionIndex?: number;
}

export interface ReviewQueue<I extends ReviewItem = ReviewItem> {
  readonly system: SystemName;
  readonly name: QueueName;
  /** "pending PingToPass questions". */
  readonly label: string;
  /** Queue order is the key order (keyset pagination and resume by key). */
  readonly orderedByKey: boolean;
  /** What approve and reject mean here, for help lines: "approve", "reject (delete)". */
  readonly verbs: { approve: string; reject: string };
  readonly editableFields: EditableField[];
  /** The fields of this item an editor may change (PingToPass adds one per answer option). */
  fieldsOf(item: I): EditableField[];
  page(window: PageWindow): Query<I[]>;
  count(): Query<number>;
  /** Items by id whatever their status; missing ids are absent from the map. */
  get(ids: string[]): Query<Map<string, I>>;
  /** Why the item cannot be decided by this reviewer now, or undefined. Uses only the item's state. */
  blocker(item: I, context: ActionContext): Conflict | undefined;
  decide(item: I, decision: Decision, context: ActionContext): Query<ActionResult<I>>;
  edit(item: I, field: EditableField, value: string | null, context: ActionContext): Query<ActionResult<I>>;
  /** Takes a decision back: the item returns to this queue, audited with the reason. */
  reopen(item: I, reason: string, context: ActionContext): Query<ActionResult<I>>;
  /** Why the item cannot be reopened: `not-reviewable` when it is in the queue already. */
  reopenBlocker(item: I, context: ActionContext): Conflict | undefined;
  /** After a failed conditional write: a read that says who changed the item and when. */
  explainConflict(item: I): Query<Conflict>;
  /** Work queue: claim the item while it is shown, release it when the reviewer moves on. */
  claim?(item: I, context: ActionContext): Query<ActionResult<I>>;
  release?(item: I, context: ActionContext): Query<ActionResult<I>>;
}
