import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { decodeToken, accessFromClaims } from './auth/jwt.js';
import { assertUsableToken } from './auth/token-input.js';
import { assertSecureTransport, transportOf } from './auth/transport.js';
import { UsageError } from './errors.js';

export { assertSecureTransport, isLoopbackHost } from './auth/transport.js';
export { assertUsableToken } from './auth/token-input.js';

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

/** Which credential a command sends, and where it was read from: for output and error messages. */
export interface CredentialDescription {
  /** 'read-only' when read from a read-only variable or the token's own claims say so. */
  kind: 'read-write' | 'read-only' | 'none';
  /** '--auth-token', '$TURSO_AUTH_TOKEN', 'TURSO_AUTH_TOKEN_RO in .env.local', 'authToken in --url'; null when none. */
  source: string | null;
}

/** What a command acts on, safe to print: every `--json` document and `db status` carry it. */
export interface ConnectionDescription {
  /** The URL without credentials. */
  url: string;
  /** '--url', '$TURSO_DATABASE_URL', 'TURSO_DATABASE_URL_RO in .env', '$PROD_URL (target prod)', 'target dev (qbank.config.json)', 'default'. */
  source: string;
  credential: CredentialDescription;
}

export interface DatabaseConfig {
  /** The URL handed to the libSQL client, with any token removed from it. */
  url: string;
  /** The URL safe to print: no credentials, no query string secrets. */
  displayUrl: string;
  authToken?: string;
  kind: DatabaseKind;
  /** Where the URL came from, for `db status` and error messages ('default' for the embedded fallback). */
  source: string;
  /** True when TURSO_*_RO credentials (or a target's read-only variables) were chosen for a read-only command. */
  readOnlyCredentials: boolean;
  /** The URL and credential in force and where each came from (always set by `resolveDatabaseConfig`). */
  connection?: ConnectionDescription;
  /** The variable a read-write token for this database is read from (for "none is configured" messages). */
  tokenVariable?: string;
  /** The system named by flag, env or target; undefined means "detect from the database". */
  system?: SystemName;
  /** One-line notes for stderr (e.g. the embedded default database). */
  notices: string[];
}

/** A configuration as `resolveDatabaseConfig` returns it: every description filled in. */
export type ResolvedDatabaseConfig = DatabaseConfig & Required<Pick<DatabaseConfig, 'connection' | 'tokenVariable'>>;

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
  /** `qbank check`'s severities and thresholds, validated by the check command. */
  check?: unknown;
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
    if (!['$schema', 'defaultTarget', 'targets', 'check'].includes(key)) return { problem: `${key}: unknown key` };
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
    if (target.url !== undefined && target.urlEnv !== undefined) return { problem: `targets.${name}: give "url" or "urlEnv", not both` };
    if (target.url === undefined && target.urlEnv === undefined) return { problem: `targets.${name}: names no database (give it "url" or "urlEnv")` };
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


/** URL checks and the authToken move: see `parseDatabaseUrl`. */
export type ParsedDatabaseUrl = { url: string; kind: DatabaseKind; tokenFromUrl?: string };

const URL_HINT = 'use file:PATH, libsql://HOST, https://HOST or http://127.0.0.1:PORT';

/**
 * Checks a database URL, moves an `authToken` query parameter out of it (`file:` URLs too: the
 * URL is printed), and returns its kind. Plain text to anything but loopback is refused here,
 * before any connection, whichever way it is spelled.
 */
export function parseDatabaseUrl(input: string, where: string): ParsedDatabaseUrl {
  const trimmed = input.trim();
  if (trimmed === '') throw new UsageError(`${where}: the database URL is empty`);
  if (/^file:/i.test(trimmed)) {
    const [path, query] = splitOnce(trimmed, '?');
    if (path === 'file:' || path === 'file://') throw new UsageError(`${where}: "${redactUrl(trimmed)}" names no file`);
    if (query === undefined) return { url: trimmed, kind: 'file' };
    const params = new URLSearchParams(query);
    const tokenFromUrl = params.get('authToken') ?? undefined;
    params.delete('authToken');
    const rest = params.toString();
    return { url: rest ? `${path}?${rest}` : path, kind: 'file', tokenFromUrl };
  }
  assertSecureTransport(trimmed, where);
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new UsageError(`${where}: "${redactUrl(trimmed)}" is not a valid URL`, { hint: URL_HINT });
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!['libsql', 'https', 'http'].includes(scheme)) {
    throw new UsageError(`${where}: URL scheme "${scheme}:" is not supported`, { hint: URL_HINT });
  }
  if (parsed.username || parsed.password) {
    throw new UsageError(`${where}: put credentials in the auth token, not in the URL`);
  }
  const tokenFromUrl = parsed.searchParams.get('authToken') ?? undefined;
  parsed.searchParams.delete('authToken');
  const url = parsed.toString().replace(/\/$/, '');
  // The reserialised URL is what the client gets: check it too, in case the two parsers disagree.
  assertSecureTransport(url, where);
  return { url, kind: 'remote', tokenFromUrl };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

