import { z } from 'zod';
import { tokenProblem } from '../auth/token-input.js';

/*
 * Client for the Turso Platform API (https://api.turso.tech). Response schemas follow the public
 * OpenAPI description (turso-docs api-reference/openapi.json). That description marks no field as
 * required; the client requires only the fields qbank cannot work without (a database's Name, DbId
 * and Hostname, an instance's name, type, region and hostname, a group's name) and lets every
 * other field, documented or not, through untouched.
 */

const legacyString = z.string().nullish();
const legacyBoolean = z.boolean().nullish();

export const databaseSchema = z.looseObject({
  Name: z.string(),
  DbId: z.string(),
  Hostname: z.string(),
  block_reads: z.boolean().optional(),
  block_writes: z.boolean().optional(),
  /** Deprecated in the spec; still sent. */
  regions: z.array(z.string()).optional(),
  primaryRegion: z.string().optional(),
  group: z.string().optional(),
  delete_protection: z.boolean().optional(),
  parent: z
    .looseObject({ id: z.string().optional(), name: z.string().optional(), branched_at: z.string().optional() })
    .nullish(),
  // Dropped from the spec in 2025 but still decoded by the turso CLI, so older databases may carry them.
  is_schema: legacyBoolean,
  schema: legacyString,
  allow_attach: legacyBoolean,
  type: legacyString,
  version: legacyString,
  archived: legacyBoolean,
  sleeping: legacyBoolean,
  encryption_cipher: legacyString,
});
export type Database = z.infer<typeof databaseSchema>;

export const instanceSchema = z.looseObject({
  uuid: z.string().optional(),
  name: z.string(),
  type: z.enum(['primary', 'replica']),
  region: z.string(),
  hostname: z.string(),
});
export type Instance = z.infer<typeof instanceSchema>;

export const groupSchema = z.looseObject({
  name: z.string(),
  uuid: z.string().optional(),
  /** Deprecated in the spec. */
  version: legacyString,
  /** Deprecated in the spec. */
  locations: z.array(z.string()).optional(),
  primary: z.string().optional(),
  delete_protection: z.boolean().optional(),
  // Not in the spec; the turso CLI decodes both.
  archived: legacyBoolean,
  status: z
    .looseObject({ locations: z.array(z.looseObject({ name: z.string(), status: z.string() })).optional() })
    .nullish(),
});
export type Group = z.infer<typeof groupSchema>;

const listDatabasesResponse = z.looseObject({
  databases: z.array(databaseSchema),
  // Pagination is not in the spec; the turso CLI sends `limit`/`cursor` and reads `pagination.next`.
  pagination: z.looseObject({ next: z.string().nullish() }).nullish(),
});
const getDatabaseResponse = z.looseObject({ database: databaseSchema });
const listInstancesResponse = z.looseObject({ instances: z.array(instanceSchema) });
const getInstanceResponse = z.looseObject({ instance: instanceSchema });
const getGroupResponse = z.looseObject({ group: groupSchema });
const createTokenResponse = z.looseObject({ jwt: z.string().min(1) });
const validateTokenResponse = z.looseObject({ exp: z.number().int() });
const listLocationsResponse = z.looseObject({ locations: z.record(z.string(), z.string()) });

export type TokenAuthorization = 'full-access' | 'read-only';

export interface CreateTokenOptions {
  /** Turso duration such as `2w1d30m`, `12h` or `never` (the API's default). */
  expiration?: string;
  /** `full-access` is the API's default. */
  authorization?: TokenAuthorization;
}

export interface ListDatabasesOptions {
  /** Only databases of this group. */
  group?: string;
  /** Page size sent as `limit`; without it the server picks (and may return everything at once). */
  pageSize?: number;
}

export interface TokenValidity {
  /** Unix seconds, or -1 when the token never expires. */
  exp: number;
  expiresAt: Date | null;
}

