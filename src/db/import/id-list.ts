/**
 * The ids an import created or updated, in order, some of them marked (the created ids qbank gave
 * to rows without one). A million ids as a million strings in an array take about 55 MB; here
 * every 1,024 are joined into one string with their end offsets beside it: about 33 MB.
 *
 * `--json` writes a list through `jsonItems` one id at a time; `toJSON` gives the same array for
 * anything that serialises it whole.
 */
export interface IdSequence extends Iterable<string> {
  readonly length: number;
  slice(start?: number, end?: number): string[];
  jsonItems(): Iterable<string>;
  toJSON(): string[];
}

const CHUNK = 1024;

interface Chunk {
  text: string;
  /** Where each id of the chunk ends in `text`. */
  ends: Uint32Array;
}

abstract class Sequence implements IdSequence {
  abstract readonly length: number;
  abstract [Symbol.iterator](): Iterator<string>;

  slice(start = 0, end = this.length): string[] {
    const from = start < 0 ? Math.max(0, this.length + start) : start;
    const to = end < 0 ? this.length + end : Math.min(end, this.length);
    const taken: string[] = [];
    let index = 0;
    for (const id of this) {
      if (index >= to) break;
      if (index++ >= from) taken.push(id);
    }
    return taken;
  }

  jsonItems(): Iterable<string> {
    return this;
  }

  toJSON(): string[] {
    return [...this];
  }
}

export class IdList extends Sequence {
  private readonly chunks: Chunk[] = [];
  private open: string[] = [];
  private marks = new Uint8Array(CHUNK);
  private count = 0;
  private markedCount = 0;

  get length(): number {
    return this.count;
  }

  push(id: string, marked = false): void {
    if (this.count === this.marks.length) {
      const marks = new Uint8Array(this.marks.length * 2);
      marks.set(this.marks);
      this.marks = marks;
    }
    if (marked) {
      this.marks[this.count] = 1;
      this.markedCount++;
    }
    this.count++;
    this.open.push(id);
    if (this.open.length === CHUNK) this.close();
  }

  /** The ids pushed as marked, in order. */
  marked(): IdSequence {
    return new MarkedIds(this);
  }

  get markedLength(): number {
    return this.markedCount;
  }

  isMarked(index: number): boolean {
    return this.marks[index] === 1;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (const chunk of this.chunks) {
      let start = 0;
      for (const end of chunk.ends) {
        yield chunk.text.slice(start, end);
        start = end;
      }
    }
    yield* this.open;
  }

  private close(): void {
    const ends = new Uint32Array(this.open.length);
    let end = 0;
    for (let index = 0; index < this.open.length; index++) ends[index] = end += this.open[index].length;
    this.chunks.push({ text: this.open.join(''), ends });
    this.open = [];
  }
}

class MarkedIds extends Sequence {
  constructor(private readonly list: IdList) {
    super();
  }

  get length(): number {
    return this.list.markedLength;
  }

  *[Symbol.iterator](): Iterator<string> {
    let index = 0;
    for (const id of this.list) if (this.list.isMarked(index++)) yield id;
  }
}
