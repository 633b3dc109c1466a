import type { InValue } from '@libsql/client';
import { basename } from 'node:path';
import { readOpenInterviewDiff } from './diff.js';
import { statementBytes, type Statement } from './encoder.js';
import { warnAboutLookAlikes } from './look-alikes.js';
import {
  CREATED_AT_GIVEN,
  OPTIONAL_QUESTION_FIELDS,
  REQUIRED_QUESTION_FIELDS,
  STAGING_OI_QUESTIONS as S,
  type OpenInterviewCertification,
} from './open-interview-rows.js';
import { BatchedRowsTarget, confirmPruning, readMissing, readStagedIds, reportSharedMatches, type ImportContext, type ImportTarget } from './session.js';

/** JSON snapshot of a question row in the system's own (camelCase) record shape. */
function snapshotOf(alias: string): string {
  // Lists and objects are stored as JSON text; in the snapshot they are JSON again.
  const json = (column: string) => `CASE WHEN json_valid(${alias}.${column}) THEN json(${alias}.${column}) ELSE ${alias}.${column} END`;
  const pairs = [
    `'id', ${alias}.id`,
    ...REQUIRED_QUESTION_FIELDS.map((field) => `'${field.json}', ${alias}.${field.sql}`),
    ...OPTIONAL_QUESTION_FIELDS.map((field) => `'${field.json}', ${field.kind === 'list' || field.kind === 'json' ? json(field.sql) : `${alias}.${field.sql}`}`),
    `'status', ${alias}.status`,
    `'isNew', ${alias}.is_new`,
    `'lastUpdated', ${alias}.last_updated`,
    `'createdAt', ${alias}.created_at`,
  ];
  return `json_object(${pairs.join(', ')})`;
}

/**
 * open-interview questions, the database side. Every row is staged, then matched (by id, else by
 * question text), classified and applied in a few statements; each created or updated question
 * gets its `channel_mappings` row and a `question_history` event (source `import`) with
 * before/after snapshots and the changed fields.
 */
export class OpenInterviewQuestionsTarget implements ImportTarget {
  readonly groupLabel = 'channel';
  private context!: ImportContext;

  async begin(context: ImportContext) {
    this.context = context;
    const optionalColumns = OPTIONAL_QUESTION_FIELDS.map((field) => `${field.sql} ${field.sql === 'relevance_score' || field.sql === 'voice_suitable' ? 'INTEGER' : 'TEXT'}`).join(', ');
    await context.runner.send(
      [
        `DROP TABLE IF EXISTS ${S}`,
        `CREATE TABLE ${S} (seq INTEGER PRIMARY KEY, line INTEGER NOT NULL, given_id TEXT, new_id TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
          explanation TEXT NOT NULL, difficulty TEXT NOT NULL, channel TEXT NOT NULL, sub_channel TEXT NOT NULL, ${optionalColumns},
          given INTEGER NOT NULL, status TEXT, is_new INTEGER, created_at TEXT, last_updated TEXT,
          target_id TEXT, matched_by TEXT, action TEXT, changed TEXT)`,
      ],
      0,
    );
    return { target: 'open-interview-questions' as const };
  }

  async accept(): Promise<void> {}

