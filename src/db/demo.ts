import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../config.js';
import { openDatabase } from './client.js';
import { exportRecords } from './export/index.js';
import { fileExportSink } from './export/sinks.js';
import { importFile, type ImportKind, type ImportSummary } from './import/index.js';
import { packageRoot } from './migration-journal.js';
import type { RunContext } from './run-record.js';
import { pushSchema, type PushResult } from './schema-sync.js';
import { seedDatabase } from './seed.js';
import { databaseStatus, type DatabaseStatus } from './status.js';

export interface DemoReport {
  systems: Array<{ system: SystemName; url: string; push: PushResult; seeded: number; imported: ImportSummary[]; exported: { file: string; rows: number; bytes: number }; status: DatabaseStatus }>;
}

/** The sample banks the demo imports after seeding, in order (exams before the questions naming them). */
const FIXTURE_BANKS: Record<SystemName, Array<[ImportKind, string]>> = {
  pingtopass: [
    ['exams', 'fixtures/pingtopass/exams.csv'],
    ['questions', 'fixtures/pingtopass/questions.csv'],
  ],
  'open-interview': [
    ['questions', 'fixtures/import/open-interview/questions.csv'],
    ['certifications', 'fixtures/import/open-interview/certifications.csv'],
  ],
};

/** The newcomer's tour: one embedded database per system, pushed, seeded, given a sample bank and inspected. */
export async function runDemo(options: { dir: string; systems: SystemName[]; onStep?: (line: string) => void; actor?: Pick<RunContext, 'actor' | 'ci'> }): Promise<DemoReport> {
  const actor = options.actor ?? { actor: 'unknown' };
  mkdirSync(options.dir, { recursive: true });
  const report: DemoReport = { systems: [] };
  for (const system of options.systems) {
    const url = `file:${join(options.dir, `${system}.db`)}`;
    const database = openDatabase({ url, displayUrl: url, kind: 'file', source: 'demo', readOnlyCredentials: false, notices: [] });
    try {
      options.onStep?.(`${system}: pushing the schema to ${url}`);
      const run = (command: string): RunContext => ({ ...actor, command, arguments: { schema: system, via: 'demo' }, target: url });
      const push = await pushSchema(database, system, { run: run('db push') });
      options.onStep?.(`${system}: seeding fixtures`);
      const seed = await seedDatabase(database, system, { run: run('db seed') });
      const imported: ImportSummary[] = [];
      for (const [kind, file] of FIXTURE_BANKS[system]) {
        options.onStep?.(`${system}: importing ${file}`);
        imported.push(await importFile(database, { file, cwd: packageRoot(), system, kind }));
      }
      // the way back out: the bank in the import's own format, ready to edit and import again
      const exportFile = join(options.dir, `${system}-questions.csv`);
      options.onStep?.(`${system}: exporting its questions to ${exportFile}`);
      const sink = await fileExportSink(exportFile, { cwd: options.dir, force: true });
      const exportSummary = await exportRecords(database, sink, { system, kind: 'questions', format: 'csv' }).catch(async (error) => {
        await sink.abort();
        throw error;
      });
      await sink.commit();
      const exported = { file: exportFile, rows: exportSummary.rows, bytes: exportSummary.bytes };
      const status = await databaseStatus(database, { source: 'demo', authToken: undefined, readOnlyCredentials: false }, system);
      report.systems.push({ system, url, push, seeded: seed.tables.reduce((n, t) => n + t.rows, 0), imported, exported, status });
    } finally {
      database.close();
    }
  }
  return report;
}
