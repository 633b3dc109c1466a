/**
 * The export's text on its way to the sink: each record's text is encoded as UTF-8 straight into a
 * buffer, and the sink gets whole buffers. Encoding one short string at a time into place costs a
 * fraction of joining the records into one long string and encoding that (V8 flattens the joined
 * string first: 200,000 questions to CSV spent a quarter of their CPU time there).
 *
 * A few chunks are written at a time while the next ones fill. When the sink says when it is done
 * with a chunk (`reuse`), its buffer is filled again: buffers that are dropped instead pile up
 * outside V8's heap until a full collection, many of them over a large export.
 */

export interface ByteChunkOptions {
  /** The sink is done with a chunk when its write resolves: the buffer may be filled again. */
  reuse: boolean;
  /** About this many bytes go to the sink at a time. */
  chunkBytes?: number;
  /** Chunks written at once, not yet done. */
  inFlight?: number;
}

/** UTF-8 needs at most three bytes for one UTF-16 code unit (a surrogate pair: four for two). */
const MAX_BYTES_PER_UNIT = 3;

interface Chunk {
  bytes: Buffer;
  /** The buffer `bytes` is the start of, to fill again once written. */
  buffer: Buffer;
}

export class ByteChunks {
  private readonly chunkBytes: number;
  private readonly inFlight: number;
  private buffer: Buffer;
  private used = 0;
  private readonly ready: Chunk[] = [];
  private readonly writing: Promise<void>[] = [];
  private readonly spare: Buffer[] = [];
  /** Bytes appended so far, written or not. */
  bytes = 0;

  constructor(
    private readonly write: (chunk: Buffer) => Promise<void>,
    private readonly options: ByteChunkOptions,
  ) {
    this.chunkBytes = options.chunkBytes ?? 256 * 1024;
    this.inFlight = options.inFlight ?? 4;
    this.buffer = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Encodes `text` after what came before. */
  append(text: string): void {
    const most = text.length * MAX_BYTES_PER_UNIT;
    if (most > this.buffer.length - this.used) {
      this.seal();
      // a record longer than a chunk (1 MB fields) gets a buffer of its own size
      if (most > this.buffer.length) this.buffer = Buffer.allocUnsafe(most);
    }
    const written = this.buffer.write(text, this.used);
    this.used += written;
    this.bytes += written;
  }

  /** True when a full chunk waits to be written. */
  get full(): boolean {
    return this.ready.length > 0;
  }

  /** Sends the full chunks, waiting only while too many are still being written. */
  async flush(): Promise<void> {
    for (let chunk = this.ready.shift(); chunk; chunk = this.ready.shift()) {
      while (this.writing.length >= this.inFlight) await this.writing.shift();
      this.writing.push(this.send(chunk));
    }
  }

  /** Sends everything appended and waits until all of it is written. */
  async end(): Promise<void> {
    this.seal();
    await this.flush();
    while (this.writing.length > 0) await this.writing.shift();
  }

  private send({ bytes, buffer }: Chunk): Promise<void> {
    const sent = this.write(bytes).then(() => {
      if (this.options.reuse && buffer.length === this.chunkBytes) this.spare.push(buffer);
    });
    // a failed write is thrown where it is awaited; until then it is not an unhandled rejection
    sent.catch(() => undefined);
    return sent;
  }

  /** The current buffer's bytes join the chunks ready to go; the next text goes into another buffer. */
  private seal(): void {
    if (this.used > 0) this.ready.push({ bytes: this.buffer.subarray(0, this.used), buffer: this.buffer });
    if (this.used > 0 || this.buffer.length !== this.chunkBytes) this.buffer = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
  }
}
