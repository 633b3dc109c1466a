import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reads a file as text in chunks, so memory stays flat whatever its size. The encoding comes from
 * the byte-order mark when there is one (UTF-8, UTF-16LE, UTF-16BE), else from `--encoding`, else
 * UTF-8. Decoding is strict: an invalid byte stops the read with its offset instead of turning
 * into U+FFFD, which is what the parsers of both served systems did silently.
 */
export interface TextSource {
  /** The WHATWG name of the encoding in use, e.g. `utf-8`, `utf-16le`, `windows-1252`. */
  readonly encoding: string;
  readonly bomBytes: number;
  readonly totalBytes: number;
  bytesRead(): number;
  /** Decoded text in order. Throws `InvalidBytesError` after yielding all text before the bad byte. */
  chunks(): AsyncGenerator<string>;
  close(): Promise<void>;
}

export class InvalidBytesError extends Error {
  constructor(
    readonly encoding: string,
    /** Offset of the first invalid byte in the file. */
    readonly byteOffset: number,
    readonly bytes: Uint8Array,
    /** False for legacy multi-byte encodings, where only the chunk holding the error is known. */
    readonly exact: boolean,
  ) {
    super(`bytes ${hex(bytes)} at byte ${byteOffset} are not valid ${encoding}`);
  }
}

export class UnknownEncodingError extends Error {}

/**
 * Bytes read at a time. A chunk's text (two bytes a character at worst) stays under V8's 128 KiB
 * limit for ordinary heap objects: a larger string is mapped and unmapped one by one, which made
 * decoding a 200,000-question bank cost four times what decoding it in 60 KiB pieces does.
 */
export const CHUNK_BYTES = 60 * 1024;

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

/**
 * WHATWG windows-1252 for bytes 0x80-0x9F. Node 20's TextDecoder decodes windows-1252 (and the
 * latin1 labels that mean it) as ISO-8859-1, turning the curly quotes and dashes of every
 * Excel-saved file into C1 control characters; this table does it right.
 */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const C1 = /[\u0080-\u009f]/g;

function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(C1, (c) => String.fromCharCode(WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]));
}

/** Encodings whose characters can span a chunk boundary in ways only a streaming decoder handles. */
const LEGACY_MULTIBYTE = new Set(['shift_jis', 'euc-jp', 'iso-2022-jp', 'gbk', 'gb18030', 'big5', 'euc-kr']);

export function normalizeEncoding(label: string): string {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw new UnknownEncodingError(`unknown encoding "${label}" (examples: utf-8, utf-16le, windows-1252, iso-8859-1, shift_jis)`);
  }
}

function sniffBom(head: Uint8Array): { encoding: string; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** Length of the longest prefix of `bytes` that ends on a character boundary. */
function completePrefixLength(encoding: string, bytes: Uint8Array, final: boolean): number {
  const length = bytes.length;
  if (final) return length;
  if (encoding === 'utf-8') {
    // Walk back over at most three continuation bytes to the lead byte of the last character.
    let start = length - 1;
    while (start >= 0 && length - start <= 4 && (bytes[start] & 0xc0) === 0x80) start--;
    if (start < 0 || length - start > 4) return length;
    const lead = bytes[start];
    const needed = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return length - start >= needed ? length : start;
  }
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    let end = length - (length % 2);
    if (end >= 2) {
      const unit = encoding === 'utf-16le' ? bytes[end - 2] | (bytes[end - 1] << 8) : (bytes[end - 2] << 8) | bytes[end - 1];
      if (unit >= 0xd800 && unit <= 0xdbff) end -= 2;
    }
    return end;
  }
  return length;
}

/** Offset of the first byte that makes `bytes` undecodable, found by bisection (error path only). */
function firstInvalidOffset(encoding: string, bytes: Uint8Array): number {
  if (encoding === 'utf-8') return firstInvalidUtf8(bytes);
  let good = 0;
  let bad = bytes.length;
  const decodes = (end: number) => {
    try {
      new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(0, completePrefixLength(encoding, bytes.subarray(0, end), false)));
      return true;
    } catch {
      return false;
    }
  };
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (decodes(middle)) good = middle;
    else bad = middle;
  }
  return encoding.startsWith('utf-16') ? bad - 1 - ((bad - 1) % 2) : bad - 1;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let needed: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [needed, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [needed, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [needed, min] = [3, 0x10000];
    else return i;
    let code = b & (0x3f >> needed);
    for (let k = 1; k <= needed; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += needed + 1;
  }
  return bytes.length;
}

export async function openTextSource(path: string, options: { encoding?: string } = {}): Promise<TextSource> {
  const handle: FileHandle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(4);
    const { bytesRead: headBytes } = await handle.read(head, 0, 4, 0);
    const bom = sniffBom(head.subarray(0, headBytes));
    const encoding = bom?.encoding ?? (options.encoding ? normalizeEncoding(options.encoding) : 'utf-8');
    return createSource(handle, size, encoding, bom?.length ?? 0);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function createSource(handle: FileHandle, totalBytes: number, encoding: string, bomBytes: number): TextSource {
  let position = bomBytes;
  let closed = false;
  const streaming = LEGACY_MULTIBYTE.has(encoding);
  return {
    encoding,
    bomBytes,
    totalBytes,
    bytesRead: () => position,
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
    async *chunks() {
      const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
      // one buffer for every read: the text decoded from it is a copy, and a character cut by the
      // end of a read (at most three bytes) moves to its start
      const buffer = new Uint8Array(CHUNK_BYTES + 4);
      let carried = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, carried, CHUNK_BYTES, position);
        const chunkStart = position - carried;
        position += bytesRead;
        const final = bytesRead === 0;
        const bytes = buffer.subarray(0, carried + bytesRead);
        if (streaming) {
          let text: string;
          try {
            text = decoder.decode(bytes, { stream: !final });
          } catch {
            throw new InvalidBytesError(encoding, chunkStart, bytes.subarray(0, Math.min(4, bytes.length)), false);
          }
          carried = 0;
          if (text) yield text;
          if (final) return;
          continue;
        }
        const complete = completePrefixLength(encoding, bytes, final);
        const whole = bytes.subarray(0, complete);
        if (whole.length > 0) {
          let text: string | undefined;
          try {
            text = encoding === 'windows-1252' ? decodeWindows1252(whole) : decoder.decode(whole);
          } catch {
            const offset = firstInvalidOffset(encoding, whole);
            const width = encoding.startsWith('utf-16') ? 2 : 1;
            const good = whole.subarray(0, offset);
            if (good.length > 0) yield new TextDecoder(encoding, { ignoreBOM: true }).decode(good);
            throw new InvalidBytesError(encoding, chunkStart + offset, whole.subarray(offset, offset + Math.max(width, Math.min(4, whole.length - offset))), true);
          }
          if (text) yield text;
        }
        if (final) return;
        buffer.copyWithin(0, complete, bytes.length);
        carried = bytes.length - complete;
      }
    },
  };
}
