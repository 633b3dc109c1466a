import type { CheckQuestion, RawFinding, Thresholds } from './model.js';
import { fmix, hashString, shingleHashes, StemReader } from './stems.js';

/**
 * The rules that judge questions against each other: exact and near duplicates, and the skew of an
 * exam's answer key. Questions are fed one at a time; only what each rule needs is kept, in flat
 * typed arrays: per stem a 64-bit key of its words, one hash per LSH band, and its shingles as
 * sorted 16-bit values (about 250 bytes a question with its id), so a 200k-question bank takes
 * some 50 MB.
 *
 * Near duplicates: MinHash by four rounds of one-permutation hashing (each shingle hashed four
 * times, each time into one of 16 bins; an empty bin takes its neighbour's value), 16 bands of 4
 * bins of one round; stems that share a band are compared by the Jaccard similarity of their
 * shingle sets. Four rounds of 16 bins rather than one of 64: a stem of 40 words fills most of 16
 * bins, where most of 64 would be filled from neighbours and its bands would hang on a few shingles.
 */

const ROUNDS = 4;
const ROUND_BINS = 16;
const BINS = ROUNDS * ROUND_BINS;
const BANDS = 16;
const ROWS = BINS / BANDS;
const ROUND_SEEDS = [0x9e3779b9, 0x7f4a7c15, 0x85ebca6b, 0xc2b2ae35];
/** A band value shared by more stems than this is a stock phrase, not a sign of duplicates: that bucket is not compared pairwise. */
const MAX_BUCKET = 64;
/** Bits of a stem's index packed under a 32-bit hash in a float64 (exact below 2^53): up to 2M stems are compared. */
const INDEX_BITS = 21;
const INDEX_SCALE = 2 ** INDEX_BITS;
const EMPTY = 0xffffffff;
/** Shingles per chunk of storage (2 MB). */
const SHINGLE_CHUNK = 1 << 20;

interface ExamKeyStats {
  singleWithFour: number;
  correctAtPosition: number[];
  judged: number;
  longestCorrect: number;
}

function grown<T extends Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(array: T, size: number): T {
  if (size <= array.length) return array;
  const bigger = new (array.constructor as new (length: number) => T)(size);
  bigger.set(array);
  return bigger;
}

export class BankRules {
  private count = 0;
  private readonly ids: string[] = [];
  private readonly groups: Array<string | null> = [];
  /** Group names are held once, whichever row's string they came from. */
  private readonly groupNames = new Map<string, string>();
  private readonly groupSeeds = new Map<string, number>();
  private lines = new Int32Array(1024);
  private exactA = new Uint32Array(1024);
  private exactB = new Uint32Array(1024);
  private bands = new Uint32Array(1024 * BANDS);
  /** Each stem's shingles: [start, end) in `chunks` read end to end. */
  private shingleStarts = new Uint32Array(1024);
  private shingleEnds = new Uint32Array(1024);
  /** Fixed-size chunks rather than one array that grows: no copies, and no room held beyond the last chunk. */
  private readonly chunks: Uint16Array[] = [];
  private chunkUsed = SHINGLE_CHUNK;
  private readonly reader = new StemReader();
  private readonly hashes = { buffer: new Uint32Array(256) };
  private readonly bins = new Uint32Array(BINS);
  private readonly dense = new Uint32Array(BINS);
  private readonly exams = new Map<string, ExamKeyStats>();

  constructor(
    private readonly thresholds: Thresholds,
    /** PingToPass: duplicates within one exam; open-interview: across the bank. */
    private readonly duplicatesWithinGroup: boolean,
    private readonly near: boolean,
  ) {}

  add(question: CheckQuestion): void {
    if (question.group !== null && question.options.length > 0) this.addKeyStats(question);
    const index = this.count;
    if (index >= INDEX_SCALE) return;
    this.count++;
    if (index >= this.exactA.length) this.reserve(Math.ceil(this.exactA.length * 1.5));
    let group = question.group;
    if (group !== null) {
      const known = this.groupNames.get(group);
      if (known === undefined) this.groupNames.set(group, group);
      else group = known;
    }
    this.ids.push(question.id);
    this.groups.push(group);
    this.lines[index] = question.line ?? 0;
    this.reader.read(question.text, this.duplicatesWithinGroup ? (group ?? '') : '');
    this.exactA[index] = this.reader.exactA;
    this.exactB[index] = this.reader.exactB;
    this.shingleStarts[index] = 0;
    this.shingleEnds[index] = 0;
    if (this.near) this.addNear(index);
  }

