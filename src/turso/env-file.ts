import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidInputError, QbankError, RefusedError, UsageError } from '../errors.js';

/*
 * Writes secrets into a dotenv file the way an operator would by hand, minus the risks: every other
 * line (comments, blank lines, other keys, `export` prefixes, line endings, other variables' quoted
 * multi-line values) stays as it was, the new content replaces the old in one rename (a crash leaves
 * the old file or the new one, never half of one), and the file ends up readable by its owner only.
 */

export interface EnvFileUpdate {
  path: string;
  created: boolean;
  /** Keys whose existing lines were replaced. */
  replaced: string[];
  /** Keys appended at the end. */
  added: string[];
}

const KEY_LINE = /^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;
const QUOTES = new Set(['"', "'", '`']);

/** One `KEY=value` assignment of a dotenv file and the physical lines it occupies. */
interface DotenvEntry {
  key: string;
  /** Index of its first line. */
  start: number;
  /** Physical lines: more than one for a quoted value that runs on. */
  lineCount: number;
}

/** Where the data lands: a symlinked .env is updated at its target, and the link stays. */
async function realTarget(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    return resolve(path);
  }
}

/** Index just past the closing `quote` in `text` from `from`, skipping backslash-escaped quotes as dotenv does; -1 if none. */
function closingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  return -1;
}

/**
 * The assignments of a dotenv file, as dotenv reads them: a value opening with a quote runs until its
 * closing quote, across lines, so a line inside it is part of that value and never an assignment.
 */
function dotenvEntries(lines: string[]): DotenvEntry[] {
  const entries: DotenvEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = KEY_LINE.exec(lines[i]!);
    if (!match) continue;
    const key = match[2]!;
    const value = match[3]!;
    const quote = value[0];
    let end = i;
    if (quote !== undefined && QUOTES.has(quote)) {
      let text = value;
      let closed = closingQuote(text, 1, quote);
      while (closed < 0 && end + 1 < lines.length) {
        const searchFrom = text.length;
        text += '\n' + lines[++end];
        closed = closingQuote(text, searchFrom, quote);
      }
      if (closed < 0) {
        throw new InvalidInputError(`line ${i + 1}: the quoted value of ${key} is never closed, so where it ends is unknown`, {
          hint: `close the ${quote} quote, then run the command again; nothing was changed`,
        });
      }
    }
    entries.push({ key, start: i, lineCount: end - i + 1 });
    i = end;
  }
  return entries;
}

function splitLines(original: string): { lines: string[]; eol: string } {
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const lines = original === '' ? [] : original.split(/\r?\n/);
  if (/\n$/.test(original)) lines.pop();
  return { lines, eol };
}

/** Plain `KEY=value` whenever the value allows it (JWTs do), so `grep '^KEY=' | cut -d= -f2-` reads it back. */
function formatValue(value: string): string {
  if (/^[A-Za-z0-9_./:+=@-]*$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The text of `original` with every assignment of each key in `values` set to its new value; missing keys appended. */
export function applyEnvUpdates(original: string, values: Record<string, string>): { text: string; replaced: string[]; added: string[] } {
  const { lines, eol } = splitLines(original);
  const entryAt = new Map(dotenvEntries(lines).map((entry) => [entry.start, entry]));
  const out: string[] = [];
  const replaced = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const entry = entryAt.get(i);
    if (!entry || !(entry.key in values)) {
      out.push(...lines.slice(i, i + (entry?.lineCount ?? 1)));
      i += (entry?.lineCount ?? 1) - 1;
      continue;
    }
    const exported = KEY_LINE.exec(lines[i]!)?.[1] !== undefined;
    out.push(`${exported ? 'export ' : ''}${entry.key}=${formatValue(values[entry.key]!)}`);
    replaced.add(entry.key);
    i += entry.lineCount - 1;
  }
  const added = Object.keys(values).filter((key) => !replaced.has(key));
  for (const key of added) out.push(`${key}=${formatValue(values[key]!)}`);
  return { text: out.length ? out.join(eol) + eol : '', replaced: [...replaced], added };
}

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The target's directory exists and is one; the target, when it exists, is a writable regular file. */
async function checkEnvFilePath(shownAs: string, target: string): Promise<{ size: number } | null> {
  const directory = dirname(target);
  const directoryStat = await fs.stat(directory).catch(() => null);
  if (!directoryStat) throw new UsageError(`cannot write the env file ${shownAs}: the directory ${directory} does not exist`);
  if (!directoryStat.isDirectory()) throw new UsageError(`cannot write the env file ${shownAs}: ${directory} is not a directory`);
  const stat = await fs.stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new RefusedError(`cannot read the env file ${shownAs}: ${errnoCode(error)}`, { cause: error });
  });
  if (!stat) return null;
  if (stat.isDirectory()) throw new UsageError(`cannot write the env file ${shownAs}: it is a directory`, { hint: 'name a file (in it, say)' });
  if (!stat.isFile()) throw new UsageError(`cannot write the env file ${shownAs}: it is not a regular file`);
  // Mode bits, not access(): root may write anything, yet a file made read-only says "do not change me".
  if ((stat.mode & 0o222) === 0) {
    throw new RefusedError(`cannot write the env file ${shownAs}: it is read-only (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')})`, {
      hint: 'make it writable (chmod u+w), or choose another env file',
    });
  }
  return { size: stat.size };
}

