import { type Command, Option } from 'commander';
import { InvalidInputError, RefusedError, UsageError, type QbankError } from '../errors.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { collect, requirePositiveInteger } from './flags.js';

interface ReviewOptions {
  reviewer?: string;
  queue?: string;
  exam?: string;
  channel?: string;
  objective?: string;
  difficulty?: string;
  aiGenerated?: boolean;
  tag?: string[];
  action?: string;
  limit?: string;
  lease?: string;
  restart?: boolean;
}

/** The flag behind each filter the review service names in its errors. */
const FILTER_FLAGS: Record<string, string> = {
  exam: '--exam',
  examId: '--exam',
  channel: '--channel',
  objective: '--objective',
  difficulty: '--difficulty',
  aiGenerated: '--ai-generated',
  tags: '--tag',
  action: '--action',
};

/** The service says what went wrong in its own terms; here it is said in the flags that would fix it. */
async function inFlagTerms(error: unknown): Promise<unknown> {
  const errors = await import('../db/review/errors.js');
  if (error instanceof errors.FilterNotApplicableError) {
    const usable = error.applicable.map((filter) => FILTER_FLAGS[filter] ?? filter).join(', ');
    return new UsageError(`${FILTER_FLAGS[error.filter] ?? error.filter} does not apply to the ${error.queue} queue of ${error.system}; it takes ${usable}`);
  }
  if (error instanceof errors.FilterValueError) return new UsageError(`${FILTER_FLAGS[error.filter] ?? error.filter} takes ${error.allowed}, not "${error.value}"`);
  if (error instanceof errors.UnknownQueueError) return new UsageError(`--queue ${error.queue} does not exist for ${error.system}; its queues: ${error.queues.join(', ')}`);
  if (error instanceof errors.UnknownExamError) return new UsageError(`--exam: ${error.message}`, { hint: error.hint });
  if (error instanceof errors.ReviewerNotAUserError) {
    return new RefusedError(error.message, { hint: 'review as an existing user with --reviewer EMAIL (or add the reviewer to the users table)' });
  }
  return error;
}

/** Every review action, with service errors worded in flags. */
function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      throw await inFlagTerms(error);
    }
  };
}

/** Everything a review subcommand needs, resolved once: database, system, reviewer, queue. */
async function prepare(context: CommandContext, command: Command, access: 'read' | 'write', out: Output, needs: { reviewer: boolean }) {
  const options = command.optsWithGlobals() as ReviewOptions;
  const limit = requirePositiveInteger('--limit', options.limit);
  const leaseMinutes = requirePositiveInteger('--lease', options.lease) ?? 15;
  const { database, config } = await context.database(command, access, out);
  // a named system is checked against the database's tables too (one catalogue read)
  const system = await context.system(database, config);
  const { resolveReviewer, systemLookups } = await import('../db/review/reviewer.js');
  const reviewer =
    needs.reviewer || options.queue === 'work' ? (await resolveReviewer(options.reviewer, systemLookups({ cwd: context.io.cwd, env: context.io.env }))).name : options.reviewer ?? '';
  const actionContext = () => ({ reviewer, now: context.io.now(), leaseMs: leaseMinutes * 60_000 });
  const filters = {
    exam: options.exam,
    channel: options.channel,
    objective: options.objective,
    difficulty: options.difficulty,
    aiGenerated: options.aiGenerated,
    tags: options.tag,
    action: options.action,
  };
  const openQueue = async (queueName = options.queue) => {
    const { openReviewQueue } = await import('../db/review/queues.js');
    return openReviewQueue(database, { system, queue: queueName, filters, viewer: actionContext });
  };
  return { options, limit, database, config, system, reviewer, actionContext, openQueue };
}

/**
 * A decision report that did not decide everything exits non-zero: 3 when an id names no item
 * (the rule for "no such item" across qbank), else 5 for items someone else decided first. With
 * --json the report carries the error, so stdout stays one document.
 */
