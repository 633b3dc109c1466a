// Raw SQL here: qbank's own table is not part of either system's schema, and its statements join other commands' transactions.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { InStatement } from '@libsql/client';
import { ConnectionError } from '../errors.js';
import { VERSION } from '../version.js';
import type { Database } from './client.js';

/**
 * qbank's own record of the runs that changed a database, kept in the database itself as drizzle
 * keeps `__drizzle_migrations`. A writing command puts `runRecordStatements(entry)` inside the
 * transaction (or batch) of its change, so the entry commits with the change or not at all: after a
 * dropped connection, finding the entry tells exactly whether the change committed.
 *
 * Tables named `__qbank_*` belong to qbank: schema sync never reports them as drift.
 */
export const AUDIT_TABLE = '__qbank_audit';

/** Prefix of every table qbank owns in a database. */
export const QBANK_TABLE_PREFIX = '__qbank_';

export function isQbankTable(name: string): boolean {
  return name.startsWith(QBANK_TABLE_PREFIX);
}

export interface RunFile {
  /** The name as given on the command line (no directory a reader does not need). */
  name: string;
  size: number;
  sha256: string;
}

export interface RunEntry {
  /** `newRunId()`: sortable by time, unique across machines. */
  id: string;
  /** ISO 8601, UTC. */
  startedAt: string;
  /** When the change was handed to the database to commit; ISO 8601, UTC. */
  finishedAt: string | null;
  actor: string;
  /** CI identity where the run came from a pipeline (e.g. GITHUB_ACTOR, GITHUB_RUN_ID). */
  ci: Record<string, string> | null;
  /** "db push", "import questions", … */
  command: string;
  /** The command's options and arguments, never a secret (see `argumentsWithoutSecrets`). */
  arguments: Record<string, unknown>;
  /** The database as displayed: no credentials. */
  target: string;
  system: string | null;
  /** What the run did, e.g. `{ created: 3, updated: 1 }` or `{ statements: 12 }`. */
  counts: Record<string, number> | null;
  file: RunFile | null;
  qbankVersion: string;
}

const CREATE_AUDIT_TABLE = `CREATE TABLE IF NOT EXISTS "${AUDIT_TABLE}" (
\t"id" text PRIMARY KEY NOT NULL,
\t"started_at" text NOT NULL,
\t"finished_at" text,
\t"actor" text NOT NULL,
\t"ci" text,
\t"command" text NOT NULL,
\t"arguments" text DEFAULT '{}' NOT NULL,
\t"target" text NOT NULL,
\t"system" text,
\t"counts" text,
\t"file" text,
\t"qbank_version" text NOT NULL
)`;

const CREATE_AUDIT_INDEX = `CREATE INDEX IF NOT EXISTS "${AUDIT_TABLE}_started_at" ON "${AUDIT_TABLE}" ("started_at")`;

/** The statements that create the table when missing; usable on their own (e.g. before a read). */
export const AUDIT_TABLE_STATEMENTS: readonly string[] = [CREATE_AUDIT_TABLE, CREATE_AUDIT_INDEX];

/** A run id: the UTC time to the millisecond, then 8 random hex digits (`20261206-221503-123-9f3a0c1b`). */
export function newRunId(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-12-06T22:15:03.123Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}`;
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Statements to put inside the write transaction or batch of the change the entry describes. */
export function runRecordStatements(entry: RunEntry): InStatement[] {
  return [
    CREATE_AUDIT_TABLE,
    CREATE_AUDIT_INDEX,
    {
      sql: `INSERT INTO "${AUDIT_TABLE}" ("id", "started_at", "finished_at", "actor", "ci", "command", "arguments", "target", "system", "counts", "file", "qbank_version")
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [
        entry.id,
        entry.startedAt,
        entry.finishedAt,
        entry.actor,
        jsonOrNull(entry.ci),
        entry.command,
        JSON.stringify(argumentsWithoutSecrets(entry.arguments)),
        entry.target,
        entry.system,
        jsonOrNull(entry.counts),
        jsonOrNull(entry.file),
        entry.qbankVersion,
      ],
    },
  ];
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** What a command knows about its run before the service fills in times and counts. */
export interface RunContext {
  id?: string;
  actor: string;
  ci?: Record<string, string> | null;
  command: string;
  arguments?: Record<string, unknown>;
  target: string;
  startedAt?: Date;
}

