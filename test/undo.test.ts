import { createClient } from '@libsql/client';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const OI_QUESTIONS = join(ROOT, 'fixtures', 'open-interview', 'questions.json');

/** Every row of every table but qbank's own and SQLite's, as sorted JSON lines: the database's content. */
async function content(t: TestDatabase): Promise<Record<string, string[]>> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    const tables = await client.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__qbank_%' ORDER BY name");
    const dump: Record<string, string[]> = {};
    for (const { name } of tables.rows) {
      const result = await client.execute(`SELECT * FROM "${String(name)}"`);
      dump[String(name)] = result.rows.map((row) => JSON.stringify(result.columns.map((column) => [column, typeof row[column], row[column]]))).sort();
    }
    return dump;
  } finally {
    client.close();
  }
}

async function auditRows(t: TestDatabase, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute(sql)).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

const HEADER = 'id,exam_code,text,option_a,option_b,option_c,correct,difficulty,tags';
const FILE_A = `${HEADER}\nud-1,CCNA-200-301,Which port does SSH use?,22,23,25,A,1,ssh\nud-2,CCNA-200-301,Which port does Telnet use?,22,23,25,B,1,telnet\nud-3,CCNA-200-301,Which port does SMTP use?,22,23,25,C,1,smtp\n`;
// ud-1's key moves and it loses an option, ud-2's text changes, ud-3 is unchanged, ud-4 is new
const FILE_A2 = `${HEADER}\nud-1,CCNA-200-301,Which port does SSH use?,22,23,,B,1,ssh\nud-2,CCNA-200-301,Which TCP port does Telnet use?,22,23,25,B,2,telnet\nud-3,CCNA-200-301,Which port does SMTP use?,22,23,25,C,1,smtp\nud-4,CCNA-200-301,Which port does DNS use?,53,54,55,A,1,dns\n`;

