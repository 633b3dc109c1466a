/**
 * Figures of the backup issue, on 200,000 PingToPass questions with 4 options each:
 *  - `qbank backup dump` ≤ 1.5× `sqlite3 DB .dump` on the same file;
 *  - `qbank backup restore` into an empty file: database ≤ 1.5× `sqlite3 NEW.db < dump.sql`;
 *  - remote dump and restore through the local libSQL server: peak RSS of the qbank process flat
 *    (≤ 150 MB for a 1 GB database), round trips printed.
 *  - verify and restore linear in a statement's length: one row of 8, 16, 32 and 64 MB, each
 *    next to the time to read the file (`cat`).
 * Set QBANK_BENCH_REMOTE_MB (default 1024) to size the remote database; 0 skips that part.
 * QBANK_BENCH_ONLY=long runs the long-statement part alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { startLibsqlServer } from '../test/support/libsql-server.js';
import { benchDir, medianSeconds, printTable, qbankBin, root, s, timeCommand, type Timed } from './support.js';

const QUESTIONS = 200_000;
const RUNS = 3;
const RSS_LIMIT_MB = 150;

const mb = (bytes: number) => `${(bytes / (1 << 20)).toFixed(0)} MB`;
const ratio = (ours: number, theirs: number) => ours / theirs;

/** Questions that look like the real thing: markdown with line breaks, quotes, non-ASCII, JSON columns. */
export async function fill(path: string, questions: number): Promise<void> {
  const client = createClient({ url: `file:${path}` });
  try {
    await client.executeMultiple(`
      PRAGMA foreign_keys=OFF;
      BEGIN;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
      INSERT INTO exams (id, code, name, vendor, category, description, objectives, passing_score, total_questions, time_limit, price, is_active, is_beta, metadata)
      SELECT printf('exam_%03d', i), printf('EX-%03d', i), 'Certification exam ' || i, 'Vendor ' || (i % 7), 'Cloud', 'A practice exam.',
             '[{"id":"1.0","domain":"Fundamentals","weight":20,"topics":["a","b"]}]', 700, 65, 90, 150.0 + i / 3.0, 1, 0, '{"languages":["en","de"]}' FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${questions})
      INSERT INTO questions (id, exam_id, type, text, explanation, reference_url, difficulty, objective_id, tags, is_active, ai_generated, ai_model, review_status, statistics, created_at, updated_at)
      SELECT printf('q_%08d', i), printf('exam_%03d', 1 + i % 40), CASE WHEN i % 4 = 0 THEN 'multiple' ELSE 'single' END,
             'Question ' || i || ': a router has the routes 10.' || (i % 256) || '.0.0/16 and 10.' || (i % 256) || '.4.0/24. Which one does it use for ''10.' || (i % 256) || '.4.7''?' || char(10) || 'Choose the best answer.',
             '## Why' || char(10) || 'The longest prefix wins — see RFC 1812 §5.2.4.3. Größere Präfixe sind spezifischer. ' || substr(hex(randomblob(60)), 1, 100),
             'https://example.com/docs/' || i, 1 + i % 5, 'obj-' || (i % 9), '["networking","routing"]', 1, i % 2, CASE WHEN i % 2 = 1 THEN 'gpt-4o' END,
             CASE i % 3 WHEN 0 THEN 'approved' WHEN 1 THEN 'pending' ELSE 'rejected' END,
             '{"timesAnswered":' || (i % 500) || ',"correctRate":' || ((i % 97) / 97.0) || '}', 1700000000 + i, 1700000000 + i FROM n;
      WITH RECURSIVE o(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM o WHERE k < 3)
      INSERT INTO answer_options (id, question_id, text, is_correct, explanation, "order", created_at)
      SELECT q.id || '_o' || o.k, q.id, 'Option ' || o.k || ': the /' || (16 + o.k * 4) || ' route via "gateway ' || o.k || '"', o.k = 0,
             CASE WHEN o.k = 0 THEN 'Most specific match.' END, o.k, q.created_at FROM questions q, o;
      COMMIT;
    `);
  } finally {
    client.close();
  }
}

/** bin/qbank.js runs dist: build it from the current sources first (tsc still emits past type errors elsewhere). */
function buildQbank(): string[] {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0 && !/error TS/.test(build.stdout)) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  return [qbankBin];
}

/** A preload that reports the process's peak RSS when it exits. */
function rssHook(dir: string): string {
  const hook = join(dir, 'peak-rss.mjs');
  writeFileSync(hook, `process.on('exit', () => process.stderr.write('\\nqbank-bench-peak-rss-kb=' + process.resourceUsage().maxRSS + '\\n'));\n`);
  return pathToFileURL(hook).href;
}

