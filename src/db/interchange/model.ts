import type { Problem } from '../import/problems.js';
import type { RecordStream, SourceRecord } from '../import/records.js';

/**
 * The learning-platform formats (Moodle XML, GIFT, Aiken) hold a question as a stem, answers with
 * a grade each (Moodle's "fraction": 1 right, 0 wrong, between for partial credit, below 0 a
 * penalty), feedback and a category. Each reader turns its file into `InterchangeQuestion`s;
 * `toSourceRecord` maps one onto PingToPass's import columns, so validation and writing are the
 * import's own: the records go through the same pipeline as a CSV file's rows.
 */

export type InterchangeFormat = 'moodle-xml' | 'gift' | 'aiken';

export interface InterchangeAnswer {
  text: string;
  /** 1 = right, 0 = wrong, between = partial credit, negative = penalty. */
  fraction: number;
  feedback?: string;
}

export interface InterchangeQuestion {
  /** The question's first line in the file. */
  line: number;
  /** The question as written, for the rejects file. */
  source: string;
  /** The exam code the question's category names (the category path's last segment). */
  exam?: string;
  id?: string;
  text: string;
  answers: InterchangeAnswer[];
  /** Moodle's "one answer only" (true/false and single-answer multiple choice). */
  single: boolean;
  generalFeedback?: string;
  /** Only formats that hold tags set this (undefined: the file says nothing about tags). */
  tags?: string[];
  difficulty?: number;
  objectiveId?: string;
  /** Lines of parts of the question (answers, feedback) for error positions. */
  answerLine?: number;
}

/** A block of the file that is not a question qbank can hold, with the reason, at its line. */
export interface InterchangeProblem {
  line: number;
  source: string;
  message: string;
  /** The exam the block's category names, for the summary's counts of rows left out. */
  exam?: string;
}

export type InterchangeItem = InterchangeQuestion | InterchangeProblem;

export function isProblem(item: InterchangeItem): item is InterchangeProblem {
  return 'message' in item;
}

/** Defaults for what a format cannot hold: the exam (it overrides the file's categories) and the difficulty (for questions whose file gives none). */
export interface InterchangeDefaults {
  exam?: string;
  difficulty?: number;
}

export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Moodle writes thirds and sevenths as 33.33333 and 14.28571: grades are compared to this precision. */
const GRADE_TOLERANCE = 1e-4;

/** Which answers are right, or why qbank cannot hold the grading (partial credit, several full-marks answers in a one-answer question). */
function correctAnswers(question: InterchangeQuestion): { correct: number[] } | { message: string } {
  const { answers } = question;
  const named = (index: number) => `answer ${LETTERS[index] ?? index + 1} ("${shorten(answers[index].text)}")`;
  const percent = (fraction: number) => `${Math.round(fraction * 100000) / 1000}%`;
  if (question.single) {
    const full = answers.flatMap((answer, index) => (Math.abs(answer.fraction - 1) < GRADE_TOLERANCE ? [index] : []));
    const partial = answers.findIndex((answer) => answer.fraction > GRADE_TOLERANCE && Math.abs(answer.fraction - 1) >= GRADE_TOLERANCE);
    if (partial >= 0) return { message: `${named(partial)} is worth ${percent(answers[partial].fraction)}: qbank's single-answer questions have no partial credit` };
    if (full.length === 0) return { message: 'no answer is worth 100%: a single-answer question needs one right answer' };
    if (full.length > 1) return { message: `${full.length} answers are worth 100% in a one-answer question: qbank's single-answer questions have one right answer` };
    return { correct: full };
  }
  const positive = answers.flatMap((answer, index) => (answer.fraction > GRADE_TOLERANCE ? [index] : []));
  const sum = positive.reduce((total, index) => total + answers[index].fraction, 0);
  if (positive.length === 0) return { message: 'no answer has a positive grade: a multiple-answer question needs right answers' };
  if (Math.abs(sum - 1) > 1e-3) {
    return { message: `the right answers' grades add up to ${percent(sum)}, not 100%: qbank's multiple-answer questions are right when all right answers are chosen` };
  }
  return { correct: positive };
}

export function shorten(text: string, length = 40): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * The explanation qbank keeps: the general feedback, then each answer's own feedback under its
 * letter. PingToPass's import has no per-option explanation, so answer feedback is kept here
 * rather than dropped.
 */
export function explanationOf(question: InterchangeQuestion): string | null {
  const parts: string[] = [];
  if (question.generalFeedback && question.generalFeedback.trim()) parts.push(question.generalFeedback);
  const perAnswer = question.answers.flatMap((answer, index) => (answer.feedback && answer.feedback.trim() ? [`${LETTERS[index]}: ${answer.feedback}`] : []));
  if (perAnswer.length > 0) parts.push(perAnswer.join('\n'));
  return parts.length > 0 ? parts.join('\n\n') : null;
}

interface RecordSettings {
  format: InterchangeFormat;
  defaults: InterchangeDefaults;
  index: number;
}

/** One question as a PingToPass import record (the import's column names), or a record carrying its problem. */
export function toSourceRecord(item: InterchangeItem, settings: RecordSettings): SourceRecord {
  const raw = { kind: 'text' as const, text: item.source };
  const at = (line: number) => ({ line, column: 1 });
  const base = { index: settings.index, line: item.line, column: 1, raw, locate: () => at(item.line) };
  if (isProblem(item)) {
    const exam = settings.defaults.exam ?? item.exam;
    return { ...base, values: exam ? { exam_code: exam } : {}, problem: { line: item.line, column: 1, message: item.message } };
  }
  const exam = settings.defaults.exam ?? item.exam;
  const values: Record<string, unknown> = {
    text: item.text,
    options: item.answers.map((answer) => answer.text),
    explanation: explanationOf(item),
  };
  if (exam !== undefined) values.exam_code = exam;
  if (item.id !== undefined) values.id = item.id;
  const difficulty = item.difficulty ?? settings.defaults.difficulty;
  if (difficulty !== undefined) values.difficulty = difficulty;
  if (item.tags !== undefined) values.tags = item.tags;
  if (item.objectiveId !== undefined) values.objective_id = item.objectiveId;
  const answersAt = item.answerLine ?? item.line;
  const record: SourceRecord = {
    ...base,
    values,
    locate: (field) => at(field === 'options' || field === 'correct' || field.startsWith('option_') ? answersAt : item.line),
  };
  const graded = correctAnswers(item);
  if ('message' in graded) {
    record.problem = { line: answersAt, column: 1, field: 'correct', message: graded.message };
    return record;
  }
  values.type = item.single ? 'single' : 'multiple';
  values.correct = graded.correct.map((index) => LETTERS[index] ?? `#${index + 1}`);
  return record;
}

/** Records in batches from a reader's batches of items. */
export function recordStream(items: AsyncGenerator<InterchangeItem[]>, format: InterchangeFormat, defaults: InterchangeDefaults): RecordStream {
  let index = 0;
  return {
    ignored: new Set(),
    batches: (async function* () {
      for await (const batch of items) {
        if (batch.length > 0) yield batch.map((item) => toSourceRecord(item, { format, defaults, index: ++index }));
      }
    })(),
  };
}

export type { Problem };
