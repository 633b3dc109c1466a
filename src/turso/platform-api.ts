import { z } from 'zod';
import { createPlatformHttp, PlatformApiError, type Call, type PlatformHttp } from './platform-http.js';

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
const createDatabaseResponse = z.looseObject({ database: z.looseObject({ Name: z.string(), DbId: z.string(), Hostname: z.string() }) });
const deleteDatabaseResponse = z.looseObject({ database: z.string().optional() });
export const databaseConfigurationSchema = z.looseObject({
  size_limit: z.string().optional(),
  block_reads: z.boolean().optional(),
  block_writes: z.boolean().optional(),
  delete_protection: z.boolean().optional(),
});
export type DatabaseConfiguration = z.infer<typeof databaseConfigurationSchema>;

export const auditLogSchema = z.looseObject({
  code: z.string(),
  message: z.string().optional(),
  origin: z.string().optional(),
  author: z.string().optional(),
  created_at: z.string(),
  data: z.unknown().optional(),
});
export type AuditLogEntry = z.infer<typeof auditLogSchema>;
const auditLogsResponse = z.looseObject({
  audit_logs: z.array(auditLogSchema),
  pagination: z.looseObject({ page: z.number().int().optional(), total_pages: z.number().int().optional() }).nullish(),
});

const groupResponse = z.looseObject({ group: groupSchema });

const usageObject = z.looseObject({
  rows_read: z.number().int().optional(),
  rows_written: z.number().int().optional(),
  storage_bytes: z.number().int().optional(),
  bytes_synced: z.number().int().optional(),
});
export type UsageObject = z.infer<typeof usageObject>;
export const databaseUsageSchema = z.looseObject({
  uuid: z.string().optional(),
  instances: z.array(z.looseObject({ uuid: z.string().optional(), usage: usageObject.optional() })).optional(),
  total: usageObject.optional(),
});
export type DatabaseUsage = z.infer<typeof databaseUsageSchema>;
const databaseUsageResponse = z.looseObject({ database: databaseUsageSchema });
export const topQuerySchema = z.looseObject({
  query: z.string(),
  rows_read: z.number().int().optional(),
  rows_written: z.number().int().optional(),
});
export type TopQuery = z.infer<typeof topQuerySchema>;
const databaseStatsResponse = z.looseObject({ top_queries: z.array(topQuerySchema).nullish() });

export interface CreateDatabaseInput {
  name: string;
  group: string;
  /** Copy of an existing database, at a point in time when `timestamp` (ISO 8601) is given. */
  seed?: { type: 'database'; name: string; timestamp?: string };
  size_limit?: string;
}

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
  /** Never retried automatically: a create that reached the server must not run twice. */
  createDatabase(input: CreateDatabaseInput): Promise<{ Name: string; DbId: string; Hostname: string }>;
  /** Never retried automatically. */
  deleteDatabase(name: string): Promise<void>;
  getDatabaseConfiguration(name: string): Promise<DatabaseConfiguration>;
  updateDatabaseConfiguration(name: string, change: Partial<DatabaseConfiguration>): Promise<DatabaseConfiguration>;
  /** Never retried automatically. */
  createGroup(input: { name: string; location: string }): Promise<Group>;
  /** Adds a location (a replica of every database of the group). Never retried automatically. */
  addGroupLocation(group: string, location: string): Promise<Group>;
  /** Never retried automatically. */
  removeGroupLocation(group: string, location: string): Promise<Group>;
  /** Rows read and written and storage, in total and per instance (by instance uuid), for the current month unless `from`/`to`. */
  getDatabaseUsage(name: string, period?: { from?: Date; to?: Date }): Promise<DatabaseUsage>;
  /** The top queries with the rows they read and wrote; [] when the API has none. */
  getDatabaseStats(name: string): Promise<TopQuery[]>;
  /** Newest first; pages are read until `keepGoing` says stop (e.g. entries older than wanted) or the last page. */
  listAuditLogs(options?: { pageSize?: number; keepGoing?: (page: AuditLogEntry[]) => boolean }): Promise<AuditLogEntry[]>;
}

export { PlatformApiError, type PlatformApiErrorKind } from './platform-http.js';

const DEFAULT_BASE_URL = 'https://api.turso.tech';
const MAX_PAGES = 10_000;

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