export interface PlatformApiOptions {
  baseUrl?: string;
  /** Platform API token (not a database token). */
  token: string;
  /** Organization slug. */
  org: string;
  fetch?: typeof globalThis.fetch;
  /** Receives one line per request, response and retry; tokens are redacted. */
  debug?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Extra attempts for idempotent (GET) calls after a 429, a 5xx or a network error. Default 3. */
  retries?: number;
  /** Per-attempt timeout. Default 30 s. */
  timeoutMs?: number;
}

export interface PlatformApi {
  readonly org: string;
  readonly baseUrl: string;
  listDatabases(options?: ListDatabasesOptions): Promise<Database[]>;
  getDatabase(name: string): Promise<Database>;
  listInstances(database: string): Promise<Instance[]>;
  getInstance(database: string, instance: string): Promise<Instance>;
  getGroup(name: string): Promise<Group>;
  /** Returns the database token (a JWT). */
  createDatabaseToken(database: string, options?: CreateTokenOptions): Promise<string>;
  /** Returns a token valid for every database of the group. */
  createGroupToken(group: string, options?: CreateTokenOptions): Promise<string>;
  /** Invalidates every token of the database. Never retried automatically. */
  rotateDatabaseTokens(database: string): Promise<void>;
  /** Invalidates every token of every database in the group. Never retried automatically. */
  rotateGroupTokens(group: string): Promise<void>;
  /** Checks the platform API token itself. */
  validateToken(): Promise<TokenValidity>;
  /** Location code to human-readable name. */
  listLocations(): Promise<Record<string, string>>;
}

/** `unusable-token`: the token cannot be sent in a header (a line break, say); nothing was sent. */
export type PlatformApiErrorKind = 'http' | 'network' | 'invalid-response' | 'unusable-token';

export class PlatformApiError extends Error {
  override name = 'PlatformApiError';
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly kind: PlatformApiErrorKind;
  readonly method: string;
  /** Request path without the query string. */
  readonly path: string;
  /** The `error` field of the response body, or `response failed with status N` when there was none. */
  readonly serverMessage: string | undefined;
  /** The optional `code` field of the error body. */
  readonly code: string | undefined;