/** Completes a command's run context into an entry; `finishedAt` is now. */
export function runEntry(
  context: RunContext,
  facts: { system?: string | null; counts?: Record<string, number> | null; file?: RunFile | null; now?: Date } = {},
): RunEntry {
  const now = facts.now ?? new Date();
  return {
    id: context.id ?? newRunId(context.startedAt ?? now),
    startedAt: (context.startedAt ?? now).toISOString(),
    finishedAt: now.toISOString(),
    actor: context.actor,
    ci: context.ci ?? null,
    command: context.command,
    arguments: context.arguments ?? {},
    target: context.target,
    system: facts.system ?? null,
    counts: facts.counts ?? null,
    file: facts.file ?? null,
    qbankVersion: VERSION,
  };
}

const SECRET_KEY = /token|secret|password|passwd|apikey|api_key|credential|authorization/i;

/**
 * Removes every option whose name says it holds a secret, and any credential written into a URL
 * (`?authToken=…`, `user:password@`), so an entry can be printed and shared.
 */
export function argumentsWithoutSecrets(args: Record<string, unknown>): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || SECRET_KEY.test(key)) continue;
    clean[key] = typeof value === 'string' ? stripUrlCredentials(value) : value;
  }
  return clean;
}

function stripUrlCredentials(text: string): string {
  return text.replace(/([?&](?:authToken|auth_token|token|jwt)=)[^&\s]*/gi, '$1***').replace(/(\w+:\/\/)[^/@\s]+@/g, '$1');
}

/** CI variables that identify who or what ran a pipeline, where the CI provides them. */
const CI_IDENTITY_VARIABLES = [
  'GITHUB_ACTOR',
  'GITHUB_RUN_ID',
  'GITHUB_REPOSITORY',
  'GITHUB_WORKFLOW',
  'GITLAB_USER_LOGIN',
  'CI_PIPELINE_ID',
  'CI_JOB_ID',
  'BUILDKITE_BUILD_CREATOR',
  'BUILDKITE_BUILD_ID',
  'CIRCLE_USERNAME',
  'CIRCLE_BUILD_NUM',
];

export interface ActorOptions {
  /** `--actor` / `--reviewer`: wins over everything. */
  explicit?: string;
  env: Record<string, string | undefined>;
  cwd?: string;
  /** The `git config user.email` lookup; tests pass their own. */
  gitEmail?: (cwd?: string) => string | undefined;
}

/** Who runs this: the explicit name, else `git config user.email`, else the OS user; plus CI identity. */
export function resolveActor(options: ActorOptions): { actor: string; ci: Record<string, string> | null } {
  const ciEntries = CI_IDENTITY_VARIABLES.filter((name) => options.env[name]).map((name) => [name, options.env[name]!] as const);
  const ci = ciEntries.length > 0 ? Object.fromEntries(ciEntries) : null;
  const explicit = options.explicit?.trim();
  if (explicit) return { actor: explicit, ci };
  const email = (options.gitEmail ?? gitUserEmail)(options.cwd);
  if (email) return { actor: email, ci };
  return { actor: osUser(options.env), ci };
}

