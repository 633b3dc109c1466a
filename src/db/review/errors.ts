import { RefusedError, UsageError } from '../../errors.js';
import type { QueueName, ReviewFilters } from './types.js';

/**
 * What the review service refuses, with the facts; the command layer words them in its flags
 * (`--exam`, `--reviewer`), so the service can be used from code as well as from the CLI.
 */

export type FilterName = keyof ReviewFilters;

/** A filter the queue does not understand (an exam for the work queue…). */
export class FilterNotApplicableError extends UsageError {
  constructor(
    readonly filter: FilterName,
    readonly queue: QueueName,
    readonly system: string,
    readonly applicable: FilterName[],
  ) {
    super(`the ${filter} filter does not apply to the ${queue} queue of ${system}; it takes ${applicable.join(', ')}`);
  }
}

/** A filter value outside what the system stores. */
export class FilterValueError extends UsageError {
  constructor(
    readonly filter: FilterName,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`the ${filter} filter takes ${allowed}, not "${value}"`);
  }
}

export class UnknownQueueError extends UsageError {
  constructor(
    readonly queue: string,
    readonly system: string,
    readonly queues: QueueName[],
  ) {
    super(`the queue "${queue}" does not exist for ${system}; its queues: ${queues.join(', ')}`);
  }
}

export class UnknownExamError extends UsageError {
  constructor(
    readonly exam: string,
    readonly known: string[],
  ) {
    super(`no exam has the code or id "${exam}"`, { hint: known.length ? `exams: ${known.join(', ')}` : 'the exams table is empty' });
  }
}

/** PingToPass keeps a reason as a feedback row, so the reviewer must be one of its users. */
export class ReviewerNotAUserError extends RefusedError {
  constructor(
    message: string,
    options: { hint?: string } = {},
    readonly reviewer = '',
  ) {
    super(message, options);
  }
}
