import Ajv2020 from 'ajv/dist/2020.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

/**
 * The schemas of docs/json, for tests of commands whose documents need a server the JSON contract
 * test does not start (the Platform API stand-in): `expectDocument('db-inspect', result.json())`.
 */

const SCHEMA_DIR = resolve(import.meta.dirname, '..', '..', 'docs', 'json');
let ajv: InstanceType<typeof Ajv2020.default> | undefined;

function schemas() {
  if (!ajv) {
    ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
    for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) {
      ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
    }
  }
  return ajv;
}

export function expectDocument(name: string, document: unknown): void {
  const validate = schemas().getSchema(`https://qbank.dev/json/${name}.schema.json`);
  if (!validate) throw new Error(`no schema docs/json/${name}.schema.json`);
  const valid = validate(document);
  expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`), `${name}: ${JSON.stringify(document).slice(0, 300)}`).toEqual([]);
}
