import type { Command } from 'commander';
import type { SystemName } from '../config.js';
import type { RunContext } from '../db/run-record.js';
import type { Database } from '../db/client.js';
import type { FleetJobResult } from '../turso/fleet.js';
import { QbankError, RefusedError, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import type { PlatformApi } from '../turso/platform-api.js';
import type { CreatedDatabase, DatabaseDetails, DatabaseSummary } from '../turso/provisioning.js';
import type { FilledContent } from '../turso/new-database-content.js';
import type { DestroyLoss, Inspection } from '../turso/inspect.js';
import { type CommandContext, examples } from './context.js';
import { positiveInteger } from './flags.js';

/*
 * Databases of the Turso organization, through the Platform API: db list, show, protect, destroy and
 * create, registered onto the `db` command group.
 */

const DEFAULT_READY_TIMEOUT_SECONDS = 60;

async function platformApi(context: CommandContext, command: Command, out: Output): Promise<PlatformApi> {
  const { resolvePlatformConfig, openPlatformApi } = await import('../turso/platform-config.js');
  const config = resolvePlatformConfig({ env: context.io.env, cwd: context.io.cwd });
  context.io.session?.addSecrets([config.token]);
  return openPlatformApi(config, { debug: context.debugLogger(command, out) });
}

export function registerDbAdminCommands(db: Command, context: CommandContext): void {
  registerList(db, context);
  registerShow(db, context);
  registerProtect(db, context);
  registerDestroy(db, context);
  registerCreate(db, context);
  registerInspect(db, context);
}

/** The Platform API when TURSO_API_TOKEN or TURSO_ORG is set; undefined when neither is. */
async function optionalPlatformApi(context: CommandContext, command: Command, out: Output): Promise<PlatformApi | undefined> {
  const { findPlatformConfig, openPlatformApi } = await import('../turso/platform-config.js');
  const config = findPlatformConfig({ env: context.io.env, cwd: context.io.cwd });
  if (!config) return undefined;
  context.io.session?.addSecrets([config.token]);
  return openPlatformApi(config, { debug: context.debugLogger(command, out) });
}

function registerInspect(db: Command, context: CommandContext): void {
  db.command('inspect')
    .description('usage per instance and top queries (Turso Platform API), then every table: rows, size, index size; pages and free pages')
    .argument('[name]', 'database name in the organization (default: the configured database)')
    .addHelpText(
      'after',
      examples([
        ['qbank db inspect pingtopass-prod', 'usage, top queries and tables of a database of the organization'],
        ['qbank db inspect', 'the configured database (a file: database: its tables only)'],
        ['qbank db inspect pingtopass-prod --json', 'as JSON'],
      ]),
    )
    .action(async (name: string | undefined, _options: unknown, command: Command) => {
      const out = context.output(command);
      const service = await import('../turso/inspect.js');
      let inspection: Inspection;
      if (name !== undefined) {
        const api = await platformApi(context, command, out);
        inspection = await service.inspectNamedDatabase(api, name, (token) => context.io.session?.addSecrets([token]));
      } else {
        const { database, config } = await context.database(command, 'read', out);
        inspection = await service.inspectConfiguredDatabase(database, config, await optionalPlatformApi(context, command, out));
      }
      if (out.json) return out.data(inspection);
      renderInspection(out, inspection);
    });
}

function size(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function renderInspection(out: Output, inspection: Inspection): void {
  const { platform, storage } = inspection;
  if (platform) {
    out.heading(`${platform.name}${platform.group ? ` · group ${platform.group}` : ''} · usage this month`);
    const rows = platform.usage.instances.map((i) => [i.name, i.type, i.rowsRead, i.rowsWritten, size(i.storageBytes), size(i.bytesSynced)]);
    const { total } = platform.usage;
    out.table(['instance', 'type', 'rows read', 'rows written', 'storage', 'synced'], [...rows, ['total', '', total.rowsRead, total.rowsWritten, size(total.storageBytes), size(total.bytesSynced)]]);
    out.heading('Top queries');
    if (platform.topQueries.length === 0) out.line('  (none reported)');
    else out.table(['query', 'rows read', 'rows written'], platform.topQueries.map((q) => [q.query, q.rowsRead, q.rowsWritten]));
  }
  if (storage) {
    out.heading(`Tables of ${inspection.url}`);
    out.table(['table', 'rows', 'size', 'indexes'], storage.tables.map((t) => [t.table, t.rows.toLocaleString('en-US'), size(t.bytes), size(t.indexBytes)]));
    out.line(`${storage.pageCount} page(s) of ${storage.pageSize} B (${size(storage.totalBytes)}), ${storage.freePages} free`);
    if (storage.sizesFrom === 'page counts') out.notice('the server has no dbstat table: sizes per table are not known, only the page counts');
  }
  for (const note of inspection.notes) out.notice(note);
}

function registerList(db: Command, context: CommandContext): void {
  db.command('list')
    .description('the databases of the Turso organization (TURSO_API_TOKEN, TURSO_ORG)')
    .option('--group <name>', 'only the databases of this group')
    .addHelpText('after', examples([['qbank db list', 'every database of the organization'], ['qbank db list --group default --json', 'one group, as JSON']]))
    .action(async (options: { group?: string }, command: Command) => {
      const out = context.output(command);
      const api = await platformApi(context, command, out);
      const { listDatabases } = await import('../turso/provisioning.js');
      const databases = await listDatabases(api, { group: options.group });
      if (out.json) return out.data({ org: api.org, group: options.group ?? null, databases });
      out.table(
        ['name', 'group', 'primary', 'regions', 'protected', 'url'],
        databases.map((d) => [d.name, d.group ?? '', d.primaryRegion ?? '', d.regions.join(' '), d.deleteProtection ? 'yes' : 'no', d.url]),
      );
      out.notice(`${databases.length} database(s) in organization "${api.org}"${options.group ? `, group "${options.group}"` : ''}`);
    });
}

function registerShow(db: Command, context: CommandContext): void {
  db.command('show')
    .description('one database: URL, hostname, group, locations, instances, delete protection, blocked reads/writes')
    .argument('<name>', 'database name in the organization')
    .addHelpText('after', examples([['qbank db show pingtopass-prod', 'as a table'], ['qbank db show pingtopass-prod --json', 'as JSON']]))
    .action(async (name: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const api = await platformApi(context, command, out);
      const { showDatabase } = await import('../turso/provisioning.js');
      const details = await showDatabase(api, name);
      if (out.json) return out.data(details);
      renderDetails(out, details);
    });
}

function renderDetails(out: Output, d: DatabaseDetails): void {
  out.heading(d.name);
  out.table(
    ['field', 'value'],
    [
      ['url', d.url],
      ['hostname', d.hostname],
      ['id', d.id],
      ['group', d.group ?? ''],
      ['primary region', d.primaryRegion ?? ''],
      ['locations', d.regions.join(' ')],
      ['size', d.sizeBytes === null ? '' : size(d.sizeBytes)],
      ['size limit', d.sizeLimit ?? 'none'],
      ['delete protection', d.deleteProtection ? 'on' : 'off'],
      ['block reads', d.blockReads ? 'yes' : 'no'],
      ['block writes', d.blockWrites ? 'yes' : 'no'],
      ['parent', d.parent ? `${d.parent.name ?? '?'} at ${d.parent.branchedAt ?? '?'}` : ''],
    ],
  );
  out.line();
  out.table(
    ['instance', 'type', 'region', 'hostname'],
    d.instances.map((i) => [i.name, i.type, i.region, i.hostname]),
  );
}

function registerProtect(db: Command, context: CommandContext): void {
  db.command('protect')
    .description('switch delete protection of a database on (or off with --off)')
    .argument('<name>', 'database name in the organization')
    .option('--off', 'switch delete protection off')
    .addHelpText('after', examples([['qbank db protect pingtopass-prod', 'refuse every delete'], ['qbank db protect pingtopass-dev --off', 'allow `qbank db destroy` again']]))
    .action(async (name: string, options: { off?: boolean }, command: Command) => {
      const out = context.output(command);
      const api = await platformApi(context, command, out);
      const { setDeleteProtection } = await import('../turso/provisioning.js');
      const result = await setDeleteProtection(api, name, !options.off);
      if (out.json) return out.data(result);
      const state = result.deleteProtection ? 'on' : 'off';
      out.success(result.changed ? `delete protection of "${name}" is now ${state}` : `delete protection of "${name}" was already ${state}`);
    });
}

function registerDestroy(db: Command, context: CommandContext): void {
  db.command('destroy')
    .description('delete a database of the organization and everything in it (asks to type its name, or --yes)')
    .argument('<name>', 'database name in the organization')
    .option('-y, --yes', 'destroy without a prompt (needed without a terminal)')
    .addHelpText(
      'after',
      examples([
        ['qbank db destroy pingtopass-dev', 'shows what will be lost, then asks to type the name'],
        ['qbank db destroy pingtopass-dev --yes', 'in a script'],
      ]) + '\nRefused (exit 5) while delete protection is on: `qbank db protect NAME --off` first.\n',
    )
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      const out = context.output(command);
      const api = await platformApi(context, command, out);
      const { showDatabase, destroyDatabase } = await import('../turso/provisioning.js');
      const details = await showDatabase(api, name);
      if (details.deleteProtection) {
        throw new RefusedError(`database "${name}" has delete protection on, so it was not destroyed`, {
          hint: `switch it off first with \`qbank db protect ${name} --off\` if the database really must go`,
        });
      }
      if (!options.yes && (!context.io.stdinIsTTY || !context.io.stderrIsTTY)) {
        throw new RefusedError(`destroying database "${details.name}" needs a confirmation, and there is no terminal to ask at`, {
          hint: 'pass --yes to destroy it without a prompt',
        });
      }
      const { whatDestroyLoses } = await import('../turso/inspect.js');
      const lost = await whatDestroyLoses(api, name, (token) => context.io.session?.addSecrets([token]));
      if (!options.yes) await confirmByName(context, out, details, lost);
      await destroyDatabase(api, name);
      if (out.json) return out.data({ destroyed: name, url: details.url, lost });
      out.success(`database "${name}" destroyed${lost ? ` (${lossText(lost)})` : ''}`);
    });
}

