import { homedir, tmpdir } from 'node:os';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { ExitCode, QbankError, type ExitCodeValue } from '../errors.js';
import { checkEnvFileWritable, updateEnvFile, writeRecoveryFile, type EnvFileUpdate } from './env-file.js';
import type { Expiration } from './expiration.js';
import { PLAIN_HINTS, type OperatorHints } from './operator-hints.js';
import { probeInstance, type ProbeOptions } from './hrana-probe.js';
import type { Database as PlatformDatabase, PlatformApi } from './platform-api.js';
import { callPlatform, describePlatformError } from './platform-errors.js';
import { judgeTokenAccess, summariseClaims, waitUntilAccepted, waitUntilRejected, type TokenCheck, type WaitOptions } from './token-checks.js';
import { describeScope, mintPlatformToken, type TokenScope } from './tokens.js';

/*
 * Token rotation: invalidate every token, mint a read-write and a read-only token, prove each does
 * what it should against the database, store them where the application reads them, and say what
 * is left to do. The order is chosen so that nothing irreversible happens before the checks that can
 * be made in advance (the env file is writable, the database answers), and so that a failure at any
 * later step says precisely what state the tokens are in.
 */

/** A rotation that stopped part-way: the message says where, `details` what was done, `hint` what to do now. */
export class RotationError extends QbankError {
  constructor(
    readonly stage: string,
    message: string,
    options: { done: string[]; todo: string; exitCode?: ExitCodeValue; cause?: unknown },
  ) {
    super(message, { exitCode: options.exitCode ?? ExitCode.failure, details: options.done, hint: options.todo, cause: options.cause });
  }
}

export interface RotationEnvFile {
  /** Absolute: where the file is written. */
  path: string;
  /** As the operator gave it (relative to their directory): used in messages and commands. */
  displayPath: string;
  tokenKey: string;
  readOnlyTokenKey: string;
}

export interface VerifyTiming {
  /** How long to wait for the server to accept a new token. */
  timeoutMs: number;
  intervalMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds. */
  clock?: () => number;
  probe?: ProbeOptions;
}

export interface NewTokenCheck extends Pick<TokenCheck, 'role' | 'claims' | 'access' | 'problems' | 'ok'> {
  /** Written to the env file under this key. */
  writtenAs: string | null;
}

export interface RotationReport {
  kind: 'platform' | 'self-hosted';
  /** What was rotated, e.g. `database "quiz"` or `group "default"`, or the key file. */
  scope: string;
  server: string;
  rotatedAt: string;
  /** Time without a valid token, as measured (see the report's `downtimeBasis`). */
  downtimeMs: number | null;
  downtimeBasis: string;
  tokens: { readWrite: NewTokenCheck; readOnly: NewTokenCheck };
  /**
   * Tokens configured before the rotation and whether the server rejects them now. `affected: false`:
   * the rotation could not change it (a group token when one database's keys rotate), so it was not checked.
   */
  oldTokens: Array<{ source: string; rejected: boolean; affected: boolean; reason?: 'group-token' }>;
  envFile: (EnvFileUpdate & { keys: string[] }) | null;
  warnings: string[];
  nextSteps: string[];
}

export interface RotationResult {
  report: RotationReport;
  /** Kept apart from the report so that printing the report never prints a token. */
  secrets: { readWrite: string; readOnly: string };
}

export interface PlatformRotationPlan {
  scope: TokenScope;
  database: PlatformDatabase;
  /** For a group: every database whose tokens stop working. */
  affectedDatabases: string[];
  server: string;
  envFile: RotationEnvFile | null;
  /** What the rotation will do, in sentences, for the confirmation. */
  explanation: string[];
}

export interface PlatformRotationOptions {
  api: PlatformApi;
  database: PlatformDatabase;
  scope: TokenScope;
  /** Base URL of the database server the new tokens are verified against. */
  server: string;
  expiration: Expiration;
  envFile: RotationEnvFile | null;
  /** The tokens in use before the rotation (from the configuration), to confirm they stop working. */
  oldTokens: Array<{ source: string; token: string }>;
  verify: VerifyTiming;
  /** Shown the plan; false stops before anything changes. */
  confirm: (plan: PlatformRotationPlan) => Promise<boolean>;
  onProgress?: (line: string) => void;
  now: () => Date;
  /** How next steps and recoveries are worded; plain wording by default. */
  hints?: OperatorHints;
}

const step = (text: string) => `✔ ${text}`;
const failed = (text: string) => `✗ ${text}`;