function gitUserEmail(cwd?: string): string | undefined {
  try {
    const email = execFileSync('git', ['config', 'user.email'], { cwd, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
    return email || undefined;
  } catch {
    return undefined;
  }
}

function osUser(env: Record<string, string | undefined>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? 'unknown';
  }
}

/** A `__qbank_audit` row as a RunEntry (its JSON columns parsed). */
export function entryFromRow(row: Record<string, unknown>): RunEntry {
  const parse = <T>(value: unknown): T | null => (value === null || value === undefined ? null : (JSON.parse(String(value)) as T));
  return {
    id: String(row.id),
    startedAt: String(row.started_at),
    finishedAt: row.finished_at === null ? null : String(row.finished_at),
    actor: String(row.actor),
    ci: parse(row.ci),
    command: String(row.command),
    arguments: parse(row.arguments) ?? {},
    target: String(row.target),
    system: row.system === null ? null : String(row.system),
    counts: parse(row.counts),
    file: parse(row.file),
    qbankVersion: String(row.qbank_version),
  };
}

const FIND_RUN_SQL = `SELECT * FROM "${AUDIT_TABLE}" WHERE "id" = ?`;

function isMissingAuditTable(error: unknown): boolean {
  return new RegExp(`no such table:\\s*"?${AUDIT_TABLE}`).test(String((error as Error)?.message ?? ''));
}

/** The run's entry, or undefined when no run with that id committed (or the table does not exist yet). */
export async function findRun(database: Database, runId: string): Promise<RunEntry | undefined> {
  try {
    const result = await database.client.execute({ sql: FIND_RUN_SQL, args: [runId] });
    return result.rows[0] ? entryFromRow(result.rows[0] as Record<string, unknown>) : undefined;
  } catch (error) {
    if (isMissingAuditTable(error)) return undefined;
    throw error;
  }
}

export type RunOutcome = 'applied' | 'not-applied' | 'unknown';

export interface ConfirmOptions {
  /** A connection to the same database; closed afterwards. May reuse the old client (HTTP clients survive a dropped request). */
  reopen: () => Database | Promise<Database>;
  runId: string;
  /** How long the whole confirmation may take; default 5 s. */
  timeoutMs?: number;
}

/**
 * After a write whose answer was lost, tells whether it committed: one reconnection, then the run's
 * entry is looked up inside a write transaction. Taking the write lock first means a transaction
 * of ours still being executed by the server has finished (committed or rolled back) before we
 * look, so "not-applied" is not a race with its commit. A read-only connection, a failure or the
 * timeout gives "unknown".
 */
export async function confirmAfterLostConnection(options: ConfirmOptions): Promise<RunOutcome> {
  const timeoutMs = options.timeoutMs ?? 5000;
  let database: Database | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'unknown'>((resolve) => {
    timer = setTimeout(() => resolve('unknown'), timeoutMs);
  });
  const lookUp = async (): Promise<RunOutcome> => {
    database = await options.reopen();
    const transaction = await database.client.transaction('write');
    try {
      const result = await transaction.execute({ sql: FIND_RUN_SQL, args: [options.runId] });
      return result.rows.length > 0 ? 'applied' : 'not-applied';
    } catch (error) {
      return isMissingAuditTable(error) ? 'not-applied' : 'unknown';
    } finally {
      transaction.close();
    }
  };
  const closeReopened = () => {
    try {
      database?.close();
    } catch {
      // closing a client whose server is gone can throw; the answer is decided either way
    }
  };
  // closed once the look-up settles, even when the timeout answered first
  const lookup = lookUp()
    .catch((): RunOutcome => 'unknown')
    .finally(closeReopened);
  try {
    return await Promise.race([lookup, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A write whose answer was lost, settled as applied by a reconnection. */
export interface LostConnection {
  outcome: 'applied';
  /** What the client saw when the answer was lost. */
  cause: string;
}

export interface SettleOptions {
  database: Database;
  runId: string;
  /** Names the write in messages: "the push", "the seed". */
  what: string;
  /** A fresh connection to the same database; without it the old client is asked again (HTTP clients survive a dropped request). */
  reopen?: () => Database | Promise<Database>;
  timeoutMs?: number;
}

/**
 * Called with the error of a write that carried the run's entry. An answer (any error but a lost
 * connection, or a 4xx) is rethrown as it is; a lost answer is settled by one reconnection:
 * applied returns the facts, so the command goes on and says so; not applied and unknown are
 * connection errors that say which.
 */
export async function settleLostWrite(error: unknown, options: SettleOptions): Promise<LostConnection> {
  const { database, runId, what } = options;
  if (!(error instanceof ConnectionError) || database.kind !== 'remote' || wasAnsweredWithRefusal(error)) throw error;
  const sameClient = () => ({ ...database, close: () => {} });
  const outcome = await confirmAfterLostConnection({ reopen: options.reopen ?? sameClient, runId, timeoutMs: options.timeoutMs });
  const where = database.displayUrl;
  if (outcome === 'applied') return { outcome, cause: error.message };
  if (outcome === 'not-applied') {
    throw new ConnectionError(`the connection to ${where} was lost before ${what} was answered; a reconnection found no run ${runId}: ${what} was not applied, nothing was changed`, {
      hint: `${error.message}; run it again when the server answers`,
      cause: error,
    });
  }
  throw new ConnectionError(`the connection to ${where} was lost before ${what} was answered, and a reconnection could not tell whether it was applied: unknown, check with \`qbank db status\``, {
    hint: `${error.message}; if it committed, it is recorded as run ${runId} in ${AUDIT_TABLE}`,
    cause: error,
  });
}

/** An HTTP 4xx (a rejected token, say) is an answer: the server refused, there is nothing to settle. */
function wasAnsweredWithRefusal(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const status = (current as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return true;
    if (/HTTP status 4\d\d/.test(String((current as Error).message ?? ''))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
