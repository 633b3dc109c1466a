// The Hrana JSON shapes this server reads and writes, and the decoding of requests into queries.
import { deserializeError, ProtocolError, StmtError } from './errors.js';
import { analyzeSql, type SqlStatement } from './sql-analysis.js';
import { isObject, valueFromProto, type ProtoValue, type SqlValue } from './values.js';

export interface StmtResultJson {
  cols: { name: string | null; decltype: string | null }[];
  rows: ProtoValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  replication_index: string;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

export interface ErrorJson {
  message: string;
  code: string;
}

export type StreamResultJson = { type: 'ok'; response: Record<string, unknown> } | { type: 'error'; error: ErrorJson };

export interface Query {
  statement: SqlStatement;
  args: SqlValue[];
  named: Map<string, SqlValue> | null;
  wantRows: boolean;
}

export type Cond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: Cond }
  | { type: 'and' | 'or'; conds: Cond[] }
  | { type: 'is_autocommit' };

export type Access = 'rw' | 'ro';

export function resolveSql(sql: unknown, sqlId: unknown, sqls: Map<number, string>): string {
  const hasSql = typeof sql === 'string';
  const hasId = typeof sqlId === 'number';
  if (hasSql && hasId) throw new ProtocolError('Either `sql` or `sql_id` are required, but not both');
  if (hasSql) return sql;
  if (!hasId) throw new ProtocolError('Either `sql` or `sql_id` are required');
  const stored = sqls.get(sqlId);
  if (stored === undefined) throw new ProtocolError(`SQL text ${sqlId} not found`);
  return stored;
}

export function singleStatement(sql: string): SqlStatement {
  const statements = analyzeSql(sql);
  if (statements.length === 0) throw new StmtError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
  if (statements.length > 1) throw new StmtError('SQL string contains more than one statement', 'SQL_MANY_STATEMENTS');
  return statements[0]!;
}

export function toQuery(stmt: unknown, sqls: Map<number, string>): Query {
  if (!isObject(stmt)) throw deserializeError('stmt must be an object');
  const statement = singleStatement(resolveSql(stmt.sql, stmt.sql_id, sqls));
  const args = stmt.args ?? [];
  const namedArgs = stmt.named_args ?? [];
  if (!Array.isArray(args) || !Array.isArray(namedArgs)) throw deserializeError('args and named_args must be arrays');
  if (args.length > 0 && namedArgs.length > 0) {
    throw new StmtError('Specifying both positional and named arguments is not supported', 'ARGS_BOTH_POSITIONAL_AND_NAMED');
  }
  let named: Map<string, SqlValue> | null = null;
  if (namedArgs.length > 0) {
    named = new Map();
    for (const arg of namedArgs) {
      if (!isObject(arg) || typeof arg.name !== 'string') throw deserializeError('a named argument needs a name');
      named.set(arg.name, valueFromProto(arg.value));
    }
  }
  const wantRows = stmt.want_rows ?? true;
  if (typeof wantRows !== 'boolean') throw deserializeError('want_rows must be a boolean');
  return { statement, args: args.map(valueFromProto), named, wantRows };
}

/** Binds like sqld: `?N` and bare `?` by position, names with or without their prefix; all must be given. */
export function bindValues(query: Query): SqlValue[] {
  const { statement, args, named } = query;
  const params = statement.params;
  const given = named?.size ?? args.length;
  if (given > params.length) {
    throw new StmtError(`Arguments do not match SQL parameters: too many parameters, expected ${params.length} found ${given}`, 'ARGS_INVALID');
  }
  const values: SqlValue[] = new Array<SqlValue>(params.length).fill(null);
  for (let i = 0; i < params.length; i++) {
    const name = params[i]!;
    let found = false;
    if (name === null || name.startsWith('?')) {
      const position = name === null ? i : Number(name.slice(1)) - 1;
      if (named === null && position < args.length) {
        values[i] = args[position]!;
        found = true;
      }
    } else if (named !== null) {
      const key = named.has(name) ? name : named.has(name.slice(1)) ? name.slice(1) : undefined;
      if (key !== undefined) {
        values[i] = named.get(key)!;
        found = true;
      }
    }
    if (!found) {
      if (statement.isExplain) break;
      throw new StmtError(`Arguments do not match SQL parameters: value for parameter ${name ?? i + 1} not found`, 'ARGS_INVALID');
    }
  }
  return values;
}

export function toCond(cond: unknown, stepIndex: number, version: 2 | 3): Cond {
  if (!isObject(cond)) throw deserializeError('a condition must be an object');
  switch (cond.type) {
    case 'ok':
    case 'error':
      if (typeof cond.step !== 'number' || !Number.isInteger(cond.step) || cond.step < 0 || cond.step >= stepIndex) {
        throw new ProtocolError('Invalid reference to step in a batch condition');
      }
      return { type: cond.type, step: cond.step };
    case 'not':
      return { type: 'not', cond: toCond(cond.cond, stepIndex, version) };
    case 'and':
    case 'or':
      if (!Array.isArray(cond.conds)) throw deserializeError('conds must be an array');
      return { type: cond.type, conds: cond.conds.map((inner: unknown) => toCond(inner, stepIndex, version)) };
    case 'is_autocommit':
      if (version < 3) {
        throw new ProtocolError('BatchCond of type `is_autocommit` is only supported in protocol version hrana3 and higher');
      }
      return { type: 'is_autocommit' };
    default:
      throw new ProtocolError('BatchCond type not recognized');
  }
}

/** As in sqld, a skipped step counts as failed for `ok` and `error` alike. */
export function evalCond(cond: Cond, outcomes: boolean[], autocommit: boolean): boolean {
  switch (cond.type) {
    case 'ok':
      return outcomes[cond.step]!;
    case 'error':
      return !outcomes[cond.step]!;
    case 'not':
      return !evalCond(cond.cond, outcomes, autocommit);
    case 'and':
      return cond.conds.every((inner) => evalCond(inner, outcomes, autocommit));
    case 'or':
      return cond.conds.some((inner) => evalCond(inner, outcomes, autocommit));
    case 'is_autocommit':
      return autocommit;
  }
}

export interface BatchStep {
  query: Query;
  cond: Cond | null;
}

export function toBatchSteps(batch: unknown, sqls: Map<number, string>, version: 2 | 3): BatchStep[] {
  if (!isObject(batch) || !Array.isArray(batch.steps)) throw deserializeError('batch needs steps');
  return batch.steps.map((step: unknown, index) => {
    if (!isObject(step)) throw deserializeError('a batch step must be an object');
    const cond = step.condition === undefined || step.condition === null ? null : toCond(step.condition, index, version);
    return { query: toQuery(step.stmt, sqls), cond };
  });
}
