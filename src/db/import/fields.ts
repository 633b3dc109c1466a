import { z } from 'zod';
import type { Problem } from './problems.js';
import type { FieldKind, SourceRecord } from './records.js';

/**
 * Cells become typed values in two steps. `coerceRecord` does what a spreadsheet needs (an empty
 * cell = absent, "3" = 3, "yes" = true, `a;b` = a list, JSON text = JSON) in one plain pass; then
 * a zod object checks every field's type and range and the cross-field rules. Doing the coercion
 * with zod's per-field preprocess and pipe steps cost three times as much for a 200,000-row file.
 * Messages are written to follow the field name: `difficulty: must be a whole number from 1 to 5`.
 *
 * Text is stored as given, byte for byte: surrounding spaces and line breaks are content (a
 * diagram's trailing newline, a code block's indentation). An empty CSV cell and a JSON null are
 * absent; a JSON "" is an empty text. Lists follow one rule an export can reproduce: an empty CSV
 * cell or a JSON null is NULL, `[]` (in a cell or in JSON) is an empty list, a JSON array is kept
 * item for item, and `a;b` splits on `;` and trims around the separators. Dates are checked and
 * stored as written.
 */

export type { FieldKind } from './records.js';

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'y']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'n']);
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A valid date as the file wrote it: stored as `text`. */
export class GivenDate extends Date {
  constructor(
    date: Date,
    readonly text: string,
  ) {
    super(date.getTime());
  }

  /** What the database stores. */
  stored(): string {
    return this.text;
  }
}

/** What a timestamp field stores: the text the file gave, or ISO 8601 for a number. */
export function storedDate(date: Date): string {
  return date instanceof GivenDate ? date.stored() : date.toISOString();
}

/** Something zod reports as the field's problem instead of a type error. */
class Unusable {
  constructor(readonly message: string) {}
}

function coerceText(text: string, fromJson: boolean): string | Unusable | undefined {
  if (text.length === 0 && !fromJson) return undefined;
  // CSV text passed a strict decoder and the parser's NUL check; JSON strings can still spell them.
  if (fromJson) {
    if (text.includes('\u0000')) return new Unusable('contains a NUL character (U+0000)');
    if (LONE_SURROGATE.test(text)) return new Unusable('contains an unpaired UTF-16 surrogate');
  }
  return text;
}

function coerceList(value: unknown, fromJson: boolean): unknown {
  let items: unknown = value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.length === 0) return undefined;
    if (text.startsWith('[')) {
      try {
        items = JSON.parse(text);
      } catch {
        return new Unusable('starts with "[" but is not a JSON array');
      }
    } else {
      const parts = text.split(';');
      items = parts;
      if (parts.every((part) => part.trim().length === 0)) return undefined;
    }
  }
  if (!Array.isArray(items)) return value;
  const split = items !== value && !Array.isArray(value) && !String(value).trim().startsWith('[');
  const list: unknown[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') return new Unusable('must be a list of strings: a;b;c or ["a","b"]');
    // `a; b` is a spreadsheet's way of writing a list: its spaces are not content. A JSON array is.
    const text = split ? (item as string).trim() : String(item);
    if (split && text.length === 0) continue;
    if (!split && (text.includes('\u0000') || LONE_SURROGATE.test(text))) return new Unusable('contains a NUL character or an unpaired UTF-16 surrogate');
    list.push(text);
  }
  // An explicit empty list ([] in JSON) is kept: the systems store it as such.
  return list;
}

