import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import pc from 'picocolors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { PingToPassPendingQueue } from '../src/db/review/pingtopass.js';
import { ReviewSession } from '../src/db/review/session.js';
import { main } from '../src/main.js';
import type { IO } from '../src/output/io.js';
import { runReviewScreen } from '../src/output/review-screen.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, sqlite, type TestDatabase } from './support/modes.js';

// Until src/cli.ts registers the review group, add it here; once it does, this changes nothing.

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A terminal made of two streams: keys go in, the screen (stderr) is read back as plain text. */
class FakeTerminal extends Writable {
  readonly input = new PassThrough();
  private raw = '';
  private seen = 0;

  get text(): string {
    return this.raw.replace(ANSI, '');
  }

  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.raw += chunk.toString();
    this.emit('wrote');
    callback();
  }

  /** Resolves once text written after the previous match contains every pattern. */
  async waitFor(...patterns: Array<string | RegExp>): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const fresh = this.text.slice(this.seen);
      if (patterns.every((p) => (typeof p === 'string' ? fresh.includes(p) : p.test(fresh)))) {
        this.seen = this.text.length;
        return fresh;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${patterns.join(', ')}; screen since last match:\n${fresh}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.once('wrote', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  press(keys: string): void {
    this.input.write(keys);
  }
}

function interactiveIO(terminal: FakeTerminal, env: Record<string, string | undefined>, cwd: string): IO {
  const stdout = new Writable({ write: (_c, _e, cb) => cb() });
  return { stdin: terminal.input, stdout, stderr: terminal, stdinIsTTY: true, stdoutIsTTY: false, stderrIsTTY: true, env: { PATH: process.env.PATH, NO_COLOR: '1', ...env }, cwd, now: () => new Date() };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function open(t: TestDatabase): Database {
  return openDatabase({ url: t.url, displayUrl: t.url, authToken: t.authToken, kind: t.mode, source: 'test', readOnlyCredentials: false, notices: [] });
}

describe.each(MODES)('interactive review (%s)', (mode) => {
  let t: TestDatabase;
  let stateDir: string;
  const env = () => ({ ...t.env, QBANK_STATE_DIR: stateDir });

  const start = (args: string[]) => {
    const terminal = new FakeTerminal();
    const exit = main(['review', ...args], interactiveIO(terminal, env(), t.dir));
    return { terminal, exit };
  };

  const setUp = async (system: 'pingtopass' | 'open-interview') => {
    t = await createTestDatabase(mode);
    stateDir = join(t.dir, 'state');
    expect((await runCli(['db', 'push', '--schema', system], { env: t.env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(['db', 'seed'], { env: t.env, cwd: t.dir })).code).toBe(0);
  };

  afterEach(async () => {
    await t.close();
  });

  describe('PingToPass', () => {
    beforeEach(() => setUp('pingtopass'));

    it('approves, rejects with a reason, undoes, skips, quits, and resumes where it stopped', async () => {
      const [original004] = await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'");
      const { terminal, exit } = start(['--reviewer', 'ada@example.com']);

      await terminal.waitFor('1 / 4', 'q_ccna_003', 'Which two statements about OSPFv2', 'AI: gpt-4o', 'a approve');
      terminal.press('a');
      const second = await terminal.waitFor('2 / 4', '✔ approved q_ccna_003', 'q_ccna_004');
      expect(second).toMatch(/✔ C\. 10\.1\.1\.0\/24/);
      expect(second).toMatch(/\[error · pending\] ben@example.com/);
      expect(await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'q_ccna_003'")).toEqual([{ review_status: 'approved', reviewed_by: 'ada@example.com' }]);

      terminal.press('r');
      await terminal.waitFor('Reason for rejecting q_ccna_004');
      terminal.press('ambiguous wording\r');
      await terminal.waitFor('3 / 4', '✔ rejected q_ccna_004', 'q_saa_002');
      expect(await sqlite(t, "SELECT review_status FROM questions WHERE id = 'q_ccna_004'")).toEqual([{ review_status: 'rejected' }]);
      expect(await sqlite(t, "SELECT message FROM feedback WHERE question_id = 'q_ccna_004' AND type = 'general'")).toEqual([{ message: 'Rejected in review: ambiguous wording' }]);

      terminal.press('u');
      await terminal.waitFor('✔ undid: rejected q_ccna_004', '2 / 4', 'q_ccna_004');
      expect(await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'")).toEqual([original004]);
      expect(await sqlite(t, "SELECT id FROM feedback WHERE question_id = 'q_ccna_004' AND type = 'general'")).toEqual([]);

      terminal.press('s');
      await terminal.waitFor('3 / 4', 'skipped q_ccna_004', 'q_saa_002');
      terminal.press('q');
      expect(await exit).toBe(0);
      expect(terminal.text).toMatch(/decided 1 \(1 approved, 0 rejected\), skipped 1 in .*resume where you stopped/);
      const [stateFile] = readdirSync(stateDir);
      expect(JSON.parse(readFileSync(join(stateDir, stateFile), 'utf8'))).toMatchObject({ reviewer: 'ada@example.com', resumeAt: { id: 'q_saa_002' }, decided: 1, skipped: 1 });

      const again = start(['--reviewer', 'ada@example.com']);
      await again.terminal.waitFor('1 / 3', 'q_saa_002', 'resumed (1 decided before)');
      again.terminal.press('a');
      await again.terminal.waitFor('2 / 3', 'q_sc900_001');
      again.terminal.press('a');
      // past the end of the queue, the session goes round for what was skipped before
      await again.terminal.waitFor('3 / 3', 'q_ccna_004');
      again.terminal.press('a');
      await again.terminal.waitFor('no more items');
      again.terminal.press('\r');
      expect(await again.exit).toBe(0);
      expect(again.terminal.text).toMatch(/decided 3 \(3 approved, 0 rejected\).*the queue is empty/);
      expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE review_status = 'pending'")).toEqual([{ n: 0 }]);
      expect(readdirSync(stateDir)).toEqual([]);
    });

    it('tells the reviewer who decided first, changes nothing, and moves on', async () => {
      const { terminal, exit } = start(['--reviewer', 'ada@example.com', '--exam', 'CCNA-200-301']);
      await terminal.waitFor('1 / 2', 'q_ccna_003');
      const other = await runCli(['review', 'approve', 'q_ccna_003', '--reviewer', 'bob@example.com'], { env: t.env, cwd: t.dir });
      expect(other.code).toBe(0);
      terminal.press('r');
      await terminal.waitFor('Reason for rejecting q_ccna_003');
      terminal.press('too late\r');
      const next = await terminal.waitFor('q_ccna_004');
      expect(next).toMatch(/✗ question q_ccna_003 was already approved by bob@example.com at 20\d\d-/);
      expect(await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'q_ccna_003'")).toEqual([{ review_status: 'approved', reviewed_by: 'bob@example.com' }]);
      expect(await sqlite(t, "SELECT count(*) AS n FROM feedback WHERE question_id = 'q_ccna_003'")).toEqual([{ n: 0 }]);
      terminal.press('q');
      expect(await exit).toBe(0);
      expect(terminal.text).toMatch(/1 taken by someone else/);
    });

    it('turns reject off, with the reason, when the reviewer is not a PingToPass user', async () => {
      const { terminal, exit } = start(['--reviewer', 'stranger@example.com']);
      await terminal.waitFor('reject is off', 'q_ccna_003');
      terminal.press('r');
      await terminal.waitFor('✗ reject is off', 'q_ccna_003');
      terminal.press('q');
      expect(await exit).toBe(0);
      expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE review_status = 'pending'")).toEqual([{ n: 4 }]);
    });

    it('edits a field through the editor, resolves feedback, and undoes both exactly', async () => {
      const [original] = await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'");
      const database = open(t);
      const terminal = new FakeTerminal();
      try {
        const session = await ReviewSession.start({ database, queue: new PingToPassPendingQueue({ examId: 'exam_ccna' }), reviewer: 'ada@example.com', clock: () => new Date(), leaseMs: 0 });
        await session.skip();
        const edits: string[] = [];
        const screen = runReviewScreen({
          session,
          io: { stdin: terminal.input, stderr: terminal, stdinIsTTY: true, stderrIsTTY: false, env: {} },
          colors: pc.createColors(false),
          editText: async (initial, field) => {
            edits.push(`${field.name}: ${initial}`);
            return 'Which route does the router use for 10.1.1.5 (longest prefix)?';
          },
        });
        await terminal.waitFor('q_ccna_004', 'f resolve feedback');
        terminal.press('e');
        await terminal.waitFor('Edit which field of q_ccna_004?');
        terminal.press('\r');
        // the new text keeps almost none of the old: shown as a diff and confirmed before it is saved
        await terminal.waitFor('This edit removes', '- A router receives a packet', '+ Which route does the router use', 'Save Question of q_ccna_004');
        terminal.press('y');
        await terminal.waitFor('✔ edited Question of q_ccna_004', 'longest prefix)?');
        expect(edits).toEqual([expect.stringMatching(/^text: A router receives a packet/)]);
        const [edited] = await sqlite(t, "SELECT text, review_status FROM questions WHERE id = 'q_ccna_004'");
        expect(edited).toEqual({ text: 'Which route does the router use for 10.1.1.5 (longest prefix)?', review_status: 'pending' });

        terminal.press('f');
        await terminal.waitFor('Response to ben@example.com');
        terminal.press('Reworded, thanks\r');
        await terminal.waitFor('✔ resolved feedback fb_1', '[error · resolved] ben@example.com');
        expect(await sqlite(t, "SELECT status, response FROM feedback WHERE id = 'fb_1'")).toEqual([{ status: 'resolved', response: 'Reworded, thanks' }]);

        terminal.press('u');
        await terminal.waitFor('✔ undid: resolved feedback fb_1', '[error · pending]');
        expect(await sqlite(t, "SELECT status, response FROM feedback WHERE id = 'fb_1'")).toEqual([{ status: 'pending', response: null }]);
        terminal.press('u');
        await terminal.waitFor('✔ undid: edited Question of q_ccna_004');
        expect(await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'")).toEqual([original]);
        terminal.press('u');
        await terminal.waitFor('✔ back to q_ccna_003');
        terminal.press('q');
        const summary = await screen;
        expect(summary).toMatchObject({ decided: 0, skipped: 0, edits: 0 });
      } finally {
        database.close();
      }
    });

    it('after skipping every item, says how many were skipped and are still waiting', async () => {
      const { terminal, exit } = start(['--reviewer', 'ada@example.com', '--exam', 'CCNA-200-301']);
      await terminal.waitFor('1 / 2', 'q_ccna_003');
      terminal.press('s');
      await terminal.waitFor('2 / 2', 'q_ccna_004');
      terminal.press('s');
      await terminal.waitFor('no more items');
      terminal.press('\r');
      expect(await exit).toBe(0);
      expect(terminal.text).toMatch(/decided 0 .*skipped 2 .*2 skipped item\(s\) are still waiting in the queue/);
      expect(terminal.text).not.toMatch(/the queue is empty/);
      expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE review_status = 'pending'")).toEqual([{ n: 4 }]);
    });

    it('edits an option and the correct answer with the import\'s rules, and undoes both exactly', async () => {
      const options = () => sqlite(t, "SELECT text, is_correct FROM answer_options WHERE question_id = 'q_ccna_004' ORDER BY \"order\", id");
      const original = await options();
      const [question] = await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'");
      const { terminal, exit } = start(['--reviewer', 'ada@example.com', '--exam', 'CCNA-200-301']);
      await terminal.waitFor('1 / 2', 'q_ccna_003');
      terminal.press('s');
      await terminal.waitFor('q_ccna_004', 'e edit');
      const pick = async (label: string) => {
        terminal.press('e');
        const list = await terminal.waitFor('Edit which field of q_ccna_004?', 'Question', 'Explanation', 'Option A', 'Option D', 'Correct answer', 'Difficulty', 'Tags');
        const labels = ['Question', 'Explanation', 'Option A', 'Option B', 'Option C', 'Option D', 'Correct answer'];
        expect(list).not.toMatch(/objectiveId|referenceUrl/);
        terminal.press('\x1b[B'.repeat(labels.indexOf(label)) + '\r');
      };

      // a single-answer question keeps exactly one correct option
      await pick('Correct answer');
      await terminal.waitFor('Correct answer of q_ccna_004 (option letters');
      terminal.press('\x7f' + 'A, B\r');
      await terminal.waitFor('✗ not saved: a single-answer question has exactly one correct option, not 2');
      expect(await options()).toEqual(original);
      await pick('Correct answer');
      await terminal.waitFor('Correct answer of q_ccna_004');
      terminal.press('\x7f' + 'E\r');
      await terminal.waitFor('✗ not saved: letter E names no option (this question has 4: A-D)');
      await pick('Correct answer');
      await terminal.waitFor('Correct answer of q_ccna_004');
      terminal.press('\x7f' + 'b\r');
      await terminal.waitFor('✔ edited Correct answer of q_ccna_004', '✔ B. ');
      expect((await options()).map((o) => o.is_correct)).toEqual([0, 1, 0, 0]);

      await pick('Option A');
      await terminal.waitFor('Option A of q_ccna_004');
      terminal.press(' (summary)\r');
      await terminal.waitFor('✔ edited Option A of q_ccna_004', ' (summary)');
      const edited = await options();
      expect(edited[0].text).toBe(`${original[0].text} (summary)`);

      terminal.press('u');
      await terminal.waitFor('✔ undid: edited Option A of q_ccna_004');
      terminal.press('u');
      await terminal.waitFor('✔ undid: edited Correct answer of q_ccna_004');
      expect(await options()).toEqual(original);
      expect(await sqlite(t, "SELECT * FROM questions WHERE id = 'q_ccna_004'")).toEqual([question]);
      terminal.press('q');
      expect(await exit).toBe(0);
    });

    it('refuses a multi-line edit when no editor can be found, naming the variable to set', async () => {
      const terminal = new FakeTerminal();
      const database = open(t);
      try {
        const session = await ReviewSession.start({ database, queue: new PingToPassPendingQueue({}), reviewer: 'ada@example.com', clock: () => new Date(), leaseMs: 0 });
        const screen = runReviewScreen({
          session,
          io: { stdin: terminal.input, stderr: terminal, stdinIsTTY: true, stderrIsTTY: false, env: { PATH: join(t.dir, 'no-editors-here') } },
          colors: pc.createColors(false),
        });
        await terminal.waitFor('q_ccna_003', 'e edit');
        terminal.press('e');
        await terminal.waitFor('Edit which field of q_ccna_003?');
        terminal.press('\r');
        await terminal.waitFor('✗ nothing edited: no editor to edit Question in: set $VISUAL or $EDITOR');
        terminal.press('q');
        await screen;
        expect((await sqlite(t, "SELECT text FROM questions WHERE id = 'q_ccna_003'"))[0].text).toMatch(/^Which two statements about OSPFv2/);
      } finally {
        database.close();
      }
    });

    it('refuses to undo over someone else\'s change', async () => {
      const database = open(t);
      try {
        const session = await ReviewSession.start({ database, queue: new PingToPassPendingQueue({}), reviewer: 'ada@example.com', clock: () => new Date(), leaseMs: 0 });
        expect((await session.decide({ kind: 'approve' })).ok).toBe(true);
        await sqlite(t, "UPDATE questions SET explanation = 'changed by someone else' WHERE id = 'q_ccna_003'");
        const undo = await session.undo();
        expect(undo).toMatchObject({ ok: false });
        expect(undo.message).toMatch(/cannot undo/);
        expect(await sqlite(t, "SELECT review_status, explanation FROM questions WHERE id = 'q_ccna_003'")).toEqual([{ review_status: 'approved', explanation: 'changed by someone else' }]);
        await session.close();
      } finally {
        database.close();
      }
    });

    it('has the next question in memory: a decision costs one write and no read', async () => {
      const database = open(t);
      try {
        const session = await ReviewSession.start({ database, queue: new PingToPassPendingQueue({}), reviewer: 'ada@example.com', clock: () => new Date(), leaseMs: 0 });
        expect(session.current?.id).toBe('q_ccna_003');
        const before = database.roundTrips();
        const requestsBefore = t.server?.stats.requests ?? 0;
        await session.decide({ kind: 'approve' });
        expect(session.current?.id).toBe('q_ccna_004');
        if (mode === 'remote') {
          expect(database.roundTrips() - before).toBe(1);
          expect(t.server!.stats.requests - requestsBefore).toBe(1);
        }
        await session.close();
      } finally {
        database.close();
      }
    });
  });

  describe('open-interview', () => {
    beforeEach(() => setUp('open-interview'));

    it('approves a flagged question with its audit rows, then finds the queue empty', async () => {
      const { terminal, exit } = start(['--reviewer', 'alice@example.com']);
      await terminal.waitFor('1 / 1', 'q-fx-0009', 'flagged by verifier-bot', 'a approve (back to active)');
      terminal.press('a');
      await terminal.waitFor('✔ approved q-fx-0009', 'no more items: u undo approved q-fx-0009');
      terminal.press('q');
      expect(await exit).toBe(0);
      expect(terminal.text).toMatch(/decided 1 \(1 approved, 0 rejected\).*the queue is empty/);
      expect(await sqlite(t, "SELECT status FROM questions WHERE id = 'q-fx-0009'")).toEqual([{ status: 'active' }]);
      expect(await sqlite(t, 'SELECT event_type, source_name FROM question_history ORDER BY id DESC LIMIT 1')).toEqual([{ event_type: 'approved', source_name: 'alice@example.com' }]);
      expect(await sqlite(t, 'SELECT bot_name, action FROM bot_ledger ORDER BY id DESC LIMIT 1')).toEqual([{ bot_name: 'alice@example.com', action: 'verify' }]);
    });

    it('claims the work item on screen, fails it with a reason, and releases the next one on quit', async () => {
      const { terminal, exit } = start(['--queue', 'work', '--reviewer', 'carol']);
      await terminal.waitFor('1 / 3', '#1', 'improve question q-fx-0009', 'a complete', 'r fail', /1 \/ 3 .*reviewer carol  ·  claimed by carol until 20\d\d-/);
      await until(async () => (await sqlite(t, 'SELECT assigned_to FROM work_queue WHERE id = 1'))[0].assigned_to === 'carol', 'the claim of item 1');
      expect((await sqlite(t, 'SELECT status FROM work_queue WHERE id = 1'))[0].status).toBe('processing');

      terminal.press('r');
      await terminal.waitFor('Why does work item 1 fail?');
      terminal.press('cannot reproduce\r');
      await terminal.waitFor('2 / 3', '#2', '✔ failed 1');
      expect(await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue WHERE id = 1')).toEqual([{ status: 'failed', assigned_to: 'carol', result: '{"error":"cannot reproduce"}' }]);
      await until(async () => (await sqlite(t, 'SELECT status FROM work_queue WHERE id = 2'))[0].status === 'processing', 'the claim of item 2');

      terminal.press('q');
      expect(await exit).toBe(0);
      // the work queue's own words, and the command that resumes it
      expect(terminal.text).toMatch(/handled 1 \(0 completed, 1 failed\) in .*run `qbank review --queue work` again/);
      expect(terminal.text).not.toMatch(/approved/);
      expect(await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue WHERE id = 2')).toEqual([{ status: 'pending', assigned_to: 'eli5-bot', result: null }]);
      const ledger = await sqlite(t, "SELECT item_id, reason FROM bot_ledger WHERE item_type = 'work_queue' ORDER BY id");
      expect(ledger.map((r) => `${r.item_id}: ${String(r.reason).split(' ')[0]}`)).toEqual(['1: claimed', '1: improve', '2: claimed', '2: claim']);
      expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);
    });

    it('gives back every claim it took, even for items skipped before their claim landed', async () => {
      const database = open(t);
      try {
        const { WorkQueue } = await import('../src/db/review/work-queue.js');
        const viewer = () => ({ reviewer: 'carol', now: new Date() });
        const session = await ReviewSession.start({ database, queue: new WorkQueue({}, viewer), reviewer: 'carol', clock: () => new Date(), leaseMs: 60_000 });
        await session.skip();
        await session.skip();
        expect(session.current?.id).toBe('3');
        const summary = await session.close();
        expect(summary.warnings).toEqual([]);
        expect(await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue ORDER BY id')).toEqual([
          { status: 'pending', assigned_to: 'improve-bot', result: null },
          { status: 'pending', assigned_to: 'eli5-bot', result: null },
          { status: 'pending', assigned_to: null, result: null },
        ]);
      } finally {
        database.close();
      }
    });

    it('undoes a flagged-question decision exactly, and audits the undo too', async () => {
      const [original] = await sqlite(t, "SELECT * FROM questions WHERE id = 'q-fx-0009'");
      const database = open(t);
      try {
        const { FlaggedQuestionQueue } = await import('../src/db/review/flagged-queue.js');
        const session = await ReviewSession.start({ database, queue: new FlaggedQuestionQueue({}), reviewer: 'alice', clock: () => new Date(), leaseMs: 0 });
        expect((await session.decide({ kind: 'reject', reason: 'duplicate of q-fx-0002' })).ok).toBe(true);
        expect((await sqlite(t, "SELECT status FROM questions WHERE id = 'q-fx-0009'"))[0].status).toBe('deleted');
        expect(session.current).toBeUndefined();
        const undo = await session.undo();
        expect(undo).toMatchObject({ ok: true, message: 'undid: rejected q-fx-0009' });
        expect(session.current?.id).toBe('q-fx-0009');
        expect(await sqlite(t, "SELECT * FROM questions WHERE id = 'q-fx-0009'")).toEqual([original]);
        expect(await sqlite(t, "SELECT event_type, source_name, reason FROM question_history WHERE question_id = 'q-fx-0009' ORDER BY id DESC LIMIT 2")).toEqual([
          { event_type: 'reverted', source_name: 'alice', reason: 'undo' },
          { event_type: 'deleted', source_name: 'alice', reason: 'duplicate of q-fx-0002' },
        ]);
        expect(await sqlite(t, "SELECT action, reason FROM bot_ledger WHERE item_id = 'q-fx-0009' ORDER BY id DESC LIMIT 2")).toEqual([
          { action: 'update', reason: 'undo: rejected q-fx-0009' },
          { action: 'delete', reason: 'duplicate of q-fx-0002' },
        ]);
        await session.close();
      } finally {
        database.close();
      }
    });

    it('undoes a completed work item back to the reviewer\'s claim', async () => {
      const database = open(t);
      try {
        const { WorkQueue } = await import('../src/db/review/work-queue.js');
        const viewer = () => ({ reviewer: 'carol', now: new Date() });
        const session = await ReviewSession.start({ database, queue: new WorkQueue({}, viewer), reviewer: 'carol', clock: () => new Date(), leaseMs: 60_000 });
        expect((await session.decide({ kind: 'complete', result: '{"done":true}' })).ok).toBe(true);
        expect((await sqlite(t, 'SELECT status FROM work_queue WHERE id = 1'))[0].status).toBe('completed');
        const undo = await session.undo();
        expect(undo.ok).toBe(true);
        const [row] = await sqlite(t, 'SELECT status, assigned_to, result FROM work_queue WHERE id = 1');
        expect(row).toMatchObject({ status: 'processing', assigned_to: 'carol' });
        expect(JSON.parse(String(row.result)).claim.by).toBe('carol');
        await session.close();
        expect(await sqlite(t, 'SELECT status, assigned_to FROM work_queue ORDER BY id')).toEqual([
          { status: 'pending', assigned_to: 'improve-bot' },
          { status: 'pending', assigned_to: 'eli5-bot' },
          { status: 'pending', assigned_to: null },
        ]);
      } finally {
        database.close();
      }
    });
  });
});