  /** Room for `stems` questions in one step, when their number is known or estimated (saves the copies of growing). */
  reserve(stems: number): void {
    const size = Math.min(INDEX_SCALE, Math.max(stems, this.count));
    if (size <= this.exactA.length) return;
    this.lines = grown(this.lines, size);
    this.exactA = grown(this.exactA, size);
    this.exactB = grown(this.exactB, size);
    this.shingleStarts = grown(this.shingleStarts, size);
    this.shingleEnds = grown(this.shingleEnds, size);
    if (this.near) this.bands = grown(this.bands, size * BANDS);
  }

  private addNear(index: number): void {
    const hashes = this.hashes.buffer;
    // no words: nothing to compare (bands stay 0, the stem is left out of every bucket)
    const n = Math.min(SHINGLE_CHUNK, shingleHashes(this.reader, this.thresholds.shingleWords, this.hashes));
    if (n === 0) return;
    if (this.chunkUsed + n > SHINGLE_CHUNK) {
      this.chunks.push(new Uint16Array(SHINGLE_CHUNK));
      this.chunkUsed = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1]!;
    const own = chunk.subarray(this.chunkUsed, this.chunkUsed + n);
    for (let i = 0; i < n; i++) own[i] = hashes[i]! & 0xffff;
    own.sort();
    let distinct = 1;
    for (let i = 1; i < n; i++) if (own[i] !== own[distinct - 1]) own[distinct++] = own[i]!;
    const start = (this.chunks.length - 1) * SHINGLE_CHUNK + this.chunkUsed;
    this.shingleStarts[index] = start;
    this.shingleEnds[index] = start + distinct;
    this.chunkUsed += distinct;
    this.signature(hashes, n);
    // PingToPass compares within an exam: the exam is part of every bucket
    const scope = this.duplicatesWithinGroup ? this.groupSeed(this.groups[index]!) : 0;
    const dense = this.dense;
    for (let band = 0; band < BANDS; band++) {
      let bucket = fmix(band + 1) ^ scope;
      for (let row = band * ROWS; row < (band + 1) * ROWS; row++) bucket = Math.imul(bucket ^ dense[row]!, 0x01000193) >>> 0;
      // 0 marks "no stem": a real bucket is never 0
      this.bands[index * BANDS + band] = bucket === 0 ? 1 : bucket;
    }
  }

  private groupSeed(group: string | null): number {
    if (group === null) return 0;
    let seed = this.groupSeeds.get(group);
    if (seed === undefined) this.groupSeeds.set(group, (seed = fmix(hashString(group, 0x811c9dc5))));
    return seed;
  }

  /** The MinHash values of the shingle hashes into `dense`: per round, the least value of each bin; an empty bin takes its right neighbour's. */
  private signature(hashes: Uint32Array, n: number): void {
    const bins = this.bins;
    bins.fill(EMPTY);
    for (let i = 0; i < n; i++) {
      const shingle = hashes[i]!;
      for (let round = 0; round < ROUNDS; round++) {
        const h = round === 0 ? shingle : fmix(shingle ^ ROUND_SEEDS[round]!);
        const bin = round * ROUND_BINS + (h >>> 28);
        const value = h & 0xfffffff;
        if (value < bins[bin]!) bins[bin] = value;
      }
    }
    const dense = this.dense;
    for (let bin = 0; bin < BINS; bin++) {
      if (bins[bin] !== EMPTY) {
        dense[bin] = bins[bin]!;
        continue;
      }
      const first = bin - (bin % ROUND_BINS);
      let distance = 1;
      while (bins[first + ((bin - first + distance) % ROUND_BINS)] === EMPTY) distance++;
      dense[bin] = fmix(bins[first + ((bin - first + distance) % ROUND_BINS)]! + Math.imul(distance, 0x9e3779b1)) | 0x80000000;
    }
  }

  private addKeyStats(question: CheckQuestion): void {
    let stats = this.exams.get(question.group!);
    if (!stats) this.exams.set(question.group!, (stats = { singleWithFour: 0, correctAtPosition: [], judged: 0, longestCorrect: 0 }));
    const options = question.options;
    let correctIndex = -1;
    let correctCount = 0;
    for (let index = 0; index < options.length; index++) {
      if (!options[index]!.isCorrect) continue;
      correctCount++;
      correctIndex = index;
    }
    if (question.type === 'single' && options.length >= 4 && correctCount === 1) {
      stats.singleWithFour++;
      stats.correctAtPosition[correctIndex] = (stats.correctAtPosition[correctIndex] ?? 0) + 1;
    }
    if (correctCount === 1 && options.length >= 2) {
      stats.judged++;
      const correctLength = options[correctIndex]!.text.trim().length;
      if (options.every((option, index) => index === correctIndex || option.text.trim().length < correctLength)) stats.longestCorrect++;
    }
  }

