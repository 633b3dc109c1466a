/**
 * `npm run bench -- audit`: what qbank's audit record costs an import, on this machine.
 *
 *   - the first import of the 200,000-question bank into a fresh `file:` database, with the run
 *     record and before-images as shipped and without them (the import service's `unrecorded`
 *     run, which no command offers), median of 3 after a warm-up of each;
 *   - the same for a re-import where 1% of the questions changed (their explanation), which keeps
 *     the before-images of the updated rows;
 *   - the space those before-images take per 1,000 updated questions.
 *
 * The import runs in this process through the service (`importFile`), as the command calls it;
 * every timed run starts from a copy of the same database file.
 */
import { copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatabaseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { importFile } from '../src/db/import/index.js';
import { resolveActor } from '../src/db/run-record.js';
import { runCli } from '../test/support/cli.js';
import { generateBank } from './import.js';
import { benchDir, printTable, root, s } from './support.js';

/** `--quick`: a bank of 20,000 questions, for a look at the shape of the figures in a minute. */
const QUESTIONS = process.argv.includes('--quick') ? 20_000 : 200_000;
const CHANGED_EVERY = 100;
const RUNS = 3;

function fileConfig(path: string): DatabaseConfig {
  const url = `file:${path}`;
  return { url, displayUrl: url, kind: 'file', source: 'bench', readOnlyCredentials: false, notices: [] };
}

/** Splits CSV text into records (a quoted field may hold line breaks). */
function csvRecords(text: string): string[] {
  const records: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34) quoted = !quoted;
    else if (code === 10 && !quoted) {
      records.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) records.push(text.slice(start));
  return records;
}

