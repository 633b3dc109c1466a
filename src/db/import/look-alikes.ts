import type { Problem } from './problems.js';
import type { ImportRunner, QueryResult } from './runner.js';

/**
 * Rows without an id that an import creates, next to existing questions of the same exam (or
 * channel) with nearly the same text: most often a question edited in the file, which the import
 * adds as a second question instead of updating the first. Each such row gets a warning naming
 * the question it looks like.
 *
 * Similarity is the Jaccard index of the two texts' word sets (lower-cased, punctuation left out).
 * Only pairs that can reach the threshold are compared: word sets within the threshold's length
 * band, sharing a word among the rarest few of each (prefix filtering: two sets with a Jaccard
 * index of t or more share one of the first |x| - ceil(t·|x|) + 1 words of each, in any fixed
 * order). Rare words first keeps the lists short, so the work grows with the rows created, not
 * with the square of the exam's size.
 */

export const LOOK_ALIKE_THRESHOLD = 0.8;

export interface NewRow {
  line: number;
  group: string;
  text: string;
}

export interface ExistingQuestion {
  id: string;
  group: string;
  text: string;
}

export interface LookAlike {
  line: number;
  id: string;
  similarity: number;
}

function wordsOf(text: string): string[] {
  return [...new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0))];
}

function prefixLength(size: number, threshold: number): number {
  return size - Math.ceil(threshold * size - 1e-9) + 1;
}

/** Size of the intersection of two sorted arrays of word ranks. */
function overlap(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return common;
}

/** For each new row, the most similar existing question of its group at or above `threshold`, if any. */
export function findLookAlikes(rows: NewRow[], existing: ExistingQuestion[], threshold = LOOK_ALIKE_THRESHOLD): LookAlike[] {
  const found: LookAlike[] = [];
  const byGroup = new Map<string, ExistingQuestion[]>();
  for (const question of existing) {
    let list = byGroup.get(question.group);
    if (!list) byGroup.set(question.group, (list = []));
    list.push(question);
  }
  const rowsByGroup = new Map<string, NewRow[]>();
  for (const row of rows) {
    let list = rowsByGroup.get(row.group);
    if (!list) rowsByGroup.set(row.group, (list = []));
    list.push(row);
  }
  for (const [group, groupRows] of rowsByGroup) {
    const questions = byGroup.get(group);
    if (questions) found.push(...lookAlikesInGroup(groupRows, questions, threshold));
  }
  return found.sort((a, b) => a.line - b.line);
}

function lookAlikesInGroup(rows: NewRow[], questions: ExistingQuestion[], threshold: number): LookAlike[] {
  const questionWords = questions.map((question) => wordsOf(question.text));
  const rowWords = rows.map((row) => wordsOf(row.text));
  // words ranked rarest first (then by spelling, so the order is the same on every run)
  const frequency = new Map<string, number>();
  for (const words of [...questionWords, ...rowWords]) for (const word of words) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  const ranked = [...frequency.keys()].sort((a, b) => frequency.get(a)! - frequency.get(b)! || (a < b ? -1 : 1));
  const rank = new Map(ranked.map((word, index) => [word, index]));
  const ranks = (words: string[]) => Int32Array.from(words.map((word) => rank.get(word)!)).sort();
  const questionRanks = questionWords.map(ranks);
  const index = new Map<number, number[]>();
  questionRanks.forEach((set, at) => {
    for (let k = 0; k < Math.min(set.length, prefixLength(set.length, threshold)); k++) {
      let list = index.get(set[k]);
      if (!list) index.set(set[k], (list = []));
      list.push(at);
    }
  });
  const found: LookAlike[] = [];
  rows.forEach((row, at) => {
    const set = ranks(rowWords[at]);
    if (set.length === 0) return;
    const seen = new Set<number>();
    let best: LookAlike | undefined;
    for (let k = 0; k < Math.min(set.length, prefixLength(set.length, threshold)); k++) {
      for (const candidate of index.get(set[k]) ?? []) {
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        const other = questionRanks[candidate];
        if (other.length < threshold * set.length || set.length < threshold * other.length) continue;
        const common = overlap(set, other);
        const similarity = common / (set.length + other.length - common);
        if (similarity >= threshold && (!best || similarity > best.similarity)) best = { line: row.line, id: questions[candidate].id, similarity };
      }
    }
    if (best) found.push(best);
  });
  return found;
}

/** The warning a look-alike row gets. */
export function lookAlikeWarning(found: LookAlike, dryRun: boolean): Problem {
  const percent = Math.min(99, Math.floor(found.similarity * 100));
  const how = found.similarity >= 1 ? 'the same words' : `${percent}% the same text`;
  return {
    line: found.line,
    message: `no id; looks like question ${found.id} (${how}): it ${dryRun ? 'would be' : 'will be'} created, not updated; add its id to update it`,
  };
}

/**
 * Reads the rows an import creates without an id and the existing questions of their groups that
 * no row of the file matched, and warns about the look-alikes. `newRows` and `existingRows` are
 * SQL selecting (line, grp, text) and (id, grp, text).
 */
export async function warnAboutLookAlikes(runner: ImportRunner, newRows: string, existingRows: string, warn: (problem: Problem) => void, dryRun: boolean): Promise<void> {
  const [created] = await runner.query([newRows]);
  await warnAboutLookAlikesOf(runner, created, existingRows, warn, dryRun);
}

/**
 * `warnAboutLookAlikes` with the new rows already read (in a batch of reads); `leaveOut`: existing
 * questions a row matched that `existingRows` cannot tell (rows listed rather than staged).
 */
export async function warnAboutLookAlikesOf(
  runner: ImportRunner,
  created: QueryResult,
  existingRows: string,
  warn: (problem: Problem) => void,
  dryRun: boolean,
  leaveOut?: (id: string) => boolean,
): Promise<void> {
  if (created.rows.length === 0) return;
  const [stored] = await runner.query([existingRows]);
  const rows = created.rows.map((row) => ({ line: Number(row.line), group: String(row.grp), text: String(row.text) }));
  const existing = stored.rows.map((row) => ({ id: String(row.id), group: String(row.grp), text: String(row.text) })).filter((row) => !leaveOut?.(row.id));
  for (const found of findLookAlikes(rows, existing)) warn(lookAlikeWarning(found, dryRun));
}