function lossText(lost: DestroyLoss): string {
  const parts = [
    lost.tables === null ? null : `${lost.tables} table(s), ${lost.rows!.toLocaleString('en-US')} row(s)`,
    lost.storageBytes === null ? null : `${size(lost.storageBytes)} stored`,
  ];
  return parts.filter(Boolean).join(', ');
}

async function confirmByName(context: CommandContext, out: Output, details: DatabaseDetails, lost: DestroyLoss | null): Promise<void> {
  out.warn(
    `this deletes database "${details.name}" (${details.url}, group ${details.group ?? '?'}, ${details.instances.length} instance(s)${lost ? `; ${lossText(lost)}` : ''}) and every row in it; ` +
      'a copy survives only in a backup or a fork made before',
  );
  const { text, isCancel } = await import('@clack/prompts');
  const answer = await text({ message: `Type the database name (${details.name}) to destroy it`, input: context.io.stdin, output: context.io.stderr });
  if (isCancel(answer) || answer !== details.name) {
    throw new RefusedError(`the name typed did not match "${details.name}": nothing was destroyed`);
  }
}

interface CreateOptions {
  group: string;
  location?: string;
  fromDb?: string;
  at?: string;
  fromDump?: string;
  sizeLimit?: string;
  wait: number;
  envFile?: string;
  seed?: boolean;
}