/**
 * Fails before anything irreversible happens when the file could not be written later: the path is
 * checked (a directory, a read-only file, a missing directory), the file is parsed (a value whose
 * quote never closes), and a probe as large as the final file is written and synced beside it, which
 * is what the real write will need (permissions, a read-only mount, a full disk).
 */
export async function checkEnvFileWritable(path: string, shownAs: string = path): Promise<void> {
  const target = await realTarget(path);
  const existing = await checkEnvFilePath(shownAs, target);
  if (existing) applyEnvUpdates(await fs.readFile(target, 'utf8'), {});
  const probe = join(dirname(target), `.${basename(target)}.qbank-probe-${randomBytes(6).toString('hex')}`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(probe, 'wx', 0o600);
    // Room for the file as it is plus two new tokens and their keys.
    await handle.writeFile(Buffer.alloc((existing?.size ?? 0) + 8192, 0x23));
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    const why = code === 'ENOSPC' ? 'no space left on the device' : code === 'EROFS' ? 'a read-only file system' : code;
    throw new RefusedError(`cannot write the env file ${shownAs}: a test write beside it failed (${why})`, {
      hint: 'free space or fix the permissions of its directory, or choose another env file; nothing was changed',
      cause: error,
    });
  } finally {
    await handle?.close().catch(() => undefined);
    await fs.unlink(probe).catch(() => undefined);
  }
}

/** Sets the keys in the dotenv file atomically (temp file + rename) with mode 0600. */
export async function updateEnvFile(path: string, values: Record<string, string>): Promise<EnvFileUpdate> {
  const target = await realTarget(path);
  let original = '';
  let created = false;
  try {
    original = await fs.readFile(target, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(path, error);
    created = true;
  }
  const { text, replaced, added } = applyEnvUpdates(original, values);
  const temp = join(dirname(target), `.${basename(target)}.qbank-${randomBytes(6).toString('hex')}.tmp`);
  await writeSynced(temp, text).catch((error: unknown) => {
    throw writeError(path, error);
  });
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw writeError(path, error);
  }
  await syncDirectory(dirname(target));
  return { path, created, replaced, added };
}

/** Writes a new file (never an existing one) with mode 0600 and syncs it; removed again on failure. */
async function writeSynced(path: string, text: string): Promise<void> {
  const handle = await fs.open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.chmod(0o600);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await fs.open(directory, 'r');
    await handle.sync().finally(() => handle.close());
  } catch {
    // not every platform can fsync a directory; the rename itself is atomic
  }
}

/**
 * Secrets that could not be written to `path` (after an irreversible step made them the only ones
 * that work) go to a new file beside it, mode 0600, named `<file>.qbank-unsaved-<UTC time>`; when its
 * directory takes no file, the same name in the fallback directories. Returns the file written.
 */
export async function writeRecoveryFile(path: string, values: Record<string, string>, now: Date, fallbackDirectories: string[] = []): Promise<string> {
  const target = await realTarget(path);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const text = applyEnvUpdates('', values).text;
  let lastError: unknown;
  for (const directory of [dirname(target), ...fallbackDirectories]) {
    for (let n = 0; n < 100; n++) {
      const candidate = join(directory, `${basename(target)}.qbank-unsaved-${stamp}${n === 0 ? '' : `-${n}`}`);
      try {
        await writeSynced(candidate, text);
        return candidate;
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') break;
      }
    }
  }
  throw new QbankError(`could not write the unsaved tokens anywhere: ${errnoCode(lastError)}`, { cause: lastError });
}

function writeError(path: string, error: unknown): QbankError {
  return new QbankError(`could not write the env file ${path}: ${errnoCode(error)}`, { cause: error });
}
