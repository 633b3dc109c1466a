// Raw SQL here: one timeline read from qbank's own tables and from whichever of the systems' tables exist.
import { InvalidInputError } from '../../errors.js';
import { readBatch, type Database } from '../client.js';
import { AUDIT_TABLE } from '../run-record.js';
import { AUDIT_ROWS_TABLE, CREATED_RANGE } from './row-images.js';

export interface TimelineEvent {
  /** ISO 8601, UTC. */
  at: string;
  /** Where the event is recorded: qbank (its run entries), question_history, bot_ledger, review (PingToPass's reviewed_by/at), feedback. */
  source: 'qbank' | 'question_history' | 'bot_ledger' | 'review' | 'feedback' | 'created';
  /** Who: an actor, a reviewer, a bot, a user id. */
  who: string | null;
  /** What happened: the command, the event type, the ledger action, the review status. */
  what: string;
  detail: string | null;
  /** The qbank run, for `qbank audit show` / `qbank undo`. */
  runId?: string;
}

export class NoSuchQuestionError extends InvalidInputError {
  constructor(readonly questionId: string) {
    super(`no question has the id "${questionId}", and no record names it`);
  }
}

const isoOfSeconds = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value) * 1000).toISOString());

/** Before-images of the question (`?1`) kept row by row: what a run did to it. */
const ROW_OF_RUN = `FROM "${AUDIT_ROWS_TABLE}" AS r WHERE r."tbl" = 'questions' AND r."row_key" = json_array(?1)`;

/** A run's created range (rowids after `from` up to `to`) that holds the question (`?1`): the run created it. */
const CREATED_BY_RUN = `FROM "${AUDIT_ROWS_TABLE}" AS r, questions AS q WHERE q."id" = ?1 AND r."tbl" = 'questions' AND r."action" = '${CREATED_RANGE}'
  AND q.rowid > json_extract(r."before", '$.from') AND q.rowid <= json_extract(r."before", '$.to')`;

async function tableNames(database: Database): Promise<Set<string>> {
  const [result] = await readBatch(database, ["SELECT name FROM sqlite_schema WHERE type = 'table'"]);
  return new Set(result.rows.map((row) => String(row.name)));
}

/**
 * Everything the database knows about one question, oldest first: qbank's runs that changed it or
 * decided it, open-interview's question_history and bot_ledger rows, PingToPass's creation, review
 * decision and feedback rows.
 */
export async function questionHistory(database: Database, questionId: string): Promise<TimelineEvent[]> {
  const tables = await tableNames(database);
  const events: TimelineEvent[] = [];
  const reads: Array<{ sql: string; args: string[]; map: (row: Record<string, unknown>) => TimelineEvent }> = [];
  if (tables.has(AUDIT_TABLE)) {
    const withRows = tables.has(AUDIT_ROWS_TABLE);
    const byIds = `EXISTS (SELECT 1 FROM json_each(a."arguments", '$.ids') WHERE value = ?1)`;
    reads.push({
      sql: withRows
        ? `SELECT a.*, coalesce((SELECT r."action" ${ROW_OF_RUN} AND r."run_id" = a."id"), (SELECT 'create' ${CREATED_BY_RUN} AND r."run_id" = a."id")) AS row_action
            FROM "${AUDIT_TABLE}" AS a WHERE a."id" IN (SELECT r."run_id" ${ROW_OF_RUN}) OR a."id" IN (SELECT r."run_id" ${CREATED_BY_RUN}) OR ${byIds}`
        : `SELECT a.*, NULL AS row_action FROM "${AUDIT_TABLE}" AS a WHERE ${byIds}`,
      args: [questionId],
      map: (row) => {
        const args = JSON.parse(String(row.arguments ?? '{}')) as { reason?: string; run?: string };
        const file = row.file ? (JSON.parse(String(row.file)) as { name: string }).name : null;
        return {
          at: String(row.started_at),
          source: 'qbank',
          who: String(row.actor),
          what: row.row_action ? `${String(row.command)}: ${String(row.row_action)}` : String(row.command),
          detail: args.reason ?? (args.run ? `reverts run ${args.run}` : file),
          runId: String(row.id),
        };
      },
    });
  }
  if (tables.has('question_history')) {
    reads.push({
      sql: 'SELECT created_at, event_type, source_name, changes_summary, reason FROM question_history WHERE question_id = ?',
      args: [questionId],
      map: (row) => ({ at: String(row.created_at), source: 'question_history', who: row.source_name === null ? null : String(row.source_name), what: String(row.event_type), detail: (row.reason ?? row.changes_summary ?? null) as string | null }),
    });
  }
  if (tables.has('bot_ledger')) {
    reads.push({
      sql: 'SELECT created_at, bot_name, action, reason FROM bot_ledger WHERE item_id = ?',
      args: [questionId],
      map: (row) => ({ at: String(row.created_at), source: 'bot_ledger', who: String(row.bot_name), what: String(row.action), detail: (row.reason ?? null) as string | null }),
    });
  }
  if (tables.has('exams') && tables.has('answer_options')) {
    reads.push({
      sql: 'SELECT created_at, reviewed_by, reviewed_at, review_status FROM questions WHERE id = ?',
      args: [questionId],
      map: (row) => ({ at: isoOfSeconds(row.created_at) ?? '', source: 'created', who: null, what: 'created', detail: null }),
    });
    reads.push({
      sql: 'SELECT reviewed_by, reviewed_at, review_status FROM questions WHERE id = ? AND reviewed_at IS NOT NULL',
      args: [questionId],
      map: (row) => ({ at: isoOfSeconds(row.reviewed_at)!, source: 'review', who: (row.reviewed_by ?? null) as string | null, what: String(row.review_status), detail: null }),
    });
  }
  if (tables.has('feedback')) {
    reads.push({
      sql: 'SELECT created_at, user_id, type, message, status FROM feedback WHERE question_id = ?',
      args: [questionId],
      map: (row) => ({ at: isoOfSeconds(row.created_at) ?? '', source: 'feedback', who: String(row.user_id), what: `feedback ${String(row.type)} (${String(row.status)})`, detail: String(row.message) }),
    });
  }
  const [exists] = await readBatch(database, [{ sql: 'SELECT 1 FROM questions WHERE id = ?', args: [questionId] }]);
  const results = await readBatch(database, reads.map(({ sql, args }) => ({ sql, args })));
  results.forEach((result, index) => {
    for (const row of result.rows) events.push(reads[index].map(row as unknown as Record<string, unknown>));
  });
  if (events.length === 0 && exists.rows.length === 0) throw new NoSuchQuestionError(questionId);
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
