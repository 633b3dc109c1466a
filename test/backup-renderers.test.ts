import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dumpDatabase, openBackupDatabase } from '../src/db/backup/dump.js';
import { fileSink } from '../src/db/backup/dump-sink.js';
import type { DatabaseConfig } from '../src/config.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/**
 * Big `file:` tables are rendered by two renderer threads with their own connections. Their dump
 * must be the very dump one connection writes, values a fast form gets wrong included.
 */

const ROWS = 6_000;

function config(path: string): DatabaseConfig {
  const url = `file:${path}`;
  return { url, displayUrl: url, kind: 'file', source: 'test', readOnlyCredentials: false, notices: [] };
}

/** Dumps with renderers from `parallelMinRows` rows on (Infinity: one connection); returns the text without its moment. */
async function dump(t: TestDatabase, name: string, parallelMinRows: number, tables?: string[]): Promise<{ text: string; pages: number; renderers: number; rendererPages: number }> {
  const database = openBackupDatabase(config(t.dbPath));
  try {
    const path = join(t.dir, name);
    const result = await dumpDatabase(database, await fileSink(path, { overwrite: true }), { qbankVersion: 'test', now: () => new Date(0), parallelMinRows, pageBytes: 16 << 10, tables });
    const text = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('-- qbank-checksum:'))
      .join('\n');
    return { text, pages: result.pages, renderers: result.renderers, rendererPages: result.rendererPages };
  } finally {
    database.close();
  }
}

