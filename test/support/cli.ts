import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/main.js';
import type { IO } from '../../src/output/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the raw text when it is not JSON). */
  json: <T = any>() => T;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Pretend stdin and stderr are a terminal (prompts allowed). */
  tty?: boolean;
  stdin?: PassThrough;
}

class Collector extends Writable {
  text = '';
  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Runs the qbank CLI in-process with its own streams and environment; nothing leaks from the test runner's env. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const io: IO = {
    stdin: options.stdin ?? new PassThrough(),
    stdout,
    stderr,
    stdinIsTTY: Boolean(options.tty),
    stdoutIsTTY: false,
    stderrIsTTY: Boolean(options.tty),
    env: { PATH: process.env.PATH, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    now: () => new Date(),
  };
  const code = await main(args, io);
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    json: () => {
      try {
        return JSON.parse(stdout.text);
      } catch {
        throw new Error(`stdout is not JSON:\n${stdout.text}\nstderr:\n${stderr.text}`);
      }
    },
  };
}

export function tempDir(prefix = 'qbank-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
