import type { InValue } from '@libsql/client';
import type { exams } from '../../../schema/pingtopass.js';
import { z } from 'zod';
import { jsonColumns, JsonRowPacker, RowPacker, type KeptRows, type Packer, type RowEncoder, type Statement, type Validated } from './encoder.js';
import { accepting, bool, id, int, list, number, oneOf, optionalText, RecordSchema, text, url, validateRecord, type IssueSink } from './fields.js';
import type { Problem } from './problems.js';
import { ColumnMap, kindsOf, type SourceRecord } from './records.js';
import { ExistingIndex, optionsKey, TEXT_FIELDS, WORDS, type ExistingQuestions, type TextField } from './existing.js';
import { fingerprintInto, fingerprintText } from './fingerprints.js';
import { KeptList } from './kept.js';
import { OPTION_FIELDS, PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_QUESTION_COLUMNS } from './columns.js';

export { PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_QUESTION_COLUMNS } from './columns.js';

/** PingToPass import records: columns, validation, and the statements each valid row becomes. */

export const QUESTION_TYPES = ['single', 'multiple', 'drag-drop', 'hotspot', 'simulation'] as const;
export const REVIEW_STATUSES = ['pending', 'approved', 'rejected'] as const;

export interface PingToPassQuestion {
  line: number;
  givenId?: string;
  examId: string;
  examCode: string;
  type: (typeof QUESTION_TYPES)[number];
  /** False when the file left the type to be derived from the number of correct letters. */
  typeGiven: boolean;
  text: string;
  options: string[];
  /** Bit k set when option k is correct. */
  correctMask: number;
  explanation: string | null;
  difficulty: number;
  objectiveId: string | null;
  /** JSON text of the tag list. */
  tags: string | null;
  referenceUrl: string | null;
  exhibitUrl: string | null;
  /** Bit i set when the record has GIVEN_FIELDS[i] (even blank): only those are written on update. */
  given: number;
  /** Undefined when the file does not say: new rows get the column default, existing ones keep theirs. */
  reviewStatus?: string;
  /** With a decided review_status: who decided (the record's reviewed_by, else the import's reviewer). */
  reviewedBy?: string;
  isActive?: boolean;
  aiGenerated?: boolean;
  aiModel?: string;
}

const questionFields = z.object({
  id: id().optional(),
  exam_code: text(),
  type: oneOf(QUESTION_TYPES).optional(),
  text: text(),
  option_a: optionalText(),
  option_b: optionalText(),
  option_c: optionalText(),
  option_d: optionalText(),
  option_e: optionalText(),
  option_f: optionalText(),
  options: list({ count: 6, tooMany: 'has more than six options' }).optional(),
  correct: accepting(z.union([z.string(), z.array(z.string())], { error: requiredLetters }), (value) => typeof value === 'string' || (Array.isArray(value) && value.every((letter) => typeof letter === 'string'))),
  explanation: optionalText(),
  difficulty: int(1, 5),
  objective_id: optionalText(),
  tags: list().optional(),
  reference_url: url().optional(),
  exhibit_url: url().optional(),
  review_status: oneOf(REVIEW_STATUSES).optional(),
  reviewed_by: optionalText(),
  is_active: bool().optional(),
  ai_generated: bool().optional(),
  ai_model: optionalText(),
});

type QuestionInput = z.output<typeof questionFields>;

function requiredLetters(issue: { input?: unknown }): string {
  return issue.input === undefined ? 'is required: option letters such as B or A;C' : 'must be option letters such as B or A;C';
}

const QUESTION_KINDS = kindsOf(PINGTOPASS_QUESTION_COLUMNS);
const EXAM_KINDS = kindsOf(PINGTOPASS_EXAM_COLUMNS);

