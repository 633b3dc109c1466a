import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadEnvironment, parseDotenv, resolveDatabaseConfig, type DatabaseConfig, type GlobalFlags } from '../config.js';
import { RefusedError, UsageError } from '../errors.js';
import type { Expiration } from './expiration.js';
import { PLAIN_HINTS, type OperatorHints } from './operator-hints.js';
import { instanceBaseUrl, serverBaseUrl, type ProbeOptions } from './hrana-probe.js';
import { findDatabaseByUrl, type PlatformApi } from './platform-api.js';
import {
  credentialKeys,
  findPlatformConfig,
  openPlatformApi,
  PLATFORM_ENV,
  resolvePlatformConfig,
  resolvePlatformDatabase,
  type ResolvedPlatformDatabase,
} from './platform-config.js';
import { replicaStatus, type ReplicaStatusReport } from './replica-status.js';
import { rotateSelfHosted, defaultPublicKeyPath, DEFAULT_PRIVATE_KEY_FILE } from './self-hosted.js';
import type { TokenRole } from './token-checks.js';
import { rotatePlatformTokens, type PlatformRotationPlan, type RotationEnvFile, type RotationResult } from './token-rotation.js';
import { createPlatformToken, scopeFor, verifyTokens, type CreatedToken, type VerifyReport } from './tokens.js';

/*
 * The operations commands' entry points: each resolves configuration (database URL and tokens from
 * config.ts, Platform API settings from platform-config.ts), then runs one service. Commands call
 * one of these and render what it returns.
 */

export const SYNC_URL_ENV = 'TURSO_SYNC_URL';

export interface OperationsContext {
  /** The process environment (config.ts layers .env.local and .env under it). */
  env: Record<string, string | undefined>;
  cwd: string;
  flags: GlobalFlags;
  /** --db */
  db?: string;
  debug?: (line: string) => void;
  fetch?: typeof fetch;
  now: () => Date;
  /** Progress lines for stderr. */
  onProgress?: (line: string) => void;
  /** How next steps name the caller's commands and options; plain wording by default. */
  hints?: OperatorHints;
}

function hintsOf(context: OperationsContext): OperatorHints {
  return context.hints ?? PLAIN_HINTS;
}

/** Probes go through `context.fetch`; with --debug each request is logged (method, URL, status, time; never headers or bodies). */
function probeOptions(context: OperationsContext): ProbeOptions {
  const fetchImpl = context.fetch ?? globalThis.fetch;
  const debug = context.debug;
  if (!debug) return context.fetch ? { fetch: context.fetch } : {};
  const logged: typeof fetch = async (input, init) => {
    const started = performance.now();
    const target = `${init?.method ?? 'GET'} ${String(input)}`;
    try {
      const response = await fetchImpl(input, init);
      debug(`libsql → ${target} ${response.status} (${Math.round(performance.now() - started)} ms)`);
      return response;
    } catch (error) {
      debug(`libsql → ${target} failed after ${Math.round(performance.now() - started)} ms: ${(error as Error).name}`);
      throw error;
    }
  };
  return { fetch: logged };
}

function layered(context: OperationsContext): Record<string, string | undefined> {
  return loadEnvironment(context.env, context.cwd);
}

function databaseConfig(context: OperationsContext, access: 'read' | 'write'): DatabaseConfig {
  return resolveDatabaseConfig({ flags: context.flags, env: context.env, cwd: context.cwd, access });
}

async function platformDatabase(
  context: OperationsContext,
  configs: Array<DatabaseConfig | undefined>,
  required: boolean,
): Promise<{ api: PlatformApi; resolved: ResolvedPlatformDatabase } | undefined> {
  const source = { env: context.env, cwd: context.cwd };
  const platformConfig = required || context.db ? resolvePlatformConfig(source) : findPlatformConfig(source);
  if (!platformConfig) return undefined;
  const api = openPlatformApi(platformConfig, { debug: context.debug, fetch: context.fetch });
  const env = layered(context);
  const resolved = await resolvePlatformDatabase(api, {
    hints: hintsOf(context),
    name: context.db,
    envName: env[PLATFORM_ENV.database],
    // The read-only URL may name a replica's host: the read-write one is tried too.
    databaseUrls: [...configs.map((config) => (config && config.source !== 'default' ? config.url : undefined)), env[SYNC_URL_ENV]],
  });
  return { api, resolved };
}