/** The Platform API's endpoints over the HTTP layer (platform-http.ts), each with the words its errors use. */
export function createPlatformApi(options: PlatformApiOptions): PlatformApi {
  const baseUrl = checkedBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const { token, org } = options;
  if (!token) throw new TypeError('a Turso platform API token is required');
  if (!org) throw new TypeError('a Turso organization slug is required');
  const http = createPlatformHttp({
    baseUrl,
    token,
    org,
    fetch: options.fetch,
    debug: options.debug,
    sleep: options.sleep,
    retries: options.retries ?? 3,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  return new PlatformApiEndpoints(org, baseUrl, http);
}

class PlatformApiEndpoints implements PlatformApi {
  private readonly orgPath: string;

  constructor(
    readonly org: string,
    readonly baseUrl: string,
    private readonly http: PlatformHttp,
  ) {
    this.orgPath = `/v1/organizations/${segment(org)}`;
  }

  private tokenCall(kind: 'database' | 'group', name: string, options: CreateTokenOptions): Call<string> {
    const path = kind === 'database' ? `${this.orgPath}/databases/${segment(name)}` : `${this.orgPath}/groups/${segment(name)}`;
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


  async listDatabases(listOptions: ListDatabasesOptions = {}): Promise<Database[]> {
    const databases: Database[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.http.request({
        method: 'GET',
        path: `${this.orgPath}/databases`,
        query: { group: listOptions.group, limit: listOptions.pageSize, cursor },
        schema: listDatabasesResponse,
        action: `list the databases of organization "${this.org}"`,
        notFound: listOptions.group ? `group "${listOptions.group}"` : `organization "${this.org}"`,
      });
      databases.push(...body.databases);
      const next = body.pagination?.next;
      if (!next) return databases;
      if (seen.has(next)) {
        throw new PlatformApiError(`the Turso Platform API returned the pagination cursor "${next}" twice`, {
          status: 200,
          kind: 'invalid-response',
          method: 'GET',
          path: `${this.orgPath}/databases`,
        });
      }
      seen.add(next);
      cursor = next;
    }
    throw new PlatformApiError(`the database list did not end after ${MAX_PAGES} pages`, {
      status: 200,
      kind: 'invalid-response',
      method: 'GET',
      path: `${this.orgPath}/databases`,
    });
  }

  async getDatabase(name: string): Promise<Database> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(name)}`,
      schema: getDatabaseResponse,
      action: `read database "${name}"`,
      notFound: `database "${name}"`,
    });
    return body.database;
  }

  async listInstances(database: string): Promise<Instance[]> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(database)}/instances`,
      schema: listInstancesResponse,
      action: `list the instances of database "${database}"`,
      notFound: `database "${database}"`,
    });
    return body.instances;
  }

  async getInstance(database: string, instance: string): Promise<Instance> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(database)}/instances/${segment(instance)}`,
      schema: getInstanceResponse,
      action: `read instance "${instance}" of database "${database}"`,
      notFound: `instance "${instance}" of database "${database}"`,
    });
    return body.instance;
  }

  async getGroup(name: string): Promise<Group> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/groups/${segment(name)}`,
      schema: getGroupResponse,
      action: `read group "${name}"`,
      notFound: `group "${name}"`,
    });
    return body.group;
  }

  async createDatabaseToken(database: string, tokenOptions: CreateTokenOptions = {}): Promise<string> {
    return this.http.request(this.tokenCall('database', database, tokenOptions));
  }

  async createGroupToken(group: string, tokenOptions: CreateTokenOptions = {}): Promise<string> {
    return this.http.request(this.tokenCall('group', group, tokenOptions));
  }

  async rotateDatabaseTokens(database: string): Promise<void> {
    // The spec documents "200, No Content"; whatever body arrives is ignored.
    await this.http.request({
      method: 'POST',
      path: `${this.orgPath}/databases/${segment(database)}/auth/rotate`,
      schema: null,
      action: `rotate the tokens of database "${database}"`,
      notFound: `database "${database}"`,
      scope: 'db:rotate-creds',
    });
  }

  async rotateGroupTokens(group: string): Promise<void> {
    await this.http.request({
      method: 'POST',
      path: `${this.orgPath}/groups/${segment(group)}/auth/rotate`,
      schema: null,
      action: `rotate the tokens of group "${group}"`,
      notFound: `group "${group}"`,
      scope: 'group:rotate-creds',
    });
  }

  async validateToken(): Promise<TokenValidity> {
    const body = await this.http.request({
      method: 'GET',
      path: '/v1/auth/validate',
      schema: validateTokenResponse,
      action: 'validate the platform API token',
    });
    return { exp: body.exp, expiresAt: body.exp < 0 ? null : new Date(body.exp * 1000) };
  }

  async listLocations(): Promise<Record<string, string>> {
    const body = await this.http.request({
      method: 'GET',
      path: '/v1/locations',
      schema: listLocationsResponse,
      action: 'list locations',
    });
    return body.locations;
  }

  async createDatabase(input: CreateDatabaseInput) {
    const body = await this.http.request({
      method: 'POST',
      path: `${this.orgPath}/databases`,
      body: input,
      schema: createDatabaseResponse,
      action: `create database "${input.name}" in group "${input.group}"`,
      notFound: input.seed ? `group "${input.group}" or database "${input.seed.name}"` : `group "${input.group}"`,
      scope: 'db:create',
    });
    return body.database;
  }

  async deleteDatabase(name: string): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `${this.orgPath}/databases/${segment(name)}`,
      schema: deleteDatabaseResponse,
      action: `delete database "${name}"`,
      notFound: `database "${name}"`,
      scope: 'db:delete',
    });
  }

  async getDatabaseConfiguration(name: string): Promise<DatabaseConfiguration> {
    return this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(name)}/configuration`,
      schema: databaseConfigurationSchema,
      action: `read the configuration of database "${name}"`,
      notFound: `database "${name}"`,
    });
  }

  async listAuditLogs(options: { pageSize?: number; keepGoing?: (page: AuditLogEntry[]) => boolean } = {}): Promise<AuditLogEntry[]> {
    const entries: AuditLogEntry[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await this.http.request({
        method: 'GET',
        path: `${this.orgPath}/audit-logs`,
        query: { page, page_size: options.pageSize ?? 100 },
        schema: auditLogsResponse,
        action: `read the audit log of organization "${this.org}"`,
        notFound: `organization "${this.org}"`,
        scope: 'org:audit-logs',
      });
      entries.push(...body.audit_logs);
      const last = body.pagination?.total_pages ?? page;
      if (page >= last || body.audit_logs.length === 0 || (options.keepGoing && !options.keepGoing(body.audit_logs))) return entries;
    }
    return entries;
  }

  async createGroup(input: { name: string; location: string }): Promise<Group> {
    const body = await this.http.request({
      method: 'POST',
      path: `${this.orgPath}/groups`,
      body: input,
      schema: groupResponse,
      action: `create group "${input.name}" in location "${input.location}"`,
      badRequestHint: 'list the location codes with `turso db locations`',
      scope: 'group:configure',
    });
    return body.group;
  }

  async addGroupLocation(group: string, location: string): Promise<Group> {
    return this.groupLocationCall('POST', group, location);
  }

  async removeGroupLocation(group: string, location: string): Promise<Group> {
    return this.groupLocationCall('DELETE', group, location);
  }

  private async groupLocationCall(method: 'POST' | 'DELETE', group: string, location: string): Promise<Group> {
    const body = await this.http.request({
      method,
      path: `${this.orgPath}/groups/${segment(group)}/locations/${segment(location)}`,
      schema: groupResponse,
      action: method === 'POST' ? `add location "${location}" to group "${group}"` : `remove location "${location}" from group "${group}"`,
      notFound: `group "${group}"`,
      scope: 'group:configure',
    });
    return body.group;
  }

  async getDatabaseUsage(name: string, period: { from?: Date; to?: Date } = {}): Promise<DatabaseUsage> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(name)}/usage`,
      query: { from: period.from?.toISOString(), to: period.to?.toISOString() },
      schema: databaseUsageResponse,
      action: `read the usage of database "${name}"`,
      notFound: `database "${name}"`,
    });
    return body.database;
  }

  async getDatabaseStats(name: string): Promise<TopQuery[]> {
    const body = await this.http.request({
      method: 'GET',
      path: `${this.orgPath}/databases/${segment(name)}/stats`,
      schema: databaseStatsResponse,
      action: `read the top queries of database "${name}"`,
      notFound: `database "${name}"`,
    });
    return body.top_queries ?? [];
  }

  async updateDatabaseConfiguration(name: string, change: Partial<DatabaseConfiguration>): Promise<DatabaseConfiguration> {
    return this.http.request({
      method: 'PATCH',
      path: `${this.orgPath}/databases/${segment(name)}/configuration`,
      body: change,
      schema: databaseConfigurationSchema,
      action: `change the configuration of database "${name}"`,
      notFound: `database "${name}"`,
      scope: 'db:update',
    });
  }
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
