import { createClient } from '@libsql/client';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import type { IO } from '../src/output/io.js';
import { Output } from '../src/output/output.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

class Collector extends Writable {
  text = '';
  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

function fakeIO(options: { tty: boolean; clock: { ms: number } }): IO & { stderr: Collector } {
  return {
    stdin: new PassThrough(),
    stdout: new Collector(),
    stderr: new Collector(),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: options.tty,
    env: { NO_COLOR: '1' },
    cwd: process.cwd(),
    now: () => new Date(options.clock.ms),
  };
}

describe('progress', () => {
  it('without a terminal: one plain line per interval on the run clock, and where it ended', () => {
    const clock = { ms: 1_000_000 };
    const io = fakeIO({ tty: false, clock });
    const progress = new Output(io).progress('importing bank.csv', 100, ' MB');
    progress.update(1, '1,000 rows');
    clock.ms += 4_999;
    progress.update(40, '40,000 rows');
    expect(io.stderr.text).toBe('');
    clock.ms += 1;
    progress.update(50, '50,000 rows');
    clock.ms += 1_000;
    progress.update(60, '60,000 rows');
    clock.ms += 5_000;
    progress.update(90, '90,000 rows');
    clock.ms += 500;
    progress.update(100, '100,000 rows');
    progress.finish();
    expect(io.stderr.text.split('\n')).toEqual([
      'importing bank.csv 50% 50/100 MB 50,000 rows',
      'importing bank.csv 90% 90/100 MB 90,000 rows',
      'importing bank.csv 100% 100/100 MB 100,000 rows (done in 11.5 s)',
      '',
    ]);
  });

  it('without a terminal, a short run logs nothing', () => {
    const clock = { ms: 0 };
    const io = fakeIO({ tty: false, clock });
    const progress = new Output(io).progress('dump', 3, ' rows');
    progress.update(3);
    progress.finish();
    expect(io.stderr.text).toBe('');
  });

  it('at a terminal: one line redrawn in place, cleared at the end', () => {
    const clock = { ms: 0 };
    const io = fakeIO({ tty: true, clock });
    const progress = new Output(io).progress('restore', 10, ' MB');
    progress.update(1);
    progress.update(2);
    clock.ms += 100;
    progress.update(5);
    progress.finish();
    expect(io.stderr.text).toBe('\r\x1b[2Krestore 10% 1/10 MB\r\x1b[2Krestore 50% 5/10 MB\r\x1b[2K');
  });

  it('--quiet: nothing', () => {
    const clock = { ms: 0 };
    const io = fakeIO({ tty: true, clock });
    const out = new Output(io, { quiet: true });
    const progress = out.progress('restore', 10);
    progress.update(10);
    clock.ms += 60_000;
    progress.update(10);
    progress.finish();
    out.notice('a notice');
    out.success('done');
    out.warn('careful');
    out.error('broken');
    expect(io.stderr.text).toBe('warning: careful\nerror: broken\n');
  });
});

describe('progress of a long import without a terminal, as a CI log shows it', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
  });
  afterEach(async () => {
    await t.close();
  });

  it('plain lines on stderr as the run clock passes; none with --quiet', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
    writeFileSync(join(t.dir, 'exams.csv'), 'code,name,vendor,category,passing_score,total_questions,time_limit,price,description\nLOG-101,Logs,qbank,Tools,700,10,60,0,Progress\n');
    const rows = Array.from({ length: 2000 }, (_, i) => `LOG-101,Question ${i} of a bank long enough to log progress,Yes,No,A,Because ${i},2`);
    writeFileSync(join(t.dir, 'bank.csv'), ['exam_code,text,option_a,option_b,correct,explanation,difficulty', ...rows].join('\n') + '\n');
    expect((await runCli(['import', 'exams', 'exams.csv'], { env: t.env, cwd: t.dir })).code).toBe(0);
    // a clock that moves ten seconds each time it is read: every update is due
    const run = async (args: string[]) => {
      let ms = Date.parse('2026-01-01T00:00:00Z');
      const io = { ...fakeIO({ tty: false, clock: { ms: 0 } }), env: { PATH: process.env.PATH, ...t.env }, cwd: t.dir, now: () => new Date((ms += 10_000)) };
      const code = await main(args, io);
      return { code, stderr: io.stderr.text };
    };
    const logged = await run(['import', 'bank.csv', '--dry-run']);
    expect(logged.code, logged.stderr).toBe(0);
    expect(logged.stderr).toMatch(/^importing bank\.csv \d+% \d+\/\d+ MB [\d,]+ rows/m);
    expect(logged.stderr).not.toContain('\r');
    const quiet = await run(['import', 'bank.csv', '--dry-run', '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});

describe.each(MODES)('--quiet through the CLI (%s)', (mode) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
  });

  it('no notices or success lines, before or after the command; data and errors unchanged', async () => {
    const loud = await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir });
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).not.toBe('');
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute('ALTER TABLE exams ADD COLUMN legacy text');
    client.close();
    for (const args of [['--quiet', 'db', 'status'], ['db', 'status', '--quiet'], ['db', '-q', 'status']]) {
      const quiet = await runCli(args, { env: t.env, cwd: t.dir });
      const plain = await runCli(['db', 'status'], { env: t.env, cwd: t.dir });
      expect(quiet.code).toBe(0);
      expect(quiet.stdout).toBe(plain.stdout);
      expect(quiet.stderr).toBe('');
    }
    const failing = await runCli(['db', 'push', '--quiet'], { env: t.env, cwd: t.dir });
    expect(failing.code).toBe(5);
    expect(failing.stderr).toMatch(/^error: /m);
    expect(failing.stderr).toMatch(/hint: /);
  });

  it('at a terminal, one dim line says which database and credential the command uses', async () => {
    const result = await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir, tty: true });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.includes('database: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(mode === 'file' ? `database: file:${t.dbPath} ($TURSO_DATABASE_URL), no token` : '($TURSO_DATABASE_URL), read-write token from $TURSO_AUTH_TOKEN');
    const quiet = await runCli(['db', 'status', '--quiet'], { env: t.env, cwd: t.dir, tty: true });
    expect(quiet.stderr).not.toContain('database: ');
  });
});
