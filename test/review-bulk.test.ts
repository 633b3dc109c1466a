import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODES, runIn, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';

/**
 * Bulk decisions touch exactly what they say: every filter, their combinations, --limit, options
 * before and after the verb, and the confirmation's count and first ids. Each case counts the
 * rows that changed in the database.
 */

interface BulkQuestion {
  id: string;
  exam: 'exam_ccna' | 'exam_saa';
  code: string;
  difficulty: number;
  objective: string;
  ai: boolean;
  tags: string[];
}

/** 24 pending questions spread over every filter's values, in rowid (queue) order. */
const BULK: BulkQuestion[] = Array.from({ length: 24 }, (_, i) => {
  const ccna = i % 2 === 0;
  return {
    id: `bulk_${String(i).padStart(2, '0')}`,
    exam: ccna ? 'exam_ccna' : 'exam_saa',
    code: ccna ? 'CCNA-200-301' : 'SAA-C03',
    difficulty: (i % 3) + 1,
    objective: ccna ? (i % 4 === 0 ? '1.0' : '3.0') : 'd1',
    ai: i % 5 < 2,
    tags: [i % 2 === 0 ? 'alpha' : 'beta', ...(i % 3 === 0 ? ['gamma'] : [])],
  };
});

interface Case {
  flags: string[];
  matches: (q: BulkQuestion) => boolean;
}

const CASES: Case[] = [
  { flags: ['--exam', 'CCNA-200-301'], matches: (q) => q.code === 'CCNA-200-301' },
  { flags: ['--difficulty', '2'], matches: (q) => q.difficulty === 2 },
  { flags: ['--objective', '3.0'], matches: (q) => q.objective === '3.0' },
  { flags: ['--ai-generated'], matches: (q) => q.ai },
  { flags: ['--tag', 'gamma'], matches: (q) => q.tags.includes('gamma') },
  { flags: ['--exam', 'SAA-C03', '--difficulty', '2'], matches: (q) => q.code === 'SAA-C03' && q.difficulty === 2 },
  { flags: ['--exam', 'CCNA-200-301', '--objective', '1.0', '--tag', 'gamma'], matches: (q) => q.objective === '1.0' && q.tags.includes('gamma') },
  { flags: ['--tag', 'alpha', '--tag', 'gamma', '--difficulty', '1'], matches: (q) => q.tags.includes('alpha') && q.tags.includes('gamma') && q.difficulty === 1 },
  { flags: ['--ai-generated', '--exam', 'SAA-C03', '--difficulty', '3'], matches: (q) => q.ai && q.code === 'SAA-C03' && q.difficulty === 3 },
];

