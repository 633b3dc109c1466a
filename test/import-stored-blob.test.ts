import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MODES, runIn, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';

/**
 * Values another writer stored as blobs where the systems keep text (an option's text, a
 * question's explanation): JSON, which the export of options, check, the comparison, the audit's
 * before-images and undo go through, cannot hold a blob. Export writes them as base64, check reads
 * through them, a re-import of the exported bank sees them as changed, shows them in --diff,
 * writes the file's text over them, and undo puts the very bytes back.
 */
describe.each(MODES)('a re-import over values stored as blobs (%s)', (mode) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('export writes base64, check runs; the import updates them with the file’s text, shows them in --diff, and undo restores the blobs byte for byte', async () => {
    t = await seededDatabase(mode, 'pingtopass');
    const exported = await runIn(t, ['export', 'questions', 'bank.csv']);
    expect(exported.code, exported.stderr).toBe(0);
    const [option] = await sqlite(t, 'SELECT id, question_id, text FROM answer_options ORDER BY question_id, "order" LIMIT 1');
    const [question] = await sqlite(t, "SELECT id, explanation FROM questions WHERE explanation IS NOT NULL AND id <> ? ORDER BY id LIMIT 1", [String(option.question_id)]);
    await sqlite(t, "UPDATE answer_options SET text = x'00ff41' WHERE id = ?", [String(option.id)]);
    await sqlite(t, "UPDATE questions SET explanation = x'4142' WHERE id = ?", [String(question.id)]);

    // export writes such an option as base64, as it writes a blob column; check reads through it
    for (const format of ['csv', 'jsonl']) {
      const run = await runIn(t, ['export', 'questions', `blobs.${format}`]);
      expect(run.code, run.stderr).toBe(0);
      const written = readFileSync(join(t.dir, `blobs.${format}`), 'utf8');
      expect(written).toContain(format === 'csv' ? `${String(option.question_id)},` : `"id":"${String(option.question_id)}"`);
      expect(written).toContain(format === 'csv' ? ',AP9B,' : '"option_a":"AP9B"');
    }
    const check = await runIn(t, ['check']);
    expect(check.stderr).not.toContain('BLOB');
    expect(check.code, check.stderr).toBe(0);

    const dryRun = await runIn(t, ['import', 'bank.csv', '--dry-run', '--diff']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout + dryRun.stderr).toContain(`- A. blob x'00FF41'`);
    expect(dryRun.stdout + dryRun.stderr).toContain(`- blob x'4142'`);

    const imported = await runIn(t, ['import', 'bank.csv', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const summary: unknown = JSON.parse(imported.stdout);
    expect(JSON.stringify(summary)).toContain('"updated":2');
    const texts = await sqlite(t, 'SELECT (SELECT typeof(text) || text FROM answer_options WHERE id = ?) AS option, (SELECT typeof(explanation) || explanation FROM questions WHERE id = ?) AS explanation', [String(option.id), String(question.id)]);
    expect(texts).toEqual([{ option: `text${String(option.text)}`, explanation: `text${String(question.explanation)}` }]);

    const runs = await runIn(t, ['audit', 'list', '--json']);
    const runId = (JSON.parse(runs.stdout) as { runs: Array<{ id: string; command: string }> }).runs.find((run) => run.command === 'import questions')!.id;
    const undone = await runIn(t, ['undo', runId]);
    expect(undone.code, undone.stderr).toBe(0);
    const restored = await sqlite(t, 'SELECT (SELECT typeof(text) || hex(text) FROM answer_options WHERE id = ?) AS option, (SELECT typeof(explanation) || hex(explanation) FROM questions WHERE id = ?) AS explanation', [String(option.id), String(question.id)]);
    expect(restored).toEqual([{ option: 'blob00FF41', explanation: 'blob4142' }]);
  });

  it("check reads a question's text stored as a blob as its bytes in UTF-8: two different blobs are no duplicates, a blob of another's text is", async () => {
    t = await seededDatabase(mode, 'pingtopass');
    const [first, second, third] = await sqlite(t, "SELECT q.id, q.text FROM questions q WHERE q.exam_id = (SELECT exam_id FROM questions GROUP BY exam_id HAVING count(*) >= 3 ORDER BY exam_id LIMIT 1) ORDER BY q.id LIMIT 3");
    await sqlite(t, "UPDATE questions SET text = CAST(? AS BLOB) WHERE id = ?", ['Which blob-stored question comes first, and why?', String(first.id)]);
    await sqlite(t, "UPDATE questions SET text = CAST(? AS BLOB) WHERE id = ?", ['An entirely different question held as bytes?', String(second.id)]);
    expect(await sqlite(t, 'SELECT typeof(text) AS type FROM questions WHERE id IN (?, ?)', [String(first.id), String(second.id)])).toEqual([{ type: 'blob' }, { type: 'blob' }]);
    const duplicates = async () => {
      const run = await runIn(t!, ['check', '--rules', 'duplicate-question', '--json']);
      expect(run.stderr).not.toContain('BLOB');
      return (run.json().findings as Array<{ rule: string; id: string; related: string[] }>).map((finding) => [finding.id, ...finding.related].sort());
    };
    expect(await duplicates()).toEqual([]);
    // the same text as the third question's, held as its UTF-8 bytes
    await sqlite(t, "UPDATE questions SET text = CAST(? AS BLOB) WHERE id = ?", [String(third.text), String(second.id)]);
    expect(await duplicates()).toEqual([[String(second.id), String(third.id)].sort()]);
  });
});
