import { type Command, Option } from 'commander';
import { ExitCode, InvalidInputError, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';

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

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not "${value}"`);
  return Number(value);
}

/** Everything a review subcommand needs, resolved once: database, system, reviewer, queue. */
async function prepare(context: CommandContext, command: Command, access: 'read' | 'write', out: Output, needs: { reviewer: boolean }) {
  const options = command.optsWithGlobals() as ReviewOptions;
  const { database, config } = await context.database(command, access, out);
  // an explicit --schema / QBANK_SCHEMA needs no detection (which loads the schema modules)
  const system = config.system ?? (await context.system(database, config));
  const { resolveReviewer, systemLookups } = await import('../db/review/reviewer.js');
  const reviewer = needs.reviewer || options.queue === 'work'
    ? (await resolveReviewer(options.reviewer, systemLookups({ cwd: context.io.cwd, env: context.io.env }))).name
    : options.reviewer ?? '';
  const leaseMinutes = positiveInteger('--lease', options.lease) ?? 15;
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
  return { options, database, config, system, reviewer, actionContext, openQueue };
}

/** Scripts learn from the exit code that not every item was decided; the report says which and why. */
function outcomeExit(context: CommandContext, report: { conflicts: number; notFound: number }): void {
  if (report.conflicts > 0 || report.notFound > 0) context.exitCode = ExitCode.refused;
}

export function registerReviewCommands(program: Command, context: CommandContext): void {
  const review = program
    .command('review')
    .description('review queue: one key per decision at a terminal; list, show, approve, reject, stats and work-queue verbs for scripts')
    .option('--reviewer <name>', 'who is deciding (default: git config user.email, else the OS user)')
    .option('--queue <name>', 'pingtopass: pending; open-interview: flagged (default) or work')
    .option('--exam <code>', 'PingToPass: only this exam (code or id)')
    .option('--channel <channel>', 'open-interview: only this channel')
    .option('--objective <id>', 'PingToPass: only this exam objective')
    .option('--difficulty <level>', 'PingToPass 1-5; open-interview beginner|intermediate|advanced')
    .option('--ai-generated', 'PingToPass: only AI-generated questions')
    .option('--tag <tag>', 'only questions with this tag (repeat for several)', collect)
    .addOption(new Option('--action <action>', 'work queue: only this action').choices(['improve', 'delete', 'verify', 'enrich']))
    .option('--limit <n>', 'at most this many items (list: 50)')
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
        ['qbank review claim --json', 'open-interview: claim the next work item'],
      ]) +
        '\nKeys: a approve · r reject (asks for a reason) · s skip · e edit a field · f resolve feedback · u undo · q quit.\n' +
        'Every decision only applies if nobody changed the item since it was shown; otherwise you are told who and when.\n',
    )
    .action(async (_options: ReviewOptions, command: Command) => {
      const out = context.output(command);
      if (!out.interactive) {
        throw new UsageError('`qbank review` is the interactive reviewer and needs a terminal (stdin and stderr a TTY, not CI, no --json)', {
          hint: 'for scripts: qbank review list | show ID | approve ID... | reject ID... --reason TEXT | stats | claim | complete ID --result JSON | fail ID --result TEXT',
        });
      }
      const setup = await prepare(context, command, 'write', out, { reviewer: true });
      const limit = positiveInteger('--limit', setup.options.limit);
      const queue = await setup.openQueue();
      const { requireWriteAccess } = await import('../db/client.js');
      requireWriteAccess(setup.database, 'review');
      const [{ ReviewSession }, { fileResumeStore, stateDirectory }, { runReviewScreen }] = await Promise.all([
        import('../db/review/session.js'),
        import('../db/review/resume-state.js'),
        import('../output/review-screen.js'),
      ]);
      let cannotReject: string | undefined;
      if (setup.system === 'pingtopass') {
        const [{ reviewerUserQuery }, { runRead }] = await Promise.all([import('../db/review/pingtopass.js'), import('../db/review/sql.js')]);
        if (!(await runRead(setup.database, reviewerUserQuery(setup.reviewer), 'review'))) {
          cannotReject = `reject is off: the reason is kept as a feedback row, which needs a PingToPass user, and no user has the email "${setup.reviewer}" (use --reviewer EMAIL)`;
          out.warn(cannotReject);
        }
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
        limit,
      });
      await runReviewScreen({ session, io: context.io, colors: out.ce, cannotReject });
    });

  review
    .command('list')
    .description('the items waiting in the queue, in review order')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples([['qbank review list --exam CCNA-200-301 --limit 20', 'the next 20 CCNA questions'], ['qbank review list --queue work --json', 'open-interview work items']]))
    .action(async (_options: unknown, command: Command) => {
      const out = context.output(command);
      const setup = await prepare(context, command, 'read', out, { reviewer: false });
      const queue = await setup.openQueue();
      const { listQueue } = await import('../db/review/service.js');
      const items = await listQueue(setup.database, queue, positiveInteger('--limit', setup.options.limit) ?? 50);
      const { publicView } = await import('../db/review/types.js');
      if (out.json) return out.data(items.map(publicView));
      const { renderList } = await import('../output/review-screen.js');
      renderList(out, items, queue.label);
    });

  review
    .command('show')
    .description('one question or work item in full: options, explanation, feedback or history')
    .argument('<id>', 'question id (open-interview: or work item number)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples([['qbank review show q_123', 'the question, its options, explanation and feedback'], ['qbank review show 42 --queue work --json', 'open-interview: a work item, for scripts']]))
    .action(async (id: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const setup = await prepare(context, command, 'read', out, { reviewer: false });
      const { showItem } = await import('../db/review/service.js');
      const { queueNameFor } = await import('../db/review/queues.js');
      const queue = setup.options.queue === undefined ? undefined : queueNameFor(setup.system, setup.options.queue);
      const item = await showItem(setup.database, setup.system, id, { queue, viewer: setup.actionContext });
      const { publicView } = await import('../db/review/types.js');
      if (out.json) return out.data(publicView(item));
      const { renderShow } = await import('../output/review-screen.js');
      renderShow(out, item);
    });

  for (const verb of ['approve', 'reject'] as const) {
    const decide = review
      .command(verb)
      .description(verb === 'approve' ? 'approve items (open-interview flagged: back to active; work: complete)' : 'reject items with a reason (open-interview flagged: delete; work: fail)')
      .argument('[ids...]', 'question ids or work item numbers')
      .option('--all-matching', 'every item the filters match (asks first at a terminal)')
      .option('-y, --yes', 'confirm --all-matching without a prompt')
      .configureHelp({ showGlobalOptions: true })
      .addHelpText(
        'after',
        verb === 'approve'
          ? examples([['qbank review approve q_1 q_2', 'approve two questions'], ['qbank review approve --all-matching --tag osi --yes', 'everything tagged osi, in CI']])
          : examples([['qbank review reject q_3 --reason "two correct options"', 'reject with a reason'], ['qbank review reject --all-matching --exam OLD-100 --reason retired --yes', 'a whole exam, in CI']]),
      );
    if (verb === 'reject') decide.option('--reason <text>', 'why (required): PingToPass keeps it as a feedback row, open-interview in the audit rows');
    decide.action(async (ids: string[], options: { allMatching?: boolean; yes?: boolean; reason?: string }, command: Command) => {
        const out = context.output(command);
        if (verb === 'reject' && !options.reason?.trim()) throw new UsageError('reject needs --reason TEXT');
        if (options.allMatching && ids.length > 0) throw new UsageError('give ids or --all-matching, not both');
        if (!options.allMatching && ids.length === 0) throw new UsageError(`${verb} needs at least one id, or --all-matching with filters`);
        const setup = await prepare(context, command, 'write', out, { reviewer: true });
        const queue = await setup.openQueue();
        const decision = verb === 'approve' ? { kind: 'approve' as const } : { kind: 'reject' as const, reason: options.reason!.trim() };
        const service = await import('../db/review/service.js');
        const report = options.allMatching
          ? await service.decideAllMatching(setup.database, queue, decision, setup.actionContext(), `review ${verb}`, {
              confirm: async (count) => options.yes || out.confirm(`${verb === 'approve' ? 'Approve' : 'Reject'} ${count.toLocaleString('en-US')} ${queue.label}?`),
              onProgress: (() => {
                const bar = out.progress(verb, undefined);
                return (done: number) => bar.update(done);
              })(),
            })
          : await service.decideItems(setup.database, queue, ids, decision, setup.actionContext(), `review ${verb}`);
        outcomeExit(context, report);
        if (out.json) return out.data(report);
        const { renderDecisionReport } = await import('../output/review-screen.js');
        renderDecisionReport(out, report, verb === 'approve' ? 'approved' : 'rejected');
      });
  }

  review
    .command('stats')
    .description('counts by status, and by exam (PingToPass) or channel and work-queue status (open-interview)')
    .addHelpText('after', examples([['qbank review stats', 'how much is waiting, per exam or channel'], ['qbank review stats --json', 'the same, for dashboards']]))
    .action(async (_options: unknown, command: Command) => {
      const out = context.output(command);
      const setup = await prepare(context, command, 'read', out, { reviewer: false });
      const { reviewStats } = await import('../db/review/service.js');
      const stats = await reviewStats(setup.database, setup.system, context.io.now());
      if (out.json) return out.data(stats);
      const { renderStats } = await import('../output/review-screen.js');
      renderStats(out, stats);
    });

  const workCommand = async (command: Command, out: Output) => {
    const setup = await prepare(context, command, 'write', out, { reviewer: true });
    if (setup.system !== 'open-interview') throw new UsageError('the work queue is open-interview\'s; PingToPass has none');
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
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const out = context.output(command);
      const { setup, queue } = await workCommand(command, out);
      const { claimWork } = await import('../db/review/service.js');
      const result = await claimWork(setup.database, queue, id, setup.actionContext());
      const { publicView } = await import('../db/review/types.js');
      if (out.json) return out.data({ ...publicView(result.item), lease: result.lease });
      out.success(`claimed work item ${result.item.id} until ${result.lease.leaseExpiresAt} (${result.lease.by})`);
      const { renderShow } = await import('../output/review-screen.js');
      renderShow(out, result.item);
    });

  const settleAndRender = async (
    id: string,
    what: { kind: 'complete'; result: string } | { kind: 'fail'; reason: string } | { kind: 'release' },
    command: Command,
    out: Output,
    verb: string,
  ) => {
    const { setup, queue } = await workCommand(command, out);
    const { settleWork } = await import('../db/review/service.js');
    const result = await settleWork(setup.database, queue, id, what, setup.actionContext());
    const { publicView } = await import('../db/review/types.js');
    if (out.json) return out.data({ ...publicView(result.item), auditRows: result.auditRows });
    out.success(`${verb} work item ${id} (${setup.reviewer}; ${result.auditRows} audit row(s))`);
  };

  const settle = (name: 'complete' | 'fail' | 'release', description: string) =>
    review
      .command(name)
      .description(description)
      .argument('<id>', 'work item number')
      .configureHelp({ showGlobalOptions: true });

  settle('complete', 'open-interview: mark a work item completed with a JSON result')
    .addHelpText('after', examples([['qbank review complete 12 --result \'{"improved":true}\'', 'close a claimed work item with its result']]))
    .requiredOption('--result <json>', 'the result, as JSON')
    .action(async (id: string, options: { result: string }, command: Command) => {
      const out = context.output(command);
      let result: string;
      try {
        result = JSON.stringify(JSON.parse(options.result));
      } catch (error) {
        throw new InvalidInputError(`--result is not valid JSON: ${(error as Error).message}`);
      }
      await settleAndRender(id, { kind: 'complete', result }, command, out, 'completed');
    });

  settle('fail', 'open-interview: mark a work item failed, with why')
    .addHelpText('after', examples([['qbank review fail 12 --result "source page is gone"', 'close a claimed work item as failed']]))
    .requiredOption('--result <text>', 'what went wrong (stored as {"error": TEXT}, as the bots do)')
    .action(async (id: string, options: { result: string }, command: Command) => {
      const out = context.output(command);
      if (!options.result.trim()) throw new UsageError('fail needs a non-empty --result');
      await settleAndRender(id, { kind: 'fail', reason: options.result.trim() }, command, out, 'failed');
    });

  settle('release', 'open-interview: give a claimed work item back to the queue')
    .addHelpText('after', examples([['qbank review release 12', 'give work item 12 back to the queue before its lease ends']]))
    .action(async (id: string, _options: unknown, command: Command) => {
    const out = context.output(command);
    await settleAndRender(id, { kind: 'release' }, command, out, 'released');
  });

  review
    .command('resolve')
    .description('PingToPass: answer a user\'s feedback about a question and mark it resolved')
    .argument('<feedback-id>', 'feedback id (review show ID lists them)')
    .requiredOption('--response <text>', 'the answer the user will see')
    .addHelpText('after', examples([['qbank review resolve fb_7 --response "fixed: option B is now correct"', 'answer the feedback and close it']]))
    .action(async (feedbackId: string, options: { response: string }, command: Command) => {
      const out = context.output(command);
      const setup = await prepare(context, command, 'write', out, { reviewer: false });
      if (setup.system !== 'pingtopass') throw new UsageError('feedback belongs to PingToPass; open-interview has none');
      const { resolveFeedback } = await import('../db/review/service.js');
      const feedback = await resolveFeedback(setup.database, feedbackId, options.response);
      if (out.json) return out.data(feedback);
      out.success(`resolved feedback ${feedbackId}${feedback.userEmail ? ` from ${feedback.userEmail}` : ''}`);
    });
}