/** The question's fields and cross-field rules: contiguous options, correct letters naming options, the type agreeing with them. */
export function questionSchema(examIdOf: (code: string) => string | undefined, suggestExam: (code: string) => string | undefined, reviewer: string | undefined) {
  return new RecordSchema(questionFields, (input: QuestionInput, ctx: IssueSink): Omit<PingToPassQuestion, 'line'> => {
    const examId = examIdOf(input.exam_code);
    if (!examId) {
      const suggestion = suggestExam(input.exam_code);
      ctx.addIssue({
        code: 'custom',
        path: ['exam_code'],
        message: `no exam with code "${input.exam_code}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; import exams first with \`qbank import exams FILE\``,
      });
    }
    let options: string[] = [];
    const lettered = OPTION_FIELDS.map((field) => input[field as keyof QuestionInput] as string | undefined);
    if (input.options !== undefined) {
      if (lettered.some((value) => value !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['options'], message: 'give the options either as option_a..option_f or as options, not both' });
      }
      options = input.options;
    } else {
      const firstEmpty = lettered.indexOf(undefined);
      const count = firstEmpty === -1 ? lettered.length : firstEmpty;
      const after = lettered.findIndex((value, index) => index > count && value !== undefined);
      if (after !== -1) {
        ctx.addIssue({
          code: 'custom',
          path: [OPTION_FIELDS[after]],
          message: `${OPTION_FIELDS[count]} is empty but ${OPTION_FIELDS[after]} is not: options must be contiguous from option_a`,
        });
      }
      options = lettered.slice(0, count) as string[];
    }
    if (options.length < 2) {
      ctx.addIssue({ code: 'custom', path: [input.options !== undefined ? 'options' : OPTION_FIELDS[options.length]], message: 'a question needs at least two options' });
    }
    const letters = correctLetters(input.correct);
    let correctMask = 0;
    if (letters.length === 0) ctx.addIssue({ code: 'custom', path: ['correct'], message: 'is required: option letters such as B or A;C' });
    for (const letter of letters) {
      const index = letterIndex(letter);
      if (index === -1) {
        ctx.addIssue({ code: 'custom', path: ['correct'], message: `"${letter}" is not an option letter (A to F); separate several with , ; | or spaces` });
      } else if (options.length >= 2 && index >= options.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['correct'],
          message: `letter ${letter.toUpperCase()} names no option (this question has ${options.length}: A-${String.fromCharCode(64 + options.length)})`,
        });
      } else correctMask |= 1 << index;
    }
    const correctCount = bitCount(correctMask);
    // a decision needs someone who took it: the record's reviewed_by, else the import's reviewer
    const decided = input.review_status === 'approved' || input.review_status === 'rejected';
    const reviewedBy = decided ? (input.reviewed_by ?? reviewer) : undefined;
    if (decided && !reviewedBy) {
      ctx.addIssue({ code: 'custom', path: ['review_status'], message: `"${input.review_status}" needs a reviewer: a reviewed_by value, or a reviewer named for the import` });
    }
    if (input.type === 'single' && correctCount > 1) {
      ctx.addIssue({ code: 'custom', path: ['correct'], message: `a single-answer question has exactly one correct letter, not ${correctCount} (${input.correct}); use type multiple` });
    }
    return {
      givenId: input.id,
      examId: examId ?? '',
      examCode: input.exam_code,
      type: input.type ?? (correctCount > 1 ? 'multiple' : 'single'),
      typeGiven: input.type !== undefined,
      text: input.text,
      options,
      correctMask,
      explanation: input.explanation ?? null,
      difficulty: input.difficulty,
      objectiveId: input.objective_id ?? null,
      tags: input.tags ? JSON.stringify(input.tags) : null,
      referenceUrl: input.reference_url ?? null,
      exhibitUrl: input.exhibit_url ?? null,
      given: 0,
      reviewStatus: input.review_status,
      reviewedBy,
      isActive: input.is_active,
      aiGenerated: input.ai_generated,
      aiModel: input.ai_model,
    };
  });
}

/** The letters of a correct cell: split on spaces , ; and |, each trimmed, empty ones dropped. */
function correctLetters(correct: string | string[]): string[] {
  // most cells are one letter: no split needed
  if (typeof correct === 'string' && correct.length === 1) return LETTER_SEPARATOR.test(correct) ? [] : [correct];
  return (Array.isArray(correct) ? correct : correct.split(LETTERS_SPLIT)).map((letter) => letter.trim()).filter((letter) => letter.length > 0);
}