function outcomeError(report: import('../db/review/service.js').DecisionReport): QbankError | undefined {
  const unknown = report.outcomes.filter((o) => o.outcome === 'not-found').map((o) => o.id);
  const taken = report.outcomes.filter((o) => o.outcome === 'conflict');
  if (unknown.length > 0) return new InvalidInputError(`no such item: ${unknown.join(', ')}`, { details: taken.map((o) => o.message ?? o.id) });
  if (taken.length > 0) return new RefusedError(`${taken.length} of ${report.outcomes.length} not changed: decided or changed by someone else first`, { details: taken.map((o) => o.message ?? o.id) });
  return undefined;
}

function renderOutcome(out: Output, report: import('../db/review/service.js').DecisionReport, render: () => Promise<void>): Promise<void> | void {
  const error = outcomeError(report);
  if (out.json) {
    out.data(error ? { ...report, error: { message: error.message, kind: error.name, exitCode: error.exitCode, details: error.details ?? [] } } : report);
    if (error) throw error;
    return;
  }
  return render().then(() => {
    if (error) throw error;
  });
}

function bulkQuestion(verb: string, plan: import('../db/review/service.js').BulkPlan, label: string): string {
  const first = plan.firstIds.join(', ') + (plan.count > plan.firstIds.length ? ', …' : '');
  const of = plan.count < plan.matching ? ` of the ${plan.matching.toLocaleString('en-US')} matching` : '';
  return `${verb} ${plan.count.toLocaleString('en-US')}${of} ${label} (${first})?`;
}

/** `qbank review` at a terminal: the one-key screen over a session of the chosen queue. */
async function runInteractive(context: CommandContext, command: Command): Promise<void> {
  const out = context.output(command);
  if (!out.interactive) {
    throw new UsageError('`qbank review` is the interactive reviewer and needs a terminal (stdin and stderr a TTY, not CI, no --json)', {
      hint: 'for scripts: qbank review list | show ID | approve ID... | reject ID... --reason TEXT | reopen ID... --reason TEXT | stats | claim | complete ID --result JSON | fail ID --result TEXT',
    });
  }
  const setup = await prepare(context, command, 'write', out, { reviewer: true });
  const queue = await setup.openQueue();
  const { requireWriteAccess } = await import('../db/client.js');
  requireWriteAccess(setup.database, 'review');
  const [{ ReviewSession }, { fileResumeStore, stateDirectory }, { runReviewScreen }, { reviewerIsUser }] = await Promise.all([
    import('../db/review/session.js'),
    import('../db/review/resume-state.js'),
    import('../output/review-screen.js'),
    import('../db/review/service.js'),
  ]);
  let cannotReject: string | undefined;
  if (setup.system === 'pingtopass' && !(await reviewerIsUser(setup.database, setup.reviewer))) {
    cannotReject = `reject is off: the reason is kept as a feedback row, which needs a PingToPass user, and no user has the email "${setup.reviewer}" (use --reviewer EMAIL)`;
    out.warn(cannotReject);
  }
  const store = fileResumeStore({
    directory: stateDirectory(context.io.env),
    databaseUrl: setup.database.displayUrl,
    reviewer: setup.reviewer,
    queue: `${setup.system}/${queue.name}`,
  });
  const session = await ReviewSession.start({
    database: setup.database,
    queue,
    reviewer: setup.reviewer,
    clock: context.io.now,
    leaseMs: setup.actionContext().leaseMs,
    store,
    databaseUrl: setup.database.displayUrl,
    restart: setup.options.restart,
    limit: setup.limit,
  });
  const resumeCommand = queue.name === 'work' ? 'qbank review --queue work' : 'qbank review';
  await runReviewScreen({ session, io: context.io, colors: out.ce, cannotReject, resumeCommand, clock: context.io.now });
}