/** Everything that can be checked before the irreversible call. */
async function preflight(server: string, envFile: RotationEnvFile | null, probe: ProbeOptions | undefined): Promise<void> {
  if (envFile) await checkEnvFileWritable(envFile.path, envFile.displayPath);
  const health = await probeInstance(server, { ...probe, samples: 1 });
  if (!health.reachable) {
    throw new RotationError('preflight', `refusing to rotate: the database server ${server} does not answer (${health.error})`, {
      done: ['nothing was changed; every existing token still works'],
      todo: 'the new tokens could not be verified, so the rotation would leave the application without a known-good token; fix the connection first',
      exitCode: ExitCode.connection,
    });
  }
}

export async function planPlatformRotation(
  options: Pick<PlatformRotationOptions, 'api' | 'database' | 'scope' | 'server' | 'envFile' | 'hints'>,
): Promise<PlatformRotationPlan> {
  const { api, database, scope } = options;
  const hints = options.hints ?? PLAIN_HINTS;
  const affectedDatabases =
    scope.kind === 'group'
      ? (await callPlatform(() => api.listDatabases({ group: scope.name }))).map((d) => d.Name)
      : [database.Name];
  const explanation =
    scope.kind === 'group'
      ? [
          `Rotating the keys of group "${scope.name}" makes every existing token of every database in the group stop working at once: ${affectedDatabases.join(', ')}.`,
          'Every application using one of those databases loses access until it gets a new token.',
        ]
      : [
          `Rotating the keys of database "${database.Name}" makes every existing token of the database stop working at once, in every application and script that uses one.`,
          ...(database.group
            ? [`Tokens minted for its group "${database.group}" (group tokens) are not affected; ${hints.groupScope} to invalidate those as well.`]
            : []),
        ];
  explanation.push(
    `qbank then mints a read-write and a read-only ${scope.kind} token, checks both against ${options.server}, and ` +
      (options.envFile
        ? `writes them to ${options.envFile.displayPath} as ${options.envFile.tokenKey} and ${options.envFile.readOnlyTokenKey}.`
        : `${hints.tokensPrintedOnly}.`),
    'Turso notes that a short downtime is required while the instances restart with the new keys.',
  );
  return { scope, database, affectedDatabases, server: options.server, envFile: options.envFile, explanation };
}

/** Rotates the Platform API keys of a database or group, then mints, verifies and stores new tokens. */
export async function rotatePlatformTokens(options: PlatformRotationOptions): Promise<RotationResult> {
  const progress = options.onProgress ?? (() => undefined);
  const hints = options.hints ?? PLAIN_HINTS;
  const recovery = mintCommands(hints, options.envFile, options.scope);
  const clock = options.verify.clock ?? (() => performance.now());
  const plan = await planPlatformRotation(options);
  await preflight(options.server, options.envFile, options.verify.probe);
  if (!(await options.confirm(plan))) {
    throw new RotationError('confirm', 'rotation cancelled', { done: ['nothing was changed'], todo: `run it again and confirm, or ${hints.confirmAhead}`, exitCode: ExitCode.refused });
  }

  const scopeText = describeScope(options.scope);
  const done: string[] = [];
  progress(`rotating the keys of ${scopeText}…`);
  try {
    if (options.scope.kind === 'group') await options.api.rotateGroupTokens(options.scope.name);
    else await options.api.rotateDatabaseTokens(options.scope.name);
  } catch (error) {
    const described = describePlatformError(error, {});
    const maybe = (error as { kind?: string; status?: number }).kind === 'network' || ((error as { status?: number }).status ?? 0) >= 500;
    throw new RotationError('rotate', `token rotation stopped at step 1 of 4 (rotate the keys of ${scopeText}): ${described.message}`, {
      done: [maybe ? 'the rotate request may or may not have reached Turso' : 'nothing was changed; every existing token still works'],
      todo: maybe
        ? `${hints.verifyTokens}: if the configured token is now rejected, the rotation happened and you need new tokens: ${recovery}; if it still works, run the rotation again`
        : described.hint ?? 'fix the cause above and run the rotation again',
      exitCode: described.exitCode,
      cause: error,
    });
  }
  const rotatedAtClock = clock();
  const rotatedAt = options.now().toISOString();
  done.push(step(`rotated the keys of ${scopeText} at ${rotatedAt}: every old token is invalid from now on`));
  progress(`rotated; minting new tokens…`);

  const secrets = { readWrite: '', readOnly: '' };
  for (const role of ['read-write', 'read-only'] as const) {
    try {
      const token = await mintPlatformToken(options.api, options.scope, { readOnly: role === 'read-only', expiration: options.expiration });
      if (role === 'read-write') secrets.readWrite = token;
      else secrets.readOnly = token;
      done.push(step(`minted a new ${role} ${options.scope.kind} token (expiration: ${options.expiration.turso})`));
    } catch (error) {
      const described = describePlatformError(error);
      done.push(failed(`minting the ${role} token failed`));
      throw new RotationError('mint', `token rotation stopped at step 2 of 4 (mint the new ${role} token): ${described.message}`, {
        done,
        todo:
          'the old tokens no longer work, so the application has no valid token until you create new ones: ' +
          recovery +
          (described.hint ? ` (${described.hint})` : ''),
        exitCode: described.exitCode,
        cause: error,
      });
    }
  }

  return finishRotation({
    kind: 'platform',
    scope: scopeText,
    server: options.server,
    rotatedAt,
    secrets,
    done,
    envFile: options.envFile,
    ...splitOldTokens(options.oldTokens, options.scope),
    verify: options.verify,
    progress,
    nowMs: options.now().getTime(),
    downtimeFrom: rotatedAtClock,
    downtimeBasis: 'from the rotate call’s response to the first successful verification with the new read-write token',
    recovery,
    readOnlyRecovery: hints.mintPlatformToken({ scope: options.scope, readOnly: true, envFile: options.envFile?.displayPath ?? null }),
    nextSteps: platformNextSteps(options, plan, hints),
    stepCount: 4,
  });
}

