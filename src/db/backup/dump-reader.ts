import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { InvalidInputError } from '../../errors.js';
import { CHECKSUM_LINE } from './dump-format.js';
import { garbageBudget } from './memory.js';
import { IncompleteSqlError, SqlSplitter, type SplitStatement } from './sql-splitter.js';

const READ_CHUNK_BYTES = 64 << 10;
/** Bytes kept back from the hash until the end, so the seal line can be left out of what it seals. */
const HELD_BYTES = 512;
const HEADER_SCAN_CHARS = 1 << 20;

export interface ChecksumCheck {
  /** The hex digest on the file's last line, if it has one. */
  recorded?: string;
  /** SHA-256 of every byte before that line (of the whole text when there is none). */
  computed: string;
}

/** SHA-256 of a stream of bytes, minus a final `-- qbank-checksum:` line when there is one. */
export class SealedHash {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer = Buffer.alloc(0);

  update(chunk: Buffer): void {
    if (chunk.length < HELD_BYTES) {
      const combined = Buffer.concat([this.held, chunk]);
      const keep = Math.min(HELD_BYTES, combined.length);
      this.hash.update(combined.subarray(0, combined.length - keep));
      this.held = Buffer.from(combined.subarray(combined.length - keep));
      return;
    }
    this.hash.update(this.held);
    this.hash.update(chunk.subarray(0, chunk.length - HELD_BYTES));
    this.held = Buffer.from(chunk.subarray(chunk.length - HELD_BYTES));
  }

  finish(): ChecksumCheck {
    const tail = this.held;
    let lineEnd = tail.length;
    if (lineEnd > 0 && tail[lineEnd - 1] === 0x0a) lineEnd--;
    const lineStart = tail.lastIndexOf(0x0a, lineEnd - 1) + 1;
    const match = CHECKSUM_LINE.exec(tail.subarray(lineStart, lineEnd).toString('latin1'));
    if (match && (lineStart > 0 || this.held.length < HELD_BYTES)) {
      this.hash.update(tail.subarray(0, lineStart));
      return { recorded: match[1], computed: this.hash.digest('hex') };
    }
    this.hash.update(tail);
    return { computed: this.hash.digest('hex') };
  }
}

export interface DumpFileInfo {
  compressed: boolean;
  /** Size on disk (compressed size for .gz). */
  fileBytes: number;
}

export async function dumpFileInfo(path: string): Promise<DumpFileInfo> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read it (${code ?? (error as Error).message})`);
  }
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    const info = await stat(path);
    if (!info.isFile()) throw new InvalidInputError(`${path} is not a file`);
    return { compressed: bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b, fileBytes: info.size };
  } finally {
    await handle.close();
  }
}

export interface DumpScanResult {
  compressed: boolean;
  /** Uncompressed bytes read. */
  bytes: number;
  /** Leading `--` lines: the qbank header when the file has one. */
  headerLines: string[];
  checksum: ChecksumCheck;
  statements: number;
  /** Set when the text stops inside a statement (a cut-off file). */
  incomplete?: string;
  /** Set when the bytes are not UTF-8 (SQL text that would change on the way into the database). */
  notUtf8?: string;
}

export interface DumpScanOptions {
  /** Called with compressed bytes read so far and the file size, for progress. */
  onRead?: (fileBytesRead: number, fileBytes: number) => void;
}

/**
 * Reads a dump once: hashes it, splits it into statements and hands each to `onStatement` in
 * order, waiting for it when it returns a promise. Memory stays at about one read chunk.
 */
export async function scanDump(
  path: string,
  onStatement: (statement: SplitStatement) => void | Promise<void>,
  options: DumpScanOptions = {},
): Promise<DumpScanResult> {
  const info = await dumpFileInfo(path);
  const hash = new SealedHash();
  const pending: SplitStatement[] = [];
  const splitter = new SqlSplitter((statement) => pending.push(statement));
  const file = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  let fileBytesRead = 0;
  file.on('data', (chunk) => {
    fileBytesRead += chunk.length;
  });
  const source = info.compressed ? file.pipe(createGunzip({ chunkSize: READ_CHUNK_BYTES })) : file;
  if (info.compressed) file.on('error', (error) => source.destroy(error));
  let bytes = 0;
  const memory = garbageBudget(16 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let headText = '';
  let notUtf8: string | undefined;
  let incomplete: string | undefined;
  try {
    for await (const raw of source as AsyncIterable<Buffer>) {
      hash.update(raw);
      const chunk = carry.length === 0 ? raw : Buffer.concat([carry, raw]);
      const cut = completeUtf8Length(chunk);
      carry = Buffer.from(chunk.subarray(cut));
      const complete = chunk.subarray(0, cut);
      if (notUtf8 === undefined && !isUtf8(complete)) notUtf8 = `the file is not UTF-8 text (first bad byte near offset ${bytes + firstBadUtf8(complete)})`;
      bytes += raw.length;
      memory.add(raw.length);
      if (notUtf8 !== undefined) continue;
      const text = complete.toString('utf8');
      if (headText.length < HEADER_SCAN_CHARS) headText += text.slice(0, HEADER_SCAN_CHARS - headText.length);
      try {
        splitter.push(text);
      } catch (error) {
        if (error instanceof IncompleteSqlError) incomplete = error.message;
        else throw error;
      }
      for (const statement of pending.splice(0)) await onStatement(statement);
      options.onRead?.(fileBytesRead, info.fileBytes);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || (error as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') {
      incomplete = `the gzip data is cut off or damaged (${(error as Error).message})`;
    } else throw error;
  }
  if (carry.length > 0 && notUtf8 === undefined) notUtf8 = `the file ends in the middle of a UTF-8 character (offset ${bytes - carry.length})`;
  if (notUtf8 === undefined && incomplete === undefined) {
    try {
      splitter.end();
    } catch (error) {
      if (error instanceof IncompleteSqlError) incomplete = error.message;
      else throw error;
    }
    for (const statement of pending.splice(0)) await onStatement(statement);
  }
  return {
    compressed: info.compressed,
    bytes,
    headerLines: leadingCommentLines(headText),
    checksum: hash.finish(),
    statements: splitter.statementCount,
    incomplete,
    notUtf8,
  };
}

function leadingCommentLines(text: string): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\n', pos);
    const line = text.slice(pos, end < 0 ? text.length : end).replace(/\r$/, '');
    if (!line.startsWith('--')) break;
    lines.push(line);
    if (end < 0) break;
    pos = end + 1;
  }
  return lines;
}

/** Length of the prefix that ends on a whole UTF-8 character (the rest waits for the next chunk). */
function completeUtf8Length(buffer: Buffer): number {
  const n = buffer.length;
  for (let back = 1; back <= Math.min(4, n); back++) {
    const byte = buffer[n - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

function firstBadUtf8(buffer: Buffer): number {
  let lo = 0;
  let hi = buffer.length;
  while (hi - lo > 64) {
    const mid = completeUtf8Length(buffer.subarray(0, (lo + hi) >> 1));
    if (isUtf8(buffer.subarray(0, mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}