export function registerReviewCommands(program: Command, context: CommandContext): void {
  const review = program
    .command('review')
    .description('review queue: one key per decision at a terminal; list, show, approve, reject, reopen, stats and work-queue verbs for scripts')
    .option('--reviewer <name>', 'who is deciding (default: git config user.email, else the OS user)')
    .option('--queue <name>', 'pingtopass: pending; open-interview: flagged (default) or work')
    .option('--exam <code>', 'PingToPass: only this exam (code or id)')
    .option('--channel <channel>', 'open-interview: only this channel')
    .option('--objective <id>', 'PingToPass: only this exam objective')
    .option('--difficulty <level>', 'PingToPass 1-5; open-interview beginner|intermediate|advanced')
    .option('--ai-generated', 'PingToPass: only AI-generated questions')
    .option('--tag <tag>', 'only questions with this tag (repeat for several)', collect)
    .addOption(new Option('--action <action>', 'work queue: only this action').choices(['improve', 'delete', 'verify', 'enrich']))
    .option('--limit <n>', 'at most this many items (list: 50; approve/reject --all-matching: the first n)')
    .option('--lease <minutes>', 'work queue: how long a claim keeps other reviewers out', '15')
    .option('--restart', 'start from the head of the queue, not where you stopped')
    .addHelpText(
      'after',
      examples([
        ['qbank review', 'review pending questions, one key per decision'],
        ['qbank review --exam CCNA-200-301 --ai-generated', 'only AI-generated CCNA questions'],
        ['qbank review list --json', 'the queue, for scripts'],
        ['qbank review approve q_1 q_2', 'approve two questions'],
        ['qbank review reject q_3 --reason "two correct options"', 'reject with a reason'],
        ['qbank review approve --all-matching --tag osi --yes', 'approve everything tagged osi, in CI'],
        ['qbank review reopen q_1 --reason "key is wrong"', 'take a decision back'],
        ['qbank review claim --json', 'open-interview: claim the next work item'],
      ]) +
        '\nKeys: a approve · r reject (asks for a reason) · s skip · e edit a field · f resolve feedback · u undo · q quit.\n' +
        'e opens multi-line text in $VISUAL, else $EDITOR, else vi or nano; an edit that removes more than a third of a field is shown and confirmed first.\n' +
        'Every decision only applies if nobody changed the item since it was shown; otherwise you are told who and when.\n',
    )
    .action(action((_options: ReviewOptions, command: Command) => runInteractive(context, command)));

  registerReadVerbs(review, context);
  registerDecisionVerbs(review, context);
  registerReopen(review, context);

  registerWorkVerbs(review, context);

  registerResolve(review, context);
}

