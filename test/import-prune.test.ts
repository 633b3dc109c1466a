import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, MODES, sqlite } from './support/modes.js';
import { EXAMS_CSV } from './support/interchange.js';

const HEADER = 'id,exam_code,text,option_a,option_b,correct,difficulty';
const FULL = `${HEADER}\npr-1,SC-900,Prune one?,a,b,A,1\npr-2,SC-900,Prune two?,a,b,A,1\npr-3,SC-900,Prune three?,a,b,A,1\npr-4,AZ-104,Other exam?,a,b,A,1\n`;
const SHORT = `${HEADER}\npr-1,SC-900,Prune one?,a,b,A,1\n`;

describe.each(MODES)('rows the file does not have (%s)', (mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[], tty = false) => runCli(args, { env: t.env, cwd: t.dir, tty });

  it('PingToPass: reported per exam the file covers; --prune deactivates them after a dry run and with --yes', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
    writeFileSync(join(t.dir, 'full.csv'), FULL);
    writeFileSync(join(t.dir, 'short.csv'), SHORT);
    expect((await cli(['import', 'full.csv'])).code).toBe(0);
    const active = () => sqlite(t, "SELECT id, is_active FROM questions WHERE id LIKE 'pr-%' ORDER BY id");
    const before = await active();

    const report = await cli(['import', 'short.csv']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toMatch(/2 questions of SC-900 are in the database but not in this file \(pr-2, pr-3\); --prune deactivates them/);
    expect(report.stderr).not.toMatch(/AZ-104/);
    expect(await active()).toEqual(before);

    const plan = await cli(['import', 'short.csv', '--prune', '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json()).toMatchObject({ pruned: 2, missing: [{ group: 'SC-900', count: 2, ids: ['pr-2', 'pr-3'] }] });
    expect(await active()).toEqual(before);

    const unconfirmed = await cli(['import', 'short.csv', '--prune']);
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(await active()).toEqual(before);

    const pruned = await cli(['import', 'short.csv', '--prune', '--yes']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await active()).toEqual([
      { id: 'pr-1', is_active: 1 },
      { id: 'pr-2', is_active: 0 },
      { id: 'pr-3', is_active: 0 },
      { id: 'pr-4', is_active: 1 },
    ]);
    expect(pruned.stderr).toMatch(/2 questions of SC-900 were deactivated: not in this file \(pr-2, pr-3\)/);
    // the one active question of SC-900 left out: in the singular
    writeFileSync(join(t.dir, 'shorter.csv'), `${HEADER}\npr-2,SC-900,Prune two?,a,b,A,1\n`);
    const again = await cli(['import', 'shorter.csv', '--prune', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/1 question of SC-900 was deactivated: not in this file \(pr-1\)/);
  });

  it('open-interview: --prune marks the channel’s questions the file lacks as deleted', async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const record = (id: string, channel = 'prune') => ({ id, question: `Question ${id}?`, answer: 'A', explanation: 'E', difficulty: 'beginner', channel, subChannel: 's' });
    writeFileSync(join(t.dir, 'full.json'), JSON.stringify([record('p-1'), record('p-2'), record('p-3', 'other')]));
    writeFileSync(join(t.dir, 'short.json'), JSON.stringify([record('p-1')]));
    expect((await cli(['import', 'full.json'])).code).toBe(0);
    const pruned = await cli(['import', 'short.json', '--prune', '--yes', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.json()).toMatchObject({ pruned: 1, missing: [{ group: 'prune', count: 1, ids: ['p-2'] }] });
    expect(await sqlite(t, "SELECT id, status FROM questions ORDER BY id")).toEqual([
      { id: 'p-1', status: 'active' },
      { id: 'p-2', status: 'deleted' },
      { id: 'p-3', status: 'active' },
    ]);
  });
});
