import { RefusedError } from '../../errors.js';
import type { Database } from '../client.js';
import type { KeptRows } from './encoder.js';
import { IdList, type IdSequence } from './id-list.js';
import type { EncoderPlan } from './pipeline.js';
import type { ProblemLog } from './problems.js';
import type { BulkLoad, ImportRunner, QueryResult } from './runner.js';

export type ImportMode = 'upsert' | 'insert' | 'skip-existing';

export type Outcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'rejected';

export interface GroupCounts {
  group: string;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  rejected: number;
}

export class Tally {
  private readonly groups = new Map<string, GroupCounts>();

  add(group: string, outcome: Outcome, count = 1): void {
    let counts = this.groups.get(group);
    if (!counts) {
      counts = { group, created: 0, updated: 0, unchanged: 0, skipped: 0, rejected: 0 };
      this.groups.set(group, counts);
    }
    counts[outcome] += count;
  }

  list(): GroupCounts[] {
    return [...this.groups.values()].sort((a, b) => a.group.localeCompare(b.group));
  }
}

/** What a target works with: the transaction's runner, the settings, where problems and counts go. */
export interface ImportContext {
  database: Database;
  runner: ImportRunner;
  /** The file as the user named it, for messages. */
  file: string;
  mode: ImportMode;
  dryRun: boolean;
  now: Date;
  newId: () => string;
  problems: ProblemLog;
  tally: Tally;
  /**
   * Exams (code → id) an earlier file of the same run creates. A dry run writes nothing, so the
   * questions of a later file learn of them here.
   */
  plannedExams: Map<string, string>;
  /** What an update of an approved or rejected question's content does to its decision (see PingToPassQuestionsTarget). */
  reviewPolicy: ReviewPolicy;
  /** Decided questions the import sends back to pending, with the decision they had. */
  reviewReset: ReviewReset[];
  /** Ids of the questions created (or that would be) and updated; `assigned`: created from rows without an id. */
  ids: ImportedIds;
  /** Rows without an id a dry run into an empty bank would create: counted, not listed (it draws no ids). */
  assignedUnlisted: number;
  /** Deactivate the questions of the file's exams (channels) that the file does not have. */
  prune: boolean;
  /** Asked before pruning (not in a dry run), with what would be deactivated; false refuses the import. */
  confirmPrune?: (missing: MissingQuestions[]) => Promise<boolean>;
  /** Active questions of the file's exams (channels) the file does not have, per exam (channel). */
  missing: MissingQuestions[];
  /** Rows imported with something worth a look (a repeated text, a new row that looks like an existing question). */
  warnings: ProblemLog;
  /** Read, per updated question, each changed field's old and new value into `diffs`. */
  diff: boolean;
  diffs: QuestionDiff[];
}

/** One field of an updated question: what the database holds and what the import writes. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** The fields an import changes in one existing question, and the line of the file that changes them. */
export interface QuestionDiff {
  id: string;
  line: number;
  fields: FieldChange[];
}

export interface MissingQuestions {
  group: string;
  count: number;
  /** The first 20. */
  ids: string[];
}

/** Pruning was not confirmed: nothing is imported. */
export class PruneNotConfirmedError extends RefusedError {
  constructor(count: number) {
    super(`deactivating ${count} question${count === 1 ? '' : 's'} the file does not have was not confirmed; nothing was imported`);
  }
}

/** Asks (when the import has a way to) before the questions `missing` lists are deactivated. */
export async function confirmPruning(context: ImportContext): Promise<boolean> {
  if (!context.prune || context.missing.length === 0) return false;
  if (context.confirmPrune && !(await context.confirmPrune(context.missing))) throw new PruneNotConfirmedError(context.missing.reduce((sum, group) => sum + group.count, 0));
  return true;
}

/**
 * Counts, per group, the rows `missingRows` selects (columns `grp`, `id`), keeping the first ids.
 * `missingRows` reads the database before the import's rows are applied.
 */
export async function readMissing(runner: ImportRunner, missingRows: string, into: MissingQuestions[]): Promise<void> {
  const [rows] = await runner.query([missingQuery(missingRows)]);
  addMissing(rows, into);
}

/** The query of `readMissing`, for a batch of reads. */
export function missingQuery(missingRows: string): string {
  return `SELECT grp, count(*) AS n, json_group_array(id) AS ids FROM (${missingRows}) GROUP BY grp ORDER BY grp`;
}

export function addMissing(result: QueryResult, into: MissingQuestions[]): void {
  for (const row of result.rows) into.push({ group: String(row.grp), count: Number(row.n), ids: (JSON.parse(String(row.ids)) as string[]).slice(0, 20) });
}

