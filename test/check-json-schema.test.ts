import Ajv2020 from 'ajv/dist/2020.js';
import { createClient } from '@libsql/client';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

const SCHEMA_DIR = join(import.meta.dirname, '..', 'docs', 'json');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'check');

describe('qbank check --json follows docs/json/check.schema.json', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
  });
  afterEach(async () => {
    await t.close();
  });

  it('with findings, without, and with --enqueue', async () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
    for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
    const validate = ajv.getSchema('https://qbank.dev/json/check.schema.json')!;
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.executeMultiple(readFileSync(join(FIXTURES, 'open-interview-clean.sql'), 'utf8'));
    const clean = await cli(['check', '--json']);
    expect(validate(clean.json()), JSON.stringify(validate.errors)).toBe(true);
    await client.executeMultiple(readFileSync(join(FIXTURES, 'open-interview-defects.sql'), 'utf8'));
    client.close();
    for (const args of [['check', '--json'], ['check', '--format', 'json', '--enqueue'], ['check', '--json', '--fix', '--yes']]) {
      const result = await cli(args);
      expect(result.code).toBe(6);
      expect(validate(result.json()), JSON.stringify(validate.errors)).toBe(true);
    }
  });
});
