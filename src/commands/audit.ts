import type { Command } from 'commander';
import { InvalidInputError, UsageError } from '../errors.js';
import type { RunEntry } from '../db/run-record.js';
import { type CommandContext, examples } from './context.js';
import { positiveInteger } from './flags.js';

/** An ISO 8601 time (a date alone is its midnight, UTC) as the entries store it. */
export function isoTime(value: string, flag: string): string {
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) throw new UsageError(`${flag} must be a time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z), not "${value}"`);
  return new Date(time).toISOString();
}

function countsText(entry: RunEntry): string {
  if (!entry.counts) return '';
  return Object.entries(entry.counts)
    .filter(([, value]) => value !== 0)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
}

export function registerAuditCommands(program: Command, context: CommandContext): void {
  const audit = program.command('audit').description("qbank's record of the runs that changed this database: who, when, what, and how to undo it");

  audit
    .command('list')
    .description('the runs, newest first')
    .option('--since <time>', 'only runs started at or after this time (ISO 8601)')
    .option('--actor <who>', 'only runs by this actor')
    .option('--command <command>', 'only runs of this command ("import" matches "import questions")')
    .option('--limit <n>', 'at most this many runs', positiveInteger, 50)
    .addHelpText('after', examples([['qbank audit list --command import --since 2026-12-01', 'the imports since the first of December']]))
    .action(async (flags: { since?: string; actor?: string; command?: string; limit: number }, command: Command) => {
      const out = context.output(command);
      const since = flags.since === undefined ? undefined : isoTime(flags.since, '--since');
      const { database } = await context.database(command, 'read', out);
      const { listRuns } = await import('../db/audit/read.js');
      const runs = await listRuns(database, { since, actor: flags.actor, command: flags.command, limit: flags.limit });
      if (out.json) return out.data({ runs });
      if (runs.length === 0) return out.info(`no runs recorded in ${database.displayUrl}`);
      out.table(
        ['run', 'started', 'actor', 'command', 'counts'],
        runs.map((run) => [run.id, run.startedAt, run.actor, run.command, countsText(run)]),
      );
    });

  audit
    .command('show')
    .description("one run's entry and the rows whose before-images it kept")
    .argument('<run>', 'the run id (see `qbank audit list`)')
    .addHelpText('after', examples([['qbank audit show 7f165a03', 'what run 7f165a03 did and whether it can be undone']]))
    .action(async (runId: string, _flags: object, command: Command) => {
      const out = context.output(command);
      const { database } = await context.database(command, 'read', out);
      const { showRun } = await import('../db/audit/read.js');
      const details = await showRun(database, runId);
      if (!details) throw new InvalidInputError(`no run ${runId} in ${database.displayUrl}`, { hint: 'see `qbank audit list`' });
      if (out.json) return out.data(details);
      const { entry } = details;
      out.line(`run       ${entry.id}`);
      out.line(`command   ${entry.command} ${JSON.stringify(entry.arguments)}`);
      out.line(`actor     ${entry.actor}${entry.ci ? ` (${Object.entries(entry.ci).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`);
      out.line(`started   ${entry.startedAt}`);
      out.line(`finished  ${entry.finishedAt ?? '-'}`);
      out.line(`target    ${entry.target}${entry.system ? ` (${entry.system})` : ''}`);
      if (entry.file) out.line(`file      ${entry.file.name}, ${entry.file.size} bytes, sha256 ${entry.file.sha256}`);
      if (entry.counts) out.line(`counts    ${countsText(entry)}`);
      if (details.undoneBy.length > 0) out.line(`undone by ${details.undoneBy.join(', ')}`);
      if (details.rows.length > 0) out.table(['table', 'action', 'rows'], details.rows.map((row) => [row.table, row.action, row.count]));
      else out.info('no before-images kept: this run cannot be undone');
    });

  audit
    .command('prune')
    .description('drop the before-images of runs started before a time (their entries stay; those runs can no longer be undone)')
    .requiredOption('--before <time>', 'runs started before this time (ISO 8601)')
    .option('--dry-run', 'say what would be dropped')
    .addHelpText('after', examples([['qbank audit prune --before 2026-06-01 --dry-run', 'what pruning older runs would drop']]))
    .action(async (flags: { before: string; dryRun?: boolean }, command: Command) => {
      const out = context.output(command);
      const before = isoTime(flags.before, '--before');
      const { database } = await context.database(command, flags.dryRun ? 'read' : 'write', out);
      const { pruneBeforeImages } = await import('../db/audit/read.js');
      const result = await pruneBeforeImages(database, before, flags.dryRun);
      if (out.json) return out.data({ before, dryRun: Boolean(flags.dryRun), ...result });
      out.success(`${flags.dryRun ? 'would drop' : 'dropped'} ${result.rows} before-image${result.rows === 1 ? '' : 's'} of ${result.runs} run${result.runs === 1 ? '' : 's'} started before ${before}`);
    });
}