function registerReadVerbs(review: Command, context: CommandContext): void {
  review
    .command('list')
    .description('the items waiting in the queue, in review order (at most --limit, 50 by default; stderr says when there are more)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples([
        ['qbank review list --exam CCNA-200-301 --limit 20', 'the next 20 CCNA questions'],
        ['qbank review list --queue work --json', 'open-interview work items, by priority'],
        ['qbank review list --json | jq .total', 'how many items wait'],
      ]),
    )
    .action(
      action(async (_options: unknown, command: Command) => {
        const out = context.output(command);
        const setup = await prepare(context, command, 'read', out, { reviewer: false });
        const queue = await setup.openQueue();
        const [{ listQueue }, { publicView }, render] = await Promise.all([import('../db/review/service.js'), import('../db/review/types.js'), import('../output/review-screen.js')]);
        const listed = await listQueue(setup.database, queue, setup.limit ?? 50);
        const now = context.io.now();
        if (out.json) {
          out.data({ items: listed.items.map((item) => publicView(item, now)), total: listed.total, limit: listed.limit, truncated: listed.total > listed.items.length });
          if (listed.total > listed.items.length) out.info(render.truncationNote(listed));
          return;
        }
        render.renderList(out, listed, queue.label, now);
      }),
    );

  review
    .command('show')
    .description('one question or work item in full, whatever its status: options, explanation, review status, feedback or history')
    .argument('<id>', 'question id (open-interview: or work item number)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples([
        ['qbank review show q_123', 'the question, its options and who reviewed it'],
        ['qbank review show q_123 --json', 'the same as JSON (review.status, review.by, review.at, review.reason)'],
        ['qbank review show 12 --queue work', 'open-interview work item 12'],
      ]),
    )
    .action(
      action(async (id: string, _options: unknown, command: Command) => {
        const out = context.output(command);
        const setup = await prepare(context, command, 'read', out, { reviewer: false });
        const [{ showItem }, { queueNameFor }, { publicView }] = await Promise.all([import('../db/review/service.js'), import('../db/review/queues.js'), import('../db/review/types.js')]);
        const queue = setup.options.queue === undefined ? undefined : queueNameFor(setup.system, setup.options.queue);
        const item = await showItem(setup.database, setup.system, id, { queue, viewer: setup.actionContext });
        if (out.json) return out.data(publicView(item, context.io.now()));
        const { renderShow } = await import('../output/review-screen.js');
        renderShow(out, item, context.io.now());
      }),
    );

  review
    .command('stats')
    .description('counts by status, and by exam (PingToPass) or channel and work-queue status (open-interview)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples([['qbank review stats', 'questions by review status and by exam'], ['qbank review stats --json', 'the same, for scripts']]))
    .action(
      action(async (_options: unknown, command: Command) => {
        const out = context.output(command);
        const setup = await prepare(context, command, 'read', out, { reviewer: false });
        const { reviewStats } = await import('../db/review/service.js');
        const stats = await reviewStats(setup.database, setup.system, context.io.now());
        if (out.json) return out.data(stats);
        const { renderStats } = await import('../output/review-screen.js');
        renderStats(out, stats);
      }),
    );
}

function registerResolve(review: Command, context: CommandContext): void {
  review
    .command('resolve')
    .description("PingToPass: answer a user's feedback about a question and mark it resolved")
    .argument('<feedback-id>', 'feedback id (review show ID lists them)')
    .requiredOption('--response <text>', 'the answer the user will see')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples([['qbank review resolve fb_1 --response "Fixed, thanks!"', 'answer and close feedback fb_1']]))
    .action(
      action(async (feedbackId: string, options: { response: string }, command: Command) => {
        const out = context.output(command);
        const setup = await prepare(context, command, 'write', out, { reviewer: false });
        if (setup.system !== 'pingtopass') throw new UsageError('feedback belongs to PingToPass; open-interview has none');
        const { resolveFeedback } = await import('../db/review/service.js');
        const feedback = await resolveFeedback(setup.database, feedbackId, options.response);
        if (out.json) return out.data(feedback);
        out.success(`resolved feedback ${feedbackId}${feedback.userEmail ? ` from ${feedback.userEmail}` : ''}`);
      }),
    );
}

