import type { InStatement, ResultSet } from '@libsql/client';
import { readBatch, type Database } from '../client.js';
import type { Query } from '../review/sql.js';
import { newRunId, resolveActor, runEntry, runRecordStatements } from '../run-record.js';
import { readTableShapes, RowImageCapture, type TableShape } from './row-images.js';

const shapesByDatabase = new WeakMap<Database, Promise<TableShape[]>>();

/** The tables a decision may change, read once per connection (the schema does not change under a review). */
function tableShapes(database: Database): Promise<TableShape[]> {
  let shapes = shapesByDatabase.get(database);
  if (!shapes) {
    shapes = readTableShapes({ query: async (statements: InStatement[]) => (await readBatch(database, statements)).map((result: ResultSet) => ({ rows: result.rows as unknown as Array<Record<string, unknown>> })) });
    shapesByDatabase.set(database, shapes);
    shapes.catch(() => shapesByDatabase.delete(database));
  }
  return shapes;
}

export interface DecisionRun {
  /** approve, reject, reopen, … */
  decision: string;
  reviewer: string;
  /** "review approve", … */
  command: string;
  reason?: string;
  ids: string[];
  system: string;
}

/**
 * Wraps a batch of review decisions so that the same transaction keeps the before-images of the
 * rows it changes and appends its run entry (reviewer, decision, reason, ids): one entry per batch.
 */
export async function auditedDecisions<T>(database: Database, decisions: Query<T>, run: DecisionRun): Promise<Query<T>> {
  const shapes = await tableShapes(database);
  const id = newRunId();
  const { begin, finish } = RowImageCapture.forBatch(id, shapes);
  const { actor, ci } = resolveActor({ explicit: run.reviewer, env: process.env });
  const entry = runEntry(
    { id, actor, ci, command: run.command, target: database.displayUrl, arguments: { decision: run.decision, reason: run.reason, ids: run.ids } },
    { system: run.system, counts: { items: run.ids.length } },
  );
  const from = begin.length;
  return {
    statements: [...begin, ...decisions.statements, ...finish, ...runRecordStatements(entry)],
    parse: (results) => decisions.parse(results.slice(from, from + decisions.statements.length)),
  };
}

/** The facts of a review decision for its entry; the reason (or a work item's result) is kept whoever the reviewer is. */
export function decisionRun(system: string, decision: { kind: string; reason?: string; result?: string }, reviewer: string, command: string, ids: string[]): DecisionRun {
  return { decision: decision.kind, reason: decision.reason ?? decision.result, reviewer, command, ids, system };
}
