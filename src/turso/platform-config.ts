import { assertSecureTransport, assertUsableToken, CONFIG_FILE, loadEnvironment, readConfigFile } from '../config.js';
import { UsageError } from '../errors.js';
import { createPlatformApi, findDatabaseByUrl, type Database as PlatformDatabase, type PlatformApi } from './platform-api.js';
import { PLAIN_HINTS, type OperatorHints } from './operator-hints.js';
import { callPlatform } from './platform-errors.js';

/*
 * The one place qbank resolves how to reach the Turso Platform API and which database of the
 * organization a command is about. Values come from the process environment first, then
 * `.env.local`, then `.env` (the same layering as the database URL).
 */

export const DEFAULT_PLATFORM_API_URL = 'https://api.turso.tech';

export const PLATFORM_ENV = {
  token: 'TURSO_API_TOKEN',
  org: 'TURSO_ORG',
  baseUrl: 'TURSO_API_URL',
  database: 'QBANK_DB',
} as const;

export interface PlatformConfig {
  /** Platform API token (never a database token). */
  token: string;
  /** Organization slug. */
  org: string;
  baseUrl: string;
}

export interface EnvironmentSource {
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Undefined when neither TURSO_API_TOKEN nor TURSO_ORG is set (the Platform API is not configured at all). */
export function findPlatformConfig(source: EnvironmentSource): PlatformConfig | undefined {
  const env = loadEnvironment(source.env, source.cwd);
  if (!env[PLATFORM_ENV.token] && !env[PLATFORM_ENV.org]) return undefined;
  return resolvePlatformConfig(source);
}

/** Throws a UsageError naming every missing or invalid setting. */
export function resolvePlatformConfig(source: EnvironmentSource): PlatformConfig {
  const env = loadEnvironment(source.env, source.cwd);
  const token = env[PLATFORM_ENV.token]?.trim();
  const org = env[PLATFORM_ENV.org]?.trim();
  const missing = [!token && PLATFORM_ENV.token, !org && PLATFORM_ENV.org].filter(Boolean) as string[];
  if (missing.length > 0) {
    throw new UsageError(`the Turso Platform API is not configured: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`, {
      hint:
        `${PLATFORM_ENV.token} is a platform API token (\`turso auth api-tokens mint qbank\`), not a database token; ` +
        `${PLATFORM_ENV.org} is the organization slug (\`turso org list\`). Put them in the environment or in .env`,
    });
  }
  assertUsableToken(token!, PLATFORM_ENV.token);
  return { token: token!, org: org!, baseUrl: parsePlatformBaseUrl(env[PLATFORM_ENV.baseUrl]) };
}

/**
 * The Platform API base URL: https (plain http for loopback only, the one transport rule of
 * config.ts), and nothing that could be a credential: the value is never echoed, since it may hold one.
 */
function parsePlatformBaseUrl(value: string | undefined): string {
  const key = PLATFORM_ENV.baseUrl;
  const text = value?.trim();
  if (!text) return DEFAULT_PLATFORM_API_URL;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`${key}: not a valid URL (the value is not shown, as it may hold a secret)`, { hint: `leave it unset for ${DEFAULT_PLATFORM_API_URL}` });
  }
  if (parsed.username || parsed.password) {
    throw new UsageError(`${key}: a user name or password in the URL is not allowed (the Platform API token belongs in ${PLATFORM_ENV.token})`, {
      hint: `set ${key} to the bare base URL, e.g. ${DEFAULT_PLATFORM_API_URL}`,
    });
  }
  if (parsed.search || parsed.hash) {
    throw new UsageError(`${key}: a query string or fragment in the URL is not allowed (the Platform API token belongs in ${PLATFORM_ENV.token})`, {
      hint: `set ${key} to the bare base URL, e.g. ${DEFAULT_PLATFORM_API_URL}`,
    });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UsageError(`${key}: the scheme ${parsed.protocol} is not supported`, { hint: 'use https://, or http:// only for a loopback address (a local test server)' });
  }
  assertSecureTransport(parsed.toString(), key);
  return parsed.toString().replace(/\/+$/, '');
}

export function openPlatformApi(config: PlatformConfig, options: { debug?: (line: string) => void; fetch?: typeof fetch } = {}): PlatformApi {
  return createPlatformApi({ baseUrl: config.baseUrl, token: config.token, org: config.org, debug: options.debug, fetch: options.fetch });
}

export interface ResolvedPlatformDatabase {
  name: string;
  database: PlatformDatabase;
  /** How the name was found, for notices: the name given (`--db`), `QBANK_DB`, or the URL whose hostname matched. */
  foundBy: string;
}

/**
 * The database a command is about: `--db NAME`, else `QBANK_DB`, else the organization's database whose
 * Hostname is the host of the configured database URL (or of the sync URL of an embedded replica).
 */
export async function resolvePlatformDatabase(
  api: PlatformApi,
  options: { name?: string; envName?: string; databaseUrls: Array<string | undefined>; hints?: OperatorHints },
): Promise<ResolvedPlatformDatabase> {
  const hints = options.hints ?? PLAIN_HINTS;
  const explicit = options.name ?? options.envName;
  if (explicit) {
    const database = await callPlatform(() => api.getDatabase(explicit), {
      notFoundHint: `check the name with \`turso db list\` (organization "${api.org}" from ${PLATFORM_ENV.org})`,
    });
    return { name: database.Name, database, foundBy: options.name ? hints.givenDatabase : PLATFORM_ENV.database };
  }
  const urls = options.databaseUrls.filter((url): url is string => Boolean(url) && !url!.startsWith('file:'));
  if (urls.length === 0) {
    throw new UsageError('which database? none was named and there is no remote database URL to match against the organization', {
      hint: `${hints.nameDatabase}, set ${PLATFORM_ENV.database}, or set TURSO_DATABASE_URL (or TURSO_SYNC_URL for an embedded replica)`,
    });
  }
  const databases = await callPlatform(() => api.listDatabases());
  for (const url of urls) {
    const database = findDatabaseByUrl(databases, url);
    if (database) return { name: database.Name, database, foundBy: `the hostname of ${displayHost(url)}` };
  }
  const names = databases.map((d) => d.Name);
  throw new UsageError(`no database of organization "${api.org}" has the hostname of ${urls.map(displayHost).join(' or ')}`, {
    hint: names.length
      ? `${hints.nameDatabase}; the organization has: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`
      : `organization "${api.org}" has no databases; check ${PLATFORM_ENV.org}`,
  });
}

function displayHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The env var names that hold the read-write and read-only tokens (a qbank.config.json target may rename them). */
export function credentialKeys(source: EnvironmentSource, targetName: string | undefined): { tokenKey: string; readOnlyTokenKey: string } {
  const env = loadEnvironment(source.env, source.cwd);
  const name = targetName ?? env.QBANK_TARGET;
  const target = name ? readConfigFile(source.cwd)?.targets[name] : undefined;
  if (name && !target) throw new UsageError(`${CONFIG_FILE} has no target "${name}"`);
  return {
    tokenKey: target?.authTokenEnv ?? 'TURSO_AUTH_TOKEN',
    readOnlyTokenKey: target?.readOnlyAuthTokenEnv ?? 'TURSO_AUTH_TOKEN_RO',
  };
}
