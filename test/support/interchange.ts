import { existsSync, writeFileSync } from 'node:fs';
import { beforeEach } from 'vitest';
import { join } from 'node:path';
import { databaseForEachTest, runIn, seededDatabase, sqlite, withFile, type Mode, type TestDatabase } from './modes.js';

export { snapshot } from './modes.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const EXAMS_CSV = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');
export const QUESTIONS_CSV = join(ROOT, 'fixtures', 'pingtopass', 'questions.csv');
export const INTERCHANGE_FIXTURES = join(ROOT, 'fixtures', 'interchange');

/** The commands that make an empty database a PingToPass one with the fixture exams (and no question). */
export const PINGTOPASS_WITH_EXAMS: string[][] = [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]];

/** Moodle's own GIFT examples and its GIFT and Aiken test fixtures, kept beside the checkout (never copied in). */
export const SHARED_MOODLE = join(ROOT, '..', 'shared', 'fixtures', 'moodle');
export const hasSharedMoodle = existsSync(join(SHARED_MOODLE, 'examples.gift.txt'));

/** A PingToPass database as `db seed` leaves it (exams and a few questions), with the fixture exams (CCNA-200-301, SAA-C03, …) too. */
export function examsDatabase(mode: Mode): Promise<TestDatabase> {
  return seededDatabase(mode, 'pingtopass', [['import', 'exams', EXAMS_CSV]]);
}

export interface StoredQuestion {
  id: string;
  exam: string;
  type: string;
  text: string;
  explanation: string | null;
  difficulty: number;
  objective: string | null;
  tags: string | null;
  /** Option texts in order, a `*` after the right ones. */
  options: string[];
}

/** The ids of the questions there are now (the seed's), to leave out of `storedQuestions`. */
export async function questionIds(t: TestDatabase): Promise<Set<string>> {
  return new Set((await sqlite(t, 'SELECT id FROM questions')).map((row) => String(row.id)));
}

/** Every question (but those in `except`) with its options, in id order (or text order for files that carry no ids), read straight from the database file. */
export async function storedQuestions(t: TestDatabase, order: 'id' | 'text' = 'id', except: Set<string> = new Set()): Promise<StoredQuestion[]> {
  const rows = await sqlite(
    t,
    `SELECT q.id, e.code AS exam, q.type, q.text, q.explanation, q.difficulty, q.objective_id AS objective, q.tags,
       (SELECT json_group_array(o.text || CASE WHEN o.is_correct THEN '*' ELSE '' END) FROM (SELECT * FROM answer_options WHERE question_id = q.id ORDER BY "order") AS o) AS options
     FROM questions AS q JOIN exams AS e ON e.id = q.exam_id ORDER BY ${order === 'id' ? 'q.id' : 'e.code, q.text'}`,
  );
  return rows.filter((row) => !except.has(String(row.id))).map((row) => ({
    id: String(row.id),
    exam: String(row.exam),
    type: String(row.type),
    text: String(row.text),
    explanation: row.explanation === null ? null : String(row.explanation),
    difficulty: Number(row.difficulty),
    objective: row.objective === null ? null : String(row.objective),
    tags: row.tags === null ? null : String(row.tags),
    options: JSON.parse(String(row.options)) as string[],
  }));
}

/**
 * For each test of the enclosing `describe`: a new `examsDatabase` (file mode) and what an import
 * test does with it: run the CLI in it, write a file into it, read the questions the test imported.
 */
export function importsIntoExamsDatabase() {
  const t = databaseForEachTest(() => examsDatabase('file'));
  let seeded = new Set<string>();
  beforeEach(async () => {
    seeded = await questionIds(t);
  });
  return {
    t,
    cli: (args: string[]) => runIn(t, args),
    /** A file `name` in the test's directory; its name back, as the CLI is given it. */
    file: (name: string, text: string | Buffer): string => {
      writeFileSync(join(t.dir, name), text);
      return name;
    },
    /** The questions there are now that the seed did not put there. */
    imported: (order: 'id' | 'text' = 'text') => storedQuestions(t, order, seeded),
  };
}

/** Every question and every option as stored, column for column: what a re-import must leave byte for byte. */
export function storedRows(t: Pick<TestDatabase, 'dbPath'>): Promise<string> {
  return withFile(t, async (client) => {
    const questions = await client.execute('SELECT * FROM questions ORDER BY id');
    const options = await client.execute('SELECT * FROM answer_options ORDER BY question_id, id');
    return JSON.stringify([questions.rows, options.rows]);
  });
}
