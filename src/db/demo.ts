import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../config.js';
import { openDatabase } from './client.js';
import { pushSchema, type PushResult } from './schema-sync.js';
import { seedDatabase } from './seed.js';
import { databaseStatus, type DatabaseStatus } from './status.js';

export interface DemoReport {
  systems: Array<{ system: SystemName; url: string; push: PushResult; seeded: number; status: DatabaseStatus }>;
}

/** The newcomer's tour: one embedded database per system, pushed, seeded and inspected. */
export async function runDemo(options: { dir: string; systems: SystemName[]; onStep?: (line: string) => void }): Promise<DemoReport> {
  mkdirSync(options.dir, { recursive: true });
  const report: DemoReport = { systems: [] };
  for (const system of options.systems) {
    const url = `file:${join(options.dir, `${system}.db`)}`;
    const database = openDatabase({ url, displayUrl: url, kind: 'file', source: 'demo', readOnlyCredentials: false, notices: [] });
    try {
      options.onStep?.(`${system}: pushing the schema to ${url}`);
      const push = await pushSchema(database, system);
      options.onStep?.(`${system}: seeding fixtures`);
      const seed = await seedDatabase(database, system);
      const status = await databaseStatus(database, { source: 'demo', authToken: undefined, readOnlyCredentials: false }, system);
      report.systems.push({ system, url, push, seeded: seed.tables.reduce((n, t) => n + t.rows, 0), status });
    } finally {
      database.close();
    }
  }
  return report;
}
