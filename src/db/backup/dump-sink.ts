import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { QbankError, RefusedError } from '../../errors.js';

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

function finished(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

export interface FileSinkOptions {
  /** Replace an existing file at the target name. */
  overwrite?: boolean;
}

/**
 * Writes to `<dir>/.<name>.<random>.partial` and renames it to `name` at the end, so a failed or
 * killed dump never leaves a file under the name the user asked for. A name ending in `.gz` is
 * gzip-compressed.
 */
export function fileSink(path: string, options: FileSinkOptions = {}): DumpSink {
  if (existsSync(path) && !options.overwrite) {
    throw new RefusedError(`${path} already exists`, { hint: 'choose another name, or pass --force to replace it' });
  }
  const compressed = path.endsWith('.gz');
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  // a deep buffer lets the disk write one page while SQLite renders the next
  const file: WriteStream = createWriteStream(temporary, { flags: 'wx', highWaterMark: 8 << 20 });
  const gzip: Gzip | undefined = compressed ? createGzip({ level: 6 }) : undefined;
  let streamError: Error | undefined;
  file.on('error', (error) => {
    streamError ??= error;
  });
  if (gzip) {
    gzip.on('error', (error) => {
      streamError ??= error;
    });
    gzip.pipe(file);
  }
  const head: Writable = gzip ?? file;
  const failure = () => (streamError ? new QbankError(`cannot write ${path}: ${streamError.message}`, { cause: streamError }) : undefined);
  let done = false;
  return {
    target: path,
    compressed,
    write: (chunk) => writeTo(head, chunk, failure),
    async commit() {
      if (gzip) {
        await finished(gzip);
        await new Promise<void>((resolve, reject) => {
          if (file.writableFinished) return resolve();
          file.once('finish', resolve);
          file.once('error', reject);
        });
      } else await finished(file);
      const error = failure();
      if (error) throw error;
      // the data must be on disk before the name says the dump is complete
      const handle = await open(temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
      done = true;
    },
    async abort() {
      if (done) return;
      done = true;
      gzip?.destroy();
      if (!file.closed) {
        const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
        file.destroy();
        await closed;
      }
      await unlink(temporary).catch(() => undefined);
    },
  };
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
