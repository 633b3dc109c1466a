import type { Command } from 'commander';
import type { PushResult, SchemaPlan } from '../db/schema-sync.js';
import type { RunContext } from '../db/run-record.js';
import type { DatabaseStatus, TableRole } from '../db/status.js';
import { CheckFailedError, ExitCode, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { migrateFleet, pushFleet, registerDbAdminCommands, statusFleet, type FleetFlags } from './db-admin.js';
import { positiveInteger } from './flags.js';

/** How long a push whose answer was lost may spend reconnecting to find out whether it committed. */
const CONFIRM_TIMEOUT_MS = 5000;

export function registerDbCommands(program: Command, context: CommandContext): void {
  const db = program
    .command('db')
    .description('schema and data of the configured database: push, migrate, status, seed')
    .addHelpText(
      'after',
      examples([
        ['qbank db push --schema pingtopass', 'create or update the schema'],
        ['qbank db migrate', 'apply committed migrations'],
        ['qbank db status --json', 'connection, migrations, drift, row counts'],
        ['qbank db seed', 'load the fixtures (idempotent)'],
      ]),
    );

  registerPush(db, context);
  registerMigrate(db, context);
  registerStatus(db, context);
  registerSeed(db, context);
  registerDbAdminCommands(db, context);
}

function registerPush(db: Command, context: CommandContext): void {
  db.command('push')
    .description('bring the database to the built-in schema in one transaction')
    .option('--dry-run', 'print the plan without applying it')
    .option('--allow-data-loss', 'allow statements that drop columns or tables')
    .option('-y, --yes', 'confirm data loss without a prompt (needed without a terminal)')
    .option('--exit-code', 'with --dry-run: exit 0 when there is nothing to do, 6 when changes are pending')
    .option('--all', 'every database of the Turso organization (TURSO_API_TOKEN, TURSO_ORG), each with a token minted for the run')
    .option('--group <name>', 'with --all: only the databases of this group')
    .option('--concurrency <n>', 'with --all: databases pushed at once (default 4)', positiveInteger)
    .addHelpText(
      'after',
      examples([
        ['qbank db push --schema pingtopass', 'create the PingToPass tables on a new database'],
        ['qbank db push --dry-run', 'show what would change'],
        ['qbank db push --dry-run --exit-code', 'for CI: exit 6 when the database needs a push'],
        ['qbank db push --allow-data-loss --yes', 'apply a plan that drops columns, in CI'],
        ['qbank db push --all --group default --dry-run', 'what a push would change on every database of a group'],
      ]),
    )
    .action(async (options: FleetFlags & { all?: boolean; exitCode?: boolean }, command: Command) => {
      if (options.exitCode && !options.dryRun) throw new UsageError('--exit-code goes with --dry-run: it says whether a push is needed, without pushing');
      if (!options.all && (options.group !== undefined || options.concurrency !== undefined)) throw new UsageError('--group and --concurrency go with --all');
      if (options.all) return pushFleet(context, command, options);
      const out = context.output(command);
      const { database, config } = await context.database(command, options.dryRun ? 'read' : 'write', out);
      const { DataLossRefusedError, introspect, pushSchema } = await import('../db/schema-sync.js');
      // one catalogue read serves both: which system the tables belong to, and what to change
      const live = await introspect(database);
      const system = await context.system(database, config, live.keys());
      const { openDatabase } = await import('../db/client.js');
      const run = await runContext(context, 'db push', { schema: system, allowDataLoss: Boolean(options.allowDataLoss) }, database.displayUrl);
      const result = await pushSchema(database, system, {
        live,
        dryRun: options.dryRun,
        allowDataLoss: options.allowDataLoss,
        run,
        reopen: () => openDatabase(config, { timeoutMs: CONFIRM_TIMEOUT_MS }),
        confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
        confirmDataLoss: async (plan) => {
          if (options.yes) return true;
          renderPlan(out, plan);
          return out.confirm('Apply this plan and lose the data listed above?');
        },
      }).catch((error: unknown) => {
        if (error instanceof DataLossRefusedError) {
          throw new DataLossRefusedError(error.details ?? [], 'review the plan with `qbank db push --dry-run`, then rerun with --allow-data-loss (and --yes without a terminal)');
        }
        throw error;
      });
      renderPush(out, result, database.displayUrl);
      if (options.exitCode && !result.upToDate) context.exitCode = ExitCode.checkFailed;
    });
}

function registerMigrate(db: Command, context: CommandContext): void {
  db.command('migrate')
    .description('apply the committed SQL migrations of the selected system')
    .option('--all', 'every database of the Turso organization (TURSO_API_TOKEN, TURSO_ORG), each with a token minted for the run')
    .option('--group <name>', 'with --all: only the databases of this group')
    .option('--concurrency <n>', 'with --all: databases migrated at once (default 4)', positiveInteger)
    .option('--dry-run', 'with --all: list the pending migrations of each database, read only')
    .addHelpText(
      'after',
      examples([
        ['qbank db migrate --schema open-interview', 'apply pending migrations'],
        ['qbank db migrate --all --group default --dry-run', 'what is pending on every database of a group'],
        ['qbank db migrate --all --json', 'migrate every database of the organization, one JSON document'],
      ]),
    )
    .action(async (options: FleetFlags & { all?: boolean }, command: Command) => {
      if (!options.all && (options.group !== undefined || options.concurrency !== undefined || options.dryRun)) {
        throw new UsageError('--group, --concurrency and --dry-run go with --all');
      }
      if (options.all) return migrateFleet(context, command, options);
      const out = context.output(command);
      const { database, config } = await context.database(command, 'write', out);
      const system = await context.system(database, config);
      const { migrate } = await import('../db/migrations.js');
      const result = await migrate(database, system, { run: await runContext(context, 'db migrate', { schema: system }, database.displayUrl) });
      if (out.json) return out.data(result);
      if (result.applied.length > 0) out.success(`applied ${result.applied.length} migration(s) to ${database.displayUrl}: ${result.applied.join(', ')}`);
      if (result.baselined.length > 0) {
        out.success(`the schema was already in place (db push); recorded ${result.baselined.length} migration(s) as applied: ${result.baselined.join(', ')}`);
      }
      if (result.applied.length === 0 && result.baselined.length === 0) out.success(`no pending migrations (${result.alreadyApplied.length} applied)`);
      if (result.lostConnection) out.notice('note: the connection was lost while the migrations were committing; a reconnection found their run: applied');
    });
}

function registerStatus(db: Command, context: CommandContext): void {
  db.command('status')
    .description('connection, system, migrations, drift from the built-in schema, row counts')
    .option('--check', 'exit 6 when the database differs from the schema or migrations are pending')
    .option('--exit-code', 'the same as --check: exit 0 when nothing is pending, 6 when changes are')
    .option('--all', 'every database of the Turso organization (TURSO_API_TOKEN, TURSO_ORG), each with a read-only token minted for the run')
    .option('--group <name>', 'with --all: only the databases of this group')
    .option('--concurrency <n>', 'with --all: databases read at once (default 4)', positiveInteger)
    .addHelpText(
      'after',
      examples([
        ['qbank db status', 'a readable summary'],
        ['qbank db status --json --check', 'for CI: one JSON document with the check inside, exit 6 on drift'],
      ]),
    )
    .action(async (options: FleetFlags & { check?: boolean; exitCode?: boolean; all?: boolean }, command: Command) => {
      if (options.all) return statusFleet(context, command, options);
      const out = context.output(command);
      const { database, config } = await context.database(command, 'read', out);
      const { databaseStatus, pendingChanges } = await import('../db/status.js');
      const status = await databaseStatus(database, config, config.system);
      const gated = Boolean(options.check || options.exitCode);
      const pending = pendingChanges(status);
      if (out.json) out.data(gated ? { ...status, check: { passed: pending.length === 0, pending } } : status);
      else renderStatus(out, status);
      if (gated && pending.length > 0) {
        throw new CheckFailedError('the database is not in step with the built-in schema', { details: pending, hint: 'see what `qbank db push --dry-run` would do' });
      }
    });
}

function registerSeed(db: Command, context: CommandContext): void {
  db.command('seed')
    .description('load the deterministic fixture content (running it twice changes nothing)')
    .option('--file <path>', 'a seed file instead of the built-in fixtures/<system>/seed.json')
    .addHelpText('after', examples([['qbank db seed --schema pingtopass', 'push first, then seed']]))
    .action(async (options: { file?: string }, command: Command) => {
      const out = context.output(command);
      const { database, config } = await context.database(command, 'write', out);
      const system = await context.system(database, config);
      const { seedDatabase } = await import('../db/seed.js');
      const { resolve } = await import('node:path');
      const result = await seedDatabase(database, system, {
        fixturePath: options.file ? resolve(context.io.cwd, options.file) : undefined,
        run: await runContext(context, 'db seed', { schema: system, file: options.file }, database.displayUrl),
      });
      if (out.json) return out.data(result);
      out.table(
        ['table', 'fixture rows', 'created', 'updated', 'unchanged'],
        result.tables.map((t) => [t.table, t.rows, t.created, t.updated, t.unchanged]),
      );
      out.success(`seeded ${database.displayUrl} (${system}): ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged`);
    });
}

/** Who runs a writing command and how, for the run entry its change carries. */
async function runContext(context: CommandContext, command: string, args: Record<string, unknown>, target: string): Promise<RunContext> {
  const { resolveActor } = await import('../db/run-record.js');
  return { ...resolveActor({ env: context.io.env, cwd: context.io.cwd }), command, arguments: args, target };
}

function renderPlan(out: Output, plan: SchemaPlan | PushResult): void {
  for (const step of plan.steps) {
    const mark = step.blocked ? out.ce.red('✗') : step.dataLoss ? out.ce.red('!') : out.ce.green('+');
    const loss = step.dataLoss ? out.ce.red(` — DATA LOSS: ${step.dataLoss}`) : '';
    const failure = step.blocked ? out.ce.red(` — WOULD FAIL: ${step.blocked}`) : '';
    out.info(`${mark} ${step.description}${loss}${failure}`);
  }
}

export function renderPush(out: Output, result: PushResult, displayUrl: string): void {
  if (out.json) return out.data(result);
  if (result.upToDate) {
    out.success(`${displayUrl} is up to date with the ${result.system} schema; nothing to do`);
  } else if (result.dryRun) {
    out.info(`plan for ${displayUrl} (${result.system}), ${result.steps.length} step(s), not applied (--dry-run):`);
    renderPlan(out, result);
    for (const statement of result.steps.flatMap((s) => s.statements)) out.line(statement);
  } else {
    renderPlan(out, result);
    out.success(`applied ${result.statementCount} statement(s) to ${displayUrl} in one transaction`);
    if (result.lostConnection) {
      out.notice(`note: the connection was lost while the push was committing; a reconnection found run ${result.runId}: applied`);
    }
  }
  if (result.unmanagedTables.length > 0) {
    out.notice(`tables left alone (not in the ${result.system} schema): ${result.unmanagedTables.join(', ')}`);
  }
  if (result.unmanagedIndexes.length > 0) {
    out.notice(`indexes left alone (not in the ${result.system} schema): ${result.unmanagedIndexes.join(', ')}`);
  }
}

const ROLE_LABEL: Record<TableRole, string> = {
  schema: 'yes',
  qbank: "qbank's own",
  migrations: 'migrations (drizzle)',
  'restore-leftover': 'restore leftover',
  unmanaged: 'no',
};

function renderStatus(out: Output, status: DatabaseStatus): void {
  const { connection } = status;
  out.heading('Connection');
  out.table(
    ['', ''],
    [
      ['url', connection.url],
      ['kind', connection.kind + (connection.serverVersion ? ` (${connection.serverVersion})` : '')],
      ['configured by', connection.source],
      ['credentials', connection.credentials],
      ['system', status.system ? `${status.system} (${status.systemSource})` : 'unknown: no tables of either system (use --schema)'],
    ],
  );
  if (status.migrations) renderMigrations(out, status.migrations);
  if (status.drift) renderDrift(out, status.drift, status.system!);
  out.heading('Tables');
  if (status.tables.length === 0) out.line('  (none)');
  else out.table(['table', 'rows', 'in schema'], status.tables.map((t) => [t.table, t.rows.toLocaleString('en-US'), ROLE_LABEL[t.role]]));
  renderRestoreLeftovers(out, status.restoreLeftovers);
}

function renderMigrations(out: Output, m: NonNullable<DatabaseStatus['migrations']>): void {
  out.heading('Migrations');
  const history = m.tracked || m.inPlace.length > 0 ? '' : ' (no migration history in this database)';
  out.line(`  applied ${m.applied.length}, pending ${m.pending.length}${m.pending.length ? ': ' + m.pending.join(', ') : ''}${history}`);
  if (m.inPlace.length > 0) {
    out.line(`  not recorded but in place (the schema is what they build): ${m.inPlace.join(', ')}; \`qbank db migrate\` records them`);
  }
}

function renderDrift(out: Output, drift: NonNullable<DatabaseStatus['drift']>, system: string): void {
  out.heading('Schema');
  if (drift.upToDate) out.line(`  ${out.c.green('up to date')} with the built-in ${system} schema`);
  else {
    out.line(`  ${out.c.yellow(`${drift.steps.length} difference(s)`)}; \`qbank db push\` would:`);
    for (const step of drift.steps) {
      out.line(`    ${step.description}${step.dataLoss ? out.c.red(' (data loss)') : ''}`);
      if (step.blocked) out.line(`      ${out.c.red('would fail:')} ${step.blocked}`);
    }
  }
  if (drift.unmanagedTables.length) out.line(`  tables not in the schema (left alone): ${drift.unmanagedTables.join(', ')}`);
  if (drift.unmanagedIndexes.length) out.line(`  indexes not in the schema (left alone): ${drift.unmanagedIndexes.join(', ')}`);
}

function renderRestoreLeftovers(out: Output, groups: DatabaseStatus['restoreLeftovers']): void {
  if (groups.length > 0) out.heading('Restore staging tables');
  for (const group of groups) {
    const run = group.runId ? `run ${group.runId}` : 'an earlier qbank version';
    if (group.running) {
      out.line(`  restore in progress (${run}, ${group.lease?.holder ?? 'holder unknown'}): ${group.tables.join(', ')}`);
      continue;
    }
    out.line(`  ${out.c.yellow(`${group.tables.length} staging table(s)`)} left by a restore that did not finish (${run}): ${group.tables.join(', ')}`);
    out.line('  they hold no data of the database itself; `qbank backup clean` drops them (the next restore does too)');
  }
}