  constructor(
    message: string,
    details: {
      status: number;
      kind: PlatformApiErrorKind;
      method: string;
      path: string;
      serverMessage?: string;
      code?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.kind = details.kind;
    this.method = details.method;
    this.path = details.path;
    this.serverMessage = details.serverMessage;
    this.code = details.code;
  }
}

/** What one call is about, so that errors can say it in words. */
interface CallContext {
  /** e.g. `create a token for database "quiz"` */
  action: string;
  /** What a 404 means, e.g. `database "quiz"`. */
  notFound?: string;
  /** The token scope a 403 most likely lacks. */
  scope?: string;
  /** Appended to a 400's message, e.g. the accepted formats of a parameter. */
  badRequestHint?: string;
}

interface Call<T> extends CallContext {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** null: the response body is ignored (the spec documents no content). */
  schema: z.ZodType<T> | null;
}

const DEFAULT_BASE_URL = 'https://api.turso.tech';
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_PAGES = 10_000;
const LOGGED_BODY_CHARS = 2_000;

/** The base URL without a trailing `/v1`; one that carries credentials, a query or a fragment is refused unseen. */
function checkedBaseUrl(text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new TypeError('the Platform API base URL is not a URL');
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new TypeError('the Platform API base URL must not carry a user name, a password, a query string or a fragment');
  }
  return text.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function createPlatformApi(options: PlatformApiOptions): PlatformApi {
  const baseUrl = checkedBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const { token, org } = options;
  if (!token) throw new TypeError('a Turso platform API token is required');
  if (!org) throw new TypeError('a Turso organization slug is required');
  const unusableToken = tokenProblem(token);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retries = Math.max(0, options.retries ?? 3);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const debug = options.debug;
  const log = debug ? (line: string) => debug(redact(line, token)) : undefined;

  const orgPath = `/v1/organizations/${segment(org)}`;

  async function request<T>(call: Call<T>): Promise<T> {
    const url = new URL(baseUrl + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    if (unusableToken) {
      throw new PlatformApiError(`the platform API token contains ${unusableToken}, so it cannot be sent (nothing was sent to ${call.action})`, {
        status: 0,
        kind: 'unusable-token',
        method: call.method,
        path: url.pathname,
      });
    }
    // Only GETs are repeated: a rotate or token mint that reached the server must not run twice.
    const attempts = call.method === 'GET' ? retries + 1 : 1;
    const shownUrl = `${call.method} ${url.pathname}${url.search}`;

    for (let attempt = 1; ; attempt++) {
      const canRetry = attempt < attempts;
      log?.(`platform-api → ${call.method} ${url.href} (attempt ${attempt}/${attempts})`);
      const started = Date.now();
      let response: Response;
      try {
        response = await fetchImpl(url, {
          method: call.method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'qbank' },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        const reason = describeNetworkError(cause);
        log?.(`platform-api ✗ ${shownUrl} failed after ${Date.now() - started} ms: ${reason}`);
        if (canRetry) {
          await backoff(attempt, attempts, shownUrl, reason, null);
          continue;
        }
        const unsure =
          call.method === 'GET'
            ? ''
            : '; it was not retried because it may already have taken effect, so check before trying again';
        throw new PlatformApiError(`could not reach the Turso Platform API at ${baseUrl} to ${call.action}: ${reason}${unsure}`, {
          status: 0,
          kind: 'network',
          method: call.method,
          path: url.pathname,
          cause,
        });
      }

      const text = await response.text().catch(() => '');
      log?.(
        `platform-api ← ${response.status} ${shownUrl} (${Date.now() - started} ms)${text ? ` ${truncate(text)}` : ''}`,
      );

      if (response.ok) return parseSuccess(call, url.pathname, response.status, text);

      const transient = response.status === 429 || response.status >= 500;
      if (transient && canRetry) {
        await backoff(attempt, attempts, shownUrl, `status ${response.status}`, response.headers.get('retry-after'));
        continue;
      }
      throw httpError(call, url.pathname, response.status, text);
    }
  }

  async function backoff(attempt: number, attempts: number, shown: string, reason: string, retryAfter: string | null) {
    const delay = retryAfterMs(retryAfter) ?? Math.min(BASE_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
    log?.(`platform-api retrying ${shown} in ${delay} ms (${reason}; attempt ${attempt + 1}/${attempts} next)`);
    await sleep(delay);
  }

  function parseSuccess<T>(call: Call<T>, path: string, status: number, text: string): T {
    if (call.schema === null) return undefined as T;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new PlatformApiError(
        `the Turso Platform API answered ${call.method} ${path} with a body that is not JSON (status ${status})`,
        { status, kind: 'invalid-response', method: call.method, path, cause },
      );
    }
    const parsed = call.schema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
        .join('; ');
      throw new PlatformApiError(
        `unexpected response from the Turso Platform API to ${call.method} ${path}: ${issues}`,
        { status, kind: 'invalid-response', method: call.method, path, cause: parsed.error },
      );
    }
    return parsed.data;
  }

  function httpError(call: CallContext & { method: string }, path: string, status: number, text: string) {
    const { message: serverMessage, code } = readErrorBody(status, text);
    let headline: string;
    let hint = '';
    if (status === 400) {
      headline = `could not ${call.action}`;
      hint = call.badRequestHint ? ` (${call.badRequestHint})` : '';
    } else if (status === 401) {
      headline = `platform API token invalid or expired (Turso answered 401 when trying to ${call.action}); create a new one with "turso auth api-tokens mint <name>"`;
    } else if (status === 403) {
      const scope = call.scope ? ` (it needs the ${call.scope} scope)` : '';
      headline = `permission denied: the platform API token may not ${call.action} in organization "${org}"${scope}, or the token's user is not a member of that organization`;
    } else if (status === 404 && call.notFound) {
      headline = `${call.notFound} not found in organization "${org}"`;
    } else if (status === 404) {
      headline = `not found when trying to ${call.action}`;
    } else if (status === 409) {
      headline = `conflict when trying to ${call.action}`;
    } else if (status === 429) {
      headline = `rate limited by the Turso Platform API when trying to ${call.action}`;
    } else if (status >= 500) {
      headline = `the Turso Platform API failed to ${call.action} (HTTP ${status})`;
    } else {
      headline = `could not ${call.action} (HTTP ${status})`;
    }
    const notRepeated =
      call.method !== 'GET' && (status === 429 || status >= 500)
        ? '; it was not retried because it may already have taken effect, so check before trying again'
        : '';
    return new PlatformApiError(`${headline}: ${serverMessage}${hint}${notRepeated}`, {
      status,
      kind: 'http',
      method: call.method,
      path,
      serverMessage,
      code,
    });
  }

  function tokenCall(kind: 'database' | 'group', name: string, options: CreateTokenOptions): Call<string> {
    const path = kind === 'database' ? `${orgPath}/databases/${segment(name)}` : `${orgPath}/groups/${segment(name)}`;
    const expiration = options.expiration?.trim();
    const shownExpiration = expiration === undefined ? '' : ` expiring in "${expiration}"`;
    return {
      method: 'POST',
      path: `${path}/auth/tokens`,
      // No request body: an empty `permissions` object makes token creation fail for new Turso-engine
      // databases (turso-api-client-ts#30).
      query: { expiration, authorization: options.authorization },
      schema: createTokenResponse.transform((body) => body.jwt),
      action: `create a ${options.authorization ?? 'full-access'} token${shownExpiration} for ${kind} "${name}"`,
      badRequestHint: 'an expiration looks like 2w1d30m, 12h or never',
      notFound: `${kind} "${name}"`,
      scope: kind === 'database' ? 'db:mint-token' : 'group:mint-token',
    };
  }

  return {
    org,
    baseUrl,

    async listDatabases(listOptions = {}) {
      const databases: Database[] = [];
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await request({
          method: 'GET',
          path: `${orgPath}/databases`,
          query: { group: listOptions.group, limit: listOptions.pageSize, cursor },
          schema: listDatabasesResponse,
          action: `list the databases of organization "${org}"`,
          notFound: listOptions.group ? `group "${listOptions.group}"` : `organization "${org}"`,
        });
        databases.push(...body.databases);
        const next = body.pagination?.next;
        if (!next) return databases;
        if (seen.has(next)) {
          throw new PlatformApiError(`the Turso Platform API returned the pagination cursor "${next}" twice`, {
            status: 200,
            kind: 'invalid-response',
            method: 'GET',
            path: `${orgPath}/databases`,
          });
        }
        seen.add(next);
        cursor = next;
      }
      throw new PlatformApiError(`the database list did not end after ${MAX_PAGES} pages`, {
        status: 200,
        kind: 'invalid-response',
        method: 'GET',
        path: `${orgPath}/databases`,
      });
    },

    async getDatabase(name) {
      const body = await request({
        method: 'GET',
        path: `${orgPath}/databases/${segment(name)}`,
        schema: getDatabaseResponse,
        action: `read database "${name}"`,
        notFound: `database "${name}"`,
      });
      return body.database;
    },

    async listInstances(database) {
      const body = await request({
        method: 'GET',
        path: `${orgPath}/databases/${segment(database)}/instances`,
        schema: listInstancesResponse,
        action: `list the instances of database "${database}"`,
        notFound: `database "${database}"`,
      });
      return body.instances;
    },

    async getInstance(database, instance) {
      const body = await request({
        method: 'GET',
        path: `${orgPath}/databases/${segment(database)}/instances/${segment(instance)}`,
        schema: getInstanceResponse,
        action: `read instance "${instance}" of database "${database}"`,
        notFound: `instance "${instance}" of database "${database}"`,
      });
      return body.instance;
    },

    async getGroup(name) {
      const body = await request({
        method: 'GET',
        path: `${orgPath}/groups/${segment(name)}`,
        schema: getGroupResponse,
        action: `read group "${name}"`,
        notFound: `group "${name}"`,
      });
      return body.group;
    },

    async createDatabaseToken(database, tokenOptions = {}) {
      return request(tokenCall('database', database, tokenOptions));
    },

    async createGroupToken(group, tokenOptions = {}) {
      return request(tokenCall('group', group, tokenOptions));
    },

    async rotateDatabaseTokens(database) {
      // The spec documents "200, No Content"; whatever body arrives is ignored.
      await request({
        method: 'POST',
        path: `${orgPath}/databases/${segment(database)}/auth/rotate`,
        schema: null,
        action: `rotate the tokens of database "${database}"`,
        notFound: `database "${database}"`,
        scope: 'db:rotate-creds',
      });
    },

    async rotateGroupTokens(group) {
      await request({
        method: 'POST',
        path: `${orgPath}/groups/${segment(group)}/auth/rotate`,
        schema: null,
        action: `rotate the tokens of group "${group}"`,
        notFound: `group "${group}"`,
        scope: 'group:rotate-creds',
      });
    },

    async validateToken() {
      const body = await request({
        method: 'GET',
        path: '/v1/auth/validate',
        schema: validateTokenResponse,
        action: 'validate the platform API token',
      });
      return { exp: body.exp, expiresAt: body.exp < 0 ? null : new Date(body.exp * 1000) };
    },

    async listLocations() {
      const body = await request({
        method: 'GET',
        path: '/v1/locations',
        schema: listLocationsResponse,
        action: 'list locations',
      });
      return body.locations;
    },
  };
}

/**
 * The database whose `Hostname` is the host of `url` (`libsql://NAME-ORG.turso.io`, `https://...`,
 * `wss://...` or a bare host name). A port in the URL must match a port in `Hostname`, except that a
 * `Hostname` without a port matches the URL's host on any port.
 */
export function findDatabaseByUrl<T extends Pick<Database, 'Hostname'>>(databases: readonly T[], url: string): T | undefined {
  const target = hostOf(url);
  if (!target) return undefined;
  return databases.find((database) => {
    const candidate = hostOf(database.Hostname);
    if (!candidate) return false;
    if (candidate.hostname !== target.hostname) return false;
    return candidate.port === '' || candidate.port === target.port;
  });
}

function hostOf(text: string): { hostname: string; port: string } | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `libsql://${trimmed}`;
  try {
    const parsed = new URL(withScheme);
    if (!parsed.hostname) return undefined;
    return { hostname: parsed.hostname.toLowerCase().replace(/\.$/, ''), port: parsed.port };
  } catch {
    return undefined;
  }
}

