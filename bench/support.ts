import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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

/** The median of several runs, after one warm-up (unless told), so a single hiccup does not decide the figure. */
export function medianSeconds(runs: number, once: () => Timed, { warmUp = true } = {}): { median: number; last: Timed } {
  if (warmUp) once();
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

/** Preloaded into a measured process: prints its peak resident set size and CPU time (every thread's) on exit. */
export const PEAK_RSS_PRELOAD = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\npeak-rss-kb=' + u.maxRSS + ' cpu-us=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });",
)}`;

export interface QbankRun<Summary> {
  seconds: number;
  peakMb: number;
  /** CPU time of all its threads: a figure other work on the machine slows less than the wall time. */
  cpuSeconds: number;
  /** Its `--json` document. */
  summary: Summary;
}

function measured<Summary>(args: string[], seconds: number, code: number | null, stdout: string, stderr: string): QbankRun<Summary> {
  if (code !== 0) throw new Error(`qbank ${args.join(' ')} failed (${code}):\n${stderr}`);
  const peak = /peak-rss-kb=(\d+) cpu-us=(\d+)/.exec(stderr);
  return { seconds, peakMb: peak ? Number(peak[1]) / 1024 : NaN, cpuSeconds: peak ? Number(peak[2]) / 1e6 : NaN, summary: JSON.parse(stdout) as Summary };
}

const measuredArgs = (command: string[], args: string[]) => ['--import', PEAK_RSS_PRELOAD, ...command, ...args, '--json'];
const measuredEnv = (env: Record<string, string>) => ({ ...process.env, NO_COLOR: '1', ...env });

/** Runs qbank (`command`: the built CLI unless told) with `--json`, measured: wall time, peak RSS, CPU time. */
export function runQbank<Summary>(args: string[], env: Record<string, string>, command: string[] = [qbankBin]): QbankRun<Summary> {
  const result = timeCommand('node', measuredArgs(command, args), { env: measuredEnv(env) });
  return measured(args, result.seconds, result.status, result.stdout, result.stderr);
}

/** `runQbank` without blocking this process, which may be serving the database (the local libSQL server). */
export async function runQbankAsync<Summary>(args: string[], env: Record<string, string>, command: string[] = [qbankBin]): Promise<QbankRun<Summary>> {
  const started = process.hrtime.bigint();
  const child = spawn('node', measuredArgs(command, args), { env: measuredEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return measured(args, Number(process.hrtime.bigint() - started) / 1e9, code, stdout, stderr);
}

/** The 1, 5 and 15 minute load averages, for the figures' context. */
export const loadAverage = () => loadavg().map((load) => load.toFixed(2)).join(' ');
