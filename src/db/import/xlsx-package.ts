import type { FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInflateRaw } from 'node:zlib';

/**
 * The parts of an .xlsx package (a ZIP file): read from its central directory, each part inflated
 * as a stream, so a sheet of any size passes through in chunks.
 */

export interface PackagePart {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** What the file is when it is not a workbook qbank can read. */
export class WorkbookFileError extends Error {}

const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The parts listed in the central directory; refuses files that are not a complete ZIP. */
export async function readPackageParts(handle: FileHandle, size: number): Promise<Map<string, PackagePart>> {
  const head = await readAt(handle, 0, 8);
  if (head.length === 0) throw new WorkbookFileError('the file is empty: expected an .xlsx workbook');
  if (head.equals(CFB_MAGIC)) {
    throw new WorkbookFileError('the workbook is password-protected (encrypted), or an old .xls file: save it without a password as an Excel Workbook (.xlsx)');
  }
  if (head.readUInt32LE(0) !== 0x04034b50) throw new WorkbookFileError('not an .xlsx workbook (an .xlsx file is a ZIP package; this one does not start like one)');
  const tailLength = Math.min(size, 65_557);
  const tail = await readAt(handle, size - tailLength, tailLength);
  let end = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end === -1) throw new WorkbookFileError('the workbook is incomplete or damaged: its ZIP directory is missing (was the file copied completely?)');
  const count = tail.readUInt16LE(end + 10);
  const directorySize = tail.readUInt32LE(end + 12);
  const directoryOffset = tail.readUInt32LE(end + 16);
  if (directoryOffset + directorySize > size) throw new WorkbookFileError('the workbook is incomplete or damaged: its ZIP directory points past the end of the file');
  const directory = await readAt(handle, directoryOffset, directorySize);
  const parts = new Map<string, PackagePart>();
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) throw new WorkbookFileError('the workbook is damaged: its ZIP directory cannot be read');
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    parts.set(name.replace(/^\//, ''), {
      name,
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return parts;
}

/** A part's text in chunks (UTF-8), inflated as it is read; `onBytes` is told the compressed bytes read. */
export async function* partText(path: string, handle: FileHandle, part: PackagePart, onBytes?: (bytes: number) => void): AsyncGenerator<string> {
  const local = await readAt(handle, part.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new WorkbookFileError(`the workbook is damaged: part ${part.name} cannot be found`);
  const start = part.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (part.method !== 0 && part.method !== 8) throw new WorkbookFileError(`part ${part.name} is compressed with method ${part.method}, which qbank does not read`);
  const raw = createReadStream(path, { start, end: start + Math.max(0, part.compressedSize) - 1, highWaterMark: 1 << 18 });
  if (part.compressedSize === 0) {
    raw.destroy();
    return;
  }
  raw.on('data', (chunk) => onBytes?.(chunk.length));
  const stream = part.method === 8 ? raw.pipe(createInflateRaw()) : raw;
  raw.on('error', (error) => stream.destroy(error));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch (error) {
    if (error instanceof WorkbookFileError) throw error;
    throw new WorkbookFileError(`the workbook is damaged: part ${part.name} cannot be read (${(error as Error).message})`);
  } finally {
    raw.destroy();
  }
}

/** A small part's whole text ('' when the package has no such part). */
export async function partWhole(path: string, handle: FileHandle, parts: Map<string, PackagePart>, name: string): Promise<string> {
  const part = parts.get(name);
  if (!part) return '';
  let text = '';
  for await (const chunk of partText(path, handle, part)) text += chunk;
  return text;
}
