import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { describeDatabaseError, type Database } from '../client.js';
import { whereOf, type ExportFilters } from './filters.js';
import { DEFAULT_PAGES, readRows, type PageSettings } from './reader.js';
import { fileExportSink, type FileExportSink } from './sinks.js';
import { exportTable, type ExportColumn } from './tables.js';
import type { ExportGroup } from './index.js';

/**
 * The open-interview data layout: the system's own repository layout, one
 * `<channel>.json` a channel, each an array of records in the shape of its `data/questions/*.json`
 * (camelCase keys in the system's order, lists and objects as JSON, flags as 0/1, two-space
 * indentation), so the system's data files can be regenerated from the database. `qbank import`
 * reads each file back as it is.
 */

/** The keys of the system's records, in the order its files have them; the other import columns follow. */
const SYSTEM_KEY_ORDER = ['id', 'question', 'answer', 'explanation', 'diagram', 'difficulty', 'tags', 'channel', 'subChannel', 'sourceUrl', 'videos', 'companies', 'eli5', 'voiceKeywords', 'voiceSuitable', 'isNew', 'lastUpdated', 'createdAt'];

export interface DataLayoutOptions {
  /** The directory, as the user named it; created when missing. */
  dir: string;
  cwd: string;
  force?: boolean;
  filters?: ExportFilters;
  pages?: PageSettings;
  onProgress?: (progress: { rows: number; bytes: number }) => void;
}

export interface DataLayoutSummary {
  dir: string;
  files: Array<{ file: string; channel: string; rows: number; bytes: number }>;
  rows: number;
  bytes: number;
  groupBy: 'channel';
  groups: ExportGroup[];
  seconds: number;
  roundTrips: number;
}

/** A channel name that cannot be a file name in one directory (a slash, `..`, nothing). */
export class ChannelFileNameError extends UsageError {
  constructor(readonly channel: string) {
    super(`channel ${JSON.stringify(channel)} cannot be a file name: the data layout names each file after its channel`);
  }
}

function recordValue(value: unknown, column: ExportColumn): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (column.kind === 'list' || column.kind === 'json') {
    try {
      return JSON.parse(String(value));
    } catch {
      return String(value);
    }
  }
  return value;
}

function indent(text: string): string {
  return text.replace(/\n/g, '\n  ');
}

interface ChannelFile {
  sink: FileExportSink;
  file: string;
  rows: number;
  bytes: number;
}

export async function exportDataLayout(database: Database, options: DataLayoutOptions): Promise<DataLayoutSummary> {
  const started = process.hrtime.bigint();
  const roundTripsBefore = database.roundTrips();
  const table = exportTable('open-interview', 'questions')!;
  const order = [...SYSTEM_KEY_ORDER, ...table.columns.map((column) => column.dataKey).filter((key) => !SYSTEM_KEY_ORDER.includes(key))];
  const columnAt = order.map((key) => table.columns.findIndex((column) => column.dataKey === key));
  const { where, args } = whereOf('open-interview', 'questions', options.filters ?? {});
  const dir = resolve(options.cwd, options.dir);
  await mkdir(dir, { recursive: true });
  const files = new Map<string, ChannelFile>();
  let rows = 0;
  let bytes = 0;
  const open = async (channel: string): Promise<ChannelFile> => {
    const name = `${channel}.json`;
    if (channel.length === 0 || /[/\\\u0000]/.test(channel) || channel === '.' || channel === '..') throw new ChannelFileNameError(channel);
    const file = relative(options.cwd, join(dir, name)) || name;
    const opened: ChannelFile = { sink: await fileExportSink(join(dir, name), { cwd: options.cwd, force: options.force }), file, rows: 0, bytes: 0 };
    files.set(channel, opened);
    return opened;
  };
  const write = async (target: ChannelFile, text: string) => {
    target.bytes += Buffer.byteLength(text);
    bytes += Buffer.byteLength(text);
    await target.sink.write(text);
  };
  try {
    const query = { select: table.select, from: table.from, where, args, key: table.key, keyIndex: table.keyIndex };
    for await (const batch of readRows(database, query, options.pages ?? DEFAULT_PAGES)) {
      for (const row of batch) {
        const channel = String(row[table.groupIndex]);
        const target = files.get(channel) ?? (await open(channel));
        const record: Record<string, unknown> = {};
        order.forEach((key, i) => (record[key] = recordValue(row[columnAt[i]], table.columns[columnAt[i]])));
        await write(target, (target.rows === 0 ? '[\n  ' : ',\n  ') + indent(JSON.stringify(record, null, 2)));
        target.rows++;
        rows++;
      }
      options.onProgress?.({ rows, bytes });
    }
    for (const target of files.values()) {
      await write(target, '\n]\n');
      await target.sink.commit();
    }
  } catch (error) {
    for (const target of files.values()) await target.sink.abort();
    throw describeDatabaseError(error, database, 'export');
  }
  const list = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    dir: options.dir,
    files: list.map(([channel, file]) => ({ file: file.file, channel, rows: file.rows, bytes: file.bytes })),
    rows,
    bytes,
    groupBy: 'channel',
    groups: list.map(([channel, file]) => ({ group: channel, rows: file.rows })),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    roundTrips: database.roundTrips() - roundTripsBefore,
  };
}
