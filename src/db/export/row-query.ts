import type { InValue } from '@libsql/client';

/** One export's query: what it selects, from where, under which conditions, in the order of a unique key. */
export interface RowQuery {
  select: string[];
  from: string;
  where: string[];
  args: InValue[];
  key: string;
  keyIndex: number;
  /** A cheaper `select` for a `file:` read, whose rows are right as long as `settle` says so. */
  quick?: QuickSelect;
}

/**
 * A SELECT list that reads the same rows for less work when the data allows (PingToPass options in
 * the index's order instead of sorted per question), and the test that tells, row by row.
 */
export interface QuickSelect {
  select: string[];
  /** True when the row read through `select` is as `RowQuery.select` would read it (the row may be brought into that form). */
  settle(row: unknown[]): boolean;
}

/** The query's SELECT in key order, with more conditions (a page's or a block's bounds) and a tail (LIMIT). */
export function sqlOf(query: RowQuery, extraWhere: string[] = [], tail = ''): string {
  const where = [...query.where, ...extraWhere];
  return `SELECT ${query.select.join(', ')} FROM ${query.from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${query.key}${tail}`;
}
