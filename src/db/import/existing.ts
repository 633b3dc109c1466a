import { startModuleWorker } from '../../worker-thread.js';
import { fingerprintInto } from './fingerprints.js';
import type { ImportRunner, QueryResult } from './runner.js';

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
export const REVIEW_CODES = ['pending', 'approved', 'rejected'] as const;

/** Fingerprinted text fields, in the order of their two words in `words`. */
export const TEXT_FIELDS = ['text', 'explanation', 'reference_url', 'objective_id', 'tags', 'exhibit_url', 'ai_model', 'options'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];
export const WORDS = TEXT_FIELDS.length * 2;

/** Small values per question, by position in `meta`. */
export const META = { exam: 0, type: 1, difficulty: 2, review: 3, isActive: 4, aiGenerated: 5, comparable: 6 } as const;
export const META_SIZE = 7;

export interface ExistingQuestions {
  ids: string[];
  /** Exam ids; `meta[exam]` is an index into this list. */
  examIds: string[];
  meta: Int32Array;
  /** The fingerprints of TEXT_FIELDS, two words each, a question after another. */
  words: Int32Array;
}

const PAGE = 2_000;

/**
 * The options as one string, the same for stored options and a file's (SQLite builds the stored
 * ones: OPTIONS_OF_QUESTIONS). Each option is its correct mark, its text and a \u0001; a \u0001 in
 * a text is doubled and a missing text is \u0001\u0002, so that two different lists never give the
 * same string. (SQLite ends a string at \u0000: a text holding one reads as changed, never as unchanged.)
 */
export function optionsKey(texts: ReadonlyArray<string | null>, correct: (index: number) => boolean): string {
  let key = '';
  for (let index = 0; index < texts.length; index++) {
    const text = texts[index];
    key += `${correct(index) ? '1' : '0'}${text === null ? '\u0001\u0002' : text.includes('\u0001') ? text.replaceAll('\u0001', '\u0001\u0001') : text}\u0001`;
  }
  return key;
}

const flag = (value: unknown) => (value === null || value === undefined ? -1 : Number(value) === 0 ? 0 : Number(value) === 1 ? 1 : -3);

/** A question's columns, read as arrays: the small values first, then TEXT_FIELDS but the options, from `FIRST_TEXT` on. */
const QUESTION_COLUMNS = 'q.id, q.exam_id, q.type, q.difficulty, q.review_status, q.is_active, q.ai_generated, q.text, q.explanation, q.reference_url, q.objective_id, q.tags, q.exhibit_url, q.ai_model';
const FIRST_TEXT = 7;
/**
 * Each question's options as one row: its id, the options' key (optionsKey, built by SQLite in one
 * scan of the options' index: 200,000 rows to convert instead of 800,000), and whether every
 * option holds values of the types an import writes. In the questions' order.
 */
const OPTIONS_OF_QUESTIONS = (where: string) => `SELECT o.question_id,
    group_concat(CASE o.is_correct WHEN 1 THEN '1' ELSE '0' END || coalesce(replace(o.text, char(1), char(1, 1)), char(1, 2)) || char(1), '' ORDER BY o."order", o.id),
    min(typeof(o.text) IN ('text', 'null') AND o.is_correct IN (0, 1))
  FROM main.answer_options AS o ${where} GROUP BY o.question_id ORDER BY o.question_id`;

/** Pages a remote read asks for in one request: 20,000 questions, a few tens of megabytes at most. */
const PAGES_A_TRIP = 10;

/**
 * Reads every question, in id order, into the store, with its options. The options are read by a
 * second scan in the same order and merged in here: a subquery per question cost SQLite and the
 * driver ten times the scan. A `file:` database is read through two open statements at once; a
 * remote one first gets where each page starts, then several pages (questions and options) in each request.
 */
/** Where each page of a remote read starts (a question id every PAGE questions): asked with the import's first queries. */
export const PAGE_STARTS = `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM main.questions) WHERE n % ${PAGE} = 0 ORDER BY id`;

/** A `file:` database's second connection, read by a helper thread (`store-reader.ts`). */
export interface StoreHelper {
  path: string;
  busyTimeoutMs: number;
}

/** Measured: 30,000 questions take as long either way (270-330 ms), 60,000 are about 50 ms faster with the helper. */
const HELPER_FROM = 40_000;

