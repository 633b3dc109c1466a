import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitKeypressEvents, type Key } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type pc from 'picocolors';
import type { DecisionReport, ReviewStats } from '../db/review/service.js';
import type { SessionProgress, SessionSummary, ReviewSession, StepOutcome } from '../db/review/session.js';
import type { EditableField, FlaggedQuestionItem, PingToPassItem, ReviewItem, WorkItem } from '../db/review/types.js';
import type { Output } from './output.js';

type Colors = ReturnType<typeof pc.createColors>;

// ---------------------------------------------------------------------------------------------
// One item, as text

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const QUESTION_TYPES: Record<string, string> = { single: 'one answer', multiple: 'several answers', 'drag-drop': 'drag and drop', hotspot: 'hotspot', simulation: 'simulation' };
const EXPLANATION_LINES = 40;

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function clip(text: string, maxLines: number, c: Colors): string {
  const lines = text.split('\n');
  if (lines.length <= maxLines) return text;
  return lines.slice(0, maxLines).join('\n') + '\n' + c.dim(`… ${lines.length - maxLines} more line(s) (e to edit shows all)`);
}

const join2 = (parts: Array<string | null | undefined | false>) => parts.filter(Boolean).join(c2sep);
const c2sep = '  ·  ';

function renderPingToPass(item: PingToPassItem, c: Colors): string[] {
  const q = item.question;
  const exam = item.exam.code ? `${item.exam.code}${item.exam.name ? ` (${item.exam.name})` : ''}` : item.exam.id;
  const lines = [
    join2([c.bold(item.id), exam, q.difficulty !== null ? `difficulty ${q.difficulty}/5` : null, q.objectiveId ? `objective ${q.objectiveId}${item.objective?.domain ? ` ${item.objective.domain}` : ''}` : null]),
    join2([q.tags.length ? `tags: ${q.tags.join(', ')}` : 'no tags', q.aiGenerated ? c.magenta(`AI: ${q.aiModel ?? 'unknown model'}`) : 'written by a person', QUESTION_TYPES[q.type] ?? q.type, q.isActive ? null : c.yellow('inactive')]),
    '',
    indent(q.text),
    '',
  ];
  for (const [i, option] of item.options.entries()) {
    const mark = option.isCorrect ? c.green('✔') : ' ';
    const label = `${LETTERS[i] ?? '?'}. ${option.text}`;
    lines.push(`  ${mark} ${option.isCorrect ? c.green(label) : label}`);
    if (option.explanation) lines.push(c.dim(indent(option.explanation, '       ')));
  }
  if (item.options.length === 0) lines.push(c.yellow('  (no answer options)'));
  if (q.explanation) lines.push('', c.bold('Explanation'), indent(clip(q.explanation, EXPLANATION_LINES, c)));
  if (q.referenceUrl) lines.push(c.dim(`  reference: ${q.referenceUrl}`));
  if (q.exhibitUrl) lines.push(c.dim(`  exhibit: ${q.exhibitUrl}`));
  if (item.feedback.length) {
    lines.push('', c.bold(`Feedback (${item.feedback.length})`));
    for (const f of item.feedback) {
      const status = f.status === 'resolved' ? c.green(f.status) : c.yellow(f.status ?? 'pending');
      lines.push(`  [${f.type} · ${status}] ${f.userEmail ?? f.userId}: ${f.message}`);
      if (f.response) lines.push(c.dim(`      ↳ ${f.response}`));
    }
  }
  return lines;
}

