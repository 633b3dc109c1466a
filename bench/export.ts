/**
 * `npm run bench -- export`: the figures of the export issue, measured in one run on this machine
 * and printed beside their references.
 *
 *   - 200,000 PingToPass questions (4 options each) from a file: database to CSV, against
 *     `sqlite3 -csv` running the equivalent query (questions joined with their exam, options
 *     pivoted into one row) on the same file; JSON Lines against the same reference;
 *   - peak RSS of the qbank process;
 *   - the same bank through the local libSQL server with 20 ms added to every request: rows per
 *     round trip.
 *
 * qbank runs as users run it (`bin/qbank.js`, from dist: `npm run bench` builds first); its CPU
 * time (every thread's) and the load average are printed beside the wall times.
 * QBANK_BENCH_EXPORT_DB=PATH measures an existing bank of 200,000 questions instead of building one.
 */
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { startLibsqlServer } from '../test/support/libsql-server.js';
import { generateBank } from './import.js';
import { benchDir, loadAverage, medianSeconds, printTable, root, runQbank, runQbankAsync, s, timeCommand, type QbankRun } from './support.js';

const QUESTIONS = 200_000;
const RSS_LIMIT_MB = 150;

/** What `sqlite3 -csv` runs: the rows qbank writes, pivoted by SQL (options by their order). */
const SQLITE3_QUERY = `SELECT q.id, e.code, q.type, q.text,
  max(CASE WHEN o."order" = 0 THEN o.text END), max(CASE WHEN o."order" = 1 THEN o.text END), max(CASE WHEN o."order" = 2 THEN o.text END),
  max(CASE WHEN o."order" = 3 THEN o.text END), max(CASE WHEN o."order" = 4 THEN o.text END), max(CASE WHEN o."order" = 5 THEN o.text END),
  group_concat(CASE WHEN o.is_correct THEN char(65 + o."order") END, ';'),
  q.explanation, q.difficulty, q.objective_id, q.tags, q.reference_url, q.exhibit_url, q.review_status, q.reviewed_by, q.is_active, q.ai_generated, q.ai_model
FROM questions AS q JOIN exams AS e ON e.id = q.exam_id LEFT JOIN answer_options AS o ON o.question_id = q.id
GROUP BY q.id ORDER BY q.id;`;

type Run = QbankRun<{ rows: number; bytes: number; roundTrips: number }>;

/** The median of three exports (after a warm-up), and the last one's figures. */
function medianExport(format: 'csv' | 'jsonl', out: string, env: Record<string, string>): Run {
  let last!: Run;
  const { median } = medianSeconds(3, () => {
    last = runQbank(['export', 'questions', out, '--force'], env);
    return { seconds: last.seconds, status: 0, stdout: '', stderr: '' };
  });
  if (last.summary.rows !== QUESTIONS) throw new Error(`expected ${QUESTIONS} rows in ${format}, got ${last.summary.rows}`);
  return { ...last, seconds: median };
}

async function remoteRowsPerRoundTrip(database: string, dir: string): Promise<Run> {
  const copy = join(dir, 'remote.db');
  copyFileSync(database, copy);
  const keys = generateEd25519KeyPair();
  const server = await startLibsqlServer({ dbPath: copy, publicKeys: [keys.publicKey], latencyMs: 20 });
  try {
    const env = { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN: signToken({ a: 'rw' }, keys.privateKey) };
    return await runQbankAsync(['export', 'questions', join(dir, 'remote.csv'), '--force'], env);
  } finally {
    await server.close();
  }
}

/** The 200,000-question bank, built as users build one: push, exams, import. */
async function buildBank(dir: string): Promise<string> {
  const bank = join(dir, 'bank-200k.csv');
  await generateBank(bank, QUESTIONS);
  const database = join(dir, 'bank.db');
  const env = { TURSO_DATABASE_URL: `file:${database}` };
  for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', join(root, 'fixtures', 'pingtopass', 'exams.csv')], ['import', bank]]) runQbank(args, env);
  return database;
}

export async function run(): Promise<void> {
  const dir = benchDir('export');
  const database = process.env.QBANK_BENCH_EXPORT_DB ?? (await buildBank(dir));
  const env = { TURSO_DATABASE_URL: `file:${database}` };
  console.log(`${database}: ${QUESTIONS.toLocaleString('en-US')} questions, ${(statSync(database).size / 1e6).toFixed(0)} MB`);

  const loadBefore = loadAverage();
  const csv = medianExport('csv', join(dir, 'out.csv'), env);
  const jsonl = medianExport('jsonl', join(dir, 'out.jsonl'), env);
  const reference = medianSeconds(3, () => timeCommand('sh', ['-c', `sqlite3 -csv '${database}' "$0" > '${join(dir, 'sqlite3.csv')}'`, SQLITE3_QUERY]));
  const ratio = (seconds: number) => seconds / reference.median;
  const verdict = (seconds: number) => `${ratio(seconds).toFixed(2)}× ${ratio(seconds) <= 1.5 ? 'met' : 'MISSED'}`;
  const remote = await remoteRowsPerRoundTrip(database, dir);
  const perTrip = remote.summary.rows / Math.max(1, remote.summary.roundTrips);
  printTable(`export, ${QUESTIONS.toLocaleString('en-US')} PingToPass questions (load average ${loadBefore} before, ${loadAverage()} after)`, [
    ['export to CSV (file:)', s(csv.seconds), `sqlite3 -csv: ${s(reference.median)}`, verdict(csv.seconds)],
    ['export to JSON Lines (file:)', s(jsonl.seconds), `sqlite3 -csv: ${s(reference.median)}`, verdict(jsonl.seconds)],
    ['CPU time, CSV / JSON Lines', `${s(csv.cpuSeconds)} / ${s(jsonl.cpuSeconds)}`, 'both threads', ''],
    ['peak RSS, CSV', `${csv.peakMb.toFixed(0)} MB`, `≤ ${RSS_LIMIT_MB} MB`, csv.peakMb <= RSS_LIMIT_MB ? 'met' : 'MISSED'],
    ['peak RSS, JSON Lines', `${jsonl.peakMb.toFixed(0)} MB`, `≤ ${RSS_LIMIT_MB} MB`, jsonl.peakMb <= RSS_LIMIT_MB ? 'met' : 'MISSED'],
    ['remote, 20 ms latency', s(remote.seconds), `${remote.summary.roundTrips} round trips`, `${Math.round(perTrip).toLocaleString('en-US')} rows/round trip ${perTrip >= 2000 ? 'met' : 'MISSED'} (≥ 2,000)`],
    ['peak RSS, remote', `${remote.peakMb.toFixed(0)} MB`, `≤ ${RSS_LIMIT_MB} MB`, remote.peakMb <= RSS_LIMIT_MB ? 'met' : 'MISSED'],
  ]);
  rmSync(dir, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
