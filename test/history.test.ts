import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, sqlite } from './support/modes.js';
import { hasSharedOpenInterview, SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';

/** `qbank history`: one timeline for a question from every source that knows about it. */

describe.each(MODES)('the history of an open-interview question (%s)', (mode) => {
  // the system's own records where they are beside the checkout, else ours
  const records = hasSharedOpenInterview ? join(SHARED_OPEN_INTERVIEW, 'data-questions.json') : join(import.meta.dirname, '..', 'fixtures', 'open-interview', 'questions.json');
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'open-interview'], ['import', records, '--skip-invalid', '--reviewer', 'importer@example.com']]));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  it("merges qbank's runs, question_history and bot_ledger into one timeline, oldest first", async () => {
    const [{ id }] = await sqlite(t, 'SELECT id FROM questions ORDER BY rowid LIMIT 1');
    const question = String(id);
    // the system's verifier bot flags it, as the system writes it: status, a history event, a ledger row
    const flaggedAt = new Date().toISOString();
    const client = createClient({ url: `file:${t.dbPath}` });
    try {
      await client.batch([
        { sql: "UPDATE questions SET status = 'flagged' WHERE id = ?", args: [question] },
        {
          sql: "INSERT INTO question_history (question_id, question_type, event_type, event_source, source_name, changes_summary, reason, created_at) VALUES (?, 'question', 'flagged', 'bot', 'verifier-bot', 'Status active → flagged', 'answer looks outdated', ?)",
          args: [question, flaggedAt],
        },
        { sql: "INSERT INTO bot_ledger (bot_name, action, item_type, item_id, reason, created_at) VALUES ('verifier-bot', 'flag', 'question', ?, 'answer looks outdated', ?)", args: [question, flaggedAt] },
      ]);
    } finally {
      client.close();
    }
    const approved = await cli(['review', 'approve', question, '--reviewer', 'ed@example.com']);
    expect(approved.code, approved.stderr).toBe(0);

    const history = await cli(['history', question, '--json']);
    expect(history.code, history.stderr).toBe(0);
    const events = history.json().events as Array<{ at: string; source: string; who: string | null; what: string; detail: string | null; runId?: string }>;
    expect(events.map((event) => event.at)).toEqual([...events.map((event) => event.at)].sort());
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'qbank', who: 'importer@example.com', what: 'import questions: create', detail: records.split('/').pop() }),
        expect.objectContaining({ source: 'question_history', what: 'created' }),
        expect.objectContaining({ source: 'question_history', who: 'verifier-bot', what: 'flagged', detail: 'answer looks outdated' }),
        expect.objectContaining({ source: 'bot_ledger', who: 'verifier-bot', what: 'flag', detail: 'answer looks outdated' }),
        expect.objectContaining({ source: 'qbank', who: 'ed@example.com', what: 'review approve: update' }),
        expect.objectContaining({ source: 'question_history', who: 'ed@example.com', what: 'approved' }),
        expect.objectContaining({ source: 'bot_ledger', who: 'ed@example.com', what: 'verify' }),
      ]),
    );
    const importRun = events.find((event) => event.what === 'import questions: create')!.runId!;
    expect((await cli(['audit', 'show', importRun])).code).toBe(0);

    const human = await cli(['history', question]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/bot_ledger\s+verifier-bot\s+flag/);
    // a question of the same file that nothing but the import touched: the import alone
    const [{ id: other }] = await sqlite(t, 'SELECT id FROM questions ORDER BY rowid DESC LIMIT 1');
    const quiet = (await cli(['history', String(other), '--json'])).json().events as Array<{ source: string; what: string }>;
    expect(quiet.filter((event) => event.source === 'qbank').map((event) => event.what)).toEqual(['import questions: create']);
  });
});