// ---------------------------------------------------------------------------------------------
// replica status

export async function checkReplicaStatus(
  context: OperationsContext,
  options: { maxLag?: number; samples?: number },
): Promise<ReplicaStatusReport & { foundBy: string | null }> {
  const config = databaseConfig(context, 'read');
  const platform = await platformDatabase(context, [config, tryDatabaseConfig(context, 'write')], false);
  const syncUrl = layered(context)[SYNC_URL_ENV];
  if (!platform && config.source === 'default' && !syncUrl) {
    throw new UsageError(`no database configured: replica status needs TURSO_DATABASE_URL, or the Platform API (TURSO_API_TOKEN, TURSO_ORG) and the database's name (${hintsOf(context).nameDatabase})`, {
      hint: 'run the local test bed (`npm run testbed`) to try it',
    });
  }
  const report = await replicaStatus({
    platform: platform && { api: platform.api, database: platform.resolved.database },
    databaseUrl: config.url,
    syncUrl,
    token: config.authToken,
    tokenSource: config.connection?.credential.source ?? undefined,
    maxLag: options.maxLag,
    samples: options.samples,
    probe: probeOptions(context),
    now: context.now,
  });
  return { ...report, foundBy: platform?.resolved.foundBy ?? null };
}

/** `replica add|remove LOCATION`: the location of the database's group, through the Platform API. */
export async function changeReplicaLocation(context: OperationsContext, options: { location: string; action: 'add' | 'remove' }) {
  const platform = (await platformDatabase(context, [tryDatabaseConfig(context, 'read'), tryDatabaseConfig(context, 'write')], true))!;
  const service = await import('./replica-locations.js');
  const change = await service.changeReplicaLocation(platform.api, { database: platform.resolved.database, ...options });
  return { ...change, foundBy: platform.resolved.foundBy };
}

// ---------------------------------------------------------------------------------------------
// env files

function resolvePath(context: OperationsContext, path: string): string {
  return isAbsolute(path) ? path : resolve(context.cwd, path);
}

type CredentialLayer = '.env.local' | '.env' | 'environment';
const ENV_FILES = ['.env.local', '.env'] as const;

/** The layers configuration reads variables from, highest precedence first (see config.ts). */
function credentialLayers(context: OperationsContext): Array<{ name: CredentialLayer; values: Record<string, string | undefined> }> {
  const layers: Array<{ name: CredentialLayer; values: Record<string, string | undefined> }> = [{ name: 'environment', values: context.env }];
  for (const name of ENV_FILES) {
    const path = join(context.cwd, name);
    if (existsSync(path)) layers.push({ name, values: parseDotenv(readFileSync(path, 'utf8')) });
  }
  return layers;
}

/**
 * The file the configuration reads the tokens from: the highest-precedence env file that holds either
 * of them (`.env.local` before `.env`), so that both new tokens land where they are read; else `.env`.
 */
function defaultEnvFile(context: OperationsContext, keys: string[]): string {
  const files = credentialLayers(context).filter((layer) => layer.name !== 'environment');
  return files.find((layer) => keys.some((key) => layer.values[key]))?.name ?? '.env';
}

/** `.env.local` or `.env` when `path` is one of the files configuration reads. */
function envFileLayer(context: OperationsContext, path: string): CredentialLayer | undefined {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return ENV_FILES.find((name) => real(join(context.cwd, name)) === real(path));
}

/**
 * Refuses a destination whose new values would not be read: a variable set in the process
 * environment, or in `.env.local` when writing `.env`, takes precedence over it.
 */
function assertNotShadowed(context: OperationsContext, layer: CredentialLayer, shownPath: string, keys: string[]): void {
  const precedence: CredentialLayer[] = ['environment', ...ENV_FILES];
  const higher = credentialLayers(context).filter((l) => precedence.indexOf(l.name) < precedence.indexOf(layer));
  for (const key of keys) {
    const shadow = higher.find((l) => l.values[key]);
    if (!shadow) continue;
    if (shadow.name === 'environment') {
      throw new RefusedError(`${key} is set in the process environment ($${key}), which takes precedence over ${shownPath}: the new token written there would not be used`, {
        hint: `unset ${key} in this shell (and wherever it is exported), then run the rotation again; nothing was changed`,
      });
    }
    throw new RefusedError(`${key} in ${shadow.name} takes precedence over ${shownPath}: the new token written there would not be used`, {
      hint: `write the tokens to ${shadow.name} instead, or remove ${key} from ${shadow.name}; nothing was changed`,
    });
  }
}

