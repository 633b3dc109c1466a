import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { expectDocument } from './support/json-schemas.js';
import { cleanupAfterEach } from './support/cleanups.js';
import { expectStandInFollowsTheSpec, startOrganization } from './support/organization.js';

const cleanups = cleanupAfterEach();
const organization = () => startOrganization(cleanups, 'qbank-replica-locations-token');

describe('qbank replica add and remove', () => {
  it("adds a location to the database's group (a replica that answers), says it is deprecated, and removes it again", async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const env = { ...org.env, QBANK_DB: 'prod' };

    const added = await runCli(['replica', 'add', 'aws-eu-west-1'], { env, cwd: org.dir });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('added aws-eu-west-1 to group "default" of database "prod"');
    expect(added.stdout).toContain('locations: aws-us-east-1 aws-eu-west-1 (primary aws-us-east-1)');
    expect(added.stderr).toContain('group locations (edge replicas) are deprecated');

    const status = await runCli(['replica', 'status', '--json'], { env, cwd: org.dir });
    expect(status.code, status.stderr).toBe(0);
    const instances = status.json().instances as Array<{ name: string; type: string; reachable: boolean }>;
    expect(instances.map((i) => [i.name, i.type, i.reachable])).toEqual([
      ['aws-us-east-1', 'primary', true],
      ['aws-eu-west-1', 'replica', true],
    ]);

    const again = await runCli(['--json', 'replica', 'add', 'aws-eu-west-1', '--db', 'prod'], { env: org.env, cwd: org.dir });
    expectDocument('replica-location', again.json());
    expect(again.json()).toMatchObject({ database: 'prod', group: 'default', location: 'aws-eu-west-1', action: 'add', changed: false, foundBy: expect.any(String) });

    const removed = await runCli(['replica', 'remove', 'aws-eu-west-1', '--db', 'prod', '--json'], { env: org.env, cwd: org.dir });
    expect(removed.code, removed.stderr).toBe(0);
    expectDocument('replica-location', removed.json());
    expect(removed.json()).toMatchObject({ action: 'remove', changed: true, locations: ['aws-us-east-1'] });
    const table = await runCli(['replica', 'status'], { env, cwd: org.dir });
    expect(table.stdout).not.toContain('aws-eu-west-1');
    expect(table.stdout).toMatch(/aws-us-east-1\s+primary/);
    expectStandInFollowsTheSpec(org.platform);
  });

  it('refuses an unknown location (exit 3), the primary location (exit 3) and an unknown database (exit 2, as for replica status), changing nothing', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const unknown = await runCli(['replica', 'add', 'mars-1', '--db', 'prod'], { env: org.env, cwd: org.dir });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('cannot add location "mars-1" to group "default": invalid location: mars-1');
    const primary = await runCli(['replica', 'remove', 'aws-us-east-1', '--db', 'prod'], { env: org.env, cwd: org.dir });
    expect(primary.code).toBe(3);
    expect(primary.stderr).toContain('cannot remove the primary location');
    const nobody = await runCli(['replica', 'add', 'aws-eu-west-1', '--db', 'nope', '--json'], { env: org.env, cwd: org.dir });
    expect(nobody.code).toBe(2);
    expect(nobody.json().error.message).toContain('database "nope" not found');
    const none = await runCli(['replica', 'add', 'aws-eu-west-1'], { env: { ...org.env, TURSO_API_TOKEN: '' }, cwd: org.dir });
    expect(none.code).toBe(2);
    expect(org.platform.requests.filter((r) => r.method !== 'GET' && r.path.includes('/locations/')).map((r) => r.status)).toEqual([400, 400]);
    const show = await runCli(['db', 'show', 'prod', '--json'], { env: org.env, cwd: org.dir });
    expect(show.json()).toMatchObject({ regions: ['aws-us-east-1'], instances: [{ type: 'primary' }] });
  });
});
