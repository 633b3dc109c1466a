import { UsageError } from '../errors.js';
import { checkEnvFileWritable, updateEnvFile, type EnvFileUpdate } from './env-file.js';
import type { Expiration } from './expiration.js';
import { PLAIN_HINTS, type OperatorHints } from './operator-hints.js';
import { serverBaseUrl, type ProbeOptions } from './hrana-probe.js';
import type { Database as PlatformDatabase, PlatformApi } from './platform-api.js';
import { callPlatform } from './platform-errors.js';
import { checkToken, summariseClaims, type ClaimsSummary, type TokenCheck, type TokenRole } from './token-checks.js';

/** Whose tokens: one database, or every database of its group. */
export interface TokenScope {
  kind: 'database' | 'group';
  /** The database name, or the group name. */
  name: string;
}

/** The group scope of a database, or a usage error when it has none. */
export function scopeFor(database: PlatformDatabase, group: boolean, hints: OperatorHints = PLAIN_HINTS): TokenScope {
  if (!group) return { kind: 'database', name: database.Name };
  if (!database.group) {
    throw new UsageError(`database "${database.Name}" does not belong to a group`, { hint: `${hints.databaseScope} to work on the database itself` });
  }
  return { kind: 'group', name: database.group };
}

export function describeScope(scope: TokenScope): string {
  return `${scope.kind} "${scope.name}"`;
}

export async function mintPlatformToken(api: PlatformApi, scope: TokenScope, options: { readOnly: boolean; expiration: Expiration }): Promise<string> {
  const tokenOptions = { authorization: options.readOnly ? ('read-only' as const) : ('full-access' as const), expiration: options.expiration.turso };
  return callPlatform(
    () => (scope.kind === 'group' ? api.createGroupToken(scope.name, tokenOptions) : api.createDatabaseToken(scope.name, tokenOptions)),
    { notFoundHint: `check the ${scope.kind} name with \`turso ${scope.kind === 'group' ? 'group' : 'db'} list\`` },
  );
}

export interface CreatedToken {
  scope: TokenScope;
  role: TokenRole;
  expiration: string;
  claims: ClaimsSummary;
  envFile?: EnvFileUpdate & { key: string };
}

/** Mints one token through the Platform API and, when asked, stores it in an env file. The token itself is returned apart from the report. */
export async function createPlatformToken(options: {
  api: PlatformApi;
  scope: TokenScope;
  readOnly: boolean;
  expiration: Expiration;
  envFile?: { path: string; key: string };
  nowMs: number;
}): Promise<{ report: CreatedToken; token: string }> {
  if (options.envFile) await checkEnvFileWritable(options.envFile.path);
  const token = await mintPlatformToken(options.api, options.scope, options);
  const report: CreatedToken = {
    scope: options.scope,
    role: options.readOnly ? 'read-only' : 'read-write',
    expiration: options.expiration.turso,
    claims: summariseClaims(token, options.nowMs),
  };
  if (options.envFile) {
    const update = await updateEnvFile(options.envFile.path, { [options.envFile.key]: token });
    report.envFile = { ...update, key: options.envFile.key };
  }
  return { report, token };
}

export interface VerifyReport {
  server: string;
  tokens: TokenCheck[];
  ok: boolean;
}

/**
 * Checks the configured tokens against the database: their claims (decoded, not trusted) and what
 * the server actually lets each one do.
 */
export async function verifyTokens(options: {
  databaseUrl: string;
  tokens: Array<{ source: string; from?: string | null; role: TokenRole; token: string }>;
  probe?: ProbeOptions;
  nowMs: number;
  hints?: OperatorHints;
}): Promise<VerifyReport> {
  if (options.databaseUrl.startsWith('file:')) {
    throw new UsageError('token verify needs a remote database: a file: URL takes no token', {
      hint: 'set TURSO_DATABASE_URL to the libsql:// or https:// URL of the database',
    });
  }
  if (options.tokens.length === 0) {
    throw new UsageError('no token to verify: TURSO_AUTH_TOKEN and TURSO_AUTH_TOKEN_RO are not set', { hint: `set them, or ${(options.hints ?? PLAIN_HINTS).giveToken}` });
  }
  const server = serverBaseUrl(options.databaseUrl);
  const tokens: TokenCheck[] = [];
  for (const entry of options.tokens) {
    tokens.push(await checkToken(server, entry.token, entry, { ...options.probe, nowMs: options.nowMs }));
  }
  return { server, tokens, ok: tokens.every((t) => t.ok) };
}
