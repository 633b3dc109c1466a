import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, sqlite, type TestDatabase } from './support/modes.js';
import { EXAMS_CSV } from './support/interchange.js';

const reviewOf = (t: TestDatabase) => sqlite(t, "SELECT id, review_status, reviewed_by, reviewed_at IS NOT NULL AS has_time, text FROM questions WHERE id LIKE 'rv-%' ORDER BY id");

const HEADER = 'id,exam_code,text,option_a,option_b,correct,difficulty,tags';
const DECIDED = `${HEADER},review_status\nrv-1,CCNA-200-301,Which port does SSH use?,22,23,A,1,ssh,approved\nrv-2,CCNA-200-301,Which port does Telnet use?,22,23,B,1,telnet,approved\nrv-3,CCNA-200-301,Which port does HTTP use?,80,8080,A,1,http,rejected\n`;
// rv-1's key moves from A to B, rv-2 only changes its tags, rv-3 (rejected) is fixed
const EDITED = `${HEADER}\nrv-1,CCNA-200-301,Which port does SSH use?,22,23,B,1,ssh\nrv-2,CCNA-200-301,Which port does Telnet use?,22,23,B,1,telnet;legacy\nrv-3,CCNA-200-301,Which port does HTTP use by default?,80,8080,A,1,http\n`;