  async finish(): Promise<void> {
    const { runner, problems, mode, dryRun, tally, now, file } = this.context;
    const nowIso = now.toISOString();
    await runner.send(
      [
        `UPDATE ${S} AS s SET target_id = s.given_id, matched_by = 'id' WHERE s.given_id IS NOT NULL AND s.given_id IN (SELECT id FROM main.questions)`,
        `CREATE INDEX temp.qbank_import_oi_questions_text ON qbank_import_oi_questions (question) WHERE given_id IS NULL`,
        `UPDATE ${S} AS s SET target_id = m.id, matched_by = 'text' FROM (
           SELECT t.seq AS seq, min(q.id) AS id FROM main.questions AS q CROSS JOIN ${S} AS t
           WHERE t.given_id IS NULL AND t.question = q.question
           GROUP BY t.seq) AS m
         WHERE s.seq = m.seq`,
      ],
      0,
    );
    await reportSharedMatches(runner, problems, S);
    const differs = (column: string) => `iif(q.${column} IS NOT s.${column}, '"${column}",', '')`;
    const differsIfGiven = (column: string, bit: number) => `iif((s.given & ${1 << bit}) AND q.${column} IS NOT s.${column}, '"${column}",', '')`;
    const changedFields = [
      ...REQUIRED_QUESTION_FIELDS.map((field) => differs(field.sql)),
      ...OPTIONAL_QUESTION_FIELDS.map((field, bit) => differsIfGiven(field.sql, bit)),
      `iif(s.status IS NOT NULL AND q.status IS NOT s.status, '"status",', '')`,
      `iif(s.is_new IS NOT NULL AND q.is_new IS NOT s.is_new, '"is_new",', '')`,
      `iif(NOT EXISTS (SELECT 1 FROM main.channel_mappings AS cm WHERE cm.question_id = q.id AND cm.channel_id = s.channel AND cm.sub_channel = s.sub_channel), '"channel_mappings",', '')`,
    ].join(' || ');
    await runner.send(
      [
        `UPDATE ${S} AS s SET changed = (SELECT '[' || rtrim(${changedFields}, ',') || ']' FROM main.questions AS q WHERE q.id = s.target_id) WHERE s.target_id IS NOT NULL`,
        `UPDATE ${S} AS s SET action = CASE WHEN s.target_id IS NULL THEN 'create' WHEN ${mode === 'skip-existing' ? 1 : 0} THEN 'skip' WHEN s.changed <> '[]' THEN 'update' ELSE 'unchanged' END`,
      ],
      0,
    );
    if (mode === 'insert') {
      const [existing, total] = await runner.query([
        `SELECT line, target_id, matched_by FROM ${S} WHERE target_id IS NOT NULL ORDER BY seq LIMIT 20`,
        `SELECT count(*) AS n FROM ${S} WHERE target_id IS NOT NULL`,
      ]);
      for (const row of existing.rows) {
        problems.add({ line: Number(row.line), message: `question already exists (id "${row.target_id}", matched by ${row.matched_by})` });
      }
      problems.count += Number(total.rows[0].n) - existing.rows.length;
    }
    const [counts] = await runner.query([`SELECT channel, action, count(*) AS n FROM ${S} GROUP BY channel, action`]);
    for (const row of counts.rows) {
      const action = String(row.action);
      tally.add(String(row.channel), action === 'create' ? 'created' : action === 'update' ? 'updated' : action === 'skip' ? 'skipped' : 'unchanged', Number(row.n));
    }
    if (problems.empty) await this.reportChanges();
    if (problems.empty) await readStagedIds(runner, S, this.context.ids);
    // questions of the file's channels, not deleted, that no row of the file matched
    const missingRows = `SELECT q.channel AS grp, q.id AS id FROM main.questions AS q
      WHERE q.channel IN (SELECT DISTINCT channel FROM ${S}) AND coalesce(q.status, 'active') <> 'deleted'
        AND q.id NOT IN (SELECT target_id FROM ${S} WHERE target_id IS NOT NULL)`;
    if (problems.empty) await readMissing(runner, missingRows, this.context.missing);
    if (dryRun || !problems.empty) return;
    if (await confirmPruning(this.context)) {
      await runner.send([{ sql: `UPDATE main.questions SET status = 'deleted', last_updated = ? WHERE id IN (SELECT id FROM (${missingRows}))`, args: [nowIso] }], 0);
    }

    const source = basename(file);
    const keep = (column: string, bit: number) => `${column} = CASE WHEN s.given & ${1 << bit} THEN s.${column} ELSE questions.${column} END`;
    const id = 'coalesce(s.given_id, s.new_id)';
    const [mark] = await runner.query(['SELECT coalesce(max(id), 0) AS id FROM main.question_history']);
    const historyFloor = Number(mark.rows[0].id);
    await runner.send(
      [
        `INSERT INTO main.question_history (question_id, question_type, event_type, event_source, source_name, changes_summary, changed_fields, before_snapshot, reason, metadata, created_at)
         SELECT q.id, 'question', 'updated', 'import', 'qbank import', 'Updated by an import of ' || ? || ' (line ' || s.line || ')', s.changed, ${snapshotOf('q')}, NULL,
           json_object('file', ?, 'line', s.line), ?
         FROM ${S} AS s JOIN main.questions AS q ON q.id = s.target_id WHERE s.action = 'update' ORDER BY s.seq`,
        `UPDATE main.questions SET question = s.question, answer = s.answer, explanation = s.explanation, difficulty = s.difficulty, channel = s.channel,
           sub_channel = s.sub_channel, ${OPTIONAL_QUESTION_FIELDS.map((field, bit) => keep(field.sql, bit)).join(', ')},
           status = coalesce(s.status, questions.status), is_new = coalesce(s.is_new, questions.is_new), last_updated = coalesce(s.last_updated, ?)
         FROM ${S} AS s WHERE s.action = 'update' AND questions.id = s.target_id`,
        `UPDATE main.question_history SET after_snapshot = (SELECT ${snapshotOf('q')} FROM main.questions AS q WHERE q.id = question_history.question_id)
         WHERE id > ${historyFloor} AND event_type = 'updated'`,
        // A question whose channel changed keeps its mapping row, moved to the new channel.
        `UPDATE main.channel_mappings SET channel_id = s.channel, sub_channel = s.sub_channel
         FROM ${S} AS s JOIN main.question_history AS h ON h.question_id = s.target_id AND h.id > ${historyFloor}
         WHERE s.action = 'update' AND channel_mappings.question_id = s.target_id
           AND channel_mappings.channel_id = h.before_snapshot ->> '$.channel' AND channel_mappings.sub_channel = h.before_snapshot ->> '$.subChannel'
           AND NOT EXISTS (SELECT 1 FROM main.channel_mappings AS cm WHERE cm.question_id = s.target_id AND cm.channel_id = s.channel AND cm.sub_channel = s.sub_channel)`,
        `INSERT INTO main.questions (id, question, answer, explanation, difficulty, channel, sub_channel, ${OPTIONAL_QUESTION_FIELDS.map((f) => f.sql).join(', ')}, status, is_new, last_updated, created_at)
         SELECT ${id}, s.question, s.answer, s.explanation, s.difficulty, s.channel, s.sub_channel, ${OPTIONAL_QUESTION_FIELDS.map((f) => `s.${f.sql}`).join(', ')},
           coalesce(s.status, 'active'), coalesce(s.is_new, 1), s.last_updated, CASE WHEN s.given & ${CREATED_AT_GIVEN} THEN s.created_at ELSE ?1 END
         FROM ${S} AS s WHERE s.action = 'create' ORDER BY s.seq`,
        `INSERT INTO main.question_history (question_id, question_type, event_type, event_source, source_name, changes_summary, changed_fields, before_snapshot, after_snapshot, reason, metadata, created_at)
         SELECT q.id, 'question', 'created', 'import', 'qbank import', 'Created by an import of ' || ? || ' (line ' || s.line || ')', NULL, NULL, ${snapshotOf('q')}, NULL,
           json_object('file', ?, 'line', s.line), ?
         FROM ${S} AS s JOIN main.questions AS q ON q.id = ${id} WHERE s.action = 'create' ORDER BY s.seq`,
        `INSERT INTO main.channel_mappings (channel_id, sub_channel, question_id)
         SELECT s.channel, s.sub_channel, coalesce(s.target_id, ${id}) FROM ${S} AS s
         WHERE s.action IN ('create', 'update')
           AND NOT EXISTS (SELECT 1 FROM main.channel_mappings AS cm WHERE cm.question_id = coalesce(s.target_id, ${id}) AND cm.channel_id = s.channel AND cm.sub_channel = s.sub_channel)
         ORDER BY s.seq`,
      ].map((sql, index) => ({ sql, args: HISTORY_ARGS[index]?.(source, nowIso) ?? [] })),
      0,
    );
  }

