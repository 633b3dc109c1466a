import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { QbankError, RefusedError, UsageError } from './errors.js';

/**
 * One rule for every file qbank writes (rejects, dumps, key and env files):
 * - an existing file is kept unless the caller allows replacing it (`force`);
 * - a path that resolves to one of the command's inputs (itself, a symlink or a hard link to it) is refused;
 * - a directory, or a parent directory that does not exist, is a usage error naming the path;
 * - the content goes to a temporary name beside the file and is renamed into place on `commit`, so a
 *   failed or killed write never leaves a complete-looking file under the name asked for.
 *
 * The errors state facts (which path, what is wrong); the command layer adds the flag that answers them.
 */

export interface OutputFileOptions {
  /** Replace an existing file. */
  force?: boolean;
  /** Files the command reads: the output must not be one of them, under any name. */
  inputs?: string[];
  /** What the file is, for messages ("rejects file", "dump"). */
  what?: string;
  /** Permission bits of the new file (default 0o666 less the umask); e.g. 0o600 for secrets. */
  mode?: number;
  /** Resolve a relative `path` (and inputs) against this directory (default: the process's). */
  cwd?: string;
}

export interface OutputFile {
  /** The absolute path the file will have after `commit`. */
  readonly path: string;
  /** Where the content is written until `commit`. */
  readonly tempPath: string;
  /** The temporary file's stream, for piping (e.g. through gzip); prefer `write` otherwise. */
  readonly stream: WriteStream;
  /** Writes a chunk, waiting when the stream's buffer is full; rejects after a write error. */
  write(chunk: string | Buffer): Promise<void>;
  /** Ends the stream, syncs the data to disk and gives the file its name. */
  commit(): Promise<void>;
  /** Discards everything written: closes and removes the temporary file. Never throws; a no-op after commit. */
  abort(): Promise<void>;
}

/** The output path exists and replacing it was not allowed. */
export class OutputFileExistsError extends RefusedError {
  constructor(
    readonly path: string,
    readonly what: string,
    hint?: string,
  ) {
    super(`${path} already exists: the ${what} is not written over an existing file`, { hint: hint ?? 'choose another name, or allow replacing it' });
  }

  /** The same error with a hint that names the caller's way to allow replacing (a flag, say). */
  withHint(hint: string): OutputFileExistsError {
    return new OutputFileExistsError(this.path, this.what, hint);
  }
}

