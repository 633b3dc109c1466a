/**
 * Entry of an export's rendering thread (see threads.ts): opens its own connection, starts its
 * read transaction when told (the snapshot every thread shares), then renders its blocks in key
 * order and sends their text, encoded, a few chunks ahead of the writer at most.
 */
import type { InValue } from '@libsql/client';
import { parentPort, workerData } from 'node:worker_threads';
import { creditedSender } from '../../worker-thread.js';
import type { NativeConnection } from '../client.js';
import { pivotOptions } from './option-pivot.js';
import { sqlOf } from './row-query.js';
import { csvWriter, jsonWriter } from './text-formats.js';
import type { RenderMessage, RenderRequest, RenderWorkerData } from './threads.js';

const AHEAD = 2;
const CHUNK_CHARS = 1 << 20;

function beginRequest(): Promise<InValue[]> {
  return new Promise((resolve) => {
    const listen = (message: RenderRequest) => {
      if (message === 'ack' || message.type !== 'begin') return;
      parentPort!.off('message', listen);
      resolve(message.bounds);
    };
    parentPort!.on('message', listen);
  });
}

/** Block `block`'s statement and arguments: keys from the bound before it to the bound after it. */
function blockStatement(connection: NativeConnection, options: RenderWorkerData, bounds: InValue[], block: number) {
  const { query } = options;
  const conditions: string[] = [];
  const args: InValue[] = [...query.args];
  if (block > 0) {
    conditions.push(`${query.key} >= ?`);
    args.push(bounds[block - 1]);
  }
  if (block < bounds.length) {
    conditions.push(`${query.key} < ?`);
    args.push(bounds[block]);
  }
  return { statement: connection.prepare(sqlOf(query, conditions)).raw(true).safeIntegers(true), args };
}

interface Shape {
  toValues(row: unknown[]): unknown[];
  groupIndex: number;
}

async function renderBlock(connection: NativeConnection, options: RenderWorkerData, table: Shape, bounds: InValue[], block: number, send: (message: RenderMessage) => Promise<void>) {
  const writer = options.format === 'csv' ? csvWriter(options.columns, { excel: options.excel }) : jsonWriter(options.columns, options.format === 'jsonl');
  const encoder = new TextEncoder();
  const groups = new Map<string, number>();
  const { statement, args } = blockStatement(connection, options, bounds, block);
  let text = '';
  let rows = 0;
  let first = block === 0;
  const chunk = (last: boolean): RenderMessage => {
    const data = encoder.encode(text);
    const message: RenderMessage = { type: 'chunk', block, data, rows, last, groups: last ? [...groups] : undefined };
    text = '';
    rows = 0;
    return message;
  };
  for (const row of statement.iterate(...args) as Iterable<unknown[]>) {
    const values = table.toValues(row);
    const group = String(values[table.groupIndex] ?? '');
    groups.set(group, (groups.get(group) ?? 0) + 1);
    text += writer.record(values, first);
    first = false;
    rows++;
    if (text.length >= CHUNK_CHARS) await send(chunk(false));
  }
  if (block === bounds.length) text += writer.end();
  await send(chunk(true));
}

async function work(): Promise<void> {
  const port = parentPort!;
  const options = workerData as RenderWorkerData;
  // listening before anything else: a message that comes while no listener is there is lost
  const begun = beginRequest();
  const send = creditedSender(port, AHEAD);
  const post = (message: RenderMessage) => send(message);
  let connection: NativeConnection | undefined;
  try {
    const table: Shape = { toValues: options.pivot ? pivotOptions(options.pivot) : (row) => row, groupIndex: options.groupIndex };
    // the driver itself, not client.ts: that module loads the remote client too (a second and 20 MB a thread)
    const { default: Libsql } = await import('libsql');
    connection = new Libsql(options.path, { timeout: options.busyTimeoutMs });
    const bounds = await begun;
    connection.exec('BEGIN');
    connection.prepare('SELECT count(*) FROM sqlite_schema').get();
    port.postMessage({ type: 'ready' } satisfies RenderMessage);
    for (let block = options.thread; block <= bounds.length; block += options.threads) await renderBlock(connection, options, table, bounds, block, post);
    connection.exec('COMMIT');
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error)?.message ?? String(error) } satisfies RenderMessage);
  } finally {
    if (connection?.inTransaction) connection.exec('ROLLBACK');
    connection?.close();
    port.close();
  }
}

void work();