describe('backup dump with renderer threads (file:)', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
    const client = createClient({ url: `file:${t.dbPath}` });
    try {
      // a few rows in every 997 carry a value the fast form cannot write (a NUL, a blob in a TEXT column,
      // an infinity); others carry line breaks, quotes and non-ASCII text
      await client.executeMultiple(`
        CREATE TABLE dense (id INTEGER PRIMARY KEY, label TEXT, anything, n INTEGER);
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${ROWS})
        INSERT INTO dense SELECT i,
          CASE i % 997 WHEN 0 THEN 'nul' || char(0) || i WHEN 1 THEN CAST('blob' || i AS BLOB) ELSE 'row ' || i || ' it''s' || CASE WHEN i % 5 = 0 THEN char(10) || 'ünïcödé' || char(13) ELSE '' END END,
          CASE i % 997 WHEN 2 THEN 9e999 WHEN 3 THEN -9e999 WHEN 4 THEN 1.7976931348623157e308 ELSE i * 0.5 END,
          i * 1000003 FROM k;
        CREATE TABLE sparse (id INTEGER PRIMARY KEY, v TEXT);
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${ROWS})
        INSERT INTO sparse SELECT i * 1000000007, 'v' || i FROM k;
        CREATE TABLE tiny (id INTEGER PRIMARY KEY, v TEXT);
        INSERT INTO tiny VALUES (1, 'a'), (2, 'b');
      `);
    } finally {
      client.close();
    }
  });
  afterEach(async () => {
    await t.close();
  });

  it('writes the same dump as one connection, for dense and sparse rowids', async () => {
    const single = await dump(t, 'single.sql', Number.POSITIVE_INFINITY);
    const parallel = await dump(t, 'parallel.sql', 1_000);
    expect(parallel.text).toEqual(single.text);
    expect(parallel.text).toContain("'row 5 it''s\\nünïcödé\\r'");
    expect(parallel.renderers).toBe(2);
    expect(single.renderers).toBe(0);
    // each table went through the renderers, whether its rowids are dense or far apart
    for (const table of ['dense', 'sparse']) {
      const alone = await dump(t, `${table}.sql`, 1_000, [table]);
      // pages keep to the page size (16 KB here): about 15 a table, not a few big ones
      expect(alone.rendererPages, table).toBeGreaterThanOrEqual(12);
      expect(alone.text).toEqual((await dump(t, `${table}-single.sql`, Number.POSITIVE_INFINITY, [table])).text);
    }
    // many pages went through the renderers: the page size is small
    expect(parallel.pages).toBeGreaterThan(20);

    // and what it wrote restores to the same rows
    const target = await createTestDatabase('file');
    try {
      const restore = await runCli(['backup', 'restore', join(t.dir, 'parallel.sql')], { env: target.env, cwd: target.dir });
      expect(restore.code, restore.stderr).toBe(0);
      const read = async (path: string) => {
        const client = createClient({ url: `file:${path}`, intMode: 'bigint' });
        try {
          const rows = await client.execute("SELECT id, quote(label), quote(anything), n, typeof(label) FROM dense UNION ALL SELECT id, quote(v), NULL, NULL, NULL FROM sparse ORDER BY 1");
          return rows.rows.map((row) => Array.from(row).join('|'));
        } finally {
          client.close();
        }
      };
      expect(await read(target.dbPath)).toEqual(await read(t.dbPath));
    } finally {
      await target.close();
    }
  });

  /** Dumps with renderers while a writer, half-way through the table `dense`, inserts a row and empties `sparse`. */
  async function dumpBesideWriter(name: string): Promise<{ text: string; renderers: number; writer: string }> {
    const { default: Libsql } = await import('libsql');
    const database = openBackupDatabase(config(t.dbPath));
    let writer = '';
    try {
      const path = join(t.dir, name);
      const result = await dumpDatabase(database, await fileSink(path, { overwrite: true }), {
        qbankVersion: 'test',
        now: () => new Date(0),
        parallelMinRows: 1_000,
        pageBytes: 16 << 10,
        onProgress: (progress) => {
          if (progress.table !== 'dense' || progress.rowsDone < 2_000 || writer) return;
          const connection = new Libsql(t.dbPath, { timeout: 0 });
          try {
            connection.exec(`INSERT INTO dense VALUES (${ROWS + 1}, 'late', NULL, 0); DELETE FROM sparse`);
            writer = 'committed';
          } catch (error) {
            writer = String((error as { code?: string }).code ?? (error as Error).message);
          } finally {
            connection.close();
          }
        },
      });
      const text = readFileSync(path, 'utf8').split('\n').filter((line) => !line.startsWith('-- qbank-checksum:')).join('\n');
      return { text, renderers: result.renderers, writer };
    } finally {
      database.close();
    }
  }

  it('rollback journal: a writer cannot commit during the dump, which holds the rows from before it', async () => {
    const before = await dump(t, 'before.sql', Number.POSITIVE_INFINITY);
    const during = await dumpBesideWriter('during.sql');
    expect(during.renderers).toBe(2);
    expect(during.writer).toMatch(/BUSY/);
    expect(during.text).toEqual(before.text);
  });

  it('WAL: a writer commits during the dump, and every connection of the dump still reads the rows from before it', async () => {
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute('PRAGMA journal_mode = WAL');
    client.close();
    const before = await dump(t, 'before.sql', Number.POSITIVE_INFINITY);
    const during = await dumpBesideWriter('during.sql');
    expect(during.renderers).toBe(2);
    expect(during.writer).toBe('committed');
    // the renderers read `sparse` after the commit emptied it: they must see it as it was
    expect(during.text).toEqual(before.text);
    expect(during.text).toContain(`INSERT INTO "sparse" VALUES(${ROWS * 1000000007},'v${ROWS}');`);
  });

  it('WAL: the fence holds writers off until it is lifted, and is not raised in rollback-journal mode', async () => {
    const { WriteFence } = await import('../src/db/backup/renderer.js');
    const { openDatabase } = await import('../src/db/client.js');
    const { default: Libsql } = await import('libsql');
    const database = openDatabase(config(t.dbPath));
    const write = () => {
      const writer = new Libsql(t.dbPath, { timeout: 0 });
      try {
        writer.exec("INSERT INTO tiny VALUES (NULL, 'w')");
        return 'committed';
      } catch (error) {
        return String((error as { code?: string }).code);
      } finally {
        writer.close();
      }
    };
    try {
      expect(await WriteFence.open(database)).toBeUndefined();
      const client = createClient({ url: `file:${t.dbPath}` });
      await client.execute('PRAGMA journal_mode = WAL');
      client.close();
      const fence = await WriteFence.open(database);
      expect(fence).toBeDefined();
      expect(write()).toMatch(/BUSY/);
      fence!.lift();
      expect(write()).toBe('committed');
    } finally {
      database.close();
    }
  });

  it('WAL: while another writer holds the lock, the dump reads on one connection', async () => {
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute('PRAGMA journal_mode = WAL');
    client.close();
    const single = await dump(t, 'single.sql', Number.POSITIVE_INFINITY);
    const { default: Libsql } = await import('libsql');
    const writer = new Libsql(t.dbPath, { timeout: 0 });
    writer.exec('BEGIN IMMEDIATE');
    try {
      const wal = await dump(t, 'wal.sql', 1_000);
      expect(wal.renderers).toBe(0);
      expect(wal.text).toEqual(single.text);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });
});
