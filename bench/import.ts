/**
 * `npm run bench:import` (or `npm run bench -- import`): the figures of the import issue, measured
 * in one run on this machine and printed beside the references they are judged against.
 *
 *   - a 200,000-question PingToPass CSV into a fresh file: database, against `sqlite3 .import`
 *     and `sqlite-utils insert` of the same file into a flat table;
 *   - peak RSS of that import, and of a 1 GB file (`--quick` skips the 1 GB file);
 *   - questions per second into the local libSQL server with 20 ms added to every request.
 *
 * qbank runs as the CLI would (`bin/qbank.js`, from dist: run `npm run build` first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { startLibsqlServer } from '../test/support/libsql-server.js';
import { benchDir, printTable, qbankBin, root, s, timeCommand } from './support.js';
import { random } from '../test/support/random.js';

const EXAMS = ['CCNA-200-301', 'SAA-C03', 'SC-900'];
const WORDS =
  'router switch subnet packet latency bucket policy encryption identity cluster replica throughput firewall gateway protocol address interface queue topic region zone instance volume snapshot backup restore tunnel certificate token session cache index availability durability consistency partition quorum leader follower shard'.split(
    ' ',
  );


/**
 * A PingToPass bank as editors export it: no ids, question text of 200-600 characters, four
 * options, an explanation, commas and doubled quotes, and 5% of the rows with a multi-line field.
 */
export async function generateBank(path: string, questions: number, seed = 42): Promise<number> {
  const rnd = random(seed);
  const sentence = (min: number, max: number) => {
    const length = min + Math.floor(rnd() * (max - min));
    let text = '';
    while (text.length < length) text += WORDS[Math.floor(rnd() * WORDS.length)] + (rnd() < 0.08 ? ', "quoted" ' : ' ');
    return text.slice(0, length).trim();
  };
  const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const out = createWriteStream(path);
  out.write('id,exam_code,type,text,option_a,option_b,option_c,option_d,option_e,option_f,correct,explanation,difficulty,objective_id,tags,reference_url,exhibit_url\n');
  let buffer = '';
  for (let i = 0; i < questions; i++) {
    let text = `Q${i}: ${sentence(200, 600)}?`;
    let explanation = sentence(100, 400);
    if (rnd() < 0.05) {
      if (rnd() < 0.5) text = `${text.slice(0, 120)}\n\n${text.slice(120)}`;
      else explanation = `${explanation}\r\nSee also: ${sentence(20, 80)}`;
    }
    const row = ['', EXAMS[i % 3], '', text, sentence(10, 80), sentence(10, 80), sentence(10, 80), sentence(10, 80), '', '', 'ABCD'[i % 4], explanation, String(1 + (i % 5)), `${1 + (i % 5)}.0`, 'bench;generated', '', ''];
    buffer += row.map(quote).join(',') + '\n';
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'close');
  return statSync(path).size;
}

/** Prints the child's peak resident set size on exit (it covers the worker thread too). */
const PEAK_RSS = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('\\npeak-rss-kb=' + process.resourceUsage().maxRSS + '\\n'));")}`;

/** The CLI as users run it: `bin/qbank.js`, from dist (`npm run bench` builds first). */
function qbankCommand(): string[] {
  const help = spawnSync('node', [qbankBin, 'import', '--help'], { encoding: 'utf8' });
  if (help.status !== 0 || !/bulk-import/.test(help.stdout)) throw new Error('dist/ has no import command: run `npm run build` first');
  return [qbankBin];
}

interface Run {
  seconds: number;
  peakMb: number;
  summary: { created: number; updated: number; unchanged: number; roundTrips: number; parallel: boolean };
}

