import type pc from 'picocolors';
import type { DecisionReport, ListedQueue, ReviewStats } from '../../db/review/service.js';
import { claimExpired, reviewRecordOf, type FlaggedQuestionItem, type PingToPassItem, type ReviewItem, type WorkItem } from '../../db/review/types.js';
import { renderMarkdown, wrapHanging } from '../markdown.js';
import type { Output } from '../output.js';

/** Review items and reports as text: the screen, `review show`, `review list`, `review stats`. */

export type Colors = ReturnType<typeof pc.createColors>;

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const QUESTION_TYPES: Record<string, string> = { single: 'one answer', multiple: 'several answers', 'drag-drop': 'drag and drop', hotspot: 'hotspot', simulation: 'simulation' };
export const SEPARATOR = '  ·  ';
/** The width `review show` and a screen of unknown size use. */
export const DEFAULT_WIDTH = 80;
const TEXT_INDENT = '  ';

/**
 * An item's lines before the final wrap: markdown fields are already rendered (and fit the width
 * less their indent); every other line is wrapped with a hanging indent by `renderItemLines`.
 */
class ItemLines {
  readonly lines: string[] = [];

  constructor(
    readonly c: Colors,
    readonly width: number,
  ) {}

  push(...lines: string[]): this {
    this.lines.push(...lines);
    return this;
  }

  /** A field written in markdown, indented under its heading. */
  markdown(text: string, indent = TEXT_INDENT): this {
    const rendered = renderMarkdown(text, { width: this.width - indent.length, color: this.c.isColorSupported });
    return this.push(...rendered.map((line) => (line ? indent + line : line)));
  }

  section(title: string, text: string | null | undefined): this {
    if (!text || !text.trim()) return this;
    return this.push('', this.c.bold(title)).markdown(text);
  }
}

const joinParts = (parts: Array<string | null | undefined | false>) => parts.filter(Boolean).join(SEPARATOR);

/** "approved by alice at 2026-…: reason", or undefined for an item nobody has decided. */
function reviewLine(item: ReviewItem, c: Colors): string | undefined {
  const record = reviewRecordOf(item);
  if (!record.by && !record.reason) return undefined;
  const status = record.status ?? 'no status';
  return c.dim('review: ') + joinParts([status, record.by ? `by ${record.by}` : null, record.at, record.reason ? `reason: ${record.reason}` : null]);
}

function renderPingToPass(item: PingToPassItem, out: ItemLines): void {
  const { c } = out;
  const q = item.question;
  // the decision first: what is asked and the options; what describes the question comes after them
  out.push(joinParts([c.bold(item.id), item.exam.code ?? item.exam.id, q.difficulty !== null ? `difficulty ${q.difficulty}/5` : null, q.objectiveId ? `objective ${q.objectiveId}` : null]));
  const review = q.reviewStatus !== 'pending' || q.reviewedBy ? reviewLine(item, c) : undefined;
  if (review) out.push(review);
  out.markdown(q.text).push('');
  for (const [i, option] of item.options.entries()) {
    const mark = option.isCorrect ? c.green('✔') : ' ';
    const label = `${LETTERS[i] ?? '?'}. ${option.text.replace(/\s*\n\s*/g, ' ')}`;
    out.push(`  ${mark} ${option.isCorrect ? c.green(label) : label}`);
    if (option.explanation) out.push(...option.explanation.split('\n').map((line) => c.dim('       ' + line)));
  }
  if (item.options.length === 0) out.push(c.yellow('  (no answer options)'));
  const exam = item.exam.name ? `${item.exam.code ?? item.exam.id} ${item.exam.name}` : null;
  const objective = q.objectiveId && item.objective?.domain ? `objective ${q.objectiveId} ${item.objective.domain}` : null;
  out.push('', c.dim(joinParts([exam, objective, q.tags.length ? `tags: ${q.tags.join(', ')}` : 'no tags', q.aiGenerated ? `AI: ${q.aiModel ?? 'unknown model'}` : 'written by a person', QUESTION_TYPES[q.type] ?? q.type])));
  if (!q.isActive) out.push(c.yellow('  inactive'));
  out.section('Explanation', q.explanation);
  if (q.referenceUrl) out.push(c.dim(`  reference: ${q.referenceUrl}`));
  if (q.exhibitUrl) out.push(c.dim(`  exhibit: ${q.exhibitUrl}`));
  if (item.feedback.length) {
    out.push('', c.bold(`Feedback (${item.feedback.length})`));
    for (const f of item.feedback) {
      const status = f.status === 'resolved' ? c.green(f.status) : c.yellow(f.status ?? 'pending');
      out.push(`  [${f.type} · ${status}] ${f.userEmail ?? f.userId}: ${f.message}`);
      if (f.response) out.push(c.dim(`      ↳ ${f.response}`));
    }
  }
}