  /** Field by field, what the updates change (when asked); rows created without an id that look like existing questions. */
  private async reportChanges(): Promise<void> {
    const { runner, dryRun } = this.context;
    if (this.context.diff) this.context.diffs.push(...(await readOpenInterviewDiff(runner, S)));
    await warnAboutLookAlikes(
      runner,
      `SELECT line, channel AS grp, question AS text FROM ${S} WHERE action = 'create' AND given_id IS NULL ORDER BY seq`,
      `SELECT q.id AS id, q.channel AS grp, q.question AS text FROM main.questions AS q
       WHERE q.channel IN (SELECT DISTINCT channel FROM ${S} WHERE action = 'create' AND given_id IS NULL)
         AND q.id NOT IN (SELECT target_id FROM ${S} WHERE target_id IS NOT NULL) ORDER BY q.id`,
      (warning) => this.context.warnings.add(warning),
      dryRun,
    );
  }
}

/** Bound values of the apply statements above, by position: file names and timestamps. */
const HISTORY_ARGS: Array<((source: string, nowIso: string) => InValue[]) | undefined> = [
  (source, nowIso) => [source, source, nowIso],
  (_source, nowIso) => [nowIso],
  undefined,
  undefined,
  (_source, nowIso) => [nowIso],
  (source, nowIso) => [source, source, nowIso],
  undefined,
];

