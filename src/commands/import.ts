import { Option, type Command } from 'commander';
import type { ImportKind, ImportSummary } from '../db/import/index.js';
import { UsageError } from '../errors.js';
import type { Output, Progress } from '../output/output.js';
import { type CommandContext, examples } from './context.js';

interface ImportFlags {
  mode: 'upsert' | 'insert' | 'skip-existing';
  dryRun?: boolean;
  skipInvalid?: boolean;
  rejects?: string;
  force?: boolean;
  encoding?: string;
  format?: 'csv' | 'json' | 'jsonl';
  ignoreUnknownColumns?: boolean;
  maxFieldSize?: string;
}

function withImportOptions(command: Command): Command {
  return command
    .addOption(new Option('--mode <mode>', 'what to do with questions that already exist').choices(['upsert', 'insert', 'skip-existing']).default('upsert'))
    .option('--dry-run', 'validate and report what would change, without writing')
    .option('--skip-invalid', 'import the valid rows and leave out the others (default: all or nothing)')
    .option('--rejects <file>', 'with --skip-invalid: write the rows left out, with an error column, to this file (.csv, .json or .jsonl)')
    .option('--force', 'replace the --rejects file if it exists')
    .option('--encoding <name>', 'text encoding when the file has no byte-order mark (default utf-8; e.g. windows-1252)')
    .addOption(new Option('--format <format>', 'file format (default: from the file name)').choices(['csv', 'json', 'jsonl']))
    .option('--ignore-unknown-columns', 'skip columns (or JSON keys) qbank does not know instead of failing')
    .option('--max-field-size <chars>', 'longest field accepted, in characters', '1048576');
}

export function registerImportCommands(program: Command, context: CommandContext): void {
  const run = (kind: ImportKind) => async (file: string, flags: ImportFlags, command: Command) => {
    const out = context.output(command);
    const maxFieldChars = Number(flags.maxFieldSize);
    if (!Number.isInteger(maxFieldChars) || maxFieldChars < 1) throw new UsageError(`--max-field-size must be a positive whole number, not "${flags.maxFieldSize}"`);
    const { database, config } = await context.database(command, 'write', out);
    const system = await context.system(database, config);
    const { importFile } = await import('../db/import/index.js');
    // The bar appears with the first chunk read, when the file's size is known.
    let progress: Progress | undefined;
    try {
      const summary = await importFile(database, {
        force: flags.force,
        file,
        cwd: context.io.cwd,
        system,
        kind,
        format: flags.format,
        mode: flags.mode,
        dryRun: flags.dryRun,
        skipInvalid: flags.skipInvalid,
        rejects: flags.rejects,
        encoding: flags.encoding,
        ignoreUnknownColumns: flags.ignoreUnknownColumns,
        maxFieldChars,
        parallel: parallelSetting(context.io.env.QBANK_IMPORT_PARALLEL),
        now: context.io.now,
        onProgress: ({ bytes, totalBytes, rows }) => {
          progress ??= out.progress(`importing ${file}`, Math.max(1, Math.ceil(totalBytes / 1e6)), ' MB');
          progress.update(Math.min(Math.ceil(totalBytes / 1e6), Math.round(bytes / 1e6)), `${rows.toLocaleString('en-US')} rows`);
        },
        onWait: (message) => out.notice(message),
      });
      progress?.finish();
      progress = undefined;
      renderSummary(out, summary, database.displayUrl);
    } catch (error) {
      throw await withFlagHints(error);
    } finally {
      progress?.finish();
    }
  };

  const importCommand = withImportOptions(
    program
      .command('import')
      .description('bulk-import questions (CSV, JSON, JSON Lines): validated, in one transaction, idempotent')
      .argument('[file]', 'the questions file (.csv, .json, .jsonl)'),
  )
    .addHelpText(
      'after',
      examples([
        ['qbank import template pingtopass-questions > bank.csv', 'start from a template'],
        ['qbank import exams exams.csv', 'PingToPass exams first (questions name them by code)'],
        ['qbank import bank.csv', 'import questions; importing the same file again changes nothing'],
        ['qbank import bank.csv --dry-run', 'validate and show what would change'],
        ['qbank import bank.csv --skip-invalid --rejects rejected.csv', 'import the good rows, set the others aside'],
        ['qbank import data/questions/react.json --schema open-interview', "open-interview's own question files"],
        ['qbank import bank.csv --encoding windows-1252', 'a file saved by an older Excel'],
      ]) + '\nFormats and columns: see the README ("Importing question banks") or `qbank import template`.\n',
    )
    .action(async (file: string | undefined, flags: ImportFlags, command: Command) => {
      if (!file) throw new UsageError('name the file to import: qbank import FILE', { hint: 'see `qbank import --help`' });
      await run('questions')(file, flags, command);
    });

  withImportOptions(importCommand.command('questions').description('import questions (the same as `qbank import FILE`)').argument('<file>'))
    .addHelpText(
      'after',
      examples([
        ['qbank import questions bank.csv', 'create new questions, update changed ones'],
        ['qbank import questions bank.csv --dry-run', 'validate and show what would change, write nothing'],
        ['qbank import questions bank.csv --mode insert', 'fail if any question already exists'],
        ['qbank import questions bank.csv --skip-invalid --rejects rejected.csv', 'import the good rows, set the others aside'],
      ]),
    )
    .action(run('questions'));
  withImportOptions(
    importCommand
      .command('exams')
      .description('import PingToPass exams: code,name,vendor,category,passing_score,total_questions,time_limit,price,description')
      .argument('<file>'),
  )
    .addHelpText(
      'after',
      examples([
        ['qbank import exams exams.csv --schema pingtopass', 'create or update exams, matched by code'],
        ['qbank import exams exams.csv --dry-run', 'validate and show what would change, write nothing'],
        ['qbank import template pingtopass-exams > exams.csv', 'the columns, with an example row'],
      ]),
    )
    .action(run('exams'));
  withImportOptions(importCommand.command('certifications').description('import open-interview certifications').argument('<file>'))
    .addHelpText(
      'after',
      examples([
        ['qbank import certifications certs.csv --schema open-interview', 'create or update certifications, matched by id'],
        ['qbank import certifications certs.json --dry-run', 'validate and show what would change, write nothing'],
        ['qbank import template open-interview-certifications > certs.csv', 'the columns, with an example row'],
      ]),
    )
    .action(run('certifications'));

  importCommand
    .command('template')
    .description('print the import formats, each with an example row')
    .argument('[format]', 'pingtopass-questions, pingtopass-exams, open-interview-questions or open-interview-certifications')
    .addHelpText('after', examples([['qbank import template pingtopass-questions > bank.csv', 'a CSV to fill in']]))
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      const out = context.output(command);
      const { TEMPLATES } = await import('../db/import/templates.js');
      const chosen = name ? TEMPLATES.filter((template) => template.name === name) : TEMPLATES;
      if (chosen.length === 0) throw new UsageError(`no template "${name}"`, { hint: `templates: ${TEMPLATES.map((t) => t.name).join(', ')}` });
      if (out.json) return out.data(chosen);
      if (name) return void context.io.stdout.write(chosen[0].csv);
      for (const template of chosen) {
        out.heading(`# ${template.name}: ${template.command}`);
        context.io.stdout.write(template.csv + '\n');
      }
    });
}

