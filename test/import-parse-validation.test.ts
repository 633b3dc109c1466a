import { describe, expect, it } from 'vitest';
import { GivenDate } from '../src/db/import/fields.js';
import { certificationSchema, questionSchema as openInterviewQuestionSchema } from '../src/db/import/open-interview-rows.js';
import { examSchema, questionSchema as pingToPassQuestionSchema } from '../src/db/import/pingtopass-rows.js';
import { random } from './support/random.js';

/**
 * A record whose values pass the quick test is taken as valid without zod: on random values
 * (valid ones, near misses and junk) the quick answer must be zod's, row for row.
 */

const TEXTS = ['x', 'Router', ' spaced ', 'a b', 'line\nbreak', '', ' ', 'tab\there', 'é中😀', 'a'.repeat(128), 'b'.repeat(129), 'id-1', 'has\u0001control'];
const NUMBERS = [0, 1, 2, 3, 5, 6, -1, 2.5, 1e20, -0, 100, 100_000, 100_001, Number.MAX_SAFE_INTEGER + 1, Infinity, NaN, 0.5];
const OTHERS: unknown[] = [true, false, null, [], ['a'], ['a', 'b', 'c', 'd', 'e', 'f', 'g'], [1], { a: 1 }, JSON.parse('{"__proto__": {"x": 1}}'), new Date(NaN), new Date(0), new GivenDate(new Date(0), '1970-01-01'), Object.create(null)];
const URLS = ['https://example.com/a', 'http://x', '/path', 'ftp://no', 'https://has space', 'relative'];
const LETTERS = ['A', 'b', 'A;C', 'a,b', 'B | D', 'G', '', 'A;;', ['A', 'C'], ['z'], 'AB'];

type Pool = readonly unknown[];

/** Values a field may get: mostly plausible ones, sometimes anything. */
function pick(rnd: () => number, plausible: Pool): unknown {
  const roll = rnd();
  if (roll < 0.3) return undefined;
  if (roll < 0.97) return plausible[Math.floor(rnd() * plausible.length)];
  const all = [...TEXTS, ...NUMBERS, ...OTHERS, ...URLS];
  return all[Math.floor(rnd() * all.length)];
}

function record(rnd: () => number, fields: Record<string, Pool>, required: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, pool] of Object.entries(fields)) {
    // required fields mostly present, so that many records are valid
    const value = required.includes(name) && rnd() < 0.97 ? pool[Math.floor(rnd() * pool.length)] : pick(rnd, pool);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

interface Checked {
  quick(values: Record<string, unknown>): unknown;
  zod: { safeParse(values: unknown): { success: boolean; data?: unknown } };
}

function compare(schema: Checked, make: (rnd: () => number) => Record<string, unknown>, seed: number): { quick: number; total: number } {
  const rnd = random(seed);
  let quick = 0;
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    const values = make(rnd);
    const fast = schema.quick(values);
    if (fast === undefined) continue;
    quick++;
    const slow = schema.zod.safeParse(values);
    expect(slow.success, JSON.stringify(values)).toBe(true);
    expect(fast).toEqual(slow.data);
  }
  return { quick, total };
}

const EXAMS = new Map([
  ['CCNA-200-301', 'exam-1'],
  ['SAA-C03', 'exam-2'],
]);

