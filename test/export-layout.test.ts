import { createClient } from '@libsql/client';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type Mode, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const TRAITS = join(ROOT, 'fixtures', 'import-traits');
/** The open-interview system's own records (MIT), used where they are: never copied into the project. */
const SHARED = join(ROOT, '..', 'shared', 'fixtures', 'open-interview');
const SOURCE = existsSync(join(SHARED, 'data-questions.json')) ? join(SHARED, 'data-questions.json') : join(TRAITS, 'oi-questions.json');

type Json = Record<string, unknown>;

async function questionTable(t: TestDatabase): Promise<string> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return JSON.stringify((await client.execute('SELECT * FROM questions ORDER BY id')).rows);
  } finally {
    client.close();
  }
}

describe.each(MODES)('qbank export questions --layout open-interview-data (%s)', (mode: Mode) => {
  let t: TestDatabase;
  let other: TestDatabase | undefined;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const imported = await cli(['import', SOURCE, '--skip-invalid', '--ignore-unknown-columns']);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterEach(async () => {
    await t.close();
    await other?.close();
    other = undefined;
  });

  it("writes one file per channel in the system's record shape; each imports back unchanged, and into an empty database gives the same files", async () => {
    const result = await cli(['export', 'questions', '--layout', 'open-interview-data', 'data/questions', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json();
    const names = readdirSync(join(t.dir, 'data', 'questions')).sort();
    expect(names).toEqual(summary.files.map((file: Json) => String(file.file).split('/').pop()).sort());
    expect(names.length).toBeGreaterThanOrEqual(existsSync(SHARED) ? 2 : 1);

    // the shape of the system's files: its keys, in its order, with its values
    const given = (JSON.parse(readFileSync(SOURCE, 'utf8')) as Json[]).filter((record) => typeof record.id === 'string' && typeof record.channel === 'string');
    const written = new Map<string, Json>();
    for (const name of names) for (const record of JSON.parse(readFileSync(join(t.dir, 'data', 'questions', name), 'utf8')) as Json[]) written.set(String(record.id), record);
    let compared = 0;
    for (const record of given) {
      const out = written.get(String(record.id));
      if (!out) continue;
      compared++;
      expect(Object.keys(out).slice(0, 6)).toEqual(['id', 'question', 'answer', 'explanation', 'diagram', 'difficulty']);
      for (const [key, value] of Object.entries(record)) {
        if (!(key in out) || (key === 'createdAt' && value === undefined)) continue;
        expect(out[key], `${record.id} ${key}`).toEqual(typeof value === 'boolean' ? (value ? 1 : 0) : value);
      }
    }
    expect(compared).toBeGreaterThan(3);

    const before = await questionTable(t);
    for (const name of names) {
      const again = await cli(['import', join('data', 'questions', name), '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json(), name).toMatchObject({ created: 0, updated: 0 });
    }
    expect(await questionTable(t)).toBe(before);
    const wholeDir = await cli(['import', join('data', 'questions'), '--json']);
    expect(wholeDir.code, wholeDir.stderr).toBe(0);
    expect(await questionTable(t)).toBe(before);

    other = await createTestDatabase(mode);
    const run = (args: string[]) => runCli(args, { env: other!.env, cwd: t.dir });
    expect((await run(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    for (const name of names) expect((await run(['import', join('data', 'questions', name)])).code).toBe(0);
    expect((await run(['export', 'questions', '--layout', 'open-interview-data', 'again'])).code).toBe(0);
    for (const name of names) expect(readFileSync(join(t.dir, 'again', name), 'utf8'), name).toBe(readFileSync(join(t.dir, 'data', 'questions', name), 'utf8'));
  }, 180_000);

  it('keeps existing files unless --force, and refuses the layout for CSV or another system', async () => {
    expect((await cli(['export', 'questions', '--layout', 'open-interview-data', 'out'])).code).toBe(0);
    const again = await cli(['export', 'questions', '--layout', 'open-interview-data', 'out']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('--force');
    expect((await cli(['export', 'questions', '--layout', 'open-interview-data', 'out', '--force'])).code).toBe(0);
    const withFormat = await cli(['export', 'questions', '--layout', 'open-interview-data', 'x', '--format', 'csv']);
    expect(withFormat.code).toBe(2);
    const noDir = await cli(['export', 'questions', '--layout', 'open-interview-data']);
    expect(noDir.code).toBe(2);
    expect(existsSync(join(t.dir, 'x'))).toBe(false);
  });
});
