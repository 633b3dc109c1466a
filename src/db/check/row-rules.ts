import type { SystemName } from '../../config.js';
import type { RawFinding } from './model.js';

/**
 * `invalid-json` and `invalid-value`: each column's expected JSON shape (the seed documents' "JSON
 * Field Structures") and each enumerated or bounded column, per system. Pure checks over one row.
 */

export type JsonShape = 'any' | 'object' | 'string-array' | 'array' | 'object-array' | 'string-map' | 'number-map';

export interface JsonColumn {
  column: string;
  shape: JsonShape;
  /** For object-array: keys every element must have. */
  keys?: string[];
}

export interface ValueColumn {
  column: string;
  values?: readonly string[];
  range?: [number, number];
}

export interface TableSpec {
  table: string;
  /** The key column, for finding ids. */
  key: string;
  /** The column naming the row's exam or channel, when it has one. */
  group?: string;
  json: JsonColumn[];
  values: ValueColumn[];
}

/** Columns and their shapes (an object-array's with the keys each element must have), in checking order. */
function shapes(columns: Record<string, JsonShape | [JsonShape, ...string[]]>): JsonColumn[] {
  return Object.entries(columns).map(([column, shape]) => (Array.isArray(shape) ? { column, shape: shape[0], keys: shape.slice(1) } : { column, shape }));
}

const PINGTOPASS: TableSpec[] = [
  {
    table: 'questions',
    key: 'id',
    json: [{ column: 'tags', shape: 'string-array' }, { column: 'statistics', shape: 'number-map' }, { column: 'simulation_data', shape: 'any' }],
    values: [
      { column: 'type', values: ['single', 'multiple', 'drag-drop', 'hotspot', 'simulation'] },
      { column: 'review_status', values: ['pending', 'approved', 'rejected'] },
      { column: 'difficulty', range: [1, 5] },
    ],
  },
  { table: 'users', key: 'id', json: [{ column: 'settings', shape: 'object' }], values: [{ column: 'subscription_tier', values: ['free', 'pro', 'enterprise'] }, { column: 'subscription_status', values: ['active', 'canceled', 'past_due', 'trialing'] }] },
  { table: 'exams', key: 'id', json: [{ column: 'objectives', shape: 'object-array', keys: ['id', 'domain'] }, { column: 'metadata', shape: 'object' }], values: [] },
  { table: 'study_sessions', key: 'id', json: [{ column: 'metadata', shape: 'object' }], values: [{ column: 'mode', values: ['practice', 'timed', 'exam', 'review', 'adaptive'] }] },
  { table: 'user_answers', key: 'id', json: [{ column: 'selected_options', shape: 'string-array' }], values: [{ column: 'confidence', range: [1, 5] }] },
  { table: 'user_progress', key: 'id', json: [{ column: 'weak_areas', shape: 'object-array' }, { column: 'strong_areas', shape: 'string-array' }], values: [] },
  { table: 'feedback', key: 'id', json: [], values: [{ column: 'type', values: ['error', 'improvement', 'general'] }, { column: 'status', values: ['pending', 'reviewed', 'resolved'] }] },
];

const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
const OPEN_INTERVIEW: TableSpec[] = [
  {
    table: 'questions',
    key: 'id',
    group: 'channel',
    json: shapes({
      tags: 'string-array', companies: 'string-array', videos: 'string-map', voice_keywords: 'string-array',
      job_title_relevance: 'number-map', experience_level_tags: 'string-array', relevance_details: 'any',
    }),
    values: [{ column: 'difficulty', values: LEVELS }, { column: 'status', values: ['active', 'flagged', 'deleted'] }, { column: 'relevance_score', range: [0, 100] }, { column: 'voice_suitable', range: [0, 1] }],
  },
  {
    table: 'certifications',
    key: 'id',
    json: shapes({ domains: ['object-array', 'name', 'weight'], channel_mappings: 'array', tags: 'string-array', prerequisites: 'string-array' }),
    values: [{ column: 'difficulty', values: [...LEVELS, 'expert'] }, { column: 'status', values: ['active', 'draft', 'archived'] }, { column: 'passing_score', range: [0, 100] }],
  },
  {
    table: 'learning_paths',
    key: 'id',
    json: shapes({
      question_ids: 'string-array', channels: 'string-array', tags: 'string-array', prerequisites: 'string-array',
      learning_objectives: 'string-array', milestones: ['object-array', 'id', 'title'], metadata: 'object',
    }),
    values: [{ column: 'difficulty', values: LEVELS }, { column: 'path_type', values: ['company', 'job-title', 'skill', 'certification'] }, { column: 'status', values: ['active', 'draft', 'archived'] }],
  },
  { table: 'voice_sessions', key: 'id', group: 'channel', json: [{ column: 'question_ids', shape: 'string-array' }], values: [{ column: 'difficulty', values: LEVELS }] },
  {
    table: 'work_queue',
    key: 'id',
    json: [],
    values: [{ column: 'item_type', values: ['question', 'challenge', 'test', 'blog'] }, { column: 'action', values: ['improve', 'delete', 'verify', 'enrich'] }, { column: 'status', values: ['pending', 'processing', 'completed', 'failed'] }, { column: 'priority', range: [1, 10] }],
  },
  { table: 'bot_ledger', key: 'id', json: [{ column: 'before_state', shape: 'any' }, { column: 'after_state', shape: 'any' }], values: [{ column: 'action', values: ['create', 'update', 'delete', 'verify', 'flag'] }] },
  { table: 'bot_runs', key: 'id', json: [{ column: 'summary', shape: 'any' }], values: [{ column: 'status', values: ['running', 'completed', 'failed'] }] },
  { table: 'question_relationships', key: 'id', json: [], values: [{ column: 'relationship_type', values: ['prerequisite', 'follow_up', 'related', 'deeper_dive'] }, { column: 'strength', range: [0, 100] }] },
  {
    table: 'question_history',
    key: 'id',
    json: [{ column: 'changed_fields', shape: 'string-array' }, { column: 'before_snapshot', shape: 'any' }, { column: 'after_snapshot', shape: 'any' }, { column: 'metadata', shape: 'any' }],
    values: [{ column: 'question_type', values: ['question', 'test', 'coding'] }, { column: 'event_source', values: ['bot', 'user', 'system', 'import'] }],
  },
  {
    table: 'user_sessions',
    key: 'id',
    json: [{ column: 'session_data', shape: 'any' }],
    values: [{ column: 'session_type', values: ['test', 'voice-interview', 'certification', 'channel'] }, { column: 'status', values: ['active', 'completed', 'abandoned'] }, { column: 'progress', range: [0, 100] }],
  },
];