function registerCreate(db: Command, context: CommandContext): void {
  db.command('create')
    .description('create a database in the organization (empty, a copy of one at a point in time, or from a dump) and wait until it answers')
    .argument('<name>', 'name of the new database: lowercase letters, digits and dashes')
    .option('--group <name>', 'group of the new database', 'default')
    .option('--location <code>', "the group's location, e.g. aws-eu-west-1: the group is created there when it does not exist")
    .option('--from-db <source>', 'copy of this database of the organization')
    .option('--at <time>', 'with --from-db: the copy as it was at this time (ISO 8601, e.g. 2026-12-06T21:30:00Z)')
    .option('--from-dump <file>', 'restore this qbank or sqlite3 dump into the new database (verified before anything is created)')
    .option('--seed', 'load the fixtures after creating (with --schema, after the push)')
    .option('--size-limit <size>', 'maximum size, e.g. 256mb or 1gb')
    .option('--env-file <file>', 'mint a read-write and a read-only token and write TURSO_DATABASE_URL, TURSO_AUTH_TOKEN, TURSO_DATABASE_URL_RO, TURSO_AUTH_TOKEN_RO (mode 0600, other lines kept)')
    .option('--wait <seconds>', 'how long to wait for the new database to answer', positiveInteger, DEFAULT_READY_TIMEOUT_SECONDS)
    .addHelpText(
      'after',
      examples([
        ['qbank db create pingtopass-dev --group default', 'a new empty database'],
        ['qbank db create pingtopass-dev --schema pingtopass --seed --env-file .env', 'with the schema and the fixtures, and its tokens in .env'],
        ['qbank db create eu-dev --group eu --location aws-eu-west-1', 'in a new group in Ireland'],
        ['qbank db create staging --from-dump backup.sql', 'from a qbank or sqlite3 dump'],
        ['qbank db create fix --from-db pingtopass-prod --at 2026-12-06T21:30:00Z', 'undo: a fork of prod as it was before a bad change'],
        ['qbank db create fix --from-db pingtopass-prod --json', 'a copy of prod now, as JSON'],
      ]) + '\nWith --schema SYSTEM (a global option) the schema is pushed after creating.\n',
    )
    .action((name: string, options: CreateOptions, command: Command) => createAction(context, command, name, options));
}

