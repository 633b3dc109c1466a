import { createHash } from 'node:crypto';
import type { CheckQuestion, RawFinding, Thresholds } from './model.js';
import { normaliseText } from './question-rules.js';

/**
 * The rules that judge questions against each other: exact and near duplicates, and the skew of an
 * exam's answer key. Questions are fed one at a time; only what each rule needs is kept (a hash of
 * the stem, a MinHash signature, counters per exam), so a 200k-question bank fits in memory.
 */

const MINHASH_BANDS = 16;
const MINHASH_ROWS = 4;
const MINHASH_SIZE = MINHASH_BANDS * MINHASH_ROWS;

interface ExamKeyStats {
  singleWithFour: number;
  correctAtPosition: number[];
  judged: number;
  longestCorrect: number;
}

interface StoredStem {
  id: string;
  group: string | null;
  shingles: Uint32Array;
}

export class BankRules {
  private readonly exact = new Map<string, { group: string | null; ids: string[] }>();
  private readonly stems: StoredStem[] = [];
  /** One map per LSH band: band hash → the stems in that bucket (a number until a second one arrives). */
  private readonly buckets = Array.from({ length: MINHASH_BANDS }, () => new Map<number, number | number[]>());
  private readonly exams = new Map<string, ExamKeyStats>();
  private readonly seeds: Uint32Array;