/**
 * Rotating one database's keys leaves group tokens valid (they are signed with the group's key): those
 * are reported as unaffected instead of being expected to stop working.
 */
function splitOldTokens(
  oldTokens: Array<{ source: string; token: string }>,
  scope: TokenScope,
): Pick<FinishOptions, 'oldTokens' | 'unaffectedOldTokens'> {
  if (scope.kind === 'group') return { oldTokens, unaffectedOldTokens: [] };
  const isGroupToken = (token: string) => summariseClaims(token, 0).scope?.startsWith('group ') ?? false;
  return {
    oldTokens: oldTokens.filter((old) => !isGroupToken(old.token)),
    unaffectedOldTokens: oldTokens.filter((old) => isGroupToken(old.token)).map((old) => ({ source: old.source, reason: 'group-token' as const })),
  };
}

function mintCommands(hints: OperatorHints, envFile: RotationEnvFile | null, scope: TokenScope): string {
  const mint = (readOnly: boolean) => hints.mintPlatformToken({ scope, readOnly, envFile: envFile?.displayPath ?? null });
  return `${mint(false)} and ${mint(true)}, then ${hints.verifyTokens}`;
}

export interface FinishOptions {
  kind: RotationReport['kind'];
  scope: string;
  server: string;
  rotatedAt: string;
  secrets: { readWrite: string; readOnly: string };
  done: string[];
  envFile: RotationEnvFile | null;
  /** Old tokens the rotation should have invalidated: checked until rejected. */
  oldTokens: Array<{ source: string; token: string }>;
  /** Old tokens the rotation cannot invalidate, reported as such. */
  unaffectedOldTokens?: Array<{ source: string; reason: 'group-token' }>;
  verify: VerifyTiming;
  progress: (line: string) => void;
  nowMs: number;
  /** Clock reading the downtime counts from; null to measure from the old token's last success instead. */
  downtimeFrom: number | null;
  /** When the old token was last seen working before the switch (self-hosted), on the verify clock. */
  oldTokenLastAccepted?: number | null;
  downtimeBasis: string;
  /** How to get working tokens when verification fails. */
  recovery: string;
  /** How to get a read-only token again when only that one failed. */
  readOnlyRecovery: string;
  nextSteps: string[];
  stepCount: number;
  /** Called while waiting for the server to accept the new token (self-hosted: restart it). */
  waitingMessage?: string;
}