describe.each(MODES)('a re-import respects review decisions (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed'], ['import', 'exams', EXAMS_CSV]]));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    writeFileSync(join(t.dir, 'decided.csv'), DECIDED);
    writeFileSync(join(t.dir, 'edited.csv'), EDITED);
  });

  it('approving by import needs a reviewer, and records who and when', async () => {
    const refused = await cli(['import', 'decided.csv']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/decided\.csv:2:9 row 2 \(id rv-1\), column review_status \(I\): "approved" needs a reviewer/);
    expect(refused.stderr).toContain('--reviewer');
    expect(await reviewOf(t)).toEqual([]);
    const imported = await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com']);
    expect(imported.code, imported.stderr).toBe(0);
    expect((await reviewOf(t)).map((row) => [row.id, row.review_status, row.reviewed_by, row.has_time])).toEqual([
      ['rv-1', 'approved', 'lead@example.com', 1],
      ['rv-2', 'approved', 'lead@example.com', 1],
      ['rv-3', 'rejected', 'lead@example.com', 1],
    ]);
    // a reviewed_by column names the reviewer without the flag
    writeFileSync(join(t.dir, 'by-column.csv'), `${HEADER},review_status,reviewed_by\nrv-4,CCNA-200-301,Which port does DNS use?,53,54,A,1,dns,approved,ann@example.com\n`);
    expect((await cli(['import', 'by-column.csv'])).code).toBe(0);
    expect((await sqlite(t, "SELECT reviewed_by FROM questions WHERE id = 'rv-4'"))[0].reviewed_by).toBe('ann@example.com');
  });

  it('a changed key or text sends a decided question back to pending and says so; tags keep the decision', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    const plan = await cli(['import', 'edited.csv', '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json().reviewReset.map((entry: { id: string; previous: string }) => [entry.id, entry.previous])).toEqual([
      ['rv-1', 'approved'],
      ['rv-3', 'rejected'],
    ]);
    expect((await reviewOf(t)).map((row) => row.review_status)).toEqual(['approved', 'approved', 'rejected']);

    const result = await cli(['import', 'questions', 'edited.csv']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/2 approved or rejected questions changed and are pending again: rv-1, rv-3/);
    expect((await reviewOf(t)).map((row) => [row.id, row.review_status, row.reviewed_by, row.has_time])).toEqual([
      ['rv-1', 'pending', null, 0],
      ['rv-2', 'approved', 'lead@example.com', 1],
      ['rv-3', 'pending', null, 0],
    ]);
  });

  it('one decided question sent back to pending is said in the singular', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    writeFileSync(join(t.dir, 'one.csv'), `${HEADER}\nrv-1,CCNA-200-301,Which port does SSH use?,22,23,B,1,ssh\n`);
    const result = await cli(['import', 'one.csv']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/1 approved question changed and is pending again: rv-1/);
    expect((await reviewOf(t)).map((row) => [row.id, row.review_status])).toEqual([
      ['rv-1', 'pending'],
      ['rv-2', 'approved'],
      ['rv-3', 'rejected'],
    ]);
  });

  it('--refuse-reviewed-changes refuses (exit 5, naming them) and writes nothing; --keep-review-status keeps the decisions', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    const before = await reviewOf(t);
    const refused = await cli(['import', 'edited.csv', '--refuse-reviewed-changes']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/2 reviewed questions would change and go back to pending: rv-1, rv-3/);
    expect(await reviewOf(t)).toEqual(before);

    const kept = await cli(['import', '--keep-review-status', 'edited.csv', '--json']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.json()).toMatchObject({ updated: 3, reviewReset: [] });
    expect((await reviewOf(t)).map((row) => [row.id, row.review_status, row.text])).toEqual([
      ['rv-1', 'approved', 'Which port does SSH use?'],
      ['rv-2', 'approved', 'Which port does Telnet use?'],
      ['rv-3', 'rejected', 'Which port does HTTP use by default?'],
    ]);
    const options = await sqlite(t, "SELECT text, is_correct FROM answer_options WHERE question_id = 'rv-1' ORDER BY \"order\"");
    expect(options).toEqual([
      { text: '22', is_correct: 0 },
      { text: '23', is_correct: 1 },
    ]);
  });

  it('--json lists the ids created and updated; rows without an id are told the ids they got', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    writeFileSync(join(t.dir, 'new.csv'), `${HEADER}\n,CCNA-200-301,A question without an id?,yes,no,A,1,\nrv-2,CCNA-200-301,Which port does Telnet use?,22,23,B,1,telnet;changed\n`);
    const plan = await cli(['import', 'new.csv', '--dry-run']);
    expect(plan.stderr).toMatch(/1 row without an id would be created with new ids/);
    const result = await cli(['import', 'new.csv', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { ids } = result.json();
    expect(ids.updated).toEqual(['rv-2']);
    expect(ids.created).toHaveLength(1);
    expect(ids.assigned).toEqual(ids.created);
    expect((await sqlite(t, `SELECT text FROM questions WHERE id = '${ids.created[0]}'`))[0].text).toBe('A question without an id?');
    writeFileSync(join(t.dir, 'another.csv'), `${HEADER}\n,CCNA-200-301,Another question without an id?,yes,no,A,1,\n`);
    const human = await cli(['import', 'another.csv']);
    expect(human.stderr).toMatch(/1 row without an id got: \S+/);
  });

  it('the decision a re-import resets is kept in its run: the entry counts it, and undoing the run brings it back', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    const before = await reviewOf(t);
    expect((await cli(['import', 'edited.csv'])).code).toBe(0);
    expect((await reviewOf(t)).find((row) => row.id === 'rv-1')!.review_status).toBe('pending');
    const [entry] = await sqlite(t, "SELECT id, counts FROM __qbank_audit WHERE command LIKE 'import%' ORDER BY started_at DESC, rowid DESC LIMIT 1");
    expect(JSON.parse(String(entry.counts)).reviewReset).toBe(2);
    const undo = await cli(['undo', String(entry.id)]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await reviewOf(t)).toEqual(before);
  });

  it('--json lists the decided questions the file left as they are, beside those created and updated', async () => {
    expect((await cli(['import', 'decided.csv', '--reviewer', 'lead@example.com'])).code).toBe(0);
    writeFileSync(join(t.dir, 'same.csv'), `${HEADER}\nrv-1,CCNA-200-301,Which port does SSH use?,22,23,A,1,ssh\nrv-2,CCNA-200-301,Which port does Telnet use?,22,23,B,1,telnet;legacy\nrv-3,CCNA-200-301,Which port does HTTP use?,80,8080,A,1,http\n`);
    for (const args of [['import', 'same.csv', '--dry-run', '--json'], ['--json', 'import', 'same.csv']]) {
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(0);
      const { ids, unchanged } = result.json();
      expect(ids.updated).toEqual(['rv-2']);
      expect(ids.unchangedReviewed).toEqual(['rv-1', 'rv-3']);
      expect(unchanged).toBe(2);
    }
    expect((await reviewOf(t)).map((row) => [row.id, row.review_status])).toEqual([
      ['rv-1', 'approved'],
      ['rv-2', 'approved'],
      ['rv-3', 'rejected'],
    ]);
  });
});
