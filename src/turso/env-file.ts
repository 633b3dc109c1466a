import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { QbankError, RefusedError } from '../errors.js';

/*
 * Writes secrets into a dotenv file the way an operator would by hand, minus the risks: every other
 * line (comments, blank lines, other keys, `export` prefixes, line endings) stays as it was, the new
 * content replaces the old in one rename (a crash leaves the old file or the new one, never half of
 * one), and the file ends up readable by its owner only.
 */

export interface EnvFileUpdate {
  path: string;
  created: boolean;
  /** Keys whose existing lines were replaced. */
  replaced: string[];
  /** Keys appended at the end. */
  added: string[];
}

const KEY_LINE = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;

/** Where the data lands: a symlinked .env is updated at its target, and the link stays. */
async function realTarget(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    return resolve(path);
  }
}

/** Fails before anything irreversible happens when the file could not be written later. */
export async function checkEnvFileWritable(path: string): Promise<void> {
  const target = await realTarget(path);
  try {
    await fs.access(dirname(target), constants.W_OK);
    await fs.access(target, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  } catch (error) {
    throw new RefusedError(`cannot write the env file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'fix its permissions or choose another file with --env-file',
      cause: error,
    });
  }
}

/** Plain `KEY=value` whenever the value allows it (JWTs do), so `grep '^KEY=' | cut -d= -f2-` reads it back. */
function formatValue(value: string): string {
  if (/^[A-Za-z0-9_./:+=@-]*$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The number of physical lines a value starting on this line spans (a quoted value may run on). */
function valueLineSpan(lines: string[], start: number, rawValue: string): number {
  const value = rawValue.trim();
  const quote = value[0];
  if (quote !== '"' && quote !== "'" && quote !== '`') return 1;
  if (value.slice(1).includes(quote)) return 1;
  for (let i = start + 1; i < lines.length; i++) if (lines[i]!.includes(quote)) return i - start + 1;
  return 1;
}

/** The text of `original` with every line of each key in `values` set to its new value; missing keys appended. */
export function applyEnvUpdates(original: string, values: Record<string, string>): { text: string; replaced: string[]; added: string[] } {
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const lines = original === '' ? [] : original.split(/\r?\n/);
  const endsWithNewline = original === '' || /\n$/.test(original);
  if (endsWithNewline && lines.length > 0) lines.pop();
  const out: string[] = [];
  const replaced = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = KEY_LINE.exec(line);
    const key = match?.[3];
    if (!match || key === undefined || !(key in values)) {
      out.push(line);
      continue;
    }
    const [, , exportPrefix = '', , , rawValue] = match;
    const span = valueLineSpan(lines, i, rawValue!);
    out.push(`${exportPrefix.trim() ? 'export ' : ''}${key}=${formatValue(values[key]!)}`);
    replaced.add(key);
    i += span - 1;
  }
  const added = Object.keys(values).filter((key) => !replaced.has(key));
  for (const key of added) out.push(`${key}=${formatValue(values[key]!)}`);
  return { text: out.length ? out.join(eol) + eol : '', replaced: [...replaced], added };
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
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
    await handle.writeFile(text, 'utf8');
    await handle.chmod(0o600);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw writeError(path, error);
  }
  try {
    const directory = await fs.open(dirname(target), 'r');
    await directory.sync().finally(() => directory.close());
  } catch {
    // not every platform can fsync a directory; the rename itself is atomic
  }
  return { path, created, replaced, added };
}

function writeError(path: string, error: unknown): QbankError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new QbankError(`could not write the env file ${path}: ${code}`, { cause: error });
}
