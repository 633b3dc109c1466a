import { Option, type Command } from 'commander';
import type { EnqueueResult } from '../db/check/enqueue.js';
import type { Fix } from '../db/check/fixes.js';
import type { CheckReport } from '../db/check/model.js';
import { ExitCode, UsageError } from '../errors.js';
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
}

export function registerCheckCommand(program: Command, context: CommandContext): void {
  program
    .command('check')
    .description('check a question bank (the configured database, read only) for broken rows, bad keys, duplicates and other quality problems')
    .argument('[file]', 'an import file to check before importing it, instead of the database')
    .option('--rules <a,b>', 'only these rules (repeatable, comma-separated)', commaSeparated)
    .option('--skip-rules <a,b>', 'not these rules (repeatable, comma-separated)', commaSeparated)
    .option('--strict', 'warnings fail the check too (exit 6)')
    .addOption(new Option('--format <format>', 'how to report: table (default), json, junit (CI test reports), github (workflow annotations)').choices(['table', 'json', 'junit', 'github']))
    .option('--enqueue', "open-interview: hand each finding about a question to the system's bots as a work_queue item (once per question and rule)")
    .option('--fix', 'apply the fixes that lose nothing (option orders renumbered, JSON whitespace removed), listed first, in one transaction')
    .option('-y, --yes', 'with --fix: apply without asking')
    .addHelpText(
      'after',
      examples([
        ['qbank check', 'every rule on the configured database'],
        ['qbank check --fix --yes', 'renumber option orders and compact JSON columns, without a prompt'],
        ['qbank check --enqueue --rules truncated-answer', "open-interview: queue the cut-off answers for the bots to improve"],
        ['qbank check --rules duplicate-question,near-duplicate-question', 'only the duplicate rules'],
        ['qbank check --strict --format github', 'in a GitHub workflow: annotations, and warnings fail too'],
        ['qbank check --format junit > check.xml', 'a JUnit report for CI'],
        ['qbank check --json', 'findings, summary and the rules that ran, as JSON'],
      ]) + '\nExit codes: 0 no errors, 6 errors found (or warnings with --strict).\n',
    )
    .action(async (file: string | undefined, flags: CheckFlags, command: Command) => {
      const format: CheckFormat = flags.format ?? (context.globals(command).json ? 'json' : 'table');
      const out = context.output(command, { json: format === 'json' });
      if (file !== undefined) throw new UsageError('checking an import file is not available yet: import it into a scratch database (--url file:scratch.db) and check that');
      if (flags.yes && !flags.fix) throw new UsageError('--yes confirms --fix: give both, or neither');
      // Never a prompt without a terminal: refuse before reading anything.
      if (flags.fix && !flags.yes && !out.interactive) await out.confirm('check --fix changes the database');
      const { database, config } = await context.database(command, flags.enqueue || flags.fix ? 'write' : 'read', out);
      const system = await context.system(database, config);
      if (flags.enqueue && system !== 'open-interview') throw new UsageError(`--enqueue hands findings to the open-interview system's work queue; this database holds ${system}`);
      const settings = { ...(await settingsOf(context, flags, system)), collectFixes: Boolean(flags.fix) };
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

async function settingsOf(context: CommandContext, flags: CheckFlags, system: import('../config.js').SystemName) {
  const { readConfigFile } = await import('../config.js');
  const { parseCheckSection, resolveCheckSettings, UnknownRuleError } = await import('../db/check/settings.js');
  const section = parseCheckSection((readConfigFile(context.io.cwd) as { check?: unknown } | undefined)?.check, 'qbank.config.json');
  try {
    return resolveCheckSettings({ system, rules: flags.rules, skipRules: flags.skipRules, section });
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

async function render(out: Output, format: CheckFormat, report: RenderedReport, displayUrl: string): Promise<void> {
  const { renderGithub, renderJunit, sortFindings, where } = await import('../db/check/formats.js');
  const sorted = { ...report, findings: sortFindings(report.findings) };
  const queued = report.enqueued;
  if (queued) out.notice(`queued ${queued.queued} work item${queued.queued === 1 ? '' : 's'} for the bots (${queued.alreadyPending} already pending, run ${queued.runId})`);
  if (format === 'json') return out.data(sorted);
  if (format === 'junit') return out.line(renderJunit(sorted));
  if (format === 'github') {
    if (sorted.findings.length > 0) out.line(renderGithub(sorted));
    return;
  }
  if (sorted.findings.length > 0) {
    out.table(['severity', 'rule', 'where', 'finding'], sorted.findings.map((finding) => [finding.severity, finding.rule, where(finding), finding.message + (finding.related.length ? ` [${finding.related.join(', ')}]` : '')]));
  }
  const { errors, warnings } = report.summary;
  const line = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} from ${report.rules.length} rules on ${displayUrl}`;
  if (errors === 0 && warnings === 0) out.success(line);
  else out.info(line);
}
