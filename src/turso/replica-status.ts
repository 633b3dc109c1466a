import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { instanceBaseUrl, probeInstance, serverBaseUrl, type InstanceProbe, type ProbeOptions } from './hrana-probe.js';
import type { Database as PlatformDatabase, PlatformApi } from './platform-api.js';
import { callPlatform } from './platform-errors.js';

/*
 * Replica status: every instance of a database (from the Platform API, or just the configured server
 * when there is none), probed for health, latency, version and replication index, and the lag of
 * each replica behind the primary in WAL frames. The Platform API exposes no lag, so it is measured
 * from what each instance reports in a statement result (sqld's `replication_index`). With an
 * embedded replica configured, the local file's last synced frame is compared too.
 */

export interface InstanceStatus {
  name: string;
  type: 'primary' | 'replica';
  region: string | null;
  hostname: string;
  url: string;
  reachable: boolean;
  error: string | null;
  latencyMs: number | null;
  latencySamplesMs: number[];
  replicationIndex: number | null;
  /** Frames behind the primary; 0 for the primary; null when unknown. */
  lag: number | null;
  version: string | null;
  /** Why the replication index is unknown though the instance answers. */
  indexError: string | null;
}

export interface EmbeddedReplicaStatus {
  path: string;
  syncUrl: string;
  /** Which metadata file libSQL left next to the database, if any. */
  metadataFile: string | null;
  /** The last frame the local file has applied; null when it has never synced. */
  localIndex: number | null;
  framesBehind: number | null;
  note: string | null;
}

export interface ReplicaStatusReport {
  checkedAt: string;
  /** Where the instance list came from. */
  source: 'platform-api' | 'configured-url';
  database: { name: string; group: string | null; primaryRegion: string | null } | null;
  primaryIndex: number | null;
  maxLag: number | null;
  instances: InstanceStatus[];
  embedded: EmbeddedReplicaStatus | null;
  /** Each reason for a non-zero exit. */
  problems: string[];
  notes: string[];
  ok: boolean;
}

export interface ReplicaStatusOptions {
  /** The database as the Platform API knows it; without it only the configured server is probed. */
  platform?: { api: PlatformApi; database: PlatformDatabase };
  /** The configured database URL: remote, or `file:` for an embedded replica. */
  databaseUrl: string;
  /** The embedded replica's sync URL (TURSO_SYNC_URL). */
  syncUrl?: string;
  /** A database token for reading the replication index (read-only is enough). */
  token?: string;
  /** Where that token came from (e.g. `TURSO_AUTH_TOKEN_RO in .env.local`), for messages. */
  tokenSource?: string;
  maxLag?: number;
  /** /health round trips per instance; the median is reported. */
  samples?: number;
  probe?: ProbeOptions;
  now: () => Date;
}

interface Target {
  name: string;
  type: 'primary' | 'replica';
  region: string | null;
  hostname: string;
  url: string;
}

async function targetsFor(options: ReplicaStatusOptions): Promise<Target[]> {
  if (options.platform) {
    const { api, database } = options.platform;
    const instances = await callPlatform(() => api.listInstances(database.Name));
    return instances.map((instance) => ({
      name: instance.name,
      type: instance.type,
      region: instance.region,
      hostname: instance.hostname,
      url: instanceBaseUrl(instance.hostname),
    }));
  }
  const remote = options.databaseUrl.startsWith('file:') ? options.syncUrl : options.databaseUrl;
  if (!remote) {
    throw new UsageError('replica status needs a remote database: the configured URL is a local file and no sync URL is set', {
      hint: 'set TURSO_DATABASE_URL to the libsql:// URL (or TURSO_SYNC_URL for an embedded replica), and TURSO_API_TOKEN + TURSO_ORG to list every instance',
    });
  }
  const url = serverBaseUrl(remote, remote === options.syncUrl ? 'TURSO_SYNC_URL' : 'the database URL');
  return [{ name: 'configured', type: 'primary', region: null, hostname: new URL(url).host, url }];
}

/**
 * The last frame an embedded replica applied. `@libsql/client` (through the `libsql` package) keeps it
 * in `<db>-client_wal_index`: 16 bytes of log id, then the committed frame number as a little-endian
 * u64 (u64::MAX before the first sync). The newer sync protocol keeps `<db>-info` JSON with
 * `durable_frame_num` instead.
 */