function renderFlagged(item: FlaggedQuestionItem, c: Colors): string[] {
  const q = item.question;
  const lines = [
    join2([c.bold(item.id), `${q.channel}/${q.subChannel}`, q.difficulty, q.status === 'flagged' ? c.yellow('flagged') : q.status]),
    join2([q.tags.length ? `tags: ${q.tags.join(', ')}` : 'no tags', q.companies.length ? `companies: ${q.companies.join(', ')}` : null]),
  ];
  const flag = item.history.find((event) => event.eventType === 'flagged');
  if (flag) lines.push(c.yellow(`flagged by ${flag.sourceName ?? flag.eventSource}${flag.createdAt ? ` at ${flag.createdAt}` : ''}${flag.reason ? `: ${flag.reason}` : ''}`));
  lines.push('', indent(q.question), '', c.bold('Answer'), indent(clip(q.answer, 12, c)));
  if (q.tldr) lines.push('', c.bold('TL;DR'), indent(q.tldr));
  lines.push('', c.bold('Explanation'), indent(clip(q.explanation, EXPLANATION_LINES, c)));
  if (q.eli5) lines.push('', c.bold('ELI5'), indent(clip(q.eli5, 8, c)));
  if (q.sourceUrl) lines.push(c.dim(`  source: ${q.sourceUrl}`));
  if (item.history.length) {
    lines.push('', c.bold('History'));
    for (const event of item.history) {
      lines.push(c.dim(`  ${event.createdAt ?? '?'}  ${event.eventType} by ${event.sourceName ?? event.eventSource}${event.reason ? `: ${event.reason}` : event.changesSummary ? `: ${event.changesSummary}` : ''}`));
    }
  }
  return lines;
}

function renderWork(item: WorkItem, c: Colors): string[] {
  const w = item.work;
  const lines = [
    join2([c.bold(`#${w.id}`), `${w.action} ${w.itemType} ${w.itemId}`, `priority ${w.priority ?? '-'}`, w.status]),
    join2([w.createdBy ? `queued by ${w.createdBy}` : null, w.createdAt, item.claim ? `claimed by ${item.claim.by} until ${item.claim.leaseExpiresAt}` : w.assignedTo ? `for ${w.assignedTo}` : null]),
  ];
  if (w.reason) lines.push('', indent(w.reason));
  if (item.question) {
    const q = item.question;
    lines.push('', c.bold(`Question ${q.id}`) + c.dim(`  ${q.channel}/${q.subChannel} · ${q.difficulty} · ${q.status ?? 'active'}`), indent(q.question), '', indent(clip(q.answer, 12, c)));
  }
  return lines;
}