/** The question's mermaid source, shown as a diagram block (the queue reads every column). */
function diagramOf(item: FlaggedQuestionItem): string | null {
  const diagram = item.state.diagram;
  if (typeof diagram !== 'string' || !diagram.trim()) return null;
  return /^\s*```/.test(diagram) ? diagram : '```mermaid\n' + diagram.replace(/\n+$/, '') + '\n```';
}

function renderFlagged(item: FlaggedQuestionItem, out: ItemLines): void {
  const { c } = out;
  const q = item.question;
  out.push(
    joinParts([c.bold(item.id), `${q.channel}/${q.subChannel}`, q.difficulty, q.status === 'flagged' ? c.yellow('flagged') : q.status]),
    joinParts([q.tags.length ? `tags: ${q.tags.join(', ')}` : 'no tags', q.companies.length ? `companies: ${q.companies.join(', ')}` : null]),
  );
  const flag = item.history.find((event) => event.eventType === 'flagged');
  if (q.status === 'flagged' && flag) out.push(c.yellow(`flagged by ${flag.sourceName ?? flag.eventSource}${flag.createdAt ? ` at ${flag.createdAt}` : ''}${flag.reason ? `: ${flag.reason}` : ''}`));
  const review = q.status !== 'flagged' ? reviewLine(item, c) : undefined;
  if (review) out.push(review);
  out.markdown(q.question);
  out.section('Answer', q.answer).section('TL;DR', q.tldr).section('Explanation', q.explanation).section('Diagram', diagramOf(item)).section('ELI5', q.eli5);
  if (q.sourceUrl) out.push(c.dim(`  source: ${q.sourceUrl}`));
  if (item.history.length) {
    out.push('', c.bold('History'));
    for (const event of item.history) {
      out.push(c.dim(`  ${event.createdAt ?? '?'}  ${event.eventType} by ${event.sourceName ?? event.eventSource}${event.reason ? `: ${event.reason}` : event.changesSummary ? `: ${event.changesSummary}` : ''}`));
    }
  }
}

/** "claimed by carol until …", or "claim by carol expired at …" once the lease ran out. */
export function claimText(item: WorkItem, now: Date): string | null {
  if (!item.claim) return null;
  return claimExpired(item, now) ? `claim by ${item.claim.by} expired at ${item.claim.leaseExpiresAt}` : `claimed by ${item.claim.by} until ${item.claim.leaseExpiresAt}`;
}

function renderWork(item: WorkItem, out: ItemLines, now: Date): void {
  const { c } = out;
  const w = item.work;
  const expired = claimExpired(item, now);
  out.push(
    joinParts([c.bold(`#${w.id}`), `${w.action} ${w.itemType} ${w.itemId}`, `priority ${w.priority ?? '-'}`, expired ? c.yellow('claim expired') : w.status]),
    joinParts([w.createdBy ? `queued by ${w.createdBy}` : null, w.createdAt, claimText(item, now) ?? (w.assignedTo ? `for ${w.assignedTo}` : null)]),
  );
  if (w.status === 'completed' || w.status === 'failed') {
    const review = reviewLine(item, c);
    if (review) out.push(review);
  }
  if (w.reason) out.push('').markdown(w.reason);
  if (item.question) {
    const q = item.question;
    out.push('', c.bold(`Question ${q.id}`) + c.dim(`  ${q.channel}/${q.subChannel} · ${q.difficulty} · ${q.status ?? 'active'}`)).markdown(q.question);
    out.section('Answer', q.answer);
  }
}

/**
 * The item as terminal lines of at most `width` display columns: wrapped at word boundaries, with
 * continuation lines hanging under their label, option letter or bullet.
 */
export function renderItemLines(item: ReviewItem, c: Colors, options: { now?: Date; width?: number } = {}): string[] {
  const width = Math.max(30, options.width ?? DEFAULT_WIDTH);
  const out = new ItemLines(c, width);
  if (item.system === 'pingtopass') renderPingToPass(item, out);
  else if (item.queue === 'flagged') renderFlagged(item, out);
  else renderWork(item, out, options.now ?? new Date());
  return out.lines.flatMap((line) => wrapHanging(line, width));
}

