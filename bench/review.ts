/**
 * Figures of the review issue, on 100,000 pending PingToPass questions (plus 20,000 already
 * decided, 4 options each, some feedback):
 *  - `qbank review list --limit 50`: wall time ≤ 0.3 s, served by questions_review_status_idx;
 *  - from a decision to the next item shown: ≤ 50 ms on a `file:` database, one round trip on a
 *    remote one (the local libSQL server with added latency).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pc from 'picocolors';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { PingToPassPendingQueue, pendingPageSql } from '../src/db/review/pingtopass.js';
import { ReviewSession } from '../src/db/review/session.js';
import { main } from '../src/main.js';
import { processIO } from '../src/output/io.js';
import { renderItem } from '../src/output/review-screen.js';
import { startLibsqlServer } from '../test/support/libsql-server.js';
import { benchDir, medianSeconds, printTable, qbankBin, root, s, timeCommand } from './support.js';

const PENDING = 100_000;
const DECIDED = 20_000;
const DECISIONS = 300;
const REMOTE_DECISIONS = 60;
const REMOTE_LATENCY_MS = 20;

const ms = (value: number) => `${value.toFixed(1)} ms`;

function devNull(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function fileDatabase(url: string): Database {
  return openDatabase({ url, displayUrl: url, kind: 'file', source: 'bench', readOnlyCredentials: false, notices: [] });
}

async function fill(database: Database): Promise<void> {
  const total = PENDING + DECIDED;
  await database.client.batch(
    [
      `INSERT INTO exams (id, code, name, vendor, category, passing_score, total_questions, objectives) VALUES
        ('bx_ccna', 'CCNA-200-301', 'Cisco CCNA', 'Cisco', 'Networking', 825, 120, '[{"id":"1.0","domain":"Network Fundamentals","weight":20,"topics":[]}]'),
        ('bx_saa', 'SAA-C03', 'AWS SAA', 'AWS', 'Cloud', 720, 65, '[]'),
        ('bx_sc900', 'SC-900', 'Microsoft SC-900', 'Microsoft', 'Security', 700, 50, '[]')`,
      `INSERT INTO users (id, email, name) VALUES ('bench_reviewer', 'reviewer@example.com', 'Reviewer'), ('bench_learner', 'learner@example.com', 'Learner')`,
      // one in six is already decided (20,000 of 120,000), spread through the table so the pending ones are not its tail
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${total})
       INSERT INTO questions (id, exam_id, type, text, explanation, difficulty, objective_id, tags, ai_generated, ai_model, review_status, reviewed_by, reviewed_at, created_at, updated_at)
       SELECT printf('bq_%06d', i),
              CASE i % 3 WHEN 0 THEN 'bx_ccna' WHEN 1 THEN 'bx_saa' ELSE 'bx_sc900' END,
              CASE WHEN i % 4 = 0 THEN 'multiple' ELSE 'single' END,
              'Generated question ' || i || ': which statement about topic ' || (i % 97) || ' is true? ' || substr(hex(randomblob(40)), 1, 60),
              'Because of reason ' || i || '. ' || substr(hex(randomblob(120)), 1, 200),
              1 + i % 5, CASE i % 3 WHEN 0 THEN '1.0' ELSE 'd' || (i % 4) END,
              json_array('tag' || (i % 20), 'topic' || (i % 97)),
              i % 2, CASE WHEN i % 2 = 1 THEN 'gpt-4o' END,
              CASE WHEN i % 6 = 0 THEN 'approved' ELSE 'pending' END,
              CASE WHEN i % 6 = 0 THEN 'editor@example.com' END,
              CASE WHEN i % 6 = 0 THEN 1767312000 END,
              1767225600 + i, 1767225600 + i
       FROM n`,
      `WITH RECURSIVE o(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM o WHERE k < 3)
       INSERT INTO answer_options (id, question_id, text, is_correct, "order")
       SELECT q.id || '_o' || o.k, q.id, 'Option ' || o.k || ' for ' || q.id, o.k = 0, o.k FROM questions q, o`,
      `INSERT INTO feedback (id, user_id, question_id, type, message, status)
       SELECT 'bf_' || id, 'bench_learner', id, 'error', 'Option 2 looks right too', 'pending' FROM questions WHERE rowid % 97 = 0`,
    ],
    'write',
  );
}

/** `qbank review list` as a user runs it; before src/cli.ts registers the group, through an equivalent entry point. */
function listCommand(dir: string, env: NodeJS.ProcessEnv): { args: string[]; via: string } {
  const wired = timeCommand('node', [qbankBin, 'review', 'stats', '--json'], { env });
  if (wired.status === 0) return { args: [qbankBin], via: 'bin/qbank.js' };
  const entry = join(dir, 'qbank-with-review.mjs');
  const dist = (path: string) => JSON.stringify(join(root, 'dist', 'src', path));
  writeFileSync(
    entry,
    `import { CommandContext } from ${dist('commands/context.js')};
import { buildProgram } from ${dist('cli.js')};
import { registerReviewCommands } from ${dist('commands/review.js')};
import { processIO } from ${dist('output/io.js')};
const context = new CommandContext(processIO());
const program = buildProgram(context);
registerReviewCommands(program, context);
try { await program.parseAsync(process.argv.slice(2), { from: 'user' }); process.exitCode = context.exitCode; } finally { context.closeAll(); }
`,
  );
  return { args: [entry], via: 'dist entry point + registerReviewCommands (src/cli.ts does not register review yet)' };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Time from pressing a decision key to the next item rendered: the session's write, then rendering the item it moved to. */
async function decisionLatencies(database: Database, count: number): Promise<{ samples: number[]; requestsBefore: number }> {
  const session = await ReviewSession.start({
    database,
    queue: new PingToPassPendingQueue({}),
    reviewer: 'reviewer@example.com',
    clock: () => new Date(),
    leaseMs: 0,
  });
  const colors = pc.createColors(false);
  const samples: number[] = [];
  const requestsBefore = database.roundTrips();
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const outcome = await session.decide(i % 5 === 4 ? { kind: 'reject', reason: 'bench' } : { kind: 'approve' });
    if (!outcome.ok) throw new Error(outcome.message);
    renderItem(session.current!, colors);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  await session.close();
  return { samples: samples.sort((a, b) => a - b), requestsBefore };
}

export async function run(): Promise<void> {
  const dir = benchDir('review');
  const dbPath = join(dir, 'review.db');
  const url = `file:${dbPath}`;
  const silent = { ...processIO(), stdout: devNull(), stderr: devNull(), env: { TURSO_DATABASE_URL: url, NO_COLOR: '1' } };
  if ((await main(['db', 'push', '--schema', 'pingtopass'], silent)) !== 0) throw new Error('db push failed');
  const database = fileDatabase(url);
  const filling = process.hrtime.bigint();
  await fill(database);
  const fillSeconds = Number(process.hrtime.bigint() - filling) / 1e9;

  const page = pendingPageSql({}, { limit: 50 });
  const plan = (await database.client.execute({ sql: `EXPLAIN QUERY PLAN ${page.sql}`, args: page.args })).rows.map((r) => String(r.detail));
  const indexed = plan.some((d) => /INDEX questions_review_status_idx/.test(d)) && !plan.some((d) => /TEMP B-TREE|^SCAN q\b/.test(d));

  const env = { ...process.env, TURSO_DATABASE_URL: url, NO_COLOR: '1', QBANK_SCHEMA: 'pingtopass' };
  const command = listCommand(dir, env);
  const list = medianSeconds(7, () => timeCommand('node', [...command.args, 'review', 'list', '--limit', '50'], { env }));
  const listed = list.last.stdout.trim().split('\n').length - 1;
  if (listed !== 50) throw new Error(`review list printed ${listed} rows, not 50:\n${list.last.stderr}`);
  const filtered = medianSeconds(7, () =>
    timeCommand('node', [...command.args, 'review', 'list', '--limit', '50', '--exam', 'SAA-C03', '--ai-generated', '--json'], { env }),
  );

  const local = await decisionLatencies(database, DECISIONS);
  database.close();

  printTable(`review on ${PENDING.toLocaleString('en-US')} pending questions (file: database; filled in ${fillSeconds.toFixed(1)} s; list via ${command.via})`, [
    ['review list --limit 50 (wall, median of 7)', s(list.median), '≤ 0.300 s', list.median <= 0.3 ? 'met' : 'MISSED'],
    ['review list --exam --ai-generated --json', s(filtered.median), '≤ 0.300 s', filtered.median <= 0.3 ? 'met' : 'MISSED'],
    ['list query plan', indexed ? 'questions_review_status_idx' : plan.join('; '), 'an index, no sort', indexed ? 'met' : 'MISSED'],
    [`decision → next item shown, median (${DECISIONS})`, ms(percentile(local.samples, 50)), '≤ 50 ms', percentile(local.samples, 50) <= 50 ? 'met' : 'MISSED'],
    ['decision → next item shown, p95 / max', `${ms(percentile(local.samples, 95))} / ${ms(local.samples[local.samples.length - 1])}`, '≤ 50 ms', percentile(local.samples, 95) <= 50 ? 'met' : 'MISSED'],
  ]);

  // the server turns its file to WAL, which needs the file to itself: give it a copy
  const remotePath = join(dir, 'remote.db');
  copyFileSync(dbPath, remotePath);
  await remoteDecisions(remotePath);
}

/** Through the local libSQL server with added latency: requests and time per decision. */
async function remoteDecisions(dbPath: string): Promise<void> {
  const keys = generateEd25519KeyPair();
  const server = await startLibsqlServer({ dbPath, publicKeys: [keys.publicKey], latencyMs: REMOTE_LATENCY_MS });
  const token = signToken({ a: 'rw' }, keys.privateKey);
  const database = openDatabase({ url: server.url, displayUrl: server.url, authToken: token, kind: 'remote', source: 'bench', readOnlyCredentials: false, notices: [] });
  try {
    const before = server.stats.requests;
    const { samples, requestsBefore } = await decisionLatencies(database, REMOTE_DECISIONS);
    const sessionRequests = server.stats.requests - before;
    const decisionRequests = database.roundTrips() - requestsBefore;
    const median = percentile(samples, 50);
    const roundTrips = median / REMOTE_LATENCY_MS;
    printTable(`remote: local libSQL server, ${REMOTE_LATENCY_MS} ms added to every request (${REMOTE_DECISIONS} decisions, in-process)`, [
      ['decision → next item shown, median', ms(median), `one round trip (${REMOTE_LATENCY_MS} ms + work)`, roundTrips < 2 ? 'met' : 'MISSED'],
      ['decision → next item shown, p95', ms(percentile(samples, 95)), 'reference', ''],
      ['requests per decision, prefetch included', (decisionRequests / REMOTE_DECISIONS).toFixed(2), '1 write + page reads / 10', ''],
      ['requests for the whole session', String(sessionRequests), 'start, decisions, prefetch, close', ''],
    ]);
  } finally {
    database.close();
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