export function renderItem(item: ReviewItem, c: Colors): string {
  const lines = item.system === 'pingtopass' ? renderPingToPass(item, c) : item.queue === 'flagged' ? renderFlagged(item, c) : renderWork(item, c);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Scriptable output

function summaryRow(item: ReviewItem): Array<string | number | null> {
  if (item.system === 'pingtopass') {
    const q = item.question;
    return [item.id, item.exam.code ?? item.exam.id, q.difficulty, q.objectiveId, q.aiGenerated ? q.aiModel ?? 'yes' : '', item.feedback.length || '', item.title.slice(0, 70)];
  }
  if (item.queue === 'flagged') {
    const flag = item.history.find((e) => e.eventType === 'flagged');
    return [item.id, `${item.question.channel}/${item.question.subChannel}`, item.question.difficulty, flag?.sourceName ?? '', item.title.slice(0, 70)];
  }
  const w = item.work;
  return [w.id, w.priority, w.action, `${w.itemType} ${w.itemId}`, item.claim ? `claimed by ${item.claim.by}` : w.status, w.assignedTo ?? '', (w.reason ?? '').slice(0, 60)];
}

function summaryHeaders(item: ReviewItem): string[] {
  if (item.system === 'pingtopass') return ['id', 'exam', 'difficulty', 'objective', 'ai', 'feedback', 'question'];
  if (item.queue === 'flagged') return ['id', 'channel', 'difficulty', 'flagged by', 'question'];
  return ['id', 'priority', 'action', 'item', 'status', 'assigned to', 'reason'];
}

export function renderList(out: Output, items: ReviewItem[], label: string): void {
  if (items.length === 0) {
    out.info(`no ${label} match`);
    return;
  }
  out.table(summaryHeaders(items[0]), items.map(summaryRow));
}

export function renderShow(out: Output, item: ReviewItem): void {
  out.line(renderItem(item, out.c));
}

export function renderDecisionReport(out: Output, report: DecisionReport, verb: string): void {
  for (const outcome of report.outcomes) {
    if (outcome.outcome === 'decided') out.success(`${verb} ${outcome.id}${outcome.auditRows ? out.ce.dim(` (${outcome.auditRows} audit row(s))`) : ''}`);
    else out.warn(outcome.message ?? `${outcome.id}: ${outcome.outcome}`);
  }
  const parts = [`${report.decided} ${verb}`];
  if (report.conflicts) parts.push(`${report.conflicts} already decided or changed by someone else`);
  if (report.notFound) parts.push(`${report.notFound} not found`);
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

// ---------------------------------------------------------------------------------------------
// The interactive screen

export interface ReviewPrompts {
  /** A line of text; undefined when the reviewer cancels. */
  text(message: string, options?: { initialValue?: string; required?: boolean }): Promise<string | undefined>;
  select<T extends string>(message: string, options: Array<{ value: T; label: string; hint?: string }>): Promise<T | undefined>;
}

export interface ReviewScreenIO {
  stdin: Readable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
}

export interface ReviewScreenOptions {
  session: ReviewSession;
  io: ReviewScreenIO;
  colors: Colors;
  /** Defaults to @clack/prompts on the same streams. */
  prompts?: ReviewPrompts;
  /** Opens `$VISUAL`/`$EDITOR` on a value; undefined means "no editor: use a prompt". */
  editText?: (initial: string, field: EditableField) => Promise<string | undefined>;
  /** Why reject is unavailable (PingToPass needs the reviewer to be a user), or undefined. */
  cannotReject?: string;
}

export function clackPrompts(io: ReviewScreenIO): ReviewPrompts {
  return {
    async text(message, options = {}) {
      const { text, isCancel } = await import('@clack/prompts');
      const answer = await text({
        message,
        initialValue: options.initialValue,
        input: io.stdin,
        output: io.stderr,
        validate: options.required ? (value) => (value && value.trim() ? undefined : 'required') : undefined,
      });
      return isCancel(answer) ? undefined : answer;
    },
    async select(message, options) {
      const { select, isCancel } = await import('@clack/prompts');
      const answer = await select({ message, options: options as never, input: io.stdin, output: io.stderr });
      return isCancel(answer) ? undefined : (answer as never);
    },
  };
}

/** `$VISUAL` / `$EDITOR` on a temporary file, with the terminal handed over while it runs. */
export function systemEditor(io: ReviewScreenIO): ((initial: string, field: EditableField) => Promise<string | undefined>) | undefined {
  const editor = io.env.VISUAL || io.env.EDITOR;
  if (!editor || !io.stdinIsTTY || io.stdin !== process.stdin) return undefined;
  return async (initial, field) => {
    const dir = mkdtempSync(join(tmpdir(), 'qbank-edit-'));
    const file = join(dir, `${field.name}.md`);
    try {
      writeFileSync(file, initial);
      const result = spawnSync(`${editor} "${file}"`, { shell: true, stdio: 'inherit' });
      if (result.status !== 0) return undefined;
      return readFileSync(file, 'utf8').replace(/\n$/, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

interface KeyPress {
  name: string;
  ctrl: boolean;
}

/**
 * One key per decision. Keys that arrive while the previous one is still being handled are
 * dropped, not queued: a key must never decide an item the reviewer has not seen yet.
 */
class KeyReader {
  private waiter: ((key: KeyPress) => void) | undefined;
  private attached = false;

  constructor(private readonly input: Readable) {
    emitKeypressEvents(input);
  }

  private rawMode(on: boolean): void {
    const tty = this.input as Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
    if (tty.isTTY && typeof tty.setRawMode === 'function') tty.setRawMode(on);
  }

  /** Ctrl-C while a write is in flight is kept: the loop stops once the write has answered. */
  private interrupted = false;

  private onKey = (text: string | undefined, key: Key | undefined) => {
    const press = { name: (key?.name ?? text ?? '').toLowerCase(), ctrl: Boolean(key?.ctrl) };
    const waiter = this.waiter;
    if (!waiter) {
      if (press.ctrl && press.name === 'c') this.interrupted = true;
      return;
    }
    this.waiter = undefined;
    waiter(press);
  };

  private onEnd = () => {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ name: 'q', ctrl: false });
  };

  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.input.on('keypress', this.onKey);
    this.input.on('end', this.onEnd);
    this.rawMode(true);
    this.input.resume();
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.input.off('keypress', this.onKey);
    this.input.off('end', this.onEnd);
    this.rawMode(false);
  }

  next(): Promise<KeyPress> {
    this.attach();
    if (this.input.readableEnded || this.interrupted) return Promise.resolve({ name: 'q', ctrl: false });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Prompts and the editor read the same stream: step aside while they run. */
  async aside<T>(work: () => Promise<T>): Promise<T> {
    this.detach();
    try {
      return await work();
    } finally {
      this.attach();
    }
  }
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.max(1, Math.round(ms / 1000))}s`;
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function progressLine(progress: SessionProgress, reviewer: string, c: Colors): string {
  const parts = [c.bold(`${progress.position} / ${progress.total}`)];
  // a pace from one or two items says nothing yet
  if (progress.perMinute && progress.handled >= 3) {
    parts.push(`pace ${progress.perMinute.toFixed(1)}/min`);
    if (progress.remainingMs !== null) parts.push(`~${duration(progress.remainingMs)} left`);
  }
  parts.push(`decided ${progress.decided}${progress.skipped ? `, skipped ${progress.skipped}` : ''}`);
  if (progress.resumed) parts.push(`resumed (${progress.decidedBefore} decided before)`);
  parts.push(`reviewer ${reviewer}`);
  return parts.join(c2sep);
}

function keyHelp(item: ReviewItem, session: ReviewSession, c: Colors, cannotReject?: string): string {
  const verbs = session.queue.verbs;
  const keys = [`${c.bold('a')} ${verbs.approve}`, cannotReject ? c.dim(`r ${verbs.reject}`) : `${c.bold('r')} ${verbs.reject}`, `${c.bold('s')} skip`];
  if (session.queue.editableFields.length) keys.push(`${c.bold('e')} edit`);
  if (item.system === 'pingtopass' && item.feedback.some((f) => f.status !== 'resolved')) keys.push(`${c.bold('f')} resolve feedback`);
  keys.push(session.canUndo ? `${c.bold('u')} undo` : c.dim('u undo'), `${c.bold('q')} quit`);
  return keys.join('   ');
}

function currentValue(item: ReviewItem, field: EditableField): string {
  const value = item.state[field.column];
  if (value === null || value === undefined) return '';
  if (field.kind === 'tags') {
    try {
      const parsed = JSON.parse(String(value));
      if (Array.isArray(parsed)) return parsed.join(', ');
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function preview(value: string): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > 50 ? flat.slice(0, 49) + '…' : flat || '(empty)';
}

/**
 * Runs the one-key review loop until the queue is empty or the reviewer quits, then closes the
 * session (releasing claims, saving the resume position) and returns its summary.
 */
export async function runReviewScreen(options: ReviewScreenOptions): Promise<SessionSummary> {
  const { session, io, colors: c } = options;
  const prompts = options.prompts ?? clackPrompts(io);
  const editText = options.editText ?? systemEditor(io);
  const write = (text: string) => io.stderr.write(text + '\n');
  const keys = new KeyReader(io.stdin);
  let notice: string | undefined;

  const draw = (item: ReviewItem) => {
    if (io.stderrIsTTY) io.stderr.write('\x1b[2J\x1b[H');
    else write(c.dim('─'.repeat(60)));
    if (notice) write(notice);
    write(progressLine(session.progress(), session.reviewer, c));
    write('');
    write(renderItem(item, c));
    write('');
    write(keyHelp(item, session, c, options.cannotReject));
  };

  const describe = (outcome: StepOutcome) => (outcome.ok ? c.green('✔ ') + outcome.message : c.yellow('✗ ') + outcome.message);

  const handle = async (key: KeyPress, item: ReviewItem): Promise<'quit' | void> => {
    if (key.name === 'q' || key.name === 'escape' || (key.ctrl && (key.name === 'c' || key.name === 'd'))) return 'quit';
    switch (key.name) {
      case 'a':
        notice = describe(await session.decide(item.queue === 'work' ? { kind: 'complete', result: JSON.stringify({ completedBy: session.reviewer }) } : { kind: 'approve' }));
        return;
      case 'r': {
        if (options.cannotReject) {
          notice = c.yellow('✗ ') + options.cannotReject;
          return;
        }
        const reason = await keys.aside(() => prompts.text(item.queue === 'work' ? `Why does work item ${item.id} fail?` : `Reason for rejecting ${item.id}`, { required: true }));
        if (reason === undefined) {
          notice = c.dim('rejection cancelled');
          return;
        }
        notice = describe(await session.decide(item.queue === 'work' ? { kind: 'fail', reason } : { kind: 'reject', reason }));
        return;
      }
      case 's':
        notice = describe(await session.skip());
        return;
      case 'u':
        notice = describe(await session.undo());
        return;
      case 'e': {
        const fields = session.queue.editableFields;
        if (fields.length === 0) {
          notice = c.dim('nothing to edit on a work-queue item');
          return;
        }
        const edited = await keys.aside(async () => {
          const name = await prompts.select(
            `Edit which field of ${item.id}?`,
            fields.map((f) => ({ value: f.name, label: f.name, hint: preview(currentValue(item, f)) })),
          );
          const field = fields.find((f) => f.name === name);
          if (!field) return undefined;
          const initial = currentValue(item, field);
          let value: string | undefined;
          if (field.kind === 'choice') value = await prompts.select(`${field.name}`, (field.choices ?? []).map((choice) => ({ value: choice, label: choice })));
          else if (field.kind === 'multiline' && editText) value = await editText(initial, field);
          else value = await prompts.text(`${field.name}${field.kind === 'tags' ? ' (comma-separated)' : ''}`, { initialValue: initial, required: !field.nullable });
          if (value === undefined || value === initial) return undefined;
          return { field, value };
        });
        notice = edited ? describe(await session.edit(edited.field, edited.value)) : c.dim('nothing edited');
        return;
      }
      case 'f': {
        if (item.system !== 'pingtopass') return;
        const open = item.feedback.filter((f) => f.status !== 'resolved');
        if (open.length === 0) {
          notice = c.dim('no open feedback on this question');
          return;
        }
        const answer = await keys.aside(async () => {
          const id =
            open.length === 1
              ? open[0].id
              : await prompts.select(
                  'Resolve which feedback?',
                  open.map((f) => ({ value: f.id, label: `${f.type}: ${preview(f.message)}`, hint: f.userEmail ?? f.userId })),
                );
          if (!id) return undefined;
          const response = await prompts.text(`Response to ${open.find((f) => f.id === id)?.userEmail ?? 'the user'}`, { required: true });
          return response === undefined ? undefined : { id, response };
        });
        notice = answer ? describe(await session.resolveFeedback(answer.id, answer.response)) : c.dim('nothing resolved');
        return;
      }
      case 'h':
      case '?':
        notice = c.dim(
          `a ${session.queue.verbs.approve} · r ${session.queue.verbs.reject} (asks for a reason) · s skip · e edit a field · f resolve feedback · u undo the last action · q quit (resumes here next time)`,
        );
        return;
      default:
        notice = c.dim(`unknown key "${key.name}" — press ? for help`);
    }
  };

  try {
    if (!session.current) write(`nothing to review: no ${session.queue.label} match`);
    for (;;) {
      const item = session.current;
      if (!item) {
        // the last decision can still be taken back before the session ends
        if (!session.canUndo) break;
        if (notice) write(notice);
        write(`${c.bold('no more items')}: ${c.bold('u')} undo ${session.lastAction}, any other key to finish`);
        notice = undefined;
        const key = await keys.next();
        if (key.name !== 'u' || key.ctrl) break;
        notice = describe(await session.undo());
        continue;
      }
      draw(item);
      notice = undefined;
      const key = await keys.next();
      try {
        if ((await handle(key, item)) === 'quit') break;
      } catch (error) {
        notice = c.red('error: ') + (error as Error).message + c.dim(' — the item is still here; try again, or q to quit');
      }
    }
  } finally {
    keys.detach();
    io.stdin.pause();
  }
  if (notice) write(notice);
  const summary = await session.close();
  write(summaryLine(summary, c));
  for (const warning of summary.warnings) write(c.yellow('warning: ') + warning);
  return summary;
}

export function summaryLine(summary: SessionSummary, c: Colors): string {
  const decided = `decided ${summary.decided} (${summary.approved} approved, ${summary.rejected} rejected)`;
  const rest = [summary.skipped ? `skipped ${summary.skipped}` : null, summary.conflicts ? `${summary.conflicts} taken by someone else` : null, summary.edits ? `${summary.edits} edit(s)` : null]
    .filter(Boolean)
    .join(', ');
  const pace = summary.perMinute ? ` · ${summary.perMinute.toFixed(1)}/min` : '';
  const end = summary.finished ? 'the queue is empty' : 'run `qbank review` again to resume where you stopped';
  return `${c.green('✔')} ${decided}${rest ? ', ' + rest : ''} in ${duration(summary.elapsedMs)}${pace}; ${end}`;
}
