import { describe, expect, it } from 'vitest';
import { SYSTEMS } from '../src/config.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, MODES, sqlite } from './support/modes.js';

interface SeedTable {
  table: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
}

describe.each(MODES)('db seed (%s)', (mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  describe.each(SYSTEMS)('%s', (system) => {
    it('says to run db push first on a database that was never pushed (exit 2), and writes nothing', async () => {
      await sqlite(t, 'CREATE TABLE notes (id text PRIMARY KEY)'); // a database, but none of the system's tables
      for (const args of [
        ['db', 'seed', '--schema', system],
        ['--schema', system, 'db', 'seed'],
        ['--json', '--schema', system, 'db', 'seed'],
      ]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toMatch(new RegExp(`does not have the ${system} tables the seed fills \\(missing: .*\\); run \`qbank db push\` first`));
        expect(result.stderr).not.toMatch(/no such table|SQLITE_ERROR/);
      }
      expect((await cli(['--json', '--schema', system, 'db', 'seed'])).json().error).toMatchObject({ kind: 'SchemaMissingError', exitCode: 2 });
      expect((await sqlite(t, "SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name)).toEqual(['notes']);
    });

    it('--json reports created, then unchanged, then updated, like import', async () => {
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      const first = await cli(['db', 'seed', '--json']);
      expect(first.code, first.stderr).toBe(0);
      const created = first.json();
      const total = created.tables.reduce((n: number, table: SeedTable) => n + table.rows, 0);
      expect(created).toMatchObject({ system, created: total, updated: 0, unchanged: 0 });
      for (const table of created.tables as SeedTable[]) expect(table).toMatchObject({ created: table.rows, updated: 0, unchanged: 0 });

      const second = (await cli(['db', 'seed', '--json'])).json();
      expect(second).toMatchObject({ created: 0, updated: 0, unchanged: total });

      // one row edited, one row (that nothing references) deleted
      const [edited, column, deleted] = system === 'pingtopass' ? ['exams', 'name', 'answer_options'] : ['questions', 'answer', 'questions'];
      await sqlite(t, `UPDATE ${edited} SET ${column} = 'edited by hand' WHERE rowid = (SELECT min(rowid) FROM ${edited})`);
      await sqlite(t, `DELETE FROM ${deleted} WHERE rowid = (SELECT max(rowid) FROM ${deleted})`);
      const third = (await cli(['db', 'seed', '--json'])).json();
      expect(third).toMatchObject({ created: 1, updated: 1, unchanged: total - 2 });
      expect(third.tables.find((x: SeedTable) => x.table === edited)).toMatchObject({ updated: 1 });
      expect(third.tables.find((x: SeedTable) => x.table === deleted)).toMatchObject({ created: 1 });
      const table = edited;
      expect(await sqlite(t, `SELECT count(*) AS n FROM ${table} WHERE ${column} = 'edited by hand'`)).toEqual([{ n: 0 }]);

      const human = await cli(['db', 'seed']);
      expect(human.code).toBe(0);
      expect(human.stderr).toMatch(new RegExp(`seeded .* \\(${system}\\): 0 created, 0 updated, ${total} unchanged`));
      // every seed is a run of its own in qbank's record
      expect(await sqlite(t, "SELECT count(*) AS n FROM __qbank_audit WHERE command = 'db seed'")).toEqual([{ n: 4 }]);
    });
  });
});
