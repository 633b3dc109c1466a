import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { QbankError } from '../../errors.js';
import { prepareOutputFile } from '../../output-file.js';

/** Where dump text goes. A file sink makes the file appear under its name only when `commit` succeeds. */
export interface DumpSink {
  /** The final file name, or `-` for standard output. */
  readonly target: string;
  readonly compressed: boolean;
  write(chunk: Buffer | string): Promise<void>;
  /** Flushes everything; for a file, syncs it and renames it into place. */
  commit(): Promise<void>;
  /** Discards what was written (for a file: removes the temporary file). Never throws. */
  abort(): Promise<void>;
}

function writeTo(stream: Writable, chunk: Buffer | string, failure: () => Error | undefined): Promise<void> {
  const error = failure();
  if (error) return Promise.reject(error);
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      stream.off('drain', onDrain);
      reject(e);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

export interface FileSinkOptions {
  /** Replace an existing file at the target name. */
  overwrite?: boolean;
  /** Resolve a relative path against this directory. */
  cwd?: string;
}

/**
 * Writes through `prepareOutputFile` (the rule for every file qbank writes): to
 * `<dir>/.<name>.<random>.partial`, renamed to `name` at the end, so a failed or killed dump never
 * leaves a file under the name the user asked for. A missing directory or a directory as the name
 * is a usage error; an existing file is refused unless `overwrite`. A name ending in `.gz` is
 * gzip-compressed.
 */
export async function fileSink(path: string, options: FileSinkOptions = {}): Promise<DumpSink> {
  const output = await prepareOutputFile(path, { force: options.overwrite, what: 'dump', cwd: options.cwd });
  const compressed = path.endsWith('.gz');
  const gzip: Gzip | undefined = compressed ? createGzip({ level: 6 }) : undefined;
  let gzipError: Error | undefined;
  if (gzip) {
    gzip.on('error', (error) => {
      gzipError ??= error;
    });
    gzip.on('data', (chunk: Buffer) => {
      if (!output.stream.write(chunk)) {
        gzip.pause();
        output.stream.once('drain', () => gzip.resume());
      }
    });
  }
  const failure = () => (gzipError ? new QbankError(`cannot write ${path}: ${gzipError.message}`, { cause: gzipError }) : undefined);
  return {
    target: output.path,
    compressed,
    write: (chunk) => (gzip ? writeTo(gzip, chunk, failure) : output.write(chunk)),
    async commit() {
      if (gzip) {
        await new Promise<void>((resolve, reject) => {
          gzip.once('end', resolve);
          gzip.once('error', reject);
          gzip.end();
        });
        const error = failure();
        if (error) throw error;
      }
      await output.commit();
    },
    async abort() {
      gzip?.destroy();
      await output.abort();
    },
  };
}

/** A dump's hidden temporary file: `.NAME.<8 hex>.partial` beside NAME. */
function partialPattern(path: string): RegExp {
  const name = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${name}\\.[0-9a-f]{8}\\.partial$`);
}

export interface PartialFile {
  path: string;
  bytes: number;
  modified: Date;
}

/** Temporary files that dumps to `path` left behind (a dump killed before it could remove its own). */
export async function findPartials(path: string): Promise<PartialFile[]> {
  const pattern = partialPattern(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const found: PartialFile[] = [];
  for (const name of names.filter((n) => pattern.test(n))) {
    const full = join(dirname(path), name);
    const info = await stat(full).catch(() => undefined);
    if (info?.isFile()) found.push({ path: full, bytes: info.size, modified: info.mtime });
  }
  return found;
}

/** A partial file untouched this long belongs to a dump that is no longer running. */
export const STALE_PARTIAL_MS = 5 * 60_000;

/**
 * Removes the temporary files of earlier dumps to `path` that nobody has written to for
 * `STALE_PARTIAL_MS` (a running dump writes to its own all the time); returns what it removed.
 */
export async function removeStalePartials(path: string, now: Date): Promise<PartialFile[]> {
  const stale = (await findPartials(path)).filter((p) => now.getTime() - p.modified.getTime() >= STALE_PARTIAL_MS);
  const removed: PartialFile[] = [];
  for (const partial of stale) {
    try {
      await unlink(partial.path);
      removed.push(partial);
    } catch {
      // gone already, or not ours to remove: the next dump tries again
    }
  }
  return removed;
}

/** Standard output: nothing can be taken back, so an incomplete dump there lacks its seal line. */
export function streamSink(stream: Writable, target = '-'): DumpSink {
  let streamError: Error | undefined;
  const onError = (error: Error) => {
    streamError ??= error;
  };
  stream.on('error', onError);
  const failure = () => (streamError ? new QbankError(`cannot write the dump to ${target}: ${streamError.message}`, { cause: streamError }) : undefined);
  return {
    target,
    compressed: false,
    write: (chunk) => writeTo(stream, chunk, failure),
    async commit() {
      stream.off('error', onError);
      const error = failure();
      if (error) throw error;
    },
    async abort() {
      stream.off('error', onError);
    },
  };
}
