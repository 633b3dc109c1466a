import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeAiken } from '../src/db/interchange/aiken.js';
import { examsDatabase, hasSharedMoodle, INTERCHANGE_FIXTURES, QUESTIONS_CSV, questionIds, SHARED_MOODLE, snapshot, storedQuestions, importsIntoExamsDatabase } from './support/interchange.js';
import { databaseForEachTest, MODES, runIn } from './support/modes.js';

const TRICKY = join(INTERCHANGE_FIXTURES, 'tricky.aiken.txt');

describe('qbank import FILE (Aiken)', () => {
  const { t, cli, file, imported } = importsIntoExamsDatabase();

  const TRICKY_QUESTIONS = [
    { text: 'What does "switchport mode access" do to a port <em>&amp;</em> its frames?', options: ['Makes it a trunk', 'Puts it in one VLAN*'] },
    { text: 'Which protocol maps a known IPv4 address to a MAC address?', options: ['ARP*', 'DNS', 'DHCP'] },
    { text: 'Ünïcödé — 日本語 🎉', options: ['Yes*', 'No'] },
  ];

  it('tells a .txt file in Aiken from delimited text by its content, and reads A. A) and A)no-space options, HTML kept as written', async () => {
    writeFileSync(join(t.dir, 'bank.txt'), readFileSync(TRICKY));
    const result = await cli(['import', 'bank.txt', '--exam', 'CCNA-200-301', '--difficulty', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ format: 'aiken', created: 3 });
    const questions = await imported();
    expect(questions.map(({ text, options, type, exam, difficulty, explanation }) => ({ text, options, type, exam, difficulty, explanation }))).toEqual(
      TRICKY_QUESTIONS.map((question) => ({ ...question, type: 'single', exam: 'CCNA-200-301', difficulty: 2, explanation: null })),
    );
    expect(looksLikeAiken('id,exam_code,text\n1,A,B\n')).toBe(false);
  });

  it('reads the file with a byte-order mark and Windows line endings the same', async () => {
    file('windows.txt', '\uFEFF' + readFileSync(TRICKY, 'utf8').replace(/\n/g, '\r\n'));
    const result = await cli(['import', 'windows.txt', '--format', 'aiken', '--exam', 'CCNA-200-301', '--difficulty', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect((await imported()).map(({ text, options }) => ({ text, options }))).toEqual(TRICKY_QUESTIONS);
  });

  // each broken question starts on line 5, after a good one
  const MALFORMED: Array<[string, string, string]> = [
    ['one option', 'Broken?\nA. only\nANSWER: A\n', 'a question needs at least two options (ANSWER on line 7)'],
    ['an answer naming no option', 'Broken?\nA. a\nB. b\nANSWER: C\n', 'ANSWER "C" on line 8 names no option (this question has 2: A-B)'],
    ['an option before any question', 'A. stray\n', 'an option before any question'],
    ['no ANSWER line at the end', 'Broken?\nA. a\nB. b\n', 'the file ends before it is completed'],
    ['more than six options', 'Broken?\nA. a\nB. b\nC. c\nD. d\nE. e\nF. f\nG. g\nANSWER: A\n', 'options: has more than six options'],
  ];

  it.each(MALFORMED)('refuses %s at its line and writes nothing', async (_name, question, message) => {
    const before = await snapshot(t);
    const result = await cli(['import', file('bad.aiken.txt', `Good?\nA. yes\nB. no\nANSWER: A\n${question}`), '--exam', 'SAA-C03', '--difficulty', '1']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/bad\.aiken\.txt:5:1 ?[a-z_]*:? /);
    expect(result.stderr).toContain(message);
    expect(await snapshot(t)).toBe(before);
  });

  describe.skipIf(!hasSharedMoodle)("Moodle's Aiken fixtures", () => {
    it('names each broken question with the line Moodle reports and, with --skip-invalid, imports the two good ones', async () => {
      const errors = join(SHARED_MOODLE, 'aiken_errors.txt');
      const refused = await cli(['import', errors, '--exam', 'CCNA-200-301', '--difficulty', '1']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('aiken_errors.txt:1:1: a question needs at least two options (ANSWER on line 3)');
      expect(refused.stderr).toContain('aiken_errors.txt:5:1: an option before any question');
      expect(refused.stderr).toContain('aiken_errors.txt:7:1: ANSWER with no question before it');
      expect(refused.stderr).toContain('aiken_errors.txt:14:1: the question has no ANSWER line: line 18 starts the next question');
      const result = await cli(['import', errors, '--exam', 'CCNA-200-301', '--difficulty', '1', '--skip-invalid', '--rejects', 'left.aiken.txt', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ format: 'aiken', created: 2, rejected: 4 });
      expect((await imported()).map(({ text, options }) => ({ text, options }))).toEqual([
        { text: 'A good question', options: ['Correct*', 'Incorrect'] },
        { text: 'A second good question', options: ['Incorrect (No space)', 'Correct (No space)*'] },
      ]);
      expect(readFileSync(join(t.dir, 'left.aiken.txt'), 'utf8')).toContain('A question started but not finished\nA) Correct-ish\nB) Incorrect-ish\n');
    });

    it("reads Moodle's two questions: keys B and A, the HTML-looking text kept as given", async () => {
      const result = await cli(['import', join(SHARED_MOODLE, 'questions.aiken.txt'), '--exam', 'CCNA-200-301', '--difficulty', '1']);
      expect(result.code, result.stderr).toBe(0);
      expect((await imported()).map(({ text, options }) => ({ text, options }))).toEqual([
        { text: "Moodle's abilities include handling user input that includes <html class=\"cool\"> & images:", options: ['True*', 'False'] },
        { text: 'The Moodle project was started by:', options: ['Petr Skoda', 'Martin Dougiamas*', 'Eloy Lafuente', 'Tim Hunt'] },
      ]);
    });
  });
});

describe.each(MODES)('qbank export questions FILE --format aiken, then import it (%s)', (mode) => {
  const from = databaseForEachTest(() => examsDatabase(mode));
  const to = databaseForEachTest(() => examsDatabase(mode));

  it('writes the single-answer one-line questions, says how many it left out, and they import back as they were', async () => {
    const seeded = await questionIds(from);
    expect((await runIn(from, ['import', QUESTIONS_CSV])).code).toBe(0);
    const exported = await runIn(from, ['export', 'questions', 'bank.txt', '--format', 'aiken', '--exam', 'CCNA-200-301', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const all = (await storedQuestions(from, 'text')).filter((question) => question.exam === 'CCNA-200-301');
    const holdable = all.filter((question) => question.type === 'single' && !/[\r\n]/.test(question.text + question.options.join('')));
    expect(holdable.length).toBeGreaterThan(3);
    expect(holdable.length).toBeLessThan(all.length);
    expect(exported.json()).toMatchObject({ rows: holdable.length, skipped: { count: all.length - holdable.length } });
    const text = await runIn(from, ['export', 'questions', '--format', 'aiken', '--exam', 'CCNA-200-301']);
    expect(text.stderr).toMatch(/questions? left out: aiken cannot hold/);
    writeFileSync(join(to.dir, 'bank.txt'), readFileSync(join(from.dir, 'bank.txt')));
    const result = await runIn(to, ['import', 'bank.txt', '--exam', 'CCNA-200-301', '--difficulty', '3', '--json']);
    expect(result.code, result.stderr).toBe(0);
    // the seed's questions are in both databases: the file's match them by text
    const back = await storedQuestions(to, 'text');
    expect(result.json()).toMatchObject({ rows: holdable.length, created: holdable.filter((question) => !seeded.has(question.id)).length });
    const key = (question: { text: string; options: string[]; type: string }) => JSON.stringify([question.text, question.options, question.type]);
    for (const question of holdable) expect(back.map(key)).toContain(key(question));
  });
});