const LETTERS_SPLIT = /[\s,;|]+/;
const LETTER_SEPARATOR = /^[\s,;|]$/;

/** 0 for A (or a) … 5 for F; -1 for anything else. */
function letterIndex(letter: string): number {
  if (letter.length !== 1) return -1;
  const lower = letter.charCodeAt(0) | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 97 : -1;
}

function bitCount(mask: number): number {
  let count = 0;
  for (let m = mask; m; m &= m - 1) count++;
  return count;
}

/**
 * Optional columns a file may leave out. A file that has the column (or a JSON record that has the
 * key) sets it, blank meaning NULL; one that does not leaves the values of existing questions alone.
 */
export const GIVEN_FIELDS = ['explanation', 'reference_url', 'objective_id', 'tags', 'exhibit_url'] as const;

export const STAGING_QUESTIONS = 'temp.qbank_import_questions';

const OPTION_TEXT_OF_K = 'CASE n.k WHEN 0 THEN a WHEN 1 THEN b WHEN 2 THEN c WHEN 3 THEN d WHEN 4 THEN e ELSE f END';

/** The question's content in the order both INSERTs list it: text, explanation … exhibit_url. */
function contentValues(row: PingToPassQuestion): Array<string | number | null> {
  return [row.text, row.explanation, row.referenceUrl, row.difficulty, row.objectiveId, row.tags, row.exhibitUrl];
}

function rowBytes(row: PingToPassQuestion): number {
  let bytes = row.text.length + (row.explanation?.length ?? 0) + 100;
  for (const option of row.options) bytes += option.length;
  return bytes;
}

export interface PingToPassQuestionsPlan {
  target: 'pingtopass-questions';
  /** The questions table is empty: rows go straight in. Otherwise they are staged. */
  direct: boolean;
  /** Exam code to exam id. */
  exams: Array<[string, string]>;
  /** The questions there are (staged imports): rows that would not change one are listed (`listKept`) or staged as their key alone. */
  existing?: ExistingQuestions;
  /**
   * Such rows are not staged at all: the encoder lists them (KeptRows, in the pipeline's end) and
   * the target combines them with what SQL reads of the staged rows. Not with `--mode insert`,
   * whose report of existing rows reads them from the staging table.
   */
  listKept?: boolean;
  /** What such a row counts as: unchanged, or skipped (`--mode skip-existing`). */
  existingAction?: 'unchanged' | 'skip';
  /** Rows go as one JSON argument a statement (remote databases) instead of bound values. */
  jsonRows?: boolean;
}

export interface EncoderSettings {
  now: Date;
  newId: () => string;
  /** Nothing is written: rows going straight into an empty table need no statements at all. */
  dryRun: boolean;
  /** Who decides the rows a file marks approved or rejected without a reviewed_by of their own. */
  reviewer?: string;
}

/**
 * Into an empty `questions` table rows become multi-row INSERTs of questions and options, with
 * ids ordered by time so every index is appended to. Otherwise they are copied into the staging
 * tables that `PingToPassQuestionsTarget` matches and applies.
 *
 * The statements are SQL rather than Drizzle's builder: a bulk insert here is a multi-row
 * statement of one fixed shape, prepared once and run per batch, where the builder would build
 * (and the driver prepare) a new statement for every batch.
 */