/** Keys set in the process environment win over any env file: say so, or the new tokens would seem ignored. */
export function shadowedKeys(context: OperationsContext, keys: string[]): string[] {
  return keys.filter((key) => context.env[key] !== undefined);
}

/**
 * Where a rotation writes the new tokens: the given file, else the file configuration reads them
 * from. A file configuration reads must not be shadowed by a layer above it.
 */
function rotationEnvFile(context: OperationsContext, options: { envFile?: string; show?: boolean }): RotationEnvFile | null {
  const keys = credentialKeys({ env: context.env, cwd: context.cwd }, context.flags.target);
  if (!options.envFile && options.show) return null;
  const path = options.envFile ?? defaultEnvFile(context, [keys.tokenKey, keys.readOnlyTokenKey]);
  const absolute = resolvePath(context, path);
  const layer = envFileLayer(context, absolute);
  if (layer) assertNotShadowed(context, layer, path, [keys.tokenKey, keys.readOnlyTokenKey]);
  return { path: absolute, displayPath: path, tokenKey: keys.tokenKey, readOnlyTokenKey: keys.readOnlyTokenKey };
}

// ---------------------------------------------------------------------------------------------
// tokens through the Platform API

export async function createToken(
  context: OperationsContext,
  options: { readOnly: boolean; expiration: Expiration; group: boolean; envFile?: string },
): Promise<{ report: CreatedToken & { database: string }; token: string }> {
  const config = tryDatabaseConfig(context, 'write');
  const platform = (await platformDatabase(context, [config], true))!;
  const scope = scopeFor(platform.resolved.database, options.group, hintsOf(context));
  const keys = credentialKeys({ env: context.env, cwd: context.cwd }, context.flags.target);
  const result = await createPlatformToken({
    api: platform.api,
    scope,
    readOnly: options.readOnly,
    expiration: options.expiration,
    envFile: options.envFile ? { path: resolvePath(context, options.envFile), key: options.readOnly ? keys.readOnlyTokenKey : keys.tokenKey } : undefined,
    nowMs: context.now().getTime(),
  });
  return { report: { ...result.report, database: platform.resolved.name }, token: result.token };
}

/** The configuration may be absent (only --db given): the Platform API does not need it. */
function tryDatabaseConfig(context: OperationsContext, access: 'read' | 'write'): DatabaseConfig | undefined {
  try {
    return databaseConfig(context, access);
  } catch (error) {
    if (context.db || layered(context)[PLATFORM_ENV.database]) return undefined;
    throw error;
  }
}

export interface RotateOptions {
  group: boolean;
  expiration: Expiration;
  envFile?: string;
  show?: boolean;
  verifyTimeoutMs: number;
  verifyIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  confirm: (explanation: string[]) => Promise<boolean>;
}

function configuredTokens(context: OperationsContext): Array<{ source: string; token: string }> {
  const keys = credentialKeys({ env: context.env, cwd: context.cwd }, context.flags.target);
  const env = layered(context);
  const tokens: Array<{ source: string; token: string }> = [];
  if (context.flags.authToken) tokens.push({ source: hintsOf(context).givenToken, token: context.flags.authToken });
  else if (env[keys.tokenKey]) tokens.push({ source: keys.tokenKey, token: env[keys.tokenKey]! });
  if (env[keys.readOnlyTokenKey]) tokens.push({ source: keys.readOnlyTokenKey, token: env[keys.readOnlyTokenKey]! });
  return tokens;
}

export async function rotateTokens(context: OperationsContext, options: RotateOptions): Promise<RotationResult> {
  const envFile = rotationEnvFile(context, options);
  const config = tryDatabaseConfig(context, 'write');
  const platform = (await platformDatabase(context, [config], true))!;
  const { database } = platform.resolved;
  const configuredIsThisDatabase = config?.kind === 'remote' && findDatabaseByUrl([database], config.url) !== undefined;
  const server = configuredIsThisDatabase ? serverBaseUrl(config!.url) : instanceBaseUrl(database.Hostname);
  return rotatePlatformTokens({
    api: platform.api,
    database,
    scope: scopeFor(database, options.group, hintsOf(context)),
    server,
    expiration: options.expiration,
    envFile,
    oldTokens: configuredIsThisDatabase ? configuredTokens(context) : [],
    verify: {
      timeoutMs: options.verifyTimeoutMs,
      intervalMs: options.verifyIntervalMs ?? 1_000,
      sleep: options.sleep,
      probe: probeOptions(context),
    },
    confirm: (plan: PlatformRotationPlan) => options.confirm(plan.explanation),
    onProgress: context.onProgress,
    now: context.now,
    hints: hintsOf(context),
  });
}

