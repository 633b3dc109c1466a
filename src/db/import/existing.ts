import { fingerprintInto } from './fingerprints.js';
import type { ImportRunner } from './runner.js';

/**
 * The PingToPass questions a re-import compares its rows with, read once before the file is: for
 * each question its id, the small values themselves (exam, type, difficulty, review status, flags)
 * and a 64-bit fingerprint of each text (question, explanation, URLs, objective, tags, AI model,
 * the options with their correct marks). A file row that matches a question (by id, else by exam
 * and text, as the SQL match does) and whose values have the same fingerprints is unchanged: it is
 * staged as its key alone, and only rows that differ are staged whole and compared by SQL.
 *
 * The store is typed arrays and one list of ids, so it crosses to the parsing worker as a copy of
 * a few tens of megabytes for 200,000 questions.
 */

export const QUESTION_TYPE_CODES = ['single', 'multiple', 'drag-drop', 'hotspot', 'simulation'] as const;
const REVIEW_CODES = ['pending', 'approved', 'rejected'] as const;

/** Fingerprinted text fields, in the order of their two words in `words`. */
export const TEXT_FIELDS = ['text', 'explanation', 'reference_url', 'objective_id', 'tags', 'exhibit_url', 'ai_model', 'options'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];
export const WORDS = TEXT_FIELDS.length * 2;

/** Small values per question, by position in `meta`. */
export const META = { exam: 0, type: 1, difficulty: 2, review: 3, isActive: 4, aiGenerated: 5 } as const;
const META_SIZE = 6;
/** `meta[exam]` of a question whose stored values are not of the types an import writes: never taken as unchanged. */
export const NOT_COMPARABLE = -2;

export interface ExistingQuestions {
  ids: string[];
  /** Exam ids; `meta[exam]` is an index into this list. */
  examIds: string[];
  meta: Int32Array;
  /** The fingerprints of TEXT_FIELDS, two words each, a question after another. */
  words: Int32Array;
}

const PAGE = 2_000;

/** The options as one string, the same for stored options and a file row's. */
export function optionsKey(texts: ReadonlyArray<string | null>, correct: (index: number) => boolean): string {
  let key = '';
  for (let index = 0; index < texts.length; index++) key += `${correct(index) ? '1' : '0'}${texts[index] ?? '\u0002'}\u0000`;
  return key;
}

const flag = (value: unknown) => (value === null || value === undefined ? -1 : Number(value) === 0 ? 0 : Number(value) === 1 ? 1 : -3);

const COLUMNS = `q.id, q.exam_id, q.type, q.text, q.explanation, q.reference_url, q.difficulty, q.objective_id, q.tags, q.exhibit_url, q.review_status, q.is_active,
  q.ai_generated, q.ai_model,
  (SELECT json_group_array(json_array(o.text, o.is_correct)) FROM (SELECT text, is_correct FROM main.answer_options WHERE question_id = q.id ORDER BY "order", id) AS o) AS options`;

/** Pages a remote read asks for in one request: 20,000 questions, a few tens of megabytes at most. */
const PAGES_A_TRIP = 10;

/**
 * Reads every question, in id order, into the store. A `file:` database is read a page at a time;
 * a remote one first gets where each page starts, then several pages in each request.
 */
export async function readExistingQuestions(runner: ImportRunner, remote: boolean): Promise<ExistingQuestions> {
  const store = new StoreBuilder();
  if (!remote) {
    for (;;) {
      const [page] = await runner.query([{ sql: `SELECT ${COLUMNS} FROM main.questions AS q WHERE q.id > ? ORDER BY q.id LIMIT ${PAGE}`, args: [store.lastId] }]);
      store.add(page.rows);
      if (page.rows.length < PAGE) return store.result();
    }
  }
  const [bounds] = await runner.query([`SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM main.questions) WHERE n % ${PAGE} = 0 ORDER BY id`]);
  const starts = bounds.rows.map((row) => String(row.id));
  for (let first = 0; first < starts.length; first += PAGES_A_TRIP) {
    const pages = starts.slice(first, first + PAGES_A_TRIP).map((start, k) => {
      const end = starts[first + k + 1];
      return end === undefined
        ? { sql: `SELECT ${COLUMNS} FROM main.questions AS q WHERE q.id >= ? ORDER BY q.id`, args: [start] }
        : { sql: `SELECT ${COLUMNS} FROM main.questions AS q WHERE q.id >= ? AND q.id < ? ORDER BY q.id`, args: [start, end] };
    });
    for (const page of await runner.query(pages)) store.add(page.rows);
  }
  return store.result();
}

/** Gathers the store from rows read in id order. */
class StoreBuilder {
  private readonly ids: string[] = [];
  private readonly examIds: string[] = [];
  private readonly examIndex = new Map<string, number>();
  private meta: Int32Array = new Int32Array(PAGE * META_SIZE);
  private words: Int32Array = new Int32Array(PAGE * WORDS);

  get lastId(): string {
    return this.ids[this.ids.length - 1] ?? '';
  }

  add(rows: Array<Record<string, unknown>>): void {
    const needed = (this.ids.length + rows.length) * META_SIZE;
    if (needed > this.meta.length) {
      const capacity = Math.max(needed, this.meta.length * 2) / META_SIZE;
      this.meta = grow(this.meta, capacity * META_SIZE);
      this.words = grow(this.words, capacity * WORDS);
    }
    for (const row of rows) this.addRow(row);
  }

