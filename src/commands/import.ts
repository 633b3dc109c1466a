import { InvalidArgumentError, Option, type Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import type { ImportFileSpec, ImportKind, ImportOptions, ImportSummary } from '../db/import/index.js';
import { ExitCode, InvalidInputError, RefusedError, UsageError } from '../errors.js';
import type { Output, Progress } from '../output/output.js';
import { type CommandContext, examples } from './context.js';

/** The flags that are the import's options as they are; the others are worded for the command line. */
type PlainImportFlags = Pick<ImportOptions, 'dryRun' | 'diff' | 'skipInvalid' | 'rejects' | 'force' | 'encoding' | 'delimiter' | 'sheet' | 'ignoreUnknownColumns' | 'excel' | 'reviewer' | 'prune'>;

interface ImportFlags extends PlainImportFlags {
  mode: 'upsert' | 'insert' | 'skip-existing';
  check?: boolean;
  exitCode?: boolean;
  format?: 'csv' | 'json' | 'jsonl' | 'xlsx' | 'moodle-xml' | 'gift' | 'aiken';
  exam?: string;
  difficulty?: number;
  maxFieldSize?: string;
  keepReviewStatus?: boolean;
  refuseReviewedChanges?: boolean;
  yes?: boolean;
}

function withImportOptions(command: Command): Command {
  return command
    .addOption(new Option('--mode <mode>', 'what to do with questions that already exist').choices(['upsert', 'insert', 'skip-existing']).default('upsert'))
    .option('--dry-run', 'validate and report what would change, without writing (read-only credentials are enough)')
    .option('--check', `run the content rules of \`qbank check\` on the incoming rows first: errors refuse the import (exit ${ExitCode.checkFailed}), warnings are shown`)
    .option('--diff', "print each updated question's changed fields, old and new (with --dry-run: before anything is written)")
    .option('--exit-code', `with --dry-run: exit ${ExitCode.checkFailed} when the import would change something, 0 when not`)
    .option('--skip-invalid', 'import the valid rows and leave out the others (default: all or nothing)')
    .option('--rejects <file>', 'with --skip-invalid: write the rows left out, with an error column, to this file (.csv, .json or .jsonl)')
    .option('--force', 'replace the --rejects file if it exists')
    .option('--encoding <name>', 'text encoding when the file has no byte-order mark (default utf-8; e.g. windows-1252)')
    .addOption(new Option('--format <format>', 'file format (default: from the file name; .xml is moodle-xml, .gift gift, a .txt with ANSWER: lines aiken)').choices(['csv', 'json', 'jsonl', 'xlsx', 'moodle-xml', 'gift', 'aiken']))
    .addOption(new Option('--delimiter <char>', "CSV: the separator between cells (default: the one the header shows; ',' ';' or tab)").argParser(delimiterFlag))
    .option('--sheet <name>', 'xlsx: the worksheet to read (default: the first)')
    .option('--exam <code>', 'moodle-xml, gift, aiken: the exam of every question (overrides the categories in the file)')
    .addOption(new Option('--difficulty <n>', 'moodle-xml, gift, aiken: the difficulty (1-5) of questions the file gives none').choices(['1', '2', '3', '4', '5']).argParser(difficultyFlag))
    .option('--ignore-unknown-columns', 'skip columns (or JSON keys) qbank does not know instead of failing')
    .option('--excel', 'a CSV written by `qbank export --excel`: remove the apostrophe it put before formula-like cells')
    .option('--max-field-size <chars>', 'longest field accepted, in characters', '1048576')
    .option('--keep-review-status', 'approved and rejected questions whose text, options, answer or explanation change keep their decision (default: back to pending)')
    .option('--refuse-reviewed-changes', `refuse the import (exit ${ExitCode.refused}) when it would change an approved or rejected question's content`)
    .option('--reviewer <email>', 'who approves or rejects the rows a file marks so, when they have no reviewed_by')
    .option('--prune', "deactivate the questions of the file's exams (open-interview: channels) that the file does not have")
    .option('-y, --yes', 'confirm --prune without a prompt (needed without a terminal)');
}

/** Parses what the flags ask, imports in one service call, renders the summaries. */
async function runImport(context: CommandContext, kind: ImportKind | 'by-name', files: string | string[], flags: ImportFlags, command: Command): Promise<void> {
  const out = context.output(command);
  const maxFieldChars = Number(flags.maxFieldSize);
  if (!Number.isInteger(maxFieldChars) || maxFieldChars < 1) throw new UsageError(`--max-field-size must be a positive whole number, not "${flags.maxFieldSize}"`);
  if (flags.keepReviewStatus && flags.refuseReviewedChanges) throw new UsageError('--keep-review-status and --refuse-reviewed-changes contradict each other: choose one');
  if (flags.exitCode && !flags.dryRun) throw new UsageError('--exit-code goes with --dry-run: it says whether the import would change anything', { hint: 'qbank import FILE --dry-run --exit-code' });
  const specs = kind === 'by-name' ? await filesByName(Array.isArray(files) ? files : [files], context.io.cwd) : [{ file: files as string, kind }];
  // a dry run only reads: it works with read-only credentials
  const { database, config } = await context.database(command, flags.dryRun ? 'read' : 'write', out);
  const system = await context.system(database, config);
  // --check: the content rules on the incoming rows before anything is written; errors stop here
  const checked = flags.check ? await (await import('./check.js')).checkBeforeImport(context, out, specs.map((spec) => ({ ...spec, format: flags.format })), system, flags) : undefined;
  const { importFiles } = await import('../db/import/index.js');
  const { importRunContext } = await import('../db/audit/import-run.js');
  // The bar appears with the first chunk read, when the file's size is known.
  let progress: Progress | undefined;
  let progressFile: string | undefined;
  try {
    const summaries = await importFiles(
      database,
      specs.map((spec) => ({ ...spec, format: flags.format })),
      {
        force: flags.force,
        file: specs[0].file,
        cwd: context.io.cwd,
        system,
        kind: specs[0].kind,
        mode: flags.mode,
        dryRun: flags.dryRun,
        diff: flags.diff,
        skipInvalid: flags.skipInvalid,
        rejects: flags.rejects,
        encoding: flags.encoding,
        delimiter: flags.delimiter,
        sheet: flags.sheet,
        ignoreUnknownColumns: flags.ignoreUnknownColumns,
        excel: flags.excel,
        maxFieldChars,
        parallel: parallelSetting(context.io.env.QBANK_IMPORT_PARALLEL),
        now: context.io.now,
        onProgress: ({ file, bytes, totalBytes, rows }) => {
          if (progressFile !== file) {
            progress?.finish();
            progress = out.progress(`importing ${file}`, Math.max(1, Math.ceil(totalBytes / 1e6)), ' MB');
            progressFile = file;
          }
          progress!.update(Math.min(Math.ceil(totalBytes / 1e6), Math.round(bytes / 1e6)), `${rows.toLocaleString('en-US')} rows`);
        },
        onWait: (message) => out.notice(message),
        reviewPolicy: flags.keepReviewStatus ? 'keep' : flags.refuseReviewedChanges ? 'refuse' : 'reset',
        reviewer: flags.reviewer,
        interchange: { exam: flags.exam, difficulty: flags.difficulty },
        run: importRunContext({ kind, files: specs.map((spec) => spec.file), flags, reviewer: flags.reviewer, env: context.io.env, cwd: context.io.cwd, target: database.displayUrl }),
        prune: flags.prune,
        confirmPrune: flags.yes
          ? undefined
          : (missing) => {
              const count = missing.reduce((sum, group) => sum + group.count, 0);
              return out.confirm(`deactivate ${count} question${count === 1 ? '' : 's'} of ${missing.map((group) => group.group).join(', ')} that the file does not have`);
            },
      },
    );
    progress?.finish();
    progress = undefined;
    if (flags.diff && !out.json) (await import('../output/import-diff.js')).renderImportDiffs(out, summaries);
    renderSummaries(out, checked ? (await import('./check.js')).withCheckReport(summaries, checked) : summaries, database.displayUrl);
    const pending = summaries.some((summary) => summary.created + summary.updated > 0);
    if (flags.exitCode && pending) context.exitCode = ExitCode.checkFailed;
  } catch (error) {
    throw await withFlagHints(error, flags);
  } finally {
    progress?.finish();
  }
}

export function registerImportCommands(program: Command, context: CommandContext): void {
  const run = (kind: ImportKind | 'by-name') => (files: string | string[], flags: ImportFlags, command: Command) => runImport(context, kind, files, flags, command);

  const importCommand = withImportOptions(
    program
      .command('import')
      .description('bulk-import questions (CSV, JSON, JSON Lines): validated, in one transaction, idempotent')
      .argument('[files...]', 'the questions file (.csv, .json, .jsonl, .xlsx, .xml, .gift, .aiken.txt); or several files, or a directory, imported together in one transaction'),
  )
    .addHelpText(
      'after',
      examples([
        ['qbank import template pingtopass-questions > bank.csv', 'start from a template'],
        ['qbank import exams exams.csv', 'PingToPass exams first (questions name them by code)'],
        ['qbank import bank.csv', 'import questions; importing the same file again changes nothing'],
        ['qbank import bank.csv --dry-run', 'validate and show what would change'],
        ['qbank import bank.csv --dry-run --diff', "each updated question's fields, old and new, before writing"],
        ['qbank import bank.csv --skip-invalid --rejects rejected.csv', 'import the good rows, set the others aside'],
        ['qbank import data/questions/react.json --schema open-interview', "open-interview's own question files"],
        ['qbank import bank.csv --encoding windows-1252', 'a file saved by an older Excel'],
      ]) + '\nFormats and columns: see the README ("Importing question banks") or `qbank import template`.\n',
    )
    .action(async (files: string[], flags: ImportFlags, command: Command) => {
      if (files.length === 0) throw new UsageError('name the file to import: qbank import FILE', { hint: 'see `qbank import --help`' });
      // one file is a questions file, as always; several files (or a directory) are told apart by name
      if (files.length === 1 && !(await isDirectory(resolve(context.io.cwd, files[0])))) await run('questions')(files[0], flags, command);
      else await run('by-name')(files, flags, command);
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
    .description('print the import formats, each with an example row (Moodle XML, GIFT, Aiken: an example file)')
    .argument('[format]', 'pingtopass-questions, pingtopass-exams, open-interview-questions, open-interview-certifications, pingtopass-questions-gift, pingtopass-questions-moodle-xml or pingtopass-questions-aiken')
    .addHelpText(
      'after',
      examples([
        ['qbank import template pingtopass-questions > bank.csv', 'a CSV to fill in'],
        ['qbank import template pingtopass-questions-gift > bank.gift', 'a GIFT file to start from'],
      ]),
    )
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      const out = context.output(command);
      const { TEMPLATES } = await import('../db/import/templates.js');
      const chosen = name ? TEMPLATES.filter((template) => template.name === name) : TEMPLATES;
      if (chosen.length === 0) throw new UsageError(`no template "${name}"`, { hint: `templates: ${TEMPLATES.map((t) => t.name).join(', ')}` });
      // the service names no flags: the command that imports each file is completed here
      const commandOf = (template: (typeof TEMPLATES)[number]) =>
        [template.command, `--schema ${template.system}`, ...(template.options ?? []).map(([option, value]) => `--${option} ${value}`)].join(' ');
      const shown = chosen.map((template) => ({ ...template, command: commandOf(template) }));
      if (out.json) return out.data({ templates: shown });
      if (name) return void context.io.stdout.write(shown[0].example);
      for (const template of shown) {
        out.heading(`# ${template.name}: ${template.command}`);
        context.io.stdout.write(template.example + '\n');
      }
    });
}

/** The service states what went wrong; here it gets the flag that answers it. */
async function withFlagHints(error: unknown, flags: ImportFlags): Promise<unknown> {
  const { OutputFileExistsError } = await import('../output-file.js');
  const { UnknownFormatError, RejectsWithoutSkipError, ReviewedChangesError, KindNotInSystemError, RowProblemsError } = await import('../db/import/index.js');
  if (error instanceof RowProblemsError && error.skippable && error.details) {
    error = new InvalidInputError(error.message, { details: error.details, hint: `${error.hint}, or import the valid rows with --skip-invalid --rejects rejected.csv`, cause: error.cause });
  }
  if (error instanceof KindNotInSystemError) return new UsageError(error.message, { hint: `${error.hint}; pass --schema ${error.owner} if the database is meant for ${error.owner}` });
  if (error instanceof OutputFileExistsError) return error.withHint('choose another name, or pass --force to replace it');
  if (error instanceof UnknownFormatError) return new UsageError(error.message, { hint: 'name it .csv, .json or .jsonl, or pass --format csv|json|jsonl' });
  if (error instanceof ReviewedChangesError) {
    return new RefusedError(error.message, { hint: 'to import them, pass --keep-review-status (decisions stay) or leave out --refuse-reviewed-changes (they go back to pending)' });
  }
  if (error instanceof InvalidInputError && error.details?.some((detail) => detail.includes('needs a reviewer'))) {
    return new InvalidInputError(error.message, { details: error.details, hint: 'name the reviewer with --reviewer EMAIL, or add a reviewed_by column' });
  }
  if (error instanceof InvalidInputError && error.details) {
    const flagHint = rowProblemFlagHint(error.details, flags);
    if (flagHint) return new InvalidInputError(error.message, { details: error.details, hint: error.hint ? `${flagHint}; or ${error.hint}` : flagHint, cause: error.cause });
  }
  if (error instanceof RejectsWithoutSkipError) return new UsageError('--rejects goes with --skip-invalid: without it, one invalid row stops the import');
  return error;
}

/** The row problems the service states as facts, answered by the flag that handles them. */
function rowProblemFlagHint(details: string[], flags: ImportFlags): string | undefined {
  const hints: string[] = [];
  const separated = details.map((detail) => /this file looks (\w+)-separated \(("[^"]*")\)/.exec(detail)).find(Boolean);
  if (separated) hints.push(`this file looks ${separated[1]}-separated: try --delimiter '${JSON.parse(separated[2]) === '\t' ? '\\t' : JSON.parse(separated[2])}'`);
  if (details.some((detail) => /may be windows-1252$/.test(detail))) hints.push('if the file was saved by Excel or Windows, pass --encoding windows-1252');
  if (details.some((detail) => /the file may be utf-16le\)$/.test(detail))) hints.push('pass --encoding utf-16le (or utf-16be)');
  if (!separated && details.some((detail) => /: unknown (column|field)\b/.test(detail))) hints.push('pass --ignore-unknown-columns to skip unknown columns');
  if (details.some((detail) => /longer than the limit of [\d,]+ characters/.test(detail))) hints.push('raise the limit with --max-field-size CHARS');
  if (details.some((detail) => / exam_code: is required/.test(detail))) hints.push('the file names no exam for these questions: give one with --exam CODE');
  if (details.some((detail) => / difficulty: is required/.test(detail))) hints.push('the file gives no difficulty for these questions: give one with --difficulty 1-5');
  if (flags.mode === 'insert' && details.some((detail) => / already exists\b/.test(detail))) hints.push('--mode insert only adds new records; --mode upsert updates them');
  return hints.length > 0 ? hints.join('; ') : undefined;
}

/** `--delimiter`: one character; `\t` or `tab` for a tab. */
function delimiterFlag(value: string): string {
  const delimiter = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  if ([...delimiter].length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new InvalidArgumentError("one character other than a quote or a line break, such as ';' or '\\t' (tab)");
  return delimiter;
}

/** `--difficulty`: one of its choices, as the number the import stores. */
function difficultyFlag(value: string): number {
  if (!/^[1-5]$/.test(value)) throw new InvalidArgumentError('Allowed choices are 1, 2, 3, 4, 5.');
  return Number(value);
}

/** QBANK_IMPORT_PARALLEL=always|never overrides when parsing moves to a worker thread (tests, benchmarks). */
function parallelSetting(value: string | undefined): 'auto' | 'always' | 'never' {
  return value === 'always' || value === 'never' ? value : 'auto';
}

/**
 * Several files, or a directory's files, and what each holds by its name: `*exam*` exams,
 * `*certification*` certifications, anything else questions. Exams and certifications go first,
 * so questions can name an exam the same run adds.
 */
async function filesByName(paths: string[], cwd: string): Promise<ImportFileSpec[]> {
  const { readdir } = await import('node:fs/promises');
  const files: string[] = [];
  for (const path of paths) {
    if (!(await isDirectory(resolve(cwd, path)))) {
      files.push(path);
      continue;
    }
    const names = (await readdir(resolve(cwd, path))).filter(namesItsFormat).sort();
    if (names.length === 0) throw new UsageError(`${path} holds no file to import (${DIRECTORY_FORMATS})`);
    files.push(...names.map((name) => join(path, name)));
  }
  const kindOf = (file: string): ImportKind => {
    const name = basename(file).toLowerCase();
    return name.includes('exam') ? 'exams' : name.includes('certification') ? 'certifications' : 'questions';
  };
  const specs = files.map((file) => ({ file, kind: kindOf(file) }));
  return [...specs.filter((spec) => spec.kind !== 'questions'), ...specs.filter((spec) => spec.kind === 'questions')];
}

const DIRECTORY_FORMATS = '.csv, .tsv, .json, .jsonl, .xlsx, .xml, .gift, .gift.txt, .aiken.txt';

/** A directory's file that names an import format; a bare .txt does not (it may be anything). */
function namesItsFormat(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower.endsWith('.txt')) return lower.endsWith('.gift.txt') || lower.endsWith('.aiken.txt');
  return /\.(csv|tsv|json|jsonl|ndjson|xlsx|xml|gift)$/.test(lower);
}

async function isDirectory(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

function renderSummaries(out: Output, summaries: ImportSummary[], displayUrl: string): void {
  if (summaries.length === 1) return renderSummary(out, summaries[0], displayUrl);
  if (out.json) {
    const total = (key: 'created' | 'updated' | 'unchanged' | 'skipped' | 'rejected') => summaries.reduce((sum, summary) => sum + summary[key], 0);
    return out.data({ dryRun: summaries[0].dryRun, created: total('created'), updated: total('updated'), unchanged: total('unchanged'), skipped: total('skipped'), rejected: total('rejected'), files: summaries });
  }
  for (const summary of summaries) renderSummary(out, summary, displayUrl);
  if (summaries[0].dryRun) out.success(`dry run of ${summaries.length} files in one transaction: nothing was written`);
  else out.success(`${summaries.length} files imported in one transaction`);
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
  // at a terminal the groups the import changed, and one line for the rest; piped, every group
  const changed = (group: (typeof summary.groups)[number]) => group.created + group.updated + group.skipped + group.rejected > 0;
  const shown = out.io.stdoutIsTTY ? summary.groups.filter(changed) : summary.groups;
  const rest = summary.groups.filter((group) => !shown.includes(group));
  const sum = (key: 'created' | 'updated' | 'unchanged' | 'skipped' | 'rejected') => rest.reduce((total, group) => total + group[key], 0);
  const others = rest.length === 0 ? [] : [row(`${rest.length} other${rest.length === 1 ? '' : 's'}, unchanged`, { created: sum('created'), updated: sum('updated'), unchanged: sum('unchanged'), skipped: sum('skipped'), rejected: sum('rejected') })];
  const rows = [...shown.map((group) => row(group.group, group)), ...others, ...(summary.groups.length > 1 ? [row('total', summary)] : [])];
  // a file without rows has nothing to tabulate: the closing line gives its counts
  if (rows.length > 0) out.table(headers, rows);
  for (const column of summary.ignoredColumns) out.notice(`ignored column "${column}" (--ignore-unknown-columns)`);
  if (summary.assigned > 0) {
    const shown = summary.ids.assigned.slice(0, 20).join(', ');
    const more = summary.assigned > 20 ? `, … (${summary.assigned - 20} more; all in --json)` : '';
    const rows = `${summary.assigned.toLocaleString('en-US')} row${summary.assigned === 1 ? '' : 's'} without an id`;
    // a dry run's ids are provisional: the import draws new ones
    if (summary.dryRun) out.notice(`${rows} would be created with new ids`);
    else out.notice(`${rows} got: ${shown}${more}`);
  }
  for (const group of summary.missing) {
    const what = `${group.count.toLocaleString('en-US')} question${group.count === 1 ? '' : 's'} of ${group.group}`;
    const ids = `${group.ids.join(', ')}${group.count > group.ids.length ? ', …' : ''}`;
    if (summary.pruned > 0) out.warn(`${what} ${summary.dryRun ? 'would be' : group.count === 1 ? 'was' : 'were'} deactivated: not in this file (${ids})`);
    else out.notice(`${what} ${group.count === 1 ? 'is' : 'are'} in the database but not in this file (${ids}); --prune deactivates them`);
  }
  if (summary.reviewReset.length > 0) {
    const ids = summary.reviewReset.slice(0, 20).map((entry) => entry.id).join(', ');
    const more = summary.reviewReset.length > 20 ? `, … (${summary.reviewReset.length - 20} more; all in --json)` : '';
    const decided = [...new Set(summary.reviewReset.map((entry) => entry.previous))].join(' or ');
    out.warn(`${summary.reviewReset.length} ${decided} question${summary.reviewReset.length === 1 ? '' : 's'} changed and ${summary.dryRun ? 'would be' : summary.reviewReset.length === 1 ? 'is' : 'are'} pending again: ${ids}${more}`);
  }
  if (summary.warningCount > 0) {
    out.warn(`${summary.warningCount.toLocaleString('en-US')} row${summary.warningCount === 1 ? '' : 's'} to look at:`);
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
