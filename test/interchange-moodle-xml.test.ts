import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuestionScanner } from '../src/db/interchange/moodle-xml.js';
import { examsDatabase, INTERCHANGE_FIXTURES, QUESTIONS_CSV, snapshot, storedQuestions, importsIntoExamsDatabase } from './support/interchange.js';
import { databaseForEachTest, MODES, runIn } from './support/modes.js';

const TRICKY = join(INTERCHANGE_FIXTURES, 'tricky.xml');

const question = (body: string, type = 'multichoice') => `  <question type="${type}">\n${body}\n  </question>\n`;
const quiz = (...questions: string[]) => `<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n${questions.join('')}</quiz>\n`;
const GOOD = question('    <questiontext format="html"><text>Good?</text></questiontext>\n    <answer fraction="100"><text>yes</text></answer>\n    <answer fraction="0"><text>no</text></answer>');

describe('qbank import FILE.xml (Moodle XML)', () => {
  const { t, cli, file, imported } = importsIntoExamsDatabase();

  const expectTricky = async () => {
    expect(await imported()).toEqual([
      {
        id: 'arp-1',
        exam: 'CCNA-200-301',
        type: 'single',
        text: '<p>Which protocol maps an IPv4 address to a <b>MAC</b> address?</p>',
        explanation: 'ARP asks "who has 10.0.0.1?" & the owner answers.\n\nA: Right.',
        difficulty: 2,
        objective: null,
        tags: '["arp","layer-2"]',
        options: ['ARP*', 'DNS', 'DHCP — café'],
      },
      expect.objectContaining({
        exam: 'CCNA-200-301',
        type: 'multiple',
        text: 'Which two are private ranges?\n(Choose two.)',
        explanation: null,
        difficulty: 4,
        objective: '1.0',
        tags: null,
        options: ['10.0.0.0/8*', '192.168.0.0/16*', '8.8.8.0/24'],
      }),
      expect.objectContaining({ exam: 'SAA-C03', type: 'single', text: 'S3 stores objects, not blocks. Ünïcödé 🎉', explanation: 'A: Yes.', options: ['True*', 'False'] }),
    ]);
  };

  it('reads CDATA, entities, HTML, categories, tags, idnumber, true/false and multiple answers', async () => {
    const result = await cli(['import', TRICKY, '--difficulty', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ format: 'moodle-xml', created: 3 });
    await expectTricky();
    const again = await cli(['import', TRICKY, '--difficulty', '2', '--json']);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
  });

  it('reads the file with a byte-order mark and Windows line endings the same', async () => {
    const result = await cli(['import', file('windows.xml', '\uFEFF' + readFileSync(TRICKY, 'utf8').replace(/\n/g, '\r\n')), '--difficulty', '2']);
    expect(result.code, result.stderr).toBe(0);
    await expectTricky();
  });

  const MALFORMED: Array<[string, string, string]> = [
    ['a short-answer question', question('    <questiontext><text>Q?</text></questiontext>\n    <answer fraction="100"><text>x</text></answer>', 'shortanswer'), 'a shortanswer question: qbank holds multiple choice and true/false'],
    ['an embedded image', question('    <questiontext><text>Q?</text><file name="net.png" encoding="base64">AAAA</file></questiontext>\n    <answer fraction="100"><text>a</text></answer>\n    <answer fraction="0"><text>b</text></answer>'), 'embeds net.png: qbank keeps an exhibit as a URL'],
    ['a question that is not well-formed', question('    <questiontext><text>Q?</questiontext>'), 'not well-formed XML'],
    ['partial credit', question('    <questiontext><text>Q?</text></questiontext>\n    <answer fraction="100"><text>a</text></answer>\n    <answer fraction="50"><text>b</text></answer>'), 'worth 50%'],
    ['a fraction that is not a number', question('    <questiontext><text>Q?</text></questiontext>\n    <answer fraction="all"><text>a</text></answer>'), 'fraction "all" is not a number'],
  ];

  it.each(MALFORMED)('refuses %s at its line and writes nothing', async (_name, bad, message) => {
    const before = await snapshot(t);
    const result = await cli(['import', file('bad.xml', quiz(GOOD, bad)), '--exam', 'SAA-C03', '--difficulty', '1']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/bad\.xml:(8|9|10):1 ?[a-z_]*:? /);
    expect(result.stderr).toContain(message);
    expect(await snapshot(t)).toBe(before);
  });

  it('refuses a file whose question never closes, or that is not Moodle XML, naming the line', async () => {
    const unclosed = await cli(['import', file('open.xml', quiz(GOOD).replace('</quiz>\n', '  <question type="multichoice">\n    <name>\n')), '--exam', 'SAA-C03', '--difficulty', '1']);
    expect(unclosed.code).toBe(3);
    expect(unclosed.stderr).toContain('open.xml:8: a <question> element is never closed');
    const other = await cli(['import', file('other.xml', '<?xml version="1.0"?>\n<html><body/></html>\n'), '--exam', 'SAA-C03', '--difficulty', '1']);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('not Moodle XML: no <quiz> element');
  });

  it('--skip-invalid imports the rest and writes the questions left out as Moodle XML', async () => {
    const bad = question('    <questiontext><text>Q?</text></questiontext>', 'essay');
    const result = await cli(['import', file('some.xml', quiz(GOOD, bad)), '--exam', 'SAA-C03', '--difficulty', '1', '--skip-invalid', '--rejects', 'left.xml', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 1, rejected: 1 });
    const left = readFileSync(join(t.dir, 'left.xml'), 'utf8');
    expect(XMLValidator.validate(left)).toBe(true);
    expect(left).toContain('<!-- error: an essay question: qbank holds multiple choice and true/false -->\n<question type="essay">');
    // the rejects file imports as it is once fixed
    const again = await cli(['import', file('fixed.xml', left.replace('type="essay"', 'type="multichoice"').replace('</question>', '<answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>')), '--exam', 'SAA-C03', '--difficulty', '1', '--json']);
    expect(again.json()).toMatchObject({ created: 1 });
  });

  it('cuts questions out of text that arrives in pieces, whatever the piece boundaries', () => {
    const text = readFileSync(TRICKY, 'utf8');
    const whole = new QuestionScanner().push(text);
    for (const size of [1, 7, 64]) {
      const scanner = new QuestionScanner();
      const found = [];
      for (let at = 0; at < text.length; at += size) found.push(...scanner.push(text.slice(at, at + size)));
      scanner.end();
      expect(found).toEqual(whole);
    }
    expect(whole.map((element) => element.line)).toEqual([4, 7, 20, 30, 33]);
  });
});

