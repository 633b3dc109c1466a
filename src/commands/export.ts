import { Option, type Command } from 'commander';
import type { ExportFilters, ExportFormat, ExportKind, ExportSummary } from '../db/export/index.js';
import { UsageError } from '../errors.js';
import type { Output, Progress } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { collect } from './flags.js';

interface ExportFlags {
  format?: ExportFormat;
  force?: boolean;
  excel?: boolean;
  exam?: string[];
  reviewStatus?: ExportFilters['reviewStatus'];
  active?: boolean;
  since?: string;
  ids?: string;
  channel?: string[];
  subChannel?: string[];
  status?: string;
  layout?: 'open-interview-data';
}

/** The flag that sets each filter, for messages. */
const FLAG_OF_FILTER: Record<keyof ExportFilters, string> = {
  exams: '--exam',
  reviewStatus: '--review-status',
  active: '--active',
  since: '--since',
  ids: '--ids',
  channels: '--channel',
  subChannels: '--sub-channel',
  status: '--status',
};

function withOutputOptions(command: Command): Command {
  return command
    .argument('[file]', 'where to write (.csv, .json, .jsonl, .xlsx, .xml, .gift); - or none: standard output')
    .addOption(new Option('--format <format>', 'file format (default: from the file name; csv on standard output)').choices(['csv', 'json', 'jsonl', 'xlsx', 'moodle-xml', 'gift', 'aiken']))
    .option('--force', 'replace the file if it exists')
    .option('--excel', 'CSV for spreadsheets: UTF-8 BOM, CRLF, formula-like cells behind an apostrophe (import with --excel)')
    .option('--since <time>', 'only records updated at or after this time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z)')
    .option('--ids <file|list>', 'only these ids: a file with one id a line, or a,b,c');
}

export function registerExportCommands(program: Command, context: CommandContext): void {
  const exportCommand = program.command('export').description('write questions, exams or certifications in the import formats (CSV, JSON, JSON Lines)');

  withOutputOptions(exportCommand.command('questions').description('export questions: PingToPass one row per question with option_a…option_f and correct; open-interview every import column'))
    .option('--exam <code>', 'PingToPass: only this exam (repeatable)', collect)
    .addOption(new Option('--review-status <status>', 'PingToPass: only questions with this review status').choices(['pending', 'approved', 'rejected']))
    .option('--active', 'PingToPass: only active questions')
    .option('--channel <channel>', 'open-interview: only this channel (repeatable)', collect)
    .option('--sub-channel <name>', 'open-interview: only this sub-channel (repeatable)', collect)
    .option('--status <status>', 'open-interview: only questions with this status')
    .addOption(new Option('--layout <layout>', "open-interview: write DIR/<channel>.json files in the shape of the system's data/questions/*.json").choices(['open-interview-data']))
    .addHelpText(
      'after',
      examples([
        ['qbank export questions bank.csv', 'every question, in the format `qbank import` reads'],
        ['qbank export questions --exam CCNA-200-301 --review-status approved bank.jsonl', 'one exam’s approved questions as JSON Lines'],
        ['qbank export questions bank.gift', 'PingToPass questions as GIFT for Moodle (bank.xml: Moodle XML; --format aiken: Aiken)'],
        ['qbank export questions --channel devops > devops.csv', 'open-interview: one channel, CSV on standard output'],
        ['qbank export questions bank.csv --excel', 'for a spreadsheet (import it back with `qbank import --excel bank.csv`)'],
        ['qbank export questions --json bank.json', 'the summary (rows per exam or channel, bytes) as JSON'],
        ['qbank export questions --layout open-interview-data data/questions', "open-interview: one JSON file per channel, as the system's repository keeps them"],
      ]),
    )
    .action(run(context, 'questions'));

  withOutputOptions(exportCommand.command('exams').description('export PingToPass exams (import them with `qbank import exams FILE`)'))
    .option('--exam <code>', 'only this exam (repeatable)', collect)
    .option('--active', 'only active exams')
    .addHelpText(
      'after',
      examples([
        ['qbank export exams exams.csv', 'every exam'],
        ['qbank export exams --exam CCNA-200-301 --format json', 'one exam as JSON on standard output'],
      ]),
    )
    .action(run(context, 'exams'));

  withOutputOptions(exportCommand.command('certifications').description('export open-interview certifications (import them with `qbank import certifications FILE`)'))
    .option('--status <status>', 'only certifications with this status')
    .addHelpText(
      'after',
      examples([
        ['qbank export certifications certs.csv', 'every certification'],
        ['qbank export certifications --status active certs.jsonl', 'the active ones as JSON Lines'],
      ]),
    )
    .action(run(context, 'certifications'));
}

