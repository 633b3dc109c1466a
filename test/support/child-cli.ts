import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The CLI in a child process started from the sources, without a terminal: a test can kill it
 * mid-way (Ctrl-C, an OOM kill) or close its standard output as `head` does.
 */
export function spawnCli(args: string[], options: { cwd: string; env: Record<string, string | undefined> }): ChildProcessByStdio<null, Readable, Readable> {
  const code = `
    const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/main.ts')).href)});
    process.exitCode = await main(process.argv.slice(1));
  `;
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code, '--', ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
