import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..');
export const qbankBin = join(root, 'bin', 'qbank.js');

export function benchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `qbank-bench-${prefix}-`));
}

export interface Timed {
  seconds: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Wall time of one run of a command, as a user would see it. */
export function timeCommand(command: string, args: string[], options: SpawnSyncOptions = {}): Timed {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** The median of several runs, after one warm-up, so a single hiccup does not decide the figure. */
export function medianSeconds(runs: number, once: () => Timed): { median: number; last: Timed } {
  once();
  const samples: number[] = [];
  let last!: Timed;
  for (let i = 0; i < runs; i++) {
    last = once();
    if (last.status !== 0) throw new Error(`command failed (${last.status}): ${last.stderr}`);
    samples.push(last.seconds);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], last };
}

export function printTable(title: string, rows: Array<[string, string, string, string]>): void {
  const headers: [string, string, string, string] = ['measure', 'qbank', 'target / reference', 'verdict'];
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(`\n${title}`);
  for (const row of all) console.log('  ' + row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}

export const s = (seconds: number) => `${seconds.toFixed(3)} s`;
