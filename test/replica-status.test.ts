import { createClient } from '@libsql/client';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTokenAccess, probeInstance } from '../src/turso/hrana-probe.js';
import { readEmbeddedReplicaIndex } from '../src/turso/replica-status.js';
import { runCli, tempDir } from './support/cli.js';
import { startTestbed, type Testbed } from './support/testbed.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function testbed(replicas: number): Promise<Testbed> {
  const bed = await startTestbed({ replicas });
  cleanups.push(() => bed.close());
  return bed;
}

function workDir(): string {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  return dir.path;
}

/** Commits `count` writes on the primary: each moves its replication index by one. */
async function writeOnPrimary(bed: Testbed, count: number): Promise<void> {
  const client = createClient({ url: bed.primary.url, authToken: bed.authToken });
  try {
    await client.execute('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)');
    for (let i = 0; i < count; i++) await client.execute({ sql: 'INSERT INTO notes (body) VALUES (?)', args: [`note ${i}`] });
  } finally {
    client.close();
  }
}

function rowOf(stdout: string, instance: string): string {
  const row = stdout.split('\n').find((line) => line.startsWith(instance));
  expect(row, `a row for ${instance} in:\n${stdout}`).toBeDefined();
  return row!;
}

describe('qbank replica status', () => {
  it('shows a primary with two replicas, one lagging and one down, and exits 6 with --max-lag', async () => {
    const bed = await testbed(2);
    await writeOnPrimary(bed, 30);
    bed.replicas[0]!.knobs.replicationLag = 20;
    await bed.replicas[1]!.close();

    const result = await runCli(['replica', 'status', '--max-lag', '5'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(6);
    const primaryIndex = bed.primary.replicationIndex;
    expect(primaryIndex).toBeGreaterThanOrEqual(31);

    expect(result.stdout).toMatch(/INSTANCE\s+TYPE\s+REGION\s+HOSTNAME\s+STATUS\s+LATENCY\s+INDEX\s+LAG\s+VERSION/);
    const primaryRow = rowOf(result.stdout, 'aws-us-east-1');
    expect(primaryRow).toMatch(new RegExp(`primary\\s+aws-us-east-1\\s+127\\.0\\.0\\.1:${bed.primary.port}\\s+up\\s+[\\d.]+ ms\\s+${primaryIndex}\\s+-\\s+sqld`));
    expect(rowOf(result.stdout, 'aws-eu-west-1')).toMatch(new RegExp(`replica .*\\s+up\\s+[\\d.]+ ms\\s+${primaryIndex - 20}\\s+20\\s+sqld`));
    expect(rowOf(result.stdout, 'aws-ap-south-1')).toMatch(/replica\s+aws-ap-south-1\s+127\.0\.0\.1:\d+\s+unreachable\s*$/);

    expect(result.stderr).toContain('aws-eu-west-1 (replica) is 20 frame(s) behind the primary (more than 5)');
    expect(result.stderr).toMatch(/aws-ap-south-1 \(replica\) is unreachable: ECONNREFUSED/);
    expect(result.stderr).toContain('2 problem(s): exit code 6');
  });

  it('gives the same facts as JSON, and exits 6 for an unreachable replica even without --max-lag', async () => {
    const bed = await testbed(2);
    await writeOnPrimary(bed, 12);
    bed.replicas[0]!.knobs.replicationLag = 4;
    await bed.replicas[1]!.close();

    const result = await runCli(['replica', 'status', '--json'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(6);
    const report = result.json();
    expect(report.database).toEqual({ name: 'qbank', group: 'default', primaryRegion: 'aws-us-east-1' });
    expect(report.primaryIndex).toBe(bed.primary.replicationIndex);
    const byName = Object.fromEntries(report.instances.map((i: { name: string }) => [i.name, i]));
    expect(byName['aws-us-east-1']).toMatchObject({ type: 'primary', reachable: true, lag: 0, replicationIndex: bed.primary.replicationIndex });
    expect(byName['aws-us-east-1'].latencySamplesMs).toHaveLength(3);
    expect(byName['aws-us-east-1'].version).toMatch(/^sqld /);
    expect(byName['aws-eu-west-1']).toMatchObject({ type: 'replica', reachable: true, lag: 4, replicationIndex: bed.primary.replicationIndex - 4 });
    expect(byName['aws-ap-south-1']).toMatchObject({ reachable: false, lag: null, latencyMs: null, replicationIndex: null });
    expect(report.problems).toEqual([expect.stringMatching(/^aws-ap-south-1 \(replica\) is unreachable/)]);
    expect(report.ok).toBe(false);
  });

  it('exits 0 when every instance answers and none lags more than --max-lag', async () => {
    const bed = await testbed(2);
    await writeOnPrimary(bed, 5);
    bed.replicas[1]!.knobs.replicationLag = 2;
    const result = await runCli(['replica', 'status', '--max-lag', '2'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(rowOf(result.stdout, 'aws-ap-south-1')).toMatch(/\s2\s+sqld/);
    expect(result.stderr).not.toContain('warning');
  });

  it('reads well for a single primary, the common case now that edge replicas are deprecated', async () => {
    const bed = await testbed(0);
    const result = await runCli(['replica', 'status'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('qbank · group default · primary aws-us-east-1 · 1 instance (no replicas)');
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
    expect(result.stderr).toContain('a single primary and no edge replicas');
    expect(result.stderr).toContain('embedded replicas');
  });

  it('finds the database by matching the database URL against the organization', async () => {
    const bed = await testbed(1);
    const { QBANK_DB: _named, ...env } = bed.env;
    const result = await runCli(['replica', 'status', '--json'], { env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(result.json().database.name).toBe('qbank');
    expect(result.stderr).toBe('');
    const human = await runCli(['replica', 'status'], { env, cwd: workDir() });
    expect(human.stderr).toContain(`database found by the hostname of 127.0.0.1:${bed.primary.port}`);
  });

  it('probes just the configured server when the Platform API is not configured', async () => {
    const bed = await testbed(1);
    await writeOnPrimary(bed, 3);
    const env = { TURSO_DATABASE_URL: bed.primary.url, TURSO_AUTH_TOKEN_RO: bed.readOnlyToken };
    const result = await runCli(['replica', 'status'], { env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(rowOf(result.stdout, 'configured')).toMatch(new RegExp(`primary\\s+127\\.0\\.0\\.1:${bed.primary.port}\\s+up\\s+[\\d.]+ ms\\s+${bed.primary.replicationIndex}\\s`));
    expect(result.stderr).toContain('the Turso Platform API is not configured');
  });

  it('still reports health without a database token, and says why the index is missing', async () => {
    const bed = await testbed(1);
    const { TURSO_AUTH_TOKEN: _rw, TURSO_AUTH_TOKEN_RO: _ro, ...env } = bed.env;
    const result = await runCli(['replica', 'status', '--json'], { env, cwd: workDir() });
    expect(result.code).toBe(0);
    const report = result.json();
    expect(report.instances.every((i: { reachable: boolean; replicationIndex: unknown }) => i.reachable && i.replicationIndex === null)).toBe(true);
    expect(report.notes.join('\n')).toContain('needs a database token');
    const strict = await runCli(['replica', 'status', '--max-lag', '10'], { env, cwd: workDir() });
    expect(strict.code).toBe(6);
    expect(strict.stderr).toContain('aws-eu-west-1 (replica): lag unknown');
  });

  it('reports how far an embedded replica file is behind the primary', async () => {
    const bed = await testbed(0);
    await writeOnPrimary(bed, 25);
    const dir = workDir();
    const local = join(dir, 'local.db');
    writeFileSync(local, '');
    // What libSQL keeps beside an embedded replica: a 16-byte log id, then the last applied frame (u64 LE).
    const meta = Buffer.alloc(32);
    meta.writeBigUInt64LE(10n, 16);
    writeFileSync(`${local}-client_wal_index`, meta);
    const env = { ...bed.env, TURSO_DATABASE_URL: `file:${local}`, TURSO_SYNC_URL: bed.primary.url };
    delete (env as Record<string, string>).TURSO_AUTH_TOKEN_RO;

    const result = await runCli(['replica', 'status'], { env, cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`embedded replica ${local}: at frame 10, ${bed.primary.replicationIndex - 10} frame(s) behind the primary`);

    const strict = await runCli(['replica', 'status', '--max-lag', '3', '--json'], { env, cwd: dir });
    expect(strict.code).toBe(6);
    expect(strict.json().embedded).toMatchObject({ localIndex: 10, framesBehind: bed.primary.replicationIndex - 10 });
    expect(strict.json().problems).toEqual([expect.stringContaining(`the embedded replica ${local} is ${bed.primary.replicationIndex - 10} frame(s) behind`)]);
  });

  it('repeats with --watch, one JSON document per line', async () => {
    const bed = await testbed(1);
    const result = await runCli(['replica', 'status', '--watch', '0.05', '--count', '2', '--json'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line).instances).toHaveLength(2);
  });

  it('says clearly when the named database does not exist or the platform token is wrong', async () => {
    const bed = await testbed(0);
    const missing = await runCli(['replica', 'status', '--db', 'nope'], { env: bed.env, cwd: workDir() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('database "nope" not found in organization "qbank-local"');
    const badToken = await runCli(['replica', 'status'], { env: { ...bed.env, TURSO_API_TOKEN: 'wrong' }, cwd: workDir() });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain('platform API token invalid or expired');
  });
});

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI in its own process, without a terminal, as a CI job or a monitoring agent runs it. */
function spawnCli(args: string[], env: Record<string, string>, cwd: string) {
  const code = `
    const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/main.ts')).href)});
    process.exitCode = await main(process.argv.slice(1));
  `;
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code, '--', ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('replica status names the credential it used', () => {
  it('says which token was rejected and where it came from, and that none is configured when none is', async () => {
    const bed = await testbed(1);
    const dir = workDir();
    const { TURSO_AUTH_TOKEN: _rw, TURSO_AUTH_TOKEN_RO: _ro, ...env } = bed.env;
    writeFileSync(join(dir, '.env.local'), `TURSO_AUTH_TOKEN_RO=${bed.platform.mintToken('qbank', { expiresInSeconds: -3600 })}\n`);
    const rejected = await runCli(['replica', 'status', '--json'], { env, cwd: dir });
    expect(rejected.json().notes.join('\n')).toContain('the database token from TURSO_AUTH_TOKEN_RO in .env.local was rejected');

    const none = await runCli(['replica', 'status', '--json'], { env, cwd: workDir() });
    expect(none.json().notes.join('\n')).toContain('no database token is configured');
  });
});

describe('a database token the HTTP layer cannot send is never repeated', () => {
  it('probes say the token is unusable without quoting it, and the CLI prints none of it', async () => {
    const bed = await testbed(1);
    const token = 'abc\nSECRET-DB-TOKEN-123';
    const probe = await probeInstance(bed.primary.url, { token, samples: 1 });
    expect(probe.reachable).toBe(true);
    expect(probe.indexError).toContain('the database token contains a line break');
    expect(JSON.stringify(probe)).not.toContain('SECRET');
    const access = await checkTokenAccess(bed.primary.url, token);
    expect(access).toMatchObject({ reachable: true, accepted: false });
    expect(JSON.stringify(access)).not.toContain('SECRET');

    for (const args of [['replica', 'status', '--json'], ['--json', 'replica', 'status'], ['token', 'verify', '--json']]) {
      const result = await runCli(args, { env: { ...bed.env, TURSO_AUTH_TOKEN: token, TURSO_AUTH_TOKEN_RO: token }, cwd: workDir() });
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).not.toContain('SECRET');
    }
  });
});

describe('qbank replica status --watch in its own process, without a terminal', () => {
  it('runs every round up to --count and exits 0', async () => {
    const bed = await testbed(1);
    for (const args of [
      ['replica', 'status', '--watch', '0.2', '--count', '3', '--json'],
      ['--json', 'replica', 'status', '--count', '3', '--watch', '0.2'],
    ]) {
      const run = spawnCli(args, bed.env, workDir());
      expect(await run.exited, run.output.stderr).toBe(0);
      const lines = run.output.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const line of lines) expect(JSON.parse(line).instances).toHaveLength(2);
    }
  });

  it('without --count runs until interrupted, then ends cleanly with the last round\'s exit code', async () => {
    const bed = await testbed(1);
    const run = spawnCli(['replica', 'status', '--watch', '0.1', '--json'], bed.env, workDir());
    await waitFor(() => run.output.stdout.trim().split('\n').length >= 3, 'three rounds');
    run.child.kill('SIGINT');
    expect(await run.exited, run.output.stderr).toBe(0);
    for (const line of run.output.stdout.trim().split('\n')) expect(JSON.parse(line).ok).toBe(true);
  });
});

describe('qbank replica status --max-lag: more than N frames behind fails, N frames does not', () => {
  it('passes a replica exactly --max-lag frames behind and fails one a frame further', async () => {
    const bed = await testbed(1);
    await writeOnPrimary(bed, 101);
    bed.replicas[0]!.knobs.replicationLag = 100;
    const atLimit = await runCli(['replica', 'status', '--max-lag', '100'], { env: bed.env, cwd: workDir() });
    expect(atLimit.code, atLimit.stderr).toBe(0);
    expect(rowOf(atLimit.stdout, 'aws-eu-west-1')).toMatch(/\s100\s+sqld/);

    bed.replicas[0]!.knobs.replicationLag = 101;
    const beyond = await runCli(['--json', 'replica', 'status', '--max-lag', '100'], { env: bed.env, cwd: workDir() });
    expect(beyond.code).toBe(6);
    expect(beyond.json().problems).toEqual(['aws-eu-west-1 (replica) is 101 frame(s) behind the primary (more than 100)']);
  });
});

describe('readEmbeddedReplicaIndex', () => {
  it('reads the client_wal_index frame, treats u64::MAX as never synced, and falls back to -info JSON', async () => {
    const dir = workDir();
    const path = join(dir, 'a.db');
    expect((await readEmbeddedReplicaIndex(path)).localIndex).toBeNull();
    const meta = Buffer.alloc(32);
    meta.writeBigUInt64LE(0xffff_ffff_ffff_ffffn, 16);
    writeFileSync(`${path}-client_wal_index`, meta);
    expect(await readEmbeddedReplicaIndex(path)).toMatchObject({ localIndex: null, note: 'the replica has not completed a sync yet' });
    const other = join(dir, 'b.db');
    writeFileSync(`${other}-info`, JSON.stringify({ hash: 1, version: 0, durable_frame_num: 102, generation: 1 }));
    expect(await readEmbeddedReplicaIndex(other)).toMatchObject({ localIndex: 102, metadataFile: `${other}-info` });
  });
});