/** The structure Moodle's XML importer reads (question/format/xml/format.php): what each written question must have. */
function checkMoodleShape(xml: string): number {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name) => ['question', 'answer', 'tag'].includes(name) }).parse(xml);
  const questions = parsed.quiz.question as Array<Record<string, any>>;
  let multichoice = 0;
  for (const q of questions) {
    expect(['category', 'multichoice']).toContain(q.type);
    if (q.type === 'category') {
      expect(String(q.category.text)).toMatch(/^\$course\$\/top\/./);
      continue;
    }
    multichoice++;
    expect(String(q.name.text).length).toBeGreaterThan(0);
    expect(['html', 'plain_text', 'markdown', 'moodle_auto_format']).toContain(q.questiontext.format);
    expect(q.questiontext).toHaveProperty('text');
    expect(q.generalfeedback).toHaveProperty('text');
    expect(['true', 'false']).toContain(q.single);
    expect(q.answer.length).toBeGreaterThanOrEqual(2);
    const fractions = q.answer.map((answer: Record<string, any>) => {
      expect(answer).toHaveProperty('text');
      expect(answer.feedback).toHaveProperty('text');
      return Number(answer.fraction);
    });
    const positive = fractions.filter((fraction: number) => fraction > 0);
    if (q.single === 'true') expect(positive).toEqual([100]);
    else expect(Math.abs(positive.reduce((sum: number, fraction: number) => sum + fraction, 0) - 100)).toBeLessThan(0.001);
  }
  return multichoice;
}

describe.each(MODES)('qbank export questions FILE.xml, then import it into a fresh database (%s)', (mode) => {
  const from = databaseForEachTest(() => examsDatabase(mode));
  const to = databaseForEachTest(() => examsDatabase(mode));

  it('writes Moodle XML of the shape Moodle reads, which gives back the same questions, options, keys, explanations, ids, difficulties, objectives and tags', async () => {
    expect((await runIn(from, ['import', QUESTIONS_CSV])).code).toBe(0);
    writeFileSync(join(from.dir, 'extra.xml'), readFileSync(TRICKY));
    expect((await runIn(from, ['import', 'extra.xml', '--difficulty', '3'])).code).toBe(0);
    // texts XML must write with care: CDATA's end, a carriage return, markup
    writeFileSync(join(from.dir, 'odd.json'), JSON.stringify([{ exam_code: 'SAA-C03', text: 'Ends a CDATA: ]]> and keeps\r\nWindows lines & <tags>', options: [' padded ', 'x]]>y'], correct: 'A', explanation: '  indented\n', difficulty: 1, tags: [] }]));
    expect((await runIn(from, ['import', 'odd.json'])).code).toBe(0);
    const exported = await runIn(from, ['export', 'questions', 'bank.xml', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const all = await storedQuestions(from);
    const original = all.filter((q) => q.type === 'single' || q.type === 'multiple');
    expect(exported.json()).toMatchObject({ format: 'moodle-xml', rows: original.length, skipped: { count: all.length - original.length } });
    const xml = readFileSync(join(from.dir, 'bank.xml'), 'utf8');
    expect(checkMoodleShape(xml)).toBe(original.length);
    writeFileSync(join(to.dir, 'bank.xml'), xml);
    const result = await runIn(to, ['import', 'bank.xml', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((await storedQuestions(to)).filter((q) => q.type === 'single' || q.type === 'multiple')).toEqual(original);
  });
});
