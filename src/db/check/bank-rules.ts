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
/** A band value shared by more stems than this is a stock phrase, not a sign of duplicates: that bucket is not compared pairwise. */
const MAX_BUCKET = 64;
/** Bits of a stem's index packed under its 32-bit band value in a float64 (exact below 2^53). */
const INDEX_BITS = 21;
const INDEX_SCALE = 2 ** INDEX_BITS;

interface ExamKeyStats {
  singleWithFour: number;
  correctAtPosition: number[];
  judged: number;
  longestCorrect: number;
}

export class BankRules {
  private readonly exact = new Map<string, { group: string | null; ids: string[] }>();
  /** Near duplicates: per stem its id and group and one hash per LSH band (flat typed arrays). */
  private readonly stemIds: string[] = [];
  private readonly stemGroups: Array<string | null> = [];
  /** The MinHash signature of the stem being added: only its band hashes are kept. */
  private readonly signature = new Uint32Array(MINHASH_SIZE);
  private bands = new Uint32Array(MINHASH_BANDS * 1024);
  /** Each stem's sorted shingle hashes, end to end, for the exact similarity of candidate pairs. */
  private shingles = new Uint32Array(64 * 1024);
  private shingleEnds = new Uint32Array(1024);
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
    const index = this.stemIds.length;
    if (shingles.length === 0 || index >= INDEX_SCALE) return;
    this.stemIds.push(question.id);
    this.stemGroups.push(question.group);
    if ((index + 1) * MINHASH_BANDS > this.bands.length) {
      this.bands = grown(this.bands);
      this.shingleEnds = grown(this.shingleEnds);
    }
    const start = index === 0 ? 0 : this.shingleEnds[index - 1]!;
    while (start + shingles.length > this.shingles.length) this.shingles = grown(this.shingles);
    this.shingles.set(shingles, start);
    this.shingleEnds[index] = start + shingles.length;
    const signature = this.signature;
    this.minhash(shingles, signature);
    const scopeHash = hash32(scope);
    for (let band = 0; band < MINHASH_BANDS; band++) {
      let bucket = scopeHash;
      for (let row = band * MINHASH_ROWS; row < (band + 1) * MINHASH_ROWS; row++) bucket = Math.imul(bucket ^ signature[row]!, 0x01000193) >>> 0;
      this.bands[index * MINHASH_BANDS + band] = bucket;
    }
  }

  private minhash(shingles: Uint32Array, signature: Uint32Array): void {
    signature.fill(0xffffffff);
    for (const shingle of shingles) {
      for (let i = 0; i < MINHASH_SIZE; i++) {
        let h = Math.imul(shingle ^ this.seeds[i]!, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35) >>> 0;
        if (h < signature[i]!) signature[i] = h;
      }
    }
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

  /**
   * LSH by sorting rather than hash maps (a few MB for 200k stems): per band, stems sorted by their
   * band hash; stems in one run share that band and are compared by their exact word-shingle
   * Jaccard similarity.
   */
  private nearDuplicateFindings(): RawFinding[] {
    const count = this.stemIds.length;
    const compared = new Set<number>();
    const found: RawFinding[] = [];
    const keys = new Float64Array(count);
    for (let band = 0; band < MINHASH_BANDS; band++) {
      for (let index = 0; index < count; index++) keys[index] = this.bands[index * MINHASH_BANDS + band]! * INDEX_SCALE + index;
      keys.sort();
      for (let start = 0; start < count; ) {
        const value = Math.floor(keys[start]! / INDEX_SCALE);
        let end = start + 1;
        while (end < count && Math.floor(keys[end]! / INDEX_SCALE) === value) end++;
        if (end - start > 1 && end - start <= MAX_BUCKET) this.compareRun(keys, start, end, compared, found);
        start = end;
      }
    }
    return found;
  }

  private compareRun(keys: Float64Array, start: number, end: number, compared: Set<number>, found: RawFinding[]): void {
    const count = this.stemIds.length;
    for (let a = start; a < end; a++) {
      for (let b = a + 1; b < end; b++) {
        const first = Math.min(keys[a]! % INDEX_SCALE, keys[b]! % INDEX_SCALE);
        const second = Math.max(keys[a]! % INDEX_SCALE, keys[b]! % INDEX_SCALE);
        const pair = first * count + second;
        if (compared.has(pair)) continue;
        compared.add(pair);
        const similarity = this.jaccard(first, second);
        if (similarity < this.thresholds.nearDuplicateJaccard) continue;
        found.push({ rule: 'near-duplicate-question', table: 'questions', id: this.stemIds[first]!, group: this.stemGroups[first]!, message: `its text is ${(similarity * 100).toFixed(0)}% the same as ${this.stemIds[second]}'s`, related: [this.stemIds[second]!] });
      }
    }
  }

  /** Jaccard similarity of two stems' sorted shingle sets. */
  private jaccard(first: number, second: number): number {
    const a = this.shingles.subarray(first === 0 ? 0 : this.shingleEnds[first - 1]!, this.shingleEnds[first]!);
    const b = this.shingles.subarray(second === 0 ? 0 : this.shingleEnds[second - 1]!, this.shingleEnds[second]!);
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

function grown(array: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** The sorted, distinct hashes of a stem's runs of `size` words (each word hashed once). */
function shinglesOf(normalised: string, size: number): Uint32Array {
  const words = normalised.split(' ').filter((word) => word.length > 0).map(hash32);
  const set = new Set<number>();
  const combine = (from: number, to: number) => {
    let h = 0x9747b28c;
    for (let i = from; i < to; i++) h = Math.imul(h ^ words[i]!, 0x01000193) >>> 0;
    return h;
  };
  if (words.length < size) {
    if (words.length > 0) set.add(combine(0, words.length));
  } else for (let i = 0; i + size <= words.length; i++) set.add(combine(i, i + size));
  return Uint32Array.from(set).sort();
}

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
