import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

export const SYSTEMS = ['pingtopass', 'open-interview'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export type DatabaseKind = 'file' | 'remote';
/** Commands that only read may use the read-only credentials (TURSO_*_RO). */
export type Access = 'read' | 'write';

export interface GlobalFlags {
  url?: string;
  authToken?: string;
  schema?: string;
  target?: string;
}

export interface DatabaseConfig {
  /** The URL handed to the libSQL client, with any token removed from it. */
  url: string;
  /** The URL safe to print: no credentials, no query string secrets. */
  displayUrl: string;
  authToken?: string;
  kind: DatabaseKind;
  /** Where the URL came from, for `db status` and error messages. */
  source: string;
  /** True when TURSO_*_RO credentials were chosen for a read-only command. */
  readOnlyCredentials: boolean;
  /** The system named by flag, env or target; undefined means "detect from the database". */
  system?: SystemName;
  /** One-line notes for stderr (e.g. the embedded default database). */
  notices: string[];
}

export const DEFAULT_LOCAL_URL = 'file:qbank.db';
export const CONFIG_FILE = 'qbank.config.json';

export interface TargetConfig {
  url?: string;
  urlEnv?: string;
  authTokenEnv?: string;
  readOnlyUrlEnv?: string;
  readOnlyAuthTokenEnv?: string;
  schema?: SystemName;
}

export interface ConfigFile {
  defaultTarget?: string;
  targets: Record<string, TargetConfig>;
}

const TARGET_KEYS = ['url', 'urlEnv', 'authTokenEnv', 'readOnlyUrlEnv', 'readOnlyAuthTokenEnv', 'schema'];

/**
 * Checks qbank.config.json by hand rather than with zod: configuration is resolved on every command,
 * `--help` included, and loading zod would cost more than the whole check.
 */
function validateConfigFile(raw: unknown): { value?: ConfigFile; problem?: string } {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) return { problem: '(top level): expected an object' };
  for (const key of Object.keys(raw)) {
    if (!['$schema', 'defaultTarget', 'targets'].includes(key)) return { problem: `${key}: unknown key` };
  }
  if (raw.defaultTarget !== undefined && typeof raw.defaultTarget !== 'string') return { problem: 'defaultTarget: expected a string' };
  if (!isObject(raw.targets)) return { problem: 'targets: expected an object of named targets' };
  for (const [name, target] of Object.entries(raw.targets)) {
    if (!isObject(target)) return { problem: `targets.${name}: expected an object` };
    for (const [key, value] of Object.entries(target)) {
      if (!TARGET_KEYS.includes(key)) return { problem: `targets.${name}.${key}: unknown key (known: ${TARGET_KEYS.join(', ')})` };
      if (typeof value !== 'string') return { problem: `targets.${name}.${key}: expected a string` };
      if (key === 'schema' && !(SYSTEMS as readonly string[]).includes(value)) return { problem: `targets.${name}.schema: expected one of ${SYSTEMS.join(', ')}` };
    }
  }
  return { value: raw as unknown as ConfigFile };
}

/** Parses KEY=VALUE lines the way dotenv does: comments, `export`, single/double quotes, \n in double quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(lines[i]);
    if (!match) continue;
    const [, key, rawValue] = match;
    let value = rawValue.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && value.length >= 1) {
      let body = value.slice(1);
      while (!body.includes(quote) && i + 1 < lines.length) body += '\n' + lines[++i];
      body = body.slice(0, body.indexOf(quote) === -1 ? undefined : body.indexOf(quote));
      value = quote === '"' ? body.replace(/\\n/g, '\n').replace(/\\r/g, '\r') : body;
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    values[key] = value;
  }
  return values;
}

/** Process environment first, then `.env.local`, then `.env`, as dotenv tools layer them. */
export function loadEnvironment(env: Record<string, string | undefined>, cwd: string): Record<string, string | undefined> {
  const layered: Record<string, string | undefined> = {};
  for (const file of ['.env', '.env.local']) {
    const path = join(cwd, file);
    if (existsSync(path)) Object.assign(layered, parseDotenv(readFileSync(path, 'utf8')));
  }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) layered[key] = value;
  return layered;
}

function envSource(key: string, env: Record<string, string | undefined>, cwd: string): string {
  if (env[key] !== undefined) return `$${key}`;
  for (const file of ['.env.local', '.env']) {
    const path = join(cwd, file);
    if (existsSync(path) && parseDotenv(readFileSync(path, 'utf8'))[key] !== undefined) return `${key} in ${file}`;
  }
  return key;
}

