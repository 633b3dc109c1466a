import type { ReviewSession, SessionProgress, SessionSummary, StepOutcome } from '../../db/review/session.js';
import type { ReviewItem } from '../../db/review/types.js';
import { editItem } from './edit.js';
import { claimText, renderItem, SEPARATOR, type Colors } from './render.js';
import { clackPrompts, KeyReader, systemEditor, type KeyPress, type ReviewPrompts, type ReviewScreenIO, type TextEditor } from './terminal.js';

/** The interactive `qbank review`: one key per action, read by a loop that looks the key up in a table. */

export interface ReviewScreenOptions {
  session: ReviewSession;
  io: ReviewScreenIO;
  colors: Colors;
  /** Defaults to @clack/prompts on the same streams. */
  prompts?: ReviewPrompts;
  /** Edits multi-line text; defaults to $VISUAL / $EDITOR / vi / nano on a temporary file. */
  editText?: TextEditor;
  /** Why reject is unavailable (PingToPass needs the reviewer to be a user), or undefined. */
  cannotReject?: string;
  /** The command that resumes this session, for the closing line ("qbank review --queue work"). */
  resumeCommand?: string;
  clock?: () => Date;
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
  return parts.join(SEPARATOR);
}

function keyHelp(item: ReviewItem, session: ReviewSession, c: Colors, cannotReject?: string): string {
  const verbs = session.queue.verbs;
  const keys = [`${c.bold('a')} ${verbs.approve}`, cannotReject ? c.dim(`r ${verbs.reject}`) : `${c.bold('r')} ${verbs.reject}`, `${c.bold('s')} skip`];
  if (session.queue.fieldsOf(item).length) keys.push(`${c.bold('e')} edit`);
  if (item.system === 'pingtopass' && item.feedback.some((f) => f.status !== 'resolved')) keys.push(`${c.bold('f')} resolve feedback`);
  keys.push(session.canUndo ? `${c.bold('u')} undo` : c.dim('u undo'), `${c.bold('q')} quit`);
  return keys.join('   ');
}

/** What the closing line says: counts in the queue's own words, and what is still waiting. */
export function summaryLine(summary: SessionSummary, c: Colors, options: { queue?: string; resumeCommand?: string } = {}): string {
  const work = options.queue === 'work';
  const decided = work
    ? `handled ${summary.decided} (${summary.approved} completed, ${summary.rejected} failed)`
    : `decided ${summary.decided} (${summary.approved} approved, ${summary.rejected} rejected)`;
  const rest = [summary.skipped ? `skipped ${summary.skipped}` : null, summary.conflicts ? `${summary.conflicts} taken by someone else` : null, summary.edits ? `${summary.edits} edit(s)` : null]
    .filter(Boolean)
    .join(', ');
  const pace = summary.perMinute ? ` · ${summary.perMinute.toFixed(1)}/min` : '';
  const resume = options.resumeCommand ?? (work ? 'qbank review --queue work' : 'qbank review');
  let end: string;
  if (!summary.finished) end = `run \`${resume}\` again to resume where you stopped`;
  else if (summary.skipped > 0) end = `${summary.skipped} skipped item(s) are still waiting in the queue; run \`${resume}\` again to see them`;
  else end = 'the queue is empty';
  return `${c.green('✔')} ${decided}${rest ? ', ' + rest : ''} in ${duration(summary.elapsedMs)}${pace}; ${end}`;
}

interface ScreenState {
  options: ReviewScreenOptions;
  session: ReviewSession;
  c: Colors;
  prompts: ReviewPrompts;
  editText: TextEditor;
  keys: KeyReader;
  write: (text: string) => void;
}

type KeyAction = (state: ScreenState, item: ReviewItem) => Promise<string>;

const describe = (c: Colors, outcome: StepOutcome) => (outcome.ok ? c.green('✔ ') + outcome.message : c.yellow('✗ ') + outcome.message);

const approve: KeyAction = async ({ session, c }, item) =>
  describe(c, await session.decide(item.queue === 'work' ? { kind: 'complete', result: JSON.stringify({ completedBy: session.reviewer }) } : { kind: 'approve' }));

const reject: KeyAction = async ({ session, c, keys, prompts, options }, item) => {
  if (options.cannotReject) return c.yellow('✗ ') + options.cannotReject;
  const reason = await keys.aside(() => prompts.text(item.queue === 'work' ? `Why does work item ${item.id} fail?` : `Reason for rejecting ${item.id}`, { required: true }));
  if (reason === undefined) return c.dim('rejection cancelled');
  return describe(c, await session.decide(item.queue === 'work' ? { kind: 'fail', reason } : { kind: 'reject', reason }));
};

