import { setTimeout as sleepFor } from 'node:timers/promises';
import { accessFromClaims, decodeToken, TokenFormatError, type TokenClaims } from '../auth/jwt.js';
import { checkTokenAccess, type ProbeOptions, type TokenAccess } from './hrana-probe.js';

/*
 * What a token says about itself (read without trusting it) and what a server lets it do, and the
 * verdict for a token meant to be read-write or read-only.
 */

export type TokenRole = 'read-write' | 'read-only';

export interface ClaimsSummary {
  /** False when the text is not a JWT at all. */
  decodable: boolean;
  algorithm: string | null;
  /** What the claims ask for (`a` / `p`); a server may grant otherwise. */
  access: TokenRole | null;
  expiresAt: string | null;
  expired: boolean;
  issuedAt: string | null;
  /** `id` (a database) or `gid` (a group), when the token is scoped. */
  scope: string | null;
}

export function summariseClaims(token: string, nowMs: number): ClaimsSummary {
  let header: Record<string, unknown>;
  let claims: TokenClaims;
  try {
    ({ header, claims } = decodeToken(token));
  } catch (error) {
    if (error instanceof TokenFormatError) {
      return { decodable: false, algorithm: null, access: null, expiresAt: null, expired: false, issuedAt: null, scope: null };
    }
    throw error;
  }
  const seconds = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000).toISOString() : null);
  return {
    decodable: true,
    algorithm: typeof header.alg === 'string' ? header.alg : null,
    access: accessFromClaims(claims),
    expiresAt: seconds(claims.exp),
    expired: typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs,
    issuedAt: seconds(claims.iat),
    scope: typeof claims.id === 'string' ? `database ${claims.id}` : typeof claims.gid === 'string' ? `group ${claims.gid}` : null,
  };
}

/** Everything that is wrong with a token meant for `role`, judged from what the server did. */
export function judgeTokenAccess(role: TokenRole, access: TokenAccess, claims?: ClaimsSummary): string[] {
  if (!access.reachable) return [`the server could not be reached: ${access.detail ?? 'no answer'}`];
  if (access.accepted === false) return [`the server rejects it${access.detail ? ` (${access.detail})` : ''}`];
  if (access.accepted === null) return [`the server failed: ${access.detail ?? 'unknown error'}`];
  const problems: string[] = [];
  if (!access.canRead) problems.push(`it cannot read${access.detail ? ` (${access.detail})` : ''}`);
  if (role === 'read-write') {
    if (access.canWrite === false) problems.push(`it cannot write${access.writeDetail ? ` (${access.writeDetail})` : ''}`);
    if (access.canWrite === null) problems.push(`whether it can write could not be checked${access.writeDetail ? `: ${access.writeDetail}` : ''}`);
    if (claims?.access === 'read-only' && access.canWrite) problems.push('its claims say read-only, yet the server lets it write');
  } else {
    if (access.canWrite === true) {
      problems.push('it can write although it is meant to be read-only: the server ignores the read-only claim (older sqld versions do)');
    }
    if (access.canWrite === null) problems.push(`it could not be confirmed read-only${access.writeDetail ? `: ${access.writeDetail}` : ''}`);
  }
  return problems;
}

export interface TokenCheck {
  /** The env var or label the token came from. */
  source: string;
  /** Where configuration read it, e.g. `TURSO_AUTH_TOKEN in .env.local` or `$TURSO_AUTH_TOKEN`; null when unknown. */
  from: string | null;
  role: TokenRole;
  claims: ClaimsSummary;
  access: TokenAccess;
  problems: string[];
  ok: boolean;
  /** Set when `exp` has passed but the server still accepts the token (its grace for clock skew). */
  grace: ExpiryGrace | null;
}

/**
 * sqld checks `exp` with the jsonwebtoken crate's default leeway, 60 s: an expired token keeps
 * working that long. Turso's servers are sqld.
 */
export const SERVER_EXPIRY_LEEWAY_SECONDS = 60;

export interface ExpiryGrace {
  expiredAt: string;
  /** How much longer the server will accept it, by its leeway. */
  acceptedForSeconds: number;
}

/** An expired token the server still accepted: when it expired and for how much longer it will work. */
export function expiryGrace(claims: ClaimsSummary, access: TokenAccess, nowMs: number): ExpiryGrace | null {
  if (!claims.expired || !claims.expiresAt || access.accepted !== true) return null;
  const endsMs = Date.parse(claims.expiresAt) + SERVER_EXPIRY_LEEWAY_SECONDS * 1000;
  return { expiredAt: claims.expiresAt, acceptedForSeconds: Math.max(0, Math.round((endsMs - nowMs) / 1000)) };
}

export function describeGrace(grace: ExpiryGrace): string {
  return `expired at ${grace.expiredAt}, still accepted for ${grace.acceptedForSeconds} s (the server's grace for expired tokens); replace it before then`;
}

export async function checkToken(
  baseUrl: string,
  token: string,
  expected: { source: string; from?: string | null; role: TokenRole },
  options: ProbeOptions & { nowMs: number },
): Promise<TokenCheck> {
  const claims = summariseClaims(token, options.nowMs);
  const access = await checkTokenAccess(baseUrl, token, options);
  const problems = judgeTokenAccess(expected.role, access, claims);
  if (claims.decodable && claims.access && claims.access !== expected.role && access.accepted) {
    problems.push(`its claims say ${claims.access}, but ${expected.source} should hold a ${expected.role} token`);
  }
  const grace = expiryGrace(claims, access, options.nowMs);
  return { source: expected.source, from: expected.from ?? null, role: expected.role, claims, access, problems, ok: problems.length === 0, grace };
}

export interface WaitOptions {
  /** How long to keep asking, in all. */
  waitMs: number;
  intervalMs: number;
  /** For each request (its own timeout among them). */
  probe?: ProbeOptions;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds; defaults to performance.now(). */
  clock?: () => number;
}

const defaultSleep = (ms: number) => sleepFor(ms);

/**
 * Polls until the server accepts the token (a rotation takes effect after a short restart, and a
 * self-hosted server has to be restarted with the new key). Returns the last answer and when the
 * token was first accepted, on the clock of `options.clock`.
 */
export async function waitUntilAccepted(
  baseUrl: string,
  token: string,
  options: WaitOptions,
): Promise<{ access: TokenAccess; acceptedAt: number | null; attempts: number }> {
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const deadline = clock() + options.waitMs;
  for (let attempts = 1; ; attempts++) {
    const access = await checkTokenAccess(baseUrl, token, options.probe);
    if (access.accepted === true) return { access, acceptedAt: clock(), attempts };
    if (clock() + options.intervalMs > deadline) return { access, acceptedAt: null, attempts };
    await sleep(options.intervalMs);
  }
}

/** Polls until the server rejects the token; true when it did before the deadline. */
export async function waitUntilRejected(baseUrl: string, token: string, options: WaitOptions): Promise<boolean> {
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const deadline = clock() + options.waitMs;
  for (;;) {
    const access = await checkTokenAccess(baseUrl, token, options.probe);
    if (access.accepted === false) return true;
    if (clock() + options.intervalMs > deadline) return false;
    await sleep(options.intervalMs);
  }
}
