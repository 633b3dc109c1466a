import { setTimeout as timerSleep } from 'node:timers/promises';
import type { z } from 'zod';
import { tokenProblem } from '../auth/token-input.js';
import { redactSecrets } from '../output/redact.js';

/*
 * The HTTP layer under the Turso Platform API client: one request (transport), retries with backoff
 * (the policy a parameter), and the mapping of what came back (an `{ "error": ... }` body, a status,
 * a network failure) to a PlatformApiError worded for the call. The endpoints live in platform-api.ts.
 */

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
export interface CallContext {
  /** e.g. `create a token for database "quiz"` */
  action: string;
  /** What a 404 means, e.g. `database "quiz"`. */
  notFound?: string;
  /** The token scope a 403 most likely lacks. */
  scope?: string;
  /** Appended to a 400's message, e.g. the accepted formats of a parameter. */
  badRequestHint?: string;
}

export interface Call<T> extends CallContext {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** null: the response body is ignored (the spec documents no content). */
  schema: z.ZodType<T> | null;
}

// ---------------------------------------------------------------------------------------------
// retries

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Why an attempt may be repeated, and how long the server asked to wait (Retry-After), if it did. */
export interface RetryDecision {
  reason: string;
  delayMs?: number;
}

/**
 * Runs `attempt` until it succeeds, the policy's attempts are spent, or `retryable` says the failure
 * is final; waits `baseDelayMs * 2^(n-1)` (at most `maxDelayMs`) between attempts, or what the failure
 * asks for. The last failure is thrown as it was.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: {
    retryable: (error: unknown) => RetryDecision | null;
    sleep?: (ms: number) => Promise<void>;
    onRetry?: (next: { attempt: number; delayMs: number; reason: string }) => void;
  },
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => timerSleep(ms));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const decision = n < policy.attempts ? options.retryable(error) : null;
      if (!decision) throw error;
      const delayMs = decision.delayMs ?? Math.min(policy.baseDelayMs * 2 ** (n - 1), policy.maxDelayMs);
      options.onRetry?.({ attempt: n + 1, delayMs, reason: decision.reason });
      await sleep(delayMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// transport

export interface PlatformHttpOptions {
  baseUrl: string;
  /** Platform API token (not a database token). */
  token: string;
  /** Organization slug, for messages. */
  org: string;
  fetch?: typeof globalThis.fetch;
  /** Receives one line per request, response and retry; tokens are redacted. */
  debug?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Extra attempts for idempotent (GET) calls after a 429, a 5xx or a network error. */
  retries: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export interface PlatformHttp {
  request<T>(call: Call<T>): Promise<T>;
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;
const LOGGED_BODY_CHARS = 2_000;

/** A response that may succeed when asked again (429, 5xx), carried through `withRetries`. */
class TransientResponse extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
    readonly retryAfter: string | null,
  ) {
    super(`status ${status}`);
  }
}

/** No response at all (refused, reset, timed out). */
class NetworkFailure extends Error {
  constructor(
    readonly reason: string,
    override readonly cause: unknown,
  ) {
    super(reason);
  }
}

export function createPlatformHttp(options: PlatformHttpOptions): PlatformHttp {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const { baseUrl, token, org, debug } = options;
  const log = debug ? (line: string) => debug(redactTokens(line, token)) : undefined;
  const unusableToken = tokenProblem(token);

  /** One attempt: the parsed body, or a TransientResponse / NetworkFailure / PlatformApiError. */
  async function send<T>(call: Call<T>, url: URL, attempt: number, attempts: number): Promise<T> {
    log?.(`platform-api → ${call.method} ${url.href} (attempt ${attempt}/${attempts})`);
    const shown = `${call.method} ${url.pathname}${url.search}`;
    const started = Date.now();
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: call.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'user-agent': 'qbank',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (cause) {
      const reason = redactTokens(describeNetworkError(cause), token);
      log?.(`platform-api ✗ ${shown} failed after ${Date.now() - started} ms: ${reason}`);
      throw new NetworkFailure(reason, cause);
    }
    const text = await response.text().catch(() => '');
    log?.(`platform-api ← ${response.status} ${shown} (${Date.now() - started} ms)${text ? ` ${truncate(text)}` : ''}`);
    if (response.ok) return parseSuccess(call, url.pathname, response.status, text);
    if (response.status === 429 || response.status >= 500) throw new TransientResponse(response.status, text, response.headers.get('retry-after'));
    throw httpError(call, org, url.pathname, response.status, text);
  }

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
    const attempts = call.method === 'GET' ? Math.max(0, options.retries) + 1 : 1;
    const shown = `${call.method} ${url.pathname}${url.search}`;
    try {
      return await withRetries((n) => send(call, url, n, attempts), { attempts, baseDelayMs: BASE_DELAY_MS, maxDelayMs: MAX_DELAY_MS }, {
        retryable: transientDecision,
        sleep: options.sleep,
        onRetry: ({ attempt, delayMs, reason }) => log?.(`platform-api retrying ${shown} in ${delayMs} ms (${reason}; attempt ${attempt}/${attempts} next)`),
      });
    } catch (error) {
      throw finalError(error, call, org, baseUrl, url.pathname);
    }
  }

  return { request };
}