/**
 * `pageStarts`: the rows of PAGE_STARTS, when read already (remote). `helper`: a `file:` database
 * whose transaction holds the write lock (not a dry run): the later half of the questions, by id,
 * is read at the same time by a helper thread over its own connection, on the other core.
 */
export async function readExistingQuestions(runner: ImportRunner, remote: boolean, pageStarts?: QueryResult, helper?: StoreHelper): Promise<ExistingQuestions> {
  if (!remote && runner.rows) {
    const rows = runner.rows.bind(runner);
    const [count, changes] = await runner.query(['SELECT count(*) AS n FROM main.questions', 'SELECT total_changes() AS n']);
    const total = Number(count.rows[0].n);
    const store = new StoreBuilder(total);
    let middle: string | undefined;
    let later: Promise<ExistingQuestions> | undefined;
    // The helper's connection sees what this transaction sees while it has written no row: it
    // holds the write lock, so nothing else can commit meanwhile.
    if (helper && total >= HELPER_FROM && Number(changes.rows[0].n) === 0) {
      const [found] = await runner.query([`SELECT id FROM main.questions ORDER BY id LIMIT 1 OFFSET ${Math.floor(total / 2)}`]);
      const id = found.rows[0]?.id;
      if (typeof id === 'string') {
        middle = id;
        later = readInHelper(helper, id, total - Math.floor(total / 2));
      }
    }
    readStoreRange(rows, store, undefined, middle);
    if (later) {
      // a helper that could not read: this thread reads that half too
      const part = await later.catch(() => undefined);
      if (part) store.append(part);
      else readStoreRange(rows, store, middle);
    }
    return store.result();
  }
  const bounds = pageStarts ?? (await runner.query([PAGE_STARTS]))[0];
  const starts = bounds.rows.map((row) => String(row.id));
  const store = new StoreBuilder(starts.length * PAGE);
  for (let first = 0; first < starts.length; first += PAGES_A_TRIP) {
    const pages = starts.slice(first, first + PAGES_A_TRIP).flatMap((start, k) => {
      const end = starts[first + k + 1];
      const range = (column: string) => (end === undefined ? `${column} >= ?` : `${column} >= ? AND ${column} < ?`);
      const args = end === undefined ? [start] : [start, end];
      return [
        { sql: `SELECT ${QUESTION_COLUMNS} FROM main.questions AS q WHERE ${range('q.id')} ORDER BY q.id`, args },
        { sql: OPTIONS_OF_QUESTIONS(`WHERE ${range('o.question_id')}`), args },
      ];
    });
    const results = await runner.query(pages);
    for (let page = 0; page < results.length; page += 2) {
      const options = new OptionCursor(results[page + 1].rows as unknown as Iterable<ArrayLike<unknown>>);
      for (const row of results[page].rows as unknown as Array<ArrayLike<unknown>>) store.addRow(row, options);
    }
  }
  return store.result();
}

type RowReader = (sql: string, args?: unknown[]) => Iterable<ArrayLike<unknown>>;

/** Reads the questions whose ids are from `from` (included) to `to` (excluded), either open, with their options, into `store` in id order. */
export function readStoreRange(rows: RowReader, store: StoreBuilder, from?: string, to?: string): void {
  const args = [from, to].filter((bound) => bound !== undefined);
  const where = (column: string) => {
    const bounds = [from === undefined ? '' : `${column} >= ?`, to === undefined ? '' : `${column} < ?`].filter(Boolean);
    return bounds.length === 0 ? '' : `WHERE ${bounds.join(' AND ')}`;
  };
  const questions = rows(`SELECT ${QUESTION_COLUMNS} FROM main.questions AS q ${where('q.id')} ORDER BY q.id`, args);
  const options = new OptionCursor(rows(OPTIONS_OF_QUESTIONS(where('o.question_id')), args));
  for (const row of questions) store.addRow(row, options);
}