function run(context: CommandContext, kind: ExportKind) {
  return async (file: string | undefined, flags: ExportFlags, command: Command) => {
    const out = context.output(command);
    if (flags.layout) return runDataLayout(context, file, flags, command);
    const toStdout = file === undefined || file === '-';
    if (toStdout && out.json) throw new UsageError('--json prints the summary on standard output, where the data would go: name a FILE to write the data to');
    const format = await formatOf(file, flags.format);
    if (format === 'xlsx' && toStdout) throw new UsageError('a workbook is a binary file: name the .xlsx file to write', { hint: 'qbank export questions bank.xlsx' });
    if (flags.excel && format !== 'csv') throw new UsageError(`--excel writes CSV, not ${format}`, { hint: 'name the file .csv, or pass --format csv' });
    const filters = await filtersOf(flags, context.io.cwd);
    const { database, config } = await context.database(command, 'read', out, { intMode: 'bigint' });
    const system = await context.system(database, config);
    const { exportRecords } = await import('../db/export/index.js');
    const { fileExportSink, streamExportSink } = await import('../db/export/sinks.js');
    let progress: Progress | undefined;
    let sink: Awaited<ReturnType<typeof fileExportSink>> | undefined;
    try {
      sink = toStdout ? undefined : await fileExportSink(file, { cwd: context.io.cwd, force: flags.force });
      const summary = await exportRecords(database, sink ?? streamExportSink(context.io.stdout), {
        system,
        kind,
        format,
        excel: flags.excel,
        filters,
        onProgress: toStdout
          ? undefined
          : ({ rows, bytes }) => {
              progress ??= out.progress(`exporting ${kind} to ${file}`, undefined, ' rows');
              progress.update(rows, `${(bytes / 1e6).toFixed(1)} MB`);
            },
      });
      await sink?.commit();
      progress?.finish();
      progress = undefined;
      if (!toStdout) renderSummary(out, { ...summary, file }, database.displayUrl);
      else renderSkipped(out, summary);
    } catch (error) {
      await sink?.abort();
      throw await withFlagHints(error);
    } finally {
      progress?.finish();
    }
  };
}

/** `--layout open-interview-data DIR`: one file per channel under DIR. */
async function runDataLayout(context: CommandContext, dir: string | undefined, flags: ExportFlags, command: Command): Promise<void> {
  const out = context.output(command);
  if (dir === undefined || dir === '-') throw new UsageError('--layout open-interview-data writes one file per channel: name the directory, e.g. data/questions');
  if (flags.format || flags.excel) throw new UsageError(`--layout open-interview-data writes the system's JSON files: ${flags.format ? '--format' : '--excel'} does not go with it`);
  const filters = await filtersOf(flags, context.io.cwd);
  const { database, config } = await context.database(command, 'read', out, { intMode: 'bigint' });
  const system = await context.system(database, config);
  if (system !== 'open-interview') throw new UsageError(`--layout open-interview-data is the open-interview system's layout; this database holds ${system}`);
  const { exportDataLayout } = await import('../db/export/data-layout.js');
  let progress: Progress | undefined;
  try {
    const summary = await exportDataLayout(database, {
      dir,
      cwd: context.io.cwd,
      force: flags.force,
      filters,
      onProgress: ({ rows, bytes }) => {
        progress ??= out.progress(`exporting questions to ${dir}`, undefined, ' rows');
        progress.update(rows, `${(bytes / 1e6).toFixed(1)} MB`);
      },
    });
    progress?.finish();
    progress = undefined;
    if (out.json) return out.data({ system, kind: 'questions', layout: 'open-interview-data', ...summary });
    out.table(['channel', 'questions', 'file'], summary.files.map((file) => [file.channel, file.rows, file.file]));
    out.success(`exported ${summary.rows.toLocaleString('en-US')} questions from ${database.displayUrl} to ${summary.files.length} files under ${dir} (${summary.seconds.toFixed(1)} s)`);
  } catch (error) {
    throw await withFlagHints(error);
  } finally {
    progress?.finish();
  }
}

