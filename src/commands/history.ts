import type { Command } from 'commander';
import { type CommandContext, examples } from './context.js';

export function registerHistoryCommand(program: Command, context: CommandContext): void {
  program
    .command('history')
    .description("one question's timeline from every record of it: qbank's runs, open-interview's question_history and bot_ledger, PingToPass's review decision and feedback")
    .argument('<question>', 'the question id')
    .addHelpText('after', examples([['qbank history q_ccna_001 --json', 'the same, for scripts']]))
    .action(async (questionId: string, _flags: object, command: Command) => {
      const out = context.output(command);
      const { database } = await context.database(command, 'read', out);
      const { questionHistory } = await import('../db/audit/history.js');
      const events = await questionHistory(database, questionId);
      if (out.json) return out.data({ question: questionId, events });
      out.table(
        ['when', 'source', 'who', 'what', 'detail'],
        events.map((event) => [event.at, event.source, event.who ?? '-', event.what, [event.detail, event.runId ? `run ${event.runId}` : undefined].filter(Boolean).join('; ') || '-']),
      );
    });
}
