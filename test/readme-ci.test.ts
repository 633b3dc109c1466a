import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.js';
import { runProgram } from './support/child-cli.js';

/**
 * The README's "Using qbank in CI" pipeline, run as written: the fenced bash block is taken from
 * README.md and run by bash with CI=true, no terminal, stdin closed, and `qbank` on the PATH as
 * `npm link` puts it there (a symlink to bin/qbank.js). Needs `npm run build` and jq.
 */

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin', 'qbank.js');
// About twenty qbank processes, each starting Node: generous on a loaded machine.
const PIPELINE_TIMEOUT_MS = 240_000;
const hasJq = spawnSync('jq', ['--version']).status === 0;

function pipelineBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('\n## Using qbank in CI\n');
  expect(section, 'README.md has a "Using qbank in CI" section').toBeGreaterThan(0);
  const nextSection = readme.indexOf('\n## ', section + 1);
  const body = readme.slice(section, nextSection < 0 ? undefined : nextSection);
  const block = /```bash\n([\s\S]*?)```/.exec(body);
  expect(block, 'the section has a ```bash block').not.toBeNull();
  return block![1];
}

const runBash = (script: string, cwd: string, env: Record<string, string>) => runProgram('bash', [script], { cwd, env });

async function count(databaseFile: string, sql: string): Promise<number> {
  const client = createClient({ url: `file:${databaseFile}` });
  try {
    return Number((await client.execute(sql)).rows[0][0]);
  } finally {
    client.close();
  }
}

describe.skipIf(!hasJq)('README: Using qbank in CI', () => {
  let dir: ReturnType<typeof tempDir>;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = tempDir('qbank-readme-ci-');
    mkdirSync(join(dir.path, 'bin'));
    symlinkSync(BIN, join(dir.path, 'bin', 'qbank'));
    mkdirSync(join(dir.path, 'bank'));
    for (const file of ['exams.csv', 'questions.csv']) copyFileSync(join(ROOT, 'fixtures', 'pingtopass', file), join(dir.path, 'bank', file));
    writeFileSync(join(dir.path, 'pipeline.sh'), pipelineBlock());
    env = { PATH: `${join(dir.path, 'bin')}:${process.env.PATH}`, HOME: dir.path, TURSO_DATABASE_URL: `file:${join(dir.path, 'prod.db')}` };
    // The production database exists before the pipeline's first run: an empty PingToPass schema.
    writeFileSync(join(dir.path, 'setup.sh'), 'set -e\nqbank db push --schema pingtopass --quiet\n');
    const setup = await runBash('setup.sh', dir.path, env);
    expect(setup.code, setup.stderr).toBe(0);
  }, PIPELINE_TIMEOUT_MS);
  afterEach(() => dir.remove());

  it('runs every job: the PR plan shows the bank, the deploy imports it, the nightly dump verifies', async () => {
    const result = await runBash('pipeline.sh', dir.path, env);
    expect(result.code, result.stderr).toBe(0);

    const testDatabase = join(dir.path, 'ci-test.db');
    expect(await count(testDatabase, 'SELECT count(*) FROM questions')).toBeGreaterThan(24);

    const prod = join(dir.path, 'prod.db');
    const plan = JSON.parse(readFileSync(join(dir.path, 'import-plan.json'), 'utf8'));
    expect(plan).toMatchObject({ dryRun: true, created: 29, updated: 0 });
    expect(JSON.parse(readFileSync(join(dir.path, 'schema-plan.json'), 'utf8')).steps).toEqual([]);
    expect(await count(prod, 'SELECT count(*) FROM questions')).toBe(24);
    expect(await count(prod, 'SELECT count(*) FROM exams')).toBe(5);
    expect(JSON.parse(readFileSync(join(dir.path, 'status.json'), 'utf8')).check).toMatchObject({ passed: true, pending: [] });
    expect(await count(prod, "SELECT count(*) FROM __qbank_audit WHERE command LIKE 'import%'")).toBe(1);

    const backups = readdirSync(dir.path).filter((name) => /^backup-.*\.sql\.gz$/.test(name));
    expect(backups).toHaveLength(1);
    expect(result.stdout).toContain(`kept ${backups[0]}`);
  }, PIPELINE_TIMEOUT_MS);

  it('stops at the first failing step: an invalid bank fails the test job and production is untouched', async () => {
    const questions = join(dir.path, 'bank', 'questions.csv');
    writeFileSync(questions, readFileSync(questions, 'utf8').replace(/,A,"ARP broadcasts/, ',Z,"ARP broadcasts'));
    const result = await runBash('pipeline.sh', dir.path, env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/questions\.csv:\d+/);
    expect(await count(join(dir.path, 'prod.db'), 'SELECT count(*) FROM questions')).toBe(0);
    expect(existsSync(join(dir.path, 'import-plan.json'))).toBe(false);
  }, PIPELINE_TIMEOUT_MS);
});
