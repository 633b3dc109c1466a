import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/*
 * Checks JSON values against the schemas of an OpenAPI 3.0 description with Ajv in strict mode: a
 * keyword Ajv does not know is an issue, never skipped, so a schema that cannot be checked never
 * passes silently. OpenAPI 3.0 is not quite JSON Schema, so each schema is converted first:
 * `nullable: true` becomes a type that admits null, keywords beside a `$ref` are dropped (3.0 ignores
 * them), `x-` extensions are dropped, `example`/`xml`/`externalDocs` are annotations, and the 3.0
 * data-type formats (int32 … date-time) are defined.
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

/**
 * Every way `value` breaks `schema`; an empty list means it is valid. `$ref`s point into `spec`. A
 * schema Ajv cannot compile in strict mode (an unknown keyword or format, say) gives one issue at `$`.
 */
export function validateAgainstSchema(
  value: unknown,
  schema: JsonSchema,
  spec: OpenApiDocument = loadOpenApiSpec(),
): ValidationIssue[] {
  let validate: ValidateFunction;
  try {
    validate = compiledValidator(schema, spec);
  } catch (error) {
    return [{ path: '$', message: `the schema cannot be checked: ${(error as Error).message}` }];
  }
  if (validate(value)) return [];
  return describeErrors(validate.errors ?? [], value);
}

/** Resolves a local JSON pointer such as `#/components/schemas/Database/properties/DbId`. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`only local $ref values are supported, not ${ref}`);
  let node = document;
  for (const part of pointerSegments(ref.slice(1)).map((segment) => decodeURIComponent(segment))) {
    if (!isObject(node) && !Array.isArray(node)) throw new Error(`$ref ${ref} does not resolve`);
    node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve (no "${part}")`);
  }
  return node;
}

// ---- Ajv over OpenAPI 3.0 ----

/**
 * Each schema of `components.schemas` is registered on its own under this base (the description's
 * other fields are not JSON Schema, so strict mode would refuse the document as a whole), and every
 * `#/components/schemas/NAME/…` ref is rewritten to point at it.
 */
const COMPONENT_SCHEMAS = 'https://qbank.test/openapi/components/schemas/';

const validators = new WeakMap<OpenApiDocument, { ajv: Ajv; compiled: WeakMap<JsonSchema, ValidateFunction> }>();

function compiledValidator(schema: JsonSchema, spec: OpenApiDocument): ValidateFunction {
  let forSpec = validators.get(spec);
  if (!forSpec) {
    forSpec = { ajv: createAjv(spec), compiled: new WeakMap() };
    validators.set(spec, forSpec);
  }
  let validate = forSpec.compiled.get(schema);
  if (!validate) {
    validate = forSpec.ajv.compile(toJsonSchema(schema));
    forSpec.compiled.set(schema, validate);
  }
  return validate;
}

function componentRef(ref: string): string {
  const match = /^#\/components\/schemas\/([^/]+)(\/.*)?$/.exec(ref);
  if (!match) throw new Error(`only refs into #/components/schemas are supported, not ${ref}`);
  return `${COMPONENT_SCHEMAS}${match[1]}#${match[2] ?? ''}`;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function createAjv(spec: OpenApiDocument): Ajv {
  // strictTypes stays off: the description gives `properties` without `type: object` (the api-tokens
  // responses), which JSON Schema allows. Unknown keywords and formats still fail (strictSchema).
  const ajv = new Ajv({ strict: true, strictTypes: false, allErrors: true, verbose: true });
  ajv.addVocabulary(['example', 'xml', 'externalDocs']);
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('byte', BASE64);
  ajv.addFormat('binary', true);
  ajv.addFormat('password', true);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
    ajv.addSchema(toJsonSchema(schema as JsonSchema), `${COMPONENT_SCHEMAS}${name}`);
  }
  return ajv;
}