// ---------------------------------------------------------------------------------------------
// token verify

export async function verifyConfiguredTokens(context: OperationsContext): Promise<VerifyReport[]> {
  const readWrite = databaseConfig(context, 'write');
  if (readWrite.kind === 'file') {
    throw new UsageError('token verify needs a remote database: a file: URL takes no token', {
      hint: 'set TURSO_DATABASE_URL to the libsql:// or https:// URL of the database',
    });
  }
  const readOnly = databaseConfig(context, 'read');
  const keys = credentialKeys({ env: context.env, cwd: context.cwd }, context.flags.target);
  const nowMs = context.now().getTime();
  const reports: VerifyReport[] = [];
  const entries: Array<{ url: string; source: string; from: string | null; role: TokenRole; token: string }> = [];
  if (readWrite.authToken) {
    const source = context.flags.authToken ? hintsOf(context).givenToken : keys.tokenKey;
    entries.push({ url: readWrite.url, source, from: readWrite.connection?.credential.source ?? null, role: 'read-write', token: readWrite.authToken });
  }
  if (readOnly.readOnlyCredentials && readOnly.authToken) {
    const from = readOnly.connection?.credential.source ?? null;
    entries.push({ url: readOnly.url, source: keys.readOnlyTokenKey, from, role: 'read-only', token: readOnly.authToken });
  }
  if (entries.length === 0) {
    throw new UsageError(`no token to verify: neither ${keys.tokenKey} nor ${keys.readOnlyTokenKey} is set`, { hint: `set them (or .env), or ${hintsOf(context).giveToken}` });
  }
  if (context.flags.authToken) {
    const { summariseClaims } = await import('./token-checks.js');
    entries[0]!.role = summariseClaims(context.flags.authToken, nowMs).access ?? 'read-write';
  }
  for (const url of new Set(entries.map((e) => e.url))) {
    reports.push(
      await verifyTokens({ databaseUrl: url, tokens: entries.filter((e) => e.url === url), probe: probeOptions(context), nowMs, hints: hintsOf(context) }),
    );
  }
  return reports;
}

// ---------------------------------------------------------------------------------------------
// self-hosted

export function keyFiles(context: OperationsContext, options: { key?: string; publicKey?: string }) {
  const privateKeyPath = resolvePath(context, options.key ?? DEFAULT_PRIVATE_KEY_FILE);
  const publicKeyPath = resolvePath(context, options.publicKey ?? defaultPublicKeyPath(options.key ?? DEFAULT_PRIVATE_KEY_FILE));
  return { privateKeyPath, publicKeyPath };
}

export function tokenEnvKey(context: OperationsContext, readOnly: boolean): string {
  const keys = credentialKeys({ env: context.env, cwd: context.cwd }, context.flags.target);
  return readOnly ? keys.readOnlyTokenKey : keys.tokenKey;
}

export { resolvePath as resolveFromCwd };

export async function rotateSelfHostedTokens(
  context: OperationsContext,
  options: RotateOptions & { key?: string; publicKey?: string },
): Promise<RotationResult> {
  const envFile = rotationEnvFile(context, options);
  const config = databaseConfig(context, 'write');
  if (config.kind !== 'remote') {
    throw new UsageError('rotating a self-hosted key pair needs the URL of the libSQL server', {
      hint: `set TURSO_DATABASE_URL (e.g. http://127.0.0.1:8080) or ${hintsOf(context).giveUrl}`,
    });
  }
  return rotateSelfHosted({
    ...keyFiles(context, options),
    server: serverBaseUrl(config.url),
    expiration: options.expiration,
    envFile,
    oldTokens: configuredTokens(context),
    verify: {
      timeoutMs: options.verifyTimeoutMs,
      intervalMs: options.verifyIntervalMs ?? 1_000,
      sleep: options.sleep,
      probe: probeOptions(context),
    },
    confirm: options.confirm,
    onProgress: context.onProgress,
    now: context.now,
    hints: hintsOf(context),
  });
}