async function formatOf(file: string | undefined, given: ExportFormat | undefined): Promise<ExportFormat> {
  if (given) return given;
  if (file === undefined || file === '-') return 'csv';
  const { formatFromPath } = await import('../db/import/records.js');
  const format = formatFromPath(file);
  if (!format) throw new UsageError(`cannot tell the format of ${file} from its name`, { hint: 'name it .csv, .json, .jsonl, .xlsx, .xml (Moodle XML) or .gift, or pass --format' });
  return format;
}

async function filtersOf(flags: ExportFlags, cwd: string): Promise<ExportFilters> {
  let since: Date | undefined;
  if (flags.since !== undefined) {
    since = new Date(flags.since);
    if (Number.isNaN(since.getTime())) throw new UsageError(`--since takes a time such as 2026-01-31 or 2026-01-31T12:00:00Z, not "${flags.since}"`);
  }
  return {
    exams: flags.exam,
    reviewStatus: flags.reviewStatus,
    active: flags.active,
    since,
    ids: flags.ids === undefined ? undefined : await idsOf(flags.ids, cwd),
    channels: flags.channel,
    subChannels: flags.subChannel,
    status: flags.status,
  };
}

/** `--ids`: a file that exists holds one id a line; anything else is a comma-separated list. */
async function idsOf(value: string, cwd: string): Promise<string[]> {
  const { readFile, stat } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  const path = resolve(cwd, value);
  const isFile = await stat(path).then((info) => info.isFile(), () => false);
  const text = isFile ? await readFile(path, 'utf8') : value;
  const ids = text
    .split(isFile ? /\r?\n/ : ',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) throw new UsageError(`--ids ${isFile ? `file ${value} holds` : 'names'} no ids`);
  return ids;
}

/** The service states what went wrong; here it gets the flag that answers it. */
async function withFlagHints(error: unknown): Promise<unknown> {
  const { OutputFileExistsError } = await import('../output-file.js');
  const { InapplicableFilterError } = await import('../db/export/filters.js');
  const { ExcelNeedsCsvError } = await import('../db/export/index.js');
  if (error instanceof OutputFileExistsError) return error.withHint('choose another name, or pass --force to replace it');
  if (error instanceof InapplicableFilterError) {
    return new UsageError(`${FLAG_OF_FILTER[error.filter]} does not apply to ${error.system} ${error.kind}`, { hint: `see \`qbank export ${error.kind} --help\`` });
  }
  if (error instanceof ExcelNeedsCsvError) return new UsageError(`--excel writes CSV, not ${error.format}`, { hint: 'name the file .csv, or pass --format csv' });
  return error;
}

/** Moodle XML, GIFT, Aiken: the questions the format could not hold, on stderr. */
function renderSkipped(out: Output, summary: ExportSummary): void {
  if (!summary.skipped || summary.skipped.count === 0) return;
  out.warn(`${summary.skipped.count.toLocaleString('en-US')} question${summary.skipped.count === 1 ? '' : 's'} left out: ${summary.format} cannot hold ${summary.skipped.count === 1 ? 'it' : 'them'}`);
  for (const { id, reason } of summary.skipped.reasons) out.info(`  ${id}: ${reason}`);
  if (summary.skipped.count > summary.skipped.reasons.length) out.info(`  … and ${(summary.skipped.count - summary.skipped.reasons.length).toLocaleString('en-US')} more`);
}

function renderSummary(out: Output, summary: ExportSummary & { file: string }, displayUrl: string): void {
  if (out.json) return out.data(summary);
  renderSkipped(out, summary);
  out.table([summary.groupBy, summary.kind], [...summary.groups.map((group) => [group.group, group.rows]), ...(summary.groups.length > 1 ? [['total', summary.rows]] : [])]);
  const size = summary.bytes >= 1e6 ? `${(summary.bytes / 1e6).toFixed(1)} MB` : `${summary.bytes.toLocaleString('en-US')} bytes`;
  out.success(`exported ${summary.rows.toLocaleString('en-US')} ${summary.kind} from ${displayUrl} to ${summary.file} (${summary.format}, ${size}, ${summary.seconds.toFixed(1)} s)`);
}
