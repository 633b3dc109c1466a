import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { runEntry, runRecordStatements, type RunContext, type RunEntry, type RunFile } from '../run-record.js';
import { RowImageCapture, type CapturedCounts, type StatementExecutor } from './row-images.js';

/**
 * SHA-256 and size of a file (started at the run's start, awaited at its end). Read into one
 * buffer again and again: a read stream's new 64 KiB buffer per read lived until this thread's next
 * garbage collection, up to 19 MB of them at once beside an import.
 */
export async function describeFile(path: string, name: string): Promise<RunFile> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 18);
  const file = await open(path, 'r');
  try {
    let size = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { name: basename(name), size, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

export interface AuditedRunFacts {
  system?: string | null;
  counts?: Record<string, number> | null;
}

/**
 * A writing run that keeps before-images and appends its entry in its own transaction: begun
 * after the transaction opens, finished just before it commits.
 */
export class AuditedRun {
  private constructor(
    private readonly executor: StatementExecutor,
    private readonly context: RunContext & { id: string },
    private readonly capture: RowImageCapture,
    private readonly files: Array<Promise<RunFile>>,
  ) {}

  get id(): string {
    return this.context.id;
  }

  static async begin(executor: StatementExecutor, context: RunContext & { id: string }, files: Array<{ path: string; name: string }> = []): Promise<AuditedRun> {
    const described = files.map((file) => describeFile(file.path, file.name));
    // an unread failure would be unhandled until finish awaits it
    for (const promise of described) promise.catch(() => undefined);
    const capture = await RowImageCapture.begin(executor, context.id);
    return new AuditedRun(executor, context, capture, described);
  }

  /**
   * Records the rows and appends the entry; the caller commits. A run that changed no row (an
   * import of a file the database already holds) leaves no entry: the database stays byte for byte
   * as it was, and there is nothing to undo. `always` appends one anyway.
   */
  async finish(facts: AuditedRunFacts = {}, always = false): Promise<{ entry?: RunEntry; rows: CapturedCounts }> {
    const rows = await this.capture.finish();
    if (!always && rows.created + rows.updated + rows.deleted === 0) return { rows };
    const files = await Promise.all(this.files);
    const args = files.length > 1 ? { ...this.context.arguments, files } : this.context.arguments;
    const entry = runEntry(
      { ...this.context, arguments: args },
      { system: facts.system, counts: { ...facts.counts, rowsCreated: rows.created, rowsUpdated: rows.updated, rowsDeleted: rows.deleted }, file: files[0] ?? null },
    );
    await this.executor.query(runRecordStatements(entry));
    return { entry, rows };
  }
}
