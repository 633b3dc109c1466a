import { Option, type Command } from 'commander';
import type { EnqueueResult } from '../db/check/enqueue.js';
import type { Fix } from '../db/check/fixes.js';
import type { CheckReport, CheckSettings, CheckSource } from '../db/check/model.js';
import type { FileFormat } from '../db/import/records.js';
import type { SystemName } from '../config.js';
import { CheckFailedError, ExitCode, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { commaSeparated } from './flags.js';

type CheckFormat = 'table' | 'json' | 'junit' | 'github';

interface CheckFlags {
  rules?: string[];
  skipRules?: string[];
  strict?: boolean;
  format?: CheckFormat;
  enqueue?: boolean;
  fix?: boolean;
  yes?: boolean;
  fileFormat?: string;
  encoding?: string;
  ignoreUnknownColumns?: boolean;
  excel?: boolean;
  maxFieldSize?: string;
}

const FILE_KINDS = ['questions', 'exams', 'certifications'] as const;
/** The input formats `import --format` names. */
const FILE_FORMATS = ['csv', 'json', 'jsonl', 'xlsx', 'moodle-xml', 'gift', 'aiken'];

export function registerCheckCommand(program: Command, context: CommandContext): void {
  program
    .command('check')
    .description('check a question bank (the configured database, read only) or an import file before importing it, for broken rows, bad keys, duplicates and other quality problems')
    .argument('[kind-or-file]', 'an import file to check instead of the database; or its kind (questions, exams, certifications) followed by the file')
    .argument('[file]', 'after a kind: the import file')
    .option('--rules <a,b>', 'only these rules (repeatable, comma-separated)', commaSeparated)
    .option('--skip-rules <a,b>', 'not these rules (repeatable, comma-separated)', commaSeparated)
    .option('--strict', 'warnings fail the check too (exit 6)')
    .addOption(new Option('--format <format>', 'how to report: table (default), json, junit (CI test reports), github (workflow annotations)').choices(['table', 'json', 'junit', 'github']))
    .option('--enqueue', "open-interview: hand each finding about a question to the system's bots as a work_queue item (once per question and rule)")
    .option('--fix', 'apply the fixes that lose nothing (option orders renumbered, JSON whitespace removed), listed first, in one transaction')
    .option('-y, --yes', 'with --fix: apply without asking')
    .addOption(new Option('--file-format <format>', 'FILE: its format, as `import --format` (default: from the file name)').choices(FILE_FORMATS))
    .option('--encoding <name>', 'FILE: text encoding when the file has no byte-order mark (default utf-8)')
    .option('--ignore-unknown-columns', 'FILE: skip columns (or JSON keys) qbank does not know instead of reporting them')
    .option('--excel', 'FILE: a CSV written by `qbank export --excel`')
    .option('--max-field-size <chars>', 'FILE: longest field accepted, in characters', '1048576')
    .addHelpText(
      'after',
      examples([
        ['qbank check', 'every rule on the configured database'],
        ['qbank check bank.csv --schema pingtopass', 'an import file before importing it: no database needed, nothing written'],
        ['qbank check certifications certs.json --schema open-interview', 'a file of another kind, as `qbank import KIND FILE` names it'],
        ['qbank check --fix --yes', 'renumber option orders and compact JSON columns, without a prompt'],
        ['qbank check --enqueue --rules truncated-answer', "open-interview: queue the cut-off answers for the bots to improve"],
        ['qbank check --rules duplicate-question,near-duplicate-question', 'only the duplicate rules'],
        ['qbank check --strict --format github', 'in a GitHub workflow: annotations, and warnings fail too'],
        ['qbank check --format junit > check.xml', 'a JUnit report for CI'],
        ['qbank check --json', 'findings, summary and the rules that ran, as JSON'],
      ]) + '\nExit codes: 0 no errors, 6 errors found (or warnings with --strict).\n',
    )
    .action(async (first: string | undefined, second: string | undefined, flags: CheckFlags, command: Command) => {
      const format: CheckFormat = flags.format ?? (context.globals(command).json ? 'json' : 'table');
      const out = context.output(command, { json: format === 'json' });
      if (first !== undefined) return checkFileCommand(context, command, out, format, fileArguments(first, second), flags);
      if (flags.yes && !flags.fix) throw new UsageError('--yes confirms --fix: give both, or neither');
      // Never a prompt without a terminal: refuse before reading anything.
      if (flags.fix && !flags.yes && !out.interactive) await out.confirm('check --fix changes the database');
      const { database, config } = await context.database(command, flags.enqueue || flags.fix ? 'write' : 'read', out);
      const system = await context.system(database, config);
      if (flags.enqueue && system !== 'open-interview') throw new UsageError(`--enqueue hands findings to the open-interview system's work queue; this database holds ${system}`);
      const settings = { ...(await settingsOf(context, flags, system, 'database')), collectFixes: Boolean(flags.fix) };
      const { checkDatabase } = await import('../db/check/database.js');
      const progress = format === 'table' ? out.progress('checking', undefined, ' rows') : undefined;
      let report: CheckReport & { fixes: Fix[] };
      try {
        report = await checkDatabase(database, settings, { now: context.io.now(), onProgress: progress ? (rows) => progress.update(rows) : undefined });
      } finally {
        progress?.finish();
      }
      const queued = flags.enqueue ? await enqueue(context, database, report, flags) : undefined;
      const fixed = flags.fix ? await fix(context, out, database, report.fixes, system, flags) : undefined;
      const { fixes, ...found } = report;
      await render(out, format, { ...found, ...(queued ? { enqueued: queued } : {}), ...(fixed ? { fixes, fixed } : {}) }, database.displayUrl);
      if (report.summary.errors > 0 || (flags.strict && report.summary.warnings > 0)) context.exitCode = ExitCode.checkFailed;
    });
}

/** `check FILE` or `check KIND FILE`, as `import [KIND] FILE` takes them. */
function fileArguments(first: string, second: string | undefined): { file: string; kind: (typeof FILE_KINDS)[number] } {
  if (second === undefined) return { file: first, kind: 'questions' };
  if (!(FILE_KINDS as readonly string[]).includes(first)) throw new UsageError(`"${first}" is not a kind of import file`, { hint: `name one file, or a kind (${FILE_KINDS.join(', ')}) and the file: qbank check exams exams.csv` });
  return { file: second, kind: first as (typeof FILE_KINDS)[number] };
}

/** An import file, read as the import reads it; no database is opened unless one is needed to tell the system. */
async function checkFileCommand(context: CommandContext, command: Command, out: Output, format: CheckFormat, target: { file: string; kind: (typeof FILE_KINDS)[number] }, flags: CheckFlags): Promise<void> {
  if (flags.enqueue || flags.fix || flags.yes) throw new UsageError(`--${flags.enqueue ? 'enqueue' : flags.fix ? 'fix' : 'yes'} works on the database; an import file is only read`, { hint: 'import the file, then run `qbank check` on the database' });
  const system = await fileSystem(context, command, out);
  const settings = await settingsOf(context, flags, system, 'file');
  const { checkFiles } = await import('../db/check/file.js');
  const progress = format === 'table' ? out.progress(`checking ${target.file}`, undefined, ' rows') : undefined;
  let report: import('../db/check/file.js').FileCheckReport;
  try {
    report = await checkFiles([{ file: target.file, kind: target.kind, format: flags.fileFormat as FileFormat | undefined }], settings, {
      ...fileReading(flags),
      cwd: context.io.cwd,
      system,
      validation: true,
      now: context.io.now(),
      onProgress: progress ? ({ rows }) => progress.update(rows) : undefined,
    });
  } catch (error) {
    throw await fileFlagHints(error);
  } finally {
    progress?.finish();
  }
  await render(out, format, report, target.file);
  if (report.summary.errors > 0 || (flags.strict && report.summary.warnings > 0)) context.exitCode = ExitCode.checkFailed;
}

/** How an import file is read: the flags `check FILE` shares with `import`. */
function fileReading(flags: { encoding?: string; ignoreUnknownColumns?: boolean; excel?: boolean; maxFieldSize?: string }) {
  const maxFieldChars = Number(flags.maxFieldSize ?? '1048576');
  if (!Number.isInteger(maxFieldChars) || maxFieldChars < 1) throw new UsageError(`--max-field-size must be a positive whole number, not "${flags.maxFieldSize}"`);
  return { encoding: flags.encoding, ignoreUnknownColumns: flags.ignoreUnknownColumns, excel: flags.excel, maxFieldChars };
}

async function fileFlagHints(error: unknown): Promise<unknown> {
  const { UnknownFormatError, KindNotInSystemError } = await import('../db/import/index.js');
  if (error instanceof UnknownFormatError) return new UsageError(error.message, { hint: `name it by its format (.csv, .json, .jsonl, …), or pass --file-format ${FILE_FORMATS.join('|')}` });
  if (error instanceof KindNotInSystemError) return new UsageError(error.message, { hint: `${error.hint}; pass --schema ${error.owner} if the file is meant for ${error.owner}` });
  return error;
}

/**
 * The system an import file is for: --schema, QBANK_SCHEMA or the target's schema; else the
 * configured database's, when one is configured. A file is checked without any database.
 */
async function fileSystem(context: CommandContext, command: Command, out: Output): Promise<SystemName> {
  const { resolveDatabaseConfig } = await import('../config.js');
  const globals = context.globals(command);
  const resolveWith = (flags: typeof globals) => resolveDatabaseConfig({ flags, env: context.io.env, cwd: context.io.cwd, access: 'read' });
  let config: ReturnType<typeof resolveWith> | undefined;
  try {
    config = resolveWith(globals);
  } catch (error) {
    if (!(error instanceof UsageError) || globals.url !== undefined || globals.target !== undefined) throw error;
    // no database can be named here (CI without a URL): the system can still be
    const schemaOnly = resolveWith({ ...globals, url: 'file::memory:' });
    if (schemaOnly.system) return schemaOnly.system;
  }
  if (config?.system) return config.system;
  if (config && config.source !== 'default') {
    const { database, config: opened } = await context.database(command, 'read', out);
    return context.system(database, opened);
  }
  throw new UsageError('say which system the file is for: no database is configured to tell', { hint: 'pass --schema pingtopass or --schema open-interview (or set QBANK_SCHEMA)' });
}

async function settingsOf(context: CommandContext, flags: Pick<CheckFlags, 'rules' | 'skipRules'>, system: SystemName, source: CheckSource): Promise<CheckSettings> {
  const { readConfigFile } = await import('../config.js');
  const { parseCheckSection, resolveCheckSettings, UnknownRuleError } = await import('../db/check/settings.js');
  const section = parseCheckSection((readConfigFile(context.io.cwd) as { check?: unknown } | undefined)?.check, 'qbank.config.json');
  try {
    return resolveCheckSettings({ system, rules: flags.rules, skipRules: flags.skipRules, section, source });
  } catch (error) {
    if (error instanceof UnknownRuleError) throw new UsageError(`--${error.list} names ${error.message}`, { hint: error.hint });
    throw error;
  }
}

async function enqueue(context: CommandContext, database: import('../db/client.js').Database, report: CheckReport, flags: CheckFlags): Promise<EnqueueResult> {
  const { resolveActor } = await import('../db/run-record.js');
  const { enqueueFindings } = await import('../db/check/enqueue.js');
  const run = { ...resolveActor({ env: context.io.env, cwd: context.io.cwd }), command: 'check', arguments: { enqueue: true, rules: flags.rules, skipRules: flags.skipRules }, target: database.displayUrl };
  return enqueueFindings(database, report.findings, run, context.io.now());
}

/** Lists the fixes first, asks at a terminal unless --yes, then applies them in one transaction. */
async function fix(context: CommandContext, out: Output, database: import('../db/client.js').Database, fixes: Fix[], system: string, flags: CheckFlags): Promise<{ applied: number; runId: string | null }> {
  if (fixes.length === 0) {
    out.notice('nothing to fix');
    return { applied: 0, runId: null };
  }
  for (const each of fixes) out.info(`fix: ${each.table} ${each.id} ${each.column}: ${JSON.stringify(each.from)} → ${JSON.stringify(each.to)} (${each.why})`);
  if (!flags.yes && !(await out.confirm(`apply these ${fixes.length} fixes to ${database.displayUrl}?`))) {
    out.notice('no fix applied');
    return { applied: 0, runId: null };
  }
  const { resolveActor } = await import('../db/run-record.js');
  const { applyFixes } = await import('../db/check/fixes.js');
  const run = { ...resolveActor({ env: context.io.env, cwd: context.io.cwd }), command: 'check', arguments: { fix: true, rules: flags.rules, skipRules: flags.skipRules }, target: database.displayUrl };
  const result = await applyFixes(database, fixes, run, system, context.io.now());
  out.success(`applied ${result.applied} of ${fixes.length} fixes (run ${result.runId})`);
  return result;
}

type RenderedReport = CheckReport & { enqueued?: EnqueueResult; fixes?: Fix[]; fixed?: { applied: number; runId: string | null } };

/** `subject`: what was checked, for the closing line (the database's URL, or the file). */
async function render(out: Output, format: CheckFormat, report: RenderedReport, subject: string): Promise<void> {
  const { renderJunit, sortFindings } = await import('../db/check/formats.js');
  sortFindings(report.findings);
  const queued = report.enqueued;
  if (queued) out.notice(`queued ${queued.queued} work item${queued.queued === 1 ? '' : 's'} for the bots (${queued.alreadyPending} already pending, run ${queued.runId})`);
  if (format === 'json') return out.data(report);
  if (format === 'junit') return out.line(renderJunit(report));
  if (format === 'github') {
    const { githubLine } = await import('../db/check/formats.js');
    for (const finding of report.findings) out.line(githubLine(finding));
    return;
  }
  await renderTable(out, report);
  const { errors, warnings } = report.summary;
  const ran = report.rules.filter((rule) => rule.notRun === undefined).length;
  const notRun = report.rules.length - ran;
  const line = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} from ${ran} rules on ${subject}${notRun > 0 ? ` (${notRun} not run: ${report.rules.filter((rule) => rule.notRun !== undefined).map((rule) => rule.rule).join(', ')})` : ''}`;
  if (errors === 0 && warnings === 0) out.success(line);
  else out.info(line);
}

async function renderTable(out: Output, report: CheckReport): Promise<void> {
  if (report.findings.length === 0) return;
  const { where } = await import('../db/check/formats.js');
  out.table(['severity', 'rule', 'where', 'finding'], report.findings.map((finding) => [finding.severity, finding.rule, where(finding), finding.message + (finding.related.length ? ` [${finding.related.join(', ')}]` : '')]));
}

/**
 * `import --check`: the content rules on the rows of the files about to be imported, before
 * anything is written. Errors refuse the import (exit 6) with the findings (table, or the check's
 * JSON document); warnings are shown and the import goes on. Rows the import's own validation
 * refuses are left to it (it stops at them, or sets them aside with --skip-invalid).
 */
export async function checkBeforeImport(
  context: CommandContext,
  out: Output,
  files: Array<{ file: string; kind: 'questions' | 'exams' | 'certifications'; format?: string }>,
  system: SystemName,
  flags: { encoding?: string; ignoreUnknownColumns?: boolean; excel?: boolean; maxFieldSize?: string; delimiter?: string; sheet?: string; exam?: string; difficulty?: number },
): Promise<CheckReport> {
  // the import's other reading flags, read as it reads them: a CSV's delimiter, an xlsx sheet, an interchange format's defaults
  const reader = { delimiter: flags.delimiter, sheet: flags.sheet, interchange: { exam: flags.exam, difficulty: flags.difficulty } };
  const settings = await settingsOf(context, {}, system, 'file');
  const { checkFiles } = await import('../db/check/file.js');
  const specs = files.map((spec) => ({ file: spec.file, kind: spec.kind, format: spec.format as FileFormat | undefined }));
  const report = await checkFiles(specs, settings, { ...fileReading(flags), reader, cwd: context.io.cwd, system, validation: false, now: context.io.now() });
  const { summary } = report;
  const names = files.map((spec) => spec.file).join(', ');
  if (summary.errors > 0) {
    await render(out, out.json ? 'json' : 'table', report, names);
    throw new CheckFailedError(`the content rules found ${summary.errors} error${summary.errors === 1 ? '' : 's'} in ${names}; nothing was imported`, { hint: `fix the file and import again; \`qbank check ${files[0]!.file}\` lists the findings with the import's own validation (a rule is turned off in qbank.config.json: "check": {"severities": {"RULE": "off"}})` });
  }
  if (summary.warnings > 0 && !out.json) {
    const { sortFindings, where } = await import('../db/check/formats.js');
    sortFindings(report.findings);
    out.warn(`${summary.warnings} warning${summary.warnings === 1 ? '' : 's'} from the content rules (the import goes on):`);
    for (const finding of report.findings.slice(0, 20)) out.info(`  ${where(finding)} ${finding.rule}: ${finding.message}`);
    if (report.findings.length > 20) out.info(`  … and ${report.findings.length - 20} more (\`qbank check ${files[0]!.file}\` lists them all)`);
  }
  return report;
}

/** The import's JSON summaries, each with the findings of its file under `check`. */
export function withCheckReport<T extends { file: string }>(summaries: T[], report: CheckReport): Array<T & { check: CheckReport }> {
  return summaries.map((summary) => ({ ...summary, check: { ...report, findings: report.findings.filter((finding) => finding.file === undefined || finding.file === summary.file) } }));
}