function registerDecisionVerbs(review: Command, context: CommandContext): void {
  for (const verb of ['approve', 'reject'] as const) {
    const decide = review
      .command(verb)
      .description(verb === 'approve' ? 'approve items (open-interview flagged: back to active; work: complete)' : 'reject items with a reason (open-interview flagged: delete; work: fail)')
      .argument('[ids...]', 'question ids or work item numbers')
      .option('--all-matching', 'every item the filters match, at most --limit (asks first at a terminal, with the count and the first ids)')
      .option('-y, --yes', 'confirm --all-matching without a prompt')
      .configureHelp({ showGlobalOptions: true });
    if (verb === 'reject') decide.option('--reason <text>', 'why (required): PingToPass keeps it as a feedback row, open-interview in the audit rows');
    decide.addHelpText(
      'after',
      examples(
        verb === 'approve'
          ? [
              ['qbank review approve q_1 q_2', 'approve two questions (exit 3 if an id names no question, 5 if one was decided already)'],
              ['qbank review approve --all-matching --exam CCNA-200-301 --difficulty 2 --limit 20', 'the first 20 matching, after a prompt'],
              ['qbank review approve --all-matching --tag osi --yes --json', 'in CI'],
            ]
          : [
              ['qbank review reject q_3 --reason "two correct options"', 'reject one question'],
              ['qbank review reject --all-matching --exam AZ-900 --ai-generated --reason "old model" --yes', 'in CI'],
            ],
      ),
    );
    decide.action(
      action(async (ids: string[], options: { allMatching?: boolean; yes?: boolean; reason?: string }, command: Command) => {
        const out = context.output(command);
        if (verb === 'reject' && !options.reason?.trim()) throw new UsageError('reject needs --reason TEXT');
        if (options.allMatching && ids.length > 0) throw new UsageError('give ids or --all-matching, not both');
        if (!options.allMatching && ids.length === 0) throw new UsageError(`${verb} needs at least one id, or --all-matching with filters`);
        const setup = await prepare(context, command, 'write', out, { reviewer: true });
        const queue = await setup.openQueue();
        const decision = verb === 'approve' ? { kind: 'approve' as const } : { kind: 'reject' as const, reason: options.reason!.trim() };
        const service = await import('../db/review/service.js');
        const title = verb === 'approve' ? 'Approve' : 'Reject';
        const report = options.allMatching
          ? await service.decideAllMatching(setup.database, queue, decision, setup.actionContext(), `review ${verb}`, {
              limit: setup.limit,
              confirm: async (plan) => {
                const question = bulkQuestion(title, plan, queue.label);
                if (options.yes) {
                  out.info(question.replace(/\?$/, ''));
                  return true;
                }
                return out.confirm(question);
              },
              onProgress: (() => {
                const bar = out.progress(verb, undefined);
                return (done: number) => bar.update(done);
              })(),
            })
          : await service.decideItems(setup.database, queue, ids, decision, setup.actionContext(), `review ${verb}`);
        const { renderDecisionReport } = await import('../output/review-screen.js');
        await renderOutcome(out, report, async () => renderDecisionReport(out, report, verb === 'approve' ? 'approved' : 'rejected'));
      }),
    );
  }
}

function registerReopen(review: Command, context: CommandContext): void {
  review
    .command('reopen')
    .description('take decisions back: decided questions return to pending (open-interview: flagged; work items: pending), audited with the reason')
    .argument('<ids...>', 'question ids or work item numbers')
    .requiredOption('--reason <text>', 'why (PingToPass keeps it as a feedback row; open-interview in a "reverted" history event and the ledger)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples([
        ['qbank review reopen q_1 --reason "the key is B, not A"', 'back to pending'],
        ['qbank review reopen q-fx-0009 --reason "deleted by mistake"', 'open-interview: back to flagged'],
        ['qbank review reopen 12 --queue work --reason "result was wrong"', 'a finished work item back to pending'],
      ]),
    )
    .action(
      action(async (ids: string[], options: { reason: string }, command: Command) => {
        const out = context.output(command);
        const reason = options.reason.trim();
        if (!reason) throw new UsageError('reopen needs a non-empty --reason');
        const setup = await prepare(context, command, 'write', out, { reviewer: true });
        const queue = await setup.openQueue();
        const { reopenItems } = await import('../db/review/service.js');
        const report = await reopenItems(setup.database, queue, ids, reason, setup.actionContext());
        const { renderDecisionReport } = await import('../output/review-screen.js');
        await renderOutcome(out, report, async () => renderDecisionReport(out, report, 'reopened'));
      }),
    );
}