async function createAction(context: CommandContext, command: Command, name: string, options: CreateOptions): Promise<void> {
  if (options.at !== undefined && !options.fromDb) throw new UsageError('--at goes with --from-db: it is the time of the copy of that database');
  if (options.fromDump !== undefined && options.fromDb) throw new UsageError('--from-dump and --from-db are two ways to fill the database: give one');
  const at = options.at === undefined ? undefined : parseTime(options.at);
  const schema = context.globals(command).schema as SystemName | undefined;
  if (options.seed && !schema && !options.fromDb && options.fromDump === undefined) {
    throw new UsageError('--seed on a new empty database needs the system: add --schema pingtopass or --schema open-interview (the schema is pushed first)');
  }
  const out = context.output(command);
  const api = await platformApi(context, command, out);
  const { createDatabase, writeDatabaseEnvFile } = await import('../turso/provisioning.js');
  const contentService = await import('../turso/new-database-content.js');
  const { resolve } = await import('node:path');
  const envFile = options.envFile === undefined ? undefined : resolve(context.io.cwd, options.envFile);
  const dumpPath = options.fromDump === undefined ? undefined : resolve(context.io.cwd, options.fromDump);
  // Checked before the database is created, so a file that cannot be written or a broken dump stops the run early.
  if (envFile) await (await import('../turso/env-file.js')).checkEnvFileWritable(envFile, options.envFile);
  if (dumpPath) await contentService.checkDumpBeforeCreate(dumpPath, options.fromDump!);
  const created = await createDatabase(api, {
    name,
    group: options.group,
    location: options.location,
    fromDb: options.fromDb,
    at,
    sizeLimit: options.sizeLimit,
    readyTimeoutMs: options.wait * 1000,
  });
  const addSecret = (secret: string) => context.io.session?.addSecrets([secret]);
  const content = { dumpPath, schema, seed: options.seed };
  const filled = contentService.wantsContent(content) ? await fillContent(context, api, created, content, addSecret) : null;
  const written = envFile ? await writeDatabaseEnvFile(api, created, envFile, addSecret) : undefined;
  if (out.json) return out.data({ ...created, envFile: written ?? null, content: filled });
  renderCreated(out, created, options, filled);
  if (written) out.success(`wrote ${written.keys.join(', ')} to ${options.envFile} (mode 0600)`);
}

