/**
 * `npm run bench -- xlsx`: the figures of the spreadsheet issue, measured in one run.
 *
 *   - importing the 200,000-question bank from .xlsx against the same bank from CSV (target: at
 *     most 2x), with peak RSS (target: at most 400 MB);
 *   - exporting it to .xlsx against exporting it to CSV (target: at most 2x).
 *
 * qbank runs from the sources (through tsx), as the tests run it; each run is a child process whose
 * peak RSS covers its worker threads.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateBank } from './import.js';
import { benchDir, printTable, root, s, timeCommand } from './support.js';

const QUESTIONS = Number(process.env.QBANK_BENCH_XLSX_QUESTIONS ?? 200_000);
const PEAK_RSS = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\npeak-rss-kb=' + u.maxRSS + '\\n'); });",
)}`;
const ENTRY = `const { main } = await import(${JSON.stringify(join(root, 'src', 'main.ts'))}); process.exitCode = await main(process.argv.slice(1));`;

interface Run {
  seconds: number;
  peakMb: number;
  summary: Record<string, unknown>;
}

function qbank(args: string[], database: string, json = true): Run {
  const result = timeCommand('node', ['--import', 'tsx', '--import', PEAK_RSS, '--input-type=module', '-e', ENTRY, '--', ...args, ...(json ? ['--json'] : [])], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', TURSO_DATABASE_URL: `file:${database}` },
  });
  if (result.status !== 0) throw new Error(`qbank ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  const peak = /peak-rss-kb=(\d+)/.exec(result.stderr);
  return { seconds: result.seconds, peakMb: peak ? Number(peak[1]) / 1024 : NaN, summary: json ? JSON.parse(result.stdout) : {} };
}

function freshDatabase(path: string): void {
  rmSync(path, { force: true });
  qbank(['db', 'push', '--schema', 'pingtopass'], path, false);
  qbank(['import', 'exams', join(root, 'fixtures', 'pingtopass', 'exams.csv')], path, false);
}

export async function run(): Promise<void> {
  const dir = benchDir('xlsx');
  const csv = join(dir, 'bank.csv');
  await generateBank(csv, QUESTIONS);
  const database = join(dir, 'bank.db');

  freshDatabase(database);
  const csvImport = qbank(['import', csv], database);
  const csvExport = qbank(['export', 'questions', join(dir, 'export.csv')], database);
  const xlsxExport = qbank(['export', 'questions', join(dir, 'export.xlsx')], database);
  const exported = join(dir, 'export.xlsx');

  // the same rows from each format into an empty database: the exported CSV against the exported workbook
  freshDatabase(database);
  const csvAgain = qbank(['import', join(dir, 'export.csv')], database);
  freshDatabase(database);
  const xlsxImport = qbank(['import', exported], database);
  const same = qbank(['import', exported], database);

  const mb = (path: string) => `${(statSync(path).size / 1e6).toFixed(0)} MB`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  printTable(`${QUESTIONS.toLocaleString('en-US')} questions (CSV ${mb(join(dir, 'export.csv'))}, xlsx ${mb(exported)})`, [
    ['generated CSV import (reference)', s(csvImport.seconds), `${csvImport.peakMb.toFixed(0)} MB peak`, ''],
    ['import from CSV (export.csv)', s(csvAgain.seconds), `${csvAgain.peakMb.toFixed(0)} MB peak`, ''],
    ['import from xlsx (export.xlsx)', s(xlsxImport.seconds), `<= 2x CSV: ${ratio(xlsxImport.seconds, csvAgain.seconds)}`, xlsxImport.seconds <= 2 * csvAgain.seconds ? 'ok' : 'MISSED'],
    ['  peak RSS', `${xlsxImport.peakMb.toFixed(0)} MB`, '<= 400 MB', xlsxImport.peakMb <= 400 ? 'ok' : 'MISSED'],
    ['  again (no-op)', s(same.seconds), `unchanged ${String(same.summary.unchanged)}`, same.summary.created === 0 && same.summary.updated === 0 ? 'ok' : 'MISSED'],
    ['export to CSV', s(csvExport.seconds), `${csvExport.peakMb.toFixed(0)} MB peak`, ''],
    ['export to xlsx', s(xlsxExport.seconds), `<= 2x CSV: ${ratio(xlsxExport.seconds, csvExport.seconds)}`, xlsxExport.seconds <= 2 * csvExport.seconds ? 'ok' : 'MISSED'],
    ['  peak RSS', `${xlsxExport.peakMb.toFixed(0)} MB`, '', ''],
  ]);
  rmSync(dir, { recursive: true, force: true });
}