const SECRET_PARAM = /token|key|secret|password|jwt|auth/i;

/** A URL fit for output: no userinfo, no token-bearing query parameters (`file:` URLs included). */
export function redactUrl(url: string): string {
  if (/^file:/i.test(url)) {
    const [path, query] = splitOnce(url, '?');
    if (query === undefined) return url;
    const params = new URLSearchParams(query);
    for (const key of [...params.keys()]) if (SECRET_PARAM.test(key)) params.set(key, '***');
    return `${path}?${params.toString().replace(/%2A%2A%2A/g, '***')}`;
  }
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString().replace(/\/$/, '').replace(/%2A%2A%2A/g, '***');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&][^=]*(?:token|key|secret|password|auth)[^=]*=)[^&]*/gi, '$1***');
  }
}

export interface ResolveOptions {
  flags: GlobalFlags;
  env: Record<string, string | undefined>;
  cwd: string;
  access: Access;
}

/*
 * Where settings come from. Variables are read from three layers, highest first: the process
 * environment, `.env.local`, `.env`. The first layer that sets a variable decides it (an empty
 * value counts as unset there). Credentials are paired with a database, never mixed across
 * sources: see `belongsTo`.
 */
type LayerName = 'environment' | '.env.local' | '.env';

interface Layer {
  name: LayerName;
  values: Record<string, string | undefined>;
}

interface Found {
  value: string;
  layer: LayerName;
  source: string;
}

/** A database URL and where it was read from; `layer` only for the ambient TURSO_* variables. */
interface Endpoint {
  url: string;
  source: string;
  layer?: LayerName;
}

interface ChosenCredential {
  token: string;
  source: string;
  /** Read from a read-only variable. */
  readOnlyVariable: boolean;
}

interface SelectedTarget {
  name: string;
  config: TargetConfig;
}

const URL_KEY = 'TURSO_DATABASE_URL';
const TOKEN_KEY = 'TURSO_AUTH_TOKEN';
const RO_URL_KEY = 'TURSO_DATABASE_URL_RO';
const RO_TOKEN_KEY = 'TURSO_AUTH_TOKEN_RO';

function readLayers(env: Record<string, string | undefined>, cwd: string): Layer[] {
  const layers: Layer[] = [{ name: 'environment', values: env }];
  for (const file of ['.env.local', '.env'] as const) {
    const path = join(cwd, file);
    if (existsSync(path)) layers.push({ name: file, values: parseDotenv(readFileSync(path, 'utf8')) });
  }
  return layers;
}

function sourceName(key: string, layer: LayerName): string {
  return layer === 'environment' ? `$${key}` : `${key} in ${layer}`;
}

function lookup(layers: Layer[], key: string): Found | undefined {
  for (const layer of layers) {
    const value = layer.values[key];
    if (value === undefined) continue;
    return value === '' ? undefined : { value, layer: layer.name, source: sourceName(key, layer.name) };
  }
  return undefined;
}

/** Host and port for remote URLs, the resolved path for `file:` ones: "the same database". */
function databaseIdentity(url: string, cwd: string): string | undefined {
  const trimmed = url.trim();
  if (/^file:/i.test(trimmed)) return 'file:' + resolve(cwd, splitOnce(trimmed.slice('file:'.length), '?')[0].replace(/^\/\/(?=\/)/, ''));
  const facts = transportOf(trimmed);
  if (!facts?.host) return undefined;
  const defaultPort = facts.port === undefined || (facts.port === 443 && facts.scheme !== 'http' && facts.scheme !== 'ws');
  return `${facts.host}:${defaultPort ? '' : facts.port}`;
}

function sameDatabase(a: string, b: string, cwd: string): boolean {
  const identity = databaseIdentity(a, cwd);
  return identity !== undefined && identity === databaseIdentity(b, cwd);
}

/**
 * A credential in a layer belongs to the database in force when that database was read from the
 * same layer, when the layer's own URL (TURSO_DATABASE_URL or _RO) names the same host (the same
 * file), or when the layer names no database at all (a token exported on its own).
 */
function belongsTo(layer: Layer, endpoint: Endpoint, cwd: string): boolean {
  if (endpoint.layer === layer.name) return true;
  const urls = [layer.values[URL_KEY], layer.values[RO_URL_KEY]].filter((url): url is string => Boolean(url));
  if (urls.length === 0) return true;
  return urls.some((url) => sameDatabase(url, endpoint.url, cwd));
}

