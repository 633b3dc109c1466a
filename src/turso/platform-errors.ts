import { ConnectionError, QbankError, RefusedError, UsageError } from '../errors.js';
import { PlatformApiError } from './platform-api.js';

export interface PlatformErrorContext {
  /** Added to a 404: where to look the name up. */
  notFoundHint?: string;
}

/**
 * Maps a Platform API failure to the qbank error (and exit code) an operator can act on. The client
 * already words the message from the `{ "error": ... }` body; this adds the exit code and a hint.
 */
export function describePlatformError(error: unknown, context: PlatformErrorContext = {}): QbankError {
  if (error instanceof QbankError) return error;
  if (!(error instanceof PlatformApiError)) {
    return new QbankError(`Turso Platform API: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const { status, kind } = error;
  if (kind === 'network') {
    return new ConnectionError(error.message, { hint: 'check TURSO_API_URL (unset means https://api.turso.tech) and the network', cause: error });
  }
  if (kind === 'invalid-response') return new QbankError(error.message, { cause: error });
  if (kind === 'unusable-token') return new UsageError(error.message, { hint: 'copy TURSO_API_TOKEN again: a token is one line of printable characters', cause: error });
  if (status === 401) {
    return new ConnectionError(error.message, { hint: 'TURSO_API_TOKEN must be a platform API token (not a database token) that has not been revoked', cause: error });
  }
  if (status === 403) {
    return new ConnectionError(error.message, { hint: 'check TURSO_ORG and the scopes of TURSO_API_TOKEN (`turso auth api-tokens list`)', cause: error });
  }
  if (status === 404) return new UsageError(error.message, { hint: context.notFoundHint ?? 'check the name and TURSO_ORG', cause: error });
  if (status === 409) return new RefusedError(error.message, { hint: 'the resource already exists or is busy; look at its state with `turso db show` before retrying', cause: error });
  if (status === 400 || status === 422) return new UsageError(error.message, { cause: error });
  if (status === 402) return new RefusedError(error.message, { hint: 'the organization has no active subscription for this', cause: error });
  return new ConnectionError(error.message, { hint: 'the Turso Platform API is failing; retry later', cause: error });
}

/** Runs one Platform API call and turns its failure into a qbank error. */
export async function callPlatform<T>(call: () => Promise<T>, context: PlatformErrorContext = {}): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describePlatformError(error, context);
  }
}
