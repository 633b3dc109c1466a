import { createClient } from '@libsql/client';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

/**
 * The run record commits with its change or not at all, also when the process dies: a killed
 * import leaves no entry and no before-images; imports in two processes at once each get exactly
 * their own entry.
 */

const ROOT = join(import.meta.dirname, '..');
const EXAMS = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');

/** The CLI in a process of its own, stderr taken for a terminal so it draws its progress (rows read so far). */
const CHILD = `
import { main } from ${JSON.stringify(join(ROOT, 'src', 'main.ts'))};
import { processIO } from ${JSON.stringify(join(ROOT, 'src', 'output', 'io.ts'))};
process.exitCode = await main(process.argv.slice(1), { ...processIO(), stderrIsTTY: true });
`;

function bank(path: string, questions: number, prefix: string): void {
  const lines = ['id,exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
  for (let i = 0; i < questions; i++) {
    lines.push(`${prefix}-${i},CCNA-200-301,"${prefix} question ${i}: ${'which setting applies here, and why? '.repeat(6)}",a ${i},b ${i},c ${i},d ${i},${'ABCD'[i % 4]},"Because ${i}",${1 + (i % 5)}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

async function rows(t: TestDatabase, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute(sql)).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Child {
  exited: Promise<number | null>;
  stderr: () => string;
  kill: () => void;
  running: () => boolean;
}

function startCli(t: TestDatabase, args: string[]): Child {
  // run from the checkout (where tsx resolves); the files are named by their full paths
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...t.env, QBANK_IMPORT_PARALLEL: 'never' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // 'close': after stderr is read to its end
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { exited, stderr: () => stderr, kill: () => child.kill('SIGKILL'), running: () => child.exitCode === null && child.signalCode === null };
}

/** Entries of imports of questions, by the file they read. */
const importEntries = (t: TestDatabase) =>
  rows(t, "SELECT id, json_extract(file, '$.name') AS name FROM __qbank_audit WHERE command LIKE 'import%' AND json_extract(file, '$.name') <> 'exams.csv' ORDER BY id");

describe.each(MODES)('a killed import and the run record (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const QUESTIONS = 20_000;

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    bank(join(t.dir, 'bank.csv'), QUESTIONS, 'kb');
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    const exams = await cli(['import', 'exams', EXAMS]);
    expect(exams.code, exams.stderr).toBe(0);
  }, 60_000);
  afterEach(async () => {
    await t.close();
  });

  it('leaves no entry and no before-images; the rerun has exactly one entry, and undoing it empties the bank again', async () => {
    const entriesBefore = await rows(t, 'SELECT * FROM __qbank_audit ORDER BY id');
    const imagesBefore = await rows(t, 'SELECT * FROM __qbank_audit_rows ORDER BY run_id, tbl, row_key');

    const child = startCli(t, ['import', join(t.dir, 'bank.csv')]);
    const read = () => Math.max(0, ...[...child.stderr().matchAll(/([\d,]+) rows/g)].map((match) => Number(match[1].replace(/,/g, ''))));
    const deadline = Date.now() + 60_000;
    while (read() < QUESTIONS / 4) {
      if (!child.running()) throw new Error(`the import ended (${await child.exited}) before it could be killed:\n${child.stderr().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`the import did not get a quarter of the way:\n${child.stderr()}`);
      await sleep(2);
    }
    // a killed client's stream holds the write lock until it expires (sqld waits 10 s): shortened
    // only now, so a slow machine does not expire the live import's stream
    if (t.server) t.server.knobs.streamExpiryMs = 1_000;
    child.kill();
    expect(await child.exited, `the import finished before the kill\n${child.stderr()}`).toBeNull();
    if (t.server) {
      while (t.server.stats.openStreams > 0) await sleep(50);
      t.server.knobs.streamExpiryMs = 10_000;
    }

    expect(await rows(t, 'SELECT * FROM __qbank_audit ORDER BY id')).toEqual(entriesBefore);
    expect(await rows(t, 'SELECT * FROM __qbank_audit_rows ORDER BY run_id, tbl, row_key')).toEqual(imagesBefore);
    expect(await rows(t, "SELECT count(*) AS n FROM questions WHERE id LIKE 'kb-%'")).toEqual([{ n: 0 }]);

    const rerun = await cli(['import', 'bank.csv', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const entries = await importEntries(t);
    expect(entries.map((entry) => entry.name)).toEqual(['bank.csv']);
    expect(await rows(t, `SELECT count(*) AS n FROM __qbank_audit_rows WHERE run_id NOT IN (SELECT id FROM __qbank_audit)`)).toEqual([{ n: 0 }]);
    const undone = await cli(['undo', String(entries[0]!.id)]);
    expect(undone.code, undone.stderr).toBe(0);
    expect(await rows(t, "SELECT count(*) AS n FROM questions WHERE id LIKE 'kb-%'")).toEqual([{ n: 0 }]);
  }, 180_000);
});

describe('imports in two processes at once (file:)', () => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase('file');
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', EXAMS])).code).toBe(0);
    bank(join(t.dir, 'left.csv'), 3_000, 'left');
    bank(join(t.dir, 'right.csv'), 3_000, 'right');
  });
  afterEach(async () => {
    await t.close();
  });

  it('each committed import has exactly one entry of its own; one that found the database busy has none', async () => {
    const children = { 'left.csv': startCli(t, ['import', join(t.dir, 'left.csv')]), 'right.csv': startCli(t, ['import', join(t.dir, 'right.csv')]) };
    const codes = Object.fromEntries(await Promise.all(Object.entries(children).map(async ([file, child]) => [file, await child.exited] as const)));
    for (const [file, code] of Object.entries(codes)) expect([0, 7], `${file}: ${children[file as keyof typeof children].stderr()}`).toContain(code);
    const committed = Object.keys(codes).filter((file) => codes[file] === 0).sort();
    expect(committed.length).toBeGreaterThan(0);

    const entries = await importEntries(t);
    expect(entries.map((entry) => entry.name).sort()).toEqual(committed);
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
    for (const file of Object.keys(codes)) {
      const prefix = file.replace('.csv', '');
      const [{ n }] = await rows(t, `SELECT count(*) AS n FROM questions WHERE id LIKE '${prefix}-%'`);
      expect(Number(n), file).toBe(codes[file] === 0 ? 3_000 : 0);
    }
    // each entry's before-images are its own: undoing one removes that file's questions only
    for (const entry of entries) {
      const undone = await cli(['undo', String(entry.id)]);
      expect(undone.code, undone.stderr).toBe(0);
      const [{ n }] = await rows(t, `SELECT count(*) AS n FROM questions WHERE id LIKE '${String(entry.name).replace('.csv', '')}-%'`);
      expect(Number(n)).toBe(0);
    }
  }, 180_000);
});
