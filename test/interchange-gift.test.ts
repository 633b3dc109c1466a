import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { examsDatabase, hasSharedMoodle, INTERCHANGE_FIXTURES, QUESTIONS_CSV, SHARED_MOODLE, snapshot, storedQuestions, importsIntoExamsDatabase } from './support/interchange.js';
import { databaseForEachTest, MODES, runIn } from './support/modes.js';

const TRICKY = join(INTERCHANGE_FIXTURES, 'tricky.gift');

describe('qbank import FILE.gift', () => {
  const { t, cli, file, imported } = importsIntoExamsDatabase();

  const expectTricky = async () => {
    const questions = await imported();
    expect(questions.map(({ exam, type, text, explanation, difficulty, options }) => ({ exam, type, text, explanation, difficulty, options }))).toEqual([
      {
        exam: 'CCNA-200-301',
        type: 'multiple',
        text: '<p>Which <b>two</b> are private IPv4 ranges &amp; which is not?</p>',
        explanation: null,
        difficulty: 2,
        options: ['10.0.0.0/8*', '192.168.0.0/16*', '8.8.8.0/24'],
      },
      {
        exam: 'CCNA-200-301',
        type: 'single',
        text: 'A line\nbreak is written as \\n in GIFT.',
        explanation: null,
        difficulty: 2,
        options: ['yes*', 'no'],
      },
      {
        exam: 'CCNA-200-301',
        type: 'single',
        text: 'OSPF\'s administrative distance is _____, lower than RIP\'s.',
        explanation: null,
        difficulty: 2,
        options: ['90', '110*', '120'],
      },
      {
        exam: 'CCNA-200-301',
        type: 'single',
        text: 'Which characters does GIFT escape with a backslash: ~ = # { }?',
        explanation: 'A backslash escapes itself too: \\.\n\nA: Right: each one means something to GIFT.',
        difficulty: 2,
        options: ['All five of them*', 'Only ~ and =', 'None of them'],
      },
      {
        exam: 'CCNA-200-301',
        type: 'single',
        text: 'Which layer of the OSI model\nroutes packets between networks?',
        explanation: null,
        difficulty: 2,
        options: ['Data link', 'Network*', 'Transport'],
      },
      {
        exam: 'CCNA-200-301',
        type: 'single',
        text: 'Ünïcödé — 日本語 and emoji 🎉 are kept as written.',
        explanation: 'A: Right.\nB: Wrong, they are kept.',
        difficulty: 2,
        options: ['True*', 'False'],
      },
    ]);
  };

  it('reads escapes, lines, HTML, Unicode, missing words, weights and feedback as Moodle does', async () => {
    const result = await cli(['import', TRICKY, '--difficulty', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ format: 'gift', created: 6, rejected: 0 });
    await expectTricky();
    // the same file again changes nothing
    const again = await cli(['import', TRICKY, '--difficulty', '2', '--json']);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
  });

  it('reads the file saved with a byte-order mark and Windows line endings the same', async () => {
    const windows = '\uFEFF' + readFileSync(TRICKY, 'utf8').replace(/\n/g, '\r\n');
    const result = await cli(['import', file('windows.gift', windows), '--difficulty', '2']);
    expect(result.code, result.stderr).toBe(0);
    await expectTricky();
  });

  it('--exam overrides the categories; without one a question names its line and asks for --exam', async () => {
    const text = 'Which one?{=a ~b}\n';
    const missing = await cli(['import', file('plain.gift', text), '--difficulty', '3']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('plain.gift:1:1 exam_code: is required');
    expect(missing.stderr).toContain('--exam CODE');
    const noDifficulty = await cli(['import', 'plain.gift', '--exam', 'SAA-C03']);
    expect(noDifficulty.code).toBe(3);
    expect(noDifficulty.stderr).toContain('--difficulty');
    const given = await cli(['import', TRICKY, '--exam', 'SAA-C03', '--difficulty', '5', '--json']);
    expect(given.code, given.stderr).toBe(0);
    expect(new Set((await imported()).map((question) => `${question.exam}/${question.difficulty}`))).toEqual(new Set(['SAA-C03/5']));
  });

  const MALFORMED: Array<[string, string, string]> = [
    ['an unclosed answer list', 'Q?{=a ~b\n', 'never closed with }'],
    ['an unclosed title', '::title Q?{=a ~b}\n', 'never closed with ::'],
    ['a description', 'Just some text.\n', 'a description, not a question'],
    ['short answer', 'Q?{=four =4}\n', 'a short answer question'],
    ['matching', 'Q?{=a -> 1 =b -> 2}\n', 'a matching question'],
    ['numerical', 'Q?{#1822:1}\n', 'a numerical question'],
    ['essay', 'Q?{}\n', 'an essay question'],
    ['partial credit in a one-answer question', 'Q?{=a ~%50%b ~c}\n', 'worth 50%: qbank\'s single-answer questions have no partial credit'],
    ['two full-marks answers in a one-answer question', 'Q?{=a =b ~c}\n', '2 answers are worth 100%'],
    ['right answers not adding up to 100%', 'Q?{~%50%a ~%30%b ~c}\n', 'add up to 80%, not 100%'],
    ['a malformed weight', 'Q?{=a ~%half%b}\n', 'malformed weight'],
    ['more than six options', 'Q?{=a ~b ~c ~d ~e ~f ~g}\n', 'has more than six options'],
    ['a broken qbank comment', '// qbank: {id:\nQ?{=a ~b}\n', 'not valid JSON'],
  ];

  it.each(MALFORMED)('refuses %s at its line and writes nothing', async (_name, question, message) => {
    const before = await snapshot(t);
    const text = `$CATEGORY: CCNA-200-301\n\nGood?{=yes ~no}\n\n// a comment line\n${question}`;
    const result = await cli(['import', file('bad.gift', text), '--difficulty', '2']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`bad\\.gift:[67]:1 ?[a-z_]*:? .*${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(result.stderr).toContain('nothing was imported');
    expect(await snapshot(t)).toBe(before);
  });

  it('--skip-invalid imports the rest and writes the questions left out, with their errors, as GIFT', async () => {
    const text = '$CATEGORY: CCNA-200-301\n\nGood?{=yes ~no}\n\nQ?{#42}\n\nAlso good?{~x =y}\n';
    const result = await cli(['import', file('some.gift', text), '--difficulty', '2', '--skip-invalid', '--rejects', 'left.gift', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 2, rejected: 1, problems: ['some.gift:5:1: a numerical question: qbank holds multiple choice and true/false'] });
    expect(readFileSync(join(t.dir, 'left.gift'), 'utf8')).toBe('// error: a numerical question: qbank holds multiple choice and true/false\nQ?{#42}\n\n');
    expect((await imported()).map((question) => question.text)).toEqual(['Also good?', 'Good?']);
  });

  it('import template lists the GIFT, Moodle XML and Aiken formats, and each example imports as it is with the options it names', async () => {
    const all = await cli(['import', 'template', '--json']);
    const templates = all.json().templates as Array<{ name: string; command: string; format: string; example: string }>;
    const interchange = templates.filter((template) => template.format !== 'csv');
    expect(interchange.map((template) => template.name)).toEqual(['pingtopass-questions-gift', 'pingtopass-questions-moodle-xml', 'pingtopass-questions-aiken']);
    for (const template of interchange) {
      const printed = await cli(['import', 'template', template.name]);
      expect(printed.stdout).toBe(template.example);
      const [, , path, ...options] = template.command.split(' ');
      file(path, printed.stdout);
      const result = await cli(['import', path, ...options, '--json']);
      expect(result.code, `${template.command}: ${result.stderr}`).toBe(0);
      expect(result.json().format).toBe(template.format);
      expect(result.json().created + result.json().unchanged).toBeGreaterThan(0);
    }
  });

  describe.skipIf(!hasSharedMoodle)("Moodle's own GIFT files", () => {
    it('imports every multiple-choice and true/false example with the stems, options and keys Moodle reads, and names the rest by line', async () => {
      const examples = join(SHARED_MOODLE, 'examples.gift.txt');
      const refused = await cli(['import', examples, '--exam', 'CCNA-200-301', '--difficulty', '1']);
      expect(refused.code).toBe(3);
      for (const [line, kind] of [[14, 'short answer'], [16, 'numerical'], [55, 'matching'], [61, 'matching'], [70, 'numerical']] as const) {
        expect(refused.stderr).toContain(`examples.gift.txt:${line}:1: a ${kind} question`);
      }
      const result = await cli(['import', examples, '--exam', 'CCNA-200-301', '--difficulty', '1', '--skip-invalid', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const summary = result.json();
      expect(summary.created).toBe(11);
      const byText = new Map((await imported()).map((question) => [question.text, question]));
      expect(byText.get("Who's buried in Grant's tomb?")?.options).toEqual(['Grant', 'Jefferson', 'no one*']);
      expect(byText.get("Grant is _____ in Grant's tomb.")?.options).toEqual(['buried', 'entombed*', 'living']);
      expect(byText.get("Grant is buried in Grant's tomb.")?.options).toEqual(['True', 'False*']);
      expect(byText.get('The sun rises in the east.')?.options).toEqual(['True*', 'False']);
      expect(byText.get('What two people are entombed in Grant\'s tomb?')).toMatchObject({ type: 'multiple', options: ['No one', 'Grant*', "Grant's wife*", "Grant's father"] });
      expect(byText.get('Which answer equals 5?')?.options).toEqual(['= 2 + 2', '= 2 + 3*', '= 2 + 4']);
      const control = byText.get('Which of the following is NOT a control character for the GIFT import format?');
      expect(control?.options).toEqual(['~', '=', '#', '{', '}', '\\*']);
      expect(control?.explanation).toContain('F: Correct! \\ (backslash) is not a control character. BUT,\nit is used to escape');
      expect(byText.get('What\'s the answer to this multiple-choice question?')?.explanation).toBe(
        'A: feedback comment on the wrong answer\nB: feedback comment on this wrong answer\nC: Very good!',
      );
    });

    it("reads Moodle's import-test fixture: true/false with general feedback, multiple choice with per-answer feedback and formats", async () => {
      const fixture = join(SHARED_MOODLE, 'questions.gift.txt');
      const result = await cli(['import', fixture, '--format', 'gift', '--exam', 'CCNA-200-301', '--difficulty', '1', '--skip-invalid', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const summary = result.json();
      expect(summary.problems).toEqual(expect.arrayContaining([expect.stringContaining('questions.gift.txt:2:1: an essay question'), expect.stringContaining('questions.gift.txt:5:1: a matching question')]));
      const byText = new Map((await imported()).map((question) => [question.text, question]));
      expect(byText.get("What's between orange and green in the spectrum?")).toMatchObject({
        type: 'single',
        options: ['yellow*', 'red', 'blue'],
        explanation: "A: right; good!\nB: wrong, it's yellow\nC: wrong, it's yellow",
      });
      const q1 = [...byText.values()].find((question) => question.text.startsWith('42 is the Absolute Answer'));
      expect(q1).toMatchObject({ options: ['True', 'False*'] });
      expect(q1?.explanation).toBe("This is, of course, a Hitchiker's Guide to the Galaxy reference.\n\nA: 42 is the Ultimate Answer.\nB: You gave the right answer.");
      expect(byText.get('TSL is blablabla.')?.options).toEqual(['True*', 'False']);
    });
  });
});

const multipleChoice = (question: { type: string }) => question.type === 'single' || question.type === 'multiple';

describe.each(MODES)('qbank export questions FILE.gift, then import it into a fresh database (%s)', (mode) => {
  const from = databaseForEachTest(() => examsDatabase(mode));
  const to = databaseForEachTest(() => examsDatabase(mode));

  it('gives back the same questions, options, keys, explanations, ids, difficulties, objectives and tags', async () => {
    expect((await runIn(from, ['import', QUESTIONS_CSV])).code).toBe(0);
    writeFileSync(join(from.dir, 'extra.gift'), readFileSync(TRICKY));
    expect((await runIn(from, ['import', 'extra.gift', '--difficulty', '4'])).code).toBe(0);
    const exported = await runIn(from, ['export', 'questions', 'bank.gift', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    // drag-drop, hotspot and simulation questions are not multiple choice: left out and counted
    const all = await storedQuestions(from);
    const original = all.filter(multipleChoice);
    expect(original.length).toBeGreaterThan(20);
    expect(exported.json()).toMatchObject({ format: 'gift', rows: original.length, skipped: { count: all.length - original.length } });
    writeFileSync(join(to.dir, 'bank.gift'), readFileSync(join(from.dir, 'bank.gift')));
    const result = await runIn(to, ['import', 'bank.gift', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((await storedQuestions(to)).filter(multipleChoice)).toEqual(original);
  });
});