export interface ImportedIds {
  /** The ids created (or that would be), those qbank gave to rows without one marked. */
  created: IdList;
  updated: IdList;
  /** The marked ids of `created`. */
  assigned: IdSequence;
  /** Approved or rejected questions the file left as they are (PingToPass; open-interview questions carry no decision). */
  unchangedReviewed: IdList;
}

export function importedIds(): ImportedIds {
  const created = new IdList();
  return { created, updated: new IdList(), assigned: created.marked(), unchangedReviewed: new IdList() };
}

/** Reads the ids of a staging table's created and updated rows (`given_id`, `new_id`, `target_id`, `action`). */
export async function readStagedIds(runner: ImportRunner, staging: string, ids: ImportedIds): Promise<void> {
  const [rows] = await runner.query([stagedIdsQuery(staging)]);
  addStagedIds(rows, ids);
}

/** The query of `readStagedIds`, for a batch of reads. */
export function stagedIdsQuery(staging: string): string {
  return `SELECT coalesce(target_id, given_id, new_id) AS id, action, given_id IS NULL AND target_id IS NULL AS assigned FROM ${staging} WHERE action IN ('create', 'update') ORDER BY seq`;
}

export function addStagedIds(result: QueryResult, ids: ImportedIds): void {
  for (const row of result.rows) {
    const id = String(row.id);
    if (row.action === 'update') ids.updated.push(id);
    else ids.created.push(id, Number(row.assigned) === 1);
  }
}

export type ReviewPolicy = 'reset' | 'keep' | 'refuse';

export interface ReviewReset {
  id: string;
  previous: string;
  reviewedBy: string | null;
  line: number;
}

/** The database half of one kind of import; the rows half is a `RowEncoder`. */
export interface ImportTarget {
  /** What the summary groups rows by: "exam", "channel", "vendor", "provider". */
  readonly groupLabel: string;
  /**
   * What the target fills with plain inserts into empty tables; on a `file:` database such an
   * import runs without foreign key enforcement (see `BulkLoad`, `ImportRunner.foreignKeysChecked`).
   */
  readonly bulkLoad?: BulkLoad;
  /** Reads what the encoder needs (exam codes...), prepares the write, and says how to encode. */
  begin(context: ImportContext): Promise<EncoderPlan>;
  /** Valid rows the encoder passed through rather than turning into statements. */
  accept(rows: unknown[]): Promise<void>;
  /** Rows that change nothing, which the encoder listed instead of staging (before `finish`). */
  acceptKept?(kept: KeptRows): void;
  /** Which rows created into an empty table had no id (`RowEncoder.assigned`), before `finish`. */
  acceptAssigned?(ranges: number[]): void;
  /** Matches, classifies and (unless dry-run or problems) writes; counts outcomes into the tally. */
  finish(): Promise<void>;
}

/**
 * A target for small tables (exams, certifications): valid rows are gathered into batches of 200,
 * and each batch is matched and written by `flush`.
 */
export abstract class BatchedRowsTarget<Row> implements ImportTarget {
  abstract readonly groupLabel: string;
  protected context!: ImportContext;
  private pending: Row[] = [];

  constructor(private readonly targetName: 'pingtopass-exams' | 'open-interview-certifications') {}

  async begin(context: ImportContext): Promise<EncoderPlan> {
    this.context = context;
    return { target: this.targetName };
  }

  async accept(rows: unknown[]): Promise<void> {
    for (const row of rows) this.pending.push(row as Row);
    if (this.pending.length >= 200) await this.drain();
  }

  async finish(): Promise<void> {
    await this.drain();
  }

  private async drain(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) await this.flush(rows);
  }

  protected abstract flush(rows: Row[]): Promise<void>;
}

/**
 * Rows of a staging table (`seq`, `line`, `target_id`, `matched_by`) that matched the same existing
 * question, by id or by text: each pair becomes a problem on the later line.
 */
export async function reportSharedMatches(runner: ImportRunner, problems: ProblemLog, staging: string): Promise<void> {
  const [conflicts] = await runner.query([sharedMatchesQuery(staging)]);
  addSharedMatches(conflicts, problems);
}

/** The query of `reportSharedMatches`, for a batch of reads. */
export function sharedMatchesQuery(staging: string): string {
  return `SELECT target_id, group_concat(line, ',' ORDER BY seq) AS lines, group_concat(matched_by, ',' ORDER BY seq) AS how FROM ${staging}
     WHERE target_id IS NOT NULL GROUP BY target_id HAVING count(*) > 1 ORDER BY min(seq) LIMIT 50`;
}

export function addSharedMatches(conflicts: QueryResult, problems: ProblemLog): void {
  for (const conflict of conflicts.rows) {
    const lines = String(conflict.lines).split(',').map(Number);
    problems.add({
      line: lines[1],
      message: `this row and line ${lines[0]} both match existing question "${conflict.target_id}" (by ${String(conflict.how).split(',').join(' and by ')}); merge them or give distinct ids`,
    });
  }
}