async function fillContent(
  context: CommandContext,
  api: PlatformApi,
  created: DatabaseSummary,
  content: { dumpPath?: string; schema?: SystemName; seed?: boolean },
  addSecret: (secret: string) => void,
): Promise<FilledContent> {
  const [{ fillNewDatabase }, { resolveActor }, { hostname }, { VERSION }] = await Promise.all([
    import('../turso/new-database-content.js'),
    import('../db/run-record.js'),
    import('node:os'),
    import('../version.js'),
  ]);
  const run = { ...resolveActor({ env: context.io.env, cwd: context.io.cwd }) };
  try {
    return await fillNewDatabase(api, created, { ...content, run, holder: `qbank ${VERSION} on ${hostname()} (pid ${process.pid})` }, addSecret);
  } catch (error) {
    if (error instanceof QbankError) {
      throw new QbankError(error.message, {
        exitCode: error.exitCode,
        details: error.details,
        hint: `${error.hint ? `${error.hint}; ` : ''}it exists now: fill it with \`qbank backup restore\`, \`qbank db push\` or \`qbank db seed\`, or remove it with \`qbank db destroy ${created.name}\``,
        cause: error,
      });
    }
    throw error;
  }
}

function renderCreated(out: Output, created: CreatedDatabase, options: CreateOptions, filled: FilledContent | null): void {
  const copy = options.fromDb ? ` as a copy of "${options.fromDb}"${options.at ? ` at ${options.at}` : ''}` : '';
  const group = `${created.groupCreated ? 'new ' : ''}group "${created.group ?? options.group}"${created.groupCreated && options.location ? ` (${options.location})` : ''}`;
  out.success(`created database "${created.name}" in ${group}${copy}; it answered after ${created.readyAfterMs} ms`);
  if (filled?.restore) out.success(`restored ${filled.restore.rows.toLocaleString('en-US')} rows in ${filled.restore.tables} table(s) from ${options.fromDump}`);
  if (filled?.push) out.success(filled.push.upToDate ? `the ${filled.push.system} schema was already in place` : `pushed the ${filled.push.system} schema (${filled.push.statements} statement(s))`);
  if (filled?.seed) out.success(`seeded (${filled.seed.system}): ${filled.seed.created} created, ${filled.seed.updated} updated, ${filled.seed.unchanged} unchanged`);
  out.line(created.url);
}