export async function readEmbeddedReplicaIndex(path: string): Promise<{ metadataFile: string | null; localIndex: number | null; note: string | null }> {
  const walIndex = `${path}-client_wal_index`;
  try {
    const bytes = await fs.readFile(walIndex);
    if (bytes.length < 24) return { metadataFile: walIndex, localIndex: null, note: 'the replica has not completed a sync yet' };
    const frame = bytes.readBigUInt64LE(16);
    if (frame === 0xffff_ffff_ffff_ffffn) return { metadataFile: walIndex, localIndex: null, note: 'the replica has not completed a sync yet' };
    return { metadataFile: walIndex, localIndex: Number(frame), note: null };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const info = `${path}-info`;
  try {
    const parsed = JSON.parse(await fs.readFile(info, 'utf8')) as { durable_frame_num?: unknown };
    if (typeof parsed.durable_frame_num === 'number') return { metadataFile: info, localIndex: parsed.durable_frame_num, note: null };
    return { metadataFile: info, localIndex: null, note: `${info} has no durable_frame_num` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return { metadataFile: info, localIndex: null, note: `${info} is not readable JSON` };
  }
  return { metadataFile: null, localIndex: null, note: 'no replica metadata next to the file: it has never been synced (or is not an embedded replica)' };
}

function filePathOf(url: string): string {
  const withoutQuery = url.split('?')[0]!;
  return withoutQuery.startsWith('file://') ? fileURLToPath(withoutQuery) : withoutQuery.slice('file:'.length);
}

function toStatus(target: Target, probe: InstanceProbe): InstanceStatus {
  return {
    ...target,
    reachable: probe.reachable,
    error: probe.error ?? null,
    latencyMs: probe.latencyMs,
    latencySamplesMs: probe.latencySamplesMs,
    replicationIndex: probe.replicationIndex,
    lag: null,
    version: probe.version,
    indexError: probe.indexError ?? null,
  };
}

export async function replicaStatus(options: ReplicaStatusOptions): Promise<ReplicaStatusReport> {
  const targets = await targetsFor(options);
  const probes = await Promise.all(
    targets.map((target) => probeInstance(target.url, { ...options.probe, token: options.token, tokenSource: options.tokenSource, samples: options.samples ?? 3 })),
  );
  const instances = targets.map((target, i) => toStatus(target, probes[i]!));
  const primary = instances.find((i) => i.type === 'primary');
  const primaryIndex = primary?.replicationIndex ?? null;
  for (const instance of instances) {
    if (instance.type === 'primary') instance.lag = instance.replicationIndex === null ? null : 0;
    else if (instance.replicationIndex !== null && primaryIndex !== null) {
      // The instances answer at slightly different moments: a replica may report a write the primary's earlier answer did not include.
      instance.lag = Math.max(0, primaryIndex - instance.replicationIndex);
    }
  }

  const maxLag = options.maxLag ?? null;
  const problems: string[] = [];
  const notes: string[] = [];
  for (const instance of instances) {
    const label = `${instance.name} (${instance.type})`;
    if (!instance.reachable) {
      problems.push(`${label} is unreachable: ${instance.error}`);
      continue;
    }
    if (maxLag === null || instance.type === 'primary') continue;
    if (instance.lag === null) {
      problems.push(`${label}: lag unknown (${instance.indexError ?? (primaryIndex === null ? 'the primary reports no replication index' : 'no replication index')})`);
    } else if (instance.lag > maxLag) {
      problems.push(`${label} is ${instance.lag} frame(s) behind the primary (more than ${maxLag})`);
    }
  }
  if (!primary) problems.push('the database has no primary instance');
  else if (primary.reachable && primary.replicationIndex === null && instances.length > 1 && maxLag !== null) {
    problems.push(`the primary reports no replication index (${primary.indexError ?? 'unknown'}), so no lag can be measured`);
  }
  const indexErrors = new Set(instances.filter((i) => i.reachable && i.indexError).map((i) => i.indexError));
  for (const error of indexErrors) notes.push(`replication index not read: ${error}`);

  let embedded: EmbeddedReplicaStatus | null = null;
  if (options.databaseUrl.startsWith('file:') && options.syncUrl) {
    const path = filePathOf(options.databaseUrl);
    const local = await readEmbeddedReplicaIndex(path);
    const framesBehind = local.localIndex !== null && primaryIndex !== null ? Math.max(0, primaryIndex - local.localIndex) : null;
    embedded = { path, syncUrl: options.syncUrl, ...local, framesBehind };
    if (maxLag !== null && framesBehind !== null && framesBehind > maxLag) {
      problems.push(`the embedded replica ${path} is ${framesBehind} frame(s) behind the primary (more than ${maxLag}); it catches up on its next sync()`);
    }
  }

  if (options.platform && instances.length === 1) {
    notes.push(
      'a single primary and no edge replicas: the usual setup now that Turso has deprecated edge replicas for new databases (January 2025); ' +
        'to read close to users, use embedded replicas (a file: URL with TURSO_SYNC_URL), whose lag this command also reports',
    );
  }
  if (!options.platform) {
    notes.push('the Turso Platform API is not configured (TURSO_API_TOKEN, TURSO_ORG): only the configured server was probed');
  }

  const database = options.platform
    ? { name: options.platform.database.Name, group: options.platform.database.group ?? null, primaryRegion: options.platform.database.primaryRegion ?? null }
    : null;
  return {
    checkedAt: options.now().toISOString(),
    source: options.platform ? 'platform-api' : 'configured-url',
    database,
    primaryIndex,
    maxLag,
    instances,
    embedded,
    problems,
    notes,
    ok: problems.length === 0,
  };
}