function peakRssMb(run: Timed): number {
  const match = /qbank-bench-peak-rss-kb=(\d+)/.exec(run.stderr);
  if (!match) throw new Error(`no peak RSS reported:\n${run.stderr}`);
  return Number(match[1]) / 1024;
}

/** Like timeCommand, without blocking this process's event loop: the local libSQL server runs in it. */
function timeCommandAsync(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, status, stdout, stderr }));
  });
}

function mustSucceed(run: Timed, what: string): Timed {
  if (run.status !== 0) throw new Error(`${what} failed (${run.status}):\n${run.stderr.slice(-2000)}`);
  return run;
}

export async function run(): Promise<void> {
  const dir = benchDir('backup');
  try {
    if (process.env.QBANK_BENCH_ONLY !== 'long') await measure(dir);
    await longStatements(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.TURSO_DATABASE_URL;
  delete env.TURSO_AUTH_TOKEN;
  const qbank = { args: buildQbank() };
  const source = join(dir, 'source.db');
  const fileEnv = { ...env, TURSO_DATABASE_URL: `file:${source}` };
  mustSucceed(timeCommand('node', [...qbank.args, 'db', 'push', '--schema', 'pingtopass'], { env: fileEnv }), 'db push');
  await fill(source, QUESTIONS);
  console.log(`(source ${mb(statSync(source).size)}, ${QUESTIONS.toLocaleString('en-US')} questions, ${(QUESTIONS * 4).toLocaleString('en-US')} options)`);

  const sqliteDumpFile = join(dir, 'sqlite3.sql');
  const qbankDumpFile = join(dir, 'qbank.sql');
  const sqliteDump = medianSeconds(RUNS, () => timeCommand('sh', ['-c', `sqlite3 '${source}' .dump > '${sqliteDumpFile}'`]));
  const qbankDump = medianSeconds(RUNS, () => timeCommand('node', [...qbank.args, 'backup', 'dump', qbankDumpFile, '--force'], { env: fileEnv }));

  const restored = join(dir, 'restored.db');
  const fresh = () => rmSync(restored, { force: true });
  const sqliteRestore = medianSeconds(RUNS, () => {
    fresh();
    return timeCommand('sh', ['-c', `sqlite3 '${restored}' < '${qbankDumpFile}'`]);
  });
  const qbankRestore = medianSeconds(RUNS, () => {
    fresh();
    return timeCommand('node', [...qbank.args, 'backup', 'restore', qbankDumpFile], { env: { ...env, TURSO_DATABASE_URL: `file:${restored}` } });
  });
  const again = join(dir, 'again.sql');
  mustSucceed(timeCommand('node', [...qbank.args, 'backup', 'dump', again, '--force'], { env: { ...env, TURSO_DATABASE_URL: `file:${restored}` } }), 'dump of the restored copy');
  const strip = (path: string) => spawnSync('sh', ['-c', `grep -v -e '^-- created-at' -e '^-- source' -e '^-- qbank-checksum' '${path}' | sha256sum`], { encoding: 'utf8' }).stdout;
  const sameContent = strip(again) === strip(qbankDumpFile);

  const dumpRatio = ratio(qbankDump.median, sqliteDump.median);
  const restoreRatio = ratio(qbankRestore.median, sqliteRestore.median);
  printTable(`file: database, median of ${RUNS} runs after a warm-up (dump ${mb(statSync(qbankDumpFile).size)})`, [
    ['qbank backup dump', s(qbankDump.median), `sqlite3 .dump ${s(sqliteDump.median)}`, `${dumpRatio.toFixed(2)}× (≤ 1.5×: ${dumpRatio <= 1.5 ? 'met' : 'MISSED'})`],
    ['qbank backup restore', s(qbankRestore.median), `sqlite3 NEW.db < dump ${s(sqliteRestore.median)}`, `${restoreRatio.toFixed(2)}× (≤ 1.5×: ${restoreRatio <= 1.5 ? 'met' : 'MISSED'})`],
    ['dump → restore → dump', sameContent ? 'same content' : 'DIFFERS', 'same content', sameContent ? 'met' : 'MISSED'],
  ]);

  const remoteMb = Number(process.env.QBANK_BENCH_REMOTE_MB ?? 1024);
  const rows: Array<[string, string, string, string]> = [];
  const hook = rssHook(dir);
  for (const [label, questions] of [
    ['200k questions', QUESTIONS],
    ...(remoteMb > 0 ? [[`~${remoteMb} MB`, Math.round((QUESTIONS * remoteMb) / (statSync(source).size / (1 << 20)))] as const] : []),
  ] as Array<[string, number]>) {
    rows.push(...(await remote(dir, qbank.args, hook, env, label, questions, source)));
  }
  printTable(`remote database through the local libSQL server (peak RSS of the qbank process; limit ${RSS_LIMIT_MB} MB)`, rows);
}

/**
 * One row of `mb` megabytes (text with quotes and semicolons, and a blob) in a sqlite3-style dump:
 * verify and restore should take about as long as reading it, growing with the size, never with
 * its square (before the splitter kept statements in pieces: 0.65 / 1.6 / 5.1 / 17.6 s).
 */
async function longStatements(dir: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.TURSO_AUTH_TOKEN;
  const qbank = buildQbank();
  const sizes = (process.env.QBANK_BENCH_LONG_MB ?? '8,16,32,64').split(',').map(Number);
  const rows: Array<[string, string, string, string]> = [];
  for (const size of sizes) {
    const file = join(dir, `long-${size}.sql`);
    const textChars = (size << 20) / 2;
    const blobBytes = (size << 20) / 4;
    writeFileSync(
      file,
      `PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT, b BLOB);\n` +
        `INSERT INTO big VALUES(1,'${"it''s; ".repeat(textChars / 8)}',X'${'0f'.repeat(blobBytes)}');\nCOMMIT;\n`,
    );
    const read = medianSeconds(RUNS, () => timeCommand('sh', ['-c', `cat '${file}' > /dev/null`]));
    const verify = medianSeconds(RUNS, () => mustSucceed(timeCommand('node', [...qbank, 'backup', 'verify', file], { env }), 'verify'));
    const target = join(dir, 'long.db');
    const restore = medianSeconds(RUNS, () => {
      rmSync(target, { force: true });
      return mustSucceed(timeCommand('node', [...qbank, 'backup', 'restore', file], { env: { ...env, TURSO_DATABASE_URL: `file:${target}` } }), 'restore');
    });
    rows.push([`one ${size} MB row`, s(verify.median), s(restore.median), `cat ${s(read.median)}`]);
  }
  printTable(`a single long statement, median of ${RUNS} runs (verify, restore into a file: database, reading the file)`, rows);
}

async function remote(
  dir: string,
  qbank: string[],
  hook: string,
  env: NodeJS.ProcessEnv,
  label: string,
  questions: number,
  template: string,
): Promise<Array<[string, string, string, string]>> {
  const remoteDb = join(dir, `remote-${questions}.db`);
  const target = join(dir, `remote-target-${questions}.db`);
  if (questions === QUESTIONS) spawnSync('cp', [template, remoteDb]);
  else {
    mustSucceed(timeCommand('node', [...qbank, 'db', 'push', '--schema', 'pingtopass'], { env: { ...env, TURSO_DATABASE_URL: `file:${remoteDb}` } }), 'db push');
    await fill(remoteDb, questions);
  }
  const keys = generateEd25519KeyPair();
  const token = signToken({ a: 'rw' }, keys.privateKey);
  const sourceServer = await startLibsqlServer({ dbPath: remoteDb, publicKeys: [keys.publicKey] });
  const targetServer = await startLibsqlServer({ dbPath: target, publicKeys: [keys.publicKey] });
  const dumpFile = join(dir, `remote-${questions}.sql`);
  try {
    const size = statSync(remoteDb).size;
    const dump = mustSucceed(
      await timeCommandAsync('node', ['--import', hook, ...qbank, 'backup', 'dump', dumpFile, '--force', '--json'], {
        ...env,
        TURSO_DATABASE_URL: sourceServer.url,
        TURSO_AUTH_TOKEN: token,
      }),
      'remote dump',
    );
    const restore = mustSucceed(
      await timeCommandAsync('node', ['--import', hook, ...qbank, 'backup', 'restore', dumpFile, '--json'], {
        ...env,
        TURSO_DATABASE_URL: targetServer.url,
        TURSO_AUTH_TOKEN: token,
      }),
      'remote restore',
    );
    const dumpJson = JSON.parse(dump.stdout);
    const restoreJson = JSON.parse(restore.stdout);
    const dumpRss = peakRssMb(dump);
    const restoreRss = peakRssMb(restore);
    const verdict = (rss: number) => (rss <= RSS_LIMIT_MB ? 'met' : 'MISSED');
    return [
      [
        `dump ${label} (${mb(size)} db)`,
        `${dumpRss.toFixed(0)} MB peak RSS`,
        `${s(dump.seconds)}, ${dumpJson.roundTrips} round trips, ${dumpJson.pages} pages`,
        verdict(dumpRss),
      ],
      [
        `restore ${label} (${mb(statSync(dumpFile).size)} dump)`,
        `${restoreRss.toFixed(0)} MB peak RSS`,
        `${s(restore.seconds)}, ${restoreJson.roundTrips} round trips, ${restoreJson.batches} batches`,
        verdict(restoreRss),
      ],
    ];
  } finally {
    await sourceServer.close();
    await targetServer.close();
    rmSync(dumpFile, { force: true });
    rmSync(remoteDb, { force: true });
    rmSync(target, { force: true });
  }
}
