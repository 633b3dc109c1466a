import type { Row } from '@libsql/client';
import { and, eq, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { questions as interviewQuestions, workQueue } from '../../../schema/open-interview.js';
import { exams, feedback, questions as pingQuestions } from '../../../schema/pingtopass.js';
import type { SystemName } from '../../config.js';
import type { Database } from '../client.js';
import { build, statement } from './builder.js';
import { query, runRead } from './sql.js';

/** How far each system's review has come: questions by status, per exam or channel, and what waits besides. */

export interface PingToPassReviewStats {
  system: 'pingtopass';
  questions: Record<string, number>;
  byExam: Array<{ exam: string; pending: number; approved: number; rejected: number }>;
  pendingFeedback: number;
}

export interface OpenInterviewReviewStats {
  system: 'open-interview';
  questions: Record<string, number>;
  byChannel: Array<{ channel: string; active: number; flagged: number; deleted: number }>;
  workQueue: Record<string, number>;
  pendingWorkByAction: Record<string, number>;
  expiredClaims: number;
}

export type ReviewStats = PingToPassReviewStats | OpenInterviewReviewStats;

const n = sql<number>`count(*)`.as('n');
const as = (column: SQLiteColumn | SQL, name: string) => sql`${column}`.as(name);

/** `SELECT key, count(*) AS n … GROUP BY key ORDER BY key` as `{ key: n }` (a NULL key as "(none)"). */
const countsBy = (rows: Row[], key: string): Record<string, number> => Object.fromEntries(rows.map((r) => [r[key] === null ? '(none)' : String(r[key]), Number(r.n)]));

/** Rows of (group, status, n) as one entry per group with a count for each status (a NULL status as `missing`). */
function countsPerGroup<G extends string, S extends string>(rows: Row[], group: G, statuses: readonly S[], missing: S): Array<Record<G, string> & Record<S, number>> {
  const groups = new Map<string, Record<string, string | number>>();
  for (const row of rows) {
    const name = String(row[group]);
    const entry = groups.get(name) ?? { [group]: name, ...Object.fromEntries(statuses.map((s) => [s, 0])) };
    const status = String(row.status ?? missing);
    if ((statuses as readonly string[]).includes(status)) entry[status] = Number(entry[status]) + Number(row.n);
    groups.set(name, entry);
  }
  return [...groups.values()] as Array<Record<G, string> & Record<S, number>>;
}

function pingToPassStats(database: Database): Promise<PingToPassReviewStats> {
  const q = pingQuestions;
  const reads = [
    build.select({ review_status: q.reviewStatus, n }).from(q).groupBy(q.reviewStatus).orderBy(q.reviewStatus),
    build
      .select({ exam: as(sql`coalesce(${exams.code}, ${q.examId})`, 'exam'), status: as(q.reviewStatus, 'status'), n })
      .from(q)
      .leftJoin(exams, eq(exams.id, q.examId))
      .groupBy(q.examId, q.reviewStatus)
      .orderBy(sql`exam`),
    build.select({ n }).from(feedback).where(and(eq(feedback.status, 'pending'), isNotNull(feedback.questionId))),
  ];
  return runRead(
    database,
    query(reads.map((read) => statement(read)), ([statuses, byExam, pendingFeedback]) => ({
      system: 'pingtopass' as const,
      questions: countsBy(statuses!.rows, 'review_status'),
      byExam: countsPerGroup(byExam!.rows, 'exam', ['pending', 'approved', 'rejected'] as const, 'pending'),
      pendingFeedback: Number(pendingFeedback!.rows[0]!.n),
    })),
    'review stats',
  );
}

function openInterviewStats(database: Database, now: Date): Promise<OpenInterviewReviewStats> {
  const q = interviewQuestions;
  const w = workQueue;
  const leaseUntil = sql`(CASE WHEN json_valid(${w.result}) THEN json_extract(${w.result}, '$.claim.leaseExpiresAt') END)`;
  const reads = [
    build.select({ status: q.status, n }).from(q).groupBy(q.status).orderBy(q.status),
    build.select({ channel: q.channel, status: q.status, n }).from(q).groupBy(q.channel, q.status).orderBy(q.channel),
    build.select({ status: w.status, n }).from(w).groupBy(w.status).orderBy(w.status),
    build.select({ action: w.action, n }).from(w).where(eq(w.status, 'pending')).groupBy(w.action).orderBy(w.action),
    build.select({ n }).from(w).where(and(eq(w.status, 'processing'), sql`${leaseUntil} < ${now.toISOString()}`)),
  ];
  return runRead(
    database,
    query(reads.map((read) => statement(read)), ([statuses, byChannel, work, byAction, expired]) => ({
      system: 'open-interview' as const,
      questions: countsBy(statuses!.rows, 'status'),
      byChannel: countsPerGroup(byChannel!.rows, 'channel', ['active', 'flagged', 'deleted'] as const, 'active'),
      workQueue: countsBy(work!.rows, 'status'),
      pendingWorkByAction: countsBy(byAction!.rows, 'action'),
      expiredClaims: Number(expired!.rows[0]!.n),
    })),
    'review stats',
  );
}

export function reviewStats(database: Database, system: SystemName, now: Date): Promise<ReviewStats> {
  return system === 'pingtopass' ? pingToPassStats(database) : openInterviewStats(database, now);
}