describe.each(MODES)('undo of an import (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: { ...t.env, GITHUB_ACTOR: 'octo', GITHUB_RUN_ID: '42' }, cwd: t.dir });
  const lastRun = async (command = 'import') => {
    const listed = await cli(['audit', 'list', '--command', command, '--limit', '1', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    return (listed.json() as { runs: Array<{ id: string }> }).runs[0].id;
  };

  afterEach(async () => {
    await t.close();
  });

  describe('PingToPass', () => {
    beforeEach(async () => {
      t = await createTestDatabase(mode);
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await cli(['db', 'seed'])).code).toBe(0);
      expect((await cli(['import', 'exams', join(ROOT, 'fixtures', 'pingtopass', 'exams.csv')])).code).toBe(0);
      writeFileSync(join(t.dir, 'a.csv'), FILE_A);
      writeFileSync(join(t.dir, 'a2.csv'), FILE_A2);
      expect((await cli(['import', 'a.csv'])).code).toBe(0);
    });

    it("import A, import A', undo A': the database holds what it held after A, and the undo can be undone", async () => {
      const afterA = await content(t);
      const imported = await cli(['import', 'a2.csv', '--reviewer', 'ed@example.com']);
      expect(imported.code, imported.stderr).toBe(0);
      const afterA2 = await content(t);
      expect(afterA2).not.toEqual(afterA);
      const runId = await lastRun();

      const shown = await cli(['audit', 'show', runId, '--json']);
      expect(shown.code).toBe(0);
      const entry = shown.json().entry;
      expect(entry).toMatchObject({ actor: 'ed@example.com', command: 'import questions', system: 'pingtopass', ci: { GITHUB_ACTOR: 'octo', GITHUB_RUN_ID: '42' } });
      expect(entry.file).toEqual({ name: 'a2.csv', size: FILE_A2.length, sha256: createHash('sha256').update(FILE_A2).digest('hex') });
      expect(entry.counts).toMatchObject({ created: 1, updated: 2, unchanged: 1 });

      const dry = await cli(['undo', runId, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(await content(t)).toEqual(afterA2);

      const undone = await cli(['undo', '--actor', 'lead@example.com', runId]);
      expect(undone.code, undone.stderr).toBe(0);
      expect(await content(t)).toEqual(afterA);

      const again = await cli(['undo', runId]);
      expect(again.code).toBe(5);
      expect(again.stderr).toMatch(/was undone already/);

      const undoId = await lastRun('undo');
      expect((await cli(['undo', undoId])).code).toBe(0);
      expect(await content(t)).toEqual(afterA2);
    });

    it("a question approved after A' makes the undo refuse and name it; --force reverts the rest", async () => {
      expect((await cli(['import', 'a2.csv'])).code).toBe(0);
      const runId = await lastRun();
      expect((await cli(['review', 'approve', 'ud-4', '--reviewer', 'ann@example.com'])).code).toBe(0);
      const before = await content(t);
      const refused = await cli(['undo', runId]);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/questions ud-4/);
      expect(refused.stderr).not.toMatch(/questions ud-2/);
      expect(await content(t)).toEqual(before);

      const forced = await cli(['--json', 'undo', runId, '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.json().skipped).toEqual(expect.arrayContaining([{ table: 'questions', key: ['ud-4'], action: 'create' }]));
      const [ud2] = await auditRows(t, "SELECT text FROM questions WHERE id = 'ud-2'");
      expect(ud2.text).toBe('Which port does Telnet use?');
      expect((await auditRows(t, "SELECT review_status FROM questions WHERE id = 'ud-4'"))[0].review_status).toBe('approved');
    });

    it('a bulk review decision is recorded with its reviewer and can be undone', async () => {
      expect((await cli(['import', 'a2.csv'])).code).toBe(0);
      const before = await content(t);
      const approved = await cli(['review', 'approve', '--all-matching', '--exam', 'CCNA-200-301', '--reviewer', 'ci-bot', '--yes']);
      expect(approved.code, approved.stderr).toBe(0);
      expect(await content(t)).not.toEqual(before);
      const runId = await lastRun('review approve');
      const shown = (await cli(['audit', 'show', runId, '--json'])).json();
      expect(shown.entry).toMatchObject({ actor: 'ci-bot', command: 'review approve', arguments: { decision: 'approve' } });
      const undone = await cli(['undo', runId]);
      expect(undone.code, undone.stderr).toBe(0);
      expect(await content(t)).toEqual(before);
    });

    it('an entry never holds a token, and a dry run or a refused import leaves no entry', async () => {
      const runsBefore = await auditRows(t, 'SELECT count(*) AS n FROM __qbank_audit');
      expect((await cli(['import', 'a2.csv', '--dry-run'])).code).toBe(0);
      writeFileSync(join(t.dir, 'bad.csv'), `${HEADER}\nud-9,NO-SUCH-EXAM,Which?,1,2,3,A,1,x\n`);
      expect((await cli(['import', 'bad.csv'])).code).not.toBe(0);
      expect(await auditRows(t, 'SELECT count(*) AS n FROM __qbank_audit')).toEqual(runsBefore);
      const withFlag = await cli(t.authToken ? ['import', 'a2.csv', '--auth-token', t.authToken] : ['import', 'a2.csv']);
      expect(withFlag.code, withFlag.stderr).toBe(0);
      const everything = JSON.stringify([await auditRows(t, 'SELECT * FROM __qbank_audit'), await auditRows(t, 'SELECT * FROM __qbank_audit_rows')]);
      if (t.authToken) expect(everything).not.toContain(t.authToken);
      expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    });

    it('concurrent imports each get their own entry', async () => {
      writeFileSync(join(t.dir, 'b.csv'), `${HEADER}\nud-5,CCNA-200-301,Which port does NTP use?,123,124,125,A,1,ntp\n`);
      const results = await Promise.all([cli(['import', 'a2.csv']), cli(['import', 'b.csv'])]);
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const entries = await auditRows(t, "SELECT id, json_extract(file, '$.name') AS name FROM __qbank_audit WHERE command LIKE 'import%' AND file IS NOT NULL AND json_extract(file, '$.name') LIKE '%.csv' AND json_extract(file, '$.name') <> 'exams.csv' ORDER BY id");
      expect(entries.map((row) => row.name).sort()).toEqual(['a.csv', 'a2.csv', 'b.csv']);
      expect(new Set(entries.map((row) => row.id)).size).toBe(3);
    });

    it('audit list filters and prune drops before-images, keeping entries', async () => {
      expect((await cli(['import', 'a2.csv'])).code).toBe(0);
      const listed = await cli(['audit', 'list', '--actor', 'nobody@example.com', '--json']);
      expect(listed.json().runs).toEqual([]);
      expect((await cli(['audit', '--json', 'list', '--since', '2000-01-01'])).json().runs.length).toBeGreaterThanOrEqual(4);
      expect((await cli(['audit', 'list', '--since', 'yesterday'])).code).toBe(2);
      const runId = await lastRun();
      const pruned = await cli(['audit', 'prune', '--before', '2999-01-01', '--json']);
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(pruned.json().rows).toBeGreaterThan(0);
      expect(await auditRows(t, 'SELECT count(*) AS n FROM __qbank_audit_rows')).toEqual([{ n: 0 }]);
      const refused = await cli(['undo', runId]);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/kept no before-images/);
      expect((await cli(['audit', 'show', runId])).code).toBe(0);
      expect((await cli(['audit', 'show', 'no-such-run'])).code).toBe(3);
    });
  });

  describe('open-interview', () => {
    beforeEach(async () => {
      t = await createTestDatabase(mode);
      expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
      const first = await cli(['import', OI_QUESTIONS]);
      expect(first.code, first.stderr).toBe(0);
    });

    it("import A, import A' (some changed, some new), undo A': the database holds what it held after A", async () => {
      const afterA = await content(t);
      const records = JSON.parse(readFileSync(OI_QUESTIONS, 'utf8')) as Array<Record<string, unknown>>;
      records[0].answer = `${String(records[0].answer)} (revised)`;
      records[1].difficulty = records[1].difficulty === 'advanced' ? 'beginner' : 'advanced';
      records.push({ ...records[2], id: 'q-fx-new-1', question: 'What does a new question look like after an undo?' });
      writeFileSync(join(t.dir, 'edited.json'), JSON.stringify(records, null, 2));
      const imported = await cli(['import', 'edited.json']);
      expect(imported.code, imported.stderr).toBe(0);
      expect(await content(t)).not.toEqual(afterA);
      const runId = await lastRun();
      const undone = await cli(['undo', runId]);
      expect(undone.code, undone.stderr).toBe(0);
      expect(await content(t)).toEqual(afterA);
    });
  });
});