  constructor(
    private readonly thresholds: Thresholds,
    /** PingToPass: duplicates within one exam; open-interview: across the bank. */
    private readonly duplicatesWithinGroup: boolean,
    private readonly near: boolean,
  ) {
    this.seeds = new Uint32Array(MINHASH_SIZE);
    for (let i = 0; i < MINHASH_SIZE; i++) this.seeds[i] = (Math.imul(i + 1, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  }

  add(question: CheckQuestion): void {
    const normalised = normaliseText(question.text);
    const scope = this.duplicatesWithinGroup ? `${question.group ?? ''}\u0000` : '';
    const key = createHash('sha1').update(scope + normalised).digest('base64');
    const entry = this.exact.get(key);
    if (entry) entry.ids.push(question.id);
    else {
      this.exact.set(key, { group: question.group, ids: [question.id] });
      if (this.near) this.addNear(question, normalised, scope);
    }
    if (question.group !== null && question.options.length > 0) this.addKeyStats(question);
  }

  private addNear(question: CheckQuestion, normalised: string, scope: string): void {
    const shingles = shinglesOf(normalised, this.thresholds.shingleWords);
    if (shingles.length === 0) return;
    const index = this.stems.length;
    this.stems.push({ id: question.id, group: question.group, shingles });
    const signature = this.minhash(shingles);
    const scopeHash = hash32(scope);
    for (let band = 0; band < MINHASH_BANDS; band++) {
      let bucket = scopeHash;
      for (let row = band * MINHASH_ROWS; row < (band + 1) * MINHASH_ROWS; row++) bucket = Math.imul(bucket ^ signature[row]!, 0x01000193) >>> 0;
      const members = this.buckets[band]!.get(bucket);
      if (members === undefined) this.buckets[band]!.set(bucket, index);
      else if (typeof members === 'number') this.buckets[band]!.set(bucket, [members, index]);
      else members.push(index);
    }
  }

  private minhash(shingles: Uint32Array): Uint32Array {
    const signature = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
    for (const shingle of shingles) {
      for (let i = 0; i < MINHASH_SIZE; i++) {
        let h = Math.imul(shingle ^ this.seeds[i]!, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35) >>> 0;
        if (h < signature[i]!) signature[i] = h;
      }
    }
    return signature;
  }

  private addKeyStats(question: CheckQuestion): void {
    let stats = this.exams.get(question.group!);
    if (!stats) this.exams.set(question.group!, (stats = { singleWithFour: 0, correctAtPosition: [], judged: 0, longestCorrect: 0 }));
    const options = question.options;
    const correct = options.map((option, index) => (option.isCorrect ? index : -1)).filter((index) => index >= 0);
    if (question.type === 'single' && options.length >= 4 && correct.length === 1) {
      stats.singleWithFour++;
      stats.correctAtPosition[correct[0]!] = (stats.correctAtPosition[correct[0]!] ?? 0) + 1;
    }
    if (correct.length === 1 && options.length >= 2) {
      stats.judged++;
      const lengths = options.map((option) => option.text.trim().length);
      const correctLength = lengths[correct[0]!]!;
      if (lengths.every((length, index) => index === correct[0] || length < correctLength)) stats.longestCorrect++;
    }
  }

  findings(): RawFinding[] {
    return [...this.duplicateFindings(), ...this.nearDuplicateFindings(), ...this.keyFindings()];
  }

  private duplicateFindings(): RawFinding[] {
    const found: RawFinding[] = [];
    for (const { group, ids } of this.exact.values()) {
      if (ids.length < 2) continue;
      const where = this.duplicatesWithinGroup && group !== null ? ` in ${group}` : '';
      found.push({ rule: 'duplicate-question', table: 'questions', id: ids[0]!, group, message: `${ids.length} questions${where} have the same text`, related: ids.slice(1) });
    }
    return found;
  }

  private nearDuplicateFindings(): RawFinding[] {
    const pairs = new Set<string>();
    const found: RawFinding[] = [];
    for (const members of this.collidingBuckets()) {
      for (let a = 0; a < members.length; a++) {
        for (let b = a + 1; b < members.length; b++) {
          const key = `${members[a]}:${members[b]}`;
          if (pairs.has(key)) continue;
          pairs.add(key);
          const first = this.stems[members[a]!]!;
          const second = this.stems[members[b]!]!;
          const similarity = jaccard(first.shingles, second.shingles);
          if (similarity < this.thresholds.nearDuplicateJaccard) continue;
          found.push({ rule: 'near-duplicate-question', table: 'questions', id: first.id, group: first.group, message: `its text is ${(similarity * 100).toFixed(0)}% the same as ${second.id}'s`, related: [second.id] });
        }
      }
    }
    return found;
  }

  private *collidingBuckets(): Generator<number[]> {
    for (const band of this.buckets) for (const members of band.values()) if (typeof members !== 'number') yield members;
  }

  private keyFindings(): RawFinding[] {
    const found: RawFinding[] = [];
    const t = this.thresholds;
    for (const [exam, stats] of this.exams) {
      if (stats.singleWithFour >= t.positionBiasMinQuestions) {
        stats.correctAtPosition.forEach((count, position) => {
          const share = count / stats.singleWithFour;
          if (share > t.positionBiasShare) {
            found.push({ rule: 'answer-position-bias', table: 'exams', id: exam, group: exam, message: `option ${String.fromCharCode(65 + position)} is correct in ${count} of ${stats.singleWithFour} single-answer questions (${(share * 100).toFixed(0)}%)`, related: [] });
          }
        });
      }
      if (stats.judged >= t.longestCorrectMinQuestions && stats.longestCorrect / stats.judged > t.longestCorrectShare) {
        found.push({ rule: 'longest-option-correct', table: 'exams', id: exam, group: exam, message: `the correct option is the longest in ${stats.longestCorrect} of ${stats.judged} questions (${((stats.longestCorrect / stats.judged) * 100).toFixed(0)}%)`, related: [] });
      }
    }
    return found;
  }
}

function shinglesOf(normalised: string, size: number): Uint32Array {
  const words = normalised.split(' ').filter((word) => word.length > 0);
  const set = new Set<number>();
  if (words.length < size) {
    if (words.length > 0) set.add(hash32(words.join(' ')));
  } else for (let i = 0; i + size <= words.length; i++) set.add(hash32(words.slice(i, i + size).join(' ')));
  return Uint32Array.from([...set].sort((a, b) => a - b));
}

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Jaccard similarity of two sorted sets. */
function jaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return shared / (a.length + b.length - shared);
}
