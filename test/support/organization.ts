import { createClient, type ResultSet } from '@libsql/client';
import { expect } from 'vitest';
import type { Cleanups } from './cleanups.js';
import { loadOpenApiSpec, responseSchemaFor, validateAgainstSchema } from './openapi-validate.js';
import { startPlatformServer, type PlatformServer } from './platform-server.js';

export interface Organization {
  platform: PlatformServer;
  /** The folder the CLI runs in (cwd). */
  dir: string;
  /** Environment that points qbank at the organization. */
  env: Record<string, string>;
  /** One statement on database `name` of the organization, through its own libSQL server. */
  query: (name: string, sql: string) => Promise<ResultSet>;
}

/**
 * An organization `acme` on the Platform API stand-in, with one group (`default`, aws-us-east-1) and
 * no database yet; `db create` starts a real libSQL server per database. Stopped after the test.
 */
export async function startOrganization(cleanups: Cleanups, apiToken: string): Promise<Organization> {
  const dir = cleanups.workDir();
  const platform = cleanups.closing(
    await startPlatformServer({
      org: 'acme',
      apiToken,
      databases: [],
      groups: [{ name: 'default', primary: 'aws-us-east-1', locations: ['aws-us-east-1'] }],
      provisioning: { dir },
    }),
  );
  const query = async (name: string, sql: string): Promise<ResultSet> => {
    const client = createClient({ url: platform.servers.get(name)!.url, authToken: platform.mintToken(name) });
    try {
      return await client.execute(sql);
    } finally {
      client.close();
    }
  };
  return { platform, dir, env: { TURSO_API_URL: platform.baseUrl, TURSO_ORG: 'acme', TURSO_API_TOKEN: apiToken }, query };
}

/** Every response the stand-in gave (but faults) that the OpenAPI description has a schema for follows it; at least one was checked. */
export function expectStandInFollowsTheSpec(platform: PlatformServer): void {
  const spec = loadOpenApiSpec();
  let checked = 0;
  for (const request of platform.requests) {
    if (request.body === undefined || request.fault) continue;
    const schema = responseSchemaFor(request.method, request.path, request.status, spec)?.schema;
    if (!schema) continue;
    checked++;
    expect(validateAgainstSchema(request.body, schema, spec), `${request.method} ${request.path}`).toEqual([]);
  }
  expect(checked).toBeGreaterThan(0);
}
