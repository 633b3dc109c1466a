import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = join(import.meta.dirname, '..');

export interface ParsedSource {
  /** Path relative to the repository, with `/` separators, as it is printed. */
  path: string;
  absolutePath: string;
  source: ts.SourceFile;
}

/** Every `.ts` file below `dir` (declaration files left out), or the one file `dir` names, parsed without type checking. */
export function parseSourceTree(dir: string, root = REPO_ROOT): ParsedSource[] {
  const files = statSync(dir).isDirectory() ? listTypeScriptFiles(dir) : [dir];
  return files.map((absolutePath) => ({
    path: displayPath(absolutePath, root),
    absolutePath,
    source: ts.createSourceFile(absolutePath, readFileSync(absolutePath, 'utf8'), ts.ScriptTarget.Latest, true),
  }));
}

/** Relative to the repository when inside it (as reports print it), else absolute. */
function displayPath(absolutePath: string, root: string): string {
  const inside = relative(root, absolutePath);
  return inside.startsWith('..') ? absolutePath : inside.split(sep).join('/');
}

function listTypeScriptFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTypeScriptFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

export function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

/** True when this module is the program node started (`node --import tsx scripts/x.ts`), not an import. */
export function isEntryPoint(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === resolve(process.argv[1]);
}

/** A reader that stops early (`| head`) ends the script quietly, as with any command-line tool. */
export function stopQuietlyOnClosedOutput(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