function transientDecision(error: unknown): RetryDecision | null {
  if (error instanceof NetworkFailure) return { reason: error.reason };
  if (error instanceof TransientResponse) return { reason: `status ${error.status}`, delayMs: retryAfterMs(error.retryAfter) };
  return null;
}

/** The failure of the last attempt as a PlatformApiError that says what the call was for. */
function finalError(error: unknown, call: Call<unknown>, org: string, baseUrl: string, path: string): unknown {
  const unsure = call.method === 'GET' ? '' : '; it was not retried because it may already have taken effect, so check before trying again';
  if (error instanceof NetworkFailure) {
    return new PlatformApiError(`could not reach the Turso Platform API at ${baseUrl} to ${call.action}: ${error.reason}${unsure}`, {
      status: 0,
      kind: 'network',
      method: call.method,
      path,
      cause: error.cause,
    });
  }
  if (error instanceof TransientResponse) return httpError(call, org, path, error.status, error.text);
  return error;
}

// ---------------------------------------------------------------------------------------------
// responses

function parseSuccess<T>(call: Call<T>, path: string, status: number, text: string): T {
  if (call.schema === null) return undefined as T;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new PlatformApiError(`the Turso Platform API answered ${call.method} ${path} with a body that is not JSON (status ${status})`, {
      status,
      kind: 'invalid-response',
      method: call.method,
      path,
      cause,
    });
  }
  const parsed = call.schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
      .join('; ');
    throw new PlatformApiError(`unexpected response from the Turso Platform API to ${call.method} ${path}: ${issues}`, {
      status,
      kind: 'invalid-response',
      method: call.method,
      path,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function headlineFor(call: CallContext, org: string, status: number): string {
  if (status === 400) return `could not ${call.action}`;
  if (status === 401) {
    return `platform API token invalid or expired (Turso answered 401 when trying to ${call.action}); create a new one with "turso auth api-tokens mint <name>"`;
  }
  if (status === 403) {
    const scope = call.scope ? ` (it needs the ${call.scope} scope)` : '';
    return `permission denied: the platform API token may not ${call.action} in organization "${org}"${scope}, or the token's user is not a member of that organization`;
  }
  if (status === 404) return call.notFound ? `${call.notFound} not found in organization "${org}"` : `not found when trying to ${call.action}`;
  if (status === 409) return `conflict when trying to ${call.action}`;
  if (status === 429) return `rate limited by the Turso Platform API when trying to ${call.action}`;
  if (status >= 500) return `the Turso Platform API failed to ${call.action} (HTTP ${status})`;
  return `could not ${call.action} (HTTP ${status})`;
}

function httpError(call: CallContext & { method: string }, org: string, path: string, status: number, text: string): PlatformApiError {
  const { message: serverMessage, code } = readErrorBody(status, text);
  const hint = status === 400 && call.badRequestHint ? ` (${call.badRequestHint})` : '';
  const notRepeated =
    call.method !== 'GET' && (status === 429 || status >= 500)
      ? '; it was not retried because it may already have taken effect, so check before trying again'
      : '';
  return new PlatformApiError(`${headlineFor(call, org, status)}: ${serverMessage}${hint}${notRepeated}`, {
    status,
    kind: 'http',
    method: call.method,
    path,
    serverMessage,
    code,
  });
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

/** Debug lines and network messages never carry the platform token or a minted JWT. */
function redactTokens(line: string, token: string): string {
  return redactSecrets(line.replace(/("jwt"\s*:\s*)"[^"]*"/g, '$1"[REDACTED]"'), [token]);
}
