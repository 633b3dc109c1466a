import { OPTIONAL_QUESTION_FIELDS, REQUIRED_QUESTION_FIELDS } from './open-interview-rows.js';
import { blobBytes, blobHeldIn, jsonHeldValue } from '../client.js';
import { GIVEN_FIELDS } from './pingtopass-rows.js';
import type { ImportRunner } from './runner.js';
import type { FieldChange, QuestionDiff } from './session.js';

/**
 * What an import changes in the questions it updates, field by field, read from its staging table
 * before anything is applied: a dry run shows the edits made in qbank since the file was exported
 * that the import would overwrite.
 */

/** An option as a diff shows it: its letter, its text, and whether it is a correct answer. */
export interface OptionValue {
  letter: string;
  text: string;
  correct: boolean;
}

const LETTER = (index: number) => String.fromCharCode(65 + index);

function lettersOf(mask: number, count: number): string {
  const letters: string[] = [];
  for (let index = 0; index < Math.max(count, 6); index++) if ((mask >> index) & 1) letters.push(LETTER(index));
  return letters.join(';');
}

/** Tags are stored as JSON text; a diff shows the list. */
function listOf(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : value;
  } catch {
    return value;
  }
}

/** A stored blob as the diff shows it (another writer stored it; the import writes text over it). */
const shownBlob = (hex: string) => `blob x'${hex.toUpperCase()}'`;

const plain = (value: unknown): unknown => {
  if (typeof value === 'bigint') return Number(value);
  const blob = blobBytes(value);
  if (blob) return shownBlob(blob.toString('hex'));
  return value ?? null;
};

/** An option's stored text as storedOptionsJson gives it (a blob as {"$blob": HEX}). */
const optionText = (value: unknown): string | null => {
  const blob = blobHeldIn(value);
  return blob ? shownBlob(blob.toString('hex')) : (value as string | null);
};
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The stored options of question `questionId` (SQL) as the comparison reads them: a JSON array of
 * [text, is_correct] in their order. A value another writer stored as a blob is an object there,
 * which equals no text of a file: the row is an update, and writes the file's text over it.
 */
export const storedOptionsJson = (questionId: string) =>
  `(SELECT json_group_array(json_array(${jsonHeldValue('o.text')}, ${jsonHeldValue('o.is_correct')}) ORDER BY o."order", o.id) FROM main.answer_options AS o WHERE o.question_id = ${questionId})`;

/**
 * PingToPass: the rows a staging table marks `update`, against the stored question and its
 * options. `typeFor` is the SQL of the type an update writes (see PingToPassQuestionsTarget).
 */
export async function readPingToPassDiff(runner: ImportRunner, staging: string, typeFor: (existing: string) => string): Promise<QuestionDiff[]> {
  const given = GIVEN_FIELDS.map((field) => `q.${field} AS old_${field}, s.${field} AS new_${field}`).join(', ');
  const [result] = await runner.query([
    `SELECT s.line AS line, s.target_id AS id, s.given AS given, e.code AS old_exam, s.exam_code AS new_exam, q.exam_id IS NOT s.exam_id AS exam_moved,
       q.type AS old_type, ${typeFor('q.type')} AS new_type, q.text AS old_text, s.text AS new_text, q.difficulty AS old_difficulty, s.difficulty AS new_difficulty,
       ${given},
       q.review_status AS old_review_status, coalesce(s.review_status, CASE WHEN s.review_reset THEN 'pending' END, q.review_status) AS new_review_status,
       q.reviewed_by AS old_reviewed_by,
       CASE WHEN s.review_status IS NOT NULL AND s.review_status IS NOT q.review_status OR s.reviewed_by IS NOT NULL THEN s.reviewed_by
         WHEN s.review_reset THEN NULL ELSE q.reviewed_by END AS new_reviewed_by,
       q.is_active AS old_is_active, coalesce(s.is_active, q.is_active) AS new_is_active,
       q.ai_generated AS old_ai_generated, coalesce(s.ai_generated, q.ai_generated) AS new_ai_generated,
       q.ai_model AS old_ai_model, coalesce(s.ai_model, q.ai_model) AS new_ai_model,
       ${storedOptionsJson('q.id')} AS old_options,
       s.options AS new_options, s.correct_mask AS correct_mask
     FROM ${staging} AS s JOIN main.questions AS q ON q.id = s.target_id LEFT JOIN main.exams AS e ON e.id = q.exam_id
     WHERE s.action = 'update' ORDER BY s.seq`,
  ]);
  return result.rows.map((row) => ({ id: String(row.id), line: Number(row.line), fields: pingToPassFields(row) }));
}

