import { InvalidInputError } from '../../errors.js';
import type { Database } from '../client.js';
import { resolveFeedbackQuery } from './pingtopass.js';
import type { ResumeState, ResumeStore } from './resume-state.js';
import { combine, runRead, runWrite, type Query } from './sql.js';
import type { ActionContext, Conflict, Decision, EditableField, PingToPassItem, ReviewItem, ReviewQueue, UndoRecord } from './types.js';

/**
 * The engine behind the interactive `qbank review`, free of any terminal code: a buffer of items
 * read ahead of the reviewer, conditional decisions, undo, work-queue claims, pace, and the
 * resume position. Every method resolves once the database has answered; the item after the
 * current one is already in memory, so a decision costs one write round trip before the next
 * item can be shown.
 */

export interface SessionOptions {
  database: Database;
  queue: ReviewQueue;
  reviewer: string;
  clock: () => Date;
  leaseMs: number;
  /** Where the resume position lives; without one the session starts at the head of the queue. */
  store?: ResumeStore;
  databaseUrl?: string;
  /** Ignore the saved position. */
  restart?: boolean;
  /** Stop after this many items. */
  limit?: number;
  /** Items read per prefetch, and the buffer level that triggers the next read. */
  pageSize?: number;
  lowWater?: number;
}

export interface StepOutcome {
  ok: boolean;
  message: string;
  conflict?: Conflict;
}

export interface SessionProgress {
  /** 1-based position of the current item in this session. */
  position: number;
  /** Items in the queue when the session started. */
  total: number;
  handled: number;
  decided: number;
  approved: number;
  rejected: number;
  skipped: number;
  conflicts: number;
  edits: number;
  /** Items handled per minute since the first item was shown. */
  perMinute: number | null;
  /** Estimated time to finish the queue at this pace. */
  remainingMs: number | null;
  resumed: boolean;
  /** Decided in earlier sessions, from the resume file. */
  decidedBefore: number;
}

export interface SessionSummary extends SessionProgress {
  elapsedMs: number;
  finished: boolean;
  warnings: string[];
}

type HistoryEntry =
  | { kind: 'skip'; item: ReviewItem }
  | { kind: 'decision'; item: ReviewItem; decision: Decision['kind']; undo: UndoRecord }
  | { kind: 'edit'; item: ReviewItem; undo: UndoRecord }
  | { kind: 'feedback'; item: ReviewItem; feedbackId: string; undo: () => Query<{ ok: boolean; message?: string }> };

const approvingKinds = new Set<Decision['kind']>(['approve', 'complete']);

export class ReviewSession {
  current: ReviewItem | undefined;
  readonly warnings: string[] = [];

  private buffer: ReviewItem[] = [];
  private seen = new Set<string>();
  private history: HistoryEntry[] = [];
  private refill: Promise<void> | undefined;
  private background = new Set<Promise<unknown>>();
  private claim: Promise<StepOutcome> | undefined;
  private claimFor: string | undefined;
  private claimedBySession = new Map<string, ReviewItem>();
  private lastFetchedKey: number | undefined;
  private phase: 'main' | 'wrap' | 'done' = 'main';
  private exhausted = false;
  private startKey: number | undefined;
  private total = 0;
  private counts = { decided: 0, approved: 0, rejected: 0, skipped: 0, conflicts: 0, edits: 0 };
  private startedAt: number;
  private firstShownAt: number | undefined;
  private decidedBefore = 0;
  private skippedBefore = 0;
  private resumed = false;

  private constructor(private readonly options: SessionOptions) {
    this.startedAt = options.clock().getTime();
  }

  static async start(options: SessionOptions): Promise<ReviewSession> {
    const session = new ReviewSession(options);
    await session.begin();
    return session;
  }

  get queue(): ReviewQueue {
    return this.options.queue;
  }

  get reviewer(): string {
    return this.options.reviewer;
  }

  /** Can the last action be undone? */
  get canUndo(): boolean {
    return this.history.length > 0;
  }

  get lastAction(): string | undefined {
    const last = this.history[this.history.length - 1];
    if (!last) return undefined;
    return last.kind === 'skip' ? `skipped ${last.item.id}` : last.kind === 'feedback' ? `resolved feedback ${last.feedbackId}` : last.undo.description;
  }

  private context(): ActionContext {
    return { reviewer: this.options.reviewer, now: this.options.clock(), leaseMs: this.options.leaseMs };
  }

  private get pageSize(): number {
    return this.options.pageSize ?? 10;
  }

