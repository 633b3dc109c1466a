/**
 * Entry of a `file:` restore's reading thread: reads the dump, splits it, keeps the statements the
 * restore loads (never one outside a dump's vocabulary: see statements.ts) and joins them into
 * chunks for the writing thread, a few messages ahead at most; triggers last.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { creditedSender } from '../../worker-thread.js';
import { scanDump } from './dump-reader.js';
import type { LoadChunksOptions, LoadMessage } from './load-chunks.js';
import { mergedStatementText } from './merged-tables.js';
import { classifyStatement, isSelected } from './statements.js';

const AHEAD = 4;
const NO_VIEWS: ReadonlySet<string> = new Set();
const CHUNKS_PER_MESSAGE = 32;

async function work(): Promise<void> {
  const port = parentPort!;
  const options = workerData as LoadChunksOptions;
  const tableNames = new Set(options.tableNames);
  const viewNames = new Set(options.viewNames);
  const mergedNames = new Set(options.mergedNames);
  const send = creditedSender(port, AHEAD);

  let chunk = '';
  let chunks: string[] = [];
  let statements = 0;
  let fileBytesRead = 0;
  let fileBytes = 0;
  // triggers are created after every row, so none fires while the rows go in
  const triggers: string[] = [];
  const flush = async () => {
    if (chunk.length > 0) chunks.push(chunk);
    chunk = '';
    if (chunks.length === 0) return;
    const message: LoadMessage = { type: 'chunks', chunks, statements, fileBytesRead, fileBytes };
    chunks = [];
    statements = 0;
    await send(message);
  };
  try {
    const scan = await scanDump(
      options.path,
      async ({ text }) => {
        const statement = classifyStatement(text);
        if (!isSelected(statement, tableNames, viewNames)) {
          if (!isSelected(statement, mergedNames, NO_VIEWS)) return;
          text = mergedStatementText(statement, text);
        }
        if (statement.kind === 'create-trigger') {
          triggers.push(text);
          return;
        }
        chunk += text + '\n';
        statements++;
        if (chunk.length < options.chunkChars) return;
        chunks.push(chunk);
        chunk = '';
        if (chunks.length >= CHUNKS_PER_MESSAGE) await flush();
      },
      {
        onRead: (read, total) => {
          fileBytesRead = read;
          fileBytes = total;
        },
      },
    );
    for (const trigger of triggers) {
      chunk += trigger + '\n';
      statements++;
    }
    await flush();
    port.postMessage({ type: 'end', checksum: scan.checksum.computed } satisfies LoadMessage);
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error)?.message ?? String(error) } satisfies LoadMessage);
  } finally {
    port.close();
  }
}

void work();
