import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import {
  argumentsWithoutSecrets,
  AUDIT_TABLE,
  confirmAfterLostConnection,
  findRun,
  newRunId,
  resolveActor,
  runEntry,
  runRecordStatements,
} from '../src/db/run-record.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

function open(t: TestDatabase, token = t.authToken): Database {
  return openDatabase({ url: t.url, displayUrl: t.url, authToken: token, kind: t.mode, source: 'test', readOnlyCredentials: false, notices: [] });
}

async function fileRows(t: TestDatabase, sql: string): Promise<Record<string, unknown>[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute(sql)).rows as unknown as Record<string, unknown>[];
  } finally {
    client.close();
  }
}

const context = { actor: 'ada@example.org', command: 'import questions', target: 'libsql://db.example.org' };

describe('run ids and entries', () => {
  it('makes ids that sort by time and never repeat', () => {
    const early = newRunId(new Date('2026-12-06T22:15:03.123Z'));
    const late = newRunId(new Date('2026-12-06T22:15:03.124Z'));
    expect(early).toMatch(/^20261206-221503-123-[0-9a-f]{8}$/);
    expect(early < late).toBe(true);
    const ids = new Set(Array.from({ length: 1000 }, () => newRunId(new Date(0))));
    expect(ids.size).toBe(1000);
  });

  it('keeps no secret in the recorded arguments', () => {
    const clean = argumentsWithoutSecrets({
      authToken: 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2lnbmF0dXJlc2lnbmF0dXJl',
      apiToken: 'x',
      url: 'libsql://db.example.org?authToken=eyJsecret&tls=1',
      proxy: 'https://user:hunter22@proxy.example.org/',
      file: 'bank.csv',
      dryRun: false,
      skipped: undefined,
    });
    expect(clean).toEqual({ url: 'libsql://db.example.org?authToken=***&tls=1', proxy: 'https://proxy.example.org/', file: 'bank.csv', dryRun: false });
    expect(JSON.stringify(clean)).not.toMatch(/eyJ|hunter22/);
  });

  it('names the actor: explicit, else git email, else the OS user; with CI identity', () => {
    const env = { GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '42', TURSO_AUTH_TOKEN: 'secret' };
    expect(resolveActor({ explicit: 'reviewer-7', env, gitEmail: () => 'ada@example.org' })).toEqual({ actor: 'reviewer-7', ci: { GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '42' } });
    expect(resolveActor({ env: {}, gitEmail: () => 'ada@example.org' })).toEqual({ actor: 'ada@example.org', ci: null });
    expect(resolveActor({ env: {}, gitEmail: () => undefined }).actor).toMatch(/\S/);
  });
});

describe.each(MODES)('the run record (%s)', (mode) => {
  let t: TestDatabase;
  let database: Database;

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    database = open(t);
  });
  afterEach(async () => {
    database.close();
    await t.close();
  });

  it('is written in the batch of the change and read back with findRun', async () => {
    const entry = runEntry(
      { ...context, arguments: { file: 'bank.csv', authToken: 'eyJsecret' } },
      { system: 'pingtopass', counts: { created: 2, updated: 1 }, file: { name: 'bank.csv', size: 10, sha256: 'ab'.repeat(32) } },
    );
    await database.client.batch(['CREATE TABLE things (id integer PRIMARY KEY)', 'INSERT INTO things VALUES (1)', ...runRecordStatements(entry)], 'write');
    expect(await findRun(database, entry.id)).toEqual({ ...entry, arguments: { file: 'bank.csv' } });
    const stored = await fileRows(t, `SELECT arguments FROM ${AUDIT_TABLE}`);
    expect(String(stored[0]!.arguments)).not.toMatch(/eyJ/);

    // a second run adds a second entry; the table is created once
    const second = runEntry(context);
    await database.client.batch(runRecordStatements(second), 'write');
    expect(await fileRows(t, `SELECT id FROM ${AUDIT_TABLE} ORDER BY started_at, id`)).toHaveLength(2);
  });

  it('commits with the change or not at all', async () => {
    const entry = runEntry(context);
    await expect(database.client.batch([...runRecordStatements(entry), 'INSERT INTO no_such_table VALUES (1)'], 'write')).rejects.toThrow(/no_such_table/);
    expect(await findRun(database, entry.id)).toBeUndefined();
  });

  it('finds nothing before any run was recorded', async () => {
    expect(await findRun(database, newRunId())).toBeUndefined();
  });

  it('confirms a committed run as applied and a missing one as not applied', async () => {
    const entry = runEntry(context);
    expect(await confirmAfterLostConnection({ reopen: () => open(t), runId: entry.id })).toBe('not-applied');
    await database.client.batch(runRecordStatements(entry), 'write');
    expect(await confirmAfterLostConnection({ reopen: () => open(t), runId: entry.id })).toBe('applied');
    expect(await confirmAfterLostConnection({ reopen: () => open(t), runId: newRunId() })).toBe('not-applied');
  });

  it('says unknown when the database cannot be reached again', async () => {
    const runId = newRunId();
    const unreachable = () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    };
    expect(await confirmAfterLostConnection({ reopen: unreachable, runId })).toBe('unknown');
    // a reconnection that never answers is cut off by the timeout
    expect(await confirmAfterLostConnection({ reopen: () => new Promise<Database>(() => {}), runId, timeoutMs: 50 })).toBe('unknown');
  });

  if (mode === 'remote') {
    it('says unknown when the reconnection fails on the server', async () => {
      const runId = newRunId();
      t.server!.knobs.failOnRequest = 1;
      t.server!.knobs.dropOnRequest = 2;
      // whichever request fails, the answer is never a guess
      expect(await confirmAfterLostConnection({ reopen: () => open(t), runId })).toBe('unknown');
    });
  }
});
