import type { InValue } from '@libsql/client';
import type { Problem } from './problems.js';
import type { ColumnMap, SourceRecord } from './records.js';

/**
 * The pure half of an import: turning records into validated rows and rows into SQL statements.
 * Nothing here touches a database, so it runs in a worker thread beside the thread that writes.
 */

export type Statement = string | { sql: string; args: InValue[] };

export interface Validated<Row> {
  row: Row;
  group: string;
  /**
   * Keys no two rows of a file may share, with what to say when two do (`first` is "line 12", or
   * "record 3" in JSON). A `warnOnly` key that repeats is reported and the row imported.
   */
  keys: Array<{
    key: readonly string[];
    /** The key's last part, fingerprinted already (three words, `fingerprintText`); read before the next record is validated. */
    hashed?: Int32Array;
    field: string;
    warnOnly?: boolean;
    message: (first: string) => string;
  }>;
}

/**
 * Rows of a re-import that change nothing, as the parsing worker lists them instead of staging
 * them: the record's number (`seq`), its line, the stored question it matches (an index into the
 * store) and whether by id, four numbers a row; and how many there are per exam code.
 */
export interface KeptRows {
  rows: Int32Array;
  counts: Array<[string, number]>;
}

/** Counts an encoder knows without the database (rows going straight into an empty table). */
export type EncoderCounts = Array<{ group: string; outcome: 'created'; count: number }>;

export interface RowEncoder<Row = unknown> {
  readonly columns: ColumnMap;
  validate(record: SourceRecord): Validated<Row> | Problem[];
  /** The group a rejected record counts under. */
  groupOfRejected(record: SourceRecord): string;
  /** Statements to run for the row, or the row itself for targets that compare rows in JavaScript. */
  encode(row: Row, record: SourceRecord): Statement[] | { row: Row };
  /** Statements for what is still buffered. */
  flush(): Statement[];
  counts(): EncoderCounts;
  /** Rows that change nothing, listed instead of staged (PingToPass questions). */
  kept?(): KeptRows | undefined;
  /**
   * Into an empty table (PingToPass questions): which created rows had no id and got one drawn, as
   * [from, to) ranges of their order of creation; the ids themselves are read back once written.
   */
  assigned?(): number[] | undefined;
}

/** Gathers rows into statements: tuples of bound values (RowPacker) or one JSON argument (JsonRowPacker). */
export interface Packer {
  /** Adds one row's values; returns the statement to send when the batch is full. */
  add(values: InValue[], bytes: number): Statement | undefined;
  take(): Statement | undefined;
}

/**
 * Builds multi-row statements of one fixed tuple shape, `prefix` + tuples + `suffix`. Every full
 * batch has the same text, which the `file:` runner prepares once; the shape stays below SQLite's
 * limit of 32,766 bound values.
 */
export class RowPacker implements Packer {
  private args: InValue[] = [];
  private rows = 0;
  private bytes = 0;
  private readonly fullSql: string;

  constructor(
    private readonly prefix: string,
    private readonly tuple: string,
    private readonly suffix = '',
    private readonly maxRows = 500,
    private readonly maxBytes = 2 << 20,
  ) {
    const perRow = tuple.split('?').length - 1;
    this.maxRows = Math.max(1, Math.min(maxRows, Math.floor(32_000 / Math.max(1, perRow))));
    this.fullSql = this.sqlFor(this.maxRows);
  }

  private sqlFor(rows: number): string {
    return this.prefix + new Array(rows).fill(this.tuple).join(',') + this.suffix;
  }

  /** Adds one row's values; returns the statement to send when the batch is full. */
  add(args: InValue[], bytes: number): Statement | undefined {
    for (const arg of args) this.args.push(arg);
    this.rows++;
    this.bytes += bytes;
    return this.rows >= this.maxRows || this.bytes >= this.maxBytes ? this.take() : undefined;
  }

  get size(): number {
    return this.rows;
  }

  take(): Statement | undefined {
    if (this.rows === 0) return undefined;
    const statement = { sql: this.rows === this.maxRows ? this.fullSql : this.sqlFor(this.rows), args: this.args };
    this.args = [];
    this.rows = 0;
    this.bytes = 0;
    return statement;
  }
}

/**
 * Builds statements that take many small rows as one JSON argument (`sql` reads them with
 * json_each): a row costs its JSON, about 60 bytes, where bound values cost their Hrana encoding
 * (some 40 bytes each over HTTP) and a tuple of placeholders in the statement's text.
 * `context` is a second argument, read by `sql` too (the small values rows refer to by index).
 */
export class JsonRowPacker implements Packer {
  private rows: unknown[][] = [];
  private bytes = 0;

  constructor(
    private readonly sql: string,
    private readonly context?: () => string,
    private readonly maxRows = 5_000,
    private readonly maxBytes = 256 << 10,
  ) {}

  add(row: unknown[], bytes: number): Statement | undefined {
    this.rows.push(row);
    this.bytes += bytes;
    return this.rows.length >= this.maxRows || this.bytes >= this.maxBytes ? this.take() : undefined;
  }

  take(): Statement | undefined {
    if (this.rows.length === 0) return undefined;
    const rows = JSON.stringify(this.rows);
    const statement = { sql: this.sql, args: this.context ? [rows, this.context()] : [rows] };
    this.rows = [];
    this.bytes = 0;
    return statement;
  }
}

/** The first `count` values of each JSON row `r`, as the SELECT list that reads them. */
export function jsonColumns(count: number): string {
  return Array.from({ length: count }, (_, at) => `r.value ->> ${at}`).join(', ');
}

/** Characters of text in statements: what a batch weighs on the wire. */
export function statementBytes(statements: Statement[]): number {
  let bytes = 0;
  for (const statement of statements) {
    if (typeof statement === 'string') {
      bytes += statement.length;
      continue;
    }
    bytes += statement.sql.length;
    for (const arg of statement.args) bytes += typeof arg === 'string' ? arg.length : 8;
  }
  return bytes;
}
