/**
 * A local libSQL server for tests and benchmarks: Hrana over HTTP (the protocol sqld speaks and
 * @libsql/client's `http://` path uses), backed by a real database file through the `libsql`
 * package. Each stream owns one connection, so interactive transactions are isolated and hold
 * their locks until commit, rollback, close or expiry, as on sqld.
 *
 *   const server = await startLibsqlServer({ dbPath, publicKeys: keys.publicKey });
 *   const client = createClient({ url: server.url, authToken: signToken({ a: 'ro' }, keys.privateKey) });
 *   server.knobs.latencyMs = 20;          // every request from now on
 *   server.knobs.failOnRequest = 1;       // the next request gets HTTP 500
 *   console.log(server.stats.byPath['/v2/pipeline']);
 *   await server.close();
 *
 * Where it differs from sqld on purpose: a write that finds the database locked is retried from
 * the event loop for `busyTimeoutMs` and then fails with SQLITE_BUSY (sqld waits up to 5 s and
 * then steals the lock); a replica answers writes with SQLITE_READONLY instead of forwarding them
 * to its primary; only /v2/pipeline and /v3/pipeline with JSON bodies are served (no cursor,
 * Protobuf, Hrana 1 or legacy `POST /`).
 */

// The server's parts, in ./libsql-server/: server.ts (HTTP routes, auth, injected faults),
// pipeline.ts (stream requests), streams.ts (streams and batons), executor.ts (running statements),
// connections.ts (one libsql connection per stream, pooled), sql-analysis.ts (statement kinds and
// parameters), protocol.ts and values.ts (Hrana JSON), knobs.ts, errors.ts, http.ts, dump.ts.
export type { LibsqlServer, LibsqlServerKnobs, LibsqlServerOptions, LibsqlServerStats, PublicKeyInput } from './libsql-server/api.js';
export { startLibsqlServer } from './libsql-server/server.js';
