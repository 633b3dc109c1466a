import type { KeyObject } from 'node:crypto';

export type PublicKeyInput = KeyObject | string;

export interface LibsqlServerOptions {
  /** The database file. Optional only for a replica, which defaults to its primary's file. */
  dbPath?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Ed25519 public keys (KeyObject, PEM or raw base64url). Without any, auth is disabled. */
  publicKeys?: PublicKeyInput | PublicKeyInput[];
  latencyMs?: number;
  /** Idle time after which a stream expires and its transaction is rolled back. sqld: 10 s. */
  streamExpiryMs?: number;
  /** How long a statement keeps retrying on SQLITE_BUSY before the error is returned. */
  busyTimeoutMs?: number;
  /** Serve `replicaOf`'s database read-only and report its replication index minus the lag. */
  replicaOf?: LibsqlServer;
  replicationLag?: number;
  /** Faults count requests from when they are set: 1 means the next request. Each fires once. */
  failOnRequest?: number;
  dropOnRequest?: number;
  dropMidResponse?: number;
  /** Idle connections kept for new streams, so a short request does not reopen the database. */
  maxIdleConnections?: number;
}

/** Settings that can be changed while the server runs, e.g. `server.knobs.latencyMs = 20`. */
export interface LibsqlServerKnobs {
  latencyMs: number;
  streamExpiryMs: number;
  busyTimeoutMs: number;
  replicationLag: number;
  /** The n-th request from now (and only it) gets HTTP 500; reads back how many are left, 0 when unarmed. */
  failOnRequest: number;
  /** The n-th request from now has its connection destroyed without an answer. */
  dropOnRequest: number;
  /** The n-th request from now is executed, then half its response is sent and the connection destroyed. */
  dropMidResponse: number;
}

export interface LibsqlServerStats {
  /** HTTP requests received, whatever their path. */
  requests: number;
  /** HTTP requests by path, e.g. `/v2/pipeline`. */
  byPath: Record<string, number>;
  /** Stream requests inside pipelines by type: `execute`, `batch`, `close`... */
  byRequestType: Record<string, number>;
  /** SQL statements run (each batch step and each statement of a sequence counts). */
  statements: number;
  readonly openStreams: number;
  reset(): void;
}

export interface LibsqlServer {
  /** `http://127.0.0.1:PORT`, for `createClient({ url })`. */
  readonly url: string;
  readonly port: number;
  readonly dbPath: string;
  readonly isReplica: boolean;
  readonly knobs: LibsqlServerKnobs;
  readonly stats: LibsqlServerStats;
  /** The replication index this server reports now (a replica's lags its primary's). */
  readonly replicationIndex: number;
  /** Switch the accepted keys; `null` turns auth off. Tokens signed by other keys fail from now on. */
  setPublicKeys(keys: PublicKeyInput | PublicKeyInput[] | null): void;
  close(): Promise<void>;
}