export function tableSpecs(system: SystemName): TableSpec[] {
  return system === 'pingtopass' ? PINGTOPASS : OPEN_INTERVIEW;
}

type Row = Record<string, unknown>;

export function rowRules(spec: TableSpec, row: Row, group: string | null, enabled: { json: boolean; values: boolean }): RawFinding[] {
  const found: RawFinding[] = [];
  const id = row[spec.key] === null || row[spec.key] === undefined ? null : String(row[spec.key]);
  const at = (rule: RawFinding['rule'], message: string): RawFinding => ({ rule, table: spec.table, id, group, message, related: [] });
  if (enabled.json) {
    for (const column of spec.json) {
      const problem = describeJsonProblem(row[column.column], column);
      if (problem) found.push(at('invalid-json', `${column.column}: ${problem}`));
    }
  }
  if (enabled.values) {
    for (const column of spec.values) {
      const problem = describeValueProblem(row[column.column], column);
      if (problem) found.push(at('invalid-value', `${column.column}: ${problem}`));
    }
  }
  return found;
}

export function describeValueProblem(value: unknown, column: ValueColumn): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (column.values && !column.values.includes(String(value))) return `"${String(value)}" is not one of ${column.values.join(', ')}`;
  if (column.range) {
    const n = Number(value);
    if (typeof value === 'string' && value.trim() === '') return 'an empty string where a number belongs';
    if (!Number.isInteger(n) || n < column.range[0] || n > column.range[1]) return `${String(value)} is outside ${column.range[0]}-${column.range[1]}`;
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function describeJsonProblem(value: unknown, column: JsonColumn): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') return `a ${typeof value} where JSON text belongs`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return `does not parse (${(error as Error).message})`;
  }
  switch (column.shape) {
    case 'any':
      return undefined;
    case 'object':
      return isObject(parsed) ? undefined : 'expected a JSON object';
    case 'array':
      return Array.isArray(parsed) ? undefined : 'expected a JSON array';
    case 'string-array':
      if (!Array.isArray(parsed)) return 'expected a JSON array of strings';
      return parsed.every((item) => typeof item === 'string') ? undefined : 'expected a JSON array of strings; it holds other values';
    case 'object-array': {
      if (!Array.isArray(parsed) || !parsed.every(isObject)) return 'expected a JSON array of objects';
      const missing = (column.keys ?? []).filter((key) => parsed.some((item) => !(key in item)));
      return missing.length === 0 ? undefined : `an element lacks ${missing.join(', ')}`;
    }
    case 'string-map':
      if (!isObject(parsed)) return 'expected a JSON object';
      // The system writes absent links as null: {"shortVideo": null, "longVideo": null}.
      return Object.values(parsed).every((item) => typeof item === 'string' || item === null) ? undefined : 'expected string values';
    case 'number-map':
      if (!isObject(parsed)) return 'expected a JSON object';
      return Object.values(parsed).every((item) => typeof item === 'number') ? undefined : 'expected number values';
  }
}

/** The canonical text of a JSON column that parses: what `--fix` would write. Undefined when it is already canonical or does not parse. */
export function canonicalJson(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const canonical = JSON.stringify(JSON.parse(value));
    return canonical === value ? undefined : canonical;
  } catch {
    return undefined;
  }
}