function registerWorkVerbs(review: Command, context: CommandContext): void {
  const workCommand = async (command: Command, out: Output) => {
    const setup = await prepare(context, command, 'write', out, { reviewer: true });
    if (setup.system !== 'open-interview') throw new UsageError("the work queue is open-interview's; PingToPass has none");
    const { WorkQueue } = await import('../db/review/work-queue.js');
    const queue = (await setup.openQueue('work')) as InstanceType<typeof WorkQueue>;
    return { setup, queue };
  };

  review
    .command('claim')
    .description('open-interview: claim a work item (the next by priority, or the one given) under a lease')
    .argument('[id]', 'work item number')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples([['qbank review claim --action verify --json', 'claim the next verify item'], ['qbank review claim 12 --lease 60', 'claim item 12 for an hour']]))
    .action(
      action(async (id: string | undefined, _options: unknown, command: Command) => {
        const out = context.output(command);
        const { setup, queue } = await workCommand(command, out);
        const [{ claimWork }, { publicView }] = await Promise.all([import('../db/review/service.js'), import('../db/review/types.js')]);
        const result = await claimWork(setup.database, queue, id, setup.actionContext());
        if (out.json) return out.data({ ...publicView(result.item, context.io.now()), lease: result.lease });
        out.success(`claimed work item ${result.item.id} until ${result.lease.leaseExpiresAt} (${result.lease.by})`);
        const { renderShow } = await import('../output/review-screen.js');
        renderShow(out, result.item, context.io.now());
      }),
    );

  const settleAndRender = async (id: string, what: { kind: 'complete'; result: string } | { kind: 'fail'; reason: string } | { kind: 'release' }, command: Command, verb: string) => {
    const out = context.output(command);
    const { setup, queue } = await workCommand(command, out);
    const [{ settleWork }, { publicView }] = await Promise.all([import('../db/review/service.js'), import('../db/review/types.js')]);
    const result = await settleWork(setup.database, queue, id, what, setup.actionContext());
    if (out.json) return out.data({ ...publicView(result.item, context.io.now()), auditRows: result.auditRows });
    out.success(`${verb} work item ${id} (${setup.reviewer}; ${result.auditRows} audit row(s))`);
  };

  const settle = (name: 'complete' | 'fail' | 'release', description: string, lines: Array<[string, string]>) =>
    review.command(name).description(description).argument('<id>', 'work item number').configureHelp({ showGlobalOptions: true }).addHelpText('after', examples(lines));

  settle('complete', 'open-interview: mark a work item completed with a JSON result', [
    ['qbank review complete 12 --result \'{"ok":true}\'', 'item 12 is done'],
    ['qbank review claim --json && qbank review complete 12 --result \'{"improved":true}\'', 'claim, work, complete'],
  ])
    .requiredOption('--result <json>', 'the result, as JSON')
    .action(
      action(async (id: string, options: { result: string }, command: Command) => {
        let result: string;
        try {
          result = JSON.stringify(JSON.parse(options.result));
        } catch (error) {
          throw new InvalidInputError(`--result is not valid JSON: ${(error as Error).message}`);
        }
        await settleAndRender(id, { kind: 'complete', result }, command, 'completed');
      }),
    );

  settle('fail', 'open-interview: mark a work item failed, with why', [['qbank review fail 12 --result "source is gone"', 'stored as {"error": "source is gone"}']])
    .requiredOption('--result <text>', 'what went wrong (stored as {"error": TEXT}, as the bots do)')
    .action(
      action(async (id: string, options: { result: string }, command: Command) => {
        if (!options.result.trim()) throw new UsageError('fail needs a non-empty --result');
        await settleAndRender(id, { kind: 'fail', reason: options.result.trim() }, command, 'failed');
      }),
    );

  settle('release', 'open-interview: give a claimed work item back to the queue', [['qbank review release 12', 'give item 12 back before its lease runs out']]).action(
    action(async (id: string, _options: unknown, command: Command) => {
      await settleAndRender(id, { kind: 'release' }, command, 'released');
    }),
  );
}