export function readConfigFile(cwd: string): ConfigFile | undefined {
  const path = join(cwd, CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const checked = validateConfigFile(raw);
  if (checked.problem) throw new UsageError(`${path}: ${checked.problem}`);
  return checked.value;
}

export function parseSystem(value: string, where: string): SystemName {
  if ((SYSTEMS as readonly string[]).includes(value)) return value as SystemName;
  throw new UsageError(`${where}: unknown system "${value}"`, { hint: `use one of: ${SYSTEMS.join(', ')}` });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Checks a database URL, moves an `authToken` query parameter out of it, and returns its kind. */
export function parseDatabaseUrl(input: string, where: string): { url: string; kind: DatabaseKind; tokenFromUrl?: string } {
  const trimmed = input.trim();
  if (trimmed === '') throw new UsageError(`${where}: the database URL is empty`);
  if (trimmed.startsWith('file:')) {
    if (trimmed === 'file:' || trimmed === 'file://') throw new UsageError(`${where}: "${trimmed}" names no file`);
    return { url: trimmed, kind: 'file' };
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new UsageError(`${where}: "${redactUrl(trimmed)}" is not a valid URL`, {
      hint: 'use file:PATH, libsql://HOST, https://HOST or http://127.0.0.1:PORT',
    });
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!['libsql', 'https', 'http'].includes(scheme)) {
    throw new UsageError(`${where}: URL scheme "${scheme}:" is not supported`, {
      hint: 'use file:PATH, libsql://HOST, https://HOST or http://127.0.0.1:PORT',
    });
  }
  if (scheme === 'http' && !LOOPBACK_HOSTS.has(parsed.hostname)) {
    throw new UsageError(`${where}: http:// sends the auth token in clear text; it is accepted only for loopback addresses`, {
      hint: `use https://${parsed.host} or libsql://${parsed.host}`,
    });
  }
  if (parsed.username || parsed.password) {
    throw new UsageError(`${where}: put credentials in the auth token, not in the URL`);
  }
  const tokenFromUrl = parsed.searchParams.get('authToken') ?? undefined;
  parsed.searchParams.delete('authToken');
  return { url: parsed.toString().replace(/\/$/, ''), kind: 'remote', tokenFromUrl };
}

/** A URL fit for output: no userinfo, no token-bearing query parameters. */
export function redactUrl(url: string): string {
  if (url.startsWith('file:')) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/token|key|secret|password|jwt/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&][^=]*(?:token|key)[^=]*=)[^&]*/gi, '$1***');
  }
}

export interface ResolveOptions {
  flags: GlobalFlags;
  env: Record<string, string | undefined>;
  cwd: string;
  access: Access;
}

export function resolveDatabaseConfig({ flags, env: processEnv, cwd, access }: ResolveOptions): DatabaseConfig {
  const env = loadEnvironment(processEnv, cwd);
  const notices: string[] = [];

  let urlKey = 'TURSO_DATABASE_URL';
  let tokenKey = 'TURSO_AUTH_TOKEN';
  let roUrlKey = 'TURSO_DATABASE_URL_RO';
  let roTokenKey = 'TURSO_AUTH_TOKEN_RO';
  let target: TargetConfig | undefined;
  const targetName = flags.target ?? env.QBANK_TARGET;
  if (targetName) {
    const file = readConfigFile(cwd);
    if (!file) throw new UsageError(`--target ${targetName}: there is no ${CONFIG_FILE} in ${cwd}`);
    target = file.targets[targetName];
    if (!target) {
      throw new UsageError(`--target ${targetName}: ${CONFIG_FILE} has no target "${targetName}"`, {
        hint: `known targets: ${Object.keys(file.targets).join(', ') || '(none)'}`,
      });
    }
    urlKey = target.urlEnv ?? urlKey;
    tokenKey = target.authTokenEnv ?? tokenKey;
    roUrlKey = target.readOnlyUrlEnv ?? roUrlKey;
    roTokenKey = target.readOnlyAuthTokenEnv ?? roTokenKey;
  }

  let rawUrl: string | undefined;
  let token: string | undefined;
  let source: string;
  let readOnlyCredentials = false;
  const useReadOnly = access === 'read' && flags.url === undefined && (env[roUrlKey] || env[roTokenKey]);

  if (flags.url !== undefined) {
    rawUrl = flags.url;
    source = '--url';
    token = flags.authToken ?? env[tokenKey];
  } else if (useReadOnly) {
    rawUrl = env[roUrlKey] ?? env[urlKey] ?? target?.url;
    token = flags.authToken ?? env[roTokenKey] ?? env[tokenKey];
    source = envSource(env[roUrlKey] ? roUrlKey : urlKey, processEnv, cwd);
    readOnlyCredentials = flags.authToken === undefined && env[roTokenKey] !== undefined;
  } else if (env[urlKey] !== undefined && env[urlKey] !== '') {
    rawUrl = env[urlKey];
    source = envSource(urlKey, processEnv, cwd);
    token = flags.authToken ?? env[tokenKey];
  } else if (target?.url) {
    rawUrl = target.url;
    source = `target ${targetName}`;
    token = flags.authToken ?? env[tokenKey];
  } else {
    const ci = env.CI;
    if (ci && ci !== 'false' && ci !== '0') {
      throw new UsageError(`${urlKey} is required`, {
        hint: `set ${urlKey} (and ${tokenKey}) or pass --url; CI runs never fall back to a local database`,
      });
    }
    rawUrl = DEFAULT_LOCAL_URL;
    source = 'default';
    token = flags.authToken;
    notices.push(`no database configured (${urlKey}); using the embedded local database ${DEFAULT_LOCAL_URL}`);
  }

  const { url, kind, tokenFromUrl } = parseDatabaseUrl(rawUrl!, source);
  const authToken = (token === '' ? undefined : token) ?? tokenFromUrl;
  const finalUrl = kind === 'file' ? normaliseFileUrl(url, cwd) : url;

  const systemValue = flags.schema ?? env.QBANK_SCHEMA ?? target?.schema;
  const system = systemValue ? parseSystem(systemValue, flags.schema ? '--schema' : env.QBANK_SCHEMA ? 'QBANK_SCHEMA' : `target ${targetName}`) : undefined;

  return { url: finalUrl, displayUrl: redactUrl(finalUrl), authToken, kind, source, readOnlyCredentials, system, notices };
}

/** Relative file: URLs are resolved against the working directory the user gave (tests run in temp dirs). */
function normaliseFileUrl(url: string, cwd: string): string {
  const rest = url.slice('file:'.length);
  if (rest.startsWith('//')) return url;
  const [path, query] = rest.split('?');
  if (path === ':memory:' || isAbsolute(path)) return url;
  return `file:${resolve(cwd, path)}${query ? '?' + query : ''}`;
}
