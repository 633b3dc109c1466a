import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { exportRecords, type ExportFormat } from '../src/db/export/index.js';
import { exportTable } from '../src/db/export/tables.js';
import { startThreadedExport, type ThreadedJob } from '../src/db/export/threads.js';
import { createTestDatabase, runIn, type TestDatabase } from './support/modes.js';
import { random } from './support/random.js';

/**
 * A large `file:` export renders its blocks of rows in two threads. Small blocks make the threads
 * run on a small bank here: what they write must be what one thread writes, byte for byte, in
 * every text format, filtered or not, with the counts of the summary.
 */

const EXAMS = ['CCNA-200-301', 'SAA-C03', 'SC-900'];
const QUESTIONS = 61;

function hostileText(rnd: () => number, max: number): string {
  const pieces = ['word', ' ', ', ', '"', "'", '=', '-', '\t', '\r\n', '\n', 'é', '中文', '😀', '\u00a0', '\u2028', '[1]', '\u0001'];
  let out = '';
  const length = 1 + Math.floor(rnd() * max);
  while (out.length < length) out += pieces[Math.floor(rnd() * pieces.length)];
  return out;
}

function bank(): Record<string, unknown>[] {
  const rnd = random(5);
  return Array.from({ length: QUESTIONS }, (_, i) => {
    const options = Array.from({ length: 2 + (i % 5) }, () => hostileText(rnd, 20));
    const record: Record<string, unknown> = {
      id: `q-${String(i).padStart(3, '0')}`,
      exam_code: EXAMS[i % EXAMS.length],
      text: `${i} ${hostileText(rnd, 120)}`,
      correct: 'ABCDEF'[i % options.length],
      difficulty: 1 + (i % 5),
    };
    options.forEach((option, k) => (record[`option_${'abcdef'[k]}`] = option));
    if (i % 3 === 0) record.explanation = hostileText(rnd, 200);
    if (i % 4 === 0) record.tags = i % 8 === 0 ? [] : [hostileText(rnd, 8), hostileText(rnd, 8)];
    if (i % 5 === 0) record.is_active = i % 10 === 0;
    return record;
  });
}

function textSink() {
  const chunks: Buffer[] = [];
  return { sink: { write: async (chunk: string | Buffer) => void chunks.push(Buffer.from(chunk)) }, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('export in two threads (file:)', () => {
  let t: TestDatabase;
  let database: Database;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await createTestDatabase('file');
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', join(import.meta.dirname, '..', 'fixtures', 'pingtopass', 'exams.csv')]]) {
      expect((await cli(args)).code).toBe(0);
    }
    writeFileSync(join(t.dir, 'bank.json'), JSON.stringify(bank()));
    const imported = await cli(['import', 'bank.json']);
    expect(imported.code, imported.stderr).toBe(0);
    database = openDatabase({ kind: 'file', url: t.url, displayUrl: t.url } as never, { intMode: 'bigint' });
  }, 60_000);

  afterEach(async () => {
    database.close();
    await t.close();
  });

  function job(blockRows: number, format: ThreadedJob['format'] = 'csv'): ThreadedJob {
    const table = exportTable('pingtopass', 'questions')!;
    const query = { select: table.select, from: table.from, where: [], args: [], key: table.key, keyIndex: table.keyIndex };
    return { table, format, excel: false, query, blockRows };
  }

  it.each([
    ['csv', false],
    ['csv', true],
    ['json', false],
    ['jsonl', false],
  ] as Array<[ExportFormat, boolean]>)('%s (excel: %s): the threads write what one thread writes, for blocks of any size', async (format, excel) => {
    const single = await cli(['export', 'questions', '--format', format, ...(excel ? ['--excel'] : [])]);
    expect(single.code, single.stderr).toBe(0);
    const summary = JSON.parse((await cli(['export', 'questions', `whole.${format}`, '--format', format, '--json', ...(excel ? ['--excel'] : [])])).stdout);
    // 61 rows: blocks that divide it unevenly, of one row, and a last block of a single row (60 = 6 × 10)
    for (const blockRows of [1, 7, 10, 60]) {
      const { sink, text } = textSink();
      const threaded = await exportRecords(database, sink, { system: 'pingtopass', kind: 'questions', format, excel, blockRows });
      expect(text(), `blocks of ${blockRows}`).toBe(single.stdout);
      expect(threaded.rows).toBe(QUESTIONS);
      expect(threaded.bytes).toBe(Buffer.byteLength(single.stdout));
      expect(threaded.groups).toEqual(summary.groups);
    }
  }, 60_000);

  it('takes the threaded path only where it pays: several blocks, the write lock free at once', async () => {
    const several = await startThreadedExport(database, job(10));
    expect(several).toBeDefined();
    let rows = 0;
    for await (const chunk of several!.chunks()) rows += chunk.rows;
    await several!.close();
    expect(rows).toBe(QUESTIONS);

    expect(await startThreadedExport(database, job(QUESTIONS + 1))).toBeUndefined();

    // another writer holds the lock: no waiting for it, the rows are read on this thread instead
    const Libsql = createRequire(import.meta.url)('libsql') as typeof import('libsql');
    const writer = new Libsql(t.dbPath);
    try {
      writer.exec('BEGIN IMMEDIATE');
      expect(await startThreadedExport(database, job(10))).toBeUndefined();
      const { sink, text } = textSink();
      await exportRecords(database, sink, { system: 'pingtopass', kind: 'questions', format: 'jsonl', blockRows: 10 });
      expect(text()).toBe((await cli(['export', 'questions', '--format', 'jsonl'])).stdout);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  }, 60_000);

  it('filters hold in every block', async () => {
    const single = await cli(['export', 'questions', '--format', 'jsonl', '--exam', 'SAA-C03', '--ids', 'q-001,q-004,q-007,q-010,q-013,q-016,q-019,q-022']);
    expect(single.code, single.stderr).toBe(0);
    const { sink, text } = textSink();
    const summary = await exportRecords(database, sink, {
      system: 'pingtopass',
      kind: 'questions',
      format: 'jsonl',
      filters: { exams: ['SAA-C03'], ids: ['q-001', 'q-004', 'q-007', 'q-010', 'q-013', 'q-016', 'q-019', 'q-022'] },
      blockRows: 3,
    });
    expect(text()).toBe(single.stdout);
    expect(summary.rows).toBe(8);
  }, 60_000);
});
