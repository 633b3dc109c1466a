/**
 * `npm run bench -- fleet`: `qbank db push --all` on a fleet of 50 databases that are already up to
 * date, behind the local Platform API stand-in and 50 local libSQL servers, each answering after
 * 20 ms (target ≤ 3 s wall, as a user runs it: `bin/qbank.js` in its own process).
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createPlatformApi } from '../src/turso/platform-api.js';
import { startPlatformServer } from '../test/support/platform-server.js';
import { benchDir, printTable, qbankBin, s } from './support.js';

const DATABASES = 50;
const LATENCY_MS = 20;
const TARGET_SECONDS = 3;
const API_TOKEN = 'qbank-bench-fleet-token';

/** Wall time of one qbank run; asynchronous, since the servers it talks to live in this process. */
function qbank(args: string[], env: Record<string, string>): Promise<{ seconds: number; code: number | null; stdout: string; stderr: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('node', [qbankBin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code, stdout, stderr }));
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
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const upToDate = await qbank(['db', 'push', '--all', '--json'], env);
      if (upToDate.code !== 0) throw new Error(`push --all failed (${upToDate.code}):\n${upToDate.stderr.slice(-2000)}`);
      const summary = (JSON.parse(upToDate.stdout) as { summary: { ok: number } }).summary;
      if (summary.ok !== DATABASES) throw new Error(`expected ${DATABASES} databases up to date, got ${JSON.stringify(summary)}`);
      samples.push(upToDate.seconds);
    }
    samples.sort((a, b) => a - b);
    const median = samples[1]!;
    printTable(`db push --all, ${DATABASES} databases up to date, ${LATENCY_MS} ms latency (API and libSQL), concurrency 4`, [
      ['wall time (median of 3)', s(median), `≤ ${TARGET_SECONDS} s`, median <= TARGET_SECONDS ? 'ok' : 'SLOWER'],
      ['first push (50 empty databases, concurrency 8)', s(first.seconds), '-', '-'],
    ]);
  } finally {
    await platform.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
