/**
 * `npm run bench -- check`: the figures of the check issue, measured in one run on this machine.
 *
 *   - 200,000 PingToPass questions (4 options each): `qbank check` on the database against the
 *     import of the same bank into it (the time to beat), both as users run them (`bin/qbank.js`);
 *   - peak RSS of the check (≤ 300 MB);
 *   - `qbank check FILE` on the same bank's CSV, before import and without a database: the same
 *     two targets;
 *   - how many findings of each rule the generated bank gives (a sanity line, not a target), and
 *     the load average while it ran (the machine may be shared).
 */
import { rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateBank } from './import.js';
import { benchDir, printTable, qbankBin, root, s, timeCommand } from './support.js';

const QUESTIONS = 200_000;
const RSS_LIMIT_MB = 300;

/** Prints the child's peak resident set size on exit. */
const PEAK_RSS = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('\\npeak-rss-kb=' + process.resourceUsage().maxRSS + '\\n'));")}`;

function qbank(args: string[], env: Record<string, string>, okCodes: number[] = [0]) {
  const result = timeCommand('node', ['--import', PEAK_RSS, qbankBin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  if (!okCodes.includes(result.status ?? -1)) throw new Error(`qbank ${args.join(' ')} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
  const peak = /peak-rss-kb=(\d+)/.exec(result.stderr);
  return { ...result, peakMb: peak ? Number(peak[1]) / 1024 : Number.NaN };
}

export async function run(): Promise<void> {
  const dir = benchDir('check');
  const bank = join(dir, 'bank-200k.csv');
  await generateBank(bank, QUESTIONS);
  const database = join(dir, 'bank.db');
  const env = { TURSO_DATABASE_URL: `file:${database}` };
  qbank(['db', 'push', '--schema', 'pingtopass'], env);
  qbank(['import', 'exams', join(root, 'fixtures', 'pingtopass', 'exams.csv')], env);
  const imported = qbank(['import', bank], env);
  console.log(`built ${database}: ${QUESTIONS.toLocaleString('en-US')} questions, ${(statSync(database).size / 1e6).toFixed(0)} MB`);
  const checked = qbank(['check', '--json'], env, [0, 6]);
  const report = JSON.parse(checked.stdout) as { summary: { errors: number; warnings: number; byRule: Record<string, number> } };
  // no database for the file: --schema names the system, and nothing is opened
  const fileChecked = qbank(['check', bank, '--schema', 'pingtopass', '--json'], {}, [0, 6]);
  const fileReport = JSON.parse(fileChecked.stdout) as { summary: { errors: number; warnings: number } };
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  printTable(`check, ${QUESTIONS.toLocaleString('en-US')} PingToPass questions (file:)`, [
    ['qbank check (every rule)', s(checked.seconds), `import of the bank: ${s(imported.seconds)}`, met(checked.seconds <= imported.seconds)],
    ['peak RSS, check', `${checked.peakMb.toFixed(0)} MB`, `≤ ${RSS_LIMIT_MB} MB`, met(checked.peakMb <= RSS_LIMIT_MB)],
    ['qbank check FILE (the CSV)', s(fileChecked.seconds), `import of the bank: ${s(imported.seconds)}`, met(fileChecked.seconds <= imported.seconds)],
    ['peak RSS, check FILE', `${fileChecked.peakMb.toFixed(0)} MB`, `≤ ${RSS_LIMIT_MB} MB`, met(fileChecked.peakMb <= RSS_LIMIT_MB)],
    ['findings', `${report.summary.errors} errors, ${report.summary.warnings} warnings`, JSON.stringify(report.summary.byRule), ''],
    ['findings, FILE', `${fileReport.summary.errors} errors, ${fileReport.summary.warnings} warnings`, 'the same as the database', met(fileReport.summary.warnings === report.summary.warnings && fileReport.summary.errors === report.summary.errors)],
    ['load average (1, 5, 15 min)', loadavg().map((load) => load.toFixed(1)).join(', '), 'measured at the end of the run', ''],
  ]);
  rmSync(dir, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