/** The service states what went wrong; here it gets the flag that answers it. */
async function withFlagHints(error: unknown): Promise<unknown> {
  const { OutputFileExistsError } = await import('../output-file.js');
  const { UnknownFormatError, RejectsWithoutSkipError } = await import('../db/import/index.js');
  if (error instanceof OutputFileExistsError) return error.withHint('choose another name, or pass --force to replace it');
  if (error instanceof UnknownFormatError) return new UsageError(error.message, { hint: 'name it .csv, .json or .jsonl, or pass --format csv|json|jsonl' });
  if (error instanceof RejectsWithoutSkipError) return new UsageError('--rejects goes with --skip-invalid: without it, one invalid row stops the import');
  return error;
}

/** QBANK_IMPORT_PARALLEL=always|never overrides when parsing moves to a worker thread (tests, benchmarks). */
function parallelSetting(value: string | undefined): 'auto' | 'always' | 'never' {
  return value === 'always' || value === 'never' ? value : 'auto';
}

function renderSummary(out: Output, summary: ImportSummary, displayUrl: string): void {
  if (out.json) return out.data(summary);
  const showSkipped = summary.mode === 'skip-existing' || summary.skipped > 0;
  const headers = [summary.groupBy, 'created', 'updated', 'unchanged', ...(showSkipped ? ['skipped'] : []), 'rejected'];
  const row = (label: string, counts: { created: number; updated: number; unchanged: number; skipped: number; rejected: number }) => [
    label,
    counts.created,
    counts.updated,
    counts.unchanged,
    ...(showSkipped ? [counts.skipped] : []),
    counts.rejected,
  ];
  out.table(headers, [...summary.groups.map((group) => row(group.group, group)), ...(summary.groups.length > 1 ? [row('total', summary)] : [])]);
  for (const column of summary.ignoredColumns) out.notice(`ignored column "${column}" (--ignore-unknown-columns)`);
  if (summary.warningCount > 0) {
    out.warn(`${summary.warningCount.toLocaleString('en-US')} row${summary.warningCount === 1 ? '' : 's'} repeat${summary.warningCount === 1 ? 's' : ''} another row's question text; rows with ids are imported each as its own question:`);
    for (const warning of summary.warnings) out.info('  ' + warning);
    if (summary.warningCount > summary.warnings.length) out.info(`  … and ${(summary.warningCount - summary.warnings.length).toLocaleString('en-US')} more`);
  }
  if (summary.rejected > 0) {
    out.warn(
      `${summary.rejected.toLocaleString('en-US')} row${summary.rejected === 1 ? '' : 's'} left out${summary.rejectsFile ? `, written with their errors to ${summary.rejectsFile}` : ''}:`,
    );
    for (const problem of summary.problems) out.info('  ' + problem);
    if (summary.rejected > summary.problems.length) out.info(`  … and ${(summary.rejected - summary.problems.length).toLocaleString('en-US')} more`);
  }
  const counts = `${summary.created.toLocaleString('en-US')} created, ${summary.updated.toLocaleString('en-US')} updated, ${summary.unchanged.toLocaleString('en-US')} unchanged`;
  const time = `${summary.seconds.toFixed(1)} s`;
  if (summary.dryRun) out.success(`dry run: ${summary.file} would leave ${displayUrl} with ${counts}; nothing was written (${time})`);
  else out.success(`imported ${summary.file} into ${displayUrl}: ${counts} (${time})`);
}
