import type { InValue } from '@libsql/client';
import type { SystemName } from '../../config.js';
import { QbankError } from '../../errors.js';
import type { ExportKind } from './tables.js';

/** What an export may be narrowed to. Every filter is a condition of the one SQL query. */
export interface ExportFilters {
  /** PingToPass exam codes (questions of these exams; or these exams). */
  exams?: string[];
  reviewStatus?: 'pending' | 'approved' | 'rejected';
  /** Only active questions (PingToPass) or exams. */
  active?: boolean;
  /** Updated at or after this time. */
  since?: Date;
  /** Question (or certification, or exam) ids. */
  ids?: string[];
  channels?: string[];
  subChannels?: string[];
  status?: string;
}

export type FilterName = keyof ExportFilters;

/** A filter that means nothing for what is exported (a channel for PingToPass, say). */
export class InapplicableFilterError extends QbankError {
  constructor(
    readonly filter: FilterName,
    readonly system: SystemName,
    readonly kind: ExportKind,
  ) {
    super(`${system} ${kind} cannot be filtered by ${filter}`);
  }
}

const APPLICABLE: Record<string, FilterName[]> = {
  'pingtopass questions': ['exams', 'reviewStatus', 'active', 'since', 'ids'],
  'pingtopass exams': ['exams', 'active', 'since', 'ids'],
  'open-interview questions': ['channels', 'subChannels', 'status', 'since', 'ids'],
  'open-interview certifications': ['status', 'since', 'ids'],
};

export interface WhereClause {
  where: string[];
  args: InValue[];
}

const jsonList = (values: string[]) => JSON.stringify(values);

/** The conditions (on the aliases of `tables.ts`: `q`, `e`, `t`) the filters become; index-backed where the schema has one. */
export function whereOf(system: SystemName, kind: ExportKind, filters: ExportFilters): WhereClause {
  const applicable = APPLICABLE[`${system} ${kind}`] ?? [];
  for (const [name, value] of Object.entries(filters) as Array<[FilterName, unknown]>) {
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) continue;
    if (!applicable.includes(name)) throw new InapplicableFilterError(name, system, kind);
  }
  const where: string[] = [];
  const args: InValue[] = [];
  const add = (condition: string, ...values: InValue[]) => {
    where.push(condition);
    args.push(...values);
  };
  const table = system === 'pingtopass' && kind === 'questions' ? 'q' : 't';
  if (filters.exams?.length) {
    // questions_exam_idx (exam_id); exams_code_idx for the codes
    if (kind === 'questions') add(`q.exam_id IN (SELECT id FROM exams WHERE code IN (SELECT value FROM json_each(?)))`, jsonList(filters.exams));
    else add(`t.code IN (SELECT value FROM json_each(?))`, jsonList(filters.exams));
  }
  if (filters.reviewStatus) add('q.review_status = ?', filters.reviewStatus);
  if (filters.active) add(`${table}.is_active = 1`);
  if (filters.ids?.length) add(`${table}.id IN (SELECT value FROM json_each(?))`, jsonList(filters.ids));
  if (filters.channels?.length) add('t.channel IN (SELECT value FROM json_each(?))', jsonList(filters.channels));
  if (filters.subChannels?.length) add('t.sub_channel IN (SELECT value FROM json_each(?))', jsonList(filters.subChannels));
  if (filters.status) add('t.status = ?', filters.status);
  if (filters.since) {
    // PingToPass keeps unix seconds; open-interview ISO text in either of the forms it writes
    if (system === 'pingtopass') add(`${table}.updated_at >= ?`, Math.floor(filters.since.getTime() / 1000));
    else add('datetime(coalesce(t.last_updated, t.created_at)) >= datetime(?)', filters.since.toISOString());
  }
  return { where, args };
}