export class PingToPassQuestionEncoder implements RowEncoder<PingToPassQuestion> {
  readonly columns = new ColumnMap(PINGTOPASS_QUESTION_COLUMNS);
  private readonly schema: ReturnType<typeof questionSchema>;
  private readonly direct: boolean;
  private readonly questionRows: Packer;
  /** Into an empty table only: options are their own statements. */
  private readonly optionRows?: Packer;
  private readonly createdByExam = new Map<string, number>();
  /** Into an empty table: the rows created so far, and [from, to) ranges of those without an id. */
  private created = 0;
  private readonly assignedRanges: number[] = [];
  /** Staged imports into a table with questions: what there is, and the rows that leave it as it is. */
  private readonly existing?: ExistingIndex;
  private readonly keptRows?: Packer;
  /** Rows that change nothing, when they are listed instead of staged (plan.listKept). */
  private readonly keptList?: KeptList;
  /** A kept row's values in the shape `keptRows` takes. */
  private keptValues?: (row: PingToPassQuestion, record: SourceRecord, targetId: string, exam: number) => InValue[];
  /** The [id, code] of the exams kept rows refer to, by index. */
  private readonly keptExams: Array<[string, string]> = [];
  private readonly keptExamIndex = new Map<string, number>();
  private readonly rowWords = new Int32Array(WORDS);
  /** The fingerprint of the text of the row last validated (`textWordsOf`). */
  private readonly textWords = new Int32Array(3);
  private textWordsOf?: PingToPassQuestion;
  /** The stored question `unchangedMatch` last found for a row, changed or not (-1: none). */
  private matched = -1;

