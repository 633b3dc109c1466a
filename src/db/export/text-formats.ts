import type { ExportColumn, ValueKind } from './tables.js';

/**
 * How exported values are written, so that the import reads back exactly what is stored:
 * - NULL is an empty CSV cell and a JSON `null` (both mean "no value" to the import);
 * - text is written as it is, every byte (spaces, line breaks, tabs, emoji); CSV quotes a cell with
 *   a quote, comma, line break or surrounding whitespace. An empty text and NULL are one empty cell
 *   in CSV (the import reads both as NULL); JSON keeps them apart (`""`, `null`);
 * - lists and JSON columns are the JSON text the database holds: `[]` stays an empty list, NULL an
 *   empty cell (the import's rule for lists);
 * - integers as their digits (exact beyond 2^53), booleans as true/false.
 */

/** The writers of the text formats (CSV, JSON, JSON Lines), apart from the other formats. */
export interface TextRecordWriter {
  /** Text before the first record. */
  start(): string;
  record(values: unknown[], first: boolean): string;
  /** Text after the last record. */
  end(): string;
}

/** A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection). */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/**
 * `--excel`: a cell a spreadsheet would run as a formula gets one apostrophe in front. A cell that
 * already starts with apostrophes before such a character gets one more, so `import --excel`,
 * which removes one apostrophe from every cell matching /^'+[=+\-@\t\r]/, gives back every cell
 * exactly.
 */
export function excelSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

function booleanOf(value: unknown): boolean {
  return typeof value === 'bigint' ? value !== 0n : Boolean(Number(value));
}

/** A blob (the native driver reads a Uint8Array, the remote client an ArrayBuffer) as base64. */
function base64(blob: Uint8Array | ArrayBuffer): string {
  return (blob instanceof ArrayBuffer ? Buffer.from(blob) : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)).toString('base64');
}

/** The cell text of a value: what the import turns back into the stored value. */
export function cellText(value: unknown, kind: ValueKind): string {
  if (value === null || value === undefined) return '';
  if (kind === 'bool') return booleanOf(value) ? 'true' : 'false';
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return base64(value);
  return String(value);
}

const QUOTE_CHARACTERS = /[",\r\n]/;

/** What `\s` matches in a regular expression, for one code unit: checking a cell's two ends is cheaper than a regex over it. */
function isSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** A cell is quoted when it holds a quote, comma or line break, or starts or ends with whitespace. */
function csvField(text: string): string {
  const quoted = QUOTE_CHARACTERS.test(text) || (text.length > 0 && (isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1))));
  return quoted ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvWriter(columns: ExportColumn[], options: { excel: boolean }): TextRecordWriter {
  const eol = options.excel ? '\r\n' : '\n';
  const cell = options.excel ? (text: string) => csvField(excelSafe(text)) : csvField;
  const kinds = columns.map((column) => column.kind);
  return {
    start: () => (options.excel ? '\uFEFF' : '') + columns.map((column) => cell(column.name)).join(',') + eol,
    record(values) {
      let line = '';
      for (let i = 0; i < kinds.length; i++) line += (i === 0 ? '' : ',') + cell(cellText(values[i], kinds[i]));
      return line + eol;
    },
    end: () => '',
  };
}

/**
 * A list or JSON column as JSON: the stored text itself when it is valid JSON on one line (so
 * integers beyond 2^53 in it stay exact), else re-serialised; text that is not JSON stays a string.
 */
function embeddedJson(value: unknown): string {
  const text = String(value);
  try {
    const parsed: unknown = JSON.parse(text);
    return /[\r\n]/.test(text) ? JSON.stringify(parsed) : text.trim();
  } catch {
    return JSON.stringify(text);
  }
}

export function jsonValue(value: unknown, kind: ValueKind): string {
  if (value === null || value === undefined) return 'null';
  switch (kind) {
    case 'bool':
      return booleanOf(value) ? 'true' : 'false';
    case 'int':
    case 'number':
      if (typeof value === 'bigint') return value.toString();
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'list':
    case 'json':
      return embeddedJson(value);
    default:
      return JSON.stringify(value instanceof Uint8Array || value instanceof ArrayBuffer ? base64(value) : String(value));
  }
}

/** Writes one JSON object a record, keyed by each column's name; the keys are serialised once. */
function jsonObjectWriter(columns: ExportColumn[]): (values: unknown[]) => string {
  const prefixes = columns.map((column, i) => (i === 0 ? '{' : ',') + JSON.stringify(column.name) + ':');
  const kinds = columns.map((column) => column.kind);
  const quoted = columns.map((column) => column.jsonQuoted === true);
  return (values) => {
    let text = '';
    for (let i = 0; i < prefixes.length; i++) {
      const value = values[i];
      text += prefixes[i] + (quoted[i] && typeof value === 'string' ? value : jsonValue(value, kinds[i]));
    }
    return text + '}';
  };
}

/** `.json`: an array with one record a line; `.jsonl`: one record a line. */
export function jsonWriter(columns: ExportColumn[], lines: boolean): TextRecordWriter {
  const object = jsonObjectWriter(columns);
  if (lines) return { start: () => '', record: (values) => object(values) + '\n', end: () => '' };
  let any = false;
  return {
    start: () => '[',
    record(values, first) {
      any = true;
      return (first ? '\n' : ',\n') + object(values);
    },
    end: () => (any ? '\n]\n' : ']\n'),
  };
}
