import type { InValue } from '@libsql/client';
import { eq, getTableColumns } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { exams } from '../../../schema/pingtopass.js';
import { QbankError, RefusedError } from '../../errors.js';
import { fileDatabasePath, quoteIdent } from '../client.js';
import { statementBytes, type KeptRows, type Statement } from './encoder.js';
import { readPingToPassDiff, storedOptionsJson } from './diff.js';
import { warnAboutLookAlikesOf } from './look-alikes.js';
import { PAGE_STARTS, readExistingQuestions, type ExistingQuestions } from './existing.js';
import { KeptOutcomes } from './kept.js';
import { GIVEN_FIELDS, STAGING_QUESTIONS, type PingToPassExam, type PingToPassQuestionsPlan } from './pingtopass-rows.js';
import type { QueryResult } from './runner.js';
import { addMissing, addSharedMatches, addStagedIds, BatchedRowsTarget, confirmPruning, missingQuery, sharedMatchesQuery, stagedIdsQuery, type ImportContext, type ImportTarget } from './session.js';

/** Decided questions whose content the import would change, refused as asked. */
export class ReviewedChangesError extends RefusedError {
  constructor(readonly ids: string[]) {
    const shown = ids.slice(0, 20).join(', ');
    super(`${ids.length} reviewed question${ids.length === 1 ? '' : 's'} would change and go back to pending: ${shown}${ids.length > 20 ? `, … (${ids.length - 20} more)` : ''}; nothing was imported`);
  }
}

const OUTCOME_OF_ACTION: Record<string, 'created' | 'updated' | 'unchanged' | 'skipped'> = {
  create: 'created',
  update: 'updated',
  unchanged: 'unchanged',
  skip: 'skipped',
};

/**
 * PingToPass questions and their answer options, the database side (see PingToPassQuestionEncoder
 * for the rows). Into an empty `questions` table the encoder's inserts are the whole import.
 * Otherwise the staged file is matched against what exists (by id, else by exam and question
 * text), classified (created / updated / unchanged) and applied with a few set-based statements:
 * matching by text needs every question of the file at once, and SQL does it in one scan of the
 * table instead of one query per row.
 */
export class PingToPassQuestionsTarget implements ImportTarget {
  readonly groupLabel = 'exam';
  /** Into empty tables every option refers to a question of the same statement batch, every question to an exam read in this transaction. */
  readonly bulkLoad = { tables: ['questions', 'answer_options'], references: ['questions.exam_id', 'answer_options.question_id'] };
  private context!: ImportContext;
  private direct = false;
  private nowSeconds = 0;
  private rebuildIndexes: string[] = [];
  /** Staged imports: the stored questions, and the rows that change nothing, listed by the encoder (plan.listKept). */
  private store?: ExistingQuestions;
  private kept?: KeptRows;
  /** Exam id to code, of the exams there are. */
  private readonly codeOf = new Map<string, string>();
  /** With the kept rows listed: the ids of the questions a prune deactivates. */
  private missingIds?: string[];
  /** Into an empty table: which created rows had no id ([from, to) ranges of their order). */
  private assignedRanges: number[] = [];