  private async begin(): Promise<void> {
    const { queue, store, restart } = this.options;
    const saved = store && queue.orderedByKey ? store.load() : undefined;
    if (saved && restart) store!.clear();
    const resumeAt = saved && !restart ? saved.resumeAt : null;
    if (saved && !restart) {
      this.decidedBefore = saved.decided;
      this.skippedBefore = saved.skipped;
    }
    if (resumeAt) {
      // the saved key is only a hint: rowids can move (VACUUM), the item id cannot
      const found = await runRead(this.options.database, queue.get([resumeAt.id]), 'review');
      const startKey = found.get(resumeAt.id)?.key ?? resumeAt.key;
      this.resumed = true;
      this.startKey = startKey;
      this.lastFetchedKey = startKey - 1;
    }
    const [total, page] = await runRead(this.options.database, combine(queue.count(), queue.page(this.window())), 'review');
    this.total = total;
    this.take(page);
    if (this.buffer.length === 0) await this.nextPhase();
    this.advance();
  }

  private window() {
    if (!this.options.queue.orderedByKey) return { exclude: [...this.seen], limit: this.pageSize };
    if (this.phase === 'wrap') return { afterKey: this.lastFetchedKey, beforeKey: this.startKey, limit: this.pageSize };
    return { afterKey: this.lastFetchedKey, limit: this.pageSize };
  }

  private take(page: ReviewItem[]): void {
    if (page.length < this.pageSize) this.exhausted = true;
    if (page.length > 0) this.lastFetchedKey = page[page.length - 1].key;
    for (const item of page) {
      if (this.seen.has(item.id)) continue;
      this.seen.add(item.id);
      this.buffer.push(item);
    }
  }

  /** After the end of the queue, a resumed session goes round once more for the items before where it started. */
  private async nextPhase(): Promise<void> {
    while (this.buffer.length === 0 && this.phase !== 'done') {
      if (!this.exhausted) {
        await this.fetchMore();
        continue;
      }
      if (this.phase === 'main' && this.startKey !== undefined) {
        this.phase = 'wrap';
        this.exhausted = false;
        this.lastFetchedKey = undefined;
        continue;
      }
      this.phase = 'done';
    }
  }

  private fetchMore(): Promise<void> {
    if (!this.refill) {
      const window = this.window();
      this.refill = runRead(this.options.database, this.options.queue.page(window), 'review')
        .then((page) => this.take(page))
        .finally(() => {
          this.refill = undefined;
        });
    }
    return this.refill;
  }

