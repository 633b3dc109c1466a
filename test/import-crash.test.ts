import { createClient } from '@libsql/client';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const QUESTIONS = 20_000;

/**
 * The CLI in a process of its own, so it can be killed: `main` as `bin/qbank.js` runs it, from the
 * sources, with stderr taken for a terminal so it draws its progress (rows read so far).
 */
const CHILD = `
import { main } from ${JSON.stringify(join(ROOT, 'src', 'main.ts'))};
import { processIO } from ${JSON.stringify(join(ROOT, 'src', 'output', 'io.ts'))};
process.exitCode = await main(process.argv.slice(1), { ...processIO(), stderrIsTTY: true });
`;

function bank(path: string): void {
  const exams = ['CCNA-200-301', 'SAA-C03', 'SC-900'];
  const lines = ['exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
  for (let i = 0; i < QUESTIONS; i++) {
    const text = `Question ${i}: ${'which setting applies here, and why? '.repeat(8)}`;
    lines.push(`${exams[i % 3]},"${text}",first ${i},second ${i},third ${i},fourth ${i},${'ABCD'[i % 4]},"Because ""reasons"" ${i}\nand more",${1 + (i % 5)}`);
  }
  writeFileSync(path, lines.join('\r\n') + '\r\n');
}

async function rows(t: TestDatabase, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute(sql)).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

async function counts(t: TestDatabase): Promise<{ questions: number; options: number }> {
  const [row] = await rows(t, 'SELECT (SELECT count(*) FROM questions) AS questions, (SELECT count(*) FROM answer_options) AS options');
  return { questions: Number(row.questions), options: Number(row.options) };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.each(MODES)('a killed import (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    // A killed client's stream holds the write lock until it expires; sqld waits 10 s.
    if (t.server) t.server.knobs.streamExpiryMs = 1_000;
    bank(join(t.dir, 'bank.csv'));
  });
  afterEach(async () => {
    await t.close();
  });

  /** Starts the import in a child process and kills it once it has read `rows` rows. */
  async function killAfter(rows: number): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, 'import', join(t.dir, 'bank.csv')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...t.env, QBANK_IMPORT_PARALLEL: 'never' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const read = () => Math.max(0, ...[...stderr.matchAll(/([\d,]+) rows/g)].map((match) => Number(match[1].replace(/,/g, ''))));
    const deadline = Date.now() + 30_000;
    while (read() < rows) {
      if (child.exitCode !== null) throw new Error(`the import ended before it could be killed:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`the import did not get to row ${rows}:\n${stderr}`);
      await sleep(2);
    }
    child.kill('SIGKILL');
    expect(await exited, `the import finished before the kill\n${stderr}`).toBeNull();
    expect(stderr).not.toMatch(/imported/);
    // The server rolls back the killed stream's transaction when the stream expires.
    if (t.server) {
      while (t.server.stats.openStreams > 0) await sleep(50);
      t.server.knobs.streamExpiryMs = 10_000;
    }
  }

  it.each([
    ['into empty tables, a quarter of the way', 'empty', QUESTIONS / 4],
    ['into empty tables, three quarters of the way', 'empty', (QUESTIONS * 3) / 4],
    ['beside existing questions (staged), half-way', 'seeded', QUESTIONS / 2],
  ] as const)('leaves nothing behind %s, and a rerun completes it exactly', async (_label, start, killAt) => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    if (start === 'seeded') expect((await cli(['db', 'seed'])).code).toBe(0);
    else expect((await cli(['import', 'exams', join(ROOT, 'fixtures', 'pingtopass', 'exams.csv')])).code).toBe(0);
    const before = await counts(t);
    const questionsBefore = await rows(t, 'SELECT * FROM questions ORDER BY rowid');

    await killAfter(killAt);
    expect(await counts(t)).toEqual(before);
    expect(await rows(t, 'SELECT * FROM questions ORDER BY rowid')).toEqual(questionsBefore);

    const rerun = await cli(['import', 'bank.csv', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ created: QUESTIONS, updated: 0, unchanged: 0 });
    expect(await counts(t)).toEqual({ questions: before.questions + QUESTIONS, options: before.options + 4 * QUESTIONS });
    const again = await cli(['import', 'bank.csv', '--json']);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: QUESTIONS });
    expect(await counts(t)).toEqual({ questions: before.questions + QUESTIONS, options: before.options + 4 * QUESTIONS });
  });
});

describe('a dropped connection (remote)', () => {
  it('never leaves duplicates: whether the lost request was a batch or the commit, a rerun converges', async () => {
    const setup = async () => {
      const t = await createTestDatabase('remote');
      const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await cli(['db', 'seed'])).code).toBe(0);
      writeFileSync(join(t.dir, 'bank.csv'), readFileSync(join(ROOT, 'fixtures', 'pingtopass', 'questions.csv')));
      expect((await cli(['import', 'exams', join(ROOT, 'fixtures', 'pingtopass', 'exams.csv')])).code).toBe(0);
      return { t, cli };
    };
    // How many requests a whole import takes, the last being its commit.
    const probe = await setup();
    const before = probe.t.server!.stats.requests;
    expect((await probe.cli(['import', 'bank.csv'])).code).toBe(0);
    const requests = probe.t.server!.stats.requests - before;
    await probe.t.close();
    expect(requests).toBeGreaterThan(2);

    for (const lost of [2, requests]) {
      const { t, cli } = await setup();
      try {
        t.server!.knobs.streamExpiryMs = 1_000;
        t.server!.knobs.dropMidResponse = lost;
        const failed = await cli(['import', 'bank.csv']);
        expect(failed.code, failed.stderr).toBe(4);
        expect(failed.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+/m);
        while (t.server!.stats.openStreams > 0) await sleep(50);
        const rerun = await cli(['import', 'bank.csv', '--json']);
        expect(rerun.code, rerun.stderr).toBe(0);
        // Lost on the commit: the first run did commit, so the rerun finds everything in place.
        expect(rerun.json()).toMatchObject(lost === requests ? { created: 0, unchanged: 24 } : { created: 24, unchanged: 0 });
        expect(await counts(t)).toEqual({ questions: 8 + 24, options: 32 + 24 * 4 + 2 });
      } finally {
        await t.close();
      }
    }
  });
});