  async begin(context: ImportContext): Promise<PingToPassQuestionsPlan> {
    this.context = context;
    this.nowSeconds = Math.floor(context.now.getTime() / 1000);
    const remote = context.database.kind !== 'file';
    // a remote database is asked where the pages of its questions start in the same request (none when it has none)
    const [examRows, existing, indexes, pageStarts] = await context.runner.query([
      'SELECT id, code FROM exams',
      'SELECT EXISTS (SELECT 1 FROM questions) OR EXISTS (SELECT 1 FROM answer_options) AS any',
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('questions', 'answer_options') AND sql IS NOT NULL ORDER BY name",
      ...(remote ? [PAGE_STARTS] : []),
    ]);
    this.direct = Number(existing.rows[0].any) === 0;
    if (!this.direct && !context.runner.foreignKeysChecked) throw new QbankError('the import opened without foreign key checks but the questions table is not empty');
    if (this.direct && !context.dryRun) {
      // Both tables are empty: their secondary indexes are dropped here and built again from
      // their own definitions at the end, in this same transaction. Building an index once, by
      // sorting, costs half of keeping it up to date row by row (measured: 0.9 s against 2 s for
      // 200,000 questions); a rollback or a killed process restores them with everything else.
      this.rebuildIndexes = indexes.rows.map((row) => String(row.sql));
      await context.runner.send(
        indexes.rows.map((row) => `DROP INDEX ${quoteIdent(String(row.name))}`),
        0,
      );
    }
    if (!this.direct) {
      await context.runner.send(
        [
          `DROP TABLE IF EXISTS ${STAGING_QUESTIONS}`,
            `CREATE TABLE ${STAGING_QUESTIONS} (seq INTEGER PRIMARY KEY, line INTEGER NOT NULL, given_id TEXT, new_id TEXT NOT NULL, exam_id TEXT NOT NULL, exam_code TEXT NOT NULL,
          type TEXT NOT NULL, type_given INTEGER NOT NULL, text TEXT NOT NULL, explanation TEXT, reference_url TEXT, difficulty INTEGER NOT NULL,
          objective_id TEXT, tags TEXT, exhibit_url TEXT, review_status TEXT, reviewed_by TEXT, is_active INTEGER, ai_generated INTEGER, ai_model TEXT,
          options TEXT NOT NULL, correct_mask INTEGER NOT NULL, given INTEGER NOT NULL, target_id TEXT, matched_by TEXT, action TEXT, review_reset INTEGER,
          text_lookup INTEGER NOT NULL DEFAULT 0)`,
      ],
      0,
    );
    }
    const examCodes: Array<[string, string]> = examRows.rows.map((row) => [String(row.code), String(row.id)]);
    if (context.dryRun) for (const planned of context.plannedExams) if (!examCodes.some(([code]) => code === planned[0])) examCodes.push(planned);
    // compared before staging: rows that change nothing are listed by the encoder (keys in SQL for --mode insert)
    // a dry run holds no write lock: what a second connection reads could be newer than this transaction's view
    const helper = remote || context.dryRun ? undefined : { path: fileDatabasePath(context.database), busyTimeoutMs: context.database.busyTimeoutMs };
    const stored = this.direct ? undefined : await readExistingQuestions(context.runner, remote, pageStarts, helper);
    this.store = stored;
    for (const row of examRows.rows) this.codeOf.set(String(row.id), String(row.code));
    return {
      target: 'pingtopass-questions',
      direct: this.direct,
      exams: examCodes,
      existing: stored,
      listKept: context.mode !== 'insert',
      existingAction: this.keptAction(),
      jsonRows: remote,
    };
  }

  async accept(): Promise<void> {}

  /** What a row that changes nothing counts as: skipped with `--mode skip-existing`, else unchanged. */
  private keptAction(): 'skip' | 'unchanged' {
    return this.context.mode === 'skip-existing' ? 'skip' : 'unchanged';
  }

  acceptKept(kept: KeptRows): void {
    this.kept = kept;
  }

  acceptAssigned(ranges: number[]): void {
    this.assignedRanges = ranges;
  }

  async finish(): Promise<void> {
    if (!this.direct) return this.resolveAndApply();
    if (this.rebuildIndexes.length > 0) await this.context.runner.send(this.rebuildIndexes, 0);
    const ranges = this.assignedRanges;
    if (this.context.dryRun) {
      // a dry run into an empty table writes nothing to read back, and draws no ids
      for (let at = 0; at < ranges.length; at += 2) this.context.assignedUnlisted += ranges[at + 1] - ranges[at];
    } else if (this.context.problems.empty) {
      // the table was empty: every question in it is this import's, in the order it was created
      const { runner, ids } = this.context;
      const sql = 'SELECT id FROM questions ORDER BY rowid';
      let order = 0;
      let range = 0;
      const add = (id: string) => {
        while (range < ranges.length && ranges[range + 1] <= order) range += 2;
        ids.created.push(id, range < ranges.length && ranges[range] <= order);
        order++;
      };
      // a file's ids one by one: a million rows read at once held a million row objects beside the ids (+110 MB)
      if (runner.rows) for (const row of runner.rows(sql)) add(String(row[0]));
      else for (const row of (await runner.query([sql]))[0].rows) add(String(row.id));
    }
  }