function parseTime(text: string, flag = '--at'): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag}: "${text}" is not a time`, { hint: 'give an ISO 8601 time such as 2026-12-06T21:30:00Z' });
  }
  return date;
}

// ---------------------------------------------------------------------------------------------
// fleets: db push --all, db status --all

export interface FleetFlags {
  group?: string;
  concurrency?: number;
  dryRun?: boolean;
  allowDataLoss?: boolean;
  yes?: boolean;
}

/** `db push --all`: the built-in schema pushed to every database of the organization or group. */
export async function pushFleet(context: CommandContext, command: Command, flags: FleetFlags): Promise<void> {
  const { pushOne } = await import('../turso/fleet-jobs.js');
  await runWritingFleet(context, command, flags, { name: 'db push --all', done: 'pushed' }, (database, explicit, run) =>
    pushOne(database, { explicit, dryRun: Boolean(flags.dryRun), allowDataLoss: Boolean(flags.allowDataLoss), dataLossConsent: Boolean(flags.yes), run }),
  );
}

/** `db status --all`: drift and pending migrations of every database, read only. */
export async function statusFleet(context: CommandContext, command: Command, flags: FleetFlags): Promise<void> {
  const out = context.output(command);
  const api = await platformApi(context, command, out);
  const { runOnFleet, DEFAULT_FLEET_CONCURRENCY } = await import('../turso/fleet.js');
  const { databaseStatus, pendingChanges } = await import('../db/status.js');
  const explicit = context.globals(command).schema as SystemName | undefined;
  const entries = await runOnFleet(api, {
    group: flags.group,
    concurrency: flags.concurrency ?? DEFAULT_FLEET_CONCURRENCY,
    readOnly: true,
    onEntry: (entry) => renderFleetLine(out, entry),
    job: async (database, target) => {
      const config = { url: target.url, displayUrl: database.displayUrl, kind: 'remote' as const, source: 'Platform API', readOnlyCredentials: true, notices: [] };
      const status = await databaseStatus(database, config as Parameters<typeof databaseStatus>[1], explicit);
      const pending = pendingChanges(status);
      const result = { status, pending };
      if (pending.length === 0) return { outcome: 'ok', message: `in step with the ${status.system ?? 'built-in'} schema`, result };
      return { outcome: 'pending', message: `${pending.length} change(s) pending: ${pending[0]}${pending.length > 1 ? ', …' : ''}`, result };
    },
  });
  finishFleet(context, out, 'db status --all', entries, flags);
}

/** `db migrate --all`: the committed migrations applied to every database (`--dry-run`: listed, read only). */
export async function migrateFleet(context: CommandContext, command: Command, flags: FleetFlags): Promise<void> {
  const { migrateOne } = await import('../turso/fleet-jobs.js');
  await runWritingFleet(context, command, flags, { name: 'db migrate --all', done: 'migrated' }, (database, explicit, run) =>
    migrateOne(database, { explicit, dryRun: Boolean(flags.dryRun), run }),
  );
}

/** A fleet job that may write: read only under `--dry-run`, refused where writes are blocked, each change a run entry. */
async function runWritingFleet(
  context: CommandContext,
  command: Command,
  flags: FleetFlags,
  verb: { name: string; done: string },
  job: (database: Database, explicit: SystemName | undefined, run: (system: SystemName) => RunContext) => Promise<FleetJobResult<unknown>>,
): Promise<void> {
  const out = context.output(command);
  const api = await platformApi(context, command, out);
  const { runOnFleet, DEFAULT_FLEET_CONCURRENCY } = await import('../turso/fleet.js');
  const explicit = context.globals(command).schema as SystemName | undefined;
  const actor = await lazyActor(context);
  const entries = await runOnFleet(api, {
    group: flags.group,
    concurrency: flags.concurrency ?? DEFAULT_FLEET_CONCURRENCY,
    readOnly: Boolean(flags.dryRun),
    refuse: (target) => (target.blockWrites && !flags.dryRun ? `writes are blocked on this database (block_writes), so nothing was ${verb.done}` : undefined),
    onEntry: (entry) => renderFleetLine(out, entry),
    job: (database) =>
      job(database, explicit, (system) => actor.run({ command: verb.name, arguments: { schema: system, group: flags.group ?? null }, target: database.displayUrl })),
  });
  finishFleet(context, out, verb.name, entries, flags);
}

/**
 * Who runs a fleet job, for the run entries of the databases it changes. Resolved on first use (it
 * may ask git), so a fleet where nothing changes never pays for it.
 */
async function lazyActor(context: CommandContext): Promise<{ run: (fields: Omit<RunContext, 'actor' | 'ci'>) => RunContext }> {
  const { resolveActor } = await import('../db/run-record.js');
  let resolved: ReturnType<typeof resolveActor> | undefined;
  const actor = () => (resolved ??= resolveActor({ env: context.io.env, cwd: context.io.cwd }));
  return {
    run: (fields) => ({
      ...fields,
      get actor() {
        return actor().actor;
      },
      get ci() {
        return actor().ci;
      },
    }),
  };
}

function renderFleetLine(out: Output, entry: import('../turso/fleet.js').FleetEntry<unknown>): void {
  if (out.json) return;
  const mark = entry.outcome === 'refused' || entry.outcome === 'failed' ? out.ce.red('✗') : entry.outcome === 'pending' ? out.ce.yellow('!') : out.ce.green('✔');
  out.info(`${mark} ${entry.name}: ${entry.outcome === 'refused' ? 'refused: ' : entry.outcome === 'failed' ? 'failed: ' : ''}${entry.message}`);
  for (const detail of entry.details ?? []) out.info(`    ${detail}`);
}

function finishFleet(
  context: CommandContext,
  out: Output,
  what: string,
  entries: Array<import('../turso/fleet.js').FleetEntry<unknown>>,
  flags: FleetFlags,
): void {
  const counts = {
    databases: entries.length,
    ok: entries.filter((e) => e.outcome === 'ok').length,
    changed: entries.filter((e) => e.outcome === 'changed').length,
    pending: entries.filter((e) => e.outcome === 'pending').length,
    refused: entries.filter((e) => e.outcome === 'refused').length,
    failed: entries.filter((e) => e.outcome === 'failed').length,
  };
  const problems = entries.filter((e) => e.outcome === 'refused' || e.outcome === 'failed');
  if (out.json) {
    out.data({ command: what, group: flags.group ?? null, dryRun: Boolean(flags.dryRun), summary: counts, databases: entries });
  } else {
    out.table(['databases', 'up to date', 'changed', 'pending', 'refused', 'failed'], [[counts.databases, counts.ok, counts.changed, counts.pending, counts.refused, counts.failed]]);
  }
  if (problems.length > 0) {
    out.error(`${problems.length} of ${entries.length} database(s) refused or failed: ${problems.map((e) => e.name).join(', ')}; exit code 6`);
    context.exitCode = 6;
  }
}

// ---------------------------------------------------------------------------------------------
// org audit-log

/** `qbank org audit-log`: who created, deleted, protected databases and minted tokens. */
export function registerOrgCommands(program: Command, context: CommandContext): void {
  const org = program.command('org').description('the Turso organization (TURSO_API_TOKEN, TURSO_ORG)');
  org
    .command('audit-log')
    .description("the organization's audit log, newest first: who created or deleted databases, switched protection, minted tokens")
    .option('--since <time>', 'only entries at or after this time (ISO 8601)')
    .addHelpText('after', examples([['qbank org audit-log', 'every entry'], ['qbank org audit-log --since 2026-12-06T00:00:00Z --json', 'since a time, as JSON']]))
    .action(async (options: { since?: string }, command: Command) => {
      const since = options.since === undefined ? undefined : parseTime(options.since, '--since');
      const out = context.output(command);
      const api = await platformApi(context, command, out);
      const { describePlatformError } = await import('../turso/platform-errors.js');
      const recent = (entry: { created_at: string }) => !since || Date.parse(entry.created_at) >= since.getTime();
      const entries = await api
        .listAuditLogs({ keepGoing: (page) => page.every(recent) })
        .then((all) => all.filter(recent))
        .catch((error: unknown) => {
          throw describePlatformError(error);
        });
      if (out.json) return out.data({ org: api.org, since: since?.toISOString() ?? null, entries });
      out.table(
        ['time', 'code', 'author', 'origin', 'data'],
        entries.map((e) => [e.created_at, e.code, e.author ?? '', e.origin ?? '', e.data === undefined ? '' : JSON.stringify(e.data)]),
      );
      out.notice(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} in the audit log of "${api.org}"${since ? ` since ${since.toISOString()}` : ''}`);
    });
}