const resolveFeedback: KeyAction = async ({ session, c, keys, prompts }, item) => {
  if (item.system !== 'pingtopass') return c.dim('feedback belongs to PingToPass questions');
  const open = item.feedback.filter((f) => f.status !== 'resolved');
  if (open.length === 0) return c.dim('no open feedback on this question');
  const answer = await keys.aside(async () => {
    const id =
      open.length === 1
        ? open[0].id
        : await prompts.select(
            'Resolve which feedback?',
            open.map((f) => ({ value: f.id, label: `${f.type}: ${f.message.replace(/\s+/g, ' ').slice(0, 50)}`, hint: f.userEmail ?? f.userId })),
          );
    if (!id) return undefined;
    const response = await prompts.text(`Response to ${open.find((f) => f.id === id)?.userEmail ?? 'the user'}`, { required: true });
    return response === undefined ? undefined : { id, response };
  });
  return answer ? describe(c, await session.resolveFeedback(answer.id, answer.response)) : c.dim('nothing resolved');
};

const help: KeyAction = async ({ session, c }) =>
  c.dim(`a ${session.queue.verbs.approve} · r ${session.queue.verbs.reject} (asks for a reason) · s skip · e edit a field · f resolve feedback · u undo the last action · q quit (resumes here next time)`);

const ACTIONS: Record<string, KeyAction> = {
  a: approve,
  r: reject,
  s: async ({ session, c }) => describe(c, await session.skip()),
  u: async ({ session, c }) => describe(c, await session.undo()),
  e: (state, item) => state.keys.aside(() => editItem({ ...state, colors: state.c }, item)),
  f: resolveFeedback,
  h: help,
  '?': help,
};

const isQuit = (key: KeyPress) => key.name === 'q' || key.name === 'escape' || (key.ctrl && (key.name === 'c' || key.name === 'd'));

function draw(state: ScreenState, item: ReviewItem, notice: string | undefined, stderrIsTTY: boolean): void {
  const { write, session, c, options } = state;
  const now = options.clock?.() ?? new Date();
  if (stderrIsTTY) state.options.io.stderr.write('\x1b[2J\x1b[H');
  else write(c.dim('─'.repeat(60)));
  const claim = item.queue === 'work' ? claimText(item, now) : null;
  write(progressLine(session.progress(), session.reviewer, c) + (claim ? SEPARATOR + c.cyan(claim) : ''));
  write('');
  write(renderItem(item, c, now));
  write('');
  // next to the keys, where the reviewer looks: a long item cannot scroll it out of sight
  if (notice) write(notice);
  write(keyHelp(item, session, c, options.cannotReject));
}

/** After the last item: the last action can still be taken back before the session ends. Returns false to finish. */
async function offerUndo(state: ScreenState, notice: string | undefined): Promise<{ again: boolean; notice?: string }> {
  const { session, c, write, keys } = state;
  if (!session.canUndo) return { again: false, notice };
  if (notice) write(notice);
  write(`${c.bold('no more items')}: ${c.bold('u')} undo ${session.lastAction}, any other key to finish`);
  const key = await keys.next();
  if (key.name !== 'u' || key.ctrl) return { again: false };
  return { again: true, notice: describe(c, await session.undo()) };
}

/**
 * Runs the one-key review loop until the queue is empty or the reviewer quits, then closes the
 * session (releasing claims, saving the resume position) and returns its summary.
 */
export async function runReviewScreen(options: ReviewScreenOptions): Promise<SessionSummary> {
  const { session, io, colors: c } = options;
  const write = (text: string) => io.stderr.write(text + '\n');
  const state: ScreenState = { options, session, c, prompts: options.prompts ?? clackPrompts(io), editText: options.editText ?? systemEditor(io), keys: new KeyReader(io.stdin), write };
  let notice: string | undefined;
  try {
    if (!session.current) write(`nothing to review: no ${session.queue.label} match`);
    for (;;) {
      const item = session.current;
      if (!item) {
        const next = await offerUndo(state, notice);
        notice = next.notice;
        if (!next.again) break;
        continue;
      }
      // a work item is shown with its claim (or who holds it), not before the claim has answered
      const lostClaim = item.queue === 'work' ? await session.claimSettled() : undefined;
      if (lostClaim) notice = [notice, c.yellow('✗ ') + lostClaim.message].filter(Boolean).join('\n');
      draw(state, session.current ?? item, notice, io.stderrIsTTY);
      notice = undefined;
      const key = await state.keys.next();
      if (isQuit(key)) break;
      const action = ACTIONS[key.name];
      try {
        notice = action ? await action(state, item) : c.dim(`unknown key "${key.name}" — press ? for help`);
      } catch (error) {
        notice = c.red('error: ') + (error as Error).message + c.dim(' — the item is still here; try again, or q to quit');
      }
    }
  } finally {
    state.keys.detach();
    io.stdin.pause();
  }
  if (notice) write(notice);
  const summary = await session.close();
  write(summaryLine(summary, c, { queue: session.queue.name, resumeCommand: options.resumeCommand }));
  for (const warning of summary.warnings) write(c.yellow('warning: ') + warning);
  return summary;
}
