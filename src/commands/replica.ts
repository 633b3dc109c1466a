import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { ReplicaStatusReport } from '../turso/replica-status.js';
import type { Output } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { nonNegativeInteger, positiveInteger, positiveNumber } from './flags.js';

interface StatusOptions {
  db?: string;
  maxLag?: number;
  watch?: number;
  count?: number;
  samples: number;
}

export function registerReplicaCommands(program: Command, context: CommandContext): void {
  const replica = program.command('replica').description("instances of the configured Turso database: health, latency, replication lag; its group's locations");

  replica
    .command('status')
    .description('probe every instance (and an embedded replica file): reachable, latency, replication index, lag, version')
    .option('--db <name>', 'database name in the Turso organization (default: QBANK_DB, else the one whose hostname matches the database URL)')
    .option('--max-lag <frames>', 'exit 6 when a replica is more than this many WAL frames behind the primary', nonNegativeInteger)
    .option('--watch <seconds>', 'probe again every N seconds until interrupted', positiveNumber)
    .option('--count <rounds>', 'with --watch: stop after this many rounds', positiveInteger)
    .option('--samples <n>', 'latency probes per instance; the median is shown', positiveInteger, 3)
    .addHelpText(
      'after',
      examples([
        ['qbank replica status', 'every instance of the database in TURSO_DATABASE_URL'],
        ['qbank replica status --db pingtopass-prod --max-lag 100', 'for monitoring: exit 6 when unreachable or lagging'],
        ['qbank replica status --json', 'the same as JSON'],
        ['qbank replica status --watch 5', 'refresh every 5 seconds'],
      ]) +
        '\nNeeds TURSO_API_TOKEN and TURSO_ORG to list instances (without them only the configured server is probed),\n' +
        'and a database token (TURSO_AUTH_TOKEN_RO or TURSO_AUTH_TOKEN) to read replication indexes.\n' +
        'Exit codes: 0 healthy, 6 an instance is unreachable or lags more than --max-lag.\n',
    )
    .action(async (options: StatusOptions, command: Command) => {
      const out = context.output(command);
      const operations = context.tursoOperations(command, out, { db: options.db });
      const { checkReplicaStatus } = await import('../turso/operations.js');
      const watching = options.watch !== undefined;
      // A signal ends the watch after the round in progress; the pending wait is cancelled at once.
      const interrupted = new AbortController();
      const stop = () => interrupted.abort();
      if (watching) for (const signal of STOP_SIGNALS) process.once(signal, stop);
      try {
        for (let round = 1; ; round++) {
          const report = await checkReplicaStatus(operations, { maxLag: options.maxLag, samples: options.samples });
          if (watching && out.io.stdoutIsTTY && !out.json) out.io.stdout.write('\x1b[2J\x1b[H');
          renderStatus(out, report, { watching });
          context.exitCode = report.ok ? ExitCode.ok : ExitCode.checkFailed;
          if (!watching || interrupted.signal.aborted || (options.count !== undefined && round >= options.count)) break;
          // A plain timer: it keeps the process alive between rounds, with or without a terminal.
          const slept = await sleep(options.watch! * 1000, true, { signal: interrupted.signal }).catch(() => false);
          if (!slept) break;
        }
      } finally {
        if (watching) for (const signal of STOP_SIGNALS) process.off(signal, stop);
      }
    });
  registerLocationCommand(replica, context, 'add');
  registerLocationCommand(replica, context, 'remove');
}

