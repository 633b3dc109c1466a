import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * A small validator for the subset of OpenAPI 3.0 schemas the Turso Platform API description uses:
 * $ref (any JSON pointer into the document), type, nullable, enum, properties, required, items,
 * additionalProperties, oneOf/anyOf/allOf and format date-time. A validation keyword it does not know
 * is reported as an issue rather than skipped, so a schema it cannot check never passes silently.
 */

export type JsonSchema = { [keyword: string]: unknown };

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ValidationIssue {
  /** JSON path of the offending value, `$` being the root. */
  path: string;
  message: string;
}

export interface ResponseSchemaLookup {
  operationId: string | undefined;
  pathTemplate: string;
  /** The key of the matched response: the status itself, an `NXX` range or `default`. */
  statusKey: string;
  /** The `application/json` schema; undefined when the response is documented without content. */
  schema: JsonSchema | undefined;
}

const SPEC_CANDIDATES = [
  process.env.QBANK_OPENAPI_SPEC,
  fileURLToPath(new URL('../../fixtures/turso-platform-openapi.json', import.meta.url)),
];

let cachedSpec: OpenApiDocument | undefined;

/** The Turso Platform API description: $QBANK_OPENAPI_SPEC, else the copy in fixtures/. */
export function loadOpenApiSpec(file?: string): OpenApiDocument {
  if (!file && cachedSpec) return cachedSpec;
  const path = file ?? SPEC_CANDIDATES.find((candidate) => candidate && existsSync(candidate));
  if (!path) {
    throw new Error(
      `no Turso Platform OpenAPI description found; looked in: ${SPEC_CANDIDATES.filter(Boolean).join(', ')}`,
    );
  }
  const spec = JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument;
  if (typeof spec.openapi !== 'string' || !spec.openapi.startsWith('3.0')) {
    throw new Error(`${path} is not an OpenAPI 3.0 description`);
  }
  if (!file) cachedSpec = spec;
  return spec;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The operation for a method and a path, given either as a template or as a concrete path. */
export function findOperation(
  method: string,
  path: string,
  spec: OpenApiDocument = loadOpenApiSpec(),
): { pathTemplate: string; operation: Record<string, unknown> } | undefined {
  const wanted = method.toLowerCase();
  if (!HTTP_METHODS.has(wanted)) return undefined;
  const segments = splitPath(path);
  let best: { pathTemplate: string; operation: Record<string, unknown>; literals: number } | undefined;
  for (const [template, item] of Object.entries(spec.paths)) {
    const operation = item[wanted];
    if (!isObject(operation)) continue;
    const templateSegments = splitPath(template);
    if (templateSegments.length !== segments.length) continue;
    let literals = 0;
    const matches = templateSegments.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return segments[i] !== '';
      if (part === segments[i]) {
        literals++;
        return true;
      }
      return false;
    });
    // `/groups/{groupName}` and `/groups/locations` style overlaps: the most literal template wins.
    if (matches && (!best || literals > best.literals)) best = { pathTemplate: template, operation, literals };
  }
  return best && { pathTemplate: best.pathTemplate, operation: best.operation };
}

/**
 * The documented response schema for an operation and status. Undefined when the operation does not
 * exist or documents neither the status, its `NXX` range nor a `default` response.
 */