function coerceValue(kind: FieldKind, value: unknown, fromJson: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  switch (kind) {
    case 'text':
      if (typeof value === 'number') return String(value);
      return typeof value === 'string' ? coerceText(value, fromJson) : value;
    case 'int':
    case 'number': {
      if (typeof value !== 'string') return value;
      const text = value.trim();
      if (text.length === 0) return undefined;
      return (kind === 'int' ? INTEGER : NUMBER).test(text) ? Number(text) : value;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const word = String(value).trim().toLowerCase();
      if (word.length === 0) return undefined;
      return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : value;
    }
    case 'enum':
      if (typeof value !== 'string') return value;
      return value.trim().length === 0 ? undefined : value.trim().toLowerCase();
    case 'list':
      return coerceList(value, fromJson);
    case 'json':
      if (typeof value !== 'string') return value;
      if (value.trim().length === 0) return undefined;
      try {
        return JSON.parse(value);
      } catch {
        return new Unusable('must be JSON');
      }
    case 'timestamp': {
      if (typeof value === 'string' && value.trim().length === 0) return undefined;
      if (typeof value !== 'string' && typeof value !== 'number') return value;
      const date = typeof value === 'number' ? new Date(value < 1e11 ? value * 1000 : value) : new Date(value.trim());
      if (Number.isNaN(date.getTime())) return value;
      // a date written as text is stored as written (`2025-12-26 12:51:05` stays so); a number becomes ISO 8601
      return typeof value === 'string' ? new GivenDate(date, value) : date;
    }
    case 'raw':
      return typeof value === 'string' && value.trim().length === 0 ? undefined : value;
  }
}

/**
 * The record's values, coerced by kind; blank values are left out. Fields whose value cannot be
 * used at all (a NUL character, malformed JSON) come back as problems.
 */
export function coerceRecord(
  values: Record<string, unknown>,
  kinds: Readonly<Record<string, FieldKind>>,
  fromJson: boolean,
): { values: Record<string, unknown>; unusable?: Array<{ field: string; message: string }> } {
  const out: Record<string, unknown> = {};
  let unusable: Array<{ field: string; message: string }> | undefined;
  for (const field in values) {
    const kind = kinds[field] ?? 'raw';
    const value = coerceValue(kind, values[field], fromJson);
    if (value === undefined) continue;
    if (value instanceof Unusable) (unusable ??= []).push({ field, message: value.message });
    else out[field] = value;
  }
  return unusable ? { values: out, unusable } : { values: out };
}

/** zod's error option: "is required" when the field is absent, else `message`. */
const requiredOr = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message);

/**
 * For each field schema built here, a test that holds only when zod accepts the value as it is
 * (and returns it unchanged, or an equal copy). A record whose every value passes is valid
 * without running zod, which cost more than the rest of the import's validation together; any
 * other record goes through zod, whose issues are the problems reported.
 */
const ACCEPTS = new WeakMap<z.ZodType, (value: unknown) => boolean>();

/** `schema`, with the test under which it surely accepts a value (see ACCEPTS). */
export function accepting<T extends z.ZodType>(schema: T, accepts: (value: unknown) => boolean): T {
  ACCEPTS.set(schema, accepts);
  return schema;
}

function acceptsOf(schema: z.ZodType): (value: unknown) => boolean {
  const own = ACCEPTS.get(schema);
  if (own) return own;
  if (schema instanceof z.ZodOptional) {
    const inner = acceptsOf(schema.unwrap() as z.ZodType);
    return (value) => value === undefined || inner(value);
  }
  // a schema without a test: only absence is sure (and only where zod accepts it), else zod decides
  return () => false;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const NO_SPACE_OR_CONTROL = /^[^\s\u0000-\u001f]+$/;

export const text = () => accepting(z.string({ error: requiredOr('must be text') }).min(1, 'is required (it is empty)'), (value) => isString(value) && value.length > 0);
export const optionalText = () => accepting(z.string({ error: 'must be text' }).optional(), (value) => value === undefined || isString(value));

export const id = () =>
  accepting(
    z
      .string({ error: requiredOr('must be text') })
      .max(128, 'is longer than 128 characters')
      .regex(NO_SPACE_OR_CONTROL, 'must not contain spaces or control characters'),
    (value) => isString(value) && value.length <= 128 && NO_SPACE_OR_CONTROL.test(value),
  );

export const int = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return accepting(
    z.number({ error: requiredOr(message) }).int(message).min(min, message).max(max, message),
    (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max,
  );
};

export const number = (min: number) =>
  accepting(z.number({ error: requiredOr('must be a number') }).min(min, `must be at least ${min}`), (value) => typeof value === 'number' && Number.isFinite(value) && value >= min);

export const bool = () => accepting(z.boolean({ error: 'must be true or false (or 1/0, yes/no)' }), (value) => typeof value === 'boolean');

export const oneOf = <const T extends readonly string[]>(values: T) =>
  accepting(z.enum(values, { error: requiredOr(`must be one of ${values.join(', ')}`) }), (value) => isString(value) && values.includes(value));

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

/** A list of texts; with `max`, at most that many, else `tooMany`. */
export const list = (max?: { count: number; tooMany: string }) => {
  const schema = z.array(z.string(), { error: 'must be a list: a;b;c or ["a","b"]' });
  if (!max) return accepting(schema, isStringList);
  return accepting(schema.max(max.count, max.tooMany), (value) => isStringList(value) && value.length <= max.count);
};

/** What JSON.parse makes of an object, with no key that zod's copy would treat differently. */
const isPlainRecord = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && !Object.prototype.hasOwnProperty.call(value, '__proto__');

export const jsonObject = () => accepting(z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }), isPlainRecord);
export const jsonArray = () => accepting(z.array(z.unknown(), { error: 'must be a JSON array' }), (value) => Array.isArray(value));

