import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTROSPECTION_QUERIES } from '../src/db/schema-model.js';
import { createTestDatabase, MODES, runIn, withFile, type TestDatabase } from './support/modes.js';

/** Replaces `table` by a table created from `sql`, keeping its rows (none here); foreign keys off meanwhile. */
async function recreate(t: TestDatabase, table: string, sql: string): Promise<void> {
  await withFile(t, (client) => client.executeMultiple(`PRAGMA foreign_keys = OFF; DROP TABLE \`${table}\`; ${sql};`));
}

describe.each(MODES)('the live catalogue (%s)', (mode) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
  });

  it('sees AUTOINCREMENT however the table text spells it, and plans a rebuild where it is missing', async () => {
    expect((await runIn(t, ['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const [row] = await withFile(t, async (client) => (await client.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'bot_runs'")).rows);
    const original = String(row!.sql);
    expect(original).toContain('PRIMARY KEY AUTOINCREMENT');

    await recreate(t, 'bot_runs', original.replace('AUTOINCREMENT', 'autoIncrement'));
    const same = await runIn(t, ['db', 'push', '--dry-run', '--json']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.json()).toMatchObject({ system: 'open-interview', upToDate: true, steps: [] });

    await recreate(t, 'bot_runs', original.replace(' AUTOINCREMENT', ''));
    const changed = await runIn(t, ['db', 'push', '--dry-run', '--json']);
    expect(changed.code, changed.stderr).toBe(0);
    const plan = changed.json();
    expect(plan.upToDate).toBe(false);
    expect(plan.steps.map((step: { kind: string; table: string }) => `${step.kind} ${step.table}`)).toEqual(['rebuild-table bot_runs']);
  });
});

describe('the catalogue read', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
  });
  afterEach(async () => {
    await t.close();
  });

  it('carries no CREATE TABLE text, so a PingToPass database answers in a few kilobytes', async () => {
    expect((await runIn(t, ['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    const results = await withFile(t, (client) => client.batch([...INTROSPECTION_QUERIES], 'read'));
    const text = JSON.stringify(results.map((result) => result.rows));
    expect(text).not.toMatch(/CREATE TABLE/i);
    // Each table's text on every column row made this 96 kB; without it the answer is under 30 kB.
    expect(text.length).toBeLessThan(40_000);
    const autoIncrement = results[0]!.rows.filter((r) => Number(r.tbl_autoincrement) === 1).map((r) => `${r.tbl}.${r.name}`);
    expect(autoIncrement).toEqual(['__drizzle_migrations.id']);
  });
});