  constructor(
    plan: PingToPassQuestionsPlan,
    private readonly settings: EncoderSettings,
  ) {
    const byCode = new Map(plan.exams);
    const byLowerCode = new Map(plan.exams.map(([code]) => [code.toLowerCase(), code]));
    this.schema = questionSchema(
      (code) => byCode.get(code),
      (code) => byLowerCode.get(code.toLowerCase()),
      settings.reviewer,
    );
    this.direct = plan.direct;
    const now = Math.floor(settings.now.getTime() / 1000);
    // Into a remote database rows go as one JSON argument a statement (see JsonRowPacker): a
    // third fewer bytes than bound values, and the server binds one value instead of thousands.
    const json = Boolean(plan.jsonRows);
    if (this.direct) {
      const insertQuestions = 'INSERT INTO questions (id, exam_id, type, text, explanation, reference_url, difficulty, objective_id, tags, exhibit_url, is_active, ai_generated, ai_model, review_status, reviewed_by, reviewed_at, created_at, updated_at)';
      this.questionRows = json
        ? new JsonRowPacker(`${insertQuestions} SELECT ${jsonColumns(16)}, ${now}, ${now} FROM json_each(?) AS r ORDER BY r.key`, undefined, 1_000, 1 << 20)
        : new RowPacker(`${insertQuestions} VALUES `, `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,${now},${now})`);
      // One row per question (id, correct mask, six option texts), unpivoted into option rows by
      // SQL: eight values a question instead of six per option.
      const insertOptions = 'INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at)';
      const sixOptions = '(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) AS n';
      this.optionRows = json
        ? new JsonRowPacker(
            `${insertOptions} SELECT (r.value ->> 0) || '_opt_' || char(97 + n.k), r.value ->> 0, r.value ->> (2 + n.k), ((r.value ->> 1) >> n.k) & 1, n.k, ${now}
             FROM json_each(?) AS r, ${sixOptions} WHERE r.value ->> (2 + n.k) IS NOT NULL ORDER BY r.value ->> 0, n.k`,
            undefined,
            1_000,
            1 << 20,
          )
        : new RowPacker(
            'WITH v(q, m, a, b, c, d, e, f) AS (VALUES ',
            '(?,?,?,?,?,?,?,?)',
            `) ${insertOptions}
               SELECT q || '_opt_' || char(97 + n.k), q, ${OPTION_TEXT_OF_K}, (m >> n.k) & 1, n.k, ${now}
               FROM v, ${sixOptions} WHERE ${OPTION_TEXT_OF_K} IS NOT NULL ORDER BY q, n.k`,
          );
      return;
    }
    if (plan.existing) {
      this.existing = new ExistingIndex(plan.existing);
      if (plan.listKept) this.keptList = new KeptList();
      // a row that changes nothing is staged as its key: what the counts, the ids and the report of
      // missing questions need. Remotely [seq, line, given id, question id, exam] JSON rows, the exam
      // an index into the second argument; on file: bound tuples (200,000 keys: 0.45 s, 0.6 s as JSON)
      const keptColumns = `INSERT INTO ${STAGING_QUESTIONS} (seq, line, given_id, new_id, exam_id, exam_code, type, type_given, text, difficulty, options, correct_mask, given, target_id, matched_by, action)`;
      const keptAction = plan.existingAction ?? 'unchanged';
      if (json) {
        this.keptRows = new JsonRowPacker(
          `${keptColumns}
         SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, '', e.value ->> 0, e.value ->> 1, '', 0, '', 0, '[]', 0, 0, r.value ->> 3,
           CASE WHEN r.value ->> 2 IS NULL THEN 'text' ELSE 'id' END, '${keptAction}'
         FROM json_each(?) AS r CROSS JOIN json_each(?) AS e WHERE e.key = r.value ->> 4 ORDER BY r.key`,
          () => JSON.stringify(this.keptExams),
        );
        this.keptValues = (row, record, targetId, exam) => [record.index, row.line, row.givenId ?? null, targetId, exam];
      } else {
        this.keptRows = new RowPacker(`${keptColumns} VALUES `, `(?,?,?,'',?,?,'',0,'',0,'[]',0,0,?,?,'${keptAction}')`, '', 5_000);
        this.keptValues = (row, record, targetId) => [record.index, row.line, row.givenId ?? null, row.examId, row.examCode, targetId, row.givenId === undefined ? 'text' : 'id'];
      }
    }
    // Staged options are one JSON array a question, unpacked with json_each by the statements
    // that compare and apply them: a fifth of the rows and bound values of one row per option.
    const insertStaged = `INSERT INTO ${STAGING_QUESTIONS} (seq, line, given_id, new_id, exam_id, exam_code, type, type_given, text, explanation, reference_url, difficulty,
        objective_id, tags, exhibit_url, review_status, reviewed_by, is_active, ai_generated, ai_model, options, correct_mask, given, target_id, matched_by, text_lookup)`;
    this.questionRows = json
      ? new JsonRowPacker(`${insertStaged} SELECT ${jsonColumns(26)} FROM json_each(?) AS r ORDER BY r.key`, undefined, 1_000, 1 << 20)
      : new RowPacker(`${insertStaged} VALUES `, '(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
  }

  validate(record: SourceRecord): Validated<PingToPassQuestion> | Problem[] {
    const result = validateRecord(record, QUESTION_KINDS, this.schema);
    if (!result.ok) return result.problems;
    const row = result.data as PingToPassQuestion;
    row.line = record.line;
    for (let bit = 0; bit < GIVEN_FIELDS.length; bit++) if (GIVEN_FIELDS[bit] in record.values) row.given |= 1 << bit;
    // A row with an id matches by id: a repeated text is a warning. Without an id it would match by text, ambiguously.
    // the text is fingerprinted once, for the duplicate check and the comparison with stored questions
    fingerprintText(this.textWords, 0, row.text);
    this.textWordsOf = row;
    const textKey = ['t', row.examId];
    const keys: Validated<PingToPassQuestion>['keys'] = [
      row.givenId === undefined
        ? { key: textKey, hashed: this.textWords, field: 'text', message: (first) => `the same question text for exam ${row.examCode} is on ${first}; give the rows ids, or merge them` }
        : { key: textKey, hashed: this.textWords, field: 'text', warnOnly: true, message: (first) => `the same question text for exam ${row.examCode} is on ${first}; imported as its own question (id "${row.givenId}")` },
    ];
    if (row.givenId !== undefined) keys.push({ key: ['i', row.givenId], field: 'id', message: (first) => `duplicate id "${row.givenId}": ${first} has it too` });
    return { row, group: row.examCode, keys };
  }

  groupOfRejected(record: SourceRecord): string {
    const code = record.values.exam_code;
    return typeof code === 'string' && code.trim() ? code.trim() : '(no exam)';
  }

  encode(row: PingToPassQuestion, record: SourceRecord): Statement[] {
    if (this.direct) {
      this.createdByExam.set(row.examCode, (this.createdByExam.get(row.examCode) ?? 0) + 1);
      if (row.givenId === undefined) {
        const ranges = this.assignedRanges;
        if (ranges.length > 0 && ranges[ranges.length - 1] === this.created) ranges[ranges.length - 1]++;
        else ranges.push(this.created, this.created + 1);
      }
      this.created++;
      // Into an empty table a dry run writes nothing at all: every row would be created.
      return this.settings.dryRun ? [] : this.addDirect(row);
    }
    return this.addStaged(row, record);
  }

  flush(): Statement[] {
    return [this.questionRows.take(), this.optionRows?.take(), this.keptRows?.take()].filter((statement) => statement !== undefined);
  }

  counts() {
    return [...this.createdByExam].map(([group, count]) => ({ group, outcome: 'created' as const, count }));
  }

  kept(): KeptRows | undefined {
    return this.keptList?.result();
  }

  assigned(): number[] | undefined {
    return this.direct ? this.assignedRanges : undefined;
  }

  private addDirect(row: PingToPassQuestion): Statement[] {
    const id = row.givenId ?? this.settings.newId();
    const options = row.options;
    const bytes = rowBytes(row);
    const questions = this.questionRows.add(
      [
        id,
        row.examId,
        row.type,
        ...contentValues(row),
        row.isActive === false ? 0 : 1,
        row.aiGenerated ? 1 : 0,
        row.aiModel ?? null,
        row.reviewStatus ?? 'pending',
        row.reviewedBy ?? null,
        row.reviewedBy ? Math.floor(this.settings.now.getTime() / 1000) : null,
      ],
      bytes,
    );
    const optionRows = this.optionRows!;
    const optionsFull = optionRows.add([id, row.correctMask, options[0], options[1], options[2] ?? null, options[3] ?? null, options[4] ?? null, options[5] ?? null], bytes);
    if (!questions && !optionsFull) return [];
    // A question goes before its options, whose foreign key points at it.
    return [questions ?? this.questionRows.take(), optionsFull ?? optionRows.take()].filter((statement) => statement !== undefined);
  }

  /** The question the row matches when importing it would leave that question as it is. */
  private unchangedMatch(row: PingToPassQuestion): number {
    const words = this.rowWords;
    if (this.textWordsOf === row) {
      words[0] = this.textWords[0];
      words[1] = this.textWords[1];
    } else fingerprintInto(words, 0, row.text);
    const at = this.existing!.match(row, words);
    this.matched = at;
    if (at < 0) return -1;
    const values: Record<TextField, string | null | undefined> = {
      text: row.text,
      explanation: row.explanation,
      reference_url: row.referenceUrl,
      objective_id: row.objectiveId,
      tags: row.tags,
      exhibit_url: row.exhibitUrl,
      ai_model: row.aiModel,
      options: optionsKey(row.options, (index) => ((row.correctMask >> index) & 1) === 1),
    };
    const counts = (field: TextField) =>
      field === 'text' || field === 'options' || (field === 'ai_model' ? row.aiModel !== undefined : (row.given & (1 << GIVEN_FIELDS.indexOf(field as (typeof GIVEN_FIELDS)[number]))) !== 0);
    TEXT_FIELDS.forEach((field, index) => {
      if (index > 0 && counts(field)) fingerprintInto(words, index * 2, values[field]);
    });
    return this.existing!.unchanged(at, row, words, counts) ? at : -1;
  }

  /**
   * A changed row's match by text as the stored questions tell it: [target_id, matched_by,
   * text_lookup]. The question found is staged for SQL to check against the texts themselves; with
   * none found SQL need not look, as the store holds every question (a stored text equal to the
   * row's has the same fingerprint). Rows with an id are matched by SQL, by id.
   */
  private textMatch(row: PingToPassQuestion): [string | null, string | null, number] {
    if (row.givenId !== undefined) return [null, null, 0];
    if (this.matched >= 0) return [this.existing!.store.ids[this.matched], 'text', 0];
    return [null, null, this.existing ? 0 : 1];
  }

  private addStaged(row: PingToPassQuestion, record: SourceRecord): Statement[] {
    this.matched = -1;
    const kept = this.existing ? this.unchangedMatch(row) : -1;
    if (kept >= 0) {
      if (this.keptList) {
        this.keptList.add(record.index, row.line, kept, row.givenId !== undefined, row.examCode);
        return [];
      }
      let exam = this.keptExamIndex.get(row.examId);
      if (exam === undefined) {
        exam = this.keptExams.push([row.examId, row.examCode]) - 1;
        this.keptExamIndex.set(row.examId, exam);
      }
      const targetId = this.existing!.store.ids[kept];
      const statement = this.keptRows!.add(this.keptValues!(row, record, targetId, exam), 32 + targetId.length + (row.givenId?.length ?? 0));
      return statement ? [statement] : [];
    }
    const questions = this.questionRows.add(
      [
        record.index,
        row.line,
        row.givenId ?? null,
        this.settings.newId(),
        row.examId,
        row.examCode,
        row.type,
        row.typeGiven ? 1 : 0,
        ...contentValues(row),
        row.reviewStatus ?? null,
        row.reviewedBy ?? null,
        row.isActive === undefined ? null : row.isActive ? 1 : 0,
        row.aiGenerated === undefined ? null : row.aiGenerated ? 1 : 0,
        row.aiModel ?? null,
        JSON.stringify(row.options),
        row.correctMask,
        row.given,
        ...this.textMatch(row),
      ],
      rowBytes(row),
    );
    return questions ? [questions] : [];
  }
}

export interface PingToPassExam {
  line: number;
  givenId?: string;
  code: string;
  /** Drizzle property name to value, for the columns the record gives. */
  values: Partial<typeof exams.$inferInsert>;
}

export const examSchema = new RecordSchema(z.object({
  id: id().optional(),
  code: text(),
  name: text(),
  vendor: text(),
  category: text(),
  passing_score: int(0, 100_000),
  total_questions: int(1, 100_000),
  time_limit: int(1, 100_000).optional(),
  price: number(0).optional(),
  description: optionalText(),
}));

const EXAM_FIELDS = {
  name: 'name',
  vendor: 'vendor',
  category: 'category',
  passing_score: 'passingScore',
  total_questions: 'totalQuestions',
  time_limit: 'timeLimit',
  price: 'price',
  description: 'description',
} as const;

/** Exams are compared with what exists in JavaScript, so valid rows pass through to the target. */
export class PingToPassExamEncoder implements RowEncoder<PingToPassExam> {
  readonly columns = new ColumnMap(PINGTOPASS_EXAM_COLUMNS);

