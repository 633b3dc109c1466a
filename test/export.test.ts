import { createClient } from '@libsql/client';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type Mode, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMS_CSV = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');
const TRAITS = join(ROOT, 'fixtures', 'import-traits');
/** The open-interview system's own records (MIT), used where they are: never copied into the project. */
const SHARED = join(ROOT, '..', 'shared', 'fixtures', 'open-interview');
const FORMATS = ['csv', 'json', 'jsonl'] as const;

/** Every row of every table of the system (qbank's own `__qbank_*` tables and SQLite's aside), exactly: integers as text, so nothing is rounded. */
async function contents(t: TestDatabase): Promise<Record<string, string[]>> {
  const client = createClient({ url: `file:${t.dbPath}`, intMode: 'bigint' });
  try {
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__qbank_%' ORDER BY name");
    const out: Record<string, string[]> = {};
    for (const { name } of tables.rows) {
      const result = await client.execute(`SELECT * FROM "${String(name)}"`);
      out[String(name)] = result.rows.map((row) => JSON.stringify(Array.from(row), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).sort();
    }
    return out;
  } finally {
    client.close();
  }
}

/** Control characters but NUL, for text that has to survive every format. */
const CONTROLS = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('');

/** PingToPass questions with everything a bank holds. `csvSafe` leaves out what CSV cannot tell apart (an empty text from NULL). */
function hostileQuestions(csvSafe: boolean): Record<string, unknown>[] {
  return [
    {
      id: 'q-markdown',
      exam_code: 'CCNA-200-301',
      type: 'multiple',
      text: '## Which two?\n\n```sh\nshow ip route\n```\n| a | b |\r\n|---|---|\n"quoted", commas, and\ttabs',
      option_a: '  leading and trailing spaces  ',
      option_b: 'emoji 😀 and non-BMP 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文',
      option_c: `controls ${CONTROLS} end`,
      option_d: '=1+1 looks like a formula',
      correct: 'A;C',
      explanation: 'x'.repeat(1_000_000),
      difficulty: 3,
      objective_id: '1.0',
      tags: ['a; b', ' spaced ', 'emoji 😀'],
      reference_url: 'https://example.com/a,b?c="d"',
      review_status: 'approved',
      reviewed_by: 'lead@example.com',
      is_active: false,
      ai_generated: true,
      ai_model: 'gpt\n4',
    },
    {
      id: 'q-empty-lists',
      exam_code: 'SAA-C03',
      type: 'drag-drop',
      text: '-starts with a minus',
      option_a: '@at',
      option_b: '+plus',
      option_c: '\ttab first',
      option_d: "'=already quoted",
      option_e: '\rcarriage return first',
      option_f: 'six',
      correct: 'F',
      explanation: csvSafe ? null : '',
      difficulty: 1,
      tags: [],
    },
    { id: 'q-null-lists', exam_code: 'SAA-C03', text: 'plain', option_a: 'yes', option_b: 'no', correct: 'B', difficulty: 5, tags: null, explanation: null },
  ];
}

async function seedPingToPass(t: TestDatabase, cli: (args: string[]) => ReturnType<typeof runCli>, csvSafe = true): Promise<void> {
  expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
  expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
  writeFileSync(join(t.dir, 'hostile.json'), JSON.stringify(hostileQuestions(csvSafe)));
  const imported = await cli(['import', 'hostile.json', '--json']);
  expect(imported.code, imported.stderr).toBe(0);
}

describe.each(MODES)('export → import round trips (%s)', (mode: Mode) => {
  let t: TestDatabase;
  let other: TestDatabase | undefined;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const cliOther = (args: string[]) => runCli(args, { env: other!.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
    await other?.close();
    other = undefined;
  });

  it.each(FORMATS)('PingToPass %s: into the same database nothing changes; into an empty one, the same file comes out again', async (format) => {
    await seedPingToPass(t, cli, format === 'csv');
    const before = await contents(t);
    const exported = await cli(['export', 'questions', `bank.${format}`, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toMatchObject({ rows: 3, groupBy: 'exam', groups: [{ group: 'CCNA-200-301', rows: 1 }, { group: 'SAA-C03', rows: 2 }] });
    expect((await cli(['export', 'exams', `exams.${format}`])).code).toBe(0);

    const again = await cli(['import', `bank.${format}`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    const exams = await cli(['import', 'exams', `exams.${format}`, '--json']);
    expect(exams.json()).toMatchObject({ created: 0, updated: 0 });
    expect(await contents(t)).toEqual(before);

    other = await createTestDatabase(mode);
    expect((await cliOther(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cliOther(['import', 'exams', `exams.${format}`])).code).toBe(0);
    const into = await cliOther(['import', `bank.${format}`, '--json']);
    expect(into.code, into.stderr).toBe(0);
    expect(into.json()).toMatchObject({ created: 3 });
    expect((await cliOther(['export', 'questions', `bank2.${format}`])).code).toBe(0);
    expect((await cliOther(['export', 'exams', `exams2.${format}`])).code).toBe(0);
    expect(readFileSync(join(t.dir, `bank2.${format}`))).toEqual(readFileSync(join(t.dir, `bank.${format}`)));
    expect(readFileSync(join(t.dir, `exams2.${format}`))).toEqual(readFileSync(join(t.dir, `exams.${format}`)));
  }, 120_000);

  it('JSON keeps an empty text apart from NULL, and an empty list apart from NULL', async () => {
    await seedPingToPass(t, cli, false);
    const result = await cli(['export', 'questions', '--format', 'jsonl']);
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => [r.id, r.explanation, r.tags])).toEqual([
      ['q-empty-lists', '', []],
      ['q-markdown', 'x'.repeat(1_000_000), ['a; b', ' spaced ', 'emoji 😀']],
      ['q-null-lists', null, null],
    ]);
    expect(records[1]).toMatchObject({ option_a: '  leading and trailing spaces  ', correct: 'A;C', is_active: false, ai_generated: true, review_status: 'approved' });
  }, 60_000);

  it('open-interview: trait records and certifications, every format, both round trips', async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    expect((await cli(['import', join(TRAITS, 'oi-questions.json'), '--skip-invalid'])).code).toBe(0);
    expect((await cli(['import', join(TRAITS, 'oi-lists.csv')])).code).toBe(0);
    const template = await cli(['import', 'template', 'open-interview-certifications']);
    writeFileSync(join(t.dir, 'certs.csv'), template.stdout);
    expect((await cli(['import', 'certifications', 'certs.csv'])).code).toBe(0);
    const before = await contents(t);
    for (const format of FORMATS) {
      expect((await cli(['export', 'questions', `q.${format}`])).code).toBe(0);
      expect((await cli(['export', 'certifications', `c.${format}`])).code).toBe(0);
      const again = await cli(['import', `q.${format}`, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json(), format).toMatchObject({ created: 0, updated: 0 });
      expect((await cli(['import', 'certifications', `c.${format}`, '--json'])).json()).toMatchObject({ created: 0, updated: 0 });
      expect(await contents(t), format).toEqual(before);
    }
    for (const format of FORMATS) {
      other = await createTestDatabase(mode);
      expect((await cliOther(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
      expect((await cliOther(['import', 'certifications', `c.${format}`])).code).toBe(0);
      expect((await cliOther(['import', `q.${format}`])).code).toBe(0);
      expect((await cliOther(['export', 'questions', `q2.${format}`])).code).toBe(0);
      expect((await cliOther(['export', 'certifications', `c2.${format}`])).code).toBe(0);
      expect(readFileSync(join(t.dir, `q2.${format}`), 'utf8'), format).toBe(readFileSync(join(t.dir, `q.${format}`), 'utf8'));
      expect(readFileSync(join(t.dir, `c2.${format}`), 'utf8'), format).toBe(readFileSync(join(t.dir, `c.${format}`), 'utf8'));
      await other.close();
      other = undefined;
    }
  }, 120_000);

  it.skipIf(!existsSync(SHARED))('the open-interview system’s own records, as they are: export and import back changes nothing', async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const imported = await cli(['import', join(SHARED, 'data-questions.json'), '--skip-invalid', '--ignore-unknown-columns', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const count = imported.json().created;
    expect(count).toBeGreaterThan(190);
    const before = await contents(t);
    for (const format of FORMATS) {
      const exported = await cli(['export', 'questions', `all.${format}`, '--json']);
      expect(exported.json().rows).toBe(count);
      const again = await cli(['import', `all.${format}`, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json(), format).toMatchObject({ created: 0, updated: 0, unchanged: count });
      expect(await contents(t), format).toEqual(before);
    }
  }, 120_000);
});

describe('qbank demo', () => {
  it('ends with an export of each bank that imports back into its database changing nothing', async () => {
    const { tempDir } = await import('./support/cli.js');
    const dir = tempDir();
    try {
      const first = await runCli(['demo', '--json'], { cwd: dir.path });
      expect(first.code, first.stderr).toBe(0);
      for (const result of first.json().systems) {
        expect(result.exported.rows, result.system).toBeGreaterThan(0);
        const file = String(result.exported.file);
        expect(readFileSync(file).length).toBe(result.exported.bytes);
        const again = await runCli(['import', file, '--json'], { cwd: dir.path, env: { TURSO_DATABASE_URL: String(result.url) } });
        expect(again.code, again.stderr).toBe(0);
        // open-interview's seeded questions have no channel_mappings row, which an import adds: the only update it makes
        expect(again.json(), result.system).toMatchObject(result.system === 'pingtopass' ? { created: 0, updated: 0 } : { created: 0 });
      }
      const before = readFileSync(join(dir.path, 'qbank-demo', 'pingtopass-questions.csv'));
      expect((await runCli(['demo'], { cwd: dir.path })).code).toBe(0);
      expect(readFileSync(join(dir.path, 'qbank-demo', 'pingtopass-questions.csv'))).toEqual(before);
    } finally {
      dir.remove();
    }
  }, 120_000);
});