/** The first layer's value of `key` that belongs to `endpoint`; others are listed as skipped. */
function pairedVariable(layers: Layer[], key: string, endpoint: Endpoint, cwd: string, skipped: string[]): Found | undefined {
  for (const layer of layers) {
    const value = layer.values[key];
    if (value === undefined) continue;
    if (value === '') return undefined;
    if (belongsTo(layer, endpoint, cwd)) return { value, layer: layer.name, source: sourceName(key, layer.name) };
    skipped.push(sourceName(key, layer.name));
  }
  return undefined;
}

function selectTarget(flags: GlobalFlags, layers: Layer[], cwd: string): SelectedTarget | undefined {
  if (flags.url !== undefined) {
    if (flags.target !== undefined) throw new UsageError('--url and --target both name a database; give one of them');
    return undefined;
  }
  const fromEnv = flags.target === undefined ? lookup(layers, 'QBANK_TARGET') : undefined;
  const name = flags.target ?? fromEnv?.value;
  if (name === undefined) return undefined;
  const where = fromEnv ? `${fromEnv.source} (${name})` : `--target ${name}`;
  const file = readConfigFile(cwd);
  if (!file) throw new UsageError(`${where}: there is no ${CONFIG_FILE} in ${cwd}`);
  const config = file.targets[name];
  if (!config) {
    throw new UsageError(`${where}: ${CONFIG_FILE} has no target "${name}"`, {
      hint: `known targets: ${Object.keys(file.targets).join(', ') || '(none)'}`,
    });
  }
  return { name, config };
}

/** The read-write database in force: --url, else the target's own URL, else TURSO_DATABASE_URL; undefined: none configured. */
function primaryEndpoint(flags: GlobalFlags, target: SelectedTarget | undefined, layers: Layer[]): Endpoint | undefined {
  if (flags.url !== undefined) return { url: flags.url, source: '--url' };
  if (target) {
    const { name, config } = target;
    if (config.urlEnv) {
      const found = lookup(layers, config.urlEnv);
      if (!found) {
        throw new UsageError(`target ${name}: ${config.urlEnv} is not set (not in the environment, .env.local or .env)`, {
          hint: `set ${config.urlEnv}, or pass --url; a named target never falls back to another database`,
        });
      }
      return { url: found.value, source: `${found.source} (target ${name})` };
    }
    return { url: config.url!, source: `target ${name} (${CONFIG_FILE})` };
  }
  const found = lookup(layers, URL_KEY);
  return found && { url: found.value, source: found.source, layer: found.layer };
}

/** The read-write token for the database in force (--auth-token and a URL's own token are handled by the caller). */
function readWriteCredential(target: SelectedTarget | undefined, primary: Endpoint, kind: DatabaseKind, layers: Layer[], cwd: string, skipped: string[]): ChosenCredential | undefined {
  const key = target?.config.authTokenEnv;
  if (key) {
    const found = lookup(layers, key);
    // an embedded file needs no token; a remote database named by a target needs the one it names
    if (!found && kind === 'file') return undefined;
    if (!found) {
      throw new UsageError(`target ${target!.name}: ${key} is not set (not in the environment, .env.local or .env)`, {
        hint: `set ${key}, or pass --auth-token`,
      });
    }
    return { token: found.value, source: `${found.source} (target ${target!.name})`, readOnlyVariable: false };
  }
  const found = pairedVariable(layers, TOKEN_KEY, primary, cwd, skipped);
  return found && { token: found.value, source: found.source, readOnlyVariable: false };
}

/**
 * Read-only URL and token for a reading command. A target uses only its own read-only variables;
 * otherwise TURSO_DATABASE_URL_RO is used when it belongs to the database in force (same layer or
 * same host), and TURSO_AUTH_TOKEN_RO when it belongs to the URL then in force.
 */
function readOnlyChoice(
  target: SelectedTarget | undefined,
  primary: Endpoint,
  layers: Layer[],
  cwd: string,
  skipped: string[],
): { endpoint?: Endpoint; credential?: ChosenCredential } {
  if (target) {
    const { name, config } = target;
    const url = config.readOnlyUrlEnv ? lookup(layers, config.readOnlyUrlEnv) : undefined;
    const token = config.readOnlyAuthTokenEnv ? lookup(layers, config.readOnlyAuthTokenEnv) : undefined;
    return {
      endpoint: url && { url: url.value, source: `${url.source} (target ${name})` },
      credential: token && { token: token.value, source: `${token.source} (target ${name})`, readOnlyVariable: true },
    };
  }
  let endpoint: Endpoint | undefined;
  if (primary.source !== '--url') {
    for (const layer of layers) {
      const value = layer.values[RO_URL_KEY];
      if (!value) continue;
      if (layer.name === primary.layer || sameDatabase(value, primary.url, cwd)) {
        endpoint = { url: value, source: sourceName(RO_URL_KEY, layer.name), layer: layer.name };
        break;
      }
      skipped.push(sourceName(RO_URL_KEY, layer.name));
    }
  }
  const token = pairedVariable(layers, RO_TOKEN_KEY, endpoint ?? primary, cwd, skipped);
  return { endpoint, credential: token && { token: token.value, source: token.source, readOnlyVariable: true } };
}

