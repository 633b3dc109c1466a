import type { SystemName } from '../../config.js';
import type { FieldKind } from '../import/fields.js';
import { OPEN_INTERVIEW_CERTIFICATION_COLUMNS, OPEN_INTERVIEW_QUESTION_COLUMNS, PINGTOPASS_EXAM_COLUMNS, PINGTOPASS_QUESTION_COLUMNS } from '../import/columns.js';
import type { ColumnSpec } from '../import/records.js';
import { jsonHeldValue } from '../client.js';
import { pivotOptions, settleOptions, type OptionPivot } from './option-pivot.js';
import type { QuickSelect } from './row-query.js';

export { OPTION_LETTERS } from './option-pivot.js';

/**
 * What each export reads and writes. The columns are the import's own (`ColumnSpec`s of
 * `src/db/import`, listed in columns.ts), so an exported file imports without editing; only the
 * SQL that reads each column lives here.
 */

export type ExportKind = 'questions' | 'exams' | 'certifications';

/** How a value is written: text as it is, numbers as digits, lists and JSON as the JSON text stored. */
export type ValueKind = 'text' | 'int' | 'number' | 'bool' | 'list' | 'json';

export interface ExportColumn {
  /** The import's column name (snake_case): the CSV header and the JSON key. */
  name: string;
  kind: ValueKind;
  /** The key in the open-interview system's own data files (camelCase). */
  dataKey: string;
  /** JSON formats: a text of this column is read already written as JSON (see withJsonQuotedTexts). */
  jsonQuoted?: boolean;
}

export interface ExportTable {
  system: SystemName;
  kind: ExportKind;
  columns: ExportColumn[];
  /** SQL expressions read per record, in order. */
  select: string[];
  /** FROM clause with its joins. */
  from: string;
  /** The unique key the rows are ordered and paged by, and its position in `select`. */
  key: string;
  keyIndex: number;
  /** What the summary counts rows by ("exam", "channel", …) and its position in the output values. */
  groupLabel: string;
  groupIndex: number;
  /** PingToPass questions: how the options read become `option_a…option_f` and `correct` (the data of `toValues`). */
  pivot?: OptionPivot;
  /** A cheaper `select` for `file:` reads, and the test each of its rows must pass. */
  quick?: QuickSelect;
  /** One row as read (values of `select`) to the values of `columns`. */
  toValues(row: unknown[]): unknown[];
}

const KIND_OF_FIELD: Record<FieldKind, ValueKind> = {
  text: 'text',
  enum: 'text',
  timestamp: 'text',
  raw: 'text',
  int: 'int',
  number: 'number',
  bool: 'bool',
  list: 'list',
  json: 'json',
};

const camelCase = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function columnsOf(specs: ColumnSpec[]): ExportColumn[] {
  return specs.map((spec) => ({ name: spec.name, kind: KIND_OF_FIELD[spec.kind ?? 'raw'], dataKey: camelCase(spec.name) }));
}

const identity = (row: unknown[]) => row;

function plainTable(system: SystemName, kind: ExportKind, table: string, specs: ColumnSpec[], key: string, groupColumn: string, groupLabel: string): ExportTable {
  const columns = columnsOf(specs);
  const select = columns.map((column) => `t.${column.name}`);
  return {
    system,
    kind,
    columns,
    select,
    from: `${table} AS t`,
    key: `t.${key}`,
    keyIndex: columns.findIndex((column) => column.name === key),
    groupLabel,
    groupIndex: columns.findIndex((column) => column.name === groupColumn),
    toValues: identity,
  };
}

/**
 * PingToPass questions: one row per question, its answer options pivoted into `option_a…option_f`
 * (in their order, then id, as the import compares them) and `correct` as the letters of the
 * correct ones. The options come as one JSON array per question from a subquery on the
 * (question_id, order) index.
 *
 * Sorting each question's options (`ORDER BY` in the aggregate) is a quarter of the read; a
 * `file:` read takes them as the index gives them, with their order, and keeps that while the
 * orders strictly increase (then it is the sorted list). A question with two options of one order
 * switches the read to the sorted subquery (`readRows`).
 */