function runQbank(command: string[], args: string[], env: Record<string, string>): Run {
  const result = timeCommand('node', ['--import', PEAK_RSS, ...command, ...args, '--json'], { env: { ...process.env, NO_COLOR: '1', ...env } });
  if (result.status !== 0) throw new Error(`qbank ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  const peak = /peak-rss-kb=(\d+)/.exec(result.stderr);
  return { seconds: result.seconds, peakMb: peak ? Number(peak[1]) / 1024 : NaN, summary: JSON.parse(result.stdout) };
}

/** Runs a command while this process keeps serving (the local libSQL server lives here). */
async function runQbankAsync(command: string[], args: string[], env: Record<string, string>): Promise<Run> {
  const started = process.hrtime.bigint();
  const child = spawn('node', ['--import', PEAK_RSS, ...command, ...args, '--json'], { env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`qbank ${args.join(' ')} failed (${code}):\n${stderr}`);
  const peak = /peak-rss-kb=(\d+)/.exec(stderr);
  return { seconds, peakMb: peak ? Number(peak[1]) / 1024 : NaN, summary: JSON.parse(stdout) };
}

function freshDatabase(command: string[], path: string, exams: string): Record<string, string> {
  rmSync(path, { force: true });
  rmSync(`${path}-journal`, { force: true });
  const env = { TURSO_DATABASE_URL: `file:${path}` };
  const push = timeCommand('node', [qbankBin, 'db', 'push', '--schema', 'pingtopass'], { env: { ...process.env, ...env } });
  if (push.status !== 0) throw new Error(push.stderr);
  runQbank(command, ['import', 'exams', exams], env);
  return env;
}

const SQLITE3_INTO_SCHEMA = (bank: string) => `
.import --csv ${bank} staging
BEGIN;
INSERT INTO questions (id, exam_id, type, text, explanation, difficulty, objective_id, tags, is_active, ai_generated, review_status, created_at, updated_at)
  SELECT printf('%024x', s.rowid), e.id, CASE WHEN length(s.correct) > 1 THEN 'multiple' ELSE 'single' END, s.text, s.explanation, s.difficulty,
    s.objective_id, s.tags, 1, 0, 'pending', unixepoch(), unixepoch()
  FROM staging AS s JOIN exams AS e ON e.code = s.exam_code ORDER BY s.rowid;
INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at)
  SELECT printf('%024x', s.rowid) || '_opt_' || char(97 + k.n), printf('%024x', s.rowid),
    CASE k.n WHEN 0 THEN s.option_a WHEN 1 THEN s.option_b WHEN 2 THEN s.option_c ELSE s.option_d END, instr(s.correct, char(65 + k.n)) > 0, k.n, unixepoch()
  FROM staging AS s, (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS k ORDER BY s.rowid, k.n;
DROP TABLE staging;
COMMIT;
`;

/**
 * The same end state built by SQLite alone from rows already in a flat table (the `.import` is not
 * timed): no parsing, no driver, foreign keys off, the secondary indexes dropped and built again at
 * the end, as qbank does. What any importer of this schema pays on this machine before parsing.
 */
function sqliteOnlyFloor(database: string, flat: string): number {
  const indexes = spawnSync('sqlite3', ['-separator', '\t', database, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('questions', 'answer_options') AND sql IS NOT NULL"], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.split('\t') as [string, string]);
  const script = `
ATTACH '${flat}' AS f;
PRAGMA foreign_keys = OFF;
BEGIN;
${indexes.map(([name]) => `DROP INDEX "${name}";`).join('\n')}
INSERT INTO questions (id, exam_id, type, text, explanation, difficulty, objective_id, tags, is_active, ai_generated, review_status, created_at, updated_at)
  SELECT printf('%024x', s.rowid), e.id, CASE WHEN length(s.correct) > 1 THEN 'multiple' ELSE 'single' END, s.text, s.explanation, s.difficulty,
    s.objective_id, s.tags, 1, 0, 'pending', unixepoch(), unixepoch()
  FROM f.questions AS s JOIN exams AS e ON e.code = s.exam_code ORDER BY s.rowid;
INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at)
  SELECT printf('%024x', s.rowid) || '_opt_' || char(97 + k.n), printf('%024x', s.rowid),
    CASE k.n WHEN 0 THEN s.option_a WHEN 1 THEN s.option_b WHEN 2 THEN s.option_c ELSE s.option_d END, instr(s.correct, char(65 + k.n)) > 0, k.n, unixepoch()
  FROM f.questions AS s, (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS k ORDER BY s.rowid, k.n;
${indexes.map(([, sql]) => `${sql};`).join('\n')}
COMMIT;
`;
  const run = timeCommand('sqlite3', [database], { input: script });
  if (run.status !== 0 || run.stderr.trim()) throw new Error(`sqlite3 building the schema from a flat table failed: ${run.stderr}`);
  return run.seconds;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const ratio = (value: number) => `${value.toFixed(2)}×`;

export async function run(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const dir = benchDir('import');
  const command = qbankCommand();
  const exams = join(root, 'fixtures', 'pingtopass', 'exams.csv');
  const bank = join(dir, 'bank-200k.csv');
  const bytes = await generateBank(bank, 200_000);
  console.log(`generated ${bank}: 200,000 questions, ${mb(bytes)}`);

  // The references: the same file into a flat table, as fast as each tool goes.
  const flat = join(dir, 'flat.db');
  rmSync(flat, { force: true });
  const sqlite3 = timeCommand('sqlite3', [flat, '.import --csv ' + bank + ' questions']);
  if (sqlite3.status !== 0) throw new Error(`sqlite3 failed: ${sqlite3.stderr}`);
  const flatRows = join(dir, 'flat-rows.db');
  spawnSync('cp', [flat, flatRows]);
  let sqliteUtils: number | undefined;
  if (spawnSync('sqlite-utils', ['--version']).status === 0) {
    rmSync(flat, { force: true });
    const result = timeCommand('sqlite-utils', ['insert', flat, 'questions', bank, '--csv']);
    if (result.status === 0) sqliteUtils = result.seconds;
  }

  // What sqlite3 itself needs for the end state qbank produces: the same file into the PingToPass
  // schema (questions and their options, every index), by .import into a staging table and two
  // INSERT ... SELECT. It is the floor for this schema on this machine, without any validation.
  const schemaReference = join(dir, 'schema-reference.db');
  freshDatabase(command, schemaReference, exams);
  const intoSchema = timeCommand('sqlite3', [schemaReference], { input: SQLITE3_INTO_SCHEMA(bank) });
  if (intoSchema.status !== 0) throw new Error(`sqlite3 into the schema failed: ${intoSchema.stderr}`);
  const floorDatabase = join(dir, 'floor.db');
  freshDatabase(command, floorDatabase, exams);
  const sqliteOnly = sqliteOnlyFloor(floorDatabase, flatRows);
  rmSync(flatRows, { force: true });

  const database = join(dir, 'bench.db');
  const env = freshDatabase(command, database, exams);
  const first = runQbank(command, ['import', bank], env);
  if (first.summary.created !== 200_000) throw new Error(`expected 200,000 created, got ${JSON.stringify(first.summary)}`);
  const again = runQbank(command, ['import', bank], env);
  const single = runQbank(command, ['import', bank], { ...freshDatabase(command, database, exams), QBANK_IMPORT_PARALLEL: 'never' });

  const rows: Array<[string, string, string, string]> = [
    ['sqlite3 .import --csv (flat table)', s(sqlite3.seconds), 'reference', ''],
    ['sqlite-utils insert --csv (flat table)', sqliteUtils === undefined ? 'not installed' : s(sqliteUtils), 'reference', sqliteUtils === undefined ? 'apt-get install sqlite-utils' : ''],
    ['sqlite3 into the PingToPass schema (no checks)', s(intoSchema.seconds), 'reference: this schema\'s floor', `${ratio(intoSchema.seconds / sqlite3.seconds)} sqlite3 .import`],
    ['sqlite3 into the schema from rows already in a table', s(sqliteOnly), 'SQLite alone: no parsing, no driver', `${ratio(sqliteOnly / sqlite3.seconds)} sqlite3 .import`],
    [
      'qbank import, 200k questions (file:)',
      s(first.seconds),
      `≤ 2.0× sqlite3 (stretch 1.0×)`,
      `${ratio(first.seconds / sqlite3.seconds)} sqlite3: ${first.seconds / sqlite3.seconds <= 2 ? 'met' : 'MISSED'}${first.seconds / sqlite3.seconds <= 1 ? ' (stretch met)' : ''}`,
    ],
    [
      'qbank against sqlite-utils',
      sqliteUtils === undefined ? '-' : `${ratio(sqliteUtils / first.seconds)} faster`,
      '≥ 1.5× faster',
      sqliteUtils === undefined ? 'skipped' : sqliteUtils / first.seconds >= 1.5 ? 'met' : 'MISSED',
    ],
    ['qbank against sqlite3 into the same schema', `${ratio(first.seconds / intoSchema.seconds)}`, 'for comparison', ''],
    ['qbank import, one thread (QBANK_IMPORT_PARALLEL=never)', s(single.seconds), 'for comparison', `${ratio(single.seconds / sqlite3.seconds)} sqlite3`],
    ['qbank import again (200k unchanged)', s(again.seconds), 'no-op', again.summary.unchanged === 200_000 ? 'unchanged: 200,000' : `WRONG: ${JSON.stringify(again.summary)}`],
    ['peak RSS, 200k questions', `${first.peakMb.toFixed(0)} MB`, '≤ 200 MB', first.peakMb <= 200 ? 'met' : 'MISSED'],
  ];

  if (!quick) {
    const big = join(dir, 'bank-1gb.csv');
    let count = 1_150_000;
    let size = await generateBank(big, count, 7);
    while (size < 1e9) {
      count = Math.ceil((count * 1.02e9) / size);
      size = await generateBank(big, count, 7);
    }
    const gigabyte = runQbank(command, ['import', big], freshDatabase(command, database, exams));
    rows.push([`peak RSS, ${mb(size)} file (${count.toLocaleString('en-US')} questions)`, `${gigabyte.peakMb.toFixed(0)} MB`, '≤ 200 MB', gigabyte.peakMb <= 200 ? 'met' : 'MISSED']);
    rows.push([`  (its import time)`, s(gigabyte.seconds), '', `${Math.round(count / gigabyte.seconds).toLocaleString('en-US')} questions/s`]);
    rmSync(big, { force: true });
  }

  const remote = await remoteImport(command, dir, exams);
  rows.push([
    `remote, 20 ms latency: ${remote.questions.toLocaleString('en-US')} questions`,
    `${Math.round(remote.questions / remote.run.seconds).toLocaleString('en-US')} questions/s`,
    '≥ 5,000 questions/s',
    `${s(remote.run.seconds)}, ${remote.run.summary.roundTrips} round trips: ${remote.questions / remote.run.seconds >= 5000 ? 'met' : 'MISSED'}`,
  ]);
  rows.push([`  remote, same file again (unchanged)`, s(remote.again.seconds), '', `${remote.again.summary.roundTrips} round trips`]);

  printTable(`qbank import (parsing in a worker thread: ${first.summary.parallel ? 'yes' : 'no'}; ${bank})`, rows);
  rmSync(dir, { recursive: true, force: true });
}

/** A bank into the local libSQL server with 20 ms added to every request, as a Turso database far away. */
async function remoteImport(command: string[], dir: string, exams: string): Promise<{ questions: number; run: Run; again: Run }> {
  const questions = 20_000;
  const file = join(dir, 'bank-remote.csv');
  await generateBank(file, questions, 11);
  const keys = generateEd25519KeyPair();
  const server = await startLibsqlServer({ dbPath: join(dir, 'remote.db'), publicKeys: [keys.publicKey] });
  try {
    const env = { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN: signToken({ a: 'rw' }, keys.privateKey) };
    const push = await runQbankAsync([qbankBin], ['db', 'push', '--schema', 'pingtopass'], env);
    if (!push) throw new Error('push failed');
    await runQbankAsync(command, ['import', 'exams', exams], env);
    server.knobs.latencyMs = 20;
    const run = await runQbankAsync(command, ['import', file], env);
    if (run.summary.created !== questions) throw new Error(`expected ${questions} created, got ${JSON.stringify(run.summary)}`);
    const again = await runQbankAsync(command, ['import', file], env);
    return { questions, run, again };
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
