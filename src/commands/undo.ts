import type { Command } from 'commander';
import { RefusedError } from '../errors.js';
import { type CommandContext, examples } from './context.js';

interface UndoFlags {
  force?: boolean;
  dryRun?: boolean;
  actor?: string;
}

export function registerUndoCommand(program: Command, context: CommandContext): void {
  program
    .command('undo')
    .description('revert one run (an import, a bulk decision) from its before-images: created rows deleted, changed rows restored')
    .argument('<run>', 'the run id (see `qbank audit list`)')
    .option('--force', 'revert the rows that did not change since the run, and leave those that did')
    .option('--dry-run', 'say what would be reverted, change nothing')
    .option('--actor <who>', 'who undoes it, for the record (default: git config user.email, else the OS user)')
    .addHelpText(
      'after',
      examples([
        ['qbank audit list --command import', 'find the run'],
        ['qbank undo 20261206-221503-123-9f3a0c1b --dry-run', 'what it would revert'],
      ]),
    )
    .action(async (runId: string, flags: UndoFlags, command: Command) => {
      const out = context.output(command);
      const { database } = await context.database(command, flags.dryRun ? 'read' : 'write', out);
      const [{ undoRun, RowsChangedSinceRunError }, { resolveActor }] = await Promise.all([import('../db/audit/undo.js'), import('../db/run-record.js')]);
      const run = { ...resolveActor({ explicit: flags.actor, env: context.io.env, cwd: context.io.cwd }), command: 'undo', arguments: { force: flags.force }, target: database.displayUrl };
      let result;
      try {
        result = await undoRun(database, { runId, force: flags.force, dryRun: flags.dryRun, run });
      } catch (error) {
        if (error instanceof RowsChangedSinceRunError) {
          throw new RefusedError(error.message, { details: error.details, hint: 'undo with --force to revert the other rows and leave these as they are' });
        }
        throw error;
      }
      if (out.json) return out.data(result);
      const { created, updated, deleted } = result.reverted;
      const what = `${created} created row${created === 1 ? '' : 's'} deleted, ${updated} updated restored, ${deleted} deleted put back`;
      for (const row of result.skipped.slice(0, 20)) out.warn(`left as it is (changed since the run): ${row.table} ${row.key.length === 1 ? String(row.key[0]) : JSON.stringify(row.key)}`);
      if (result.dryRun) return out.info(`would undo run ${runId} (${result.run.command}): ${what}; nothing was changed (--dry-run)`);
      out.success(`undid run ${runId} (${result.run.command}): ${what}; this undo is run ${result.undoRunId}`);
    });
}