function credentialKind(credential: ChosenCredential | undefined): CredentialDescription['kind'] {
  if (!credential) return 'none';
  if (credential.readOnlyVariable) return 'read-only';
  try {
    return accessFromClaims(decodeToken(credential.token).claims);
  } catch {
    return 'read-write';
  }
}

function defaultEndpoint(layers: Layer[], notices: string[]): Endpoint {
  const ci = lookup(layers, 'CI')?.value;
  if (ci && ci !== 'false' && ci !== '0') {
    throw new UsageError(`${URL_KEY} is required`, {
      hint: `set ${URL_KEY} (and ${TOKEN_KEY}) or pass --url; CI runs never fall back to a local database`,
    });
  }
  notices.push(`no database configured (${URL_KEY}); using the embedded local database ${DEFAULT_LOCAL_URL}`);
  return { url: DEFAULT_LOCAL_URL, source: 'default' };
}

/**
 * The one place a command's database and credentials are decided. An explicit choice (--url,
 * --target or QBANK_TARGET) wins over every ambient variable; credentials go only to the database
 * they belong to; the embedded default is used only when nothing names a database at all.
 */
export function resolveDatabaseConfig({ flags, env: processEnv, cwd, access }: ResolveOptions): ResolvedDatabaseConfig {
  const layers = readLayers(processEnv, cwd);
  const notices: string[] = [];
  const skipped: string[] = [];
  const target = selectTarget(flags, layers, cwd);
  const configured = primaryEndpoint(flags, target, layers);
  const primary = configured ?? defaultEndpoint(layers, notices);

  const readOnly = configured && access === 'read' && flags.authToken === undefined ? readOnlyChoice(target, primary, layers, cwd, skipped) : {};
  const endpoint = readOnly.endpoint ?? primary;
  const { url, kind, tokenFromUrl } = parseDatabaseUrl(endpoint.url, endpoint.source);
  let credential: ChosenCredential | undefined;
  if (flags.authToken !== undefined && flags.authToken !== '') credential = { token: flags.authToken, source: '--auth-token', readOnlyVariable: false };
  else if (tokenFromUrl) credential = { token: tokenFromUrl, source: `authToken in ${endpoint.source}`, readOnlyVariable: false };
  else if (configured) credential = readOnly.credential ?? readWriteCredential(target, primary, kind, layers, cwd, skipped);
  if (credential) assertUsableToken(credential.token, credential.source);
  if (!credential && kind === 'remote' && skipped.length > 0) {
    notices.push(`${skipped.join(', ')} ${skipped.length === 1 ? 'belongs' : 'belong'} to another database; not sent to ${redactUrl(url)}`);
  }

  const finalUrl = kind === 'file' ? normaliseFileUrl(url, cwd) : url;
  const displayUrl = redactUrl(finalUrl);
  const schema = flags.schema !== undefined ? { value: flags.schema, where: '--schema' } : schemaFromEnvironment(layers, target);
  const system = schema ? parseSystem(schema.value, schema.where) : undefined;
  return {
    url: finalUrl,
    displayUrl,
    authToken: credential?.token,
    kind,
    source: endpoint.source,
    readOnlyCredentials: Boolean(credential?.readOnlyVariable),
    connection: { url: displayUrl, source: endpoint.source, credential: { kind: credentialKind(credential), source: credential?.source ?? null } },
    tokenVariable: target?.config.authTokenEnv ?? TOKEN_KEY,
    system,
    notices,
  };
}

function schemaFromEnvironment(layers: Layer[], target: SelectedTarget | undefined): { value: string; where: string } | undefined {
  const found = lookup(layers, 'QBANK_SCHEMA');
  if (found) return { value: found.value, where: found.layer === 'environment' ? 'QBANK_SCHEMA' : found.source };
  return target?.config.schema ? { value: target.config.schema, where: `target ${target.name}` } : undefined;
}

/** Relative file: URLs are resolved against the working directory the user gave (tests run in temp dirs). */
function normaliseFileUrl(url: string, cwd: string): string {
  const rest = url.slice('file:'.length);
  if (rest.startsWith('//')) return url;
  const [path, query] = splitOnce(rest, '?');
  if (path === ':memory:' || isAbsolute(path)) return url;
  return `file:${resolve(cwd, path)}${query ? '?' + query : ''}`;
}
