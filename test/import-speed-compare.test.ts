import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, snapshot, sqlite } from './support/modes.js';
import { PINGTOPASS_WITH_EXAMS } from './support/interchange.js';

/**
 * A re-import compares its rows with the stored questions before staging them, and stages the rows
 * that change nothing as their key alone. These tests hold that shortcut to the rules of the full
 * comparison: every kind of change is still an update, and a file that changes nothing writes no
 * row of the systems' tables.
 */

const HEADER = 'id,exam_code,type,text,option_a,option_b,option_c,correct,explanation,difficulty,objective_id,tags,reference_url,exhibit_url,is_active,ai_generated,ai_model';
type Row = Record<string, string>;
const base = (n: number): Row => ({
  id: `sp-${n}`,
  exam_code: 'CCNA-200-301',
  type: '',
  text: `Question number ${n}: which one?`,
  option_a: `first ${n}`,
  option_b: `second ${n}`,
  option_c: `third ${n}`,
  correct: 'A',
  explanation: `Because ${n}.`,
  difficulty: '2',
  objective_id: '1.1',
  tags: 'a;b',
  reference_url: 'https://example.com/ref',
  exhibit_url: '',
  is_active: 'true',
  ai_generated: 'false',
  ai_model: 'model-x',
});
const csv = (records: Row[]) => [HEADER, ...records.map((record) => HEADER.split(',').map((column) => `"${(record[column] ?? '').replaceAll('"', '""')}"`).join(','))].join('\n') + '\n';

/** One change a question, each of a different field: every one must be an update. */
const EDITS: Array<[string, (row: Row) => void]> = [
  ['text', (row) => (row.text += ' Really?')],
  ['option text', (row) => (row.option_b += ' (edited)')],
  ['option added', (row) => (row.option_c = row.option_c)],
  ['correct', (row) => (row.correct = 'B')],
  ['explanation', (row) => (row.explanation = 'Another reason.')],
  ['explanation emptied', (row) => (row.explanation = '')],
  ['difficulty', (row) => (row.difficulty = '3')],
  ['objective', (row) => (row.objective_id = '2.2')],
  ['tags', (row) => (row.tags = 'a;c')],
  ['reference_url', (row) => (row.reference_url = 'https://example.com/other')],
  ['exhibit_url', (row) => (row.exhibit_url = 'https://example.com/exhibit.png')],
  ['type', (row) => (row.type = 'multiple')],
  ['exam', (row) => (row.exam_code = 'SAA-C03')],
  ['is_active', (row) => (row.is_active = 'false')],
  ['ai_generated', (row) => (row.ai_generated = 'true')],
  ['ai_model', (row) => (row.ai_model = 'model-y')],
];

describe.each(MODES)('a re-import compares before it stages (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  it('every kind of change is an update; a file that changes nothing writes no row but the run entry', async () => {
    const count = EDITS.length + 2;
    const original = Array.from({ length: count }, (_, n) => base(n));
    // the option-added case starts with two options
    original[2].option_c = '';
    writeFileSync(join(t.dir, 'bank.csv'), csv(original));
    const first = await cli(['import', 'bank.csv', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ created: count });
    // a second, non-empty table: the import compares from here on
    const before = await snapshot(t, { systemsOnly: true });
    const audits = Number((await sqlite(t, 'SELECT count(*) AS n FROM __qbank_audit'))[0].n);
    const again = await cli(['import', 'bank.csv', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: count });
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
    // qbank's own record of the run is all it may add (a run that changed nothing records no entry today)
    expect(Number((await sqlite(t, 'SELECT count(*) AS n FROM __qbank_audit'))[0].n)).toBeLessThanOrEqual(audits + 1);

    const edited = original.map((row) => ({ ...row }));
    EDITS.forEach(([, edit], n) => edit(edited[n]));
    edited[2].option_c = 'third 2';
    writeFileSync(join(t.dir, 'edited.csv'), csv(edited));
    const result = await cli(['import', 'edited.csv', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 0, updated: EDITS.length, unchanged: 2 });
    expect(result.json().ids.updated).toEqual(EDITS.map((_, n) => `sp-${n}`));
    const stored = await sqlite(t, "SELECT id, text, explanation, difficulty, tags, type, is_active, ai_generated, ai_model FROM questions WHERE id IN ('sp-0', 'sp-5', 'sp-6', 'sp-11', 'sp-13', 'sp-15') ORDER BY id");
    expect(stored.map((row) => [row.id, row.text, row.explanation, row.difficulty, row.type, row.is_active, row.ai_model])).toEqual([
      ['sp-0', 'Question number 0: which one? Really?', 'Because 0.', 2, 'single', 1, 'model-x'],
      ['sp-11', 'Question number 11: which one?', 'Because 11.', 2, 'multiple', 1, 'model-x'],
      ['sp-13', 'Question number 13: which one?', 'Because 13.', 2, 'single', 0, 'model-x'],
      ['sp-15', 'Question number 15: which one?', 'Because 15.', 2, 'single', 1, 'model-y'],
      ['sp-5', 'Question number 5: which one?', null, 2, 'single', 1, 'model-x'],
      ['sp-6', 'Question number 6: which one?', 'Because 6.', 3, 'single', 1, 'model-x'],
    ]);
    expect(await sqlite(t, "SELECT text, is_correct FROM answer_options WHERE question_id = 'sp-2' ORDER BY \"order\"")).toEqual([
      { text: 'first 2', is_correct: 1 },
      { text: 'second 2', is_correct: 0 },
      { text: 'third 2', is_correct: 0 },
    ]);
  });

  it('rows without ids match by exam and text; columns a file leaves out, and a type it leaves to the key, change nothing', async () => {
    writeFileSync(join(t.dir, 'bank.csv'), csv([{ ...base(1), id: '' }, { ...base(2), id: '', type: 'drag-drop' }]));
    expect((await cli(['import', 'bank.csv'])).code).toBe(0);
    await cli(['import', 'bank.csv']);
    const before = await snapshot(t, { systemsOnly: true });
    // the same questions, without the optional columns and the type
    writeFileSync(
      join(t.dir, 'short.csv'),
      'exam_code,text,option_a,option_b,option_c,correct,difficulty\n' +
        [1, 2].map((n) => `CCNA-200-301,Question number ${n}: which one?,first ${n},second ${n},third ${n},A,2`).join('\n') +
        '\n',
    );
    const short = await cli(['import', 'short.csv', '--json']);
    expect(short.code, short.stderr).toBe(0);
    expect(short.json()).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
    // --mode skip-existing counts them as skipped, --mode insert refuses them
    expect((await cli(['import', 'short.csv', '--mode', 'skip-existing', '--json'])).json()).toMatchObject({ skipped: 2, unchanged: 0 });
    const insert = await cli(['import', 'short.csv', '--mode', 'insert']);
    expect(insert.code).toBe(3);
    expect(insert.stderr).toMatch(/question already exists/);
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
  });
});
