/**
 * The words of a question's stem as numbers, read in one pass over the text: what the duplicate
 * rules compare. A word is a run of letters and digits (any script), lower-cased; everything else
 * separates words, so "What is DNS?" and "what is dns" have the same words. Each word gets two
 * independent 32-bit hashes; a stem's exact key is built from both (64 bits), its shingles from
 * the first.
 */

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class StemReader {
  /** The first hash of each word of the last stem read (`count` of them). */
  words = new Uint32Array(256);
  count = 0;
  /** The stem's exact key: both halves are 0x9747b28c-seeded combinations of its words' two hashes. */
  exactA = 0;
  exactB = 0;

  /** Reads `text`; `scope` (an exam code, or '') is folded into the exact key. */
  read(text: string, scope: string): void {
    let count = 0;
    let a = FNV_OFFSET;
    let b = 0x2545f491;
    let inWord = false;
    let exactA = hashString(scope, 0x9747b28c);
    let exactB = hashString(scope, 0x1b873593);
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      let unit = -1;
      if (c < 128) {
        if (c >= 65 && c <= 90) unit = c + 32;
        else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) unit = c;
      } else {
        const point = text.codePointAt(i)!;
        const char = String.fromCodePoint(point);
        if (point > 0xffff) i++;
        if (WORD_CHAR.test(char)) {
          const lower = char.toLowerCase();
          for (let k = 0; k < lower.length - 1; k++) {
            a = Math.imul(a ^ lower.charCodeAt(k), FNV_PRIME);
            b = Math.imul(b + lower.charCodeAt(k), 0x9e3779b1) ^ (b >>> 15);
          }
          unit = lower.charCodeAt(lower.length - 1);
        }
      }
      if (unit >= 0) {
        a = Math.imul(a ^ unit, FNV_PRIME);
        b = Math.imul(b + unit, 0x9e3779b1) ^ (b >>> 15);
        inWord = true;
        continue;
      }
      if (!inWord) continue;
      this.push(count++, a >>> 0);
      exactA = Math.imul(exactA ^ (a >>> 0), 0x85ebca6b) ^ (exactA >>> 13);
      exactB = Math.imul(exactB ^ (b >>> 0), 0xc2b2ae35) ^ (exactB >>> 16);
      a = FNV_OFFSET;
      b = 0x2545f491;
      inWord = false;
    }
    if (inWord) {
      this.push(count++, a >>> 0);
      exactA = Math.imul(exactA ^ (a >>> 0), 0x85ebca6b) ^ (exactA >>> 13);
      exactB = Math.imul(exactB ^ (b >>> 0), 0xc2b2ae35) ^ (exactB >>> 16);
    }
    this.count = count;
    this.exactA = fmix(exactA ^ count) >>> 0;
    this.exactB = fmix(exactB ^ Math.imul(count, 0x27d4eb2d)) >>> 0;
  }

  private push(index: number, hash: number): void {
    if (index >= this.words.length) {
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    this.words[index] = hash;
  }
}

export function hashString(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** murmur3's finaliser: every input bit reaches every output bit. */
export function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The shingles (runs of `size` words) of the stem just read, as well-mixed 32-bit hashes, in
 * `into` (grown when needed); returns how many. A stem shorter than `size` is one shingle.
 */
export function shingleHashes(reader: StemReader, size: number, into: { buffer: Uint32Array }): number {
  const words = reader.words;
  const count = reader.count;
  if (count === 0) return 0;
  const total = count < size ? 1 : count - size + 1;
  if (into.buffer.length < total) into.buffer = new Uint32Array(Math.max(total, into.buffer.length * 2));
  const out = into.buffer;
  const width = Math.min(size, count);
  for (let start = 0; start < total; start++) {
    let h = 0x9747b28c;
    for (let k = start; k < start + width; k++) h = Math.imul(h ^ words[k]!, FNV_PRIME);
    out[start] = fmix(h);
  }
  return total;
}