// ---------------------------------------------------------------------------------------------

/**
 * Certifications: a small table matched by `id`. Existing rows are read per batch and compared in
 * JavaScript; only the columns the file gives are written.
 */
export class OpenInterviewCertificationsTarget extends BatchedRowsTarget<OpenInterviewCertification> {
  readonly groupLabel = 'provider';

  constructor() {
    super('open-interview-certifications');
  }

  protected async flush(rows: OpenInterviewCertification[]): Promise<void> {
    const { runner, tally, mode, dryRun, problems, now } = this.context;
    const nowIso = now.toISOString();
    const [existing] = await runner.query([{ sql: `SELECT * FROM certifications WHERE id IN (${rows.map(() => '?').join(',')})`, args: rows.map((row) => row.id) }]);
    const byId = new Map(existing.rows.map((row) => [String(row.id), row as unknown as Record<string, InValue>]));
    const statements: Statement[] = [];
    for (const row of rows) {
      const provider = String(row.values.provider);
      const current = byId.get(row.id);
      if (!current) {
        tally.add(provider, 'created');
        const values = { created_at: nowIso, last_updated: nowIso, ...row.values };
        const columns = Object.keys(values);
        statements.push({
          sql: `INSERT INTO certifications (id, ${columns.join(', ')}) VALUES (?, ${columns.map(() => '?').join(', ')})`,
          args: [row.id, ...Object.values(values)],
        });
        continue;
      }
      if (mode === 'insert') {
        problems.add({ line: row.line, message: `certification "${row.id}" already exists` });
        continue;
      }
      if (mode === 'skip-existing') {
        tally.add(provider, 'skipped');
        continue;
      }
      const changed = Object.keys(row.values).filter((column) => column !== 'created_at' && column !== 'last_updated' && !sameValue(current[column], row.values[column]));
      if (changed.length === 0) {
        tally.add(provider, 'unchanged');
        continue;
      }
      tally.add(provider, 'updated');
      statements.push({
        sql: `UPDATE certifications SET ${changed.map((column) => `${column} = ?`).join(', ')}, last_updated = ? WHERE id = ?`,
        args: [...changed.map((column) => row.values[column]), row.values.last_updated ?? nowIso, row.id],
      });
    }
    if (!dryRun && problems.empty) await runner.send(statements, statementBytes(statements));
  }
}

function sameValue(current: InValue | undefined, next: InValue): boolean {
  if (current === null || current === undefined) return next === null;
  if (typeof current === 'number' || typeof next === 'number') return Number(current) === Number(next);
  return String(current) === String(next);
}