  validate(record: SourceRecord): Validated<PingToPassExam> | Problem[] {
    const result = validateRecord(record, EXAM_KINDS, examSchema);
    if (!result.ok) return result.problems;
    const input = result.data;
    const values: PingToPassExam['values'] = {};
    for (const [column, property] of Object.entries(EXAM_FIELDS)) {
      if (column in record.values) (values as Record<string, unknown>)[property] = input[column as keyof typeof input] ?? null;
    }
    const row: PingToPassExam = { line: record.line, givenId: input.id, code: input.code, values };
    const keys: Validated<PingToPassExam>['keys'] = [{ key: ['c', row.code], field: 'code', message: (first) => `duplicate exam code "${row.code}": ${first} has it too` }];
    if (row.givenId) keys.push({ key: ['i', row.givenId], field: 'id', message: (first) => `duplicate id "${row.givenId}": ${first} has it too` });
    return { row, group: input.vendor, keys };
  }

  groupOfRejected(record: SourceRecord): string {
    const vendor = record.values.vendor;
    return typeof vendor === 'string' && vendor.trim() ? vendor.trim() : '(no vendor)';
  }

  encode(row: PingToPassExam) {
    return { row };
  }

  flush(): Statement[] {
    return [];
  }

  counts() {
    return [];
  }
}
