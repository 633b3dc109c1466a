import { createClient } from '@libsql/client';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, type Mode, preparedDatabase, type TestDatabase } from './support/modes.js';
import { random } from './support/random.js';
import { PINGTOPASS_WITH_EXAMS } from './support/interchange.js';

const EXAM_CODES = ['CCNA-200-301', 'SAA-C03', 'SC-900', 'AZ-104', 'SY0-701'];


interface Question {
  exam: string;
  type?: string;
  text: string;
  options: string[];
  correct: number[];
  explanation?: string;
  difficulty: number;
  tags?: string[];
  referenceUrl?: string;
  reviewStatus?: string;
}

/** Text a spreadsheet can hold: commas, quotes, line breaks (LF and CRLF), tabs, accents, CJK, emoji. */
function text(rnd: () => number, max: number): string {
  const pieces = ['word', 'Router', ' ', ', ', '"', "'", 'é', 'ß', '中文', '😀', '\n', '\r\n', '\t', ';', '|', '=1+1', '0', '  ', 'ﬁ'];
  let out = '';
  const length = 1 + Math.floor(rnd() * max);
  while (out.length < length) out += pieces[Math.floor(rnd() * pieces.length)];
  out = out.trim();
  return out.length > 0 ? out : 'x';
}

function bank(rnd: () => number): Question[] {
  const count = 1 + Math.floor(rnd() * 30);
  const seen = new Set<string>();
  const questions: Question[] = [];
  while (questions.length < count) {
    const exam = EXAM_CODES[Math.floor(rnd() * EXAM_CODES.length)];
    const body = text(rnd, 120);
    if (seen.has(`${exam}\u0000${body}`)) continue;
    seen.add(`${exam}\u0000${body}`);
    const options = Array.from({ length: 2 + Math.floor(rnd() * 5) }, () => text(rnd, 40));
    const correct = options.map((_, i) => i).filter(() => rnd() < 0.4);
    if (correct.length === 0) correct.push(Math.floor(rnd() * options.length));
    const question: Question = { exam, text: body, options, correct, difficulty: 1 + Math.floor(rnd() * 5) };
    const roll = rnd();
    if (roll < 0.2) question.type = correct.length > 1 ? 'multiple' : 'single';
    else if (roll < 0.3) question.type = ['drag-drop', 'hotspot', 'simulation'][Math.floor(rnd() * 3)];
    if (rnd() < 0.7) question.explanation = text(rnd, 300);
    if (rnd() < 0.5) question.tags = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, i) => `tag-${i}-${Math.floor(rnd() * 100)}`);
    if (rnd() < 0.3) question.referenceUrl = `https://example.com/docs?q=${Math.floor(rnd() * 1000)}`;
    if (rnd() < 0.3) question.reviewStatus = ['pending', 'approved', 'rejected'][Math.floor(rnd() * 3)];
    questions.push(question);
  }
  return questions;
}

function letters(rnd: () => number, correct: number[]): string {
  const separator = [',', ';', '|', ' ', ', '][Math.floor(rnd() * 5)];
  return correct.map((i) => String.fromCharCode((rnd() < 0.5 ? 65 : 97) + i)).join(separator);
}

