import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
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

/** The CLI started by `startCliWithProgress`. */
export interface ProgressChild {
  /** Its exit code (null when killed by a signal), once its stderr is read to the end. */
  exited: Promise<number | null>;
  stderr: () => string;
  /** The most rows its progress line has said it read so far. */
  rowsRead: () => number;
  running: () => boolean;
  kill: () => void;
  /** Resolves once it has read `rows` rows; throws when it ends first or `withinMs` passes (`before`: what was to happen then). */
  untilRead: (rows: number, options: { withinMs: number; before: string }) => Promise<void>;
}

/** `main` as `bin/qbank.js` runs it, from the sources, with stderr taken for a terminal. */
const WITH_PROGRESS = `
import { main } from ${JSON.stringify(join(ROOT, 'src', 'main.ts'))};
import { processIO } from ${JSON.stringify(join(ROOT, 'src', 'output', 'io.ts'))};
process.exitCode = await main(process.argv.slice(1), { ...processIO(), stderrIsTTY: true });
`;

/**
 * The CLI in a child process a test can kill, its stderr taken for a terminal so it draws its
 * progress (rows read so far). It runs from the checkout (where tsx resolves): name files by their
 * full paths.
 */
export function startCliWithProgress(args: string[], env: Record<string, string | undefined>): ProgressChild {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WITH_PROGRESS, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const rowsRead = () => Math.max(0, ...[...stderr.matchAll(/([\d,]+) rows/g)].map((match) => Number(match[1].replace(/,/g, ''))));
  const untilRead = async (rows: number, options: { withinMs: number; before: string }) => {
    const deadline = Date.now() + options.withinMs;
    while (rowsRead() < rows) {
      if (!running()) throw new Error(`it ended (${await exited}) before ${options.before}:\n${stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`it did not get to row ${rows}:\n${stderr.slice(-2000)}`);
      await setTimeout(2);
    }
  };
  return { exited, stderr: () => stderr, rowsRead, running, kill: () => child.kill('SIGKILL'), untilRead };
}

/** What a program run to its end printed, and its exit code (null when a signal ended it). */
export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in `cwd` with exactly `env` (nothing of the test runner's), without a terminal, to its end. */
export function runProgram(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined> }): Promise<ProgramResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
