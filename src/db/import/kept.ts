import type { KeptRows } from './encoder.js';
import { compareBinary, META, META_SIZE, REVIEW_CODES, type ExistingQuestions } from './existing.js';
import type { QueryResult } from './runner.js';

const STRIDE = 4;

/** Gathers KeptRows as the worker finds them. */
export class KeptList {
  private rows = new Int32Array(4096 * STRIDE);
  private count = 0;
  private readonly counts = new Map<string, number>();

  add(seq: number, line: number, at: number, byId: boolean, examCode: string): void {
    if ((this.count + 1) * STRIDE > this.rows.length) {
      const next = new Int32Array(this.rows.length * 2);
      next.set(this.rows);
      this.rows = next;
    }
    const i = this.count * STRIDE;
    this.rows[i] = seq;
    this.rows[i + 1] = line;
    this.rows[i + 2] = at;
    this.rows[i + 3] = byId ? 1 : 0;
    this.count++;
    this.counts.set(examCode, (this.counts.get(examCode) ?? 0) + 1);
  }

  result(): KeptRows {
    return { rows: this.rows.slice(0, this.count * STRIDE), counts: [...this.counts] };
  }
}

/** A staged row that matched a stored question (columns seq, line, target_id, matched_by). */
interface StagedMatch {
  seq: number;
  line: number;
  at: number;
  how: string;
}

/**
 * What SQL would have read from kept rows had they been staged: the questions two rows match,
 * the approved and rejected questions left as they are, the questions of the file's exams no row
 * matches. Each combines the kept rows with the staged rows' own matches, read from SQL.
 */
export class KeptOutcomes {
  /** Per stored question, the first kept row matching it (an index into `kept.rows`), -1 when none. */
  private readonly keptAt: Int32Array;
  private readonly staged: StagedMatch[];
  /** Stored questions matched by a kept or a staged row. */
  private readonly matched: Uint8Array;
  /** Kept rows matching a question a kept row before them matches. */
  private readonly repeats: number[] = [];
  private readonly keptCount: number;

  /** `staged`: every staged row with a target (SELECT seq, line, target_id, matched_by ... ORDER BY seq). */
  constructor(
    private readonly store: ExistingQuestions,
    private readonly kept: KeptRows,
    staged: QueryResult,
  ) {
    const size = store.ids.length;
    this.keptCount = kept.rows.length / STRIDE;
    this.keptAt = new Int32Array(size).fill(-1);
    this.matched = new Uint8Array(size);
    for (let k = 0; k < this.keptCount; k++) {
      const at = kept.rows[k * STRIDE + 2];
      if (this.keptAt[at] === -1) this.keptAt[at] = k;
      else this.repeats.push(k);
      this.matched[at] = 1;
    }
    this.staged = staged.rows.map((row) => ({ seq: Number(row.seq), line: Number(row.line), at: this.indexOf(String(row.target_id)), how: String(row.matched_by) }));
    for (const match of this.staged) if (match.at >= 0) this.matched[match.at] = 1;
  }

  /** The store is in SQLite's order of ids (BINARY): the index of `id`, -1 when absent. */
  private indexOf(id: string): number {
    const ids = this.store.ids;
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = compareBinary(ids[middle], id);
      if (order === 0) return middle;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /** Whether a kept or staged row matched stored question `id`. */
  isMatched(id: string): boolean {
    const at = this.indexOf(id);
    return at >= 0 && this.matched[at] === 1;
  }

  /**
   * Questions more than one row matches, as `sharedMatchesQuery` reads them from a staging table
   * holding every row: their lines and how each matched in the rows' order, the first 50 by their first row.
   */
  sharedMatches(): QueryResult {
    const groups = new Map<number, StagedMatch[]>();
    const keptMatch = (k: number): StagedMatch => {
      const i = k * STRIDE;
      return { seq: this.kept.rows[i], line: this.kept.rows[i + 1], at: this.kept.rows[i + 2], how: this.kept.rows[i + 3] === 1 ? 'id' : 'text' };
    };
    const join = (match: StagedMatch) => {
      let group = groups.get(match.at);
      if (!group) {
        group = this.keptAt[match.at] >= 0 ? [keptMatch(this.keptAt[match.at])] : [];
        groups.set(match.at, group);
      }
      group.push(match);
    };
    for (const k of this.repeats) join(keptMatch(k));
    for (const match of this.staged) if (match.at >= 0) join(match);
    const shared = [...groups.values()].filter((group) => group.length > 1).map((group) => group.sort((a, b) => a.seq - b.seq));
    shared.sort((a, b) => a[0].seq - b[0].seq);
    return {
      rows: shared.slice(0, 50).map((group) => ({
        target_id: this.store.ids[group[0].at],
        lines: group.map((match) => match.line).join(','),
        how: group.map((match) => match.how).join(','),
      })),
    };
  }

  /**
   * The approved and rejected questions rows leave as they are: `staged` (rows of seq, id) merged in
   * the rows' order with the kept rows, when those count as unchanged (not skipped).
   */
  reviewed(staged: QueryResult, keptUnchanged: boolean): string[] {
    const entries: Array<[number, string]> = staged.rows.map((row) => [Number(row.seq), String(row.id)]);
    if (!keptUnchanged) return entries.map((entry) => entry[1]);
    const approved = REVIEW_CODES.indexOf('approved');
    const rejected = REVIEW_CODES.indexOf('rejected');
    for (let k = 0; k < this.keptCount; k++) {
      const at = this.kept.rows[k * STRIDE + 2];
      const review = this.store.meta[at * META_SIZE + META.review];
      if (review === approved || review === rejected) entries.push([this.kept.rows[k * STRIDE], this.store.ids[at]]);
    }
    return entries.sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
  }

  /**
   * Active questions (is_active 1 or NULL) of the file's exams that no row matched, per exam code
   * in code order, in id order within one; `stagedExams` are the staged rows' exam ids, `codeOf` the
   * exams there are (a question of an exam that is not there is left out, as SQL's join leaves it).
   */
  missing(stagedExams: string[], codeOf: Map<string, string>): { groups: Array<{ group: string; count: number; ids: string[] }>; ids: string[] } {
    const { ids, examIds, meta } = this.store;
    const inFile = new Uint8Array(examIds.length);
    const examIndex = new Map(examIds.map((id, index) => [id, index]));
    for (const id of stagedExams) {
      const exam = examIndex.get(id);
      if (exam !== undefined) inFile[exam] = 1;
    }
    for (let k = 0; k < this.keptCount; k++) inFile[meta[this.kept.rows[k * STRIDE + 2] * META_SIZE + META.exam]] = 1;
    const byCode = new Map<string, string[]>();
    const all: string[] = [];
    for (let at = 0; at < ids.length; at++) {
      const m = at * META_SIZE;
      const active = meta[m + META.isActive];
      if (this.matched[at] === 1 || inFile[meta[m + META.exam]] === 0 || (active !== 1 && active !== -1)) continue;
      const code = codeOf.get(examIds[meta[m + META.exam]]);
      if (code === undefined) continue;
      let group = byCode.get(code);
      if (!group) byCode.set(code, (group = []));
      group.push(ids[at]);
      all.push(ids[at]);
    }
    const groups = [...byCode].sort((a, b) => compareBinary(a[0], b[0])).map(([group, list]) => ({ group, count: list.length, ids: list.slice(0, 20) }));
    return { groups, ids: all };
  }
}
