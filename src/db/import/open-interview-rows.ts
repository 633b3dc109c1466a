import type { InValue } from '@libsql/client';
import { z } from 'zod';
import { CERTIFICATION_DIFFICULTIES, PUBLICATION_STATUSES, QUESTION_DIFFICULTIES, QUESTION_STATUSES } from '../../../schema/open-interview.js';
import { RowPacker, type RowEncoder, type Statement, type Validated } from './encoder.js';
import { bool, id, int, jsonArray, jsonObject, list, oneOf, optionalText, RecordSchema, storedDate, text, timestamp, url, validateRecord } from './fields.js';
import type { EncoderSettings } from './pingtopass-rows.js';
import type { Problem } from './problems.js';
import type { OpenInterviewQuestion as StoredQuestion } from '../review/types.js';
import { ColumnMap, kindsOf, type SourceRecord } from './records.js';
import { OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS, OPTIONAL_QUESTION_FIELDS, type OptionalField } from './columns.js';

export { OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS, OPTIONAL_QUESTION_FIELDS, REQUIRED_QUESTION_FIELDS } from './columns.js';

/** open-interview import records: columns, validation, and the statements each valid row becomes. */


const QUESTION_KINDS = kindsOf(OPEN_INTERVIEW_QUESTION_COLUMNS);
const CERTIFICATION_KINDS = kindsOf(OPEN_INTERVIEW_CERTIFICATION_COLUMNS);

/** The question's texts, named as the review screen's question names them. */
type QuestionTexts = Pick<StoredQuestion, 'question' | 'answer' | 'explanation' | 'difficulty' | 'channel' | 'subChannel'>;

export interface OpenInterviewQuestion extends QuestionTexts {
  line: number;
  givenId?: string;
  /** Optional columns the record gives, as they are stored (JSON columns as JSON text). */
  optional: Partial<Record<OptionalField, string | number | null>>;
  /** Bit i set when OPTIONAL_QUESTION_FIELDS[i] was given. */
  given: number;
  status?: string;
  isNew?: boolean;
  createdAt?: string;
  lastUpdated?: string;
}

export const questionSchema = new RecordSchema(
  z.object({
    id: id().optional(),
    question: text(),
    answer: text(),
    explanation: text(),
    difficulty: oneOf(QUESTION_DIFFICULTIES),
    channel: text(),
    sub_channel: text(),
    tags: list().optional(),
    companies: list().optional(),
    diagram: optionalText(),
    source_url: url().optional(),
    eli5: optionalText(),
    tldr: optionalText(),
    videos: jsonObject().optional(),
    relevance_score: int(0, 100).optional(),
    relevance_details: jsonObject().optional(),
    job_title_relevance: jsonObject().optional(),
    experience_level_tags: list().optional(),
    voice_keywords: list().optional(),
    voice_suitable: bool().optional(),
    status: oneOf(QUESTION_STATUSES).optional(),
    is_new: bool().optional(),
    last_updated: timestamp().optional(),
    created_at: timestamp().optional(),
  }),
  (input) => {
    const optional: OpenInterviewQuestion['optional'] = {};
    for (const { name } of OPTIONAL_QUESTION_FIELDS) {
      const value = input[name];
      optional[name] = value === undefined ? null : typeof value === 'object' ? JSON.stringify(value) : typeof value === 'boolean' ? (value ? 1 : 0) : value;
    }
    return {
      givenId: input.id,
      question: input.question,
      answer: input.answer,
      explanation: input.explanation,
      difficulty: input.difficulty,
      channel: input.channel,
      subChannel: input.sub_channel,
      optional,
      given: 0,
      status: input.status,
      isNew: input.is_new,
      createdAt: input.created_at && storedDate(input.created_at),
      lastUpdated: input.last_updated && storedDate(input.last_updated),
    };
  },
);

export const STAGING_OI_QUESTIONS = 'temp.qbank_import_oi_questions';

/** Bit of `given` set when the record has a created_at key (null included); the bits below are OPTIONAL_QUESTION_FIELDS'. */
export const CREATED_AT_GIVEN = 1 << 30;

/** Every row is staged: the target matches, classifies and applies them with their mappings and history. */
export class OpenInterviewQuestionEncoder implements RowEncoder<OpenInterviewQuestion> {
  readonly columns = new ColumnMap(OPEN_INTERVIEW_QUESTION_COLUMNS);
  private readonly packer: RowPacker;

  constructor(private readonly settings: EncoderSettings) {
    const S = STAGING_OI_QUESTIONS;
    this.packer = new RowPacker(
      `INSERT INTO ${S} (seq, line, given_id, new_id, question, answer, explanation, difficulty, channel, sub_channel, ${OPTIONAL_QUESTION_FIELDS.map((f) => f.sql).join(', ')}, given, status, is_new, created_at, last_updated) VALUES `,
      `(${new Array(10 + OPTIONAL_QUESTION_FIELDS.length + 5).fill('?').join(',')})`,
      '',
      200,
    );
  }

