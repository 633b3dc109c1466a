/**
 * `npm run bench -- fleet`: `qbank db push --all` on a fleet of 50 databases that are already up to
 * date, behind the local Platform API stand-in and 50 local libSQL servers, each answering after
 * 20 ms (target ≤ 3 s wall, as a user runs it: `bin/qbank.js` in its own process, default
 * concurrency 4). Wall time depends on what else the machine runs, so the CPU time qbank used and
 * the load average are printed beside it.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createPlatformApi } from '../src/turso/platform-api.js';
import { startPlatformServer } from '../test/support/platform-server.js';
import { benchDir, printTable, qbankBin, s } from './support.js';

const DATABASES = 50;
const LATENCY_MS = 20;
const TARGET_SECONDS = 3;
const API_TOKEN = 'qbank-bench-fleet-token';

/** Prints the process's CPU time (user + system, µs) on stderr as it exits. */
const CPU_REPORT = `data:text/javascript,${encodeURIComponent("process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\ncpu-us=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });")}`;

interface Run {
  seconds: number;
  cpuSeconds: number;
  /** CPU time of this process (the stand-in and the 50 libSQL servers) during the run. */
  standInCpuSeconds?: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Wall time of one qbank run; asynchronous, since the servers it talks to live in this process. */
function qbank(args: string[], env: Record<string, string>): Promise<Run> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['--import', CPU_REPORT, '--', qbankBin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const cpu = /cpu-us=(\d+)/.exec(stderr);
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: cpu ? Number(cpu[1]) / 1e6 : NaN, code, stdout, stderr });
    });
  });
}

export async function run(): Promise<void> {
  const dir = benchDir('fleet');
  const platform = await startPlatformServer({
    org: 'bench',
    apiToken: API_TOKEN,
    databases: [],
    groups: [{ name: 'default', primary: 'aws-us-east-1', locations: ['aws-us-east-1'] }],
    provisioning: { dir, latencyMs: LATENCY_MS },
    latencyMs: LATENCY_MS,
  });
  try {
    const api = createPlatformApi({ baseUrl: platform.baseUrl, token: API_TOKEN, org: 'bench' });
    const names = Array.from({ length: DATABASES }, (_, i) => `fleet-${i + 1}`);
    for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((name) => api.createDatabase({ name, group: 'default' })));
    const env = { TURSO_API_URL: platform.baseUrl, TURSO_ORG: 'bench', TURSO_API_TOKEN: API_TOKEN };
    const first = await qbank(['db', 'push', '--all', '--schema', 'pingtopass', '--concurrency', '8'], env);
    if (first.code !== 0) throw new Error(`the first push failed (${first.code}):\n${first.stderr.slice(-2000)}`);
    const upToDate = async (extra: string[] = []) => {
      const before = process.cpuUsage();
      const run = await qbank(['db', 'push', '--all', '--json', ...extra], env);
      const used = process.cpuUsage(before);
      run.standInCpuSeconds = (used.user + used.system) / 1e6;
      if (run.code !== 0) throw new Error(`push --all failed (${run.code}):\n${run.stderr.slice(-2000)}`);
      const summary = (JSON.parse(run.stdout) as { summary: { ok: number } }).summary;
      if (summary.ok !== DATABASES) throw new Error(`expected ${DATABASES} databases up to date, got ${JSON.stringify(summary)}`);
      return run;
    };
    const loadBefore = loadavg()[0]!;
    const samples: Run[] = [];
    for (let i = 0; i < 3; i++) samples.push(await upToDate());
    samples.sort((a, b) => a.seconds - b.seconds);
    const median = samples[1]!;
    const wider = await upToDate(['--concurrency', '8']);
    const load = `load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} core(s)`;
    printTable(`db push --all, ${DATABASES} databases up to date, ${LATENCY_MS} ms latency (API and libSQL); ${load}`, [
      ['wall time (median of 3, concurrency 4)', s(median.seconds), `≤ ${TARGET_SECONDS} s`, median.seconds <= TARGET_SECONDS ? 'ok' : 'SLOWER'],
      ['CPU time of qbank in that run', s(median.cpuSeconds), '-', '-'],
      ['CPU time of the stand-in and its 50 servers', s(median.standInCpuSeconds ?? NaN), '-', '-'],
      ['wall time, --concurrency 8', s(wider.seconds), '-', '-'],
      ['first push (50 empty databases, concurrency 8)', s(first.seconds), '-', '-'],
    ]);
  } finally {
    await platform.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