export function responseSchemaFor(
  method: string,
  path: string,
  status: number | string,
  spec: OpenApiDocument = loadOpenApiSpec(),
): ResponseSchemaLookup | undefined {
  const found = findOperation(method, path, spec);
  if (!found) return undefined;
  const responses = found.operation.responses;
  if (!isObject(responses)) return undefined;
  const code = String(status);
  const statusKey = [code, `${code[0]}XX`, `${code[0]}xx`, 'default'].find((key) => key in responses);
  if (!statusKey) return undefined;
  let response = responses[statusKey];
  for (let hops = 0; isObject(response) && typeof response.$ref === 'string'; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${response.$ref}`);
    response = resolvePointer(spec, response.$ref);
  }
  if (!isObject(response)) throw new Error(`response ${statusKey} of ${method} ${found.pathTemplate} is not an object`);
  const content = response.content;
  const json = isObject(content) ? (content['application/json'] ?? content['*/*']) : undefined;
  const schema = isObject(json) && isObject(json.schema) ? (json.schema as JsonSchema) : undefined;
  return {
    operationId: typeof found.operation.operationId === 'string' ? found.operation.operationId : undefined,
    pathTemplate: found.pathTemplate,
    statusKey,
    schema,
  };
}

/** Every way `value` breaks `schema`; an empty list means it is valid. */
export function validateAgainstSchema(
  value: unknown,
  schema: JsonSchema,
  spec: OpenApiDocument = loadOpenApiSpec(),
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  check(value, schema, '$', spec, issues, 0);
  return issues;
}

/** Resolves a local JSON pointer such as `#/components/schemas/Database/properties/DbId`. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`only local $ref values are supported, not ${ref}`);
  const parts = ref
    .slice(1)
    .split('/')
    .slice(1)
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = document;
  for (const part of parts) {
    if (!isObject(node) && !Array.isArray(node)) throw new Error(`$ref ${ref} does not resolve`);
    node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve (no "${part}")`);
  }
  return node;
}

const ANNOTATIONS = new Set([
  'description',
  'example',
  'examples',
  'default',
  'deprecated',
  'title',
  'readOnly',
  'writeOnly',
  'externalDocs',
  'xml',
]);
const HANDLED = new Set([
  '$ref',
  'type',
  'nullable',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  'format',
]);
const KNOWN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password', 'uuid', 'email', 'uri']);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function check(value: unknown, schema: JsonSchema, path: string, spec: OpenApiDocument, issues: ValidationIssue[], depth: number) {
  if (depth > 64) throw new Error(`schema nesting deeper than 64 at ${path}; is there a $ref cycle?`);
  const fail = (message: string) => issues.push({ path, message });

  // In OpenAPI 3.0, keywords beside a $ref are ignored.
  if (typeof schema.$ref === 'string') {
    const target = resolvePointer(spec, schema.$ref);
    if (!isObject(target)) throw new Error(`$ref ${schema.$ref} is not a schema`);
    check(value, target as JsonSchema, path, spec, issues, depth + 1);
    return;
  }

  for (const keyword of Object.keys(schema)) {
    if (!HANDLED.has(keyword) && !ANNOTATIONS.has(keyword) && !keyword.startsWith('x-')) {
      fail(`schema keyword "${keyword}" is not supported by this validator`);
    }
  }

  if (value === null) {
    // `nullable` applies to the schema's own type; a schema without type or composition accepts anything.
    const constrained = 'type' in schema || 'enum' in schema || 'oneOf' in schema || 'anyOf' in schema || 'allOf' in schema;
    if (schema.nullable === true || !constrained) return;
    fail(`expected ${describeType(schema)}, got null`);
    return;
  }

  if (typeof schema.type === 'string' && !hasType(value, schema.type)) {
    fail(`expected ${schema.type}, got ${typeOf(value)}`);
    return;
  }

  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
    fail(`expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
  }

  if (typeof schema.format === 'string' && typeof value === 'string') {
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) fail(`expected a date-time, got ${JSON.stringify(value)}`);
    else if (schema.format !== 'date-time' && !KNOWN_FORMATS.has(schema.format)) {
      fail(`format "${schema.format}" is not supported by this validator`);
    }
  }

  if (isObject(value) && !Array.isArray(value)) {
    const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) {
        if (typeof name === 'string' && !(name in value)) fail(`missing required property "${name}"`);
      }
    }
    for (const [name, propertyValue] of Object.entries(value)) {
      const childPath = `${path}.${name}`;
      if (name in properties) {
        check(propertyValue, properties[name], childPath, spec, issues, depth + 1);
      } else if (schema.additionalProperties === false) {
        issues.push({ path: childPath, message: 'property not allowed by the schema' });
      } else if (isObject(schema.additionalProperties)) {
        check(propertyValue, schema.additionalProperties as JsonSchema, childPath, spec, issues, depth + 1);
      }
    }
  }

  if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, i) => check(item, schema.items as JsonSchema, `${path}[${i}]`, spec, issues, depth + 1));
  }

  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf) check(value, part as JsonSchema, path, spec, issues, depth + 1);
  }

  if (Array.isArray(schema.anyOf)) {
    const results = schema.anyOf.map((part) => validateBranch(value, part as JsonSchema, path, spec, depth));
    if (!results.some((r) => r.length === 0)) {
      fail(`matches none of the anyOf schemas (${summarise(results)})`);
    }
  }

  if (Array.isArray(schema.oneOf)) {
    const results = schema.oneOf.map((part) => validateBranch(value, part as JsonSchema, path, spec, depth));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing === 0) fail(`matches none of the oneOf schemas (${summarise(results)})`);
    else if (passing > 1) fail(`matches ${passing} of the oneOf schemas, expected exactly one`);
  }
}

function validateBranch(value: unknown, schema: JsonSchema, path: string, spec: OpenApiDocument, depth: number) {
  const branchIssues: ValidationIssue[] = [];
  check(value, schema, path, spec, branchIssues, depth + 1);
  return branchIssues;
}

function summarise(results: ValidationIssue[][]): string {
  return results.map((r, i) => `#${i}: ${r[0] ? `${r[0].path} ${r[0].message}` : 'ok'}`).join('; ');
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value) && !Array.isArray(value);
    default:
      throw new Error(`unknown schema type "${type}"`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function describeType(schema: JsonSchema): string {
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  return 'a value';
}

function splitPath(path: string): string[] {
  const withoutQuery = path.split(/[?#]/)[0];
  return withoutQuery
    .replace(/\/+$/, '')
    .split('/')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