  private addRow(row: Record<string, unknown>): void {
    const { meta, words } = this;
    const at = this.ids.length;
    this.ids.push(String(row.id));
    const examId = String(row.exam_id);
    let exam = this.examIndex.get(examId);
    if (exam === undefined) {
      exam = this.examIds.push(examId) - 1;
      this.examIndex.set(examId, exam);
    }
    const m = at * META_SIZE;
    const texts = TEXT_FIELDS.slice(0, -1).map((field) => row[field]);
    const options = JSON.parse(String(row.options ?? '[]')) as Array<[unknown, unknown]>;
    const comparable =
      texts.every((value) => value === null || typeof value === 'string') &&
      typeof row.difficulty === 'number' &&
      Number.isInteger(row.difficulty) &&
      options.every(([text, correct]) => (text === null || typeof text === 'string') && (correct === 0 || correct === 1));
    meta[m + META.exam] = comparable ? exam : NOT_COMPARABLE;
    meta[m + META.type] = QUESTION_TYPE_CODES.indexOf(String(row.type) as (typeof QUESTION_TYPE_CODES)[number]);
    meta[m + META.difficulty] = comparable ? Number(row.difficulty) : 0;
    meta[m + META.review] = row.review_status === null ? -1 : REVIEW_CODES.indexOf(String(row.review_status) as (typeof REVIEW_CODES)[number]);
    meta[m + META.isActive] = flag(row.is_active);
    meta[m + META.aiGenerated] = flag(row.ai_generated);
    const w = at * WORDS;
    texts.forEach((value, field) => fingerprintInto(words, w + field * 2, (value as string | null) ?? null));
    fingerprintInto(
      words,
      w + (TEXT_FIELDS.length - 1) * 2,
      optionsKey(
        options.map(([text]) => text as string | null),
        (index) => options[index][1] === 1,
      ),
    );
  }

  result(): ExistingQuestions {
    const count = this.ids.length;
    return { ids: this.ids, examIds: this.examIds, meta: this.meta.slice(0, count * META_SIZE), words: this.words.slice(0, count * WORDS) };
  }
}

function grow(array: Int32Array, length: number): Int32Array {
  const next = new Int32Array(length);
  next.set(array);
  return next;
}

/** A file row as the comparison sees it (see PingToPassQuestion). */
export interface ComparedRow {
  givenId?: string;
  examId: string;
  type: string;
  typeGiven: boolean;
  difficulty: number;
  /** Bit i: the file gives GIVEN_FIELDS[i]. */
  given: number;
  reviewStatus?: string;
  isActive?: boolean;
  aiGenerated?: boolean;
  aiModel?: string;
}

/**
 * Looks file rows up in the store (in the worker that parses the file): the question a row
 * matches, and whether the row would change it.
 */
export class ExistingIndex {
  private byId?: Map<string, number>;
  private readonly byText = new Map<number, number>();
  private readonly examIndex: Map<string, number>;

  constructor(readonly store: ExistingQuestions) {
    this.examIndex = new Map(store.examIds.map((id, index) => [id, index]));
    // the first question of an exam with a text is the one SQL matches (the lowest id: read in id order)
    for (let at = 0; at < store.ids.length; at++) {
      const key = this.textKey(store.meta[at * META_SIZE + META.exam], store.words[at * WORDS], store.words[at * WORDS + 1]);
      if (!this.byText.has(key)) this.byText.set(key, at);
    }
  }

  /** A number standing for (exam, text): a collision only sends a row to the SQL comparison. */
  private textKey(exam: number, h1: number, h2: number): number {
    return ((h1 ^ Math.imul(exam + 1, 0x9e3779b1)) >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
  }

  /** The index of the question a row matches, -1 when none: by id when it has one, else by exam and text. */
  match(row: ComparedRow, textWords: Int32Array): number {
    if (row.givenId !== undefined) {
      this.byId ??= new Map(this.store.ids.map((id, index) => [id, index]));
      return this.byId.get(row.givenId) ?? -1;
    }
    const exam = this.examIndex.get(row.examId);
    if (exam === undefined) return -1;
    return this.byText.get(this.textKey(exam, textWords[0], textWords[1])) ?? -1;
  }

  /**
   * True when importing the row would leave question `at` as it is, by the rules of the SQL
   * comparison (PingToPassQuestionsTarget); `rowWords` holds the row's fingerprints in TEXT_FIELDS
   * order, `compareField` says which of them count (those the file gives).
   */
  unchanged(at: number, row: ComparedRow, rowWords: Int32Array, compareField: (field: TextField) => boolean): boolean {
    const meta = this.store.meta;
    const m = at * META_SIZE;
    if (meta[m + META.exam] === NOT_COMPARABLE || this.examIndex.get(row.examId) !== meta[m + META.exam]) return false;
    const storedType = meta[m + META.type];
    // a type left to the number of correct letters does not turn a drag-drop question into a single one
    if ((row.typeGiven || storedType === 0 || storedType === 1) && QUESTION_TYPE_CODES.indexOf(row.type as (typeof QUESTION_TYPE_CODES)[number]) !== storedType) return false;
    if (meta[m + META.difficulty] !== row.difficulty) return false;
    if (row.reviewStatus !== undefined && REVIEW_CODES.indexOf(row.reviewStatus as (typeof REVIEW_CODES)[number]) !== meta[m + META.review]) return false;
    if (row.isActive !== undefined && (row.isActive ? 1 : 0) !== meta[m + META.isActive]) return false;
    if (row.aiGenerated !== undefined && (row.aiGenerated ? 1 : 0) !== meta[m + META.aiGenerated]) return false;
    const words = this.store.words;
    const w = at * WORDS;
    for (let field = 0; field < TEXT_FIELDS.length; field++) {
      if (!compareField(TEXT_FIELDS[field])) continue;
      if (words[w + field * 2] !== rowWords[field * 2] || words[w + field * 2 + 1] !== rowWords[field * 2 + 1]) return false;
    }
    return true;
  }
}
