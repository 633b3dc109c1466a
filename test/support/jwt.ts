import type { KeyObject } from 'node:crypto';
import { verifyToken, type TokenClaims } from '../../src/auth/jwt.js';

// Key generation, signing and the key text forms live in the product module; tests and the local
// libSQL server use them from there so there is one implementation of the token format.
export {
  decodeToken,
  generateEd25519KeyPair,
  isExpired,
  publicKeyFromText,
  publicKeyToRawBase64url,
  signToken,
  verifyToken,
  type Ed25519KeyPair,
  type TokenClaims,
} from '../../src/auth/jwt.js';

/** The public key as an SPKI PEM block: the other form `sqld --auth-jwt-key-file` reads. */
export function publicKeyToPem(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * sqld validates `exp` with jsonwebtoken's default leeway, so a token stays usable for a minute
 * after its `exp`. A test that wants a rejected token must expire it further back than this.
 */
export const EXPIRY_LEEWAY_SECONDS = 60;

/** True once `exp` (if any) lies further back than sqld's leeway. */
export function hasExpiredForSqld(claims: TokenClaims, nowMs: number = Date.now()): boolean {
  return typeof claims.exp === 'number' && (claims.exp + EXPIRY_LEEWAY_SECONDS) * 1000 <= nowMs;
}

export type BearerCheck =
  | { ok: true; claims: TokenClaims; access: 'rw' | 'ro' }
  | { ok: false; reason: string };

/**
 * Checks an `Authorization` header the way sqld does: a case-insensitive `Bearer` scheme, an
 * EdDSA signature from one of the keys, an optional `exp`, and `a` defaulting to full access.
 * `reason` is sqld's own wording, which it wraps as `Unauthorized: \`reason\``.
 */
export function verifyBearerToken(
  header: string | undefined,
  publicKeys: readonly KeyObject[],
  nowMs: number = Date.now(),
): BearerCheck {
  if (header === undefined) return { ok: false, reason: 'The `Authorization` HTTP header has invalid value' };
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    return { ok: false, reason: 'The authentication scheme in the `Authorization` HTTP header is not supported' };
  }
  const claims = verifyToken(header.slice(space + 1).trim(), [...publicKeys]);
  const a: unknown = claims?.a;
  if (
    claims === null ||
    typeof claims !== 'object' ||
    Array.isArray(claims) ||
    (claims.exp !== undefined && typeof claims.exp !== 'number') ||
    (a !== undefined && a !== 'rw' && a !== 'ro' && a !== 'roa')
  ) {
    return { ok: false, reason: 'The JWT is invalid' };
  }
  if (hasExpiredForSqld(claims, nowMs)) return { ok: false, reason: 'The JWT has expired' };
  const access = a === 'ro' || a === 'roa' ? 'ro' : 'rw';
  return { ok: true, claims, access };
}