function toCsv(rnd: () => number, questions: Question[]): string {
  const eol = rnd() < 0.5 ? '\n' : '\r\n';
  const quote = (value: string) => (/[",\r\n]/.test(value) || value !== value.trim() || rnd() < 0.2 ? `"${value.replace(/"/g, '""')}"` : value);
  const header = 'id,exam_code,type,text,option_a,option_b,option_c,option_d,option_e,option_f,correct,explanation,difficulty,objective_id,tags,reference_url,exhibit_url,review_status';
  const rows = questions.map((q) =>
    [
      '',
      q.exam,
      q.type ?? '',
      q.text,
      ...Array.from({ length: 6 }, (_, i) => q.options[i] ?? ''),
      letters(rnd, q.correct),
      q.explanation ?? '',
      String(q.difficulty),
      '',
      q.tags ? (rnd() < 0.5 ? q.tags.join(';') : JSON.stringify(q.tags)) : '',
      q.referenceUrl ?? '',
      '',
      q.reviewStatus ?? '',
    ]
      .map(quote)
      .join(','),
  );
  return (rnd() < 0.3 ? '\uFEFF' : '') + [header, ...rows].join(eol) + (rnd() < 0.5 ? eol : '');
}

function toRecords(rnd: () => number, questions: Question[]): object[] {
  return questions.map((q) => ({
    examCode: q.exam,
    ...(q.type ? { type: q.type } : {}),
    text: q.text,
    options: q.options,
    correct: rnd() < 0.5 ? letters(rnd, q.correct) : q.correct.map((i) => String.fromCharCode(65 + i)),
    ...(q.explanation ? { explanation: q.explanation } : {}),
    difficulty: rnd() < 0.5 ? q.difficulty : String(q.difficulty),
    ...(q.tags ? { tags: q.tags } : {}),
    ...(q.referenceUrl ? { reference_url: q.referenceUrl } : {}),
    ...(q.reviewStatus ? { reviewStatus: q.reviewStatus } : {}),
  }));
}

/** The questions of the database, read back in the generator's shape. */
async function readBack(t: TestDatabase): Promise<Map<string, Omit<Question, 'type'> & { type: string }>> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    const questions = (
      await client.execute(
        `SELECT q.id, e.code AS exam, q.type, q.text, q.explanation, q.difficulty, q.tags, q.reference_url, q.review_status
         FROM questions AS q JOIN exams AS e ON e.id = q.exam_id`,
      )
    ).rows;
    const options = (await client.execute('SELECT question_id, text, is_correct FROM answer_options ORDER BY question_id, "order"')).rows;
    const byQuestion = new Map<string, Array<{ text: string; correct: boolean }>>();
    for (const option of options) {
      const list = byQuestion.get(String(option.question_id)) ?? [];
      list.push({ text: String(option.text), correct: Number(option.is_correct) === 1 });
      byQuestion.set(String(option.question_id), list);
    }
    const result = new Map<string, Omit<Question, 'type'> & { type: string }>();
    for (const row of questions) {
      const list = byQuestion.get(String(row.id)) ?? [];
      result.set(`${row.exam}\u0000${row.text}`, {
        exam: String(row.exam),
        type: String(row.type),
        text: String(row.text),
        options: list.map((o) => o.text),
        correct: list.flatMap((o, i) => (o.correct ? [i] : [])),
        explanation: row.explanation === null ? undefined : String(row.explanation),
        difficulty: Number(row.difficulty),
        tags: row.tags === null ? undefined : JSON.parse(String(row.tags)),
        referenceUrl: row.reference_url === null ? undefined : String(row.reference_url),
        reviewStatus: String(row.review_status),
      });
    }
    return result;
  } finally {
    client.close();
  }
}

function expected(q: Question): Omit<Question, 'type'> & { type: string } {
  return {
    exam: q.exam,
    type: q.type ?? (q.correct.length > 1 ? 'multiple' : 'single'),
    text: q.text,
    options: q.options,
    correct: [...q.correct].sort((a, b) => a - b),
    explanation: q.explanation,
    difficulty: q.difficulty,
    tags: q.tags,
    referenceUrl: q.referenceUrl,
    reviewStatus: q.reviewStatus ?? 'pending',
  };
}

const RUNS: Record<Mode, number> = { file: 16, remote: 4 };

describe.each(['file', 'remote'] as const)('random valid banks round-trip (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  it.each(Array.from({ length: RUNS[mode] }, (_, i) => 1000 + i * 7919))('seed %i', async (seed) => {
    const rnd = random(seed);
    const questions = bank(rnd);
    const format = (['csv', 'json', 'jsonl'] as const)[seed % 3];
    const write = (name: string, items: Question[]) => {
      const content =
        format === 'csv' ? toCsv(rnd, items) : format === 'json' ? JSON.stringify(toRecords(rnd, items), null, rnd() < 0.5 ? 2 : 0) : toRecords(rnd, items).map((r) => JSON.stringify(r)).join('\n');
      writeFileSync(join(t.dir, `${name}.${format}`), content);
      return `${name}.${format}`;
    };

    const first = await cli(['import', write('bank', questions), '--json', '--reviewer', 'property@example.com']);
    expect(first.code, `seed ${seed}: ${first.stderr}`).toBe(0);
    expect(first.json()).toMatchObject({ rows: questions.length, created: questions.length, rejected: 0 });
    const stored = await readBack(t);
    expect(stored.size).toBe(questions.length);
    for (const question of questions) expect(stored.get(`${question.exam}\u0000${question.text}`), `seed ${seed}`).toEqual(expected(question));

    const again = await cli(['import', write('again', questions), '--json', '--reviewer', 'property@example.com']);
    expect(again.json(), `seed ${seed}`).toMatchObject({ created: 0, updated: 0, unchanged: questions.length });

    // Edit some questions; the import updates exactly those and reads back to the edited bank.
    const edited = questions.map((q, i) => (i % 3 === 0 ? { ...q, options: [...q.options.slice(0, -1), `${q.options.at(-1)} (edited)`], explanation: 'edited' } : q));
    const changed = questions.filter((_, i) => i % 3 === 0).length;
    const update = await cli(['import', write('edited', edited), '--json', '--reviewer', 'property@example.com']);
    expect(update.json(), `seed ${seed}`).toMatchObject({ created: 0, updated: changed, unchanged: questions.length - changed });
    const after = await readBack(t);
    for (const question of edited) expect(after.get(`${question.exam}\u0000${question.text}`), `seed ${seed}`).toEqual(expected(question));
  });
});
