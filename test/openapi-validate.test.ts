import { describe, expect, it } from 'vitest';
import {
  loadOpenApiSpec,
  responseSchemaFor,
  validateAgainstSchema,
  type JsonSchema,
  type OpenApiDocument,
} from './support/openapi-validate.js';

const spec = loadOpenApiSpec();
const DATABASES = '/v1/organizations/acme/databases';

function responseSchema(method: string, path: string, status: number): JsonSchema {
  const schema = responseSchemaFor(method, path, status, spec)?.schema;
  if (!schema) throw new Error(`${method} ${path} ${status} documents no schema`);
  return schema;
}

describe('the OpenAPI validator (Ajv, strict)', () => {
  it('rejects a response that breaks the description, saying where and how', () => {
    const schema = responseSchema('GET', DATABASES, 200);
    const valid = { databases: [{ Name: 'quiz', DbId: 'db-1', Hostname: 'quiz-acme.turso.io', parent: null }] };
    expect(validateAgainstSchema(valid, schema, spec)).toEqual([]);
    const broken = {
      databases: [{ Name: 'quiz', DbId: 'db-1' }, { Name: 7, block_reads: 'no', parent: { branched_at: 'yesterday' } }],
    };
    expect(validateAgainstSchema(broken, schema, spec)).toEqual([
      { path: '$.databases[1].Name', message: 'expected string, got integer' },
      { path: '$.databases[1].block_reads', message: 'expected boolean, got string' },
      { path: '$.databases[1].parent.branched_at', message: 'expected a date-time, got "yesterday"' },
    ]);
  });

  it('turns nullable into a type that admits null, and only where the description says so', () => {
    const database = { $ref: '#/components/schemas/Database' };
    expect(validateAgainstSchema({ parent: null }, database, spec)).toEqual([]);
    expect(validateAgainstSchema({ Name: null }, database, spec)).toEqual([{ path: '$.Name', message: 'expected string, got null' }]);
    expect(validateAgainstSchema(null, { type: 'string', enum: ['a'], nullable: true }, spec)).toEqual([]);
  });

  it('folds the errors of oneOf branches into one issue', () => {
    const extensions = { $ref: '#/components/schemas/Extensions' };
    expect(validateAgainstSchema(['vector', 'math'], extensions, spec)).toEqual([]);
    expect(validateAgainstSchema('some', extensions, spec)).toEqual([
      { path: '$', message: 'matches none of the oneOf schemas (#0: $ expected one of "all", got "some"; #1: $ expected array, got string)' },
    ]);
  });

  it('checks every keyword it knows, pattern included', () => {
    expect(validateAgainstSchema('x', { type: 'string', pattern: '^y$' }, spec)).toEqual([{ path: '$', message: 'must match pattern "^y$"' }]);
    expect(validateAgainstSchema('y', { type: 'string', pattern: '^y$' }, spec)).toEqual([]);
  });

  it('fails on an unknown keyword or format instead of skipping it, in a given schema or in the description', () => {
    expect(validateAgainstSchema('x', { type: 'string', patern: '^y$' }, spec)).toEqual([
      { path: '$', message: 'the schema cannot be checked: strict mode: unknown keyword: "patern"' },
    ]);
    expect(validateAgainstSchema('x', { type: 'string', format: 'hostname' }, spec)[0]?.message).toMatch(/unknown format "hostname"/);

    const misspelt = structuredClone(spec) as OpenApiDocument;
    const database = (misspelt.components!.schemas as Record<string, JsonSchema>).Database!;
    (database.properties as Record<string, JsonSchema>).Name = { type: 'string', nulable: true };
    const issues = validateAgainstSchema({ databases: [] }, responseSchema('GET', DATABASES, 200), misspelt);
    expect(issues).toEqual([{ path: '$', message: 'the schema cannot be checked: strict mode: unknown keyword: "nulable"' }]);
  });

  it('compiles every schema of the Turso description in strict mode', () => {
    const schemas: JsonSchema[] = Object.keys(spec.components?.schemas ?? {}).map((name) => ({ $ref: `#/components/schemas/${name}` }));
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of Object.keys(item)) {
        const responses = (item[method] as { responses?: Record<string, unknown> }).responses ?? {};
        for (const status of Object.keys(responses)) {
          const found = responseSchemaFor(method, template, status, spec);
          if (found?.schema) schemas.push(found.schema);
        }
      }
    }
    expect(schemas.length).toBeGreaterThan(40);
    const uncheckable = schemas.flatMap((schema) =>
      validateAgainstSchema(undefined, schema, spec).filter((issue) => issue.message.startsWith('the schema cannot be checked')),
    );
    expect(uncheckable).toEqual([]);
  });
});
