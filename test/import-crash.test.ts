import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, MODES, sqlite, type TestDatabase } from './support/modes.js';
import { EXAMS_CSV, QUESTIONS_CSV } from './support/interchange.js';
import { startCliWithProgress } from './support/child-cli.js';

/**
 * Questions in the killed file. The kill waits for the progress line (redrawn at most every 100 ms)
 * to pass a row count: on `file:` 20,000 rows went by in 0.7 s, and the last quarter could pass
 * between two redraws, so the file there is larger.
 */
const QUESTIONS_OF: Record<(typeof MODES)[number], number> = { file: 60_000, remote: 20_000 };

function bank(path: string, count: number): void {
  const exams = ['CCNA-200-301', 'SAA-C03', 'SC-900'];
  const lines = ['exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
  for (let i = 0; i < count; i++) {
    const text = `Question ${i}: ${'which setting applies here, and why? '.repeat(8)}`;
    lines.push(`${exams[i % 3]},"${text}",first ${i},second ${i},third ${i},fourth ${i},${'ABCD'[i % 4]},"Because ""reasons"" ${i}\nand more",${1 + (i % 5)}`);
  }
  writeFileSync(path, lines.join('\r\n') + '\r\n');
}

async function counts(t: TestDatabase): Promise<{ questions: number; options: number }> {
  const [row] = await sqlite(t, 'SELECT (SELECT count(*) FROM questions) AS questions, (SELECT count(*) FROM answer_options) AS options');
  return { questions: Number(row.questions), options: Number(row.options) };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.each(MODES)('a killed import (%s)', (mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const QUESTIONS = QUESTIONS_OF[mode];

  beforeEach(() => bank(join(t.dir, 'bank.csv'), QUESTIONS));

  /** Starts the import in a child process and kills it once it has read `rows` rows. */
  async function killAfter(rows: number): Promise<void> {
    const child = startCliWithProgress(['import', join(t.dir, 'bank.csv')], { ...t.env, QBANK_IMPORT_PARALLEL: 'never' });
    await child.untilRead(rows, { withinMs: 30_000, before: 'it could be killed' });
    // a killed client's stream holds the write lock until it expires (sqld waits 10 s): shortened
    // only now, so a slow machine does not expire the live import's stream
    if (t.server) t.server.knobs.streamExpiryMs = 1_000;
    child.kill();
    expect(await child.exited, `the import finished before the kill\n${child.stderr()}`).toBeNull();
    expect(child.stderr()).not.toMatch(/imported/);
    // The server rolls back the killed stream's transaction when the stream expires.
    if (t.server) {
      while (t.server.stats.openStreams > 0) await sleep(50);
      t.server.knobs.streamExpiryMs = 10_000;
    }
  }

  it.each([
    ['into empty tables, a quarter of the way', 'empty', 1 / 4],
    ['into empty tables, three quarters of the way', 'empty', 3 / 4],
    ['beside existing questions (staged), half-way', 'seeded', 1 / 2],
  ] as const)('leaves nothing behind %s, and a rerun completes it exactly', async (_label, start, share) => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    if (start === 'seeded') expect((await cli(['db', 'seed'])).code).toBe(0);
    else expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
    const before = await counts(t);
    const questionsBefore = await sqlite(t, 'SELECT * FROM questions ORDER BY rowid');

    await killAfter(QUESTIONS * share);
    expect(await counts(t)).toEqual(before);
    expect(await sqlite(t, 'SELECT * FROM questions ORDER BY rowid')).toEqual(questionsBefore);

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
      writeFileSync(join(t.dir, 'bank.csv'), readFileSync(QUESTIONS_CSV));
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
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
