import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDotenv } from '../config.js';

export const REDACTED = '***';

/**
 * Every token shape qbank handles, recognised without knowing its value: JWTs (Turso database and
 * group tokens, Platform API tokens, tokens minted for self-hosted libSQL: base64url header, claims
 * and signature), a bearer credential of token characters (not a code example's `Bearer ${token}`),
 * and a PEM private key (self-hosted signing keys). Applied to messages (stderr, errors), never to data on stdout, where a question about JWTs
 * may quote one.
 */
export const TOKEN_PATTERN =
  /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*|(?<=\bBearer\s+)[A-Za-z0-9._~+/=-]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/** Shorter values are too likely to be ordinary words to be replaced wherever they appear. */
const MIN_SECRET_LENGTH = 8;

/** Replaces anything shaped like a token with `***`. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, REDACTED);
}

/** Replaces each known secret value (and each line of one with a line break), and anything shaped like a token, with `***`. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined> = []): string {
  return redactKnownSecrets(text.replace(TOKEN_PATTERN, REDACTED), [...secrets].flatMap(secretForms));
}

/** Replaces each known secret value; leaves everything else as it is (for data on stdout). */
export function redactKnownSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let result = text;
  for (const secret of secrets) if (secret && secret.length >= MIN_SECRET_LENGTH && result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}

/**
 * The forms a secret takes on its way into a message: as given, and each of its lines or words (a
 * token with a line break comes back as `Bearer abc SECRET` from the HTTP layer).
 */
export function secretForms(value: string | undefined): string[] {
  if (!value) return [];
  const forms = new Set<string>([value, value.trim()]);
  for (const part of value.split(/[\s\u0000-\u001f]+/)) forms.add(part);
  for (const form of secretsInUrl(value)) forms.add(form);
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

const SECRET_PARAMETER = /token|secret|password|passwd|jwt|auth|key/i;

/** Credentials a URL carries: its user name and password, and query parameters named like secrets. */
export function secretsInUrl(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text.trim())) return [];
  const found: string[] = [];
  try {
    const url = new URL(text.trim());
    if (url.password) found.push(url.password, decodeURIComponent(url.password));
    if (url.username && url.password) found.push(url.username, decodeURIComponent(url.username));
    else if (url.username) found.push(url.username, decodeURIComponent(url.username));
    for (const [key, value] of url.searchParams) if (SECRET_PARAMETER.test(key)) found.push(value, encodeURIComponent(value));
  } catch {
    // `file:` URLs with odd paths and the like: only the query string can hold a secret
    const query = text.slice(text.indexOf('?') + 1);
    if (text.includes('?')) {
      for (const [key, value] of new URLSearchParams(query)) if (SECRET_PARAMETER.test(key)) found.push(value);
    }
  }
  return found;
}

/** Environment variables whose values qbank treats as secret wherever they are printed. */
const SECRET_VARIABLE = /TOKEN|SECRET|PASSWORD|PASSWD/i;
/** Flags whose value is a secret, in the forms `--flag VALUE` and `--flag=VALUE`. */
const SECRET_FLAG = /^--[a-z-]*(?:token|secret|password)[a-z-]*$/i;

interface SecretSources {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
}

/**
 * Every secret value the run may know, wherever it came from: the environment, `.env` and
 * `.env.local`, the variables a `qbank.config.json` target names, an `--env-file`, token flags, and
 * credentials inside URLs (`TURSO_API_URL=http://u:SECRET@…`, `?authToken=`, `?token=`).
 */
export function collectSecrets({ argv, env, cwd }: SecretSources): string[] {
  const layers: Array<Record<string, string | undefined>> = [env];
  const envFiles = ['.env', '.env.local', ...flagValues(argv, '--env-file')];
  for (const file of envFiles) {
    const dotenv = readDotenv(resolve(cwd, file));
    if (dotenv) layers.push(dotenv);
  }
  const targetVariables = variablesNamedByTargets(cwd);
  const values: string[] = [];
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (SECRET_VARIABLE.test(name) || targetVariables.has(name)) values.push(...secretForms(value));
      else values.push(...secretsInUrl(value).flatMap(secretForms));
    }
  }
  argv.forEach((arg, index) => {
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (SECRET_FLAG.test(flag)) values.push(...secretForms(inline ?? argv[index + 1]));
    values.push(...secretsInUrl(inline ?? arg).flatMap(secretForms));
  });
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

function flagValues(argv: string[], flag: string): string[] {
  const values: string[] = [];
  argv.forEach((arg, index) => {
    if (arg === flag && argv[index + 1] !== undefined) values.push(argv[index + 1]);
    else if (arg.startsWith(flag + '=')) values.push(arg.slice(flag.length + 1));
  });
  return values;
}

function readDotenv(path: string): Record<string, string> | undefined {
  try {
    return existsSync(path) ? parseDotenv(readFileSync(path, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/** The variables `qbank.config.json` targets read credentials and URLs from (`authTokenEnv`, `urlEnv`, …). */
function variablesNamedByTargets(cwd: string): Set<string> {
  const names = new Set<string>();
  try {
    const path = join(cwd, 'qbank.config.json');
    if (!existsSync(path)) return names;
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { targets?: Record<string, Record<string, unknown>> };
    for (const target of Object.values(parsed.targets ?? {})) {
      for (const key of ['authTokenEnv', 'readOnlyAuthTokenEnv']) if (typeof target?.[key] === 'string') names.add(target[key] as string);
    }
  } catch {
    // an unreadable config file is reported by the configuration itself
  }
  return names;
}
