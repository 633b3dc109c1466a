import type { ReviewSession, SessionProgress, SessionSummary, StepOutcome } from '../../db/review/session.js';
import type { ReviewItem } from '../../db/review/types.js';
import { editItem } from './edit.js';
import { claimText, DEFAULT_WIDTH, renderItem, renderItemLines, SEPARATOR, type Colors } from './render.js';
import { clackPrompts, KeyReader, systemEditor, type KeyPress, type ReviewPrompts, type ReviewScreenIO, type TextEditor } from './terminal.js';
import { contentOffset, frame, lineAtOffset, scrolled, scrollMoveOf, terminalSize, type TerminalSize } from './viewport.js';

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

function keyHelp(item: ReviewItem, session: ReviewSession, c: Colors, cannotReject?: string): string[] {
  const verbs = session.queue.verbs;
  const keys = [`${c.bold('a')} ${verbs.approve}`, cannotReject ? c.dim(`r ${verbs.reject}`) : `${c.bold('r')} ${verbs.reject}`, `${c.bold('s')} skip`];
  if (session.queue.fieldsOf(item).length) keys.push(`${c.bold('e')} edit`);
  if (item.system === 'pingtopass' && item.feedback.some((f) => f.status !== 'resolved')) keys.push(`${c.bold('f')} resolve feedback`);
  keys.push(session.canUndo ? `${c.bold('u')} undo` : c.dim('u undo'), `${c.bold('q')} quit`);
  return keys;
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

/** What is on screen now, to scroll it and to draw it again at a new size. */
interface View {
  item: ReviewItem;
  notice?: string;
  /** The item's lines at `size`, and the first one shown. */
  body: string[];
  top: number;
  paneHeight: number;
  size: TerminalSize;
}

interface ScreenState {
  options: ReviewScreenOptions;
  session: ReviewSession;
  c: Colors;
  prompts: ReviewPrompts;
  editText: TextEditor;
  keys: KeyReader;
  write: (text: string) => void;
  view?: View;
  /** A full-screen frame ends on the key line, with no newline: what follows starts a line first. */
  onKeyLine: boolean;
  /** True while the loop waits for a key: a resize redraws only then (not under a prompt or editor). */
  waiting: boolean;
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
  c.dim(`a ${session.queue.verbs.approve} · r ${session.queue.verbs.reject} (asks for a reason) · s skip · e edit a field · f resolve feedback · u undo the last action · q quit (resumes here next time) · space/j b/k g/G scroll the item`);

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

const sameItem = (a: ReviewItem, b: ReviewItem) => a.queue === b.queue && a.id === b.id;

function headerLine(state: ScreenState, item: ReviewItem, now: Date): string {
  const { session, c } = state;
  const claim = item.queue === 'work' ? claimText(item, now) : null;
  return progressLine(session.progress(), session.reviewer, c) + (claim ? SEPARATOR + c.cyan(claim) : '');
}

/** Where the pane starts for `body`: the same content as before for the same item, else the top. */
function topFor(previous: View | undefined, item: ReviewItem, body: string[], size: TerminalSize): number {
  if (!previous || !sameItem(previous.item, item)) return 0;
  if (previous.size.columns === size.columns) return previous.top;
  return lineAtOffset(body, contentOffset(previous.body, previous.top));
}

/** A screen of unknown size (not a terminal, or one that does not say): the whole item, one line after another. */
function drawLines(state: ScreenState, item: ReviewItem, notice: string | undefined, now: Date): void {
  const { write, session, c, options } = state;
  if (options.io.stderrIsTTY) options.io.stderr.write('\x1b[2J\x1b[H');
  else write(c.dim('─'.repeat(60)));
  write(headerLine(state, item, now));
  write('');
  write(renderItem(item, c, now, DEFAULT_WIDTH));
  write('');
  // next to the keys, where the reviewer looks: a long item cannot scroll it out of sight
  if (notice) write(notice);
  write(keyHelp(item, session, c, options.cannotReject).join('   '));
}

function draw(state: ScreenState, item: ReviewItem, notice: string | undefined): void {
  const { session, c, options } = state;
  const now = options.clock?.() ?? new Date();
  const size = terminalSize(options.io.stderr, options.io.stderrIsTTY);
  if (!size) {
    drawLines(state, item, notice, now);
    return;
  }
  const body = renderItemLines(item, c, { now, width: size.columns });
  const top = topFor(state.view, item, body, size);
  const screen = frame({ size, header: headerLine(state, item, now), body, notice, keys: keyHelp(item, session, c, options.cannotReject), top, dim: c.dim });
  options.io.stderr.write('\x1b[H\x1b[2J' + screen.text);
  state.onKeyLine = true;
  state.view = { item, notice, body, top: screen.top, paneHeight: screen.paneHeight, size };
}

/** The scroll keys move the pane of the item on screen; true when the key was one. */
function scroll(state: ScreenState, key: KeyPress): boolean {
  const move = scrollMoveOf(key);
  const view = state.view;
  if (!move || !view) return false;
  view.top = scrolled(view.top, move, view.paneHeight, view.body.length);
  draw(state, view.item, view.notice);
  return true;
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

/** Waits for a key, drawing the screen again at a new size meanwhile; scroll keys are handled here. */
async function nextKey(state: ScreenState): Promise<KeyPress> {
  state.waiting = true;
  try {
    for (;;) {
      const key = await state.keys.next();
      if (!scroll(state, key)) return key;
    }
  } finally {
    state.waiting = false;
  }
}

/** Prompts and the editor start on a line of their own, below the key line. */
function leaveKeyLine(state: ScreenState): void {
  if (!state.onKeyLine) return;
  state.options.io.stderr.write('\n');
  state.onKeyLine = false;
}

/**
 * Runs the one-key review loop until the queue is empty or the reviewer quits, then closes the
 * session (releasing claims, saving the resume position) and returns its summary.
 */
export async function runReviewScreen(options: ReviewScreenOptions): Promise<SessionSummary> {
  const { session, io, colors: c } = options;
  const state: ScreenState = {
    options,
    session,
    c,
    prompts: options.prompts ?? clackPrompts(io),
    editText: options.editText ?? systemEditor(io),
    keys: new KeyReader(io.stdin),
    write: (text: string) => {
      io.stderr.write((state.onKeyLine ? '\n' : '') + text + '\n');
      state.onKeyLine = false;
    },
    onKeyLine: false,
    waiting: false,
  };
  const write = state.write;
  const redrawAtNewSize = () => {
    if (state.waiting && state.view) draw(state, state.view.item, state.view.notice);
  };
  io.stderr.on('resize', redrawAtNewSize);
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
      draw(state, session.current ?? item, notice);
      notice = undefined;
      const key = await nextKey(state);
      if (isQuit(key)) break;
      leaveKeyLine(state);
      const action = ACTIONS[key.name];
      try {
        notice = action ? await action(state, item) : c.dim(`unknown key "${key.name}" — press ? for help`);
      } catch (error) {
        notice = c.red('error: ') + (error as Error).message + c.dim(' — the item is still here; try again, or q to quit');
      }
    }
  } finally {
    io.stderr.off('resize', redrawAtNewSize);
    state.keys.detach();
    io.stdin.pause();
  }
  if (notice) write(notice);
  const summary = await session.close();
  write(summaryLine(summary, c, { queue: session.queue.name, resumeCommand: options.resumeCommand }));
  for (const warning of summary.warnings) write(c.yellow('warning: ') + warning);
  return summary;
}
