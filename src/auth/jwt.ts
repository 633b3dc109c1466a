import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** Claims libSQL servers read from a token: `a` is the access level, `exp` the expiry in seconds. */
export interface TokenClaims {
  a?: 'rw' | 'ro';
  exp?: number;
  iat?: number;
  id?: string;
  gid?: string;
  [claim: string]: unknown;
}

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: TokenClaims;
}

export interface Ed25519KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export class TokenFormatError extends Error {}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  return generateKeyPairSync('ed25519');
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function signToken(claims: TokenClaims, privateKey: KeyObject): string {
  const header = base64url(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** Reads header and claims without checking the signature: for display, never for trust. */
export function decodeToken(token: string): DecodedToken {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenFormatError('the token is not a JWT (expected three dot-separated parts)');
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    };
  } catch {
    throw new TokenFormatError('the token is not a JWT (its header or claims are not base64url JSON)');
  }
}

/** Returns the claims when the signature matches one of the keys, else null. Expiry is the caller's decision. */
export function verifyToken(token: string, publicKeys: KeyObject[]): TokenClaims | null {
  let decoded: DecodedToken;
  try {
    decoded = decodeToken(token);
  } catch {
    return null;
  }
  if (decoded.header.alg !== 'EdDSA') return null;
  const [header, payload, signature] = token.split('.');
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  for (const key of publicKeys) {
    if (verify(null, data, key, sig)) return decoded.claims;
  }
  return null;
}

export function isExpired(claims: TokenClaims, nowMs: number): boolean {
  return typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs;
}

/** The raw 32-byte public key, base64url: the form `sqld --auth-jwt-key-file` reads. */
export function publicKeyToRawBase64url(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x) throw new TokenFormatError('not an Ed25519 public key');
  return jwk.x;
}

export function publicKeyFromText(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: trimmed.replace(/=+$/, '') }, format: 'jwk' });
}

export function privateKeyToPem(privateKey: KeyObject): string {
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export interface MintOptions {
  readOnly?: boolean;
  /** null or undefined: the token never expires (sqld treats `exp` as optional). */
  expiresInSeconds?: number | null;
  nowMs?: number;
}

/** A token a libSQL server accepts: `a` says read-only or read-write, `iat`/`exp` are unix seconds. */
export function mintLibsqlToken(privateKey: KeyObject, options: MintOptions = {}): string {
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims: TokenClaims = { a: options.readOnly ? 'ro' : 'rw', iat: now };
  if (options.expiresInSeconds) claims.exp = now + options.expiresInSeconds;
  return signToken(claims, privateKey);
}

/** The access a libSQL server grants for these claims: `p` overrides `a`, and a missing `a` means full access. */
export function accessFromClaims(claims: TokenClaims): 'read-write' | 'read-only' {
  const p = claims.p;
  if (p && typeof p === 'object') {
    const rights = Object.keys(p as Record<string, unknown>);
    return rights.some((right) => right === 'rw' || right === 'rwa' || right === 'ddl') ? 'read-write' : 'read-only';
  }
  return claims.a === 'ro' || claims.a === ('roa' as string) ? 'read-only' : 'read-write';
}