/** The questions from `from` on, read by a helper thread; rejects when it cannot read them. */
function readInHelper(helper: StoreHelper, from: string, expected: number): Promise<ExistingQuestions> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, 'store-reader', { ...helper, from, expected });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate();
    };
    worker.on('message', (message: { store?: ExistingQuestions; error?: string }) =>
      settle(() => (message.store ? resolve(message.store) : reject(new Error(message.error ?? 'the store reader failed')))),
    );
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the store reader stopped (exit code ${code})`))));
  });
}

/**
 * The order of SQLite's BINARY collation (UTF-8 bytes, that is code points) for two strings, where
 * JavaScript compares UTF-16 units: a character from U+10000 on (a surrogate pair) sorts after U+E000–U+FFFF.
 */
export function compareBinary(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The rows of OPTIONS_OF_QUESTIONS, taken question by question. */
class OptionCursor {
  private readonly iterator: Iterator<ArrayLike<unknown>>;
  private next: ArrayLike<unknown> | undefined;
  /** Whether the options last taken hold values of the types an import writes. */
  comparable = true;

  constructor(rows: Iterable<ArrayLike<unknown>>) {
    this.iterator = rows[Symbol.iterator]();
    this.advance();
  }

  private advance(): void {
    const step = this.iterator.next();
    this.next = step.done ? undefined : step.value;
  }

  /**
   * The options' key of question `id` ('' when it has none). Options of ids before it belong to no
   * question (foreign keys were off when they were written): passed over.
   */
  take(id: string): string {
    this.comparable = true;
    for (let row = this.next; row !== undefined; row = this.next) {
      const questionId = row[0];
      if (questionId === id) {
        this.advance();
        this.comparable = row[2] === 1 && typeof row[1] === 'string';
        return typeof row[1] === 'string' ? row[1] : '';
      }
      // SQLite sorts text before blobs: an id that is not text comes after every question's
      if (typeof questionId !== 'string' || compareBinary(questionId, id) > 0) break;
      this.advance();
    }
    return '';
  }
}

/** Gathers the store from rows read in id order. */
export class StoreBuilder {
  private readonly ids: string[] = [];
  private readonly examIds: string[] = [];
  private readonly examIndex = new Map<string, number>();
  private meta: Int32Array;
  private words: Int32Array;

  /**
   * `capacity`: the questions expected. The arrays are shared memory: the parsing worker gets them
   * without a copy (an 8-word fingerprint and 6 numbers a question: 17 MB for 200,000).
   */
  constructor(capacity: number) {
    this.meta = sharedInt32(Math.max(1, capacity) * META_SIZE);
    this.words = sharedInt32(Math.max(1, capacity) * WORDS);
  }

  /** Adds a question row (QUESTION_COLUMNS) with its options, taken from `options`. */
  addRow(row: ArrayLike<unknown>, options: OptionCursor): void {
    const at = this.ids.length;
    if ((at + 1) * META_SIZE > this.meta.length) {
      this.meta = grow(this.meta, this.meta.length * 2);
      this.words = grow(this.words, this.words.length * 2);
    }
    const { meta, words } = this;
    const id = row[0];
    this.ids.push(String(id));
    const examId = String(row[1]);
    let exam = this.examIndex.get(examId);
    if (exam === undefined) {
      exam = this.examIds.push(examId) - 1;
      this.examIndex.set(examId, exam);
    }
    const optionKey = typeof id === 'string' ? options.take(id) : '';
    const difficulty = row[3];
    let comparable = typeof id === 'string' && options.comparable && typeof difficulty === 'number' && Number.isInteger(difficulty);
    const w = at * WORDS;
    for (let field = 0; field < TEXT_FIELDS.length - 1; field++) {
      const value = row[FIRST_TEXT + field];
      if (value !== null && typeof value !== 'string') comparable = false;
      fingerprintInto(words, w + field * 2, typeof value === 'string' ? value : null);
    }
    fingerprintInto(words, w + (TEXT_FIELDS.length - 1) * 2, optionKey);
    const m = at * META_SIZE;
    meta[m + META.exam] = exam;
    // stored values not of the types an import writes: never taken as unchanged (still matched by text)
    meta[m + META.comparable] = comparable ? 1 : 0;
    meta[m + META.type] = QUESTION_TYPE_CODES.indexOf(String(row[2]) as (typeof QUESTION_TYPE_CODES)[number]);
    meta[m + META.difficulty] = comparable ? (difficulty as number) : 0;
    const review = row[4];
    meta[m + META.review] = review === null ? -1 : REVIEW_CODES.indexOf(String(review) as (typeof REVIEW_CODES)[number]);
    meta[m + META.isActive] = flag(row[5]);
    meta[m + META.aiGenerated] = flag(row[6]);
  }

  /** Adds a store read after this one's rows (the ids that follow them), its exams numbered as this one's. */
  append(part: ExistingQuestions): void {
    const exams = part.examIds.map((examId) => {
      let exam = this.examIndex.get(examId);
      if (exam === undefined) {
        exam = this.examIds.push(examId) - 1;
        this.examIndex.set(examId, exam);
      }
      return exam;
    });
    const at = this.ids.length;
    const count = at + part.ids.length;
    if (count * META_SIZE > this.meta.length) {
      this.meta = grow(this.meta, count * META_SIZE);
      this.words = grow(this.words, count * WORDS);
    }
    this.meta.set(part.meta.subarray(0, part.ids.length * META_SIZE), at * META_SIZE);
    this.words.set(part.words.subarray(0, part.ids.length * WORDS), at * WORDS);
    for (let k = 0; k < part.ids.length; k++) {
      const m = (at + k) * META_SIZE + META.exam;
      this.meta[m] = exams[this.meta[m]];
    }
    for (const id of part.ids) this.ids.push(id);
  }

  result(): ExistingQuestions {
    const count = this.ids.length;
    const fit = (array: Int32Array, size: number) => (array.length === count * size ? array : grow(array, count * size));
    return { ids: this.ids, examIds: this.examIds, meta: fit(this.meta, META_SIZE), words: fit(this.words, WORDS) };
  }
}

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

/** A copy of `array` of `length` numbers (fewer or more). */
function grow(array: Int32Array, length: number): Int32Array {
  const next = sharedInt32(length);
  next.set(length < array.length ? array.subarray(0, length) : array);
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
  /**
   * Questions by exam and text fingerprint: an open-addressing table of question indexes plus one
   * (0: empty slot), the key compared in the store itself. A few megabytes, where a Map of 200,000
   * numbers held about 10 MB and took 0.2 s to build.
   */
  private readonly byText: Int32Array;
  private readonly examIndex: Map<string, number>;

  constructor(readonly store: ExistingQuestions) {
    this.examIndex = new Map(store.examIds.map((id, index) => [id, index]));
    let capacity = 1024;
    while (capacity < store.ids.length * 2) capacity *= 2;
    this.byText = new Int32Array(capacity);
    // the first question of an exam with a text is the one SQL matches (the lowest id: read in id order)
    for (let at = 0; at < store.ids.length; at++) {
      const slot = this.textSlot(store.meta[at * META_SIZE + META.exam], store.words[at * WORDS], store.words[at * WORDS + 1]);
      if (this.byText[slot] === 0) this.byText[slot] = at + 1;
    }
  }

  /**
   * The slot of (exam, text fingerprint): the one holding that key, or the empty one where it would
   * go. A row matched by text is staged with the question found here, which SQL checks against the
   * texts themselves: two texts with one fingerprint only send the row to SQL's own lookup.
   */
  private textSlot(exam: number, h1: number, h2: number): number {
    const { meta, words } = this.store;
    const mask = this.byText.length - 1;
    let slot = (h1 ^ Math.imul(h2, 0x85ebca6b) ^ Math.imul(exam + 1, 0x9e3779b1)) & mask;
    for (let entry = this.byText[slot]; entry !== 0; entry = this.byText[slot]) {
      const at = entry - 1;
      if (meta[at * META_SIZE + META.exam] === exam && words[at * WORDS] === h1 && words[at * WORDS + 1] === h2) return slot;
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /** The index of the question a row matches, -1 when none: by id when it has one, else by exam and text. */
  match(row: ComparedRow, textWords: Int32Array): number {
    if (row.givenId !== undefined) {
      this.byId ??= new Map(this.store.ids.map((id, index) => [id, index]));
      return this.byId.get(row.givenId) ?? -1;
    }
    const exam = this.examIndex.get(row.examId);
    if (exam === undefined) return -1;
    return this.byText[this.textSlot(exam, textWords[0], textWords[1])] - 1;
  }

  /**
   * True when importing the row would leave question `at` as it is, by the rules of the SQL
   * comparison (PingToPassQuestionsTarget); `rowWords` holds the row's fingerprints in TEXT_FIELDS
   * order, `compareField` says which of them count (those the file gives).
   */
  unchanged(at: number, row: ComparedRow, rowWords: Int32Array, compareField: (field: TextField) => boolean): boolean {
    const meta = this.store.meta;
    const m = at * META_SIZE;
    if (meta[m + META.comparable] === 0 || this.examIndex.get(row.examId) !== meta[m + META.exam]) return false;
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