  private async resolveAndApply(): Promise<void> {
    const { runner, problems, mode, dryRun } = this.context;
    const now = this.nowSeconds;
    const S = STAGING_QUESTIONS;
    await runner.send(
      [
        `UPDATE ${S} AS s SET target_id = s.given_id, matched_by = 'id' WHERE s.action IS NULL AND s.given_id IS NOT NULL AND s.given_id IN (SELECT id FROM main.questions)`,
        // A row staged with the question its text matched in the stored questions keeps it when the
        // texts are equal; otherwise (a collision of fingerprints) SQL looks the text up itself.
        `UPDATE ${S} AS s SET target_id = NULL, matched_by = NULL, text_lookup = 1
         WHERE s.action IS NULL AND s.matched_by = 'text'
           AND NOT EXISTS (SELECT 1 FROM main.questions AS q WHERE q.id = s.target_id AND q.exam_id = s.exam_id AND q.text = s.text)`,
        // Matching by text: an index on the staged texts is probed once per existing question of the
        // file's exams (the CROSS JOIN keeps SQLite from looping the other way round, which would
        // scan an exam's questions once per staged row: questions has no index on its text).
        `CREATE INDEX temp.qbank_import_questions_text ON qbank_import_questions (exam_id, text) WHERE given_id IS NULL AND action IS NULL AND text_lookup = 1`,
        `UPDATE ${S} AS s SET target_id = m.id, matched_by = 'text' FROM (
           SELECT t.seq AS seq, min(q.id) AS id FROM main.questions AS q CROSS JOIN ${S} AS t
           WHERE q.exam_id IN (SELECT DISTINCT exam_id FROM ${S} WHERE given_id IS NULL AND action IS NULL AND text_lookup = 1)
             AND t.given_id IS NULL AND t.action IS NULL AND t.text_lookup = 1 AND t.exam_id = q.exam_id AND t.text = q.text
           GROUP BY t.seq) AS m
         WHERE s.seq = m.seq`,
      ],
      0,
    );
    // A type left to the number of correct letters does not turn a drag-drop question into a single one.
    const typeFor = (existing: string) => `CASE WHEN s.type_given OR ${existing} IN ('single', 'multiple') THEN s.type ELSE ${existing} END`;
    const givenDiffers = GIVEN_FIELDS.map((field, bit) => `(s.given & ${1 << bit} AND q.${field} IS NOT s.${field})`).join(' OR ');
    await runner.send(
      [
        `UPDATE ${S} AS s SET action = CASE
           WHEN s.target_id IS NULL THEN 'create'
           WHEN ${mode === 'skip-existing' ? 1 : 0} THEN 'skip'
           WHEN EXISTS (SELECT 1 FROM main.questions AS q WHERE q.id = s.target_id AND (
             q.exam_id IS NOT s.exam_id OR q.type IS NOT ${typeFor('q.type')} OR q.text IS NOT s.text OR q.difficulty IS NOT s.difficulty
             OR ${givenDiffers}
             OR (s.review_status IS NOT NULL AND q.review_status IS NOT s.review_status)
             OR (s.is_active IS NOT NULL AND q.is_active IS NOT s.is_active)
             OR (s.ai_generated IS NOT NULL AND q.ai_generated IS NOT s.ai_generated)
             OR (s.ai_model IS NOT NULL AND q.ai_model IS NOT s.ai_model)
             OR ${storedOptionsJson('q.id')}
                IS NOT (SELECT json_group_array(json_array(j.value, (s.correct_mask >> j.key) & 1) ORDER BY j.key) FROM json_each(s.options) AS j)
           )) THEN 'update'
           ELSE 'unchanged' END
         WHERE s.action IS NULL`,
        // the outcome's reads look rows up by the question they match (rows sharing one, the missing
        // questions, the reviewed ones): one index instead of a sort of every staged row in each
        `CREATE INDEX temp.qbank_import_questions_target ON qbank_import_questions (target_id)`,
      ],
      0,
    );
    // Active questions of the file's exams that no row of the file matched. The unmatched ids come
    // first, from the ids' own index (MATERIALIZED and CROSS JOIN keep SQLite from folding them back
    // in and from starting at the exams): a question's row is read only when no row matched it,
    // instead of one lookup per question of the exams (200,000 questions: 0.5 -> 0.13 s).
    const missingRows = `SELECT e.code AS grp, q.id AS id
      FROM (WITH unmatched AS MATERIALIZED (SELECT id FROM main.questions WHERE id NOT IN (SELECT target_id FROM ${S} WHERE target_id IS NOT NULL)) SELECT id FROM unmatched) AS u
      CROSS JOIN main.questions AS q ON q.id = u.id JOIN main.exams AS e ON e.id = q.exam_id
      WHERE q.exam_id IN (SELECT DISTINCT exam_id FROM ${S}) AND coalesce(q.is_active, 1) = 1`;
    const changing = await this.readOutcomes(typeFor, missingRows);
    if (dryRun || !problems.empty) return;
    if (await confirmPruning(this.context)) {
      const ids = this.missingIds;
      await runner.send(
        [
          ids
            ? { sql: `UPDATE main.questions SET is_active = 0, updated_at = ${now} WHERE id IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(ids)] }
            : `UPDATE main.questions SET is_active = 0, updated_at = ${now} WHERE id IN (SELECT id FROM (${missingRows}))`,
        ],
        0,
      );
    }
    // nothing to create or update (a re-import of what is there): no statement to send
    if (changing === 0) return;
    const id = 'coalesce(s.given_id, s.new_id)';
    const keepUnlessGiven = GIVEN_FIELDS.map((field, bit) => `${field} = CASE WHEN s.given & ${1 << bit} THEN s.${field} ELSE questions.${field} END`).join(', ');
    await runner.send(
      [
        `INSERT INTO main.questions (id, exam_id, type, text, explanation, reference_url, difficulty, objective_id, tags, exhibit_url, is_active, ai_generated, ai_model, review_status, reviewed_by, reviewed_at, created_at, updated_at)
         SELECT ${id}, s.exam_id, s.type, s.text, s.explanation, s.reference_url, s.difficulty, s.objective_id, s.tags, s.exhibit_url,
           coalesce(s.is_active, 1), coalesce(s.ai_generated, 0), s.ai_model, coalesce(s.review_status, 'pending'), s.reviewed_by,
           CASE WHEN s.reviewed_by IS NOT NULL THEN ${now} END, ${now}, ${now}
         FROM ${S} AS s WHERE s.action = 'create' ORDER BY s.seq`,
        `INSERT INTO main.answer_options (id, question_id, text, is_correct, "order", created_at)
         SELECT ${id} || '_opt_' || char(97 + j.key), ${id}, j.value, (s.correct_mask >> j.key) & 1, j.key, ${now}
         FROM ${S} AS s, json_each(s.options) AS j WHERE s.action = 'create' ORDER BY s.seq, j.key`,
        `UPDATE main.questions SET exam_id = s.exam_id, type = ${typeFor('questions.type')}, text = s.text, difficulty = s.difficulty, ${keepUnlessGiven},
           review_status = CASE WHEN s.review_status IS NOT NULL THEN s.review_status WHEN s.review_reset THEN 'pending' ELSE questions.review_status END,
           reviewed_by = CASE WHEN s.review_status IS NOT NULL AND s.review_status IS NOT questions.review_status OR s.reviewed_by IS NOT NULL THEN s.reviewed_by
             WHEN s.review_reset THEN NULL ELSE questions.reviewed_by END,
           reviewed_at = CASE WHEN s.review_status IS NOT NULL AND s.review_status IS NOT questions.review_status OR s.reviewed_by IS NOT NULL THEN CASE WHEN s.reviewed_by IS NOT NULL THEN ${now} END
             WHEN s.review_reset THEN NULL ELSE questions.reviewed_at END,
           is_active = coalesce(s.is_active, questions.is_active),
           ai_generated = coalesce(s.ai_generated, questions.ai_generated), ai_model = coalesce(s.ai_model, questions.ai_model), updated_at = ${now}
         FROM ${S} AS s WHERE s.action = 'update' AND questions.id = s.target_id`,
        // Options of an updated question are matched by position, so their ids (which user answers
        // and sessions refer to) survive an edit of their text. From the updated rows to their
        // options (CROSS JOIN): SQLite would otherwise walk every option and look its question up.
        `CREATE TABLE temp.qbank_import_existing_options AS
         SELECT o.id AS id, s.seq AS seq, json_array_length(s.options) AS option_count,
           row_number() OVER (PARTITION BY o.question_id ORDER BY o."order", o.id) - 1 AS k
         FROM ${S} AS s CROSS JOIN main.answer_options AS o ON o.question_id = s.target_id WHERE s.action = 'update'`,
        'CREATE INDEX temp.qbank_import_existing_options_seq ON qbank_import_existing_options (seq, k)',
        `UPDATE main.answer_options SET text = j.value, is_correct = (s.correct_mask >> j.key) & 1, "order" = e.k
         FROM temp.qbank_import_existing_options AS e JOIN ${S} AS s ON s.seq = e.seq JOIN json_each(s.options) AS j ON j.key = e.k
         WHERE answer_options.id = e.id
           AND (answer_options.text IS NOT j.value OR answer_options.is_correct IS NOT (s.correct_mask >> j.key) & 1 OR answer_options."order" IS NOT e.k)`,
        `DELETE FROM main.answer_options WHERE id IN (SELECT id FROM temp.qbank_import_existing_options WHERE k >= option_count)`,
        `INSERT INTO main.answer_options (id, question_id, text, is_correct, "order", created_at)
         SELECT lower(hex(randomblob(12))), s.target_id, j.value, (s.correct_mask >> j.key) & 1, j.key, ${now}
         FROM ${S} AS s, json_each(s.options) AS j
         WHERE s.action = 'update' AND NOT EXISTS (SELECT 1 FROM temp.qbank_import_existing_options AS e WHERE e.seq = s.seq AND e.k = j.key)`,
        'DROP TABLE temp.qbank_import_existing_options',
      ],
      0,
    );
  }

  /**
   * Reads what the classification decided, all in one batch (one round trip to a remote database):
   * rows matching the same question, rows `--mode insert` refuses, the counts, decisions an update
   * resets, and (when there is no problem) the ids, the look-alikes' new rows and the missing questions.
   */
  private async readOutcomes(typeFor: (existing: string) => string, missingRows: string): Promise<number> {
    const { runner, problems, mode, tally, reviewPolicy } = this.context;
    const S = STAGING_QUESTIONS;
    // rows that change nothing are listed, not staged: what SQL reads of the staged rows is combined with them
    const listed = this.kept && this.store ? { kept: this.kept, store: this.store } : undefined;
    if (reviewPolicy !== 'keep') await runner.send([this.reviewResetUpdate(typeFor)], 0);
    const reads = {
      shared: listed ? `SELECT seq, line, target_id, matched_by FROM ${S} WHERE target_id IS NOT NULL ORDER BY seq` : sharedMatchesQuery(S),
      ...(mode === 'insert'
        ? { existing: `SELECT line, target_id, matched_by FROM ${S} WHERE target_id IS NOT NULL ORDER BY seq LIMIT 20`, total: `SELECT count(*) AS n FROM ${S} WHERE target_id IS NOT NULL` }
        : {}),
      counts: `SELECT exam_code, action, count(*) AS n FROM ${S} GROUP BY exam_code, action`,
      ...(reviewPolicy !== 'keep'
        ? {
            reset: `SELECT s.target_id AS id, q.review_status AS previous, q.reviewed_by AS reviewed_by, s.line AS line FROM ${S} AS s JOIN main.questions AS q ON q.id = s.target_id
       WHERE s.review_reset = 1 ORDER BY s.seq`,
          }
        : {}),
      created: `SELECT line, exam_id AS grp, text FROM ${S} WHERE action = 'create' AND given_id IS NULL ORDER BY seq`,
      ids: stagedIdsQuery(S),
      reviewed: `SELECT s.seq AS seq, q.id AS id FROM ${S} AS s JOIN main.questions AS q ON q.id = s.target_id WHERE s.action = 'unchanged' AND q.review_status IN ('approved', 'rejected') ORDER BY s.seq`,
      missing: listed ? `SELECT DISTINCT exam_id FROM ${S}` : missingQuery(missingRows),
    };
    const names = Object.keys(reads) as Array<keyof typeof reads>;
    const results = await runner.query(names.map((name) => reads[name]!));
    const read = Object.fromEntries(names.map((name, at) => [name, results[at]])) as Record<keyof typeof reads, QueryResult>;
    const outcomes = listed ? new KeptOutcomes(listed.store, listed.kept, read.shared) : undefined;
    addSharedMatches(outcomes ? outcomes.sharedMatches() : read.shared, problems);
    if (read.existing) {
      for (const row of read.existing.rows) problems.add({ line: Number(row.line), message: `question already exists (id "${row.target_id}", matched by ${row.matched_by})` });
      problems.count += Number(read.total.rows[0].n) - read.existing.rows.length;
    }
    let changing = 0;
    for (const row of read.counts.rows) {
      tally.add(String(row.exam_code), OUTCOME_OF_ACTION[String(row.action)], Number(row.n));
      if (row.action === 'create' || row.action === 'update') changing += Number(row.n);
    }
    const keptAction = this.keptAction();
    if (listed) for (const [code, count] of listed.kept.counts) tally.add(code, OUTCOME_OF_ACTION[keptAction], count);
    if (read.reset) this.addReviewReset(read.reset);
    if (!problems.empty) return changing;
    await this.reportChanges(typeFor, read.created, outcomes);
    addStagedIds(read.ids, this.context.ids);
    const reviewed = outcomes ? outcomes.reviewed(read.reviewed, keptAction === 'unchanged') : read.reviewed.rows.map((row) => String(row.id));
    for (const id of reviewed) this.context.ids.unchangedReviewed.push(id);
    if (outcomes) {
      const missing = outcomes.missing(read.missing.rows.map((row) => String(row.exam_id)), this.codeOf);
      this.context.missing.push(...missing.groups);
      this.missingIds = missing.ids;
    } else addMissing(read.missing, this.context.missing);
    return changing;
  }

  /** Field by field, what the updates change (when asked); rows created without an id that look like existing questions. */
  private async reportChanges(typeFor: (existing: string) => string, created: QueryResult, outcomes?: KeptOutcomes): Promise<void> {
    const { runner, dryRun } = this.context;
    const S = STAGING_QUESTIONS;
    if (this.context.diff) this.context.diffs.push(...(await readPingToPassDiff(runner, S, typeFor)));
    await warnAboutLookAlikesOf(
      runner,
      created,
      `SELECT q.id AS id, q.exam_id AS grp, q.text AS text FROM main.questions AS q
       WHERE q.exam_id IN (SELECT DISTINCT exam_id FROM ${S} WHERE action = 'create' AND given_id IS NULL)
         AND q.id NOT IN (SELECT target_id FROM ${S} WHERE target_id IS NOT NULL) ORDER BY q.id`,
      (warning) => this.context.warnings.add(warning),
      dryRun,
      outcomes && ((id) => outcomes.isMatched(id)),
    );
  }

  /**
   * An update that changes what a reviewer decided on (the text, the options, the correct answer,
   * the explanation, the type) sends an approved or rejected question back to pending, unless the
   * row says its own review_status; the decision that was there is reported. Tags, references,
   * difficulty and the other fields keep the decision.
   */
  private reviewResetUpdate(typeFor: (existing: string) => string): string {
    const S = STAGING_QUESTIONS;
    const explanationBit = 1 << GIVEN_FIELDS.indexOf('explanation');
    return `UPDATE ${S} AS s SET review_reset = 1 WHERE s.action = 'update' AND s.review_status IS NULL AND EXISTS (
           SELECT 1 FROM main.questions AS q WHERE q.id = s.target_id AND q.review_status IN ('approved', 'rejected') AND (
             q.text IS NOT s.text OR q.type IS NOT ${typeFor('q.type')} OR (s.given & ${explanationBit} AND q.explanation IS NOT s.explanation)
             OR ${storedOptionsJson('q.id')}
                IS NOT (SELECT json_group_array(json_array(j.value, (s.correct_mask >> j.key) & 1) ORDER BY j.key) FROM json_each(s.options) AS j)))`;
  }

  /** The decisions the update resets; refused when so asked. */
  private addReviewReset(rows: QueryResult): void {
    const { reviewPolicy, reviewReset } = this.context;
    for (const row of rows.rows) reviewReset.push({ id: String(row.id), previous: String(row.previous), reviewedBy: row.reviewed_by === null ? null : String(row.reviewed_by), line: Number(row.line) });
    if (reviewPolicy === 'refuse' && reviewReset.length > 0) throw new ReviewedChangesError(reviewReset.map((entry) => entry.id));
  }
}

/**
 * Exams: a small table (tens of rows a file), matched by `code`. Existing rows are read per batch
 * and compared in JavaScript; the writes are built with Drizzle's query builder from the schema.
 */
export class PingToPassExamsTarget extends BatchedRowsTarget<PingToPassExam> {
  readonly groupLabel = 'vendor';

  constructor() {
    super('pingtopass-exams');
  }

  protected async flush(rows: PingToPassExam[]): Promise<void> {
    const { runner, tally, mode, dryRun, problems, database, now } = this.context;
    // The builder only writes SQL here; statements run in the import's transaction.
    const db = drizzle(database.client);
    const columns = getTableColumns(exams);
    const [existing] = await runner.query([
      { sql: `SELECT * FROM exams WHERE code IN (${rows.map(() => '?').join(',')})`, args: rows.map((row) => row.code) },
    ]);
    const byCode = new Map(existing.rows.map((row) => [String(row.code), row]));
    const statements: Statement[] = [];
    const built = (query: { toSQL(): { sql: string; params: unknown[] } }): Statement => {
      const { sql, params } = query.toSQL();
      return { sql, args: params as InValue[] };
    };
    for (const row of rows) {
      const vendor = String(row.values.vendor);
      const current = byCode.get(row.code);
      if (!current) {
        tally.add(vendor, 'created');
        const values = { ...row.values, id: row.givenId ?? this.context.newId(), code: row.code, createdAt: now, updatedAt: now } as typeof exams.$inferInsert;
        statements.push(built(db.insert(exams).values(values)));
        this.context.plannedExams.set(row.code, values.id!);
        continue;
      }
      if (row.givenId && row.givenId !== String(current.id)) {
        problems.add({ line: row.line, message: `exam ${row.code} exists with id "${current.id}", not "${row.givenId}"` });
        continue;
      }
      if (mode === 'insert') {
        problems.add({ line: row.line, message: `exam ${row.code} already exists` });
        continue;
      }
      if (mode === 'skip-existing') {
        tally.add(vendor, 'skipped');
        continue;
      }
      const changed = Object.entries(row.values).filter(([property, value]) => {
        const stored = current[columns[property as keyof typeof columns].name];
        return value === null || value === undefined ? stored !== null : typeof value === 'number' ? Number(stored) !== value : String(stored) !== String(value);
      });
      if (changed.length === 0) {
        tally.add(vendor, 'unchanged');
        continue;
      }
      tally.add(vendor, 'updated');
      statements.push(built(db.update(exams).set({ ...Object.fromEntries(changed), updatedAt: now }).where(eq(exams.id, String(current.id)))));
    }
    if (!dryRun && problems.empty) await runner.send(statements, statementBytes(statements));
  }
}