/** One OpenAPI 3.0 schema as JSON Schema, its refs pointing at the registered component schemas. */
function toJsonSchema(schema: JsonSchema): JsonSchema {
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') return { $ref: componentRef(schema.$ref) };
  const sub = (child: unknown) => toJsonSchema(child as JsonSchema);
  const converted: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword.startsWith('x-') || keyword === 'nullable') continue;
    if (keyword === 'properties' && isObject(value)) {
      converted.properties = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, sub(child)]));
    } else if ((keyword === 'items' || keyword === 'additionalProperties' || keyword === 'not') && isObject(value)) {
      converted[keyword] = sub(value);
    } else if ((keyword === 'allOf' || keyword === 'anyOf' || keyword === 'oneOf') && Array.isArray(value)) {
      converted[keyword] = value.map(sub);
    } else {
      converted[keyword] = value;
    }
  }
  if (schema.nullable !== true) return converted;
  if (typeof converted.type === 'string') {
    converted.type = [converted.type, 'null'];
    if (Array.isArray(converted.enum)) converted.enum = [...converted.enum, null];
    return converted;
  }
  return { anyOf: [converted, { type: 'null' }] };
}

// ---- Ajv's errors as issues ----

/**
 * Ajv's errors in this module's words. The errors of each branch of a failed `oneOf`/`anyOf` come
 * just before it (their schema path lies under it): they are folded into its message, one issue.
 */
function describeErrors(errors: ErrorObject[], root: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const folded = new Set<ErrorObject>();
  for (const [index, error] of errors.entries()) {
    if (error.keyword !== 'oneOf' && error.keyword !== 'anyOf') continue;
    const branches: ErrorObject[] = [];
    for (let before = index - 1; before >= 0 && errors[before]!.schemaPath.startsWith(`${error.schemaPath}/`); before--) {
      branches.unshift(errors[before]!);
      folded.add(errors[before]!);
    }
    (error as ErrorObject & { branches?: ErrorObject[] }).branches = branches;
  }
  for (const error of errors) {
    if (folded.has(error)) continue;
    issues.push(describeError(error as ErrorObject & { branches?: ErrorObject[] }, root));
  }
  return issues;
}

function describeError(error: ErrorObject & { branches?: ErrorObject[] }, root: unknown): ValidationIssue {
  const path = jsonPath(root, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return { path, message: `expected ${[params.type].flat().join(' or ')}, got ${typeOf(error.data)}` };
    case 'required':
      return { path, message: `missing required property "${String(params.missingProperty)}"` };
    case 'additionalProperties':
      return { path: `${path}.${String(params.additionalProperty)}`, message: 'property not allowed by the schema' };
    case 'enum':
      return {
        path,
        message: `expected one of ${(error.schema as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(error.data)}`,
      };
    case 'format':
      return { path, message: `expected a ${String(params.format)}, got ${JSON.stringify(error.data)}` };
    case 'oneOf':
    case 'anyOf': {
      const passing = Array.isArray(params.passingSchemas) ? params.passingSchemas.length : 0;
      if (passing > 1) return { path, message: `matches ${passing} of the oneOf schemas, expected exactly one` };
      return { path, message: `matches none of the ${error.keyword} schemas (${summariseBranches(error, root)})` };
    }
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

function summariseBranches(error: ErrorObject & { branches?: ErrorObject[] }, root: unknown): string {
  const firstByBranch = new Map<string, ErrorObject>();
  for (const branchError of error.branches ?? []) {
    const branch = branchError.schemaPath.slice(error.schemaPath.length + 1).split('/')[0]!;
    if (!firstByBranch.has(branch)) firstByBranch.set(branch, branchError);
  }
  return [...firstByBranch]
    .map(([branch, first]) => {
      const issue = describeError(first, root);
      return `#${branch}: ${issue.path} ${issue.message}`;
    })
    .join('; ');
}

/** `/instances/0/type` → `$.instances[0].type`: indexes of arrays in brackets, keys after dots. */
function jsonPath(root: unknown, instancePath: string): string {
  let path = '$';
  let node = root;
  for (const segment of pointerSegments(instancePath)) {
    path += Array.isArray(node) ? `[${segment}]` : `.${segment}`;
    node = isObject(node) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}

/** The keys of a JSON pointer (`/a~1b/0` → `a/b`, `0`); a `$ref` fragment is URI-decoded as well. */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
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
