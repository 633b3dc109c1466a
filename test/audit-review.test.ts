import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { MODES, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';

describe.each(MODES)('PingToPass reject by any reviewer, and the question history (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await seededDatabase(mode, 'pingtopass');
  });
  afterEach(async () => {
    await t.close();
  });

  it('a reviewer who is no user rejects with a reason: kept in the run entry, no feedback row', async () => {
    const rejected = await cli(['review', 'reject', 'q_saa_002', '--reason', 'two answers are right', '--reviewer', 'ci-editor']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(await sqlite(t, "SELECT review_status, reviewed_by FROM questions WHERE id = 'q_saa_002'")).toEqual([{ review_status: 'rejected', reviewed_by: 'ci-editor' }]);
    expect(await sqlite(t, "SELECT count(*) AS n FROM feedback WHERE question_id = 'q_saa_002' AND type = 'general'")).toEqual([{ n: 0 }]);
    const entries = await sqlite(t, "SELECT actor, command, json_extract(arguments, '$.reason') AS reason FROM __qbank_audit WHERE command = 'review reject'");
    expect(entries).toEqual([{ actor: 'ci-editor', command: 'review reject', reason: 'two answers are right' }]);

    const history = await cli(['history', 'q_saa_002', '--json']);
    expect(history.code, history.stderr).toBe(0);
    const events = history.json().events as Array<{ source: string; who: string; what: string; detail: string | null }>;
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'qbank', who: 'ci-editor', what: 'review reject: update', detail: 'two answers are right' }),
        expect.objectContaining({ source: 'review', who: 'ci-editor', what: 'rejected' }),
        expect.objectContaining({ source: 'created' }),
      ]),
    );
    expect((await cli(['history', 'no-such-question'])).code).toBe(3);
  });

  it('a reviewer who is a user still leaves the feedback row', async () => {
    const rejected = await cli(['review', 'reject', 'q_saa_002', '--reason', 'two answers are right', '--reviewer', 'ada@example.com']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(await sqlite(t, "SELECT user_id FROM feedback WHERE question_id = 'q_saa_002' AND type = 'general'")).toEqual([{ user_id: 'user_ada' }]);
    const events = (await cli(['history', 'q_saa_002', '--json'])).json().events as Array<{ source: string }>;
    expect(events.map((event) => event.source)).toContain('feedback');
  });
});
