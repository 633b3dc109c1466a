import type { SystemName } from '../../config.js';
import { UsageError } from '../../errors.js';
import type { Database } from '../client.js';
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

const FLAG_NAMES: Partial<Record<keyof ReviewFilters, string>> = {
  exam: '--exam',
  channel: '--channel',
  objective: '--objective',
  difficulty: '--difficulty',
  aiGenerated: '--ai-generated',
  tags: '--tag',
  action: '--action',
};

export function queueNameFor(system: SystemName, requested: string | undefined): QueueName {
  const allowed = QUEUES[system];
  if (requested === undefined) return allowed[0];
  if (!(allowed as string[]).includes(requested)) {
    throw new UsageError(`--queue ${requested} does not exist for ${system}; its queues: ${allowed.join(', ')}`);
  }
  return requested as QueueName;
}

export function validateFilters(system: SystemName, queue: QueueName, filters: ReviewFilters): ReviewFilters {
  const allowed = FILTERS_BY_QUEUE[queue];
  for (const [key, value] of Object.entries(filters) as Array<[keyof ReviewFilters, unknown]>) {
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0) || key === 'examId') continue;
    if (!allowed.includes(key)) {
      const usable = allowed.map((k) => FLAG_NAMES[k]).join(', ');
      throw new UsageError(`${FLAG_NAMES[key] ?? key} does not apply to the ${queue} queue of ${system}; it takes ${usable}`);
    }
  }
  if (filters.difficulty !== undefined) {
    if (system === 'pingtopass' && !/^[1-5]$/.test(filters.difficulty)) throw new UsageError(`--difficulty takes 1 to 5 for PingToPass, not "${filters.difficulty}"`);
    if (system === 'open-interview' && !OI_DIFFICULTIES.includes(filters.difficulty)) {
      throw new UsageError(`--difficulty takes ${OI_DIFFICULTIES.join(', ')} for open-interview, not "${filters.difficulty}"`);
    }
  }
  if (filters.action !== undefined && !WORK_ACTIONS.includes(filters.action)) {
    throw new UsageError(`--action takes ${WORK_ACTIONS.join(', ')}, not "${filters.action}"`);
  }
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
      if (!match) throw new UsageError(`no exam has the code or id "${filters.exam}"`, { hint: known.length ? `exams: ${known.join(', ')}` : 'the exams table is empty' });
      filters.examId = match.id;
    }
    return new PingToPassPendingQueue(filters);
  }
  if (name === 'flagged') return new FlaggedQuestionQueue(filters);
  return new WorkQueue(filters, options.viewer);
}