  findings(): RawFinding[] {
    const repeated = new Uint8Array(this.count);
    return [...this.duplicateFindings(repeated), ...(this.near ? this.nearDuplicateFindings(repeated) : []), ...this.keyFindings()];
  }

  private located(index: number, finding: RawFinding): RawFinding {
    const line = this.lines[index]!;
    return line > 0 ? { ...finding, line } : finding;
  }

  /** Stems sorted by their exact key; each run of one key is a duplicate group. Marks the repeats in `repeated`. */
  private duplicateFindings(repeated: Uint8Array): RawFinding[] {
    const count = this.count;
    const keys = new Float64Array(count);
    for (let index = 0; index < count; index++) keys[index] = this.exactA[index]! * INDEX_SCALE + index;
    keys.sort();
    const groups: number[][] = [];
    for (let start = 0; start < count; ) {
      const value = Math.floor(keys[start]! / INDEX_SCALE);
      let end = start + 1;
      while (end < count && Math.floor(keys[end]! / INDEX_SCALE) === value) end++;
      if (end - start > 1) {
        const byB = new Map<number, number[]>();
        for (let k = start; k < end; k++) {
          const index = keys[k]! % INDEX_SCALE;
          const same = byB.get(this.exactB[index]!);
          if (same) same.push(index);
          else byB.set(this.exactB[index]!, [index]);
        }
        for (const members of byB.values()) if (members.length > 1) groups.push(members);
      }
      start = end;
    }
    groups.sort((a, b) => a[0]! - b[0]!);
    return groups.map((members) => {
      for (const index of members.slice(1)) repeated[index] = 1;
      const first = members[0]!;
      const group = this.groups[first]!;
      const where = this.duplicatesWithinGroup && group !== null ? ` in ${group}` : '';
      const ids = members.map((index) => this.ids[index]!);
      return this.located(first, { rule: 'duplicate-question', table: 'questions', id: ids[0]!, group, message: `${ids.length} questions${where} have the same text`, related: ids.slice(1) });
    });
  }

  /**
   * LSH by sorting rather than hash maps: per band, stems sorted by their band hash; stems in one
   * run share that band and are compared by their shingles' Jaccard similarity.
   */
  private nearDuplicateFindings(repeated: Uint8Array): RawFinding[] {
    const count = this.count;
    const found: RawFinding[] = [];
    const keys = new Float64Array(count);
    for (let band = 0; band < BANDS; band++) {
      let used = 0;
      for (let index = 0; index < count; index++) {
        const bucket = this.bands[index * BANDS + band]!;
        if (bucket !== 0 && repeated[index] === 0) keys[used++] = bucket * INDEX_SCALE + index;
      }
      const sorted = keys.subarray(0, used).sort();
      for (let start = 0; start < used; ) {
        const value = Math.floor(sorted[start]! / INDEX_SCALE);
        let end = start + 1;
        while (end < used && Math.floor(sorted[end]! / INDEX_SCALE) === value) end++;
        if (end - start > 1 && end - start <= MAX_BUCKET) this.compareRun(sorted, start, end, band, found);
        start = end;
      }
    }
    return found;
  }

  /** Compares the stems of one bucket of `band`, each pair once: pairs that share an earlier band were compared there. */
  private compareRun(keys: Float64Array, start: number, end: number, band: number, found: RawFinding[]): void {
    const bands = this.bands;
    for (let a = start; a < end; a++) {
      for (let b = a + 1; b < end; b++) {
        const first = Math.min(keys[a]! % INDEX_SCALE, keys[b]! % INDEX_SCALE);
        const second = Math.max(keys[a]! % INDEX_SCALE, keys[b]! % INDEX_SCALE);
        let seen = false;
        for (let earlier = 0; earlier < band && !seen; earlier++) seen = bands[first * BANDS + earlier] === bands[second * BANDS + earlier];
        if (seen) continue;
        const similarity = this.jaccard(first, second);
        if (similarity < this.thresholds.nearDuplicateJaccard) continue;
        const message = `its text is ${(similarity * 100).toFixed(0)}% the same as ${this.ids[second]}'s`;
        found.push(this.located(first, { rule: 'near-duplicate-question', table: 'questions', id: this.ids[first]!, group: this.groups[first]!, message, related: [this.ids[second]!] }));
      }
    }
  }

  /** Jaccard similarity of two stems' sorted shingle sets. */
  private jaccard(first: number, second: number): number {
    const a = this.shinglesOf(first);
    const b = this.shinglesOf(second);
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

  private shinglesOf(index: number): Uint16Array {
    const start = this.shingleStarts[index]!;
    const chunk = Math.floor(start / SHINGLE_CHUNK);
    return this.chunks[chunk]!.subarray(start - chunk * SHINGLE_CHUNK, this.shingleEnds[index]! - chunk * SHINGLE_CHUNK);
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
