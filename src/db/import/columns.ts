import type { FieldKind } from './fields.js';
import type { ColumnSpec } from './records.js';

/**
 * The columns of each import file, with their names, aliases and kinds, in the import's order: what
 * the import reads and what the export writes. Types only from the rest of the import, so the export
 * takes these lists without loading the import's validation (zod, the Drizzle schema).
 */

const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export const OPTION_FIELDS = LETTERS.map((letter) => `option_${letter}`);

export const PINGTOPASS_QUESTION_COLUMNS: ColumnSpec[] = [
  { name: 'id', kind: 'text' },
  { name: 'exam_code', required: true, aliases: ['exam'], kind: 'text' },
  { name: 'type', kind: 'enum' },
  { name: 'text', required: true, aliases: ['question', 'question_text'], kind: 'text' },
  ...OPTION_FIELDS.map((name) => ({ name, kind: 'text' as const })),
  { name: 'options', kind: 'list' },
  { name: 'correct', required: true, aliases: ['answer', 'answers', 'correct_answer', 'correct_answers'], kind: 'text' },
  { name: 'explanation', kind: 'text' },
  { name: 'difficulty', required: true, kind: 'int' },
  { name: 'objective_id', aliases: ['objective'], kind: 'text' },
  { name: 'tags', kind: 'list' },
  { name: 'reference_url', kind: 'text' },
  { name: 'exhibit_url', kind: 'text' },
  { name: 'review_status', kind: 'enum' },
  { name: 'reviewed_by', kind: 'text' },
  { name: 'is_active', kind: 'bool' },
  { name: 'ai_generated', kind: 'bool' },
  { name: 'ai_model', kind: 'text' },
];

export const PINGTOPASS_EXAM_COLUMNS: ColumnSpec[] = [
  { name: 'id', kind: 'text' },
  { name: 'code', required: true, aliases: ['exam_code'], kind: 'text' },
  { name: 'name', required: true, kind: 'text' },
  { name: 'vendor', required: true, kind: 'text' },
  { name: 'category', required: true, kind: 'text' },
  { name: 'passing_score', required: true, kind: 'int' },
  { name: 'total_questions', required: true, kind: 'int' },
  { name: 'time_limit', kind: 'int' },
  { name: 'price', kind: 'number' },
  { name: 'description', kind: 'text' },
];

/**
 * Columns a record may leave out. When a file has such a column (or a JSON record has the key),
 * its value is the truth, blank meaning NULL; when it does not, an update keeps what the question
 * has — an import of the basic columns must not wipe what the system's bots added since.
 * `sql` is the column in `questions`, `json` the key in the system's own JSON files.
 */
export const OPTIONAL_QUESTION_FIELDS = withNames([
  ['tags', 'list'],
  ['companies', 'list'],
  ['diagram', 'text'],
  ['source_url', 'text'],
  ['eli5', 'text'],
  ['tldr', 'text'],
  ['videos', 'json'],
  ['relevance_score', 'int'],
  ['relevance_details', 'json'],
  ['job_title_relevance', 'json'],
  ['experience_level_tags', 'list'],
  ['voice_keywords', 'list'],
  ['voice_suitable', 'bool'],
] as const);
export type OptionalField = (typeof OPTIONAL_QUESTION_FIELDS)[number]['name'];

export const REQUIRED_QUESTION_FIELDS = withNames([['question'], ['answer'], ['explanation'], ['difficulty'], ['channel'], ['sub_channel']] as const);

/** A column's names: `sql` in `questions` (the import's own name too), `json` the system's camelCase key. */
function withNames<const N extends string, const K extends FieldKind | undefined>(columns: ReadonlyArray<readonly [N, K?]>): Array<{ name: N; sql: N; json: string; kind: K }> {
  return columns.map(([name, kind]) => ({ name, sql: name, json: name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()), kind: kind as K }));
}

export const OPEN_INTERVIEW_QUESTION_COLUMNS: ColumnSpec[] = [
  { name: 'id', kind: 'text' },
  { name: 'question', required: true, kind: 'text' },
  { name: 'answer', required: true, kind: 'text' },
  { name: 'explanation', required: true, kind: 'text' },
  { name: 'difficulty', required: true, kind: 'enum' },
  { name: 'channel', required: true, kind: 'text' },
  { name: 'sub_channel', required: true, kind: 'text' },
  ...OPTIONAL_QUESTION_FIELDS.map((field) => ({ name: field.name, kind: field.kind })),
  { name: 'status', kind: 'enum' },
  { name: 'is_new', kind: 'bool' },
  { name: 'last_updated', kind: 'timestamp' },
  { name: 'created_at', kind: 'timestamp' },
];

export const OPEN_INTERVIEW_CERTIFICATION_COLUMNS: ColumnSpec[] = [
  { name: 'id', required: true, kind: 'text' },
  { name: 'name', required: true, kind: 'text' },
  { name: 'provider', required: true, kind: 'text' },
  { name: 'description', required: true, kind: 'text' },
  { name: 'icon', kind: 'text' },
  { name: 'color', kind: 'text' },
  { name: 'difficulty', required: true, kind: 'enum' },
  { name: 'category', required: true, kind: 'text' },
  { name: 'estimated_hours', kind: 'int' },
  { name: 'exam_code', kind: 'text' },
  { name: 'official_url', kind: 'text' },
  { name: 'domains', kind: 'json' },
  { name: 'channel_mappings', kind: 'json' },
  { name: 'tags', kind: 'list' },
  { name: 'prerequisites', kind: 'list' },
  { name: 'status', kind: 'enum' },
  { name: 'question_count', kind: 'int' },
  { name: 'passing_score', kind: 'int' },
  { name: 'exam_duration', kind: 'int' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'last_updated', kind: 'timestamp' },
];