  validate(record: SourceRecord): Validated<OpenInterviewQuestion> | Problem[] {
    const result = validateRecord(record, QUESTION_KINDS, questionSchema);
    if (!result.ok) return result.problems;
    const row = result.data as OpenInterviewQuestion;
    row.line = record.line;
    OPTIONAL_QUESTION_FIELDS.forEach((field, bit) => {
      if (field.name in record.values) row.given |= 1 << bit;
    });
    // an explicit null stores NULL; only an absent created_at takes the schema's default (the time of creation)
    if ('created_at' in record.values) row.given |= CREATED_AT_GIVEN;
    // A row with an id matches by id, so a text another row repeats is only worth a warning; without
    // an id the row would match by text, and two of them could match the same question.
    const keys: Validated<OpenInterviewQuestion>['keys'] = [
      row.givenId === undefined
        ? { key: ['t', row.question], field: 'question', message: (first) => `the same question text is on ${first}; give the rows ids, or merge them` }
        : { key: ['t', row.question], field: 'question', warnOnly: true, message: (first) => `the same question text is on ${first}; imported as its own question (id "${row.givenId}")` },
    ];
    if (row.givenId !== undefined) keys.push({ key: ['i', row.givenId], field: 'id', message: (first) => `duplicate id "${row.givenId}": ${first} has it too` });
    return { row, group: row.channel, keys };
  }

  groupOfRejected(record: SourceRecord): string {
    const channel = record.values.channel;
    return typeof channel === 'string' && channel.trim() ? channel.trim() : '(no channel)';
  }

  encode(row: OpenInterviewQuestion, record: SourceRecord): Statement[] {
    const args: InValue[] = [
      record.index,
      row.line,
      row.givenId ?? null,
      this.settings.newId(),
      row.question,
      row.answer,
      row.explanation,
      row.difficulty,
      row.channel,
      row.subChannel,
      ...OPTIONAL_QUESTION_FIELDS.map((field) => row.optional[field.name] ?? null),
      row.given,
      row.status ?? null,
      row.isNew === undefined ? null : row.isNew ? 1 : 0,
      row.createdAt ?? null,
      row.lastUpdated ?? null,
    ];
    let bytes = 200;
    for (const arg of args) if (typeof arg === 'string') bytes += arg.length;
    const full = this.packer.add(args, bytes);
    return full ? [full] : [];
  }

  flush(): Statement[] {
    const rest = this.packer.take();
    return rest ? [rest] : [];
  }

  counts() {
    return [];
  }
}

// Certifications

export interface OpenInterviewCertification {
  line: number;
  id: string;
  /** Column name (SQL) to value, for the columns the record gives. */
  values: Record<string, InValue>;
}

/** Every certification column but the id, which matches rows instead of being written. */
const CERTIFICATION_SQL_COLUMNS = OPEN_INTERVIEW_CERTIFICATION_COLUMNS.map((column) => column.name).filter((name) => name !== 'id');

export const certificationSchema = new RecordSchema(
  z.object({
  id: id(),
  name: text(),
  provider: text(),
  description: text(),
  icon: optionalText(),
  color: optionalText(),
  difficulty: oneOf(CERTIFICATION_DIFFICULTIES),
  category: text(),
  estimated_hours: int(0, 100_000).optional(),
  exam_code: optionalText(),
  official_url: url().optional(),
  domains: jsonArray().optional(),
  channel_mappings: jsonArray().optional(),
  tags: list().optional(),
  prerequisites: list().optional(),
  status: oneOf(PUBLICATION_STATUSES).optional(),
  question_count: int(0, 10_000_000).optional(),
  passing_score: int(0, 100).optional(),
  exam_duration: int(0, 100_000).optional(),
  created_at: timestamp().optional(),
  last_updated: timestamp().optional(),
  }),
);

/** Columns whose absence means "the column default" on insert, never NULL. */
const CERTIFICATION_DEFAULTED = new Set(['icon', 'color', 'estimated_hours', 'status', 'question_count', 'passing_score', 'exam_duration', 'created_at', 'last_updated']);

/** Certifications are compared with what exists in JavaScript, so valid rows pass through to the target. */
export class OpenInterviewCertificationEncoder implements RowEncoder<OpenInterviewCertification> {
  readonly columns = new ColumnMap(OPEN_INTERVIEW_CERTIFICATION_COLUMNS);

  validate(record: SourceRecord): Validated<OpenInterviewCertification> | Problem[] {
    const result = validateRecord(record, CERTIFICATION_KINDS, certificationSchema);
    if (!result.ok) return result.problems;
    const input = result.data as Record<string, unknown>;
    const values: Record<string, InValue> = {};
    for (const column of CERTIFICATION_SQL_COLUMNS) {
      if (!(column in record.values)) continue;
      const value = input[column];
      if (value === undefined && CERTIFICATION_DEFAULTED.has(column)) continue;
      values[column] = value === undefined ? null : value instanceof Date ? storedDate(value) : typeof value === 'object' ? JSON.stringify(value) : (value as InValue);
    }
    const row = { line: record.line, id: String(input.id), values };
    return { row, group: String(input.provider), keys: [{ key: ['i', row.id], field: 'id', message: (first) => `duplicate id "${row.id}": ${first} has it too` }] };
  }

  groupOfRejected(record: SourceRecord): string {
    const provider = record.values.provider;
    return typeof provider === 'string' && provider.trim() ? provider.trim() : '(no provider)';
  }

  encode(row: OpenInterviewCertification) {
    return { row };
  }

  flush(): Statement[] {
    return [];
  }

  counts() {
    return [];
  }
}
