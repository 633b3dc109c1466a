import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, sqlite, type TestDatabase } from './support/modes.js';
import { PINGTOPASS_WITH_EXAMS } from './support/interchange.js';
import { startCliWithProgress } from './support/child-cli.js';

/**
 * The run record commits with its change or not at all, also when the process dies: a killed
 * import leaves no entry and no before-images; imports in two processes at once each get exactly
 * their own entry.
 */

function bank(path: string, questions: number, prefix: string): void {
  const lines = ['id,exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
  for (let i = 0; i < questions; i++) {
    lines.push(`${prefix}-${i},CCNA-200-301,"${prefix} question ${i}: ${'which setting applies here, and why? '.repeat(6)}",a ${i},b ${i},c ${i},d ${i},${'ABCD'[i % 4]},"Because ${i}",${1 + (i % 5)}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const startCli = (t: TestDatabase, args: string[]) => startCliWithProgress(args, { ...t.env, QBANK_IMPORT_PARALLEL: 'never' });

/** Entries of imports of questions, by the file they read. */
const importEntries = (t: TestDatabase) =>
  sqlite(t, "SELECT id, json_extract(file, '$.name') AS name FROM __qbank_audit WHERE command LIKE 'import%' AND json_extract(file, '$.name') <> 'exams.csv' ORDER BY id");

describe.each(MODES)('a killed import and the run record (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, PINGTOPASS_WITH_EXAMS), { timeoutMs: 60_000 });
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const QUESTIONS = 20_000;

  beforeEach(() => {
    bank(join(t.dir, 'bank.csv'), QUESTIONS, 'kb');
  });

  it('leaves no entry and no before-images; the rerun has exactly one entry, and undoing it empties the bank again', async () => {
    const entriesBefore = await sqlite(t, 'SELECT * FROM __qbank_audit ORDER BY id');
    const imagesBefore = await sqlite(t, 'SELECT * FROM __qbank_audit_rows ORDER BY run_id, tbl, row_key');

    const child = startCli(t, ['import', join(t.dir, 'bank.csv')]);
    await child.untilRead(QUESTIONS / 4, { withinMs: 60_000, before: 'it could be killed' });
    // a killed client's stream holds the write lock until it expires (sqld waits 10 s): shortened
    // only now, so a slow machine does not expire the live import's stream
    if (t.server) t.server.knobs.streamExpiryMs = 1_000;
    child.kill();
    expect(await child.exited, `the import finished before the kill\n${child.stderr()}`).toBeNull();
    if (t.server) {
      while (t.server.stats.openStreams > 0) await sleep(50);
      t.server.knobs.streamExpiryMs = 10_000;
    }

    expect(await sqlite(t, 'SELECT * FROM __qbank_audit ORDER BY id')).toEqual(entriesBefore);
    expect(await sqlite(t, 'SELECT * FROM __qbank_audit_rows ORDER BY run_id, tbl, row_key')).toEqual(imagesBefore);
    expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE id LIKE 'kb-%'")).toEqual([{ n: 0 }]);

    const rerun = await cli(['import', 'bank.csv', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const entries = await importEntries(t);
    expect(entries.map((entry) => entry.name)).toEqual(['bank.csv']);
    expect(await sqlite(t, `SELECT count(*) AS n FROM __qbank_audit_rows WHERE run_id NOT IN (SELECT id FROM __qbank_audit)`)).toEqual([{ n: 0 }]);
    const undone = await cli(['undo', String(entries[0]!.id)]);
    expect(undone.code, undone.stderr).toBe(0);
    expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE id LIKE 'kb-%'")).toEqual([{ n: 0 }]);
  }, 180_000);
});

describe('imports in two processes at once (file:)', () => {
  const t = databaseForEachTest(() => preparedDatabase('file', PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(() => {
    bank(join(t.dir, 'left.csv'), 3_000, 'left');
    bank(join(t.dir, 'right.csv'), 3_000, 'right');
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
      const [{ n }] = await sqlite(t, `SELECT count(*) AS n FROM questions WHERE id LIKE '${prefix}-%'`);
      expect(Number(n), file).toBe(codes[file] === 0 ? 3_000 : 0);
    }
    // each entry's before-images are its own: undoing one removes that file's questions only
    for (const entry of entries) {
      const undone = await cli(['undo', String(entry.id)]);
      expect(undone.code, undone.stderr).toBe(0);
      const [{ n }] = await sqlite(t, `SELECT count(*) AS n FROM questions WHERE id LIKE '${String(entry.name).replace('.csv', '')}-%'`);
      expect(Number(n)).toBe(0);
    }
  }, 180_000);
});
