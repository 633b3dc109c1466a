import type { SystemName } from '../config.js';
import type { Database } from '../db/client.js';
import type { MigrateResult } from '../db/migrations.js';
import type { RunContext } from '../db/run-record.js';
import type { PushResult } from '../db/schema-sync.js';
import type { FleetJobResult } from './fleet.js';

/*
 * Jobs that run on each database of a fleet (fleet.ts opens the database; these say what to do on
 * it and how the outcome reads in one line).
 */

export interface MigrateJobOptions {
  explicit: SystemName | undefined;
  dryRun: boolean;
  /** The run entry's context for the system the database turned out to be for. */
  run: (system: SystemName) => RunContext;
}

export type MigrateJobResult = MigrateResult | { system: SystemName | null; pending: string[]; dryRun: true };

/** Applies the committed migrations of the database's system; a dry run lists what is pending, read only. */
export async function migrateOne(database: Database, options: MigrateJobOptions): Promise<FleetJobResult<MigrateJobResult>> {
  if (options.dryRun) {
    const { databaseStatus } = await import('../db/status.js');
    const status = await databaseStatus(database, { source: 'Platform API', authToken: 'minted for this run', readOnlyCredentials: true }, options.explicit);
    if (!status.system) return { outcome: 'ok', message: 'no tables of either system: nothing to migrate', result: { system: null, pending: [], dryRun: true } };
    const pending = status.migrations?.pending ?? [];
    const result = { system: status.system, pending, dryRun: true as const };
    if (pending.length === 0) return { outcome: 'ok', message: `no pending migrations (${status.system})`, result };
    return { outcome: 'pending', message: `${pending.length} migration(s) pending (${status.system}): ${pending.join(', ')}`, result };
  }
  const { resolveSystem } = await import('../db/systems.js');
  const { migrate } = await import('../db/migrations.js');
  const system = await resolveSystem(database, options.explicit);
  const result = await migrate(database, system, { run: options.run(system) });
  if (result.applied.length > 0) return { outcome: 'changed', message: `applied ${result.applied.length} migration(s) (${system}): ${result.applied.join(', ')}`, result };
  if (result.baselined.length > 0) return { outcome: 'changed', message: `recorded ${result.baselined.length} migration(s) already in place (${system})`, result };
  return { outcome: 'ok', message: `no pending migrations (${system})`, result };
}

export interface PushJobOptions {
  explicit: SystemName | undefined;
  dryRun: boolean;
  allowDataLoss: boolean;
  /** Consent to a plan that loses data, given up front (a fleet never prompts). */
  dataLossConsent: boolean;
  run: (system: SystemName) => RunContext;
}

/** Pushes the built-in schema of the database's system; a dry run reports the pending steps. */
export async function pushOne(database: Database, options: PushJobOptions): Promise<FleetJobResult<PushResult>> {
  const { introspect, pushSchema } = await import('../db/schema-sync.js');
  const { resolveSystem } = await import('../db/systems.js');
  const live = await introspect(database);
  const system = await resolveSystem(database, options.explicit, live.keys());
  const result = await pushSchema(database, system, {
    live,
    dryRun: options.dryRun,
    allowDataLoss: options.allowDataLoss,
    confirmDataLoss: async () => options.dataLossConsent,
    run: options.run(system),
  });
  if (result.upToDate) return { outcome: 'ok', message: `up to date (${system})`, result };
  if (result.dryRun) return { outcome: 'pending', message: `${result.steps.length} step(s) pending (${system}), not applied`, result };
  return { outcome: 'changed', message: `applied ${result.statementCount} statement(s) (${system})`, result };
}