function csvFields(record: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  const body = record.replace(/\r?\n$/, '');
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (quoted) {
      if (char === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The bank with the explanation of every 100th question revised; returns how many changed. */
function reviseBank(from: string, to: string): number {
  const [header, ...records] = csvRecords(readFileSync(from, 'utf8'));
  const explanation = csvFields(header!).indexOf('explanation');
  let changed = 0;
  const revised = records.map((record, i) => {
    if (i % CHANGED_EVERY !== 0) return record;
    const fields = csvFields(record);
    fields[explanation] = `${fields[explanation]} (revised)`;
    changed++;
    return fields.map(csvField).join(',') + '\n';
  });
  writeFileSync(to, header + revised.join(''));
  return changed;
}

interface Timed {
  seconds: number;
  /** CPU time of this process, every thread (the parsing worker included): less swayed by other load on the machine than wall time. */
  cpuSeconds: number;
  created: number;
  updated: number;
}

/** One import of `bank` into a copy of `template`, recorded or not; the copy stays at `path`. */
async function timedImport(template: string, path: string, bank: string, recorded: boolean): Promise<Timed> {
  rmSync(path, { force: true });
  rmSync(`${path}-journal`, { force: true });
  copyFileSync(template, path);
  const database = openDatabase(fileConfig(path));
  try {
    const run = { ...resolveActor({ env: {}, gitEmail: () => 'bench@example.com' }), command: 'import', target: database.displayUrl, unrecorded: !recorded };
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const summary = await importFile(database, { file: bank, cwd: root, system: 'pingtopass', kind: 'questions', run });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6, created: summary.created, updated: summary.updated };
  } finally {
    database.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A warm-up of each, then RUNS rounds alternating which goes first; the median of each. */
interface Medians {
  on: number;
  off: number;
  cpuOn: number;
  cpuOff: number;
}

async function compare(label: string, once: (recorded: boolean) => Promise<Timed>, expect: (timed: Timed) => void): Promise<Medians> {
  expect(await once(true));
  expect(await once(false));
  const on: Timed[] = [];
  const off: Timed[] = [];
  for (let round = 0; round < RUNS; round++) {
    for (const recorded of round % 2 === 0 ? [false, true] : [true, false]) {
      const timed = await once(recorded);
      expect(timed);
      (recorded ? on : off).push(timed);
    }
    const [a, b] = [off[round]!, on[round]!];
    console.log(`  ${label}, round ${round + 1}: off ${s(a.seconds)} (cpu ${s(a.cpuSeconds)}), on ${s(b.seconds)} (cpu ${s(b.cpuSeconds)}) (load ${loadavg()[0]!.toFixed(2)})`);
  }
  return {
    on: median(on.map((t) => t.seconds)),
    off: median(off.map((t) => t.seconds)),
    cpuOn: median(on.map((t) => t.cpuSeconds)),
    cpuOff: median(off.map((t) => t.cpuSeconds)),
  };
}

async function sqlValue(path: string, sql: string): Promise<number> {
  const database = openDatabase(fileConfig(path));
  try {
    return Number((await database.client.execute(sql)).rows[0]![0]);
  } finally {
    database.close();
  }
}

const fileBytes = async (path: string) => (await sqlValue(path, 'PRAGMA page_count')) * (await sqlValue(path, 'PRAGMA page_size')) - (await sqlValue(path, 'PRAGMA freelist_count')) * (await sqlValue(path, 'PRAGMA page_size'));

export async function run(): Promise<void> {
  const dir = benchDir('audit');
  const loadBefore = loadavg();
  const bank = join(dir, `bank-${QUESTIONS}.csv`);
  await generateBank(bank, QUESTIONS);
  const revised = join(dir, `bank-${QUESTIONS}-revised.csv`);
  const changed = reviseBank(bank, revised);
  console.log(`generated ${bank} (${(statSync(bank).size / 1e6).toFixed(0)} MB); ${changed.toLocaleString('en-US')} questions revised in ${revised}`);

  const empty = join(dir, 'empty.db');
  for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', join(root, 'fixtures', 'pingtopass', 'exams.csv')]]) {
    const result = await runCli(args, { env: { TURSO_DATABASE_URL: `file:${empty}` }, cwd: dir });
    if (result.code !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  }

  const work = join(dir, 'work.db');
  // `--reimport`: only the re-import (the first import's figure takes as long again)
  const skipFirst = process.argv.includes('--reimport');
  const first = skipFirst ? undefined : await compare('first import', (recorded) => timedImport(empty, work, bank, recorded), (timed) => {
    if (timed.created !== QUESTIONS) throw new Error(`expected ${QUESTIONS} created, got ${timed.created}`);
  });

  // the re-import starts from the bank imported with the record on, as it would be in use
  const imported = join(dir, 'imported.db');
  await timedImport(empty, imported, bank, true);
  const again = await compare('re-import, 1% changed', (recorded) => timedImport(imported, work, revised, recorded), (timed) => {
    if (timed.updated !== changed) throw new Error(`expected ${changed} updated, got ${timed.updated}`);
  });

  // space: the re-import's before-images, as rows (JSON text) and as pages in the file
  const recordedCopy = join(dir, 'recorded.db');
  const unrecordedCopy = join(dir, 'unrecorded.db');
  await timedImport(imported, recordedCopy, revised, true);
  await timedImport(imported, unrecordedCopy, revised, false);
  const runId = `(SELECT id FROM __qbank_audit ORDER BY id DESC LIMIT 1)`;
  const imageRows = await sqlValue(recordedCopy, `SELECT count(*) FROM __qbank_audit_rows WHERE run_id = ${runId}`);
  const imageText = await sqlValue(
    recordedCopy,
    `SELECT sum(length(run_id) + length(tbl) + length(row_key) + length(action) + coalesce(length(before), 0) + coalesce(length(after), 0)) FROM __qbank_audit_rows WHERE run_id = ${runId}`,
  );
  const growth = (await fileBytes(recordedCopy)) - (await fileBytes(unrecordedCopy));
  const perThousand = (bytes: number) => `${((bytes / changed) * 1000 / 1e6).toFixed(2)} MB`;
  const loadAfter = loadavg();

  const verdict = (on: number, off: number) => (on <= off * 1.1 ? 'ok' : 'MISSED');
  const cost = (on: number, off: number) => `${(((on - off) / off) * 100).toFixed(1)}%`;
  const firstRows: Array<[string, string, string, string]> = first
    ? [
        ['first import, record off', s(first.off), '', ''],
        ['first import, record on', s(first.on), `≤ ${s(first.off * 1.1)} (+10%)`, verdict(first.on, first.off)],
        ['first import, cost', cost(first.on, first.off), '≤ 10%', verdict(first.on, first.off)],
        ['first import, CPU off / on', `${s(first.cpuOff)} / ${s(first.cpuOn)}`, '', ''],
        ['first import, CPU cost', cost(first.cpuOn, first.cpuOff), '≤ 10%', verdict(first.cpuOn, first.cpuOff)],
      ]
    : [];
  printTable(`audit record: import of ${QUESTIONS.toLocaleString('en-US')} questions into a file: database, median of 3 after a warm-up`, [
    ...firstRows,
    [`re-import, ${changed.toLocaleString('en-US')} changed, off`, s(again.off), '', ''],
    [`re-import, ${changed.toLocaleString('en-US')} changed, on`, s(again.on), `≤ ${s(again.off * 1.1)} (+10%)`, verdict(again.on, again.off)],
    ['re-import, cost', cost(again.on, again.off), '≤ 10%', verdict(again.on, again.off)],
    ['re-import, CPU off / on', `${s(again.cpuOff)} / ${s(again.cpuOn)}`, '', ''],
    ['re-import, CPU cost', cost(again.cpuOn, again.cpuOff), '≤ 10%', verdict(again.cpuOn, again.cpuOff)],
    ['before-images per 1,000 updated questions (rows)', `${perThousand(imageText)} in ${((imageRows / changed) * 1000).toFixed(0)} rows`, '', ''],
    ['before-images per 1,000 updated questions (file)', perThousand(growth), '', ''],
  ]);
  console.log(`\nload average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
