import type { SystemName } from '../../config.js';
import type { Database } from '../client.js';
import { FilterNotApplicableError, FilterValueError, UnknownExamError, UnknownQueueError } from './errors.js';
import { FlaggedQuestionQueue } from './flagged-queue.js';
import { WorkQueue } from './work-queue.js';
import { PingToPassPendingQueue, resolveExamQuery } from './pingtopass.js';
import { runRead } from './sql.js';
import { QUEUES, type QueueName, type ReviewFilters, type ReviewQueue } from './types.js';

const OI_DIFFICULTIES = ['beginner', 'intermediate', 'advanced'];
const WORK_ACTIONS = ['improve', 'delete', 'verify', 'enrich'];

/** Which filters each queue understands; anything else is a usage error rather than silently ignored. */
const FILTERS_BY_QUEUE: Record<QueueName, Array<keyof ReviewFilters>> = {
  pending: ['exam', 'objective', 'difficulty', 'aiGenerated', 'tags'],
  flagged: ['channel', 'difficulty', 'tags'],
  work: ['action'],
};

export function queueNameFor(system: SystemName, requested: string | undefined): QueueName {
  const allowed = QUEUES[system];
  if (requested === undefined) return allowed[0];
  if (!(allowed as string[]).includes(requested)) throw new UnknownQueueError(requested, system, allowed);
  return requested as QueueName;
}

export function validateFilters(system: SystemName, queue: QueueName, filters: ReviewFilters): ReviewFilters {
  const allowed = FILTERS_BY_QUEUE[queue];
  for (const [key, value] of Object.entries(filters) as Array<[keyof ReviewFilters, unknown]>) {
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0) || key === 'examId') continue;
    if (!allowed.includes(key)) throw new FilterNotApplicableError(key, queue, system, allowed);
  }
  if (filters.difficulty !== undefined) {
    if (system === 'pingtopass' && !/^[1-5]$/.test(filters.difficulty)) throw new FilterValueError('difficulty', filters.difficulty, '1 to 5 for PingToPass');
    if (system === 'open-interview' && !OI_DIFFICULTIES.includes(filters.difficulty)) {
      throw new FilterValueError('difficulty', filters.difficulty, `${OI_DIFFICULTIES.join(', ')} for open-interview`);
    }
  }
  if (filters.action !== undefined && !WORK_ACTIONS.includes(filters.action)) throw new FilterValueError('action', filters.action, WORK_ACTIONS.join(', '));
  return filters;
}

export interface OpenQueueOptions {
  system: SystemName;
  queue?: string;
  filters: ReviewFilters;
  /** The work queue's idea of "claimable" depends on who asks and when. */
  viewer: () => { reviewer: string; now: Date };
}

/** Validates the filters, resolves an exam code to its id (one read), and returns the queue. */
export async function openReviewQueue(database: Database, options: OpenQueueOptions): Promise<ReviewQueue> {
  const name = queueNameFor(options.system, options.queue);
  const filters = validateFilters(options.system, name, { ...options.filters });
  if (name === 'pending') {
    if (filters.exam) {
      const { match, known } = await runRead(database, resolveExamQuery(filters.exam), 'review');
      if (!match) throw new UnknownExamError(filters.exam, known);
      filters.examId = match.id;
    }
    return new PingToPassPendingQueue(filters);
  }
  if (name === 'flagged') return new FlaggedQuestionQueue(filters);
  return new WorkQueue(filters, options.viewer);
}
