import type { Client, Transaction } from '@libsql/client';
import { CheckFailedError, QbankError } from '../../errors.js';
import { quoteIdent } from '../client.js';
import { loadChunks } from './load-chunks.js';
import { ownDefinition } from './merged-tables.js';
import { garbageBudget } from './memory.js';
import { describeOrphans, dropStatement, OrphanRowsError } from './restore-plan.js';
import { checkSameFile, sequenceStatements, type LoadContext } from './restore-shared.js';

/** Text handed to libSQL per call: its multi-statement exec slows down with long texts, short ones keep it linear. */
const EXEC_CHUNK_CHARS = 4096;
const GARBAGE_EVERY_CHARS = 8 << 20;

/**
 * `file:` databases: everything in one write transaction, foreign keys off as `sqlite3` loads a
 * dump. SQLite's journal makes it all-or-nothing, also when the process is killed. A restore of
 * some tables commits only when `PRAGMA foreign_key_check` finds nothing.
 */
export async function restoreInOneTransaction(context: LoadContext): Promise<void> {
  const { database, plan, clean } = context;
  const client: Client = database.client;
  // the pool hands the transaction the connection this PRAGMA just used; checked below
  await client.execute('PRAGMA foreign_keys=OFF');
  const tx: Transaction = await client.transaction('write');
  try {
    const fk = await tx.execute('PRAGMA foreign_keys');
    if (Number(fk.rows[0]![0]) !== 0) throw new QbankError('could not turn foreign keys off for the restore; nothing was changed');
    const before: string[] = [
      ...clean.drop.map(dropStatement),
      ...clean.empty.map((t) => `DELETE FROM ${quoteIdent(t.table)}`),
      ...clean.liveTriggers.map((t) => `DROP TRIGGER IF EXISTS ${quoteIdent(t.name)}`),
      // a dump of data only has no CREATE for the audit tables it merges: qbank's own, where missing
      ...(plan.dataOnly ? plan.merged.flatMap((t) => ownDefinition(t.table)) : []),
    ];
    for (const sql of before) await tx.execute(sql);
    context.statements += before.length;

    await loadStatements(tx, context);
    const after = [...sequenceStatements(plan, (t) => t), ...clean.liveTriggers.map((t) => t.sql!)];
    for (const sql of after) await tx.execute(sql);

    const counts = plan.tables.length ? await tx.batch(plan.tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t.table)}`)) : [];
    const wrong = plan.tables.filter((t, i) => Number(counts[i]!.rows[0]![0]) !== t.rows);
    if (wrong.length > 0) {
      throw new CheckFailedError('row counts after loading differ from the dump; the restore was rolled back and nothing was changed', {
        details: wrong.map((t) => `${t.table}: the dump has ${t.rows} rows`),
      });
    }
    if (plan.partial) {
      const orphans = await tx.execute('PRAGMA foreign_key_check');
      if (orphans.rows.length > 0) {
        const { details, related } = describeOrphans(orphans.rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i])));
        throw new OrphanRowsError(details, related);
      }
    }
    if (context.auditStatements.length > 0) await tx.batch(context.auditStatements);
    await tx.commit();
  } catch (error) {
    await tx.rollback().catch(() => undefined);
    throw error;
  } finally {
    tx.close();
    await client.execute('PRAGMA foreign_keys=ON').catch(() => undefined);
  }
}

/** The dump's selected statements, read and joined by the reading thread, executed in order (triggers last). */
async function loadStatements(tx: Transaction, context: LoadContext): Promise<void> {
  const { plan, path, options } = context;
  const memory = garbageBudget(GARBAGE_EVERY_CHARS);
  const chunks = loadChunks({ path, tableNames: [...plan.tableNames], viewNames: [...plan.viewNames], mergedNames: [...plan.mergedNames], chunkChars: EXEC_CHUNK_CHARS });
  try {
    let next;
    while (!(next = await chunks.next()).done) {
      const read = next.value;
      for (const text of read.chunks) {
        await tx.executeMultiple(text);
        context.batches++;
        memory.add(text.length);
      }
      context.statements += read.statements;
      options.onProgress?.({ phase: 'load', fileBytesRead: read.fileBytesRead, fileBytes: read.fileBytes });
    }
    checkSameFile(plan, next.value);
  } finally {
    await chunks.return('');
  }
}
