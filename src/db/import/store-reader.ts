/** Entry of the helper thread that reads the later half of the stored questions (see readExistingQuestions). */
import { parentPort, workerData } from 'node:worker_threads';
import { readStoreRange, StoreBuilder, type StoreHelper } from './existing.js';

const { path, busyTimeoutMs, from, expected } = workerData as StoreHelper & { from: string; expected: number };
const port = parentPort!;
try {
  const { default: Libsql } = await import('libsql');
  const connection = new Libsql(path, { readonly: true, timeout: busyTimeoutMs });
  try {
    const store = new StoreBuilder(expected);
    readStoreRange((sql, args) => connection.prepare(sql).raw().iterate(args ?? []) as Iterable<ArrayLike<unknown>>, store, from);
    // the typed arrays are shared memory: only the ids are copied
    port.postMessage({ store: store.result() });
  } finally {
    connection.close();
  }
} catch (error) {
  port.postMessage({ error: (error as Error)?.message ?? String(error) });
}