function pingToPassQuestions(jsonTexts: boolean): ExportTable {
  const columns = columnsOf(PINGTOPASS_QUESTION_COLUMNS.filter((spec) => spec.name !== 'options')).map((column) =>
    jsonTexts && column.name.startsWith('option_') ? { ...column, jsonQuoted: true } : column,
  );
  const optionsAt = columns.findIndex((column) => column.name === 'option_a');
  const correctAt = columns.findIndex((column) => column.name === 'correct');
  const sqlOf: Record<string, string> = { exam_code: 'e.code' };
  const plain = columns.filter((column) => !column.name.startsWith('option_') && column.name !== 'correct');
  const fields = plain.map((column) => sqlOf[column.name] ?? `q.${column.name}`);
  // `|| ''` drops json_quote's JSON subtype, with which json_array would take the text as JSON
  // a text another writer stored as a blob comes as {"$blob": HEX} (JSON holds no blob) and is written as base64, like a blob column
  const text = jsonTexts ? `iif(typeof(o.text) = 'text', json_quote(o.text) || '', ${jsonHeldValue('o.text')})` : jsonHeldValue('o.text');
  const select = [...fields, `(SELECT json_group_array(json_array(${text}, o.is_correct) ORDER BY o."order", o.id) FROM answer_options AS o WHERE o.question_id = q.id)`];
  const quickSelect = [...fields, `(SELECT json_group_array(json_array(${text}, o.is_correct, o."order")) FROM answer_options AS o WHERE o.question_id = q.id)`];
  const pivot: OptionPivot = { positions: columns.map((column) => plain.indexOf(column)), optionsAt, correctAt };
  return {
    system: 'pingtopass',
    kind: 'questions',
    columns,
    select,
    from: 'questions AS q JOIN exams AS e ON e.id = q.exam_id',
    key: 'q.id',
    keyIndex: 0,
    groupLabel: 'exam',
    groupIndex: columns.findIndex((column) => column.name === 'exam_code'),
    pivot,
    quick: { select: quickSelect, settle: settleOptions },
    toValues: pivotOptions(pivot),
  };
}

const quotedText = (sql: string) => `iif(typeof(${sql}) = 'text', json_quote(${sql}), ${sql})`;

/**
 * The table read for a JSON format: its text columns (but the key and the group, which the reader
 * and the summary use) come as JSON strings from SQLite's json_quote, which writes every text
 * SQLite can hold exactly as JSON.stringify does (texts are UTF-8 there: no lone surrogates) and
 * costs a third of stringifying in JavaScript (200,000 questions to JSON Lines: 3.2 -> 2.x s).
 * A value that is not text (an integer in a text column) is read as it is and written by the writer.
 */
function withJsonQuotedTexts(table: ExportTable): ExportTable {
  const positions = table.pivot?.positions ?? table.columns.map((_, index) => index);
  const quoted = new Set<number>();
  const columns = table.columns.map((column, index) => {
    const at = positions[index];
    if (column.kind !== 'text' || at < 0 || at === table.keyIndex || index === table.groupIndex) return column;
    quoted.add(at);
    return { ...column, jsonQuoted: true };
  });
  const quote = (select: string[]) => select.map((sql, at) => (quoted.has(at) ? quotedText(sql) : sql));
  return { ...table, columns, select: quote(table.select), quick: table.quick && { ...table.quick, select: quote(table.quick.select) } };
}

/** `jsonTexts`: for a JSON format, texts read as JSON strings (see withJsonQuotedTexts). */
export function exportTable(system: SystemName, kind: ExportKind, options: { jsonTexts?: boolean } = {}): ExportTable | undefined {
  const table = plainExportTable(system, kind, Boolean(options.jsonTexts));
  return table && options.jsonTexts ? withJsonQuotedTexts(table) : table;
}

function plainExportTable(system: SystemName, kind: ExportKind, jsonTexts: boolean): ExportTable | undefined {
  if (system === 'pingtopass') {
    if (kind === 'questions') return pingToPassQuestions(jsonTexts);
    if (kind === 'exams') return plainTable(system, kind, 'exams', PINGTOPASS_EXAM_COLUMNS, 'code', 'vendor', 'vendor');
    return undefined;
  }
  if (kind === 'questions') return plainTable(system, kind, 'questions', OPEN_INTERVIEW_QUESTION_COLUMNS, 'id', 'channel', 'channel');
  if (kind === 'certifications') return plainTable(system, kind, 'certifications', OPEN_INTERVIEW_CERTIFICATION_COLUMNS, 'id', 'provider', 'provider');
  return undefined;
}
