import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import { answerOptions } from '../../../schema/pingtopass.js';
import { InvalidInputError } from '../../errors.js';
import { build, statement } from './builder.js';
import type { Statement } from './sql.js';
import type { EditableField, PingToPassItem, PingToPassOption } from './types.js';

/**
 * Editing a PingToPass question's answer options and its correct answer. They live in
 * `answer_options`, one row per option, so an edit writes several rows: every write is guarded by
 * the question row and all of its options being exactly as they were shown, and the option rows
 * change only after that guard held (`changes() = 1` chains them), so an edit lands whole or not at all.
 */

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const letterOf = (index: number): string => LETTERS[index] ?? `#${index + 1}`;

/** "Option A" … one per option the question has, then "Correct answer". */
export function optionFields(options: PingToPassOption[]): EditableField[] {
  const fields: EditableField[] = options.map((_, index) => ({
    name: `option_${letterOf(index).toLowerCase()}`,
    label: `Option ${letterOf(index)}`,
    column: 'text',
    kind: 'option',
    nullable: false,
    optionIndex: index,
  }));
  if (options.length > 0) fields.push({ name: 'correct', label: 'Correct answer', column: 'is_correct', kind: 'correct', nullable: false });
  return fields;
}

/** "A" or "A, C": the correct answer as an editor reads and types it. */
export function correctLetters(options: PingToPassOption[]): string {
  return options
    .map((option, index) => (option.isCorrect ? letterOf(index) : undefined))
    .filter(Boolean)
    .join(', ');
}

/**
 * The import's rules for the `correct` column: letters separated by `,` `;` `|` or spaces, each
 * naming an option the question has, at least one, and exactly one for a single-answer question.
 */
export function parseCorrectAnswer(value: string, optionCount: number, type: string): boolean[] {
  const letters = value
    .split(/[\s,;|]+/)
    .map((letter) => letter.trim())
    .filter((letter) => letter.length > 0);
  if (letters.length === 0) throw new InvalidInputError('the correct answer needs at least one option letter, such as B or A, C');
  const correct = Array.from({ length: optionCount }, () => false);
  for (const letter of letters) {
    const index = /^[a-z]$/i.test(letter) ? letter.toUpperCase().charCodeAt(0) - 65 : -1;
    if (index === -1) throw new InvalidInputError(`"${letter}" is not an option letter; separate several with , ; | or spaces`);
    if (index >= optionCount) {
      throw new InvalidInputError(`letter ${letter.toUpperCase()} names no option (this question has ${optionCount}: A-${letterOf(optionCount - 1)})`);
    }
    correct[index] = true;
  }
  const count = correct.filter(Boolean).length;
  if (type === 'single' && count !== 1) {
    throw new InvalidInputError(`a single-answer question has exactly one correct option, not ${count} (${letters.join(', ')})`);
  }
  return correct;
}

/** The options after the edit, or an error saying why the value cannot be stored. */
export function editedOptions(item: PingToPassItem, field: EditableField, value: string | null): PingToPassOption[] {
  if (field.kind === 'option') {
    const index = field.optionIndex ?? -1;
    if (!item.options[index]) throw new InvalidInputError(`question ${item.id} has no option ${letterOf(index)}`);
    if (value === null || value.trim() === '') throw new InvalidInputError(`${field.label} cannot be empty: a question keeps every option it has`);
    return item.options.map((option, i) => (i === index ? { ...option, text: value } : option));
  }
  const correct = parseCorrectAnswer(value ?? '', item.options.length, item.question.type);
  return item.options.map((option, i) => ({ ...option, isCorrect: correct[i] }));
}

/** True only while the question has exactly these options, each with this text and mark. */
export function optionsUnchanged(questionId: string, options: PingToPassOption[]): SQL {
  const count = (where: SQL) => sql`(SELECT count(*) FROM ${answerOptions} WHERE ${where})`;
  const ofQuestion = eq(answerOptions.questionId, questionId);
  if (options.length === 0) return sql`${count(ofQuestion)} = 0`;
  const each = options.map((o) => and(eq(answerOptions.id, o.id), sql`${answerOptions.text} IS ${o.text}`, sql`${answerOptions.isCorrect} IS ${o.isCorrect ? 1 : 0}`));
  return sql`${count(ofQuestion)} = ${options.length} AND ${count(and(ofQuestion, or(...each))!)} = ${options.length}`;
}

/** One UPDATE per option that differs, each applied only if the statement before it changed its row. */
export function optionUpdates(before: PingToPassOption[], after: PingToPassOption[]): Statement[] {
  return after
    .filter((option, i) => option.text !== before[i].text || option.isCorrect !== before[i].isCorrect)
    .map((option) =>
      statement(build.update(answerOptions).set({ text: option.text, isCorrect: option.isCorrect }).where(and(eq(answerOptions.id, option.id), sql`changes() = 1`))),
    );
}

export function optionsOfStatement(questionId: string): Statement {
  const { id, text, isCorrect, explanation, order } = answerOptions;
  return statement(build.select({ id, text, isCorrect, explanation, order }).from(answerOptions).where(eq(answerOptions.questionId, questionId)).orderBy(order, id));
}
