/**
 * A set of 96-bit fingerprints of strings, each remembering the line it came from: finds duplicate
 * ids and duplicate question texts in one pass over a file of any size for 16 bytes a key, where a
 * `Map` of the strings themselves would hold every id and every question text in memory. With 96
 * bits, two different keys among ten million share a fingerprint with a probability below 1e-14.
 */
export interface FingerprintProbe {
  h1: number;
  h2: number;
  h3: number;
  /** The line that recorded the key first, 0 if none did. */
  line: number;
}

export class FingerprintSet {
  private capacity = 1 << 12;
  private size = 0;
  /** Three hash words per slot; a slot is empty when its line is 0 (lines start at 1). */
  private words = new Int32Array(this.capacity * 3);
  private lines = new Uint32Array(this.capacity);

  /**
   * Looks a key up; the key is the sequence of `parts` (hashed in place: joining a question text
   * into one key string would copy it for every row). `line` is the line that recorded it first,
   * 0 when it is new.
   */
  probe(parts: readonly string[]): FingerprintProbe {
    return this.probeKey(parts);
  }

  /**
   * `probe` for a key whose last part was fingerprinted already (`fingerprintText`: the three words
   * from `words[at]` on): a question text is hashed once for the duplicate check and the comparison.
   */
  probeHashed(parts: readonly string[], words: Int32Array, at: number): FingerprintProbe {
    return this.probeKey(parts, words, at);
  }

  /** The parts, each after a separator; then, when given, a separator of the fingerprinted part's own and its three words. */
  private probeKey(parts: readonly string[], words?: Int32Array, at = 0): FingerprintProbe {
    const count = parts.length + (words ? 1 : 0);
    let h1 = 0x811c9dc5 ^ count;
    let h2 = 0x9747b28c ^ count;
    let h3 = 0x27d4eb2f;
    let length = 0;
    for (let p = 0; p < count; p++) {
      const hashed = p === parts.length;
      const part = hashed ? '' : parts[p];
      length += part.length + 1;
      const units = hashed ? 3 : part.length;
      // A separator that no text contains: ["ab", "c"] and ["a", "bc"] must differ.
      for (let i = -1; i < units; i++) {
        const c = i < 0 ? (hashed ? 0x110001 : 0x110000) : hashed ? words![at + i] : part.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x01000193);
        let k = Math.imul(c, 0xcc9e2d51);
        k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
        h2 ^= k;
        h2 = (Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64) | 0;
        h3 = Math.imul(h3 + c, 0x165667b1);
        h3 = (h3 << 17) | (h3 >>> 15);
      }
    }
    h1 = mix(h1 ^ length);
    h2 = mix(h2 ^ length);
    h3 = mix(h3 ^ h1);
    return { h1, h2, h3, line: this.lines[this.slotOf(h1, h2, h3)] };
  }

  /**
   * Makes room for `keys` keys at once: growing step by step holds the old and the new tables
   * together each time, and the last step of a million-row file is the biggest.
   */
  reserve(keys: number): void {
    // the size asked, not the next power of two: a third less memory for a million keys at worst
    const capacity = Math.ceil((keys * 4) / 3) + 1;
    if (capacity > this.capacity) this.grow(capacity);
  }

  /** Records a probed key as first seen on `line` (no-op when it is already recorded). */
  add(probe: FingerprintProbe, line: number): void {
    const slot = this.slotOf(probe.h1, probe.h2, probe.h3);
    if (this.lines[slot] !== 0) return;
    const at = slot * 3;
    this.words[at] = probe.h1;
    this.words[at + 1] = probe.h2;
    this.words[at + 2] = probe.h3;
    this.lines[slot] = line;
    if (++this.size * 4 > this.capacity * 3) this.grow(this.capacity * 2);
  }

  /** The slot holding the fingerprint, or the empty slot where it would go. */
  private slotOf(h1: number, h2: number, h3: number): number {
    const capacity = this.capacity;
    let slot = home(h1, capacity);
    while (this.lines[slot] !== 0) {
      const at = slot * 3;
      if (this.words[at] === h1 && this.words[at + 1] === h2 && this.words[at + 2] === h3) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    return slot;
  }

  private grow(capacity: number): void {
    const oldWords = this.words;
    const oldLines = this.lines;
    this.capacity = capacity;
    this.words = new Int32Array(this.capacity * 3);
    this.lines = new Uint32Array(this.capacity);
    for (let old = 0; old < oldLines.length; old++) {
      if (oldLines[old] === 0) continue;
      let slot = home(oldWords[old * 3], capacity);
      while (this.lines[slot] !== 0) slot = slot + 1 === capacity ? 0 : slot + 1;
      this.words.set(oldWords.subarray(old * 3, old * 3 + 3), slot * 3);
      this.lines[slot] = oldLines[old];
    }
  }
}

/** The first slot to look in for a key whose first word is `h1`, in a table of any size. */
function home(h1: number, capacity: number): number {
  return Math.floor(((h1 >>> 0) * capacity) / 4294967296);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The 64-bit fingerprint of NULL, apart from every string's. */
const NULL_WORDS = [0x5bd1e995, -0x2d4c6a3b] as const;

/**
 * Writes the 64-bit fingerprint of `value` (two words) at `out[at]`, `out[at + 1]`, computed the
 * same way for a stored value and a file's: a value that changed keeps its fingerprint with a
 * probability of about 2^-64.
 */
export function fingerprintInto(out: Int32Array, at: number, value: string | null | undefined): void {
  if (value === null || value === undefined) {
    out[at] = NULL_WORDS[0];
    out[at + 1] = NULL_WORDS[1];
    return;
  }
  let h1 = 0x811c9dc5 ^ value.length;
  let h2 = 0x9747b28c;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h2 ^= k;
    h2 = (Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64) | 0;
  }
  out[at] = mix(h1 ^ value.length);
  out[at + 1] = mix(h2 ^ h1);
}

/**
 * `fingerprintInto` with a third word from a third hash of the same pass: the two words a
 * comparison reads (the same as fingerprintInto's) and 96 bits for the duplicate check
 * (`FingerprintSet.probeHashed`), for one reading of the text. Its loop repeats fingerprintInto's
 * on purpose: a third hash (or a test for one) in that loop slows every other field's fingerprint.
 */
export function fingerprintText(out: Int32Array, at: number, value: string): void {
  let h1 = 0x811c9dc5 ^ value.length;
  let h2 = 0x9747b28c;
  let h3 = 0x27d4eb2f ^ value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h2 ^= k;
    h2 = (Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64) | 0;
    h3 = Math.imul(h3 + c, 0x165667b1);
    h3 = (h3 << 17) | (h3 >>> 15);
  }
  out[at] = mix(h1 ^ value.length);
  out[at + 1] = mix(h2 ^ h1);
  out[at + 2] = mix(h3 ^ value.length);
}