describe.each(MODES)('bulk decisions, PingToPass (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[], options: { tty?: boolean; stdin?: PassThrough } = {}) => runIn(t, args, options);

  beforeEach(async () => {
    t = await seededDatabase(mode, 'pingtopass');
    // only the bulk questions are pending: every count below is about them
    await sqlite(t, "UPDATE questions SET review_status = 'approved'");
    for (const q of BULK) {
      await sqlite(
        t,
        "INSERT INTO questions (id, exam_id, type, text, difficulty, objective_id, tags, ai_generated, review_status) VALUES (?, ?, 'single', ?, ?, ?, ?, ?, 'pending')",
        [q.id, q.exam, `Bulk question ${q.id}?`, q.difficulty, q.objective, JSON.stringify(q.tags), q.ai ? 1 : 0],
      );
    }
  });
  afterEach(async () => {
    await t.close();
  });

  const approvedIds = async () => (await sqlite(t, "SELECT id FROM questions WHERE id LIKE 'bulk_%' AND review_status = 'approved' ORDER BY rowid")).map((r) => String(r.id));
  const reset = () => sqlite(t, "UPDATE questions SET review_status = 'pending', reviewed_by = NULL, reviewed_at = NULL WHERE id LIKE 'bulk_%'");

  it('approves exactly what each filter and combination matches, and with --limit only the first n in queue order', async () => {
    for (const { flags, matches } of CASES) {
      const expected = BULK.filter(matches).map((q) => q.id);
      expect(expected.length, flags.join(' ')).toBeGreaterThan(0);

      const all = await cli(['review', 'approve', '--all-matching', ...flags, '--reviewer', 'ci', '--yes', '--json']);
      expect(all.code, `${flags.join(' ')}: ${all.stderr}`).toBe(0);
      expect(all.json().decided, flags.join(' ')).toBe(expected.length);
      expect(await approvedIds(), flags.join(' ')).toEqual(expected);
      await reset();

      // the filters before the verb, as `review --help` shows them, and --limit
      const limited = await cli(['review', ...flags, '--limit', '2', 'approve', '--all-matching', '--reviewer', 'ci', '--yes']);
      expect(limited.code, `${flags.join(' ')}: ${limited.stderr}`).toBe(0);
      expect(await approvedIds(), `${flags.join(' ')} --limit 2`).toEqual(expected.slice(0, 2));
      expect(limited.stderr).toContain(`Approve ${Math.min(2, expected.length)}`);
      await reset();
    }
  }, 180_000);

  it('states the exact count and the first ids, at a terminal and with --yes', async () => {
    const ccnaDifficulty2 = BULK.filter((q) => q.code === 'CCNA-200-301' && q.difficulty === 2).map((q) => q.id);
    const yes = await cli(['review', 'approve', '--all-matching', '--exam', 'CCNA-200-301', '--difficulty', '2', '--limit', '2', '--reviewer', 'ci', '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stderr).toContain(`Approve 2 of the ${ccnaDifficulty2.length} matching pending PingToPass questions (${ccnaDifficulty2.slice(0, 2).join(', ')})`);
    expect(await approvedIds()).toEqual(ccnaDifficulty2.slice(0, 2));
    await reset();

    // at a terminal the question carries the same facts; "no" changes nothing
    const stdin = new PassThrough();
    stdin.write('n');
    const asked = await cli(['review', 'reject', '--all-matching', '--exam', 'SAA-C03', '--limit', '3', '--reason', 'old', '--reviewer', 'ada@example.com'], { tty: true, stdin });
    const saa = BULK.filter((q) => q.code === 'SAA-C03').map((q) => q.id);
    // the prompt wraps at the terminal's width: compare the words
    const prompt = asked.stderr.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s*│\s*/g, ' ').replace(/\s+/g, ' ');
    expect(prompt).toContain(`Reject 3 of the ${saa.length} matching pending PingToPass questions (${saa.slice(0, 3).join(', ')})?`);
    expect(asked.code).toBe(5);
    expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE id LIKE 'bulk_%' AND review_status <> 'pending'")).toEqual([{ n: 0 }]);
  });

  it('reopens decided questions with who, when and why, and reports the rest', async () => {
    await cli(['review', 'approve', 'bulk_00', 'bulk_01', '--reviewer', 'alice@example.com']);
    const reopened = await cli(['review', 'reopen', 'bulk_00', 'bulk_02', '--reason', 'the key is B', '--reviewer', 'ada@example.com', '--json']);
    expect(reopened.code, reopened.stderr).toBe(0);
    expect(reopened.json()).toMatchObject({ decision: 'reopen', decided: 1, outcomes: [{ id: 'bulk_00', outcome: 'decided', status: 'pending', auditRows: 1 }, { id: 'bulk_02', outcome: 'unchanged' }] });
    const [row] = await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'bulk_00'");
    expect(row).toEqual({ review_status: 'pending', reviewed_by: 'ada@example.com' });
    expect(await sqlite(t, "SELECT user_id, message FROM feedback WHERE question_id = 'bulk_00'")).toEqual([{ user_id: 'user_ada', message: 'Reopened in review: the key is B' }]);
    const shown = (await cli(['review', 'show', 'bulk_00', '--json'])).json();
    expect(shown).toMatchObject({ queue: 'pending', review: { status: 'pending', by: 'ada@example.com', reason: 'the key is B' } });
    // and it is back in the queue
    expect((await cli(['review', 'list', '--exam', 'CCNA-200-301', '--limit', '1', '--json'])).json().items[0].id).toBe('bulk_00');

    const missing = await cli(['review', 'reopen', 'nope', '--reason', 'x', '--reviewer', 'ada@example.com']);
    expect(missing.code).toBe(3);
    // Any reviewer may decide: the reason is kept in the run's audit entry, and a feedback row only for a user of the system.
    const notUser = await cli(['review', 'reopen', 'bulk_01', '--reason', 'x', '--reviewer', 'stranger@example.com']);
    expect(notUser.code, notUser.stderr).toBe(0);
    expect((await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'bulk_01'"))[0]).toEqual({ review_status: 'pending', reviewed_by: 'stranger@example.com' });
    expect(await sqlite(t, "SELECT message FROM feedback WHERE question_id = 'bulk_01'")).toEqual([]);
  });
});

describe.each(MODES)('bulk decisions and reopen, open-interview (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await seededDatabase(mode, 'open-interview');
    await sqlite(t, "UPDATE questions SET status = 'flagged' WHERE channel IN ('database', 'react', 'system-design') OR difficulty = 'advanced'");
  });
  afterEach(async () => {
    await t.close();
  });

  it('rejects exactly what --channel, --difficulty and --tag match, at most --limit', async () => {
    const flagged = await sqlite(t, "SELECT id, channel, difficulty, tags FROM questions WHERE status = 'flagged' ORDER BY rowid");
    const cases: Array<{ flags: string[]; matches: (q: Record<string, unknown>) => boolean }> = [
      { flags: ['--channel', 'database'], matches: (q) => q.channel === 'database' },
      { flags: ['--difficulty', 'advanced'], matches: (q) => q.difficulty === 'advanced' },
      { flags: ['--channel', 'react', '--difficulty', 'intermediate'], matches: (q) => q.channel === 'react' && q.difficulty === 'intermediate' },
      { flags: ['--tag', 'concurrency', '--channel', 'database'], matches: (q) => q.channel === 'database' && String(q.tags).includes('"concurrency"') },
    ];
    const deleted = async () => (await sqlite(t, "SELECT id FROM questions WHERE status = 'deleted' ORDER BY rowid")).map((r) => String(r.id));
    for (const { flags, matches } of cases) {
      const expected = flagged.filter(matches).map((q) => String(q.id));
      const result = await cli(['review', 'reject', '--all-matching', ...flags, '--reason', 'bulk', '--reviewer', 'bot', '--yes', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(await deleted(), flags.join(' ')).toEqual(expected);
      await sqlite(t, "UPDATE questions SET status = 'flagged' WHERE status = 'deleted'");
      if (expected.length > 1) {
        expect((await cli(['review', 'reject', '--all-matching', ...flags, '--limit', '1', '--reason', 'bulk', '--reviewer', 'bot', '--yes'])).code).toBe(0);
        expect(await deleted(), `${flags.join(' ')} --limit 1`).toEqual(expected.slice(0, 1));
        await sqlite(t, "UPDATE questions SET status = 'flagged' WHERE status = 'deleted'");
      }
    }
  });

  it('reopens a deleted question back to flagged with a reverted history event, and a finished work item to pending', async () => {
    expect((await cli(['review', 'reject', 'q-fx-0009', '--reason', 'dup', '--reviewer', 'bob'])).code).toBe(0);
    const result = await cli(['review', 'reopen', 'q-fx-0009', '--reason', 'not a duplicate', '--reviewer', 'alice']);
    expect(result.code, result.stderr).toBe(0);
    expect((await sqlite(t, "SELECT status FROM questions WHERE id = 'q-fx-0009'"))[0].status).toBe('flagged');
    expect(await sqlite(t, "SELECT event_type, source_name, reason FROM question_history WHERE question_id = 'q-fx-0009' ORDER BY id DESC LIMIT 1")).toEqual([
      { event_type: 'reverted', source_name: 'alice', reason: 'not a duplicate' },
    ]);
    expect(await sqlite(t, 'SELECT bot_name, action, reason FROM bot_ledger ORDER BY id DESC LIMIT 1')).toEqual([{ bot_name: 'alice', action: 'flag', reason: 'not a duplicate' }]);
    const shown = (await cli(['review', 'show', 'q-fx-0009', '--json'])).json();
    expect(shown).toMatchObject({ queue: 'flagged', review: { status: 'flagged', by: 'alice', reason: 'not a duplicate' } });

    expect((await cli(['review', 'fail', '2', '--result', 'gone', '--reviewer', 'carol'])).code).toBe(0);
    const work = await cli(['review', 'reopen', '2', '--queue', 'work', '--reason', 'source is back', '--reviewer', 'carol']);
    expect(work.code, work.stderr).toBe(0);
    expect(await sqlite(t, 'SELECT status, result, processed_at FROM work_queue WHERE id = 2')).toEqual([{ status: 'pending', result: null, processed_at: null }]);
    expect((await sqlite(t, 'SELECT event_type, reason FROM question_history ORDER BY id DESC LIMIT 1'))[0]).toEqual({ event_type: 'reverted', reason: 'source is back' });
  });
});