/** Steps 3 and 4, shared by Platform and self-hosted rotation: verify the new tokens, then store them. */
export async function finishRotation(options: FinishOptions): Promise<RotationResult> {
  const { verify, done, progress, secrets, server } = options;
  const clock = verify.clock ?? (() => performance.now());
  const wait: WaitOptions = { probe: verify.probe, waitMs: verify.timeoutMs, intervalMs: verify.intervalMs, sleep: verify.sleep, clock };
  const n = options.stepCount;

  progress(options.waitingMessage ?? `verifying the new tokens against ${server}…`);
  let lastOldAccepted: number | null = options.oldTokenLastAccepted ?? null;
  let readWrite;
  if (options.downtimeFrom === null && options.oldTokens.length > 0) {
    // Self-hosted: the switch happens whenever the server restarts, so watch both tokens together.
    readWrite = await waitWatchingOldToken(server, secrets.readWrite, options.oldTokens[0]!.token, wait, (at) => (lastOldAccepted = at));
  } else {
    readWrite = await waitUntilAccepted(server, secrets.readWrite, wait);
  }
  const start = options.downtimeFrom ?? lastOldAccepted;
  const downtimeMs = readWrite.acceptedAt !== null && start !== null ? Math.max(0, Math.round(readWrite.acceptedAt - start)) : null;

  const rwClaims = summariseClaims(secrets.readWrite, options.nowMs);
  const rwProblems = judgeTokenAccess('read-write', readWrite.access, rwClaims);
  if (readWrite.acceptedAt === null || rwProblems.length > 0) {
    done.push(failed(`the new read-write token failed verification: ${rwProblems.join('; ')}`));
    throw new RotationError(
      'verify',
      `token rotation stopped at step ${n - 1} of ${n} (verify the new read-write token against ${server})${readWrite.acceptedAt === null ? ` after waiting ${formatMs(verify.timeoutMs)}` : ''}: ${rwProblems.join('; ')}`,
      {
        done: [...done, 'nothing was written to the env file: unverified tokens are not stored'],
        todo: `check the server, then get tokens that work: ${options.recovery}`,
        exitCode: ExitCode.checkFailed,
      },
    );
  }
  done.push(step(`the new read-write token reads and writes${downtimeMs !== null ? ` (accepted ${formatMs(downtimeMs)} after the switch)` : ''}`));

  const readOnlyWait = await waitUntilAccepted(server, secrets.readOnly, wait);
  const roClaims = summariseClaims(secrets.readOnly, options.nowMs);
  const roProblems = judgeTokenAccess('read-only', readOnlyWait.access, roClaims);
  const readOnlyOk = readOnlyWait.acceptedAt !== null && roProblems.length === 0;
  done.push(readOnlyOk ? step('the new read-only token reads and is refused writes') : failed(`the new read-only token failed verification: ${roProblems.join('; ')}`));

  const toWrite: Record<string, string> = {};
  if (options.envFile) {
    toWrite[options.envFile.tokenKey] = secrets.readWrite;
    if (readOnlyOk) toWrite[options.envFile.readOnlyTokenKey] = secrets.readOnly;
  }
  let envFile: RotationReport['envFile'] = null;
  if (options.envFile) {
    try {
      envFile = { ...(await updateEnvFile(options.envFile.path, toWrite)), keys: Object.keys(toWrite) };
      done.push(step(`wrote ${Object.keys(toWrite).join(' and ')} to ${options.envFile.displayPath} (mode 0600, other lines kept)`));
    } catch (error) {
      throw await unsavedTokensError(options, toWrite, error);
    }
  }

  if (!readOnlyOk) {
    throw new RotationError('verify', `token rotation stopped at step ${n - 1} of ${n} (verify the new read-only token): ${roProblems.join('; ')}`, {
      done: [
        ...done,
        options.envFile
          ? `${options.envFile.readOnlyTokenKey} was NOT updated: it still holds the old token, which no longer works`
          : 'the read-only token was not shown',
      ],
      todo:
        readOnlyWait.access.canWrite === true
          ? 'this server grants write access to read-only tokens: do not rely on a read-only token for protection; upgrade the server, and serve the application with the read-write token only where writes are acceptable'
          : `check the server, then create the read-only token again: ${options.readOnlyRecovery}`,
      exitCode: ExitCode.checkFailed,
    });
  }

  const oldTokens: RotationReport['oldTokens'] = [];
  const warnings: string[] = [];
  const newTokens = new Set([secrets.readWrite, secrets.readOnly]);
  for (const old of options.oldTokens) {
    if (newTokens.has(old.token)) continue;
    const rejected = await waitUntilRejected(server, old.token, { ...wait, waitMs: Math.min(verify.timeoutMs, 15_000) });
    oldTokens.push({ source: old.source, rejected, affected: true });
    if (!rejected) warnings.push(`the server still accepts the old token from ${old.source}: the rotation has not taken effect there yet`);
  }
  for (const old of options.unaffectedOldTokens ?? []) oldTokens.push({ source: old.source, rejected: false, affected: false, reason: old.reason });

  const report: RotationReport = {
    kind: options.kind,
    scope: options.scope,
    server,
    rotatedAt: options.rotatedAt,
    downtimeMs,
    downtimeBasis: options.downtimeBasis,
    tokens: {
      readWrite: { role: 'read-write', claims: rwClaims, access: readWrite.access, problems: rwProblems, ok: true, writtenAs: options.envFile?.tokenKey ?? null },
      readOnly: {
        role: 'read-only',
        claims: roClaims,
        access: readOnlyWait.access,
        problems: roProblems,
        ok: true,
        writtenAs: options.envFile?.readOnlyTokenKey ?? null,
      },
    },
    oldTokens,
    envFile,
    warnings,
    nextSteps: options.nextSteps,
  };
  return { report, secrets };
}

