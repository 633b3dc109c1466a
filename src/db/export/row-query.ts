import type { InValue } from '@libsql/client';

/** One export's query: what it selects, from where, under which conditions, in the order of a unique key. */
export interface RowQuery {
  select: string[];
  from: string;
  where: string[];
  args: InValue[];
  key: string;
  keyIndex: number;
}

/** The query's SELECT in key order, with more conditions (a page's or a block's bounds) and a tail (LIMIT). */
export function sqlOf(query: RowQuery, extraWhere: string[] = [], tail = ''): string {
  const where = [...query.where, ...extraWhere];
  return `SELECT ${query.select.join(', ')} FROM ${query.from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${query.key}${tail}`;
}