describe('the quick validation gives zod’s answer', () => {
  it('PingToPass questions', () => {
    const schema = pingToPassQuestionSchema(
      (code) => EXAMS.get(code),
      (code) => [...EXAMS.keys()].find((known) => known.toLowerCase() === code.toLowerCase()),
      undefined,
    );
    const text = ['x', 'Router', ' spaced ', 'line\nbreak', 'é中😀'];
    const fields: Record<string, Pool> = {
      id: ['q-1', 'a'.repeat(128), 'a'.repeat(129), 'has space', 'tab\t', 'ok_id'],
      exam_code: ['CCNA-200-301', 'SAA-C03', 'ccna-200-301', 'NOPE', ''],
      type: ['single', 'multiple', 'drag-drop', 'hotspot', 'simulation', 'other'],
      text: [...text, ''],
      option_a: text,
      option_b: text,
      option_c: text,
      option_d: text,
      option_e: text,
      option_f: text,
      options: [['a', 'b'], ['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'b', 'c', 'd', 'e', 'f', 'g'], [], ['a']],
      correct: LETTERS,
      explanation: text,
      difficulty: [1, 2, 3, 4, 5, 0, 6, 2.5],
      objective_id: ['1.0', 'x'],
      tags: [['a'], [], ['a', 'b']],
      reference_url: URLS,
      exhibit_url: URLS,
      review_status: ['pending', 'approved', 'rejected', 'done'],
      reviewed_by: ['ana', ''],
      is_active: [true, false],
      ai_generated: [true, false],
      ai_model: ['gpt', ''],
    };
    const lettered = ['option_a', 'option_b', 'option_c', 'option_d', 'option_e', 'option_f'];
    const make = (rnd: () => number) => {
      const values = record(rnd, fields, ['exam_code', 'text', 'correct', 'difficulty']);
      // options as the files give them: the first n letters (now and then with a gap), or the options list
      const count = Math.floor(rnd() * 7);
      for (const [index, name] of lettered.entries()) {
        if (index < count && rnd() < 0.97) values[name] = text[Math.floor(rnd() * text.length)];
        else if (rnd() < 0.97) delete values[name];
      }
      if (rnd() < 0.8) delete values.options;
      return values;
    };
    const result = compare(schema, make, 18);
    // the comparison means something only if many records take the quick way
    expect(result.quick).toBeGreaterThan(100);
  });

  it('PingToPass exams', () => {
    const fields: Record<string, Pool> = {
      id: ['e-1', 'has space'],
      code: ['SC-900', ''],
      name: TEXTS,
      vendor: TEXTS,
      category: TEXTS,
      passing_score: [0, 70, 700, 2.5, -1],
      total_questions: [1, 50, 100_000, 0],
      time_limit: [90, 1, 0],
      price: [0, 9.99, -0, -1, Infinity],
      description: TEXTS,
    };
    const result = compare(examSchema, (rnd) => record(rnd, fields, ['code', 'name', 'vendor', 'category', 'passing_score', 'total_questions']), 19);
    expect(result.quick).toBeGreaterThan(100);
  });

  it('open-interview questions and certifications', () => {
    const json = [{ a: 1 }, { b: [1, { c: null }] }, {}, JSON.parse('{"__proto__": {"x": 1}}'), [], Object.create(null), 'text'];
    const dates = [new GivenDate(new Date(0), '1970-01-01'), new Date(5), new GivenDate(new Date(86_400_000), '1970-01-02'), new Date(NaN), '2026-01-01'];
    const questions: Record<string, Pool> = {
      id: ['q-1', 'has space'],
      question: TEXTS,
      answer: TEXTS,
      explanation: TEXTS,
      difficulty: ['beginner', 'intermediate', 'advanced', 'easy'],
      channel: TEXTS,
      sub_channel: TEXTS,
      tags: [['a'], [], [1]],
      companies: [['a'], []],
      diagram: TEXTS,
      source_url: URLS,
      eli5: TEXTS,
      tldr: TEXTS,
      videos: json,
      relevance_score: [0, 50, 100, 101, 2.5],
      relevance_details: json,
      job_title_relevance: json,
      experience_level_tags: [['a']],
      voice_keywords: [['a']],
      voice_suitable: [true, false],
      status: ['active', 'draft', 'deleted', 'nope'],
      is_new: [true, false],
      last_updated: dates,
      created_at: dates,
    };
    const asked = compare(openInterviewQuestionSchema, (rnd) => record(rnd, questions, ['question', 'answer', 'explanation', 'difficulty', 'channel', 'sub_channel']), 20);
    expect(asked.quick).toBeGreaterThan(100);
    const certifications: Record<string, Pool> = {
      id: ['c-1', 'has space'],
      name: TEXTS,
      provider: TEXTS,
      description: TEXTS,
      icon: TEXTS,
      color: TEXTS,
      difficulty: ['beginner', 'intermediate', 'advanced', 'expert', 'easy'],
      category: TEXTS,
      estimated_hours: [0, 40, 2.5, -1],
      exam_code: TEXTS,
      official_url: URLS,
      domains: [[], [{ a: 1 }], ['x', 2], { a: 1 }],
      channel_mappings: [[], ['x']],
      tags: [['a'], []],
      prerequisites: [['a']],
      status: ['active', 'draft', 'archived', 'nope'],
      question_count: [0, 65, 10_000_001],
      passing_score: [70, 100, 101],
      exam_duration: [90, 1e20],
      created_at: dates,
      last_updated: dates,
    };
    const certified = compare(certificationSchema, (rnd) => record(rnd, certifications, ['id', 'name', 'provider', 'description', 'difficulty', 'category']), 21);
    expect(certified.quick).toBeGreaterThan(100);
  });

  it('a value the quick test cannot vouch for goes to zod, which words the problem', () => {
    expect(examSchema.quick({ code: 'X', name: 'n', vendor: 'v', category: 'c', passing_score: 2.5, total_questions: 10 })).toBeUndefined();
    expect(examSchema.quick({ code: 'X', name: 'n', vendor: 'v', category: 'c', passing_score: 70, total_questions: 10, unknown: 1 })).toBeUndefined();
    expect(examSchema.quick({ code: 'X', name: 'n', vendor: 'v', category: 'c', passing_score: 70, total_questions: 10 })).toEqual({ code: 'X', name: 'n', vendor: 'v', category: 'c', passing_score: 70, total_questions: 10 });
  });
});
