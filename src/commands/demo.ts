import type { Command } from 'commander';
import { SYSTEMS, type SystemName } from '../config.js';
import { type CommandContext, examples } from './context.js';

export function registerDemoCommand(program: Command, context: CommandContext): void {
  program
    .command('demo')
    .description('try qbank: build both systems in embedded local databases, seed them, show their status')
    .option('--dir <path>', 'where the demo databases go', 'qbank-demo')
    .addHelpText('after', examples([['qbank demo', 'creates qbank-demo/pingtopass.db and qbank-demo/open-interview.db']]))
    .action(async (options: { dir: string }, command: Command) => {
      const out = context.output(command);
      const { runDemo } = await import('../db/demo.js');
      const { resolve } = await import('node:path');
      const dir = resolve(context.io.cwd, options.dir);
      const explicit = context.globals(command).schema as SystemName | undefined;
      const systems = explicit ? [explicit] : [...SYSTEMS];
      const { resolveActor } = await import('../db/run-record.js');
      const actor = resolveActor({ env: context.io.env, cwd: context.io.cwd });
      const report = await runDemo({ dir, systems, actor, onStep: (line) => out.info(line) });
      if (out.json) return out.data(report);
      for (const result of report.systems) {
        out.heading(`\n${result.system} — ${result.url}`);
        out.table(
          ['table', 'rows'],
          result.status.tables.map((t) => [t.table, t.rows.toLocaleString('en-US')]),
        );
        out.line(
          `schema ${result.status.drift?.upToDate ? out.c.green('up to date') : out.c.yellow('drifted')}, ` +
            `${result.push.steps.length} push step(s), seeded ${result.seeded} row(s)`,
        );
      }
      out.line(`\nNext: qbank db status --url file:${options.dir}/pingtopass.db`);
    });
}