/** The output path is one of the command's inputs (the same name, a symlink or a hard link to it). */
export class OutputIsInputError extends UsageError {
  constructor(
    readonly path: string,
    readonly input: string,
    what: string,
  ) {
    super(path === input ? `the ${what} ${path} is also an input: choose another name` : `the ${what} ${path} is the same file as the input ${input}: choose another name`);
  }
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function statOrUndefined(path: string, follow: boolean) {
  try {
    return follow ? await stat(path) : await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function checkParent(path: string, shownPath: string, what: string): Promise<void> {
  const parent = dirname(path);
  const info = await statOrUndefined(parent, true);
  if (!info) throw new UsageError(`cannot write the ${what} ${shownPath}: the directory ${parent} does not exist`);
  if (!info.isDirectory()) throw new UsageError(`cannot write the ${what} ${shownPath}: ${parent} is not a directory`);
}

/** Where `path` lands once every symlink is followed; for a file that does not exist yet, its parent's real path and its name. */
async function landingPath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    try {
      return join(await realpath(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

async function refuseInputs(path: string, shownPath: string, inputs: { path: string; shown: string }[], what: string): Promise<void> {
  const target = await landingPath(path);
  const targetInfo = await statOrUndefined(path, true);
  for (const input of inputs) {
    if ((await landingPath(input.path)) === target) throw new OutputIsInputError(shownPath, input.shown, what);
    const inputInfo = await statOrUndefined(input.path, true);
    if (targetInfo && inputInfo && targetInfo.dev === inputInfo.dev && targetInfo.ino === inputInfo.ino) throw new OutputIsInputError(shownPath, input.shown, what);
  }
}

/**
 * Checks `path` against the rule above and opens a temporary file beside it. Nothing is written
 * under `path` until `commit`.
 */
export async function prepareOutputFile(path: string, options: OutputFileOptions = {}): Promise<OutputFile> {
  const what = options.what ?? 'output file';
  const cwd = options.cwd ?? process.cwd();
  const target = resolve(cwd, path);
  const inputs = (options.inputs ?? []).map((input) => ({ path: resolve(cwd, input), shown: input }));
  await checkParent(target, path, what);
  await refuseInputs(target, path, inputs, what);
  const existing = await statOrUndefined(target, false);
  if (existing?.isDirectory() || (existing?.isSymbolicLink() && (await statOrUndefined(target, true))?.isDirectory())) {
    throw new UsageError(`cannot write the ${what} ${path}: it is a directory`);
  }
  if (existing && !options.force) throw new OutputFileExistsError(path, what);
  return openTemporary(target, path, what, Boolean(options.force), options.mode);
}

async function openTemporary(target: string, shownPath: string, what: string, force: boolean, mode: number | undefined): Promise<OutputFile> {
  const tempPath = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.partial`);
  const stream = createWriteStream(tempPath, { flags: 'wx', mode: mode ?? 0o666, highWaterMark: 1 << 20 });
  let streamError: Error | undefined;
  stream.on('error', (error) => {
    streamError ??= error;
  });
  await new Promise<void>((resolveOpen, rejectOpen) => {
    stream.once('ready', () => resolveOpen());
    stream.once('error', (error) => rejectOpen(new UsageError(`cannot write the ${what} ${shownPath}: ${error.message}`, { cause: error })));
  });
  const failure = () => (streamError ? new QbankError(`cannot write the ${what} ${shownPath}: ${streamError.message}`, { cause: streamError }) : undefined);
  let settled = false;

  const write = (chunk: string | Buffer): Promise<void> => {
    const error = failure();
    if (error) return Promise.reject(error);
    if (stream.write(chunk)) return Promise.resolve();
    return new Promise((resolveWrite, rejectWrite) => {
      const onDrain = () => {
        stream.off('error', onError);
        resolveWrite();
      };
      const onError = (e: Error) => {
        stream.off('drain', onDrain);
        rejectWrite(failure() ?? e);
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  };

  const abort = async (): Promise<void> => {
    if (settled) return;
    settled = true;
    if (!stream.closed) {
      const closed = new Promise<void>((resolveClose) => stream.once('close', () => resolveClose()));
      stream.destroy();
      await closed;
    }
    await unlink(tempPath).catch(() => undefined);
  };

  const commit = async (): Promise<void> => {
    if (settled) throw new Error(`the ${what} ${shownPath} was already committed or aborted`);
    try {
      await new Promise<void>((resolveEnd, rejectEnd) => {
        if (streamError) return rejectEnd(streamError);
        stream.once('error', rejectEnd);
        stream.end(() => resolveEnd());
      });
      const error = failure();
      if (error) throw error;
      // the data must be on disk before the name says the file is complete
      const handle = await open(tempPath, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await moveIntoPlace(tempPath, target, shownPath, what, force);
      settled = true;
    } catch (error) {
      await abort();
      if (error instanceof QbankError) throw error;
      throw new QbankError(`cannot write the ${what} ${shownPath}: ${(error as Error).message}`, { cause: error });
    }
  };

  return { path: target, tempPath, stream, write, commit, abort };
}

/**
 * Without `force`, a file that appeared at the target since the check must still be kept: a hard
 * link fails when the name is taken, where a rename would replace it.
 */
async function moveIntoPlace(tempPath: string, target: string, shownPath: string, what: string, force: boolean): Promise<void> {
  if (force) return rename(tempPath, target);
  try {
    await link(tempPath, target);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw new OutputFileExistsError(shownPath, what);
    // file systems without hard links: the check done when the file was prepared has to do
    if (await statOrUndefined(target, false)) throw new OutputFileExistsError(shownPath, what);
    return rename(tempPath, target);
  }
  await unlink(tempPath);
}
