import { Command, Option } from 'commander';
import { CommandContext, examples } from './commands/context.js';
import { withoutFlagValues } from './commands/flags.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerCheckCommand } from './commands/check.js';
import { registerDbCommands } from './commands/db.js';
import { registerOrgCommands } from './commands/db-admin.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerImportCommands } from './commands/import.js';
import { registerExportCommands } from './commands/export.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerReplicaCommands } from './commands/replica.js';
import { registerReviewCommands } from './commands/review.js';
import { registerTokenCommands } from './commands/token.js';
import { registerUndoCommand } from './commands/undo.js';
import { VERSION } from './version.js';

/** Builds the program. Command modules only declare options; their work is imported when they run. */
export function buildProgram(context: CommandContext): Command {
  const program = new Command('qbank');
  program
    .description('Run the database of a question-bank platform (PingToPass, open-interview) on Turso / libSQL')
    .version(VERSION, '-V, --version')
    .option('--url <url>', 'database URL: file:PATH, libsql://HOST, https://HOST, http://127.0.0.1:PORT')
    .option('--auth-token <token>', 'database auth token (prefer TURSO_AUTH_TOKEN: flags end up in shell history)')
    .addOption(new Option('--schema <system>', 'which system the database is for').choices(['pingtopass', 'open-interview']))
    .option('--target <name>', 'a named target from qbank.config.json')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--debug', 'log each request to the database on stderr (tokens redacted)')
    .option('-q, --quiet', 'no notices and no progress on stderr (errors and warnings still; stdout unchanged)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
      outputError: (text, write) => write(withoutFlagValues(text)),
    })
    .addHelpText(
      'after',
      examples([
        ['qbank demo', 'try qbank on an embedded local database'],
        ['qbank db push --schema pingtopass', 'create or update the PingToPass schema'],
        ['TURSO_DATABASE_URL=libsql://db-org.turso.io qbank db status', 'inspect a Turso database'],
        ['qbank db status --json', 'the same, for scripts'],
      ]) +
        '\nConfiguration: --url/--auth-token, else TURSO_DATABASE_URL/TURSO_AUTH_TOKEN, else .env.local/.env;\n' +
        'with none, the embedded database file:qbank.db (never under CI=true).\n',
    );
  program.hook('preAction', (_program, action) => {
    const names: string[] = [];
    for (let command: Command | null = action; command && command !== program; command = command.parent) names.unshift(command.name());
    context.commandName = names.join(' ');
    adoptRedeclaredOptions(action);
    const globals = action.optsWithGlobals() as { json?: boolean; quiet?: boolean };
    const session = context.io.session;
    if (session) Object.assign(session, { json: Boolean(globals.json), quiet: Boolean(globals.quiet) });
  });
  registerDbCommands(program, context);
  registerImportCommands(program, context);
  registerExportCommands(program, context);
  registerReviewCommands(program, context);
  registerBackupCommands(program, context);
  registerCheckCommand(program, context);
  registerDemoCommand(program, context);
  registerReplicaCommands(program, context);
  registerOrgCommands(program, context);
  registerTokenCommands(program, context);
  registerAuditCommands(program, context);
  registerUndoCommand(program, context);
  registerHistoryCommand(program, context);
  return program;
}

/**
 * Commander gives an option to the first command on the path that declares it, wherever it was
 * typed: with `import` and `import exams` both declaring `--dry-run`, `import exams F --dry-run`
 * sets it on `import` and the action of `exams` never sees it. The command that runs takes every
 * value an ancestor received for an option it declares too, unless it was given one itself.
 */
function adoptRedeclaredOptions(action: Command): void {
  for (let ancestor = action.parent; ancestor; ancestor = ancestor.parent) {
    for (const option of action.options) {
      const key = option.attributeName();
      const ancestorSource = ancestor.getOptionValueSource(key);
      if (ancestorSource === undefined || ancestorSource === 'default' || ancestorSource === 'implied') continue;
      if (!ancestor.options.some((declared) => declared.attributeName() === key)) continue;
      const ownSource = action.getOptionValueSource(key);
      if (ownSource !== undefined && ownSource !== 'default' && ownSource !== 'implied') continue;
      action.setOptionValueWithSource(key, ancestor.getOptionValue(key), ancestorSource);
    }
  }
}