function registerLocationCommand(replica: Command, context: CommandContext, action: 'add' | 'remove'): void {
  const adding = action === 'add';
  replica
    .command(action)
    .description(
      adding
        ? "add a location to the database's group: a replica of every database of the group there (deprecated by Turso for new users)"
        : "remove a location from the database's group: its replicas stop (the primary and its data stay)",
    )
    .argument('<location>', 'location code, e.g. aws-eu-west-1')
    .option('--db <name>', 'database name in the Turso organization (default: QBANK_DB, else the one whose hostname matches the database URL)')
    .addHelpText(
      'after',
      examples(
        adding
          ? [
              ['qbank replica add aws-eu-west-1 --db pingtopass-prod', 'a replica of every database of its group in Ireland'],
              ['qbank replica add aws-eu-west-1 --json', 'for the database of TURSO_DATABASE_URL, as JSON'],
            ]
          : [
              ['qbank replica remove aws-eu-west-1 --db pingtopass-prod', 'stop the replicas in Ireland'],
              ['qbank replica remove aws-eu-west-1 --json', 'as JSON'],
            ],
      ) + '\nNeeds TURSO_API_TOKEN and TURSO_ORG. `qbank replica status` shows the instances afterwards.\n',
    )
    .action(async (location: string, options: { db?: string }, command: Command) => {
      const out = context.output(command);
      const operations = context.tursoOperations(command, out, { db: options.db });
      const { changeReplicaLocation } = await import('../turso/operations.js');
      const change = await changeReplicaLocation(operations, { location, action });
      if (out.json) return out.data(change);
      const where = `group "${change.group}" of database "${change.database}"`;
      if (!change.changed) out.success(adding ? `${location} is already a location of ${where}` : `${location} was not a location of ${where}`);
      else out.success(adding ? `added ${location} to ${where}` : `removed ${location} from ${where}`);
      out.line(`locations: ${change.locations.join(' ')}${change.primary ? ` (primary ${change.primary})` : ''}`);
      if (adding) out.notice(`note: ${change.note}`);
      out.notice(`database found by ${change.foundBy}; \`qbank replica status\` shows its instances`);
    });
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function renderStatus(out: Output, report: ReplicaStatusReport & { foundBy: string | null }, options: { watching: boolean }): void {
  if (out.json) {
    // One document per round when watching, so the output is a stream of JSON lines.
    if (options.watching) out.line(JSON.stringify(report));
    else out.data(report);
  } else {
    const { database } = report;
    const count = report.instances.length;
    const heading = database
      ? `${database.name}${database.group ? ` · group ${database.group}` : ''}${database.primaryRegion ? ` · primary ${database.primaryRegion}` : ''} · ` +
        `${count} instance${count === 1 ? '' : 's'}${count === 1 ? ' (no replicas)' : ''}`
      : `${report.instances[0]?.hostname ?? 'configured server'} · Platform API not configured`;
    out.heading(heading);
    out.table(
      ['instance', 'type', 'region', 'hostname', 'status', 'latency', 'index', 'lag', 'version'],
      report.instances.map((instance) => [
        instance.name,
        instance.type,
        instance.region ?? '',
        instance.hostname,
        instance.reachable ? out.c.green('up') : out.c.red('unreachable'),
        instance.latencyMs === null ? '' : `${instance.latencyMs} ms`,
        instance.replicationIndex ?? '',
        lagText(out, instance.type, instance.lag, instance.reachable, report.maxLag),
        instance.version ?? '',
      ]),
    );
    if (report.embedded) {
      const e = report.embedded;
      out.line(
        `embedded replica ${e.path}: ` +
          (e.localIndex === null
            ? e.note ?? 'no synced frame yet'
            : `at frame ${e.localIndex}` +
              (e.framesBehind === null ? ' (primary index unknown)' : e.framesBehind === 0 ? ', up to date with the primary' : `, ${e.framesBehind} frame(s) behind the primary`)),
      );
    }
    if (report.foundBy) out.notice(`database found by ${report.foundBy}`);
    for (const note of report.notes) out.notice(note);
  }
  for (const problem of report.problems) out.warn(problem);
  if (report.problems.length > 0 && !options.watching) out.error(`${report.problems.length} problem(s): exit code 6`);
}

function lagText(out: Output, type: string, lag: number | null, reachable: boolean, maxLag: number | null): string {
  if (type === 'primary') return reachable ? '-' : '';
  if (lag === null) return reachable ? '?' : '';
  const text = `${lag}`;
  if (maxLag !== null && lag > maxLag) return out.c.red(text);
  return lag === 0 ? out.c.green(text) : out.c.yellow(text);
}
