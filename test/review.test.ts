import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { FlaggedQuestionQueue } from '../src/db/review/flagged-queue.js';
import { WorkQueue } from '../src/db/review/work-queue.js';
import { PingToPassPendingQueue, pendingPageSql } from '../src/db/review/pingtopass.js';
import { resolveReviewer } from '../src/db/review/reviewer.js';
import { claimWork, decideItems, settleWork } from '../src/db/review/service.js';
import { runRead, runWrite } from '../src/db/review/sql.js';
import type { ActionContext } from '../src/db/review/types.js';
import { createTestDatabase, MODES, runIn, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';

// Until src/cli.ts registers the review group, add it here; once it does, this changes nothing.

/** Reads the database file directly, bypassing qbank, to check what a command really did. */
function open(t: TestDatabase): Database {
  return openDatabase({ url: t.url, displayUrl: t.url, authToken: t.authToken, kind: t.mode, source: 'test', readOnlyCredentials: false, notices: [] });
}

const context = (reviewer: string, now = new Date(), leaseMinutes = 15): ActionContext => ({ reviewer, now, leaseMs: leaseMinutes * 60_000 });

describe.each(MODES)('review, PingToPass (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[], extra: { env?: Record<string, string>; tty?: boolean } = {}) => runIn(t, args, extra);

  beforeEach(async () => {
    t = await seededDatabase(mode, 'pingtopass');
  });
  afterEach(async () => {
    await t.close();
  });

  it('lists the pending questions in queue order, with filters', async () => {
    const all = await cli(['review', 'list', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json().items.map((item: { id: string }) => item.id)).toEqual(['q_ccna_003', 'q_ccna_004', 'q_saa_002', 'q_sc900_001']);

    const ccna = (await cli(['review', 'list', '--exam', 'ccna-200-301', '--json'])).json().items;
    expect(ccna.map((item: { id: string }) => item.id)).toEqual(['q_ccna_003', 'q_ccna_004']);
    expect(ccna[0]).toMatchObject({ exam: { code: 'CCNA-200-301' }, objective: { id: '3.0', domain: 'IP Connectivity' }, question: { aiModel: 'gpt-4o' } });
    expect(ccna[0].state).toBeUndefined();

    const ai = (await cli(['review', 'list', '--ai-generated', '--tag', 'ha', '--json'])).json().items;
    expect(ai.map((item: { id: string }) => item.id)).toEqual(['q_saa_002']);
    expect((await cli(['review', 'list', '--difficulty', '1', '--limit', '1', '--json'])).json().items.map((i: { id: string }) => i.id)).toEqual(['q_sc900_001']);

    const table = await cli(['review', 'list']);
    expect(table.stdout).toMatch(/^ID\s+EXAM\s+DIFFICULTY/m);
    expect(table.stdout).toContain('q_saa_002');

    const unknown = await cli(['review', 'list', '--exam', 'NOPE']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no exam has the code or id "NOPE"/);
    expect(unknown.stderr).toMatch(/CCNA-200-301/);

    const wrong = await cli(['review', 'list', '--channel', 'x']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--channel does not apply to the pending queue/);
  });

  it('reads the queue through questions_review_status_idx, without a sort', async () => {
    const page = pendingPageSql({}, { afterKey: 2, limit: 50 });
    const plan = await sqlite(t, `EXPLAIN QUERY PLAN ${page.sql}`, page.args as Array<string | number>);
    const details = plan.map((row) => String(row.detail)).join('\n');
    expect(details).toMatch(/USING (COVERING )?INDEX questions_review_status_idx/);
    expect(details).not.toMatch(/TEMP B-TREE/);
    expect(details).not.toMatch(/^SCAN q\b/m);
  });

  it('shows a question with its options, the correct ones marked, and its feedback', async () => {
    const json = await cli(['review', 'show', 'q_ccna_004', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const item = json.json();
    expect(item.options.filter((o: { isCorrect: boolean }) => o.isCorrect).map((o: { text: string }) => o.text)).toEqual(['10.1.1.0/24']);
    expect(item.feedback).toEqual([expect.objectContaining({ id: 'fb_1', type: 'error', userEmail: 'ben@example.com', status: 'pending' })]);

    const human = await cli(['review', 'show', 'q_ccna_004']);
    expect(human.stdout).toMatch(/✔ C\. 10\.1\.1\.0\/24/);
    expect(human.stdout).toMatch(/\[error · pending\] ben@example.com: Option C/);

    const missing = await cli(['review', 'show', 'nope']);
    expect(missing.code).toBe(3);
  });

  it('approves, and a second decision on the same question is refused with who and when', async () => {
    const first = await cli(['review', 'approve', 'q_ccna_003', '--reviewer', 'alice@example.com']);
    expect(first.code, first.stderr).toBe(0);
    const [row] = await sqlite(t, "SELECT review_status, reviewed_by, reviewed_at, updated_at FROM questions WHERE id = 'q_ccna_003'");
    expect(row).toMatchObject({ review_status: 'approved', reviewed_by: 'alice@example.com' });
    expect(Number(row.reviewed_at)).toBeGreaterThan(1_700_000_000);
    expect(row.updated_at).toBe(row.reviewed_at);

    const second = await cli(['review', 'reject', 'q_ccna_003', '--reason', 'late', '--reviewer', 'ada@example.com', '--json']);
    expect(second.code).toBe(5);
    const report = second.json();
    expect(report.outcomes[0]).toMatchObject({ id: 'q_ccna_003', outcome: 'conflict', status: 'approved', conflict: { current: { by: 'alice@example.com' } } });
    expect(report.outcomes[0].message).toMatch(/already|is approved \(reviewed by alice@example.com at 20\d\d-/);
    const [after] = await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'q_ccna_003'");
    expect(after).toEqual({ review_status: 'approved', reviewed_by: 'alice@example.com' });
    expect(await sqlite(t, "SELECT id FROM feedback WHERE question_id = 'q_ccna_003'")).toEqual([]);
  });

  it('reports unknown ids with exit 3 and decides the rest', async () => {
    const result = await cli(['review', 'approve', 'q_ccna_003', 'q_missing', '--reviewer', 'r', '--json']);
    expect(result.code).toBe(3);
    expect(result.json()).toMatchObject({ decided: 1, notFound: 1, conflicts: 0, error: { kind: 'InvalidInputError', exitCode: 3 } });
    expect(result.json().error.message).toMatch(/no such item: q_missing/);
    expect((await sqlite(t, "SELECT review_status FROM questions WHERE id = 'q_ccna_003'"))[0].review_status).toBe('approved');
  });

  it('rejects with a reason kept as a feedback row by the reviewer', async () => {
    expect((await cli(['review', 'reject', 'q_saa_002'])).code).toBe(2);

    const result = await cli(['review', 'reject', 'q_saa_002', '--reason', 'two answers are right', '--reviewer', 'ada@example.com', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().outcomes[0]).toMatchObject({ outcome: 'decided', status: 'rejected', auditRows: 1 });
    const feedback = await sqlite(t, "SELECT user_id, type, message, status FROM feedback WHERE question_id = 'q_saa_002' AND type = 'general'");
    expect(feedback).toEqual([{ user_id: 'user_ada', type: 'general', message: 'Rejected in review: two answers are right', status: 'resolved' }]);
  });

  it('decides everything the filters match, after confirmation', async () => {
    const refused = await cli(['review', 'approve', '--all-matching', '--exam', 'CCNA-200-301', '--reviewer', 'ci']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/--yes/);
    expect((await sqlite(t, "SELECT count(*) AS n FROM questions WHERE review_status = 'pending'"))[0].n).toBe(4);

    const both = await cli(['review', 'approve', 'q_ccna_003', '--all-matching']);
    expect(both.code).toBe(2);

    const done = await cli(['review', 'approve', '--all-matching', '--exam', 'CCNA-200-301', '--reviewer', 'ci', '--yes', '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json()).toMatchObject({ decided: 2, conflicts: 0 });
    expect(await sqlite(t, "SELECT id FROM questions WHERE review_status = 'pending' ORDER BY id")).toEqual([{ id: 'q_saa_002' }, { id: 'q_sc900_001' }]);
  });

  it('resolves a user\'s feedback with a response, once', async () => {
    const first = await cli(['review', 'resolve', 'fb_1', '--response', 'Fixed the wording, thanks!']);
    expect(first.code, first.stderr).toBe(0);
    expect(await sqlite(t, "SELECT status, response FROM feedback WHERE id = 'fb_1'")).toEqual([{ status: 'resolved', response: 'Fixed the wording, thanks!' }]);
    const again = await cli(['review', 'resolve', 'fb_1', '--response', 'again']);
    expect(again.code).toBe(5);
  });

  it('counts questions by status and by exam', async () => {
    await cli(['review', 'approve', 'q_ccna_003', '--reviewer', 'r']);
    const stats = await cli(['review', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.json()).toMatchObject({
      system: 'pingtopass',
      questions: { pending: 3, approved: 4, rejected: 1 },
      pendingFeedback: 2,
    });
    expect(stats.json().byExam).toContainEqual({ exam: 'CCNA-200-301', pending: 1, approved: 3, rejected: 0 });
  });

  it('refuses the interactive form without a terminal and points at the verbs', async () => {
    const result = await cli(['review']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/needs a terminal/);
    expect(result.stderr).toMatch(/review list/);
  });

  it('lets exactly one of two clients decide the same question, both having seen it pending', async () => {
    const alice = open(t);
    const bob = open(t);
    try {
      const queue = new PingToPassPendingQueue({});
      // both reviewers have the question on screen before either decides
      const [seenByAlice, seenByBob] = await Promise.all([runRead(alice, queue.get(['q_ccna_004']), 'test'), runRead(bob, queue.get(['q_ccna_004']), 'test')]);
      const [a, b] = await Promise.all([
        runWrite(alice, queue.decide(seenByAlice.get('q_ccna_004')!, { kind: 'approve' }, context('alice')), 'test'),
        runWrite(bob, queue.decide(seenByBob.get('q_ccna_004')!, { kind: 'reject', reason: 'no' }, context('ada@example.com')), 'test'),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      const winner = a.ok ? 'alice' : 'ada@example.com';
      const lost = (a.ok ? b : a) as Extract<typeof a, { ok: false }>;
      expect(lost.conflict).toMatchObject({ kind: 'decided', current: { by: winner } });
      expect(lost.conflict.message).toMatch(new RegExp(`was already (approved|rejected) by ${winner} at 20`));
      const [row] = await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'q_ccna_004'");
      expect(row.reviewed_by).toBe(winner);
      const reasons = await sqlite(t, "SELECT count(*) AS n FROM feedback WHERE question_id = 'q_ccna_004' AND type = 'general'");
      expect(reasons[0].n).toBe(winner === 'alice' ? 0 : 1);

      // and through the scriptable verb, the second client is told who decided
      const late = await decideItems(bob, queue, ['q_ccna_004'], { kind: 'approve' }, context('bob'), 'review approve');
      expect(late).toMatchObject({ decided: 0, conflicts: 1 });
      expect(late.outcomes[0].message).toContain(winner);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it.runIf(mode === 'file')('lets exactly one of several processes decide the same question', async () => {
    const go = join(t.dir, 'go');
    const src = (path: string) => JSON.stringify(join(process.cwd(), 'src', path));
    const script = `
      import { existsSync, writeFileSync } from 'node:fs';
      import { openDatabase } from ${src('db/client.ts')};
      import { PingToPassPendingQueue } from ${src('db/review/pingtopass.ts')};
      import { runRead, runWrite } from ${src('db/review/sql.ts')};
      const url = process.env.URL;
      const db = openDatabase({ url, displayUrl: url, kind: 'file', source: 'test', readOnlyCredentials: false, notices: [] });
      const queue = new PingToPassPendingQueue({});
      const shown = (await runRead(db, queue.get(['q_sc900_001']), 'test')).get('q_sc900_001');
      writeFileSync(process.env.READY, '');
      while (!existsSync(process.env.GO)) await new Promise((r) => setTimeout(r, 1));
      const result = await runWrite(db, queue.decide(shown, { kind: 'approve' }, { reviewer: process.env.REVIEWER, now: new Date(), leaseMs: 0 }), 'test');
      process.stdout.write(JSON.stringify(result.ok ? { ok: true } : { ok: false, message: result.conflict.message }));
      db.close();
    `;
    const reviewers = ['p1', 'p2', 'p3', 'p4'];
    const runs = reviewers.map(
      (reviewer) =>
        new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
            cwd: process.cwd(),
            env: { ...process.env, URL: t.url, REVIEWER: reviewer, GO: go, READY: join(t.dir, `ready-${reviewer}`) },
          });
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`))));
        }),
    );
    const deadline = Date.now() + 30_000;
    while (!reviewers.every((r) => existsSync(join(t.dir, `ready-${r}`))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(go, '');
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const [row] = await sqlite(t, "SELECT reviewed_by FROM questions WHERE id = 'q_sc900_001'");
    for (const o of outcomes.filter((o) => !o.ok)) expect(o.message).toContain(`already approved by ${row.reviewed_by}`);
  }, 60_000);

  it.runIf(mode === 'remote')('refuses decisions with a read-only token before writing', async () => {
    const result = await cli(['review', 'approve', 'q_ccna_003', '--reviewer', 'r'], { env: { TURSO_AUTH_TOKEN: t.readOnlyToken! } });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/read-only/);
    expect((await sqlite(t, "SELECT review_status FROM questions WHERE id = 'q_ccna_003'"))[0].review_status).toBe('pending');
  });
});

describe.each(MODES)('review, open-interview (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[], extra: { env?: Record<string, string> } = {}) => runIn(t, args, extra);

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const seed = await cli(['db', 'seed']);
    expect(seed.code, seed.stderr).toBe(0);
  });
  afterEach(async () => {
    await t.close();
  });

  const auditCounts = async () => ({
    history: Number((await sqlite(t, 'SELECT count(*) AS n FROM question_history'))[0].n),
    ledger: Number((await sqlite(t, 'SELECT count(*) AS n FROM bot_ledger'))[0].n),
  });

  it('lists flagged questions and the work queue by priority', async () => {
    const flagged = await cli(['review', 'list', '--json']);
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(flagged.json().items.map((i: { id: string }) => i.id)).toEqual(['q-fx-0009']);
    expect(flagged.json().items[0].history[0]).toMatchObject({ eventType: 'flagged', sourceName: 'verifier-bot' });
    const work = await cli(['review', 'list', '--queue', 'work', '--reviewer', 'r', '--json']);
    expect(work.json().items.map((i: { work: { id: number; priority: number } }) => [i.work.id, i.work.priority])).toEqual([
      [1, 1],
      [2, 3],
      [3, 7],
    ]);
    expect((await cli(['review', 'list', '--queue', 'work', '--action', 'verify', '--reviewer', 'r', '--json'])).json().items).toHaveLength(1);
    expect((await cli(['review', 'list', '--queue', 'nope'])).code).toBe(2);
    expect((await cli(['review', 'list', '--exam', 'x'])).code).toBe(2);
  });

  it('approves a flagged question back to active, with a history event and a ledger entry naming the reviewer', async () => {
    const before = await auditCounts();
    const result = await cli(['review', 'approve', 'q-fx-0009', '--reviewer', 'alice@example.com', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().outcomes[0]).toMatchObject({ outcome: 'decided', status: 'active', auditRows: 2 });
    expect((await sqlite(t, "SELECT status FROM questions WHERE id = 'q-fx-0009'"))[0].status).toBe('active');
    const [history] = await sqlite(t, "SELECT * FROM question_history WHERE question_id = 'q-fx-0009' ORDER BY id DESC LIMIT 1");
    expect(history).toMatchObject({ event_type: 'approved', event_source: 'user', source_name: 'alice@example.com', changed_fields: '["status","lastUpdated"]' });
    expect(JSON.parse(String(history.before_snapshot))).toMatchObject({ status: 'flagged' });
    expect(JSON.parse(String(history.after_snapshot))).toMatchObject({ status: 'active' });
    const [ledger] = await sqlite(t, 'SELECT * FROM bot_ledger ORDER BY id DESC LIMIT 1');
    expect(ledger).toMatchObject({ bot_name: 'alice@example.com', action: 'verify', item_type: 'question', item_id: 'q-fx-0009' });
    expect(await auditCounts()).toEqual({ history: before.history + 1, ledger: before.ledger + 1 });

    const again = await cli(['review', 'reject', 'q-fx-0009', '--reason', 'dup', '--reviewer', 'bob']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/q-fx-0009 is active, not flagged \(last change by alice@example.com at /);
    expect(await auditCounts()).toEqual({ history: before.history + 1, ledger: before.ledger + 1 });
  });

  it('rejects a flagged question as deleted, with the reason in both audit rows', async () => {
    const result = await cli(['review', 'reject', 'q-fx-0009', '--reason', 'wrong about phantoms', '--reviewer', 'bob']);
    expect(result.code, result.stderr).toBe(0);
    expect((await sqlite(t, "SELECT status FROM questions WHERE id = 'q-fx-0009'"))[0].status).toBe('deleted');
    const [history] = await sqlite(t, 'SELECT event_type, source_name, reason FROM question_history ORDER BY id DESC LIMIT 1');
    expect(history).toEqual({ event_type: 'deleted', source_name: 'bob', reason: 'wrong about phantoms' });
    const [ledger] = await sqlite(t, 'SELECT bot_name, action, reason FROM bot_ledger ORDER BY id DESC LIMIT 1');
    expect(ledger).toEqual({ bot_name: 'bob', action: 'delete', reason: 'wrong about phantoms' });
  });

  it('claims work items under a lease, completes and fails them with audit rows', async () => {
    const claim = await cli(['review', 'claim', '--reviewer', 'carol', '--json']);
    expect(claim.code, claim.stderr).toBe(0);
    expect(claim.json()).toMatchObject({ id: '1', work: { status: 'processing', assignedTo: 'carol' }, lease: { by: 'carol' } });
    const [row] = await sqlite(t, 'SELECT status, assigned_to, processed_at, result FROM work_queue WHERE id = 1');
    expect(row).toMatchObject({ status: 'processing', assigned_to: 'carol', processed_at: null });
    expect(JSON.parse(String(row.result)).claim).toMatchObject({ by: 'carol', assignedToBefore: 'improve-bot' });

    const next = await cli(['review', 'claim', '--reviewer', 'dave', '--json']);
    expect(next.json().id).toBe('2');
    const taken = await cli(['review', 'complete', '1', '--result', '{"ok":true}', '--reviewer', 'dave']);
    expect(taken.code).toBe(5);
    expect(taken.stderr).toMatch(/claimed by carol since .* \(lease until /);

    expect((await cli(['review', 'complete', '1', '--result', 'not json', '--reviewer', 'carol'])).code).toBe(3);
    const before = await auditCounts();
    const done = await cli(['review', 'complete', '1', '--result', '{"ok": true}', '--reviewer', 'carol']);
    expect(done.code, done.stderr).toBe(0);
    expect(await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue WHERE id = 1')).toEqual([{ status: 'completed', assigned_to: 'carol', result: '{"ok":true}' }]);
    expect(await auditCounts()).toEqual({ history: before.history + 1, ledger: before.ledger + 1 });
    const [event] = await sqlite(t, 'SELECT question_id, event_type, source_name FROM question_history ORDER BY id DESC LIMIT 1');
    expect(event).toEqual({ question_id: 'q-fx-0009', event_type: 'improve_completed', source_name: 'carol' });

    const failed = await cli(['review', 'fail', '2', '--result', 'source is gone', '--reviewer', 'dave']);
    expect(failed.code, failed.stderr).toBe(0);
    expect(await sqlite(t, 'SELECT status, result FROM work_queue WHERE id = 2')).toEqual([{ status: 'failed', result: '{"error":"source is gone"}' }]);
    const again = await cli(['review', 'fail', '2', '--result', 'x', '--reviewer', 'dave']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/already failed by dave at /);
  });

  it('gives an abandoned claim back to the queue when its lease runs out, and release restores the bot', async () => {
    const database = open(t);
    try {
      const queue = new WorkQueue({}, () => ({ reviewer: 'carol', now: new Date() }));
      const start = new Date('2026-03-01T10:00:00Z');
      const claimed = await claimWork(database, queue, '2', context('carol', start, 15));
      expect(claimed.lease.leaseExpiresAt).toBe('2026-03-01T10:15:00.000Z');
      await expect(claimWork(database, queue, '2', context('dave', new Date('2026-03-01T10:14:00Z')))).rejects.toThrow(/claimed by carol/);

      const late = new Date('2026-03-01T10:16:00Z');
      const retaken = await claimWork(database, queue, '2', context('dave', late));
      expect(retaken.item.claim).toMatchObject({ by: 'dave', assignedToBefore: 'eli5-bot' });
      await expect(settleWork(database, queue, '2', { kind: 'release' }, context('carol', late))).rejects.toThrow(/not claimed by carol/);
      await settleWork(database, queue, '2', { kind: 'release' }, context('dave', late));
      expect(await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue WHERE id = 2')).toEqual([{ status: 'pending', assigned_to: 'eli5-bot', result: null }]);
      const ledger = await sqlite(t, "SELECT bot_name, reason FROM bot_ledger WHERE item_type = 'work_queue' ORDER BY id");
      expect(ledger.map((r) => r.bot_name)).toEqual(['carol', 'dave', 'dave']);
    } finally {
      database.close();
    }
  });

  it('lets exactly one of two clients claim the same work item, and one decide a flagged question', async () => {
    const alice = open(t);
    const bob = open(t);
    try {
      const work = new WorkQueue({}, () => ({ reviewer: 'x', now: new Date() }));
      const [itemForAlice, itemForBob] = await Promise.all([runRead(alice, work.get(['3']), 'test'), runRead(bob, work.get(['3']), 'test')]);
      const claims = await Promise.all([
        runWrite(alice, work.claim(itemForAlice.get('3')!, context('alice')), 'test'),
        runWrite(bob, work.claim(itemForBob.get('3')!, context('bob')), 'test'),
      ]);
      expect(claims.filter((c) => c.ok)).toHaveLength(1);
      const claimer = claims[0].ok ? 'alice' : 'bob';
      const lostClaim = claims.find((c) => !c.ok) as Extract<(typeof claims)[number], { ok: false }>;
      expect(lostClaim.conflict.message).toMatch(new RegExp(`claimed by ${claimer} since`));
      expect(await sqlite(t, "SELECT count(*) AS n FROM bot_ledger WHERE item_type = 'work_queue' AND item_id = '3'")).toEqual([{ n: 1 }]);

      const before = await auditCounts();
      const flagged = new FlaggedQuestionQueue({});
      const [seenByAlice, seenByBob] = await Promise.all([runRead(alice, flagged.get(['q-fx-0009']), 'test'), runRead(bob, flagged.get(['q-fx-0009']), 'test')]);
      const [a, b] = await Promise.all([
        runWrite(alice, flagged.decide(seenByAlice.get('q-fx-0009')!, { kind: 'approve' }, context('alice')), 'test'),
        runWrite(bob, flagged.decide(seenByBob.get('q-fx-0009')!, { kind: 'reject', reason: 'no' }, context('bob')), 'test'),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      expect(await auditCounts()).toEqual({ history: before.history + 1, ledger: before.ledger + 1 });
      const winner = a.ok ? 'alice' : 'bob';
      expect(await sqlite(t, 'SELECT source_name FROM question_history ORDER BY id DESC LIMIT 1')).toEqual([{ source_name: winner }]);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('reads both queues the same with or without the indexes it recommends, and through them when present', async () => {
    const workIds = async () => (await cli(['review', 'list', '--queue', 'work', '--reviewer', 'r', '--json'])).json().items.map((i: { id: string }) => i.id);
    const flaggedIds = async () => (await cli(['review', 'list', '--json'])).json().items.map((i: { id: string }) => i.id);
    const [work, flagged] = [await workIds(), await flaggedIds()];
    await sqlite(t, 'CREATE INDEX idx_work_queue_status_priority ON work_queue (status, priority, created_at)');
    await sqlite(t, 'CREATE INDEX idx_questions_status ON questions (status)');
    expect(await workIds()).toEqual(work);
    expect(await flaggedIds()).toEqual(flagged);

    const plan = async (statement: { sql: string; args?: unknown }) =>
      (await sqlite(t, `EXPLAIN QUERY PLAN ${statement.sql}`, statement.args as Array<string | number>)).map((r) => String(r.detail)).join('\n');
    const pendingWork = new WorkQueue({}, () => ({ reviewer: 'r', now: new Date() })).page({ limit: 50 }).statements[1] as { sql: string; args: unknown };
    const workPlan = await plan(pendingWork);
    expect(workPlan).toMatch(/USING INDEX idx_work_queue_status_priority/);
    expect(workPlan).not.toMatch(/TEMP B-TREE/);
    const flaggedPage = new FlaggedQuestionQueue({}).page({ limit: 50 }).statements[0] as { sql: string; args: unknown };
    const flaggedPlan = await plan(flaggedPage);
    expect(flaggedPlan).toMatch(/USING (COVERING )?INDEX idx_questions_status/);
    expect(flaggedPlan).not.toMatch(/TEMP B-TREE/);
  });

  it('counts questions by status and channel, and the work queue by status', async () => {
    await cli(['review', 'claim', '--reviewer', 'carol']);
    const stats = await cli(['review', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.json()).toMatchObject({
      system: 'open-interview',
      questions: { active: 11, flagged: 1 },
      workQueue: { pending: 2, processing: 1 },
      pendingWorkByAction: { enrich: 1, verify: 1 },
      expiredClaims: 0,
    });
    expect(stats.json().byChannel).toContainEqual({ channel: 'database', active: 1, flagged: 1, deleted: 0 });
  });
});

describe('reviewer name', () => {
  it('takes --reviewer, else git config user.email, else the OS user', async () => {
    const lookups = (email: string | undefined) => ({ gitEmail: async () => email, osUser: () => 'os-user' });
    expect(await resolveReviewer('  flag@example.com ', lookups('git@example.com'))).toEqual({ name: 'flag@example.com', source: 'flag' });
    expect(await resolveReviewer(undefined, lookups('git@example.com'))).toEqual({ name: 'git@example.com', source: 'git' });
    expect(await resolveReviewer(undefined, lookups(undefined))).toEqual({ name: 'os-user', source: 'os' });
    const failing = { gitEmail: () => Promise.reject(new Error('no git')), osUser: () => 'os-user' };
    expect(await resolveReviewer(undefined, failing)).toEqual({ name: 'os-user', source: 'os' });
  });
});