  /** Keeps the buffer ahead of the reviewer without making them wait. */
  private prefetch(): void {
    if (this.phase === 'done' || this.exhausted || this.buffer.length >= (this.options.lowWater ?? 3)) return;
    this.track(this.fetchMore());
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: Error) => {
      this.warnings.push(error.message);
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private limitReached(): boolean {
    return this.options.limit !== undefined && this.handled >= this.options.limit;
  }

  private get handled(): number {
    return this.counts.decided + this.counts.skipped + this.counts.conflicts;
  }

  private advance(): void {
    this.current = this.limitReached() ? undefined : this.buffer.shift();
    if (this.current && this.firstShownAt === undefined) this.firstShownAt = this.options.clock().getTime();
    this.claimCurrent();
    this.prefetch();
    this.persist();
  }

  /** Moves to the next item, reading more first only when the reviewer has outrun the prefetch. */
  private async moveOn(): Promise<void> {
    if (this.buffer.length === 0 && !this.limitReached()) {
      try {
        await this.nextPhase();
      } catch (error) {
        // the action itself is done; without more items the session ends and says why
        this.warnings.push(`could not read more items: ${(error as Error).message}; run \`qbank review\` again to continue`);
      }
    }
    this.advance();
  }

  private claimCurrent(): void {
    const item = this.current;
    const queue = this.options.queue;
    this.claim = undefined;
    this.claimFor = undefined;
    if (!item || !queue.claim || item.queue !== 'work') return;
    const context = this.context();
    if (item.claim?.by === context.reviewer && item.claim.leaseExpiresAt > context.now.toISOString()) {
      this.claimedBySession.set(item.id, item);
      return;
    }
    this.claimFor = item.id;
    this.claim = runWrite(this.options.database, queue.claim(item as never, context), 'review').then((result) => {
      if (!result.ok) return { ok: false, message: result.conflict.message, conflict: result.conflict };
      this.claimedBySession.set(item.id, result.item);
      if (this.current?.id === item.id) this.current = result.item;
      return { ok: true, message: `claimed ${item.id}` };
    });
    this.claim.catch(() => undefined);
  }

  private release(item: ReviewItem): void {
    const queue = this.options.queue;
    if (this.claim && this.claimFor === item.id && !this.claimedBySession.has(item.id)) {
      // still being claimed: give it back as soon as the claim lands
      const pending = this.claim;
      this.claim = undefined;
      this.track(pending.then(() => this.release(item)));
      return;
    }
    const claimed = this.claimedBySession.get(item.id);
    if (!claimed || !queue.release) return;
    this.claimedBySession.delete(item.id);
    this.track(
      runWrite(this.options.database, queue.release(claimed as never, this.context()), 'review').then((result) => {
        if (!result.ok) this.warnings.push(`could not release ${item.id}: ${result.conflict.message}`);
      }),
    );
  }

  /** Resolves once the current work item's claim has landed (or was lost to someone else, which it says). */
  async claimSettled(): Promise<StepOutcome | undefined> {
    if (!this.claim) return undefined;
    const outcome = await this.claim.catch((error: Error) => ({ ok: false, message: error.message }) as StepOutcome);
    return outcome.ok ? undefined : outcome;
  }

  /** Waits for the claim of the current work item; a lost claim is reported like a conflict. */
  private async claimHeld(): Promise<StepOutcome | undefined> {
    if (!this.claim) return undefined;
    const outcome = await this.claim;
    return outcome.ok ? undefined : outcome;
  }

  async decide(decision: Decision): Promise<StepOutcome> {
    const item = this.current;
    if (!item) return { ok: false, message: 'nothing to decide: the queue is empty' };
    const lostClaim = await this.claimHeld();
    if (lostClaim) return this.conflicted(lostClaim.conflict!);
    const shown = this.current!;
    const queue = this.options.queue;
    const result = await runWrite(this.options.database, queue.decide(shown as never, decision, this.context()), 'review');
    if (!result.ok) {
      const conflict = result.conflict.current?.by ? result.conflict : await runRead(this.options.database, queue.explainConflict(shown as never), 'review');
      return this.conflicted(conflict);
    }
    this.claimedBySession.delete(shown.id);
    this.history.push({ kind: 'decision', item: shown, decision: decision.kind, undo: result.undo });
    this.counts.decided++;
    if (approvingKinds.has(decision.kind)) this.counts.approved++;
    else this.counts.rejected++;
    await this.moveOn();
    return { ok: true, message: result.undo.description };
  }

  private async conflicted(conflict: Conflict): Promise<StepOutcome> {
    this.counts.conflicts++;
    this.claimedBySession.delete(conflict.id);
    await this.moveOn();
    return { ok: false, message: conflict.message, conflict };
  }

  async skip(): Promise<StepOutcome> {
    const item = this.current;
    if (!item) return { ok: false, message: 'nothing to skip' };
    this.release(item);
    this.history.push({ kind: 'skip', item });
    this.counts.skipped++;
    await this.moveOn();
    return { ok: true, message: `skipped ${item.id}` };
  }

  async edit(field: EditableField, value: string | null): Promise<StepOutcome> {
    const item = this.current;
    if (!item) return { ok: false, message: 'nothing to edit' };
    const lostClaim = await this.claimHeld();
    if (lostClaim) return this.conflicted(lostClaim.conflict!);
    let write: ReturnType<ReviewQueue['edit']>;
    try {
      write = this.options.queue.edit(this.current as never, field, value, this.context());
    } catch (error) {
      // a value the field cannot hold (a second correct option on a single-answer question…)
      if (error instanceof InvalidInputError) return { ok: false, message: `not saved: ${error.message}` };
      throw error;
    }
    const result = await runWrite(this.options.database, write, 'review');
    if (!result.ok) return { ok: false, message: result.conflict.message, conflict: result.conflict };
    this.history.push({ kind: 'edit', item: this.current!, undo: result.undo });
    this.counts.edits++;
    this.current = result.item;
    return { ok: true, message: result.undo.description };
  }

  /** PingToPass: answers a user's feedback about the current question and marks it resolved. */
  async resolveFeedback(feedbackId: string, response: string): Promise<StepOutcome> {
    const item = this.current;
    if (!item || item.system !== 'pingtopass') return { ok: false, message: 'no feedback to resolve here' };
    const feedback = item.feedback.find((f) => f.id === feedbackId);
    if (!feedback) return { ok: false, message: `feedback ${feedbackId} is not about this question` };
    const result = await runWrite(this.options.database, resolveFeedbackQuery(feedback, response), 'review');
    if (!result.ok || !result.feedback) return { ok: false, message: result.message ?? `feedback ${feedbackId} changed` };
    this.history.push({ kind: 'feedback', item, feedbackId, undo: result.undo!.build });
    this.current = replaceFeedback(item, result.feedback);
    return { ok: true, message: `resolved feedback ${feedbackId}` };
  }

  /** Undoes the last action: a decision or edit is reverted only if nobody changed the item since; a skip just goes back. */
  async undo(): Promise<StepOutcome> {
    const last = this.history.pop();
    if (!last) return { ok: false, message: 'nothing to undo' };
    if (last.kind === 'skip') {
      this.counts.skipped--;
      this.showAgain(last.item);
      return { ok: true, message: `back to ${last.item.id}` };
    }
    if (last.kind === 'feedback') {
      const result = await runWrite(this.options.database, last.undo(), 'review');
      if (!result.ok) return { ok: false, message: result.message ?? 'cannot undo' };
      const original = (last.item as PingToPassItem).feedback.find((f) => f.id === last.feedbackId)!;
      if (this.current?.id === last.item.id) this.current = replaceFeedback(this.current as PingToPassItem, original);
      return { ok: true, message: `undid: resolved feedback ${last.feedbackId}` };
    }
    const result = await runWrite(this.options.database, last.undo.build(this.context()), 'review');
    if (!result.ok) return { ok: false, message: result.conflict.message, conflict: result.conflict };
    if (last.kind === 'decision') {
      this.counts.decided--;
      if (approvingKinds.has(last.decision)) this.counts.approved--;
      else this.counts.rejected--;
    } else {
      this.counts.edits--;
    }
    if (last.kind === 'decision' && result.item.queue === 'work') this.claimedBySession.set(result.item.id, result.item);
    if (this.current?.id === result.item.id) this.current = result.item;
    else this.showAgain(result.item);
    return { ok: true, message: `undid: ${last.undo.description}` };
  }

  private showAgain(item: ReviewItem): void {
    if (this.current) this.buffer.unshift(this.current);
    if (this.current && this.current.id !== item.id) this.release(this.current);
    this.current = item;
    this.claimCurrent();
    this.persist();
  }

  progress(): SessionProgress {
    const now = this.options.clock().getTime();
    const handled = this.handled;
    const minutes = this.firstShownAt === undefined ? 0 : (now - this.firstShownAt) / 60_000;
    const perMinute = handled > 0 && minutes > 0 ? handled / minutes : null;
    const left = Math.max(0, this.total - handled);
    return {
      position: handled + 1,
      total: this.total,
      handled,
      ...this.counts,
      perMinute,
      remainingMs: perMinute ? (left / perMinute) * 60_000 : null,
      resumed: this.resumed,
      decidedBefore: this.decidedBefore,
    };
  }

  private persist(): void {
    const { store, queue } = this.options;
    if (!store || !queue.orderedByKey) return;
    try {
      if (!this.current && this.phase === 'done') {
        store.clear();
        return;
      }
      const resumeItem = this.current ?? this.buffer[0];
      const state: ResumeState = {
        version: 1,
        databaseUrl: this.options.databaseUrl ?? '',
        reviewer: this.options.reviewer,
        queue: queue.name,
        resumeAt: resumeItem ? { id: resumeItem.id, key: resumeItem.key } : null,
        decided: this.decidedBefore + this.counts.decided,
        skipped: this.skippedBefore + this.counts.skipped,
        updatedAt: this.options.clock().toISOString(),
      };
      store.save(state);
    } catch (error) {
      const message = `could not save the resume position to ${store.location}: ${(error as Error).message}`;
      if (!this.warnings.includes(message)) this.warnings.push(message);
    }
  }

  /** Releases what this session still holds, waits for background work, and saves where the reviewer stopped. */
  async close(): Promise<SessionSummary> {
    if (this.claim) await this.claim.catch(() => undefined);
    for (const item of [...this.claimedBySession.values()]) this.release(item);
    while (this.background.size > 0) await Promise.all([...this.background]);
    this.persist();
    return {
      ...this.progress(),
      elapsedMs: this.options.clock().getTime() - this.startedAt,
      finished: !this.current && this.phase === 'done',
      warnings: this.warnings,
    };
  }
}

function replaceFeedback(item: PingToPassItem, feedback: PingToPassItem['feedback'][number]): PingToPassItem {
  return { ...item, feedback: item.feedback.map((f) => (f.id === feedback.id ? { ...f, status: feedback.status, response: feedback.response } : f)) };
}