function pingToPassFields(row: Record<string, unknown>): FieldChange[] {
  const fields: FieldChange[] = [];
  const compare = (field: string, old: unknown, next: unknown) => {
    if (!same(plain(old), plain(next))) fields.push({ field, old: plain(old), new: plain(next) });
  };
  if (Number(row.exam_moved) === 1) compare('exam_code', row.old_exam, row.new_exam);
  compare('type', row.old_type, row.new_type);
  compare('text', row.old_text, row.new_text);
  const given = Number(row.given);
  GIVEN_FIELDS.forEach((field, bit) => {
    if (!(given & (1 << bit))) return;
    if (field === 'tags') compare(field, listOf(row[`old_${field}`]), listOf(row[`new_${field}`]));
    else compare(field, row[`old_${field}`], row[`new_${field}`]);
  });
  compare('difficulty', row.old_difficulty, row.new_difficulty);
  const oldPairs = JSON.parse(String(row.old_options ?? '[]')) as Array<[string, number]>;
  const newTexts = JSON.parse(String(row.new_options)) as string[];
  const mask = Number(row.correct_mask);
  const oldOptions: OptionValue[] = oldPairs.map(([text, correct], index) => ({ letter: LETTER(index), text: optionText(text) as string, correct: Number(correct) === 1 }));
  const newOptions: OptionValue[] = newTexts.map((text, index) => ({ letter: LETTER(index), text, correct: ((mask >> index) & 1) === 1 }));
  // the options' texts; a key that moved among the same texts is the `correct` field alone
  if (!same(oldOptions.map((option) => option.text), newTexts)) fields.push({ field: 'options', old: oldOptions, new: newOptions });
  const oldMask = oldOptions.reduce((bits, option, index) => bits | (option.correct ? 1 << index : 0), 0);
  compare('correct', lettersOf(oldMask, oldOptions.length), lettersOf(mask, newOptions.length));
  for (const field of ['review_status', 'reviewed_by', 'is_active', 'ai_generated', 'ai_model']) compare(field, row[`old_${field}`], row[`new_${field}`]);
  return fields;
}

/** The question columns of an open-interview row as a JSON object, lists and objects as JSON. */
function columnsOf(alias: string): string {
  const json = (column: string) => `CASE WHEN json_valid(${alias}.${column}) THEN json(${alias}.${column}) ELSE ${alias}.${column} END`;
  const pairs = [
    ...REQUIRED_QUESTION_FIELDS.map((field) => `'${field.sql}', ${alias}.${field.sql}`),
    ...OPTIONAL_QUESTION_FIELDS.map((field) => `'${field.sql}', ${field.kind === 'list' || field.kind === 'json' ? json(field.sql) : `${alias}.${field.sql}`}`),
    `'status', ${alias}.status`,
    `'is_new', ${alias}.is_new`,
  ];
  return `json_object(${pairs.join(', ')})`;
}

/**
 * open-interview: the rows a staging table marks `update`, with the columns its `changed` list
 * names (the import's own comparison), old and new.
 */
export async function readOpenInterviewDiff(runner: ImportRunner, staging: string): Promise<QuestionDiff[]> {
  const [result] = await runner.query([
    `SELECT s.line AS line, s.target_id AS id, s.changed AS changed, ${columnsOf('q')} AS old, ${columnsOf('s')} AS new, s.channel || '/' || s.sub_channel AS mapping
     FROM ${staging} AS s JOIN main.questions AS q ON q.id = s.target_id WHERE s.action = 'update' ORDER BY s.seq`,
  ]);
  return result.rows.map((row) => {
    const old = JSON.parse(String(row.old)) as Record<string, unknown>;
    const next = JSON.parse(String(row.new)) as Record<string, unknown>;
    const changed = JSON.parse(String(row.changed)) as string[];
    const fields: FieldChange[] = changed.map((field) =>
      field === 'channel_mappings' ? { field, old: null, new: String(row.mapping) } : { field, old: old[field] ?? null, new: next[field] ?? null },
    );
    return { id: String(row.id), line: Number(row.line), fields };
  });
}
