import { createClient } from '@libsql/client';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type Mode, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMS_CSV = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');
const TRAITS = join(ROOT, 'fixtures', 'import-traits');

const ids = (csv: string) =>
  csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0]);

function question(id: string, exam: string, extra: Record<string, unknown> = {}) {
  return { id, exam_code: exam, text: `Question ${id}?`, option_a: 'yes', option_b: 'no', correct: 'A', difficulty: 2, ...extra };
}

describe.each(MODES)('qbank export: filters, forms and refusals (%s)', (mode: Mode) => {
  let t: TestDatabase;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, ...env }, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
    writeFileSync(
      join(t.dir, 'bank.json'),
      JSON.stringify([
        question('p-1', 'CCNA-200-301'),
        question('p-2', 'CCNA-200-301', { is_active: false }),
        question('p-3', 'SAA-C03', { review_status: 'rejected', reviewed_by: 'lead@example.com' }),
        question('p-4', 'SC-900'),
      ]),
    );
    const imported = await cli(['import', 'bank.json']);
    expect(imported.code, imported.stderr).toBe(0);
    // p-4 was updated long ago
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute("UPDATE questions SET updated_at = unixepoch('2020-01-01') WHERE id = 'p-4'");
    client.close();
  });
  afterEach(async () => {
    await t.close();
  });

  it('filters by exam (repeatable), review status, activity, time and ids (a list or a file), in every position', async () => {
    expect(ids((await cli(['export', 'questions', '--exam', 'CCNA-200-301', '--exam', 'SC-900'])).stdout)).toEqual(['p-1', 'p-2', 'p-4']);
    expect(ids((await cli(['export', 'questions', '--review-status', 'rejected'])).stdout)).toEqual(['p-3']);
    expect(ids((await cli(['export', 'questions', '--active'])).stdout)).toEqual(['p-1', 'p-3', 'p-4']);
    expect(ids((await cli(['export', 'questions', '--since', '2024-01-01'])).stdout)).toEqual(['p-1', 'p-2', 'p-3']);
    expect(ids((await cli(['export', 'questions', '--ids', 'p-2,p-4'])).stdout)).toEqual(['p-2', 'p-4']);
    writeFileSync(join(t.dir, 'wanted.txt'), 'p-3\n\np-1\n');
    expect(ids((await cli(['export', 'questions', '--ids', 'wanted.txt'])).stdout)).toEqual(['p-1', 'p-3']);
    // options before and after the file, global ones before the command
    const before = await cli(['--json', 'export', 'questions', '--exam', 'SAA-C03', '--format', 'csv', 'out.txt']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.json()).toMatchObject({ rows: 1, format: 'csv', groups: [{ group: 'SAA-C03', rows: 1 }] });
    const after = await cli(['export', 'questions', 'out.jsonl', '--exam', 'SAA-C03', '--json']);
    expect(after.json()).toMatchObject({ rows: 1, format: 'jsonl' });
    expect(JSON.parse(readFileSync(join(t.dir, 'out.jsonl'), 'utf8')).id).toBe('p-3');
    expect(ids((await cli(['export', 'exams', '--exam', 'SC-900'])).stdout)).toEqual([expect.any(String)]);
  });

  it('refuses what it cannot do, naming the flag, and writes nothing', async () => {
    const unknownExam = await cli(['export', 'questions', 'x.csv', '--exam', 'NOPE-1']);
    expect(unknownExam.code).toBe(3);
    expect(unknownExam.stderr).toContain('no exam with code "NOPE-1"');
    const wrongSystem = await cli(['export', 'questions', '--channel', 'devops']);
    expect(wrongSystem.code).toBe(2);
    expect(wrongSystem.stderr).toContain('--channel does not apply to pingtopass questions');
    const noCertifications = await cli(['export', 'certifications']);
    expect(noCertifications.code).toBe(2);
    expect(noCertifications.stderr).toContain('pingtopass has no certifications');
    const badTime = await cli(['export', 'questions', '--since', 'yesterday-ish']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--since');
    const badName = await cli(['export', 'questions', 'bank.dat']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('--format');
    const excelJson = await cli(['export', 'questions', 'other.json', '--excel']);
    expect(excelJson.code).toBe(2);
    expect(excelJson.stderr).toContain('--excel writes CSV');
    const jsonToStdout = await cli(['export', 'questions', '--json']);
    expect(jsonToStdout.code).toBe(2);
    for (const name of ['x.csv', 'bank.txt', 'other.json']) expect(existsSync(join(t.dir, name)), name).toBe(false);
  });

  it('keeps an existing file unless --force, and never leaves a partial file', async () => {
    writeFileSync(join(t.dir, 'keep.csv'), 'precious');
    const refused = await cli(['export', 'questions', 'keep.csv']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(t.dir, 'keep.csv'), 'utf8')).toBe('precious');
    const forced = await cli(['export', 'questions', 'keep.csv', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(ids(readFileSync(join(t.dir, 'keep.csv'), 'utf8'))).toEqual(['p-1', 'p-2', 'p-3', 'p-4']);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(t.dir).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('reads with the read-only credentials when they are configured', async () => {
    if (mode !== 'remote') return;
    const result = await cli(['export', 'questions'], { TURSO_AUTH_TOKEN: '', TURSO_DATABASE_URL_RO: t.url, TURSO_AUTH_TOKEN_RO: t.readOnlyToken! });
    expect(result.code, result.stderr).toBe(0);
    expect(ids(result.stdout)).toHaveLength(4);
  });

  it('open-interview filters: channel, sub-channel, status, ids', async () => {
    const oi = await createTestDatabase(mode);
    try {
      const run = (args: string[]) => runCli(args, { env: oi.env, cwd: t.dir });
      expect((await run(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
      expect((await run(['import', join(TRAITS, 'oi-questions.json'), '--skip-invalid'])).code).toBe(0);
      expect((await run(['import', join(TRAITS, 'oi-lists.csv')])).code).toBe(0);
      const all = await run(['export', 'questions', '--format', 'jsonl']);
      const records = all.stdout.trim().split('\n').map((line) => JSON.parse(line));
      const channel = records[0].channel as string;
      const byChannel = await run(['export', 'questions', '--format', 'jsonl', '--channel', channel]);
      const got = byChannel.stdout.trim().split('\n').map((line) => JSON.parse(line).id);
      expect(got).toEqual(records.filter((r) => r.channel === channel).map((r) => r.id));
      const sub = records[0].sub_channel as string;
      const bySub = await run(['export', 'questions', '--format', 'jsonl', '--sub-channel', sub]);
      expect(bySub.stdout.trim().split('\n').map((line) => JSON.parse(line).id)).toEqual(records.filter((r) => r.sub_channel === sub).map((r) => r.id));
      const byStatus = await run(['export', 'questions', '--status', 'nonexistent-status']);
      expect(byStatus.stdout.trim().split('\n')).toHaveLength(1);
      const byIds = await run(['export', 'questions', '--ids', `${records[1].id},${records[0].id}`, '--format', 'jsonl']);
      expect(byIds.stdout.trim().split('\n').map((line) => JSON.parse(line).id)).toEqual([records[0].id, records[1].id]);
      const wrong = await run(['export', 'exams']);
      expect(wrong.code).toBe(2);
    } finally {
      await oi.close();
    }
  });
});