function segment(value: string): string {
  if (!value) throw new TypeError('a name in a Turso Platform API path must not be empty');
  return encodeURIComponent(value);
}

function readErrorBody(status: number, text: string): { message: string; code: string | undefined } {
  const fallback = `response failed with status ${status}${text.trim() ? ` (${truncate(text.trim(), 200)})` : ''}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: fallback, code: undefined };
  }
  if (typeof body !== 'object' || body === null) return { message: fallback, code: undefined };
  const record = body as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : undefined;
  const error = record.error;
  if (typeof error === 'string' && error.trim()) return { message: error, code };
  if (typeof error === 'object' && error !== null) {
    const nested = (error as Record<string, unknown>).message;
    return { message: typeof nested === 'string' ? nested : JSON.stringify(error), code };
  }
  return { message: fallback, code };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - Date.now(), 0), MAX_RETRY_AFTER_MS);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'the request timed out';
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}

function truncate(text: string, max = LOGGED_BODY_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

const JWT_PATTERN = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

function redact(line: string, token: string): string {
  let out = line.replace(/("jwt"\s*:\s*)"[^"]*"/g, '$1"[REDACTED]"').replace(JWT_PATTERN, '[REDACTED JWT]');
  if (token) out = out.split(token).join('[REDACTED]');
  return out;
}