/**
 * The env file could not be written after the rotation made the new tokens the only ones that work:
 * they go to a new 0600 file beside it (or in the home or temp directory), named in the error.
 */
async function unsavedTokensError(options: FinishOptions, toWrite: Record<string, string>, error: unknown): Promise<RotationError> {
  const envFile = options.envFile!;
  const n = options.stepCount;
  const keys = Object.keys(toWrite).join(' and ');
  const saved = await writeRecoveryFile(envFile.path, toWrite, new Date(options.nowMs), [homedir(), tmpdir()]).catch(() => null);
  const headline = `token rotation stopped at step ${n} of ${n} (write ${envFile.displayPath}): ${(error as Error).message}`;
  if (saved) {
    return new RotationError('write', `${headline}; the new tokens are saved in ${saved} (mode 0600)`, {
      done: [...options.done, step(`wrote ${keys} to ${saved} instead (mode 0600; the tokens are never printed)`)],
      todo: `move ${keys} from ${saved} into the env file the application reads (or fix ${envFile.displayPath} and copy them there), then delete ${saved}`,
      cause: error,
    });
  }
  return new RotationError('write', `${headline}; the new tokens could not be saved anywhere else either`, {
    done: [...options.done, failed('the new tokens work but are stored nowhere, and are never printed')],
    todo: `fix the file, then ${options.recovery}`,
    cause: error,
  });
}

async function waitWatchingOldToken(
  server: string,
  newToken: string,
  oldToken: string,
  wait: WaitOptions,
  onOldAccepted: (at: number) => void,
): Promise<Awaited<ReturnType<typeof waitUntilAccepted>>> {
  const clock = wait.clock ?? (() => performance.now());
  const sleep = wait.sleep ?? ((ms: number) => sleepFor(ms));
  const deadline = clock() + wait.waitMs;
  for (let attempts = 1; ; attempts++) {
    const old = await waitUntilAccepted(server, oldToken, { ...wait, waitMs: 0 });
    if (old.acceptedAt !== null) onOldAccepted(old.acceptedAt);
    const fresh = await waitUntilAccepted(server, newToken, { ...wait, waitMs: 0 });
    if (fresh.acceptedAt !== null) return { ...fresh, attempts };
    if (clock() + wait.intervalMs > deadline) return { ...fresh, attempts };
    await sleep(wait.intervalMs);
  }
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Commands for the deployed application; they read the env file, so no token appears on the screen. */
export function secretCommands(envFile: RotationEnvFile | null): string[] {
  if (!envFile) return [];
  return [envFile.tokenKey, envFile.readOnlyTokenKey].map(
    (key) => `grep -E '^(export )?${key}=' ${shellWord(envFile.displayPath)} | cut -d= -f2- | wrangler secret put ${key}`,
  );
}

function platformNextSteps(options: PlatformRotationOptions, plan: PlatformRotationPlan, hints: OperatorHints): string[] {
  const steps: string[] = [];
  const commands = secretCommands(options.envFile);
  if (commands.length) {
    steps.push(`Give the deployed application the new tokens (read from ${options.envFile!.displayPath}, never shown), e.g. for Cloudflare Workers:`, ...commands.map((c) => `  ${c}`));
  } else {
    steps.push(`Give the deployed application the new tokens (${hints.tokensShown}), e.g. \`wrangler secret put TURSO_AUTH_TOKEN\`.`);
  }
  steps.push('Redeploy or restart every service that uses them (e.g. `wrangler deploy`): until then they hold the old tokens, which no longer work.');
  const others = plan.affectedDatabases.filter((name) => name !== options.database.Name);
  if (others.length) {
    steps.push(`Group "${plan.scope.name}": the tokens of ${others.join(', ')} stopped working too; the new group tokens work for them, or ${hints.mintDatabaseToken}.`);
  }
  steps.push(`Check the result: ${hints.verifyTokens}.`);
  return steps;
}