const URLISH = /^(https?:\/\/\S+|\/\S*)$/i;
export const url = () => accepting(z.string({ error: 'must be text' }).regex(URLISH, 'must be an http(s) URL or a path starting with /'), (value) => isString(value) && URLISH.test(value));

export const timestamp = () =>
  accepting(z.date({ error: 'must be a date (ISO 8601, e.g. 2026-01-31T12:00:00Z)' }), (value) => value instanceof Date && !Number.isNaN(value.getTime()));

/** Where the cross-field rules of a record report a problem (zod's transform context is one). */
export interface IssueSink {
  addIssue(issue: { code: 'custom'; path: string[]; message: string }): void;
}

/**
 * A record's fields (a zod object of the builders above) and, optionally, the cross-field rules
 * that turn valid fields into a row. `zod` is the whole check as one schema: what decides and
 * words the problems of a record the quick test does not pass.
 */
export class RecordSchema<S extends z.ZodRawShape, O = z.output<z.ZodObject<S>>> {
  readonly zod: z.ZodType<O>;
  private readonly tests: Array<[string, (value: unknown) => boolean]>;
  private readonly known: Set<string>;

  constructor(
    fields: z.ZodObject<S>,
    private readonly build?: (input: z.output<z.ZodObject<S>>, issues: IssueSink) => O,
  ) {
    this.zod = (build ? fields.transform((input, ctx) => build(input, ctx as unknown as IssueSink)) : fields) as unknown as z.ZodType<O>;
    this.tests = Object.entries(fields.shape).map(([key, schema]) => [key, acceptsOf(schema as z.ZodType)]);
    this.known = new Set(Object.keys(fields.shape));
  }

  /** The row, when the values surely pass zod and the cross-field rules find nothing; else undefined (ask zod). */
  quick(values: Record<string, unknown>): O | undefined {
    for (const key in values) if (!this.known.has(key)) return undefined;
    for (const [key, accepts] of this.tests) if (!accepts(values[key])) return undefined;
    if (!this.build) return values as unknown as O;
    let clean = true;
    const row = this.build(values as z.output<z.ZodObject<S>>, { addIssue: () => (clean = false) });
    return clean ? row : undefined;
  }
}

/** Validates a record with `schema` after coercion; problems are located at their fields. */
export function validateRecord<S extends z.ZodRawShape, O>(
  record: SourceRecord,
  kinds: Readonly<Record<string, FieldKind>>,
  schema: RecordSchema<S, O>,
): { ok: true; data: O; given: Record<string, unknown> } | { ok: false; problems: Problem[] } {
  const { values, unusable } = coerceRecord(record.values, kinds, record.raw.kind === 'json');
  if (!unusable) {
    const row = schema.quick(values);
    if (row !== undefined) return { ok: true, data: row, given: record.values };
  }
  const result = schema.zod.safeParse(values);
  const problems: Problem[] = [];
  for (const { field, message } of unusable ?? []) problems.push(locate(record, field, message));
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
      if (field && unusable?.some((entry) => entry.field === field)) continue;
      problems.push(locate(record, field, issue.message));
    }
  }
  if (problems.length > 0 || !result.success) return { ok: false, problems };
  return { ok: true, data: result.data, given: record.values };
}

function locate(record: SourceRecord, field: string | undefined, message: string): Problem {
  const where = field ? record.locate(field) : { line: record.line, column: record.column };
  return { line: where.line, column: where.column, field, message };
}
