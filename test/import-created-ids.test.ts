import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseForEachTest, MODES, preparedDatabase, runIn, sqlite, type Mode } from './support/modes.js';

const EXAMS_CSV = join(import.meta.dirname, '..', 'fixtures', 'pingtopass', 'exams.csv');

/** An import into an empty questions table lists, in --json, the id of every question it created. */
describe.each(MODES)('the ids an import into an empty bank created (%s)', (mode: Mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]));

  it('--json lists every created question, given ids and drawn ones', async () => {
    const rows = ['id,exam_code,text,option_a,option_b,correct,difficulty', 'given-1,SAA-C03,First?,a,b,A,1', ',SAA-C03,Second?,a,b,B,2', ',SC-900,Third?,a,b,A,3'];
    writeFileSync(join(t.dir, 'bank.csv'), rows.join('\n'));
    const result = await runIn(t, ['import', 'bank.csv', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { created, ids } = result.json();
    expect(created).toBe(3);
    const stored = (await sqlite(t, 'SELECT id FROM questions ORDER BY rowid')).map((row) => String(row.id));
    expect(stored).toHaveLength(3);
    expect(ids.created).toEqual(stored);
    expect(ids.created[0]).toBe('given-1');
  });
});