export function renderItem(item: ReviewItem, c: Colors, now = new Date(), width = DEFAULT_WIDTH): string {
  return renderItemLines(item, c, { now, width }).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Scriptable output

function summaryRow(item: ReviewItem, now: Date): Array<string | number | null> {
  if (item.system === 'pingtopass') {
    const q = item.question;
    return [item.id, item.exam.code ?? item.exam.id, q.difficulty, q.objectiveId, q.aiGenerated ? q.aiModel ?? 'yes' : '', item.feedback.length || '', item.title.slice(0, 70)];
  }
  if (item.queue === 'flagged') {
    const flag = item.history.find((e) => e.eventType === 'flagged');
    return [item.id, `${item.question.channel}/${item.question.subChannel}`, item.question.difficulty, flag?.sourceName ?? '', item.title.slice(0, 70)];
  }
  const w = item.work;
  const status = item.claim ? (claimExpired(item, now) ? `claim expired (${item.claim.by})` : `claimed by ${item.claim.by}`) : w.status;
  return [w.id, w.priority, w.action, `${w.itemType} ${w.itemId}`, status, w.assignedTo ?? '', (w.reason ?? '').slice(0, 60)];
}

function summaryHeaders(item: ReviewItem): string[] {
  if (item.system === 'pingtopass') return ['id', 'exam', 'difficulty', 'objective', 'ai', 'feedback', 'question'];
  if (item.queue === 'flagged') return ['id', 'channel', 'difficulty', 'flagged by', 'question'];
  return ['id', 'priority', 'action', 'item', 'status', 'assigned to', 'reason'];
}

/** What a narrow terminal leaves out of a list first: never the id or the text a reviewer reads. */
function optionalColumns(item: ReviewItem): string[] {
  if (item.system === 'pingtopass') return ['ai', 'feedback', 'objective', 'difficulty'];
  if (item.queue === 'flagged') return ['flagged by', 'difficulty'];
  return ['assigned to', 'item', 'status'];
}

export function renderList(out: Output, listed: ListedQueue, label: string, now: Date): void {
  if (listed.items.length === 0) {
    out.info(`no ${label} match`);
    return;
  }
  const headers = summaryHeaders(listed.items[0]);
  out.table(headers, listed.items.map((item) => summaryRow(item, now)), { flexible: headers.at(-1), optional: optionalColumns(listed.items[0]) });
  if (listed.total > listed.items.length) out.info(truncationNote(listed));
}

/** "50 of 2,327 (use --limit)": a list that stops early says so. */
export function truncationNote(listed: ListedQueue): string {
  return `${listed.items.length.toLocaleString('en-US')} of ${listed.total.toLocaleString('en-US')} (use --limit)`;
}

/** `review show`: the screen's rendering as plain lines, at the terminal's width (80 when not a terminal). */
export function renderShow(out: Output, item: ReviewItem, now: Date): void {
  const columns = (out.io.stdout as { columns?: number }).columns;
  const width = out.io.stdoutIsTTY && columns ? columns : DEFAULT_WIDTH;
  out.line(renderItem(item, out.c, now, width));
}

export function renderDecisionReport(out: Output, report: DecisionReport, verb: string): void {
  for (const outcome of report.outcomes) {
    if (outcome.outcome === 'decided') out.success(`${verb} ${outcome.id}${outcome.auditRows ? out.ce.dim(` (${outcome.auditRows} audit row(s))`) : ''}`);
    else if (outcome.outcome === 'unchanged') out.info(outcome.message ?? `${outcome.id}: unchanged`);
    else out.warn(outcome.message ?? `${outcome.id}: ${outcome.outcome}`);
  }
  const parts = [`${report.decided} ${verb}`];
  if (report.conflicts) parts.push(`${report.conflicts} already decided or changed by someone else`);
  if (report.notFound) parts.push(`${report.notFound} not found`);
  const unchanged = report.outcomes.filter((o) => o.outcome === 'unchanged').length;
  if (unchanged) parts.push(`${unchanged} unchanged`);
  out.info(parts.join(', ') + ` (reviewer ${report.reviewer})`);
}

export function renderStats(out: Output, stats: ReviewStats): void {
  if (stats.system === 'pingtopass') {
    out.heading('Questions by review status');
    out.table(['status', 'questions'], Object.entries(stats.questions).map(([status, n]) => [status, n.toLocaleString('en-US')]));
    out.heading('By exam');
    out.table(['exam', 'pending', 'approved', 'rejected'], stats.byExam.map((e) => [e.exam, e.pending, e.approved, e.rejected]));
    out.line(`pending feedback about questions: ${stats.pendingFeedback}`);
    return;
  }
  out.heading('Questions by status');
  out.table(['status', 'questions'], Object.entries(stats.questions).map(([status, n]) => [status, n.toLocaleString('en-US')]));
  out.heading('By channel');
  out.table(['channel', 'active', 'flagged', 'deleted'], stats.byChannel.map((e) => [e.channel, e.active, e.flagged, e.deleted]));
  out.heading('Work queue');
  out.table(['status', 'items'], Object.entries(stats.workQueue).map(([status, n]) => [status, n]));
  const actions = Object.entries(stats.pendingWorkByAction).map(([a, n]) => `${a} ${n}`);
  if (actions.length) out.line(`pending by action: ${actions.join(', ')}`);
  if (stats.expiredClaims) out.line(`claims past their lease (back in the queue): ${stats.expiredClaims}`);
}
