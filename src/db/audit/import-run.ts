import type { InStatement } from '@libsql/client';
import type { Database } from '../client.js';
import type { Statement } from '../import/encoder.js';
import type { ImportRunner } from '../import/runner.js';
import { newRunId, resolveActor, type RunContext } from '../run-record.js';
import { AuditedRun } from './run.js';

/** Who runs an import and how; without it, the entry names the OS user or git's email and the command "import". */
export interface ImportRunContext extends RunContext {
  /**
   * Leaves the run unrecorded: no entry, no before-images, so it cannot be undone. Only for
   * measuring what the record costs an import (`npm run bench -- audit`); no command offers it.
   */
  unrecorded?: boolean;
}

/** The part of a run an import drives: finished just before it commits. */
export type ImportAudit = Pick<AuditedRun, 'finish'>;

const UNRECORDED: ImportAudit = { finish: async () => ({ rows: { created: 0, updated: 0, deleted: 0 } }) };

/** The statements of the audit run through the import's own transaction. */
function executorOf(runner: ImportRunner) {
  return { query: (statements: InStatement[]) => runner.query(statements as Statement[]) };
}

/** Begins recording an import (not a dry run): its entry and before-images commit with it. */
export async function beginImportAudit(
  database: Database,
  runner: ImportRunner,
  run: ImportRunContext | undefined,
  files: Array<{ path: string; file: string }>,
): Promise<ImportAudit> {
  if (run?.unrecorded) return UNRECORDED;
  const context = run ?? { ...resolveActor({ env: process.env }), command: 'import', target: database.displayUrl };
  const id = context.id ?? newRunId(context.startedAt);
  return AuditedRun.begin(executorOf(runner), { ...context, id }, files.map((file) => ({ path: file.path, name: file.file })));
}

/** The counts of an import's summaries, summed for its entry. */
export function importCounts(summaries: Array<{ rows: number; created: number; updated: number; unchanged: number; skipped: number; rejected: number }>): Record<string, number> {
  const counts = { rows: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, rejected: 0 };
  for (const summary of summaries) for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] += summary[key];
  return counts;
}

/** The run context of an import typed at the command line: the reviewer (else git's email, else the OS user) is the actor. */
export function importRunContext(options: {
  kind: string;
  files: string[];
  flags: object;
  reviewer?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  target: string;
}): ImportRunContext {
  return {
    ...resolveActor({ explicit: options.reviewer, env: options.env, cwd: options.cwd }),
    command: options.kind === 'by-name' ? 'import' : `import ${options.kind}`,
    arguments: { files: options.files, ...options.flags },
    target: options.target,
  };
}
