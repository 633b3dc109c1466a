import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseForEachTest, MODES, preparedDatabase, runIn, sqlite, type Mode } from './support/modes.js';

const EXAMS_CSV = join(import.meta.dirname, '..', 'fixtures', 'pingtopass', 'exams.csv');

/** An import into an empty questions table lists, in --json, the id of every question it created. */
describe.each(MODES)('the ids an import into an empty bank created (%s)', (mode: Mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]));

  const rows = ['id,exam_code,text,option_a,option_b,correct,difficulty', 'given-1,SAA-C03,First?,a,b,A,1', ',SAA-C03,Second?,a,b,B,2', ',SC-900,Third?,a,b,A,3', 'given-4,SC-900,Fourth?,a,b,B,1', ',SC-900,Fifth?,a,b,A,2'];
  const storedIds = async () => (await sqlite(t, 'SELECT id FROM questions ORDER BY rowid')).map((row) => String(row.id));

  it('--json lists every created question, given ids and drawn ones', async () => {
    writeFileSync(join(t.dir, 'bank.csv'), rows.join('\n'));
    const result = await runIn(t, ['import', 'bank.csv', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { created, ids } = result.json();
    expect(created).toBe(5);
    const stored = await storedIds();
    expect(stored).toHaveLength(5);
    expect(ids.created).toEqual(stored);
    expect(ids.created[0]).toBe('given-1');
    expect(ids.created[3]).toBe('given-4');
    // the rows without an id, and only they, are told the ids they got
    expect(result.json().assigned).toBe(3);
    expect(ids.assigned).toEqual([stored[1], stored[2], stored[4]]);
  });

  it('says which ids rows without one got, and a dry run how many would get one', async () => {
    writeFileSync(join(t.dir, 'bank.csv'), rows.join('\n'));
    const plan = await runIn(t, ['import', 'bank.csv', '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/3 rows without an id would be created with new ids/);
    const planJson = await runIn(t, ['--json', 'import', 'bank.csv', '--dry-run']);
    expect(planJson.json()).toMatchObject({ created: 5, assigned: 3, ids: { created: [], assigned: [] } });
    expect(await storedIds()).toEqual([]);
    const run = await runIn(t, ['import', 'bank.csv']);
    expect(run.code, run.stderr).toBe(0);
    const stored = await storedIds();
    expect(run.stderr).toContain(`3 rows without an id got: ${stored[1]}, ${stored[2]}, ${stored[4]}`);
  });
});
