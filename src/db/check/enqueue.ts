import type { InStatement } from '@libsql/client';
import type { Database } from '../client.js';
import { runEntry, runRecordStatements, type RunContext } from '../run-record.js';
import type { Finding, RuleName } from './model.js';

/**
 * `--enqueue` (open-interview): findings about questions become work-queue items for the system's
 * bots, as its own scripts hand them work. One transaction with the run's entry; a question that
 * already has a pending item of qbank's for the same rule gets no second one.
 */

const ACTION_OF_RULE: Partial<Record<RuleName, 'improve' | 'verify'>> = {
  'invalid-json': 'improve',
  'invalid-value': 'improve',
  'duplicate-question': 'verify',
  'near-duplicate-question': 'verify',
  'missing-explanation': 'improve',
  'truncated-answer': 'improve',
  'json-in-text': 'improve',
};

export const QUEUE_CREATOR = 'qbank';

export interface EnqueueResult {
  /** Findings that name a question and have an action. */
  candidates: number;
  queued: number;
  alreadyPending: number;
  runId: string;
}

export function enqueueable(findings: Finding[]): Array<Finding & { id: string }> {
  return findings.filter((finding): finding is Finding & { id: string } => finding.table === 'questions' && finding.id !== null && ACTION_OF_RULE[finding.rule] !== undefined);
}

export async function enqueueFindings(database: Database, findings: Finding[], run: RunContext, now: Date): Promise<EnqueueResult> {
  const candidates = enqueueable(findings);
  const statements: InStatement[] = candidates.map((finding) => ({
    sql: `INSERT INTO work_queue (item_type, item_id, action, priority, status, reason, created_by, created_at)
          SELECT 'question', ?1, ?2, 5, 'pending', ?3, ?4, ?5
          WHERE NOT EXISTS (SELECT 1 FROM work_queue WHERE item_type = 'question' AND item_id = ?1 AND status = 'pending' AND created_by = ?4 AND reason LIKE ?6 ESCAPE '\\')`,
    args: [finding.id, ACTION_OF_RULE[finding.rule]!, `${finding.rule}: ${finding.message}`, QUEUE_CREATOR, now.toISOString(), `${finding.rule.replace(/[%_\\]/g, '\\$&')}:%`],
  }));
  const entry = runEntry(run, { system: 'open-interview', counts: { candidates: candidates.length }, now });
  const results = await database.client.batch([...statements, ...runRecordStatements(entry)], 'write');
  const queued = results.slice(0, statements.length).reduce((sum, result) => sum + result.rowsAffected, 0);
  return { candidates: candidates.length, queued, alreadyPending: candidates.length - queued, runId: entry.id };
}
